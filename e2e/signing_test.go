package e2e

// The "independent tools accept every signature" tier: a signed release is
// checked with openssl, gpgv, rpmkeys, pacman and cosign, never with
// omnipack's own verifier, and every check must also fail once one byte of
// what it covers is flipped or the signature comes from another key.
// Manifest expiry and rollback are omnipack verify's to check (verify/);
// openssl cannot see them, which TestSignManifestOpenSSL records.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/sigstore/sigstore/pkg/cryptoutils"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// TestSignManifestOpenSSL: openssl verifies release.json.sig (base64 of a
// DER ECDSA signature) with keys/release.pub.
func TestSignManifestOpenSSL(t *testing.T) {
	t.Parallel()
	rel, other := signedReleases(t)
	x := newTools(t, "openssl")
	pub := rel.pub(signing.ReleasePubFile)
	doc := filepath.Join(rel.dir, manifest.FileName)
	der := cosignSigDER(t, filepath.Join(rel.dir, pipeline.SigFile))
	verify := func(sigDER []byte, file, key string) (string, error) {
		return x.run("openssl", "dgst", "-sha256", "-verify", key, "-signature", writeTemp(t, "sig.der", sigDER), file)
	}

	if out, err := verify(der, doc, pub); err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("openssl does not verify release.json (%v):\n%s", err, out)
	}
	t.Run("flipped release.json", func(t *testing.T) {
		x.fails("Verification failure", "openssl", "dgst", "-sha256", "-verify", pub,
			"-signature", writeTemp(t, "sig.der", der), flipped(t, doc, fileSize(t, doc)/2))
	})
	t.Run("flipped signature", func(t *testing.T) {
		x.fails("Verification failure", "openssl", "dgst", "-sha256", "-verify", pub,
			"-signature", writeTemp(t, "sig.der", flip(t, der, -1)), doc)
	})
	t.Run("other key's signature", func(t *testing.T) {
		data, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		otherDER, err := signing.SignBlob(other.keys.Release, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		x.fails("Verification failure", "openssl", "dgst", "-sha256", "-verify", pub,
			"-signature", writeTemp(t, "sig.der", otherDER), doc)
		// and the other release's own signature, against this key
		x.fails("Verification failure", "openssl", "dgst", "-sha256", "-verify", pub,
			"-signature", writeTemp(t, "sig.der", cosignSigDER(t, filepath.Join(other.dir, pipeline.SigFile))),
			filepath.Join(other.dir, manifest.FileName))
	})
	t.Run("expired manifest", func(t *testing.T) {
		// openssl checks the signature only: an expired manifest still
		// verifies. Refusing it is omnipack verify's job, tested there.
		dir := filepath.Join(t.TempDir(), "dist")
		if err := verifytest.CopyTree(rel.dir, dir); err != nil {
			t.Fatal(err)
		}
		m, err := manifest.Read(filepath.Join(dir, manifest.FileName))
		if err != nil {
			t.Fatal(err)
		}
		if err := pipeline.SignRelease(dir, m, rel.keys, m.ReleaseVersion, time.Now().AddDate(-1, 0, 0), 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		if !m.Expires.Before(time.Now()) {
			t.Fatalf("re-signed manifest expires %v, want the past", m.Expires)
		}
		out, err := verify(cosignSigDER(t, filepath.Join(dir, pipeline.SigFile)), filepath.Join(dir, manifest.FileName), pub)
		if err != nil || !strings.Contains(out, "Verified OK") {
			t.Errorf("openssl does not verify the expired manifest's signature (%v):\n%s", err, out)
		}
	})
}

// TestSignRpmKeys: rpmkeys, with the OpenPGP key imported into a private
// database, accepts the rpm's header signature.
func TestSignRpmKeys(t *testing.T) {
	t.Parallel()
	rel, other := signedReleases(t)
	x := newTools(t, "rpmkeys")
	db := t.TempDir() // --dbpath: the host's rpm database stays untouched
	x.ok("rpmkeys", "--dbpath", db, "--import", rel.pub(signing.PGPPubFile))
	fpr := rel.m.Keys.OpenPGP
	sigOK := "Header V4 RSA/SHA256 Signature, key ID " + strings.ToLower(fpr[len(fpr)-8:]) + ": OK"
	check := func(path string) (string, error) { return x.run("rpmkeys", "--dbpath", db, "-Kv", path) }

	rpmFile := rel.file(t, "rpm")
	if out, err := check(rpmFile); err != nil || !strings.Contains(out, sigOK) || strings.Contains(out, "NOT OK") {
		t.Fatalf("rpmkeys -Kv does not accept the signed rpm (%v), want %q:\n%s", err, sigOK, out)
	}
	t.Run("flipped", func(t *testing.T) {
		x.fails("BAD", "rpmkeys", "--dbpath", db, "-Kv", flipped(t, rpmFile, fileSize(t, rpmFile)/2))
	})
	t.Run("other key's rpm", func(t *testing.T) {
		x.fails("NOKEY", "rpmkeys", "--dbpath", db, "-Kv", other.file(t, "rpm"))
	})
	t.Run("unsigned rpm", func(t *testing.T) {
		// rpmkeys -K passes an rpm that carries no signature at all (only
		// digests), so a check must demand the signature line, as the
		// README's does.
		out, err := check(releaseV1.artifact(t, "rpm"))
		if strings.Contains(out, "Signature") {
			t.Fatalf("the unsigned rpm has a signature?\n%s", out)
		}
		t.Logf("rpmkeys -Kv on an unsigned rpm: exit error %v, no signature line:\n%s", err, out)
	})
}

// TestSignDebGpgv: gpgv accepts the deb's _gpgorigin over debian-binary +
// control.tar.gz + data.tar.gz, extracted with ar.
func TestSignDebGpgv(t *testing.T) {
	t.Parallel()
	rel, other := signedReleases(t)
	x := newTools(t, "ar", "gpgv", "gpg")
	ring := x.keyring(rel.pub(signing.PGPPubFile))
	// split extracts a deb and returns its _gpgorigin and the signed bytes.
	split := func(t *testing.T, deb string) (sig, signed string) {
		dir := t.TempDir()
		if out, err := x.runIn(dir, "ar", "x", deb); err != nil {
			t.Fatalf("ar x %s: %v\n%s", deb, err, out)
		}
		out, err := x.run("ar", "t", deb)
		if want := "debian-binary\ncontrol.tar.gz\ndata.tar.gz\n_gpgorigin\n"; err != nil || out != want {
			t.Fatalf("ar t %s = %q (%v), want %q", deb, out, err, want)
		}
		var content []byte
		for _, m := range []string{"debian-binary", "control.tar.gz", "data.tar.gz"} {
			b, err := os.ReadFile(filepath.Join(dir, m))
			if err != nil {
				t.Fatal(err)
			}
			content = append(content, b...)
		}
		return filepath.Join(dir, "_gpgorigin"), writeTemp(t, "deb-content", content)
	}

	deb := rel.file(t, "deb")
	sig, signed := split(t, deb)
	out := x.ok("gpgv", "--keyring", ring, "--status-fd", "1", sig, signed)
	requireValidSig(t, out, rel.m.Keys.OpenPGP)
	t.Run("flipped", func(t *testing.T) {
		sig, signed := split(t, flipped(t, deb, fileSize(t, deb)/2))
		x.fails("BAD signature", "gpgv", "--keyring", ring, sig, signed)
	})
	t.Run("flipped signature", func(t *testing.T) {
		x.fails("", "gpgv", "--keyring", ring, writeTemp(t, "_gpgorigin", flipArmored(t, sig)), signed)
	})
	t.Run("other key's deb", func(t *testing.T) {
		sig, signed := split(t, other.file(t, "deb"))
		x.fails("No public key", "gpgv", "--keyring", ring, sig, signed)
	})
}

// TestSignArchGpgv: gpgv accepts the Arch package's detached .sig.
func TestSignArchGpgv(t *testing.T) {
	t.Parallel()
	rel, other := signedReleases(t)
	x := newTools(t, "gpgv", "gpg")
	ring := x.keyring(rel.pub(signing.PGPPubFile))
	pkg, sig := rel.file(t, "archlinux"), rel.file(t, "signature")
	if sig != pkg+".sig" {
		t.Fatalf("the Arch signature is %s, want %s.sig beside the package", sig, pkg)
	}

	requireValidSig(t, x.ok("gpgv", "--keyring", ring, "--status-fd", "1", sig, pkg), rel.m.Keys.OpenPGP)
	t.Run("flipped package", func(t *testing.T) {
		x.fails("BAD signature", "gpgv", "--keyring", ring, sig, flipped(t, pkg, fileSize(t, pkg)/2))
	})
	t.Run("flipped signature", func(t *testing.T) {
		x.fails("BAD signature", "gpgv", "--keyring", ring, flipped(t, sig, -10), pkg)
	})
	t.Run("other key's signature", func(t *testing.T) {
		x.fails("No public key", "gpgv", "--keyring", ring, writeTemp(t, "pkg.sig", otherArchSig(t, other, pkg)), pkg)
	})
}

// TestSignArchPacman: pacman with SigLevel = Required installs the Arch
// package into a directory root when its key is trusted, and refuses it
// without its .sig, with another key's .sig, or tampered.
func TestSignArchPacman(t *testing.T) {
	t.Parallel()
	rel, other := signedReleases(t)
	x := newTools(t, "pacman", "pacman-key", "gpgconf")
	// The other release's key is in the keyring too, but not signed by the
	// keyring's master key, so untrusted. Were it missing, pacman would
	// try to fetch it from a keyserver.
	gpgdir := x.pacmanKeyring(rel.m.Keys.OpenPGP, rel.pub(signing.PGPPubFile), other.pub(signing.PGPPubFile))
	pkg := rel.file(t, "archlinux")
	pkgData, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	sigData, err := os.ReadFile(pkg + ".sig")
	if err != nil {
		t.Fatal(err)
	}
	// stage puts a package and, unless sig is nil, its .sig into a new dir.
	stage := func(t *testing.T, pkgData, sig []byte) string {
		p := writeTemp(t, filepath.Base(pkg), pkgData)
		if sig != nil {
			if err := os.WriteFile(p+".sig", sig, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}

	root, out, err := x.pacmanInstall(gpgdir, stage(t, pkgData, sigData))
	if err != nil {
		t.Fatalf("pacman -U refuses the signed package: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/bin", agent)); err != nil {
		t.Errorf("pacman installed no /usr/bin/%s: %v\n%s", agent, err, out)
	}
	for _, c := range []struct {
		name      string
		pkg, sig  []byte
		wantError string
	}{
		{"signature removed", pkgData, nil, "missing required signature"},
		{"other key's signature", pkgData, otherArchSig(t, other, pkg), "invalid or corrupted package (PGP signature)"},
		{"flipped package", flip(t, pkgData, int64(len(pkgData)/2)), sigData, "invalid or corrupted package"},
		{"flipped signature", pkgData, flip(t, sigData, -10), "invalid or corrupted package (PGP signature)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			root, out, err := x.pacmanInstall(gpgdir, stage(t, c.pkg, c.sig))
			if err == nil {
				t.Fatalf("pacman -U installed it:\n%s", out)
			}
			if !strings.Contains(out, c.wantError) {
				t.Errorf("pacman -U failed (%v) without saying %q:\n%s", err, c.wantError, out)
			}
			if _, err := os.Stat(filepath.Join(root, "usr/bin", agent)); err == nil {
				t.Errorf("pacman refused, but /usr/bin/%s is in the root", agent)
			}
		})
	}
}

// TestSignApkOpenSSL: openssl verifies the apk's RSA-SHA1 signature over
// its control stream with keys/<keyname>.rsa.pub, and sha256sum the data
// stream against the signed .PKGINFO's datahash.
func TestSignApkOpenSSL(t *testing.T) {
	t.Parallel()
	rel, other := signedReleases(t)
	x := newTools(t, "openssl", "sha256sum")
	keyName := rel.m.Keys.APKKeyName
	if keyName != rel.keys.APKKeyName {
		t.Fatalf("release.json names apk key %q, the build signed with %q", keyName, rel.keys.APKKeyName)
	}
	pub := rel.apkPub()
	// parts splits an apk and returns its raw signature.
	parts := func(t *testing.T, path string) (apkParts, []byte) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p := splitAPK(t, data)
		entries := tarEntries(t, p.sig)
		if len(entries) != 1 {
			t.Fatalf("apk signature stream holds %d entries, want 1", len(entries))
		}
		for name, sig := range entries {
			if !strings.HasPrefix(name, ".SIGN.RSA.") || !strings.HasSuffix(name, ".rsa.pub") {
				t.Fatalf("apk signature entry is %q", name)
			}
			return p, sig
		}
		return p, nil
	}
	verify := func(t *testing.T, sig, control []byte) (string, error) {
		return x.run("openssl", "dgst", "-sha1", "-verify", pub,
			"-signature", writeTemp(t, "apk.sig", sig), writeTemp(t, "control.tar.gz", control))
	}

	apk := rel.file(t, "apk")
	p, sig := parts(t, apk)
	if name := ".SIGN.RSA." + keyName + ".rsa.pub"; tarEntries(t, p.sig)[name] == nil {
		t.Fatalf("apk signature stream lacks %s", name)
	}
	if out, err := verify(t, sig, p.control); err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("openssl does not verify the apk signature (%v):\n%s", err, out)
	}
	t.Run("flipped control", func(t *testing.T) {
		data, _ := os.ReadFile(apk)
		bad := flip(t, data, p.controlOff+int64(len(p.control))/2)
		out, err := verify(t, sig, bad[p.controlOff:p.dataOff])
		if err == nil || !strings.Contains(out, "Verification failure") {
			t.Errorf("openssl accepts a flipped control stream (%v):\n%s", err, out)
		}
	})
	t.Run("flipped signature", func(t *testing.T) {
		out, err := verify(t, flip(t, sig, -1), p.control)
		if err == nil || !strings.Contains(out, "Verification failure") {
			t.Errorf("openssl accepts a flipped signature (%v):\n%s", err, out)
		}
	})
	t.Run("other key's apk", func(t *testing.T) {
		op, osig := parts(t, other.file(t, "apk"))
		out, err := verify(t, osig, op.control)
		if err == nil || !strings.Contains(out, "Verification failure") {
			t.Errorf("openssl accepts another key's apk signature (%v):\n%s", err, out)
		}
	})

	// The signature covers the control stream only; its .PKGINFO pins the
	// data stream by sha256.
	var datahash string
	for _, line := range strings.Split(string(tarEntries(t, p.control)[".PKGINFO"]), "\n") {
		if v, ok := strings.CutPrefix(line, "datahash = "); ok {
			datahash = v
		}
	}
	if datahash == "" {
		t.Fatal(".PKGINFO has no datahash")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "data.tar.gz"), p.data, 0o644); err != nil {
		t.Fatal(err)
	}
	sums := writeTemp(t, "datahash", []byte(datahash+"  data.tar.gz\n"))
	if out, err := x.runIn(dir, "sha256sum", "-c", sums); err != nil {
		t.Fatalf("the data stream does not match the signed datahash (%v):\n%s", err, out)
	}
	t.Run("flipped data", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(dir, "data.tar.gz"), flip(t, p.data, int64(len(p.data)/2)), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := x.runIn(dir, "sha256sum", "-c", sums)
		if err == nil || !strings.Contains(out, "FAILED") {
			t.Errorf("sha256sum accepts a flipped data stream (%v):\n%s", err, out)
		}
	})
}

