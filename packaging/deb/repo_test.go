package deb

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/md5" //nolint:gosec // the Packages file lists it
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ulikunitz/xz"

	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/signing"
)

// writeDeb writes a minimal deb, as dpkg-deb lays one out, with the
// given control file and one data file.
func writeDeb(t *testing.T, p, control string) []byte {
	t.Helper()
	tgz := func(name, body string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		tw := tar.NewWriter(zw)
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(body)), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
		tw.Close()
		zw.Close()
		return b.Bytes()
	}
	var ar bytes.Buffer
	ar.WriteString("!<arch>\n")
	for _, m := range []struct {
		name string
		body []byte
	}{{"debian-binary", []byte("2.0\n")}, {"control.tar.gz", tgz("./control", control)}, {"data.tar.gz", tgz("./usr/bin/x", "x")}} {
		fmt.Fprintf(&ar, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", m.name, 0, 0, 0, "100644", len(m.body))
		ar.Write(m.body)
		if len(m.body)%2 == 1 {
			ar.WriteByte('\n')
		}
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, ar.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return ar.Bytes()
}

// fixture is a repository root holding two debs at their pool paths, and
// the index input for them.
type fixture struct {
	in   packaging.RepoIndex
	debs map[string][]byte // by pool path
	key  *openpgp.Entity
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	root := t.TempDir()
	key, err := openpgp.NewEntity("repo test", "", "repo@test.invalid", nil)
	if err != nil {
		t.Fatal(err)
	}
	fx := &fixture{debs: map[string][]byte{}, key: key}
	var pkgs []packaging.RepoPackage
	for _, c := range []struct{ name, version, arch string }{
		{"zeta", "2.0.0-1", "arm64"}, {"alpha", "1.0.0-1", "amd64"}, {"alpha", "1.1.0-1", "amd64"},
	} {
		control := fmt.Sprintf("Package: %s\nVersion: %s\nArchitecture: %s\nMaintainer: T <t@test.invalid>\n"+
			"Installed-Size: 1\nDescription: test package\n more text\n .\n last\n", c.name, c.version, archs[c.arch])
		p := packaging.RepoPackage{Name: c.name, Program: c.name, Version: c.version, Arch: c.arch}
		p.Path = Format{}.PoolPath("stable", p)
		data := writeDeb(t, filepath.Join(root, p.Path), control)
		sum := sha256.Sum256(data)
		p.Size, p.SHA256 = int64(len(data)), hex.EncodeToString(sum[:])
		fx.debs[p.Path] = data
		pkgs = append(pkgs, p)
	}
	date := time.Date(2025, 3, 4, 5, 6, 7, 0, time.UTC)
	fx.in = packaging.RepoIndex{
		Root: root, Channel: "stable", Name: "example", Packages: pkgs,
		Date: date, ValidUntil: date.Add(7 * 24 * time.Hour),
		Sign: packaging.RepoSigner{
			ClearSign: func(body []byte) ([]byte, error) { return signing.ClearSign(key, body) },
			DetachedAll: func(body []byte, armored bool) ([]byte, error) {
				return signing.DetachSign(key, bytes.NewReader(body), armored)
			},
		},
	}
	return fx
}

func byPath(files []packaging.RepoFile) map[string][]byte {
	m := map[string][]byte{}
	for _, f := range files {
		m[f.Path] = f.Body
	}
	return m
}

func TestPoolPath(t *testing.T) {
	got := Format{}.PoolPath("beta", packaging.RepoPackage{Name: "crashwatch", Version: "1.0.0-1", Arch: "armv7"})
	if want := "pool/beta/main/c/crashwatch/crashwatch_1.0.0-1_armhf.deb"; got != want {
		t.Errorf("PoolPath = %s, want %s", got, want)
	}
}

// TestIndexDeterministic: the same packages give byte-identical Packages
// and Release files, whatever order they come in; only the signatures,
// which carry their own time and salt, differ. InRelease is last.
func TestIndexDeterministic(t *testing.T) {
	fx := newFixture(t)
	first, err := Format{}.Index(fx.in)
	if err != nil {
		t.Fatal(err)
	}
	rev := fx.in
	rev.Packages = nil
	for i := len(fx.in.Packages) - 1; i >= 0; i-- {
		rev.Packages = append(rev.Packages, fx.in.Packages[i])
	}
	second, err := Format{}.Index(rev)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != len(second) {
		t.Fatalf("%d files, then %d", len(first), len(second))
	}
	for i := range first {
		if first[i].Path != second[i].Path {
			t.Errorf("file %d is %s, then %s", i, first[i].Path, second[i].Path)
		}
		if base := path.Base(first[i].Path); base != "InRelease" && base != "Release.gpg" && !bytes.Equal(first[i].Body, second[i].Body) {
			t.Errorf("%s differs between two runs", first[i].Path)
		}
	}
	if last := first[len(first)-1].Path; last != "dists/stable/InRelease" {
		t.Errorf("last file is %s, want dists/stable/InRelease: clients fetch it first", last)
	}
	files := byPath(first)
	pk := string(files["dists/stable/main/binary-amd64/Packages"])
	if i, j := strings.Index(pk, "Version: 1.0.0-1"), strings.Index(pk, "Version: 1.1.0-1"); i < 0 || j < i {
		t.Errorf("amd64 Packages does not list alpha 1.0.0-1 before 1.1.0-1:\n%s", pk)
	}
	if strings.Contains(pk, "zeta") {
		t.Errorf("amd64 Packages lists the arm64 package:\n%s", pk)
	}
	rel := string(files["dists/stable/Release"])
	for _, want := range []string{
		"Origin: example\n", "Suite: stable\n", "Codename: stable\n", "Components: main\n",
		"Architectures: amd64 arm64\n", "Acquire-By-Hash: yes\n",
		"Date: Tue, 04 Mar 2025 05:06:07 UTC\n", "Valid-Until: Tue, 11 Mar 2025 05:06:07 UTC\n",
	} {
		if !strings.Contains(rel, want) {
			t.Errorf("Release lacks %q:\n%s", want, rel)
		}
	}
}

// TestIndexHashes: every digest the Release and Packages files state is
// that of the file it names, the compressed Packages files hold the plain
// one, each by-hash file is named by its sha256, and the signatures verify.
func TestIndexHashes(t *testing.T) {
	fx := newFixture(t)
	out, err := Format{}.Index(fx.in)
	if err != nil {
		t.Fatal(err)
	}
	files := byPath(out)
	rel := files["dists/stable/Release"]
	listed := 0
	section := ""
	for _, line := range strings.Split(string(rel), "\n") {
		if strings.HasSuffix(line, ":") {
			section = strings.TrimSuffix(line, ":")
			continue
		}
		if !strings.HasPrefix(line, " ") {
			continue
		}
		f := strings.Fields(line)
		body, ok := files["dists/stable/"+f[2]]
		if !ok {
			t.Errorf("Release lists %s, which Index did not write", f[2])
			continue
		}
		var sum string
		switch section {
		case "MD5Sum":
			sum = fmt.Sprintf("%x", md5.Sum(body)) //nolint:gosec
		case "SHA256":
			sum = fmt.Sprintf("%x", sha256.Sum256(body))
			if _, ok := files["dists/stable/"+path.Dir(f[2])+"/by-hash/SHA256/"+sum]; !ok {
				t.Errorf("no by-hash copy of %s", f[2])
			}
			listed++
		}
		if f[0] != sum || f[1] != strconv.Itoa(len(body)) {
			t.Errorf("Release: %s %s %s; the file has %s %d", f[0], f[1], f[2], sum, len(body))
		}
	}
	if listed != 6 {
		t.Errorf("Release lists %d files under SHA256, want 6 (Packages, .gz, .xz for two architectures)", listed)
	}
	for p, body := range files {
		if strings.Contains(p, "/by-hash/SHA256/") && fmt.Sprintf("%x", sha256.Sum256(body)) != path.Base(p) {
			t.Errorf("%s does not hold what its name says", p)
		}
	}
	plain := files["dists/stable/main/binary-amd64/Packages"]
	zr, err := gzip.NewReader(bytes.NewReader(files["dists/stable/main/binary-amd64/Packages.gz"]))
	if err != nil {
		t.Fatal(err)
	}
	if gz, _ := io.ReadAll(zr); !bytes.Equal(gz, plain) {
		t.Error("Packages.gz does not hold Packages")
	}
	xr, err := xz.NewReader(bytes.NewReader(files["dists/stable/main/binary-amd64/Packages.xz"]))
	if err != nil {
		t.Fatal(err)
	}
	if x, _ := io.ReadAll(xr); !bytes.Equal(x, plain) {
		t.Error("Packages.xz does not hold Packages")
	}
	for _, stanza := range strings.Split(strings.TrimSpace(string(plain)), "\n\n") {
		fields := map[string]string{}
		sc := bufio.NewScanner(strings.NewReader(stanza))
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ": "); ok && !strings.HasPrefix(k, " ") {
				fields[k] = v
			}
		}
		deb, ok := fx.debs[fields["Filename"]]
		if !ok {
			t.Errorf("stanza names Filename %q, no package of the fixture:\n%s", fields["Filename"], stanza)
			continue
		}
		if fields["Size"] != strconv.Itoa(len(deb)) || fields["SHA256"] != fmt.Sprintf("%x", sha256.Sum256(deb)) ||
			fields["MD5sum"] != fmt.Sprintf("%x", md5.Sum(deb)) { //nolint:gosec
			t.Errorf("stanza's Size, SHA256 or MD5sum is not the package's:\n%s", stanza)
		}
		if !strings.Contains(stanza, "Description: test package\n more text\n .\n last") {
			t.Errorf("stanza lost the control file's description:\n%s", stanza)
		}
	}

	requireTool(t, "gpgv")
	var pub bytes.Buffer
	if err := fx.key.Serialize(&pub); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyring := filepath.Join(dir, "k.gpg")
	for name, data := range map[string][]byte{"k.gpg": pub.Bytes(), "InRelease": files["dists/stable/InRelease"],
		"Release": rel, "Release.gpg": files["dists/stable/Release.gpg"]} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gpgv := func(args ...string) (string, error) {
		out, err := exec.Command("gpgv", append([]string{"--keyring", keyring}, args...)...).CombinedOutput()
		return string(out), err
	}
	if out, err := gpgv(filepath.Join(dir, "InRelease")); err != nil {
		t.Errorf("gpgv refuses InRelease: %v\n%s", err, out)
	}
	if out, err := gpgv(filepath.Join(dir, "Release.gpg"), filepath.Join(dir, "Release")); err != nil {
		t.Errorf("gpgv refuses Release.gpg: %v\n%s", err, out)
	}
	os.WriteFile(filepath.Join(dir, "Release"), append(rel, '\n'), 0o644)
	if out, err := gpgv(filepath.Join(dir, "Release.gpg"), filepath.Join(dir, "Release")); err == nil {
		t.Errorf("gpgv accepts Release.gpg for a changed Release:\n%s", out)
	}
}

// TestIndexRefusesChangedPool: a package whose bytes are not what the
// repository recorded is refused, not indexed with new digests.
func TestIndexRefusesChangedPool(t *testing.T) {
	fx := newFixture(t)
	p := fx.in.Packages[0]
	f := filepath.Join(fx.in.Root, p.Path)
	data, _ := os.ReadFile(f)
	data[len(data)-1] ^= 0xff
	os.WriteFile(f, data, 0o644)
	_, err := Format{}.Index(fx.in)
	if err == nil || !strings.Contains(err.Error(), "the repository recorded") {
		t.Errorf("Index of a changed package: %v, want a refusal naming the recorded digest", err)
	}
}

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed (run .ci/prereqs)", name)
	}
}
