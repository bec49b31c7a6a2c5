package formats

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/goreleaser/nfpm/v2"
	"github.com/goreleaser/nfpm/v2/files"
	"github.com/klauspost/compress/zstd"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/pkgfile"
)

// want is a file the test put into the package, with the digest of its
// source on the build host.
type want struct {
	mode   fs.FileMode
	sha256 string
	size   int64
}

// buildAll builds one package per format from a small spec, the way
// omnipack's build does, and returns the packages by format and the files
// that the spec itself placed in them.
func buildAll(t *testing.T) (map[string]string, map[string]want) {
	t.Helper()
	return buildAllWith(t, func(*packaging.Spec) {})
}

// buildAllWith is buildAll with the spec changed by edit first.
func buildAllWith(t *testing.T, edit func(*packaging.Spec)) (map[string]string, map[string]want) {
	t.Helper()
	dir := t.TempDir()
	wants := map[string]want{}
	write := func(name, body string, dest string, mode fs.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256([]byte(body))
		wants[dest] = want{mode, hex.EncodeToString(sum[:]), int64(len(body))}
		return p
	}
	arch, _ := config.LookupArch("amd64")
	// A binary-looking body with bytes a text-mode bug would mangle.
	binBody := "\x7fELF\x00\x01\r\n\xff" + strings.Repeat("probe", 5000)
	spec := &packaging.Spec{
		Name: "probe", Version: config.Version{Base: "1.2.3"}, Release: 1, Arch: arch,
		Summary: "probe agent", Description: "probe agent for tests", Maintainer: "Ops <ops@example.com>",
		Vendor: "Example", License: "MIT", Homepage: "https://example.com/probe", MTime: time.Unix(1700000000, 0).UTC(),
		Binary: write("probe", binBody, "/usr/bin/probe", 0o755),
		Configs: []packaging.File{{Source: write("probe.toml", "key = 1\n", "/etc/probe/probe.toml", 0o640),
			Dest: "/etc/probe/probe.toml", Mode: 0o640, Owner: "root", Group: "probe"}},
		Files: []packaging.File{{Source: write("README", "read me\n", "/usr/share/doc/probe/README", 0o644),
			Dest: "/usr/share/doc/probe/README", Mode: 0o644}},
		Service: initsys.Service{Name: "probe", Exec: "/usr/bin/probe", User: "probe", Group: "probe",
			StateDir: "/var/lib/probe", ConfigDir: "/etc/probe", WorkingDir: "/var/lib/probe",
			Restart: initsys.RestartAlways, Profile: initsys.ProfileDefault, StopTimeout: 10},
		ScratchDir: t.TempDir(),
		StageDir:   t.TempDir(),
	}
	edit(spec)
	var err error
	spec.Inits, spec.InitFiles, err = packaging.StageInits(spec.Service, inits.Names(), spec.StageDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range spec.Inits {
		for _, f := range spec.InitFiles[r.Name()] {
			sum := sha256.Sum256(f.Body)
			wants[layout.Staged(spec.Name, r.Name(), f.Target)] = want{fs.FileMode(f.Mode), hex.EncodeToString(sum[:]), int64(len(f.Body))}
		}
	}
	out := t.TempDir()
	pkgs := map[string]string{}
	for _, format := range Names() {
		res, err := Build(spec, format, out)
		if err != nil {
			t.Fatal(err)
		}
		pkgs[format] = res.Path
	}
	return pkgs, wants
}

// generated are the files nfpm or omnipack's packaging adds by itself, per
// format; their bytes are checked against the real tools instead.
var generated = map[string][]string{
	"deb": {"/usr/share/doc/probe/changelog.Debian.gz", "/usr/share/doc/probe/copyright", "/usr/share/lintian/overrides/probe"},
	// The tarball carries its maintainer scripts and its file list.
	"tarball": {"/usr/lib/probe/files", "/usr/lib/probe/scripts/preinstall", "/usr/lib/probe/scripts/postinstall", "/usr/lib/probe/scripts/preremove"},
}

func TestListAllFormats(t *testing.T) {
	pkgs, wants := buildAll(t)
	for _, format := range Names() {
		t.Run(format, func(t *testing.T) {
			files, err := Files(pkgs[format], format)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]pkgfile.File{}
			for i, f := range files {
				if i > 0 && files[i-1].Path >= f.Path {
					t.Errorf("not sorted: %s before %s", files[i-1].Path, f.Path)
				}
				got[f.Path] = f
			}
			for p, w := range wants {
				f, ok := got[p]
				if !ok {
					t.Errorf("missing %s", p)
					continue
				}
				if f.Mode != w.mode || f.SHA256 != w.sha256 || f.Size != w.size {
					t.Errorf("%s: got mode %v sha256 %s size %d, want %v %s %d", p, f.Mode, f.SHA256, f.Size, w.mode, w.sha256, w.size)
				}
			}
			extra := map[string]bool{}
			for _, p := range generated[format] {
				extra[p] = true
			}
			for p, f := range got {
				if _, ok := wants[p]; !ok && !extra[p] {
					t.Errorf("unexpected file %s (%+v)", p, f)
				}
				if !f.Mode.IsRegular() || len(f.SHA256) != 64 || len(f.SHA1) != 40 {
					t.Errorf("%s: want a regular file with digests, got %+v", p, f)
				}
			}
			if len(got) != len(wants)+len(extra) {
				t.Errorf("%d files, want %d", len(got), len(wants)+len(extra))
			}

			data, err := ReadFile(pkgs[format], format, "/usr/bin/probe")
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != wants["/usr/bin/probe"].sha256 {
				t.Error("ReadFile returned other bytes than were packaged")
			}
			if _, err := ReadFile(pkgs[format], format, "/usr/bin/nothere"); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("ReadFile of a missing file: %v, want a not-exist error", err)
			}
			if _, err := ReadFile(pkgs[format], format, "/usr/share"); err == nil {
				t.Error("ReadFile of a directory succeeded")
			}
		})
	}
}