// TestCosignCompat: a real cosign accepts the manifest's signature and
// bundle, and the provenance for every artifact, with keys/release.pub.
func TestCosignCompat(t *testing.T) {
	t.Parallel()
	rel, other := signedReleases(t)
	cosign := cosignBinary(t)
	x := newTools(t)
	pub := rel.pub(signing.ReleasePubFile)
	doc := filepath.Join(rel.dir, manifest.FileName)
	sig := filepath.Join(rel.dir, pipeline.SigFile)
	bundle := filepath.Join(rel.dir, pipeline.BundleFile)
	prov := filepath.Join(rel.dir, "provenance.intoto.jsonl")
	blob := func(key, flag, sigOrBundle, file string) []string {
		return []string{"verify-blob", "--key", key, flag, sigOrBundle, "--insecure-ignore-tlog=true", file}
	}
	attest := func(key, envelope, file string) []string {
		return []string{"verify-blob-attestation", "--key", key, "--signature", envelope,
			"--type", "slsaprovenance1", "--insecure-ignore-tlog=true", file}
	}

	const badSig, noSubject, noGoodSig = "invalid signature", "no matching subject digest", "accepted signatures do not match threshold"
	otherPub := other.pub(signing.ReleasePubFile)
	t.Run("verify-blob signature", func(t *testing.T) {
		x.ok(cosign, blob(pub, "--signature", sig, doc)...)
		x.fails(badSig, cosign, blob(pub, "--signature", sig, flipped(t, doc, fileSize(t, doc)/2))...)
		x.fails(badSig, cosign, blob(otherPub, "--signature", sig, doc)...)
	})
	t.Run("verify-blob bundle", func(t *testing.T) {
		x.ok(cosign, blob(pub, "--bundle", bundle, doc)...)
		x.fails(badSig, cosign, blob(pub, "--bundle", bundle, flipped(t, doc, fileSize(t, doc)/2))...)
		x.fails(badSig, cosign, blob(otherPub, "--bundle", bundle, doc)...)
	})
	t.Run("verify-blob-attestation", func(t *testing.T) {
		n := 0
		for _, a := range rel.m.Artifacts {
			if a.Format == "provenance" {
				continue
			}
			x.ok(cosign, attest(pub, prov, filepath.Join(rel.dir, a.Name))...)
			n++
		}
		if n < 5 {
			t.Fatalf("only %d artifacts besides the provenance", n)
		}
		for _, format := range []string{"deb", "rpm", "apk", "archlinux", "signature"} {
			f := rel.file(t, format)
			x.fails(noSubject, cosign, attest(pub, prov, flipped(t, f, fileSize(t, f)/2))...)
		}
		deb := rel.file(t, "deb")
		x.fails(noGoodSig, cosign, attest(pub, writeTemp(t, "provenance.intoto.jsonl", tamperedPayload(t, prov)), deb)...)
		x.fails(noGoodSig, cosign, attest(otherPub, prov, deb)...)
		// the Arch package is reproducible, so the other release's
		// provenance names it too: only its key is wrong.
		x.fails(noGoodSig, cosign, attest(pub, filepath.Join(other.dir, "provenance.intoto.jsonl"), rel.file(t, "archlinux"))...)
	})
}

