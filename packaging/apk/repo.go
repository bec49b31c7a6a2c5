package apk

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1" //nolint:gosec // apk v2 indexes and signatures are SHA-1; the format fixes it
	"encoding/base64"
	"errors"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/omnipack/omnipack/packaging"
)

// An apk repository, as apk-tools reads it: BASE/apk/CHANNEL is the line
// in /etc/apk/repositories, and for each architecture
//
//	apk/CHANNEL/ARCH/APKINDEX.tar.gz     the signed index
//	apk/CHANNEL/ARCH/NAME-VERSION.apk    each package, where apk fetches it

// RepoDir is the channel's directory: the repository's URL below its base.
func RepoDir(channel string) string { return path.Join("apk", channel) }

// IndexFile is the index's name in each architecture's directory.
const IndexFile = "APKINDEX.tar.gz"

// PoolPath: apk fetches REPO/ARCH/NAME-VERSION.apk, the file name its
// index entry implies.
func (Format) PoolPath(channel string, p packaging.RepoPackage) string {
	return path.Join(RepoDir(channel), archs[p.Arch], p.Name+"-"+p.Version+".apk")
}

// Index writes one signed APKINDEX.tar.gz per architecture, as abuild-sign
// leaves apk index's output: a gzip stream holding the tar member
// .SIGN.RSA.KEY.rsa.pub (without the tar's end-of-archive blocks, so that
// the whole file still reads as one tar), then the gzip'd tar of
// DESCRIPTION and APKINDEX, whose exact bytes the RSA signature covers.
// apk indexes carry no expiry, so ValidUntil is not used.
func (Format) Index(in packaging.RepoIndex) ([]packaging.RepoFile, error) {
	if in.Sign.APK == nil || in.Sign.APKKeyName == "" {
		return nil, errors.New("apk repository: no apk key to sign APKINDEX.tar.gz with (apk refuses an unsigned index)")
	}
	byDir := map[string][]indexEntry{}
	for _, p := range in.Packages {
		e, err := readIndexEntry(in.Root, p)
		if err != nil {
			return nil, err
		}
		dir := path.Dir(p.Path)
		byDir[dir] = append(byDir[dir], e)
	}
	mtime := in.Date.UTC().Truncate(time.Second)
	var out []packaging.RepoFile
	for _, dir := range slices.Sorted(maps.Keys(byDir)) {
		entries := byDir[dir]
		slices.SortFunc(entries, func(a, b indexEntry) int {
			return strings.Compare(a.name+"\x00"+a.path, b.name+"\x00"+b.path)
		})
		var index bytes.Buffer
		for _, e := range entries {
			index.Write(e.text)
		}
		description := in.Name + " " + in.Channel
		body, err := gzipTar(mtime, true, member{"DESCRIPTION", []byte(description)}, member{"APKINDEX", index.Bytes()})
		if err != nil {
			return nil, err
		}
		digest := sha1.Sum(body) //nolint:gosec // the format
		sig, err := in.Sign.APK(bytes.NewReader(digest[:]))
		if err != nil {
			return nil, fmt.Errorf("sign %s/%s: %w", dir, IndexFile, err)
		}
		sigStream, err := gzipTar(mtime, false, member{".SIGN.RSA." + in.Sign.APKKeyName + ".rsa.pub", sig})
		if err != nil {
			return nil, err
		}
		out = append(out, packaging.RepoFile{Path: dir + "/" + IndexFile, Body: append(sigStream, body...)})
	}
	return out, nil
}

type indexEntry struct {
	name, path string
	text       []byte
}

// readIndexEntry reads the apk at its pool path under root into its
// APKINDEX entry, with the fields in apk-tools' order.
func readIndexEntry(root string, p packaging.RepoPackage) (indexEntry, error) {
	file := filepath.Join(root, filepath.FromSlash(p.Path))
	f, err := os.Open(file)
	if err != nil {
		return indexEntry{}, fmt.Errorf("apk repository: %w", err)
	}
	defer f.Close()
	parts, err := splitPackage(f)
	if err != nil {
		return indexEntry{}, fmt.Errorf("apk repository: %s: %w", file, err)
	}
	info := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(parts.pkginfo))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), " = "); ok && !strings.HasPrefix(k, "#") {
			info[k] = append(info[k], strings.TrimSpace(v))
		}
	}
	first := func(k string) string {
		if v := info[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	name, version := first("pkgname"), first("pkgver")
	if name == "" || version == "" {
		return indexEntry{}, fmt.Errorf("apk repository: %s: .PKGINFO has no pkgname or pkgver", file)
	}
	if name != p.Name || version != p.Version {
		return indexEntry{}, fmt.Errorf("apk repository: %s holds %s %s, but the release names it %s %s", file, name, version, p.Name, p.Version)
	}
	if want := p.Name + "-" + p.Version + ".apk"; path.Base(p.Path) != want {
		return indexEntry{}, fmt.Errorf("apk repository: %s must be named %s, where apk fetches it", p.Path, want)
	}
	var b bytes.Buffer
	field := func(key, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%s:%s\n", key, value)
		}
	}
	field("C", "Q1"+base64.StdEncoding.EncodeToString(parts.controlSHA1))
	field("P", name)
	field("V", version)
	field("A", first("arch"))
	field("S", strconv.FormatInt(parts.size, 10))
	field("I", first("size"))
	fmt.Fprintf(&b, "T:%s\n", first("pkgdesc"))
	field("U", first("url"))
	field("L", first("license"))
	field("o", first("origin"))
	field("m", first("maintainer"))
	field("t", first("builddate"))
	field("c", first("commit"))
	field("k", first("provider_priority"))
	field("D", strings.Join(info["depend"], " "))
	field("p", strings.Join(info["provides"], " "))
	field("i", strings.Join(info["install_if"], " "))
	b.WriteString("\n")
	return indexEntry{name: name, path: p.Path, text: b.Bytes()}, nil
}

type member struct {
	name string
	body []byte
}

// gzipTar writes members as one gzip stream of a tar, owned by root and
// stamped with mtime; the gzip header carries no name or time. Without
// end the tar stops after the last member's padding, as abuild-tar --cut
// leaves a signature segment, so that the segments after it continue the
// same tar.
func gzipTar(mtime time.Time, end bool, members ...member) ([]byte, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	for _, m := range members {
		h := &tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.body)), ModTime: mtime,
			Typeflag: tar.TypeReg, Uname: "root", Gname: "root", Format: tar.FormatUSTAR}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(m.body); err != nil {
			return nil, err
		}
	}
	if end {
		err = tw.Close()
	} else {
		err = tw.Flush()
	}
	if err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var _ packaging.Indexer = Format{}