// TestListMatchesRealTools checks List against what dpkg, rpm and tar say
// about the same packages, digests included.
func TestListMatchesRealTools(t *testing.T) {
	pkgs, _ := buildAll(t)
	for _, format := range Names() {
		t.Run(format, func(t *testing.T) {
			files, err := Files(pkgs[format], format)
			if err != nil {
				t.Fatal(err)
			}
			var real map[string]pkgfile.File
			switch format {
			case "deb":
				real = extracted(t, "dpkg-deb", "-x", pkgs[format])
				// dpkg-deb -c lists modes and sizes as dpkg sees them.
				for _, line := range lines(t, "dpkg-deb", "-c", pkgs[format]) {
					fields := strings.Fields(line)
					if len(fields) < 6 || strings.HasPrefix(fields[0], "d") {
						continue
					}
					p := path.Clean("/" + strings.TrimPrefix(fields[5], "./"))
					f := real[p]
					if f.Mode.String() != fields[0] || strconv.FormatInt(f.Size, 10) != fields[2] {
						t.Errorf("dpkg-deb -c: %s is %s %s, extracted %v %d", p, fields[0], fields[2], f.Mode, f.Size)
					}
				}
			case "rpm":
				real = rpmDump(t, pkgs[format])
			case "apk":
				// An apk's gzip streams concatenate to tars tar can read
				// with --ignore-zeros; the dot files are control data.
				real = extracted(t, "tar", "--ignore-zeros", "-xzf", pkgs[format])
			case "archlinux":
				real = extracted(t, "tar", "--zstd", "-xf", pkgs[format])
			case "tarball":
				real = extracted(t, "tar", "-xzf", pkgs[format])
			}
			if len(real) == 0 {
				t.Fatal("the real tool found no files")
			}
			got := map[string]pkgfile.File{}
			for _, f := range files {
				got[f.Path] = f
			}
			for p, r := range real {
				f, ok := got[p]
				if !ok {
					t.Errorf("%s lists %s; List does not", format, p)
					continue
				}
				if f.Mode != r.Mode || f.SHA256 != r.SHA256 || f.Size != r.Size {
					t.Errorf("%s: List %v %s %d, real tool %v %s %d", p, f.Mode, f.SHA256, f.Size, r.Mode, r.SHA256, r.Size)
				}
			}
			for p := range got {
				if _, ok := real[p]; !ok {
					t.Errorf("List has %s; %s does not", p, format)
				}
			}
		})
	}
}

