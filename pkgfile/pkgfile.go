// Package pkgfile reads the files a built package would install, straight
// from the package and without extracting it to disk. It holds what every
// format's reader shares: the File and Entry model, List and ReadFile over
// a format's Walker, and tar and decompression helpers. Each format's
// Walker lives in its own folder under packaging/; packaging/formats
// returns the one for a format name.
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

// Entry is one archive member as a format's Walker reports it, before its
// content is hashed.
type Entry struct {
	Name     string // as stored in the archive
	Mode     fs.FileMode
	Size     int64
	Link     string
	Hardlink bool // a tar hard link: Link names an earlier member
	// Check, if set, is called with the content's hex sha256 and sha1 so
	// the format can compare them with digests it records itself.
	Check func(sha256, sha1 string) error
}

// ErrStop ends a walk early without error.
var ErrStop = errors.New("stop")

// WalkFunc is called for every non-directory member in archive order.
// body holds a regular file's content and is empty otherwise.
type WalkFunc func(e Entry, body io.Reader) error

// Walker reads one package format from r and calls fn for each member.
type Walker func(r io.Reader, fn WalkFunc) error

func walk(pkgPath string, walker Walker, fn WalkFunc) error {
	f, err := os.Open(pkgPath)
	if err != nil {
		return err
	}
	defer f.Close()
	err = walker(f, fn)
	if errors.Is(err, ErrStop) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: %w", pkgPath, err)
	}
	return nil
}

// List returns every file of the package at pkgPath, sorted by path.
func List(pkgPath string, walker Walker) ([]File, error) {
	var files []File
	seen := map[string]int{}
	err := walk(pkgPath, walker, func(e Entry, body io.Reader) error {
		p, err := cleanPath(e.Name)
		if err != nil {
			return err
		}
		if _, dup := seen[p]; dup {
			return fmt.Errorf("%s appears twice in the package", p)
		}
		f := File{Path: p, Mode: e.Mode, LinkTarget: e.Link}
		switch {
		case e.Hardlink:
			// A tar hard link shares the content of an earlier member.
			target, err := cleanPath(e.Link)
			if err != nil {
				return err
			}
			i, ok := seen[target]
			if !ok || !files[i].Mode.IsRegular() {
				return fmt.Errorf("%s: hard link to %s, which is not an earlier regular file", p, e.Link)
			}
			f = files[i]
			f.Path = p
		case e.Mode.IsRegular():
			h256, h1 := sha256.New(), sha1.New()
			n, err := io.Copy(io.MultiWriter(h256, h1), body)
			if err != nil {
				return fmt.Errorf("%s: %w", p, err)
			}
			if n != e.Size {
				return fmt.Errorf("%s: %d bytes of content, header says %d", p, n, e.Size)
			}
			f.Size = n
			f.SHA256 = hex.EncodeToString(h256.Sum(nil))
			f.SHA1 = hex.EncodeToString(h1.Sum(nil))
			if e.Check != nil {
				if err := e.Check(f.SHA256, f.SHA1); err != nil {
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
func ReadFile(pkgPath string, walker Walker, member string) ([]byte, error) {
	want := path.Clean("/" + member)
	var data []byte
	found := false
	err := walk(pkgPath, walker, func(e Entry, body io.Reader) error {
		p, err := cleanPath(e.Name)
		if err != nil || p != want {
			return err
		}
		if !e.Mode.IsRegular() || e.Hardlink {
			return fmt.Errorf("%s is not a regular file in the package (mode %v)", want, e.Mode)
		}
		var buf bytes.Buffer
		if _, err := io.Copy(&buf, body); err != nil {
			return err
		}
		data, found = buf.Bytes(), true
		return ErrStop
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
