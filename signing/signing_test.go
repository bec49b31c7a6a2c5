package signing

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/omnipack/omnipack/internal/atomicfile"
)

const testPassword = "correct horse battery staple"

// keysDir and otherDir hold two key sets generated once for the whole
// package: RSA generation is the slow part of these tests.
var keysDir, otherDir string

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	root, err := os.MkdirTemp("", "omnipack-signing-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(root)
	keysDir = filepath.Join(root, "keys")
	otherDir = filepath.Join(root, "other")
	for _, d := range []string{keysDir, otherDir} {
		if _, err := Generate(d, []byte(testPassword), false); err != nil {
			fmt.Fprintln(os.Stderr, "generate test keys:", err)
			return 1
		}
	}
	return m.Run()
}

func key(name string) string { return filepath.Join(keysDir, name) }

// need fails the test when a real tool is missing: these tests exist to
// check omnipack's output with the tools admins use, so a skip would hide
// exactly what they are for.
func need(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed; install it (Debian: apt-get install openssl gnupg gpgv rpm) to run the signing tests", tool)
		}
	}
}

// tool runs a command and returns its combined output.
func tool(t *testing.T, env []string, name string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// mustTool runs a command that has to succeed.
func mustTool(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	out, err := tool(t, env, name, args...)
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return out
}

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// secretLines returns every line of key material in the private key files
// of dir: PEM and armor body lines, without the BEGIN/END lines, armor
// headers and short checksum lines.
func secretLines(t *testing.T, dir string) []string {
	t.Helper()
	var lines []string
	for _, name := range privateFiles {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range strings.Split(string(data), "\n") {
			l = strings.TrimSpace(l)
			if len(l) < 16 || strings.HasPrefix(l, "-----") || strings.Contains(l, ": ") {
				continue
			}
			lines = append(lines, l)
		}
	}
	if len(lines) < 10 {
		t.Fatalf("found only %d secret lines in %s", len(lines), dir)
	}
	return lines
}

// assertClean fails if s, an error message or output, holds any line of
// private key material from the test key sets or dirs, the password, or
// signs of a panic.
func assertClean(t *testing.T, s string, dirs ...string) {
	t.Helper()
	for _, dir := range append([]string{keysDir, otherDir}, dirs...) {
		for _, l := range secretLines(t, dir) {
			if strings.Contains(s, l) {
				t.Fatalf("output holds private key material from %s:\n%s", dir, s)
			}
		}
	}
	for _, bad := range []string{testPassword, "panic", "goroutine "} {
		if strings.Contains(s, bad) {
			t.Fatalf("output holds %q:\n%s", bad, s)
		}
	}
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func listDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

func allKeyFiles() []string {
	names := append(append([]string{}, privateFiles...), publicFiles...)
	sort.Strings(names)
	return names
}

func checkModes(t *testing.T, dir string) {
	t.Helper()
	for _, name := range privateFiles {
		if m := mode(t, filepath.Join(dir, name)); m != 0o600 {
			t.Errorf("%s: mode %04o, want 0600", name, m)
		}
	}
	for _, name := range publicFiles {
		if m := mode(t, filepath.Join(dir, name)); m != 0o644 {
			t.Errorf("%s: mode %04o, want 0644", name, m)
		}
	}
	if got, want := listDir(t, dir), allKeyFiles(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("key directory holds %v, want exactly %v (no temporary files)", got, want)
	}
}

func TestGenerateWritesKeyFiles(t *testing.T) {
	checkModes(t, keysDir)
	if m := mode(t, keysDir); m != 0o700 {
		t.Errorf("key directory mode %04o, want 0700", m)
	}
	heads := map[string]string{
		ReleaseKeyFile: "-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n",
		ReleasePubFile: "-----BEGIN PUBLIC KEY-----\n",
		PGPKeyFile:     "-----BEGIN PGP PRIVATE KEY BLOCK-----\n",
		PGPPubFile:     "-----BEGIN PGP PUBLIC KEY BLOCK-----\n",
		APKKeyFile:     "-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
		APKPubFile:     "-----BEGIN PUBLIC KEY-----\n",
	}
	for name, head := range heads {
		data, err := os.ReadFile(key(name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(data, []byte(head)) {
			t.Errorf("%s starts %q, want %q", name, firstLine(data), head)
		}
	}
}

func firstLine(b []byte) string {
	l, _, _ := strings.Cut(string(b), "\n")
	return l
}

// TestFingerprintsMatchTools checks the fingerprints Generate reports
// against openssl's DER export and gpg's own fingerprint, and the key sizes
// and algorithms against what the tools see.
func TestFingerprintsMatchTools(t *testing.T) {
	need(t, "openssl", "gpg")
	info := regenerateInfo(t)
	der := func(pub string) string {
		out := filepath.Join(t.TempDir(), "pub.der")
		mustTool(t, nil, "openssl", "pkey", "-pubin", "-in", pub, "-outform", "DER", "-out", out)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(data)
		return hex.EncodeToString(sum[:])
	}
	if got := der(info.Release.Public); got != info.Release.Fingerprint {
		t.Errorf("release fingerprint %s, openssl says %s", info.Release.Fingerprint, got)
	}
	if got := der(info.APK.Public); got != info.APK.Fingerprint {
		t.Errorf("apk fingerprint %s, openssl says %s", info.APK.Fingerprint, got)
	}
	if out := mustTool(t, nil, "openssl", "pkey", "-pubin", "-in", info.Release.Public, "-noout", "-text"); !strings.Contains(out, "prime256v1") {
		t.Errorf("release.pub is not P-256:\n%s", out)
	}
	if out := mustTool(t, nil, "openssl", "pkey", "-pubin", "-in", info.APK.Public, "-noout", "-text"); !strings.Contains(out, "(4096 bit)") {
		t.Errorf("apk.rsa.pub is not RSA-4096:\n%s", out)
	}

	home := t.TempDir()
	out := mustTool(t, []string{"GNUPGHOME=" + home}, "gpg", "--batch", "--with-colons", "--show-keys", info.PGP.Public)
	var fprs []string
	for _, l := range strings.Split(out, "\n") {
		f := strings.Split(l, ":")
		switch f[0] {
		case "pub":
			// pub:-:3072:1:... is a 3072-bit RSA (algorithm 1) key.
			if f[2] != "3072" || f[3] != "1" {
				t.Errorf("OpenPGP key is %s bits, algorithm %s; want 3072-bit RSA (1)", f[2], f[3])
			}
			if !strings.Contains(f[11], "s") {
				t.Errorf("OpenPGP key cannot sign: capabilities %q", f[11])
			}
		case "fpr":
			fprs = append(fprs, f[9])
		case "uid":
			if f[9] != PGPUserID {
				t.Errorf("OpenPGP user ID %q, want %q", f[9], PGPUserID)
			}
		}
	}
	if len(fprs) != 1 || fprs[0] != info.PGP.Fingerprint {
		t.Errorf("OpenPGP fingerprint %s, gpg says %v (want one signing-only key)", info.PGP.Fingerprint, fprs)
	}
}

// regenerateInfo recomputes the fixture's PublicInfo from its files.
func regenerateInfo(t *testing.T) *PublicInfo {
	t.Helper()
	rel, err := LoadPublicKey(key(ReleasePubFile))
	if err != nil {
		t.Fatal(err)
	}
	apk, err := LoadPublicKey(key(APKPubFile))
	if err != nil {
		t.Fatal(err)
	}
	e, err := LoadPGPEntity(key(PGPKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	relFP, _ := Fingerprint(rel)
	apkFP, _ := Fingerprint(apk)
	return &PublicInfo{
		Dir:     keysDir,
		Release: KeyInfo{key(ReleaseKeyFile), key(ReleasePubFile), relFP},
		PGP:     KeyInfo{key(PGPKeyFile), key(PGPPubFile), PGPFingerprint(e)},
		APK:     KeyInfo{key(APKKeyFile), key(APKPubFile), apkFP},
	}
}

func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, name := range listDir(t, dir) {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		m[name] = string(data)
	}
	return m
}

func TestGenerateRefusesOverwriteUnlessForced(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "keys")
	// Modes must not depend on the umask: private keys stay 0600 under
	// umask 0, public keys are 0644 even under umask 077.
	old := syscall.Umask(0o077)
	first, err := Generate(dir, []byte(testPassword), false)
	syscall.Umask(old)
	if err != nil {
		t.Fatal(err)
	}
	checkModes(t, dir)
	before := snapshot(t, dir)

	_, err = Generate(dir, []byte(testPassword), false)
	if !errors.Is(err, ErrKeyExists) {
		t.Fatalf("second Generate: %v, want ErrKeyExists", err)
	}
	for _, name := range allKeyFiles() {
		if !strings.Contains(err.Error(), filepath.Join(dir, name)) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
	if !strings.Contains(err.Error(), "--force") {
		t.Errorf("error does not mention --force: %v", err)
	}
	assertClean(t, err.Error(), dir)
	if after := snapshot(t, dir); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatal("a refused Generate changed the key directory")
	}

	// A loose mode on an old key does not survive --force: the new file is
	// created 0600, not written into the old one.
	if err := os.Chmod(filepath.Join(dir, ReleaseKeyFile), 0o644); err != nil {
		t.Fatal(err)
	}
	old = syscall.Umask(0)
	second, err := Generate(dir, []byte(testPassword), true)
	syscall.Umask(old)
	if err != nil {
		t.Fatalf("Generate --force: %v", err)
	}
	checkModes(t, dir)
	if second.Release.Fingerprint == first.Release.Fingerprint || second.PGP.Fingerprint == first.PGP.Fingerprint ||
		second.APK.Fingerprint == first.APK.Fingerprint {
		t.Fatal("Generate --force did not make new keys")
	}
	if _, err := LoadReleaseSigner(second.Release.Private, []byte(testPassword)); err != nil {
		t.Fatalf("new release key: %v", err)
	}
}

func TestGenerateRefusesWhenAnyKeyFileExists(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, APKPubFile), []byte("someone else's key\n"))
	_, err := Generate(dir, []byte(testPassword), false)
	if !errors.Is(err, ErrKeyExists) || !strings.Contains(err.Error(), filepath.Join(dir, APKPubFile)) {
		t.Fatalf("Generate: %v, want ErrKeyExists naming %s", err, APKPubFile)
	}
	if got := listDir(t, dir); len(got) != 1 {
		t.Fatalf("a refused Generate left %v", got)
	}
}

// TestGenerateRemovesWhatItWroteOnFailure makes the fourth key file fail to
// land and checks that none of the first three, nor any temporary file,
// stays behind.
func TestGenerateRemovesWhatItWroteOnFailure(t *testing.T) {
	dir := t.TempDir()
	fail := &failingLink{at: 4}
	keyFS = fail
	defer func() { keyFS = atomicfile.OS{} }()
	_, err := Generate(dir, []byte(testPassword), false)
	if err == nil || !strings.Contains(err.Error(), "no space left") {
		t.Fatalf("Generate: %v, want the injected failure", err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("failed Generate left %v", got)
	}
	// A key directory the call made goes too.
	fail.n = 0
	fresh := filepath.Join(dir, "keys")
	if _, err := Generate(fresh, []byte(testPassword), false); err == nil {
		t.Fatal("Generate: no injected failure")
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("failed Generate left its key directory: %v", err)
	}
}

func TestGenerateNeedsAPassword(t *testing.T) {
	dir := t.TempDir()
	if _, err := Generate(dir, nil, false); !errors.Is(err, ErrNoPassword) {
		t.Fatalf("Generate without password: %v", err)
	}
	if got := listDir(t, dir); len(got) != 0 {
		t.Fatalf("Generate without password left %v", got)
	}
}

// loaders calls each private-key loader on its file in dir.
func loaders(dir string, password []byte) map[string]func() error {
	return map[string]func() error{
		ReleaseKeyFile: func() error { _, err := LoadReleaseSigner(filepath.Join(dir, ReleaseKeyFile), password); return err },
		PGPKeyFile:     func() error { _, err := LoadPGPEntity(filepath.Join(dir, PGPKeyFile), password); return err },
		APKKeyFile:     func() error { _, err := LoadAPKKey(filepath.Join(dir, APKKeyFile), password); return err },
	}
}

// copyKeys copies the fixture keys, modes included, into a fresh directory
// a test may change.
func copyKeys(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, name := range allKeyFiles() {
		data, err := os.ReadFile(key(name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, mode(t, key(name))); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadRefusesKeysOthersCanRead(t *testing.T) {
	dir := copyKeys(t)
	for name, load := range loaders(dir, []byte(testPassword)) {
		path := filepath.Join(dir, name)
		if err := load(); err != nil {
			t.Fatalf("%s at 0600: %v", name, err)
		}
		for _, m := range []os.FileMode{0o640, 0o604, 0o660, 0o644, 0o601} {
			if err := os.Chmod(path, m); err != nil {
				t.Fatal(err)
			}
			err := load()
			if !errors.Is(err, ErrInsecureMode) {
				t.Fatalf("%s at %04o: %v, want ErrInsecureMode", name, m, err)
			}
			msg := err.Error()
			for _, want := range []string{path, fmt.Sprintf("%04o", m), "chmod 600 " + path} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s at %04o: message %q lacks %q", name, m, msg, want)
				}
			}
			assertClean(t, msg)
		}
		if err := os.Chmod(path, 0o400); err != nil {
			t.Fatal(err)
		}
		if err := load(); err != nil {
			t.Errorf("%s at 0400: %v", name, err)
		}
	}
}

func TestLoadWrongPassword(t *testing.T) {
	for _, pw := range []string{"wrong password", "", testPassword + " "} {
		for name, load := range loaders(keysDir, []byte(pw)) {
			err := load()
			if !errors.Is(err, ErrWrongPassword) {
				t.Fatalf("%s with password %q: %v, want ErrWrongPassword", name, pw, err)
			}
			if want := "wrong password for " + key(name); !strings.Contains(err.Error(), want) {
				t.Errorf("%s: message %q lacks %q", name, err, want)
			}
			assertClean(t, err.Error())
		}
	}
	for name, load := range loaders(keysDir, []byte(testPassword)) {
		if err := load(); err != nil {
			t.Errorf("%s with the right password: %v", name, err)
		}
	}
}

func TestLoadMissingOrDamagedKey(t *testing.T) {
	dir := t.TempDir()
	for name, load := range loaders(dir, []byte(testPassword)) {
		err := load()
		if err == nil || !strings.Contains(err.Error(), "omnipack keygen") || !strings.Contains(err.Error(), filepath.Join(dir, name)) {
			t.Errorf("missing %s: %v", name, err)
		}
	}
	// Each private key file cut in half, and each replaced by a public key.
	for _, name := range privateFiles {
		data, err := os.ReadFile(key(name))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(data), "\n")
		end := ""
		for _, l := range lines {
			if strings.HasPrefix(l, "-----END") {
				end = l
			}
		}
		half := strings.Join(lines[:len(lines)/2], "\n") + "\n" + end + "\n"
		if err := os.WriteFile(filepath.Join(dir, name), []byte(half), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, load := range loaders(dir, []byte(testPassword)) {
		err := load()
		if err == nil {
			t.Fatalf("damaged %s loaded", name)
		}
		assertClean(t, err.Error(), keysDir)
		for _, l := range secretLines(t, dir) {
			if strings.Contains(err.Error(), l) {
				t.Fatalf("damaged %s: error quotes the file: %v", name, err)
			}
		}
	}
	pubs := map[string]string{ReleaseKeyFile: ReleasePubFile, PGPKeyFile: PGPPubFile, APKKeyFile: APKPubFile}
	for priv, pub := range pubs {
		data, _ := os.ReadFile(key(pub))
		if err := os.WriteFile(filepath.Join(dir, priv), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for name, load := range loaders(dir, []byte(testPassword)) {
		if err := load(); err == nil {
			t.Errorf("%s holding a public key loaded", name)
		}
	}
}

func releaseSigner(t *testing.T, dir string) (sig func([]byte) []byte, pubPath string) {
	t.Helper()
	s, err := LoadReleaseSigner(filepath.Join(dir, ReleaseKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	return func(data []byte) []byte {
		t.Helper()
		out, err := SignBlob(s, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return out
	}, filepath.Join(dir, ReleasePubFile)
}

func blob() []byte {
	var b bytes.Buffer
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&b, "line %d of a release artifact\n", i)
	}
	return b.Bytes()
}

func flipped(data []byte) []byte {
	out := bytes.Clone(data)
	out[len(out)/2] ^= 0x01
	return out
}

// TestSignBlobVerifiesWithOpenSSL is the shell installer's check: openssl
// with the pinned release.pub.
func TestSignBlobVerifiesWithOpenSSL(t *testing.T) {
	need(t, "openssl")
	sign, pubPath := releaseSigner(t, keysDir)
	otherSign, _ := releaseSigner(t, otherDir)
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	data := blob()
	file := writeFile(t, filepath.Join(tmp, "F"), data)
	sig := sign(data)

	verify := func(sigDER []byte, file string) (string, error) {
		sigPath := writeFile(t, filepath.Join(tmp, "sig.der"), sigDER)
		return tool(t, nil, "openssl", "dgst", "-sha256", "-verify", pubPath, "-signature", sigPath, file)
	}
	if out, err := verify(sig, file); err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("openssl rejects SignBlob output: %v\n%s", err, out)
	}
	if err := VerifyBlob(pub, bytes.NewReader(data), sig); err != nil {
		t.Fatalf("VerifyBlob: %v", err)
	}

	bad := writeFile(t, filepath.Join(tmp, "F.flipped"), flipped(data))
	if out, err := verify(sig, bad); err == nil {
		t.Fatalf("openssl accepts a flipped file:\n%s", out)
	}
	if err := VerifyBlob(pub, bytes.NewReader(flipped(data)), sig); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("VerifyBlob on a flipped file: %v", err)
	}

	other := otherSign(data)
	if out, err := verify(other, file); err == nil {
		t.Fatalf("openssl accepts another key's signature:\n%s", out)
	}
	if err := VerifyBlob(pub, bytes.NewReader(data), other); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("VerifyBlob with another key's signature: %v", err)
	}
}

// TestCosignSigFile checks FILE.sig is cosign's format, padded standard
// base64 with no newline, and that the installer's path (base64 -d, then
// openssl) accepts it.
func TestCosignSigFile(t *testing.T) {
	need(t, "openssl", "base64")
	sign, pubPath := releaseSigner(t, keysDir)
	tmp := t.TempDir()
	data := blob()
	file := writeFile(t, filepath.Join(tmp, "F"), data)
	sig := sign(data)
	sigPath := filepath.Join(tmp, "F.sig")
	if err := WriteCosignSig(sigPath, sig); err != nil {
		t.Fatal(err)
	}
	text, err := os.ReadFile(sigPath)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.StdEncoding.EncodeToString(sig); string(text) != want {
		t.Fatalf("F.sig = %q, want %q", text, want)
	}
	if m := mode(t, sigPath); m != 0o644 {
		t.Errorf("F.sig mode %04o, want 0644", m)
	}
	back, err := DecodeCosignSig(append(text, '\n'))
	if err != nil || !bytes.Equal(back, sig) {
		t.Fatalf("DecodeCosignSig: %v", err)
	}
	der := mustTool(t, nil, "sh", "-c", `base64 -d "$1" > "$1.der" && openssl dgst -sha256 -verify "$2" -signature "$1.der" "$3"`, "sh", sigPath, pubPath, file)
	if !strings.Contains(der, "Verified OK") {
		t.Fatalf("openssl on base64 -d F.sig: %s", der)
	}
}

func TestBundle(t *testing.T) {
	need(t, "openssl")
	sign, pubPath := releaseSigner(t, keysDir)
	_, otherPubPath := releaseSigner(t, otherDir)
	pub, err := LoadPublicKey(pubPath)
	if err != nil {
		t.Fatal(err)
	}
	otherPub, err := LoadPublicKey(otherPubPath)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	data := blob()
	file := writeFile(t, filepath.Join(tmp, "F"), data)
	sig := sign(data)
	b, err := Bundle(pub, bytes.NewReader(data), sig)
	if err != nil {
		t.Fatal(err)
	}

	// Exactly the fields of FORMATS.md, in that order.
	want := `{"mediaType":"application/vnd.dev.sigstore.bundle.v0.3+json",` +
		`"verificationMaterial":{"publicKey":{"hint":"HINT"}},` +
		`"messageSignature":{"messageDigest":{"algorithm":"SHA2_256","digest":"DIGEST"},"signature":"SIG"}}`
	derPath := filepath.Join(tmp, "pub.der")
	mustTool(t, nil, "openssl", "pkey", "-pubin", "-in", pubPath, "-outform", "DER", "-out", derPath)
	pubDER, _ := os.ReadFile(derPath)
	hint := sha256.Sum256(pubDER)
	digestB64 := strings.TrimSpace(mustTool(t, nil, "sh", "-c", `openssl dgst -sha256 -binary "$1" | base64`, "sh", file))
	want = strings.NewReplacer("HINT", base64.StdEncoding.EncodeToString(hint[:]), "DIGEST", digestB64,
		"SIG", base64.StdEncoding.EncodeToString(sig)).Replace(want)
	if string(b) != want {
		t.Fatalf("bundle\n%s\nwant\n%s", b, want)
	}

	if err := VerifyBundle(pub, bytes.NewReader(data), b); err != nil {
		t.Fatalf("VerifyBundle: %v", err)
	}
	if err := VerifyBundle(pub, bytes.NewReader(flipped(data)), b); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("VerifyBundle on a flipped file: %v", err)
	}
	if err := VerifyBundle(otherPub, bytes.NewReader(data), b); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("VerifyBundle with another key: %v", err)
	}
	// A digest rewritten to match a swapped file still fails: the signature
	// covers the original.
	other := []byte("another file\n")
	od := sha256.Sum256(other)
	swapped := strings.Replace(string(b), digestB64, base64.StdEncoding.EncodeToString(od[:]), 1)
	if err := VerifyBundle(pub, bytes.NewReader(other), []byte(swapped)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("VerifyBundle with a rewritten digest: %v", err)
	}
	wrongType := strings.Replace(string(b), "v0.3", "v0.1", 1)
	if _, err := ParseBundle([]byte(wrongType)); err == nil {
		t.Fatal("ParseBundle accepts a v0.1 media type")
	}
	// A bundle is never made for a signature that does not verify.
	otherSign, _ := releaseSigner(t, otherDir)
	if _, err := Bundle(pub, bytes.NewReader(data), otherSign(data)); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("Bundle with another key's signature: %v", err)
	}
}

// dearmor turns pgp.pub.asc into the binary keyring gpgv wants.
func dearmor(t *testing.T, pubAsc string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "keyring.gpg")
	mustTool(t, []string{"GNUPGHOME=" + t.TempDir()}, "gpg", "--batch", "--dearmor", "--output", out, pubAsc)
	return out
}

func TestDetachSignVerifiesWithGpgv(t *testing.T) {
	need(t, "gpg", "gpgv")
	e, err := LoadPGPEntity(key(PGPKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	other, err := LoadPGPEntity(filepath.Join(otherDir, PGPKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	pubAsc, err := os.ReadFile(key(PGPPubFile))
	if err != nil {
		t.Fatal(err)
	}
	keyring := dearmor(t, key(PGPPubFile))
	tmp := t.TempDir()
	data := blob()
	file := writeFile(t, filepath.Join(tmp, "F"), data)
	bad := writeFile(t, filepath.Join(tmp, "F.flipped"), flipped(data))
	gpgv := func(sig []byte, file string) (string, error) {
		return tool(t, nil, "gpgv", "--keyring", keyring, writeFile(t, filepath.Join(tmp, "F.sig"), sig), file)
	}
	for _, armored := range []bool{false, true} {
		sig, err := DetachSign(e, bytes.NewReader(data), armored)
		if err != nil {
			t.Fatal(err)
		}
		if got := bytes.HasPrefix(sig, []byte("-----BEGIN PGP SIGNATURE-----")); got != armored {
			t.Fatalf("armored=%v but signature starts %q", armored, firstLine(sig))
		}
		if out, err := gpgv(sig, file); err != nil || !strings.Contains(out, "Good signature") {
			t.Fatalf("gpgv rejects DetachSign(armored=%v): %v\n%s", armored, err, out)
		}
		if out, err := gpgv(sig, bad); err == nil {
			t.Fatalf("gpgv accepts a flipped file (armored=%v):\n%s", armored, out)
		}
		if err := VerifyDetached(pubAsc, bytes.NewReader(data), sig); err != nil {
			t.Fatalf("VerifyDetached(armored=%v): %v", armored, err)
		}
		if err := VerifyDetached(pubAsc, bytes.NewReader(flipped(data)), sig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("VerifyDetached on a flipped file: %v", err)
		}
		otherSig, err := DetachSign(other, bytes.NewReader(data), armored)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := gpgv(otherSig, file); err == nil {
			t.Fatalf("gpgv accepts another key's signature:\n%s", out)
		}
		if err := VerifyDetached(pubAsc, bytes.NewReader(data), otherSig); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("VerifyDetached with another key: %v", err)
		}
	}

	// SHA-256 (digest algo 8), not SHA-1, which apt, rpm and pacman refuse.
	sig, _ := DetachSign(e, bytes.NewReader(data), false)
	out := mustTool(t, []string{"GNUPGHOME=" + t.TempDir()}, "gpg", "--batch", "--list-packets", writeFile(t, filepath.Join(tmp, "S"), sig))
	if !strings.Contains(out, "digest algo 8,") {
		t.Fatalf("signature is not SHA-256:\n%s", out)
	}
}

// TestAPKKeyWorksWithOpenSSL proves the apk key signs apk's way (RSA
// PKCS#1 v1.5 over SHA-1) and that apk.rsa is a standard encrypted PKCS#8
// file openssl itself can open with the password.
func TestAPKKeyWorksWithOpenSSL(t *testing.T) {
	need(t, "openssl")
	k, err := LoadAPKKey(key(APKKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	data := blob()
	file := writeFile(t, filepath.Join(tmp, "control.tar.gz"), data)
	digest := sha1Sum(data)
	sig, err := APKSignFn(k)(bytes.NewReader(digest))
	if err != nil {
		t.Fatal(err)
	}
	sigPath := writeFile(t, filepath.Join(tmp, "sig"), sig)
	out, err := tool(t, nil, "openssl", "dgst", "-sha1", "-verify", key(APKPubFile), "-signature", sigPath, file)
	if err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("openssl rejects the apk signature: %v\n%s", err, out)
	}
	bad := writeFile(t, filepath.Join(tmp, "flipped"), flipped(data))
	if out, err := tool(t, nil, "openssl", "dgst", "-sha1", "-verify", key(APKPubFile), "-signature", sigPath, bad); err == nil {
		t.Fatalf("openssl accepts a flipped file:\n%s", out)
	}
	if _, err := APKSignFn(k)(bytes.NewReader(data)); err == nil {
		t.Fatal("APKSignFn signs something that is not a SHA-1 digest")
	}

	env := []string{"OMNIPACK_TEST_PW=" + testPassword}
	if out, err := tool(t, env, "openssl", "pkey", "-in", key(APKKeyFile), "-passin", "env:OMNIPACK_TEST_PW", "-noout"); err != nil {
		t.Fatalf("openssl cannot open apk.rsa with the password: %v\n%s", err, out)
	}
	env = []string{"OMNIPACK_TEST_PW=wrong"}
	if _, err := tool(t, env, "openssl", "pkey", "-in", key(APKKeyFile), "-passin", "env:OMNIPACK_TEST_PW", "-noout"); err == nil {
		t.Fatal("openssl opens apk.rsa with a wrong password")
	}
}

func TestAPKKeyName(t *testing.T) {
	pub, err := LoadPublicKey(key(APKPubFile))
	if err != nil {
		t.Fatal(err)
	}
	k, err := LoadAPKKey(key(APKKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := Fingerprint(pub)
	for owner, want := range map[string]string{
		"Acme Corp":          "acme-corp-" + fp[:8],
		"crashwatch":         "crashwatch-" + fp[:8],
		"  ÄÖ Systems, Inc.": "systems-inc-" + fp[:8],
		"":                   "omnipack-" + fp[:8],
		"---":                "omnipack-" + fp[:8],
	} {
		got, err := APKKeyName(owner, &k.PublicKey)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("APKKeyName(%q) = %q, want %q", owner, got, want)
		}
	}
}

func TestDSSE(t *testing.T) {
	need(t, "openssl")
	s, err := LoadReleaseSigner(key(ReleaseKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := s.PublicKey()
	other, _ := LoadPublicKey(filepath.Join(otherDir, ReleasePubFile))
	payload := []byte(`{"a":1}`)
	env, err := SignDSSE(s, InTotoPayloadType, payload)
	if err != nil {
		t.Fatal(err)
	}
	prefix := `{"payloadType":"application/vnd.in-toto+json","payload":"eyJhIjoxfQ==","signatures":[{"keyid":"","sig":"`
	if !bytes.HasPrefix(env, []byte(prefix)) || !bytes.HasSuffix(env, []byte(`"}]}`)) {
		t.Fatalf("envelope\n%s\nwant\n%s<b64>\"}]}", env, prefix)
	}
	sigB64 := strings.TrimSuffix(strings.TrimPrefix(string(env), prefix), `"}]}`)
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil {
		t.Fatalf("sig is not standard base64: %v", err)
	}

	got, err := VerifyDSSE(pub, env)
	if err != nil || !bytes.Equal(got, payload) {
		t.Fatalf("VerifyDSSE = %q, %v", got, err)
	}

	// The signature covers the pre-authentication encoding, computed here
	// by hand: "DSSEv1", len(type)=28, type, len(body)=7, body.
	pae := "DSSEv1 28 application/vnd.in-toto+json 7 {\"a\":1}"
	tmp := t.TempDir()
	out, err := tool(t, nil, "openssl", "dgst", "-sha256", "-verify", key(ReleasePubFile),
		"-signature", writeFile(t, filepath.Join(tmp, "sig"), sig), writeFile(t, filepath.Join(tmp, "pae"), []byte(pae)))
	if err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("openssl: DSSE signature is not over the hand-computed PAE: %v\n%s", err, out)
	}

	tampered := map[string]string{
		"payload":     strings.Replace(string(env), "eyJhIjoxfQ==", base64.StdEncoding.EncodeToString([]byte(`{"a":2}`)), 1),
		"payloadType": strings.Replace(string(env), "in-toto+json", "in-toto+jsom", 1),
	}
	for what, e := range tampered {
		if _, err := VerifyDSSE(pub, []byte(e)); !errors.Is(err, ErrBadSignature) {
			t.Errorf("VerifyDSSE with tampered %s: %v", what, err)
		}
	}
	if _, err := VerifyDSSE(other, env); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifyDSSE with another key: %v", err)
	}
}

func sha1Sum(data []byte) []byte {
	sum := sha1.Sum(data)
	return sum[:]
}

// failingLink fails the at-th link with "no space left on device".
type failingLink struct {
	atomicfile.OS
	n, at int
}

func (f *failingLink) Link(oldname, newname string) error {
	f.n++
	if f.n == f.at {
		return errors.New("no space left on device")
	}
	return os.Link(oldname, newname)
}