func lines(t *testing.T, name string, args ...string) []string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// extracted unpacks a package with a real tool (the package path is the
// last argument; the target directory is appended or set as the working
// directory) and returns its non-directory files, dot files at the top
// level left out.
func extracted(t *testing.T, name string, args ...string) map[string]pkgfile.File {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s not installed", name)
	}
	dir := t.TempDir()
	if name == "dpkg-deb" {
		args = append(args, dir)
	}
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	files := map[string]pkgfile.File{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if pkgfile.IsDotFile(rel) {
			return nil
		}
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		f := pkgfile.File{Path: "/" + filepath.ToSlash(rel), Mode: info.Mode()}
		if info.Mode().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			f.SHA256, f.Size = hex.EncodeToString(sum[:]), int64(len(data))
		}
		files[f.Path] = f
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// rpmDump reads `rpm -qp --dump`: path size mtime digest mode owner group
// isconfig isdoc rdev symlink, with the header's sha256 digests.
func rpmDump(t *testing.T, pkg string) map[string]pkgfile.File {
	t.Helper()
	files := map[string]pkgfile.File{}
	for _, line := range lines(t, "rpm", "-qp", "--dump", pkg) {
		fields := strings.Fields(line)
		if len(fields) < 11 {
			t.Fatalf("rpm --dump line %q", line)
		}
		mode, err := strconv.ParseUint(fields[4], 8, 32)
		if err != nil {
			t.Fatal(err)
		}
		f := pkgfile.File{Path: fields[0], Mode: (&tar.Header{Mode: int64(mode)}).FileInfo().Mode()}
		if f.Mode.IsDir() {
			continue
		}
		if f.Mode.IsRegular() {
			f.SHA256 = fields[3]
			f.Size, _ = strconv.ParseInt(fields[1], 10, 64)
		}
		files[f.Path] = f
	}
	return files
}

