// Package pkgfile reads the files a built package would install, straight
// from the package and without extracting it to disk. It speaks the four
// formats omnipack writes: deb, rpm, apk and archlinux.
//
// It answers "what exactly is in this package" for the SBOM writer and for
// verify, so it reads the payload itself, not metadata that merely claims
// what the payload holds. Where a format also records per-file digests (rpm's
// header, apk's pax records) those are checked against the payload, and a
// mismatch is an error.
package pkgfile

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
)

// File is one installed file of a package.
//
// Directories are omitted: deb, apk and Arch tars carry an entry for every
// parent directory while rpms carry only the directories they own, so
// listing them would make the same content look different per format.
// Everything else (regular files, symlinks, and any other entry type) is
// listed.
type File struct {
	// Path is absolute and clean, as installed: /usr/bin/NAME.
	Path string
	// Mode holds the type bits (fs.ModeSymlink, ...) and the permission,
	// setuid, setgid and sticky bits.
	Mode fs.FileMode
	// Size is the content length of a regular file, 0 for anything else.
	Size int64
	// SHA256 and SHA1 are lowercase hex digests of a regular file's content,
	// empty for anything else. SHA1 is kept because SPDX requires it for
	// files and for the package verification code.
	SHA256 string
	SHA1   string
	// LinkTarget is a symlink's target, as stored in the package.
	LinkTarget string
}

// Formats lists the package formats this package reads.
var Formats = []string{"apk", "archlinux", "deb", "rpm", "tarball"}

// entry is one archive member as the format readers see it, before its
// content is hashed.
type entry struct {
	name     string // as stored in the archive
	mode     fs.FileMode
	size     int64
	link     string
	hardlink bool // a tar hard link: link names an earlier member
	// check, if set, is called with the content's hex sha256 and sha1 so
	// the format can compare them with digests it records itself.
	check func(sha256, sha1 string) error
}

// errStop ends a walk early without error.
var errStop = errors.New("stop")

// walkFunc is called for every non-directory member in archive order.
// body holds a regular file's content and is empty otherwise.
type walkFunc func(e entry, body io.Reader) error

func walk(pkgPath, format string, fn walkFunc) error {
	f, err := os.Open(pkgPath)
	if err != nil {
		return err
	}
	defer f.Close()
	var walker func(io.Reader, walkFunc) error
	switch format {
	case "deb":
		walker = walkDeb
	case "rpm":
		walker = walkRPM
	case "apk":
		walker = walkAPK
	case "archlinux":
		walker = walkArch
	case "tarball":
		walker = walkTarball
	default:
		return fmt.Errorf("pkgfile: unknown package format %q (know %s)", format, strings.Join(Formats, ", "))
	}
	err = walker(f, fn)
	if errors.Is(err, errStop) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", pkgPath, err)
	}
	return nil
}

// List returns every file of the package at pkgPath, sorted by path.
func List(pkgPath, format string) ([]File, error) {
	var files []File
	seen := map[string]int{}
	err := walk(pkgPath, format, func(e entry, body io.Reader) error {
		p, err := cleanPath(e.name)
		if err != nil {
			return err
		}
		if _, dup := seen[p]; dup {
			return fmt.Errorf("%s appears twice in the package", p)
		}
		f := File{Path: p, Mode: e.mode, LinkTarget: e.link}
		switch {
		case e.hardlink:
			// A tar hard link shares the content of an earlier member.
			target, err := cleanPath(e.link)
			if err != nil {
				return err
			}
			i, ok := seen[target]
			if !ok || !files[i].Mode.IsRegular() {
				return fmt.Errorf("%s: hard link to %s, which is not an earlier regular file", p, e.link)
			}
			f = files[i]
			f.Path = p
		case e.mode.IsRegular():
			h256, h1 := sha256.New(), sha1.New()
			n, err := io.Copy(io.MultiWriter(h256, h1), body)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if n != e.size {
				return fmt.Errorf("%s: %d bytes of content, header says %d", p, n, e.size)
			}
			f.Size = n
			f.SHA256 = hex.EncodeToString(h256.Sum(nil))
			f.SHA1 = hex.EncodeToString(h1.Sum(nil))
			if e.check != nil {
				if err := e.check(f.SHA256, f.SHA1); err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
			}
		}
		seen[p] = len(files)
		files = append(files, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	return files, nil
}

// ReadFile returns the content of one regular file of the package, named
// by its absolute installed path (/usr/bin/NAME). The whole file is held in
// memory; debug/buildinfo needs an io.ReaderAt anyway.
func ReadFile(pkgPath, format, member string) ([]byte, error) {
	want := path.Clean("/" + member)
	var data []byte
	found := false
	err := walk(pkgPath, format, func(e entry, body io.Reader) error {
		p, err := cleanPath(e.name)
		if err != nil || p != want {
			return err
		}
		if !e.mode.IsRegular() || e.hardlink {
			return fmt.Errorf("%s is not a regular file in the package (mode %v)", want, e.mode)
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, body); err != nil {
			return err
		}
		data, found = buf.Bytes(), true
		return errStop
	})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s: no file %s in the package: %w", pkgPath, want, fs.ErrNotExist)
	}
	return data, nil
}

// cleanPath turns an archive member name (./usr/bin/x, usr/bin/x or
// /usr/bin/x) into the absolute installed path.
func cleanPath(name string) (string, error) {
	p := path.Clean("/" + strings.TrimPrefix(name, "./"))
	if p == "/" {
		return "", fmt.Errorf("member %q has no path", name)
	}
	return p, nil
}
