package apk

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/packaging"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
)

// testSpec returns a small package spec with a binary, a config file and an
// extra file, all written under t.TempDir().
func testSpec(t *testing.T) *packaging.Spec {
	t.Helper()
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arch, _ := config.LookupArch("amd64")
	spec := &packaging.Spec{
		Name: "probe", Version: config.Version{Base: "1.2.3"}, Release: 1, Arch: arch,
		Summary: "probe agent", Description: "probe agent for tests", Maintainer: "Ops <ops@example.com>",
		License: "MIT", Homepage: "https://example.com/probe", MTime: time.Unix(1700000000, 0).UTC(),
		Binary:  write("probe", "#!/bin/sh\necho probe\n"),
		Configs: []packaging.File{{Source: write("probe.toml", "key = 1\n"), Dest: "/etc/probe/probe.toml", Mode: 0o640, Owner: "root", Group: "probe"}},
		Files:   []packaging.File{{Source: write("README", "read me\n"), Dest: "/usr/share/doc/probe/README", Mode: 0o644}},
		Service: initsys.Service{Name: "probe", Exec: "/usr/bin/probe", User: "probe", Group: "probe",
			StateDir: "/var/lib/probe", ConfigDir: "/etc/probe", WorkingDir: "/var/lib/probe",
			Restart: initsys.RestartAlways, Profile: initsys.ProfileDefault, StopTimeout: 10},
		ScratchDir: t.TempDir(),
		StageDir:   t.TempDir(),
	}
	var err error
	spec.Inits, spec.InitFiles, err = packaging.StageInits(spec.Service, inits.Names(), spec.StageDir)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// gzipStreams splits an apk into its concatenated gzip streams, returning
// each stream's compressed bytes. A bytes.Reader is an io.ByteReader, so
// gzip reads no further than the end of each stream.
func gzipStreams(t *testing.T, data []byte) [][]byte {
	t.Helper()
	r := bytes.NewReader(data)
	var streams [][]byte
	for r.Len() > 0 {
		start := len(data) - r.Len()
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatalf("gzip stream %d at byte %d: %v", len(streams), start, err)
		}
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatalf("gzip stream %d: %v", len(streams), err)
		}
		// nfpm's pgzip writes Go's zero time as a constant (2042-07-14), not
		// 0; what matters for reproducibility is that it is not the clock.
		if zr.Header.Name != "" || time.Since(zr.Header.ModTime).Abs() < 48*time.Hour {
			t.Errorf("gzip stream %d carries name %q / build-time mtime %v", len(streams), zr.Header.Name, zr.Header.ModTime)
		}
		streams = append(streams, data[start:len(data)-r.Len()])
	}
	return streams
}

type tarEntry struct {
	hdr  *tar.Header
	body []byte
}

// readTar reads a gzip-compressed tar segment. apk's control segment has no
// end-of-archive marker, so an unexpected EOF after the last entry is fine.
func readTar(t *testing.T, stream []byte) []tarEntry {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	var entries []tarEntry
	for {
		hdr, err := tr.Next()
		if err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF) {
			return entries
		}
		if err != nil {
			t.Fatalf("tar: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		entries = append(entries, tarEntry{hdr, body})
	}
}

func parsePKGINFO(t *testing.T, body []byte) map[string]string {
	t.Helper()
	fields := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, " = ")
		if !ok {
			t.Fatalf(".PKGINFO line %q is not 'key = value'", line)
		}
		if _, dup := fields[k]; dup && k != "depend" && k != "provides" {
			t.Errorf(".PKGINFO repeats %s", k)
		}
		fields[k] = v
	}
	return fields
}

func TestAPKStructure(t *testing.T) {
	spec := testSpec(t)
	res, err := Format{}.Build(spec, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got := filepath.Base(res.Path); got != "probe_1.2.3-r1_x86_64.apk" {
		t.Errorf("file name %s", got)
	}
	data, err := os.ReadFile(res.Path)
	if err != nil {
		t.Fatal(err)
	}
	streams := gzipStreams(t, data)
	if len(streams) != 2 {
		t.Fatalf("unsigned apk has %d gzip streams, want 2 (control, data)", len(streams))
	}
	control, dataStream := readTar(t, streams[0]), readTar(t, streams[1])

	var pkginfo []byte
	controlNames := map[string]bool{}
	for _, e := range control {
		controlNames[e.hdr.Name] = true
		if e.hdr.Name == ".PKGINFO" {
			pkginfo = e.body
		}
	}
	for _, script := range []string{".pre-install", ".post-install", ".pre-upgrade", ".post-upgrade", ".pre-deinstall"} {
		if !controlNames[script] {
			t.Errorf("control stream lacks %s (has %v)", script, controlNames)
		}
	}
	if pkginfo == nil {
		t.Fatal("control stream has no .PKGINFO")
	}
	info := parsePKGINFO(t, pkginfo)
	sum := sha256.Sum256(streams[1])
	want := map[string]string{
		"pkgname":    "probe",
		"pkgver":     "1.2.3-r1",
		"arch":       "x86_64",
		"license":    "MIT",
		"url":        "https://example.com/probe",
		"maintainer": "Ops <ops@example.com>",
		"pkgdesc":    "probe agent probe agent for tests",
		"datahash":   hex.EncodeToString(sum[:]),
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf(".PKGINFO %s = %q, want %q", k, info[k], v)
		}
	}

	var installed int64
	seen := map[string]tarEntry{}
	for _, e := range dataStream {
		seen[e.hdr.Name] = e
		if e.hdr.Typeflag != tar.TypeReg {
			continue
		}
		installed += e.hdr.Size
		// apk-tools checks every regular file against this pax record.
		h := sha1.Sum(e.body)
		if got := e.hdr.PAXRecords["APK-TOOLS.checksum.SHA1"]; got != hex.EncodeToString(h[:]) {
			t.Errorf("%s: APK-TOOLS.checksum.SHA1 = %q, want %x", e.hdr.Name, got, h)
		}
		if e.hdr.Uid != 0 || e.hdr.Gid != 0 {
			t.Errorf("%s: uid/gid %d/%d, want 0/0", e.hdr.Name, e.hdr.Uid, e.hdr.Gid)
		}
		if !e.hdr.ModTime.Equal(spec.MTime) {
			t.Errorf("%s: mtime %v, want %v", e.hdr.Name, e.hdr.ModTime, spec.MTime)
		}
	}
	if size, _ := strconv.ParseInt(info["size"], 10, 64); size < installed {
		t.Errorf(".PKGINFO size %d is less than the %d bytes of files", size, installed)
	}
	for name, mode := range map[string]int64{
		"usr/bin/probe":              0o755,
		"etc/probe/probe.toml":       0o640,
		"usr/share/doc/probe/README": 0o644,
	} {
		e, ok := seen[name]
		if !ok {
			t.Errorf("data stream lacks %s", name)
			continue
		}
		if e.hdr.Mode&0o7777 != mode {
			t.Errorf("%s: mode %o, want %o", name, e.hdr.Mode&0o7777, mode)
		}
	}
}
