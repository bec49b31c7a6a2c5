package formats

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime/metrics"
	"strings"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"

	"github.com/omnipack/omnipack/packaging/rpm"
	"github.com/omnipack/omnipack/pkgfile"
)

// maxReaderAlloc bounds what reading one package may allocate beyond what
// it returns, however large the sizes its headers claim: the largest
// decoder window a reader lets a package declare (zstd's 128 MiB, what
// zstd --ultra -22 uses) with room to spare. A fuzz input is a few KiB,
// so anything more comes from a size field believed too early.
const maxReaderAlloc = 160 << 20

// allocated runs fn and returns the bytes it allocated on the heap. A fuzz
// worker runs one input at a time, so the count is fn's own.
func allocated(fn func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	fn()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

// maxReadTime is far longer than reading a fuzz input can take; a reader
// still busy then is stuck.
const maxReadTime = 10 * time.Second

// bounded runs fn like allocated, and crashes the fuzz worker, which
// records the input, if fn runs past maxReadTime: Go's fuzzer has no
// timeout of its own, and a stuck worker only ends the run.
func bounded(what string, fn func()) uint64 {
	stuck := time.AfterFunc(maxReadTime, func() {
		panic(fmt.Sprintf("%s still running after %v", what, maxReadTime))
	})
	defer stuck.Stop()
	return allocated(fn)
}

// seedPackage builds a small package of format with nfpm: a regular file,
// a config file, a symlink, and the given payload compression.
func seedPackage(f *testing.F, format, compression string, signed bool) []byte {
	dir := f.TempDir()
	src := filepath.Join(dir, "probe")
	if err := os.WriteFile(src, []byte("#!/bin/sh\necho probe\n"), 0o755); err != nil {
		f.Fatal(err)
	}
	conf := filepath.Join(dir, "probe.toml")
	if err := os.WriteFile(conf, []byte("key = 1\n"), 0o640); err != nil {
		f.Fatal(err)
	}
	mtime := time.Unix(1700000000, 0).UTC()
	info := &nfpm.Info{Name: "probe", Arch: "amd64", Platform: "linux", Version: "1.0", Release: "1",
		Maintainer: "Ops <ops@example.com>", Description: "probe", MTime: mtime,
		Overridables: nfpm.Overridables{Contents: files.Contents{
			{Source: src, Destination: "/usr/bin/probe", FileInfo: &files.ContentFileInfo{Mode: 0o755, MTime: mtime}},
			{Source: conf, Destination: "/etc/probe/probe.toml", Type: files.TypeConfigNoReplace,
				FileInfo: &files.ContentFileInfo{Mode: 0o640, MTime: mtime}},
			{Source: "/usr/bin/probe", Destination: "/usr/sbin/probe", Type: files.TypeSymlink},
		}}}
	info.Deb.Compression, info.RPM.Compression = compression, compression
	if signed {
		// HeaderSpan reads signatures, it does not check them.
		info.RPM.Signature.SignFn = func(io.Reader) ([]byte, error) { return []byte("not really a signature"), nil }
	}
	pkgr, err := nfpm.Get(format)
	if err != nil {
		f.Fatal(err)
	}
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		f.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pkgr.Package(info, &buf); err != nil {
		f.Fatalf("%s %s: %v", format, compression, err)
	}
	return buf.Bytes()
}

// seedTarball writes a release tarball by hand, with the entry types a
// tar can hold: a file, a symlink, a hard link and a directory.
func seedTarball(f *testing.F) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	for _, e := range []struct {
		hdr  tar.Header
		body string
	}{
		{tar.Header{Name: "usr/", Typeflag: tar.TypeDir, Mode: 0o755}, ""},
		{tar.Header{Name: "usr/bin/probe", Typeflag: tar.TypeReg, Mode: 0o755}, "#!/bin/sh\n"},
		{tar.Header{Name: "usr/bin/probe-link", Typeflag: tar.TypeSymlink, Linkname: "probe", Mode: 0o777}, ""},
		{tar.Header{Name: "usr/bin/probe-hard", Typeflag: tar.TypeLink, Linkname: "usr/bin/probe", Mode: 0o755}, ""},
		{tar.Header{Name: "usr/lib/probe/files", Typeflag: tar.TypeReg, Mode: 0o644, Format: tar.FormatPAX}, "/usr/bin/probe\n"},
	} {
		e.hdr.Size = int64(len(e.body))
		if err := tw.WriteHeader(&e.hdr); err != nil {
			f.Fatal(err)
		}
		if _, err := io.WriteString(tw, e.body); err != nil {
			f.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		f.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// fuzzPackage is the body of every List fuzz target: the package in data
// may be refused, but reading it must stay within maxReaderAlloc, and
// what List returns must be a clean, sorted listing whose regular files
// ReadFile returns with the listed size and digest.
func fuzzPackage(f *testing.F, format string, seeds ...[]byte) {
	for _, s := range seeds {
		f.Add(s)
	}
	pkg := filepath.Join(f.TempDir(), "fuzz."+format)
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(pkg, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var list []pkgfile.File
		var err error
		if n := bounded("Files", func() { list, err = Files(pkg, format) }); n > maxReaderAlloc {
			t.Fatalf("Files allocated %d MiB for a %d-byte package", n>>20, len(data))
		}
		if err != nil {
			return
		}
		checkListing(t, list)
		read := 0
		for _, file := range list {
			if !file.Mode.IsRegular() || read == 8 {
				continue
			}
			read++
			var body []byte
			n := bounded("ReadFile", func() { body, err = ReadFile(pkg, format, file.Path) })
			if n > maxReaderAlloc+3*uint64(len(body)) {
				t.Fatalf("ReadFile allocated %d MiB for %d bytes of %s", n>>20, len(body), file.Path)
			}
			if err != nil {
				// List follows a tar hard link to its target; ReadFile
				// refuses it.
				if !strings.Contains(err.Error(), "is not a regular file") {
					t.Fatalf("Files lists %s, but ReadFile: %v", file.Path, err)
				}
				continue
			}
			sum := sha256.Sum256(body)
			if int64(len(body)) != file.Size || hex.EncodeToString(sum[:]) != file.SHA256 {
				t.Fatalf("ReadFile(%s) returned %d bytes %x; Files says %d bytes %s", file.Path, len(body), sum, file.Size, file.SHA256)
			}
		}
		bounded("ReadFile", func() { _, err = ReadFile(pkg, format, "/no/such/fuzz/file") })
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("ReadFile of a file not in the listing: %v, want a not-exist error", err)
		}
	})
}

func checkListing(t *testing.T, list []pkgfile.File) {
	t.Helper()
	for i, file := range list {
		if !path.IsAbs(file.Path) || path.Clean(file.Path) != file.Path || file.Path == "/" {
			t.Fatalf("listed path %q is not absolute and clean", file.Path)
		}
		if i > 0 && list[i-1].Path >= file.Path {
			t.Fatalf("listing not sorted or not unique: %q before %q", list[i-1].Path, file.Path)
		}
		if file.Mode.IsDir() {
			t.Fatalf("directory %s listed", file.Path)
		}
		if file.Mode.IsRegular() {
			if file.Size < 0 || len(file.SHA256) != 64 || len(file.SHA1) != 40 {
				t.Fatalf("regular file %+v lacks a size or digests", file)
			}
		} else if file.Size != 0 || file.SHA256 != "" || file.SHA1 != "" {
			t.Fatalf("non-regular file %+v has content", file)
		}
	}
}

func FuzzListDeb(f *testing.F) {
	fuzzPackage(f, "deb", seedPackage(f, "deb", "gzip", false), seedPackage(f, "deb", "xz", false),
		seedPackage(f, "deb", "zstd", false), seedPackage(f, "deb", "none", false))
}

func FuzzListRPM(f *testing.F) {
	fuzzPackage(f, "rpm", seedPackage(f, "rpm", "gzip", true), seedPackage(f, "rpm", "xz", false),
		seedPackage(f, "rpm", "zstd", false), seedPackage(f, "rpm", "lzma", false))
}

func FuzzListAPK(f *testing.F) {
	fuzzPackage(f, "apk", seedPackage(f, "apk", "", false))
}

func FuzzListArchlinux(f *testing.F) {
	fuzzPackage(f, "archlinux", seedPackage(f, "archlinux", "", false))
}

func FuzzListTarball(f *testing.F) {
	fuzzPackage(f, "tarball", seedTarball(f))
}

// FuzzRPMHeaderSpan reads the signature header of arbitrary bytes, as
// verify does before it checks anything, and as audit will to compare
// what the signatures cover. The span must place the main header inside
// the file, at the header magic.
func FuzzRPMHeaderSpan(f *testing.F) {
	f.Add(seedPackage(f, "rpm", "gzip", true))
	f.Add(seedPackage(f, "rpm", "zstd", false))
	pkg := filepath.Join(f.TempDir(), "fuzz.rpm")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(pkg, data, 0o644); err != nil {
			t.Fatal(err)
		}
		var off, length int64
		var err error
		if n := bounded("HeaderSpan", func() { off, length, err = rpm.HeaderSpan(pkg) }); n > maxReaderAlloc {
			t.Fatalf("HeaderSpan allocated %d MiB for a %d-byte file", n>>20, len(data))
		}
		if err != nil {
			return
		}
		if off < 96+16 || length < 16 || off+length > int64(len(data)) {
			t.Fatalf("main header at %d+%d in a %d-byte file", off, length, len(data))
		}
		if !bytes.HasPrefix(data[off:], []byte{0x8e, 0xad, 0xe8, 0x01}) {
			t.Fatalf("main header offset %d is not at a header magic", off)
		}
	})
}