// TestRPMHeaderDigestMismatch changes the digest the rpm header records for
// the binary; List must refuse the package.
func TestRPMHeaderDigestMismatch(t *testing.T) {
	pkgs, wants := buildAll(t)
	data, err := os.ReadFile(pkgs["rpm"])
	if err != nil {
		t.Fatal(err)
	}
	sum := []byte(wants["/usr/bin/probe"].sha256)
	if bytes.Count(data, sum) != 1 {
		t.Fatalf("the binary's digest appears %d times in the rpm", bytes.Count(data, sum))
	}
	forged := bytes.Replace(data, sum, bytes.Repeat([]byte("0"), 64), 1)
	p := filepath.Join(t.TempDir(), "forged.rpm")
	if err := os.WriteFile(p, forged, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Files(p, "rpm"); err == nil || !strings.Contains(err.Error(), "rpm header records") {
		t.Fatalf("List of an rpm whose header digest was changed: %v", err)
	}
}

// TestArchSymlinksAndHardLinks builds a pacman-style tar.zst by hand with a
// symlink, a hard link and the metadata dot files.
func TestArchSymlinksAndHardLinks(t *testing.T) {
	var raw bytes.Buffer
	zw, err := zstd.NewWriter(&raw)
	if err != nil {
		t.Fatal(err)
	}
	tw := tar.NewWriter(zw)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	add(&tar.Header{Name: ".PKGINFO", Mode: 0o644, Typeflag: tar.TypeReg}, "pkgname = x\n")
	add(&tar.Header{Name: ".MTREE", Mode: 0o644, Typeflag: tar.TypeReg}, "")
	add(&tar.Header{Name: "usr/", Mode: 0o755, Typeflag: tar.TypeDir}, "")
	add(&tar.Header{Name: "usr/bin/", Mode: 0o755, Typeflag: tar.TypeDir}, "")
	add(&tar.Header{Name: "usr/bin/x", Mode: 0o4755, Typeflag: tar.TypeReg}, "body")
	add(&tar.Header{Name: "usr/bin/y", Linkname: "x", Mode: 0o777, Typeflag: tar.TypeSymlink}, "")
	add(&tar.Header{Name: "usr/bin/z", Linkname: "usr/bin/x", Mode: 0o4755, Typeflag: tar.TypeLink}, "")
	add(&tar.Header{Name: "usr/share/.hidden", Mode: 0o600, Typeflag: tar.TypeReg}, "kept")
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	zw.Close()
	p := filepath.Join(t.TempDir(), "x-1-1-x86_64.pkg.tar.zst")
	if err := os.WriteFile(p, raw.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	files, err := Files(p, "archlinux")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, f := range files {
		b.WriteString(f.Path + " " + f.Mode.String() + " " + strconv.FormatInt(f.Size, 10) + " " + f.LinkTarget + " " + f.SHA256[:min(8, len(f.SHA256))] + "\n")
	}
	wantList := "/usr/bin/x urwxr-xr-x 4  230d8358\n" +
		"/usr/bin/y Lrwxrwxrwx 0 x \n" +
		"/usr/bin/z urwxr-xr-x 4  230d8358\n" +
		"/usr/share/.hidden -rw------- 4  79f076ab\n"
	if b.String() != wantList {
		t.Errorf("got\n%swant\n%s", b.String(), wantList)
	}
}

func TestUnknownFormatAndGarbage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "garbage")
	if err := os.WriteFile(p, []byte("not a package at all, not even close"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Files(p, "msi"); err == nil {
		t.Error("unknown format accepted")
	}
	for _, format := range Names() {
		if _, err := Files(p, format); err == nil {
			t.Errorf("%s: garbage accepted", format)
		}
	}
}

// TestCompressions builds debs and rpms with every payload compression
// nfpm offers, which omnipack's own packaging does not all use.
func TestCompressions(t *testing.T) {
	src := filepath.Join(t.TempDir(), "x")
	body := strings.Repeat("compress me ", 1000)
	if err := os.WriteFile(src, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	for format, comps := range map[string][]string{"deb": {"gzip", "xz", "zstd", "none"}, "rpm": {"gzip", "xz", "zstd", "lzma"}} {
		for _, comp := range comps {
			info := &nfpm.Info{Name: "x", Arch: "amd64", Platform: "linux", Version: "1.0", Maintainer: "a <a@b>",
				Description: "x", MTime: time.Unix(1700000000, 0).UTC(),
				Overridables: nfpm.Overridables{Contents: files.Contents{{Source: src, Destination: "/usr/share/x/data",
					FileInfo: &files.ContentFileInfo{Mode: 0o600, MTime: time.Unix(1700000000, 0).UTC()}}}}}
			info.Deb.Compression, info.RPM.Compression = comp, comp
			pkgr, err := nfpm.Get(format)
			if err != nil {
				t.Fatal(err)
			}
			if err := nfpm.PrepareForPackager(info, format); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "x."+format)
			out, err := os.Create(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := pkgr.Package(info, out); err != nil {
				t.Fatal(err)
			}
			out.Close()
			got, err := Files(p, format)
			if err != nil {
				t.Errorf("%s %s: %v", format, comp, err)
				continue
			}
			if len(got) != 1 || got[0].Path != "/usr/share/x/data" || got[0].SHA256 != hex.EncodeToString(sum[:]) || got[0].Mode != 0o600 {
				t.Errorf("%s %s: %+v", format, comp, got)
			}
		}
	}
}

// TestSignedAPK puts a signature stream in front of an unsigned apk, as
// nfpm and abuild-sign do; List must skip it.
func TestSignedAPK(t *testing.T) {
	pkgs, wants := buildAll(t)
	var sig bytes.Buffer
	zw := gzip.NewWriter(&sig)
	tw := tar.NewWriter(zw)
	if err := tw.WriteHeader(&tar.Header{Name: ".SIGN.RSA.test.rsa.pub", Mode: 0o644, Size: 4, Typeflag: tar.TypeReg}); err != nil {
		t.Fatal(err)
	}
	tw.Write([]byte("sig!"))
	tw.Flush() // apk signature tars have no end-of-archive marker
	zw.Close()
	unsigned, err := os.ReadFile(pkgs["apk"])
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "signed.apk")
	if err := os.WriteFile(p, append(sig.Bytes(), unsigned...), 0o644); err != nil {
		t.Fatal(err)
	}
	a, err := Files(pkgs["apk"], "apk")
	if err != nil {
		t.Fatal(err)
	}
	b, err := Files(p, "apk")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) || len(a) != len(wants) {
		t.Errorf("signed apk lists %d files, unsigned %d, want %d", len(b), len(a), len(wants))
	}
}