// tamperedPayload returns the DSSE envelope at path with one base64
// character in the middle of its payload changed to another, so the
// envelope still parses and only the signature can catch it.
func tamperedPayload(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	const key = `"payload":"`
	i := bytes.Index(data, []byte(key))
	if i < 0 {
		t.Fatalf("%s has no payload", path)
	}
	i += len(key)
	n := bytes.IndexByte(data[i:], '"')
	out := bytes.Clone(data)
	p := i + n/2
	if out[p] == 'A' {
		out[p] = 'B'
	} else {
		out[p] = 'A'
	}
	return out
}

// hygienePassword protects the keys TestKeysHygiene makes; it must not
// appear anywhere in a release or in omnipack's output.
const hygienePassword = "hygiene-Pw-5b0e7c2d91f4"

// TestKeysHygiene builds a signed release with the omnipack command and
// requires that no private key material nor the password reaches dist/ or
// the output, that keygen refuses to overwrite keys, and that a wrong
// password is a clean input error.
func TestKeysHygiene(t *testing.T) {
	t.Parallel()
	bin := omnipackCLI(t)
	work := t.TempDir()
	var output bytes.Buffer // everything omnipack printed, stdout and stderr
	omnipack := func(t *testing.T, password string, args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Env = append(toolEnv(t), signing.PasswordEnv+"="+password)
		cmd.Dir = work
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		output.Write(out.Bytes())
		var exit *exec.ExitError
		switch {
		case err == nil:
			return out.String(), 0
		case errors.As(err, &exit):
			return out.String(), exit.ExitCode()
		}
		t.Fatalf("omnipack %s: %v", strings.Join(args, " "), err)
		return "", 0
	}

	keyDir := filepath.Join(work, "keys")
	if out, code := omnipack(t, hygienePassword, "keygen", "--dir", keyDir); code != 0 {
		t.Fatalf("keygen: exit %d\n%s", code, out)
	}
	keysBefore := snapshot(t, keyDir)
	for _, name := range []string{signing.ReleaseKeyFile, signing.PGPKeyFile, signing.APKKeyFile} {
		if mode := keysBefore[name].mode; mode != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", name, mode)
		}
	}

	t.Run("keygen refuses to overwrite", func(t *testing.T) {
		out, code := omnipack(t, "another-password", "keygen", "--dir", keyDir)
		if code != 2 || !strings.Contains(out, "--force") {
			t.Errorf("keygen over existing keys: exit %d, want 2 and a hint at --force:\n%s", code, out)
		}
		if after := snapshot(t, keyDir); !sameFiles(keysBefore, after) {
			t.Errorf("keygen without --force changed the keys")
		}
	})

	cfgPath, err := prepareExample(filepath.Join(work, "src"))
	if err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(work, "dist")
	if out, code := omnipack(t, hygienePassword, "--config", cfgPath, "build", "--keys", keyDir, "--dist", dist); code != 0 {
		t.Fatalf("build --keys: exit %d\n%s", code, out)
	}

	t.Run("wrong password", func(t *testing.T) {
		wrongDist := filepath.Join(work, "dist-wrong")
		out, code := omnipack(t, "not-the-password", "--config", cfgPath, "build", "--keys", keyDir, "--dist", wrongDist)
		if code != 2 {
			t.Errorf("build with a wrong password: exit %d, want 2:\n%s", code, out)
		}
		if !strings.Contains(out, "wrong password") {
			t.Errorf("build with a wrong password does not say so:\n%s", out)
		}
		for _, bad := range []string{"panic", "goroutine"} {
			if strings.Contains(out, bad) {
				t.Errorf("build with a wrong password prints %q:\n%s", bad, out)
			}
		}
		if _, err := os.Stat(wrongDist); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("build with a wrong password left %s (%v)", wrongDist, err)
		}
	})

	// Material common to every generated key (format boilerplate) is not
	// secret: a second key set, generated the same way, tells it apart.
	otherDir := filepath.Join(work, "other-keys")
	if out, code := omnipack(t, hygienePassword, "keygen", "--dir", otherDir); code != 0 {
		t.Fatalf("keygen: exit %d\n%s", code, out)
	}
	secrets := keySecrets(t, keyDir, otherDir, hygienePassword)
	// The detector itself must see a private key dumped unencrypted.
	apk, err := signing.LoadAPKKey(filepath.Join(keyDir, signing.APKKeyFile), []byte(hygienePassword))
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(apk)
	if err != nil {
		t.Fatal(err)
	}
	if len(secrets.find(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))) == 0 {
		t.Fatal("the key material detector misses an unencrypted dump of apk.rsa")
	}

	t.Run("no key material in dist", func(t *testing.T) {
		n := 0
		err := filepath.WalkDir(dist, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			n++
			switch d.Name() {
			case signing.ReleaseKeyFile, signing.PGPKeyFile, signing.APKKeyFile:
				t.Errorf("dist holds a private key file: %s", p)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for _, s := range secrets.find(data) {
				t.Errorf("%s contains %s", p, s)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 15 {
			t.Fatalf("walked only %d files in %s", n, dist)
		}
		// The published OpenPGP key is public only.
		f, err := os.Open(filepath.Join(dist, pipeline.KeysDir, signing.PGPPubFile))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		el, err := openpgp.ReadArmoredKeyRing(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range el {
			if e.PrivateKey != nil {
				t.Errorf("dist/keys/%s holds a secret key", signing.PGPPubFile)
			}
		}
	})
	t.Run("no key material in the output", func(t *testing.T) {
		if output.Len() == 0 {
			t.Fatal("captured no output")
		}
		for _, s := range secrets.find(output.Bytes()) {
			t.Errorf("omnipack's output contains %s", s)
		}
	})
}

// TestReadmeVerifyYourself runs the README's "Verify a release yourself"
// blocks verbatim with sh -e inside a copy of a signed release: they must
// pass, and fail once a byte of a package (or of release.json) is flipped.
func TestReadmeVerifyYourself(t *testing.T) {
	t.Parallel()
	rel, _ := signedReleases(t)
	script := readmeVerifyScript(t)
	checkReadmeTools(t, script)
	newTools(t, "sh", "openssl", "gpgv", "gpg", "gpgconf", "rpmkeys", "pacman", "pacman-key",
		"ar", "gzip", "tar", "grep", "sed", "base64", "sha256sum")
	scriptPath := writeTemp(t, "verify-yourself.sh", []byte(script))

	// run copies the release, lets tamper change the copy, and runs the
	// blocks in it.
	run := func(t *testing.T, tamper func(t *testing.T, dir string)) (string, error) {
		dir := filepath.Join(t.TempDir(), "release")
		if err := verifytest.CopyTree(rel.dir, dir); err != nil {
			t.Fatal(err)
		}
		if tamper != nil {
			tamper(t, dir)
		}
		x := newTools(t)
		tmp := envValue(x.env, "TMPDIR") // the blocks' mktemp -d lands here
		t.Cleanup(func() {
			// a failed run leaves pacman-key's gpg-agent running
			gpgdirs, _ := filepath.Glob(filepath.Join(tmp, "*", "pacman-gnupg"))
			for _, g := range gpgdirs {
				exec.Command("gpgconf", "--homedir", g, "--kill", "all").Run()
			}
		})
		return x.runIn(dir, "sh", "-e", scriptPath)
	}

	t.Run("signed release", func(t *testing.T) {
		out, err := run(t, nil)
		if err != nil {
			t.Fatalf("the README's commands fail on a signed release: %v\n%s", err, out)
		}
		for _, want := range []string{
			rel.m.Keys.Release + "  -", // step 1 prints the release key's fingerprint
			"Good signature",
			"Header V4 RSA/SHA256 Signature",
			"installing " + agent,
		} {
			if !strings.Contains(out, want) {
				t.Errorf("the README's commands did not print %q:\n%s", want, out)
			}
		}
		if n := strings.Count(out, "Verified OK"); n != 2 {
			t.Errorf("openssl said Verified OK %d times, want 2 (release.json, apk):\n%s", n, out)
		}
	})

	flipIn := func(format string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			p := filepath.Join(dir, filepath.Base(rel.file(t, format)))
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, flip(t, data, int64(len(data)/2)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		name   string
		tamper func(t *testing.T, dir string)
		want   string
	}{
		{"flipped deb", flipIn("deb"), "FAILED"},
		{"flipped rpm", flipIn("rpm"), "FAILED"},
		{"flipped apk", flipIn("apk"), "FAILED"},
		{"flipped Arch package", flipIn("archlinux"), "FAILED"},
		{"flipped Arch signature", flipIn("signature"), "FAILED"},
		// SHA256SUMS is not signed: an attacker rewrites it to match.
		{"flipped deb, SHA256SUMS rewritten", func(t *testing.T, dir string) {
			flipIn("deb")(t, dir)
			rewriteSums(t, dir)
		}, "not the file release.json lists"},
		{"flipped release.json", func(t *testing.T, dir string) {
			p := filepath.Join(dir, manifest.FileName)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(p, flip(t, data, int64(len(data)/2)), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "Verification failure"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, err := run(t, c.tamper)
			if err == nil {
				t.Fatalf("the README's commands pass on a tampered release:\n%s", out)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("the README's commands failed (%v) without saying %q:\n%s", err, c.want, out)
			}
		})
	}
}

// readmeVerifyScript returns the ```sh blocks between the verify-yourself
// markers of README.md, joined in order.
func readmeVerifyScript(t *testing.T) string {
	t.Helper()
	blocks := readmeShBlocks(t, "verify-yourself")
	if len(blocks) < 5 {
		t.Fatalf("the README's verify-yourself section has %d sh blocks", len(blocks))
	}
	return strings.Join(blocks, "\n")
}

// readmeShBlocks returns the ```sh blocks of README.md between the
// markers <!-- NAME:begin --> and <!-- NAME:end -->, in order: the
// commands the README tells users to paste, which tests run verbatim.
func readmeShBlocks(t *testing.T, name string) []string {
	t.Helper()
	data, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	begin, end := "<!-- "+name+":begin -->", "<!-- "+name+":end -->"
	_, rest, ok := strings.Cut(string(data), begin)
	section, _, ok2 := strings.Cut(rest, end)
	if !ok || !ok2 {
		t.Fatalf("README.md lacks the %s … %s markers", begin, end)
	}
	var blocks []string
	for _, m := range regexp.MustCompile("(?ms)^```sh\n(.*?)^```").FindAllStringSubmatch(section, -1) {
		blocks = append(blocks, m[1])
	}
	return blocks
}

// checkReadmeTools holds the README to its promise: the checks use
// openssl, gpgv, rpmkeys and pacman (with coreutils and friends), gpg only
// to dearmor a key, and nothing of omnipack's or cosign's.
func checkReadmeTools(t *testing.T, script string) {
	t.Helper()
	forbidden := regexp.MustCompile(`(^|[\s|;&(])(omnipack|cosign|jq|python3?|perl|curl|wget|sq|sqv)\b`)
	gpg := regexp.MustCompile(`(^|[\s|;&(])gpg\s`)
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if m := forbidden.FindString(line); m != "" {
			t.Errorf("README command uses %q: %s", strings.TrimSpace(m), line)
		}
		if gpg.MatchString(line) && !strings.Contains(line, "gpg --dearmor") {
			t.Errorf("README uses gpg for more than dearmoring: %s", line)
		}
	}
	for _, tool := range []string{"openssl dgst", "gpgv ", "rpmkeys ", "pacman -U", "sha256sum -c", "base64 -d"} {
		if !strings.Contains(script, tool) {
			t.Errorf("README's verify-yourself commands lack %q", tool)
		}
	}
}

// rewriteSums rewrites dir/SHA256SUMS to match the files as they are now.
func rewriteSums(t *testing.T, dir string) {
	t.Helper()
	p := filepath.Join(dir, manifest.SumsFileName)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		_, name, ok := strings.Cut(line, "  ")
		if !ok {
			t.Fatalf("SHA256SUMS line %q", line)
		}
		body, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		fmt.Fprintf(&out, "%x  %s\n", sum, name)
	}
	if err := os.WriteFile(p, []byte(out.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cosignSigDER decodes a cosign .sig (padded base64) to DER.
func cosignSigDER(t *testing.T, path string) []byte {
	t.Helper()
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(text)))
	if err != nil {
		t.Fatalf("%s is not base64: %v", path, err)
	}
	return der
}

// otherArchSig signs the Arch package with the other release's OpenPGP key.
func otherArchSig(t *testing.T, other *signedRelease, pkg string) []byte {
	t.Helper()
	f, err := os.Open(pkg)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sig, err := signing.DetachSign(other.keys.PGP, f, false)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// requireValidSig checks gpgv's --status-fd output for a good signature by
// the primary key fpr.
func requireValidSig(t *testing.T, status, fpr string) {
	t.Helper()
	if !regexp.MustCompile(`(?m)^\[GNUPG:\] VALIDSIG .* ` + fpr + `$`).MatchString(status) {
		t.Errorf("gpgv reports no good signature by %s:\n%s", fpr, status)
	}
}

// flipArmored changes one base64 character in the middle of an armored
// signature's body to another base64 character.
func flipArmored(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	for i, l := range lines {
		if len(l) >= 32 && regexp.MustCompile(`^[A-Za-z0-9+/]+$`).MatchString(l) {
			b := []byte(l)
			if b[16] == 'A' {
				b[16] = 'B'
			} else {
				b[16] = 'A'
			}
			lines[i] = string(b)
			return []byte(strings.Join(lines, "\n"))
		}
	}
	t.Fatalf("%s has no armored body line", path)
	return nil
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

type fileState struct {
	data []byte
	mode fs.FileMode
}

func snapshot(t *testing.T, dir string) map[string]fileState {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]fileState{}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = fileState{data, info.Mode().Perm()}
	}
	return files
}

func sameFiles(a, b map[string]fileState) bool {
	if len(a) != len(b) {
		return false
	}
	for name, fa := range a {
		fb, ok := b[name]
		if !ok || fa.mode != fb.mode || !bytes.Equal(fa.data, fb.data) {
			return false
		}
	}
	return true
}

// secret is one piece of private key material, named without showing it.
type secret struct {
	what string
	b    []byte
}

type secretSet []secret

// find names every secret data contains.
func (s secretSet) find(data []byte) []string {
	var found []string
	for _, x := range s {
		if bytes.Contains(data, x.b) {
			found = append(found, x.what)
		}
	}
	return found
}

// keySecrets collects the private key material of keyDir: each base64 body
// line of release.key, pgp.key and apk.rsa and each 32-byte run of what
// they decode to; the decrypted private keys' secret numbers (raw, hex,
// base64) and unencrypted PKCS#8 PEM lines; and the password. Anything that
// is also in keyDir's public keys or in otherDir's private keys is format
// boilerplate, not secret, and is dropped.
func keySecrets(t *testing.T, keyDir, otherDir, password string) secretSet {
	t.Helper()
	privates := []string{signing.ReleaseKeyFile, signing.PGPKeyFile, signing.APKKeyFile}
	read := func(dir, name string) []byte {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	var public [][]byte
	for _, name := range []string{signing.ReleasePubFile, signing.PGPPubFile, signing.APKPubFile} {
		data := read(keyDir, name)
		public = append(public, data, decodeKeyFile(t, name, data))
	}
	for _, name := range privates {
		data := read(otherDir, name)
		public = append(public, data, decodeKeyFile(t, name, data))
	}
	isPublic := func(b []byte) bool {
		for _, p := range public {
			if bytes.Contains(p, b) {
				return true
			}
		}
		return false
	}

	var set secretSet
	add := func(what string, b []byte) {
		if len(b) >= 16 && !isPublic(b) {
			set = append(set, secret{what, b})
		}
	}
	base64Line := regexp.MustCompile(`^[A-Za-z0-9+/=]+$`)
	for _, name := range privates {
		data := read(keyDir, name)
		before := len(set)
		for i, line := range strings.Split(string(data), "\n") {
			if line = strings.TrimSpace(line); base64Line.MatchString(line) {
				add(fmt.Sprintf("%s line %d", name, i+1), []byte(line))
			}
		}
		dec := decodeKeyFile(t, name, data)
		for off := 0; off+32 <= len(dec); off += 32 {
			add(fmt.Sprintf("%s decoded bytes %d-%d", name, off, off+32), dec[off:off+32])
		}
		if len(set)-before < 10 {
			t.Fatalf("only %d pieces of %s are secret; the check would be vacuous", len(set)-before, name)
		}
		// The detector must find each piece in the key file itself.
		for _, s := range set[before:] {
			if !bytes.Contains(data, s.b) && !bytes.Contains(dec, s.b) {
				t.Fatalf("%s is not in %s", s.what, name)
			}
		}
	}

	number := func(what string, b []byte) {
		add(what+" (raw)", b)
		add(what+" (hex)", []byte(hex.EncodeToString(b)))
		add(what+" (HEX)", []byte(strings.ToUpper(hex.EncodeToString(b))))
		add(what+" (base64)", []byte(base64.StdEncoding.EncodeToString(b)))
	}
	pkcs8 := func(what string, key any) {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		for i, line := range strings.Split(string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), "\n") {
			if base64Line.MatchString(line) {
				add(fmt.Sprintf("%s as unencrypted PKCS#8, line %d", what, i+1), []byte(line))
			}
		}
	}
	rsaKey := func(what string, k *rsa.PrivateKey) {
		number(what+" private exponent", k.D.Bytes())
		for i, p := range k.Primes {
			number(fmt.Sprintf("%s prime %d", what, i+1), p.Bytes())
		}
		pkcs8(what, k)
	}

	priv, err := cryptoutils.UnmarshalPEMToPrivateKey(read(keyDir, signing.ReleaseKeyFile), cryptoutils.StaticPasswordFunc([]byte(password)))
	if err != nil {
		t.Fatal(err)
	}
	ec, ok := priv.(*ecdsa.PrivateKey)
	if !ok {
		t.Fatalf("release.key holds a %T", priv)
	}
	number("release key scalar", ec.D.FillBytes(make([]byte, 32)))
	pkcs8("release key", ec)

	entity, err := signing.LoadPGPEntity(filepath.Join(keyDir, signing.PGPKeyFile), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	pgpKeys := 0
	if k, ok := entity.PrivateKey.PrivateKey.(*rsa.PrivateKey); ok {
		rsaKey("OpenPGP key", k)
		pgpKeys++
	}
	for i, sub := range entity.Subkeys {
		if sub.PrivateKey == nil {
			continue
		}
		if k, ok := sub.PrivateKey.PrivateKey.(*rsa.PrivateKey); ok {
			rsaKey(fmt.Sprintf("OpenPGP subkey %d", i+1), k)
			pgpKeys++
		}
	}
	if pgpKeys == 0 {
		t.Fatalf("pgp.key holds no RSA secret key")
	}
	apk, err := signing.LoadAPKKey(filepath.Join(keyDir, signing.APKKeyFile), []byte(password))
	if err != nil {
		t.Fatal(err)
	}
	rsaKey("apk key", apk)

	set = append(set, secret{"the key password", []byte(password)})
	return set
}

// decodeKeyFile returns the bytes a PEM or OpenPGP-armored key file
// encodes.
func decodeKeyFile(t *testing.T, name string, data []byte) []byte {
	t.Helper()
	if strings.HasSuffix(name, ".asc") || name == signing.PGPKeyFile {
		blk, err := armor.Decode(bytes.NewReader(data))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var buf bytes.Buffer
		if _, err := buf.ReadFrom(blk.Body); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return buf.Bytes()
	}
	blk, _ := pem.Decode(data)
	if blk == nil {
		t.Fatalf("%s is not PEM", name)
	}
	return blk.Bytes
}
