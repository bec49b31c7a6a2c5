package apk

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/rsa"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/apk/apktest"
	"github.com/omnipack/omnipack/signing"
)

const keyPassword = "apk-repo-test"

// apkKey is an apk signing key made once for the tests.
type apkKey struct {
	key  *rsa.PrivateKey
	name string
	pub  string // path of the PEM public key
}

// newKey makes an apk key pair in a temp dir of the test, named for owner.
func newKey(t *testing.T, owner string) apkKey {
	t.Helper()
	dir := t.TempDir()
	if _, err := signing.Generate(dir, []byte(keyPassword), false); err != nil {
		t.Fatal(err)
	}
	key, err := signing.LoadAPKKey(filepath.Join(dir, signing.APKKeyFile), []byte(keyPassword))
	if err != nil {
		t.Fatal(err)
	}
	name, err := signing.APKKeyName(owner, &key.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return apkKey{key: key, name: name, pub: filepath.Join(dir, signing.APKPubFile)}
}

func (k apkKey) signer() packaging.RepoSigner {
	return packaging.RepoSigner{APK: signing.APKSignFn(k.key), APKKeyName: k.name}
}

// buildVersion builds the test spec at version base, signed with k.
func buildVersion(t *testing.T, k apkKey, base string) (*packaging.Spec, packaging.Result) {
	t.Helper()
	spec := testSpec(t)
	spec.Version = config.Version{Base: base}
	if err := os.WriteFile(spec.Binary, []byte("#!/bin/sh\necho probe "+base+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	spec.Sign = &packaging.Signer{APK: signing.APKSignFn(k.key), APKKeyName: k.name}
	res, err := Format{}.Build(spec, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return spec, res
}

// apkRepo is a repository tree served on loopback, published as omnipack
// publish does: packages copied to their pool paths, then the index.
type apkRepo struct {
	t    *testing.T
	root string
	url  string
	pkgs []packaging.RepoPackage
}

func newAPKRepo(t *testing.T, k apkKey) *apkRepo {
	t.Helper()
	r := &apkRepo{t: t, root: t.TempDir()}
	srv := httptest.NewServer(http.FileServer(http.Dir(r.root)))
	t.Cleanup(srv.Close)
	r.url = srv.URL
	r.copy(k.pub, "keys/"+k.name+".rsa.pub")
	return r
}

func (r *apkRepo) copy(src, rel string) {
	r.t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		r.t.Fatal(err)
	}
	r.write(rel, data)
}

func (r *apkRepo) write(rel string, data []byte) {
	r.t.Helper()
	dst := filepath.Join(r.root, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		r.t.Fatal(err)
	}
}

func (r *apkRepo) add(spec *packaging.Spec, res packaging.Result) {
	p := packaging.RepoPackage{Name: spec.Name, Program: spec.Name, Version: res.Version, Arch: res.Arch}
	p.Path = Format{}.PoolPath("stable", p)
	r.copy(res.Path, p.Path)
	r.pkgs = append(r.pkgs, p)
}

func (r *apkRepo) index(k apkKey) []byte {
	r.t.Helper()
	files, err := Format{}.Index(packaging.RepoIndex{Root: r.root, Channel: "stable", Name: "omnitest",
		Packages: r.pkgs, Date: time.Unix(1700000000, 0), Sign: k.signer()})
	if err != nil {
		r.t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != "apk/stable/x86_64/APKINDEX.tar.gz" {
		r.t.Fatalf("index files %v, want apk/stable/x86_64/APKINDEX.tar.gz", files)
	}
	r.write(files[0].Path, files[0].Body)
	return files[0].Body
}

// install runs go-apk as the README's snippet sets apk up: the keys its
// wget lines fetch and the line it adds to /etc/apk/repositories.
func (r *apkRepo) install(t *testing.T, k apkKey, ok bool) (root, out string) {
	t.Helper()
	snippet := APKSetup("probe", r.url, "stable", []string{k.name}, func(name string) string { return r.url + "/keys/" + name + ".rsa.pub" })
	var keyURLs []string
	var repo string
	for _, line := range strings.Split(snippet, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 4 && f[0] == "wget" && f[2] == KeyPath(k.name):
			keyURLs = append(keyURLs, f[3])
		case len(f) == 4 && f[0] == "echo" && f[3] == "/etc/apk/repositories":
			repo = f[1]
		}
	}
	if len(keyURLs) != 1 || repo != r.url+"/apk/stable" {
		t.Fatalf("snippet has keys %v and repository %q:\n%s", keyURLs, repo, snippet)
	}
	root = t.TempDir()
	cmd := exec.Command(apktest.Client(t), "-root", root, "-arch", "x86_64", "-key", strings.Join(keyURLs, ","), "-repo", repo, "-world", "probe")
	b, err := cmd.CombinedOutput()
	if ok && err != nil {
		t.Fatalf("go-apk install: %v\n%s", err, b)
	}
	if !ok && err == nil {
		t.Fatalf("go-apk installed from a repository it must refuse:\n%s", b)
	}
	return root, string(b)
}

// splitIndex returns the signature member and the signed index stream of
// an APKINDEX.tar.gz.
func splitIndex(t *testing.T, data []byte) (sigName string, sig, index []byte) {
	t.Helper()
	br := bytes.NewReader(data)
	zr, err := gzip.NewReader(br)
	if err != nil {
		t.Fatal(err)
	}
	zr.Multistream(false)
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	hdr, err := tar.NewReader(bytes.NewReader(raw)).Next()
	if err != nil {
		t.Fatal(err)
	}
	size := int(hdr.Size)
	// One member, padded to whole blocks, and no end-of-archive blocks:
	// those would end the tar before the index.
	if len(raw) != 512+(size+511)/512*512 {
		t.Fatalf("signature tar is %d bytes, want one %d-byte member without end-of-archive blocks", len(raw), size)
	}
	return hdr.Name, raw[512 : 512+size], data[len(data)-br.Len():]
}

func TestAPKRepository(t *testing.T) {
	for _, tool := range []string{"openssl", "go"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed", tool)
		}
	}
	k := [2]apkKey{newKey(t, "example"), newKey(t, "stranger")} // the repository's and a stranger's
	spec, v1 := buildVersion(t, k[0], "1.0.0")
	_, v2 := buildVersion(t, k[0], "1.1.0")
	r := newAPKRepo(t, k[0])
	r.add(spec, v1)
	index := r.index(k[0])
	if again := r.index(k[0]); !bytes.Equal(index, again) {
		t.Error("two indexes of the same packages differ")
	}

	// openssl checks the signature as apk-tools does: RSA PKCS#1 v1.5 over
	// the SHA-1 of the index stream's bytes, by the key the member names.
	sigName, sig, stream := splitIndex(t, index)
	if want := ".SIGN.RSA." + k[0].name + ".rsa.pub"; sigName != want {
		t.Errorf("signature member %q, want %q", sigName, want)
	}
	dir := t.TempDir()
	sigFile, streamFile := filepath.Join(dir, "sig"), filepath.Join(dir, "index.tar.gz")
	os.WriteFile(sigFile, sig, 0o644)
	os.WriteFile(streamFile, stream, 0o644)
	if out, err := exec.Command("openssl", "dgst", "-sha1", "-verify", k[0].pub, "-signature", sigFile, streamFile).CombinedOutput(); err != nil {
		t.Fatalf("openssl refuses the index signature: %v\n%s", err, out)
	}
	os.WriteFile(streamFile, append(bytes.Clone(stream), 0), 0o644)
	if out, err := exec.Command("openssl", "dgst", "-sha1", "-verify", k[0].pub, "-signature", sigFile, streamFile).CombinedOutput(); err == nil {
		t.Fatalf("openssl accepts a changed index stream:\n%s", out)
	}

	// go-apk, given only the public key, installs the package: its binary,
	// its config and its OpenRC files.
	root, _ := r.install(t, k[0], true)
	checkInstalled(t, spec, root, "1.0.0-r1")

	// Version 2 published beside version 1: both are in the index, and a
	// new install takes the newest.
	r.add(spec, v2)
	index = r.index(k[0])
	_, _, stream = splitIndex(t, index)
	zr, err := gzip.NewReader(bytes.NewReader(stream))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(zr)
	for _, w := range []string{"\nP:probe\nV:1.0.0-r1\nA:x86_64\n", "\nP:probe\nV:1.1.0-r1\nA:x86_64\n", "\nT:probe agent probe agent for tests\nU:https://example.com/probe\nL:MIT\n"} {
		if !strings.Contains(string(text), w) {
			t.Errorf("index lacks %q", w)
		}
	}
	root, _ = r.install(t, k[0], true)
	checkInstalled(t, spec, root, "1.1.0-r1")
	// go-apk records the checksum it computed of the control stream it
	// fetched: the index's C: must be that (apk-tools refuses a package
	// whose control stream does not match it; go-apk does not check).
	installed, _ := os.ReadFile(filepath.Join(root, "lib/apk/db/installed"))
	if c := checksumLine(t, installed, "1.1.0-r1"); c != checksumLine(t, text, "1.1.0-r1") {
		t.Errorf("index says %s, go-apk computed %s for probe 1.1.0-r1", checksumLine(t, text, "1.1.0-r1"), c)
	}

	t.Run("tampered index", func(t *testing.T) {
		good := index
		defer r.write("apk/stable/x86_64/APKINDEX.tar.gz", good)
		r.write("apk/stable/x86_64/APKINDEX.tar.gz", flip(good, len(good)-20))
		_, out := r.install(t, k[0], false)
		if !strings.Contains(out, "no key found to verify signature") {
			t.Errorf("go-apk refused the tampered index without naming the signature:\n%s", out)
		}
	})
	t.Run("index of another key", func(t *testing.T) {
		r.index(k[1])
		defer r.index(k[0])
		_, out := r.install(t, k[0], false)
		if !strings.Contains(out, "no key found to verify signature") {
			t.Errorf("go-apk refused the foreign index without naming the signature:\n%s", out)
		}
	})
	t.Run("tampered package", func(t *testing.T) {
		pkg := filepath.Join(r.root, r.pkgs[1].Path)
		good, _ := os.ReadFile(pkg)
		defer os.WriteFile(pkg, good, 0o644)
		os.WriteFile(pkg, flip(good, len(good)/2), 0o644)
		root, out := r.install(t, k[0], false)
		t.Logf("go-apk on a tampered package: %s", out)
		if _, err := os.Stat(filepath.Join(root, "usr/bin/probe")); err == nil {
			t.Error("the tampered package was installed")
		}
	})
}

// checksumLine returns the C: line of probe's entry of version in an
// APKINDEX or an installed database.
func checksumLine(t *testing.T, db []byte, version string) string {
	t.Helper()
	for _, entry := range strings.Split(string(db), "\n\n") {
		lines := strings.Split(strings.TrimSpace(entry), "\n")
		if slices.Contains(lines, "P:probe") && slices.Contains(lines, "V:"+version) {
			for _, l := range lines {
				if strings.HasPrefix(l, "C:Q1") {
					return l
				}
			}
		}
	}
	t.Fatalf("no C: line for probe %s in:\n%s", version, db)
	return ""
}

func flip(data []byte, off int) []byte {
	b := bytes.Clone(data)
	b[off] ^= 0xff
	return b
}

// checkInstalled checks that the root holds version's files and that
// apk's database records it.
func checkInstalled(t *testing.T, spec *packaging.Spec, root, version string) {
	t.Helper()
	want := []string{"usr/bin/probe", "etc/probe/probe.toml"}
	for _, f := range spec.InitFiles["openrc"] {
		want = append(want, strings.TrimPrefix(layout.Staged(spec.Name, "openrc", f.Target), "/"))
	}
	if len(want) < 3 {
		t.Fatal("the spec has no OpenRC files")
	}
	for _, f := range want {
		if _, err := os.Stat(filepath.Join(root, f)); err != nil {
			t.Errorf("installed root lacks %s: %v", f, err)
		}
	}
	db, err := os.ReadFile(filepath.Join(root, "lib/apk/db/installed"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(db), "P:probe\nV:"+version+"\n") {
		t.Errorf("apk's installed database does not record probe %s:\n%s", version, db)
	}
}
