package verify_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/packaging/rpm"
	"github.com/omnipack/omnipack/provenance"
	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// keys signs the fixture release, the example project built by omnipack's
// own build; other is a second, unrelated key set, and otherFixture the
// same project built and signed with it. All are made once: RSA key
// generation is slow.
var (
	keys, other           *verifytest.KeySet
	fixture, otherFixture string
	signedAt              time.Time
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	root, err := os.MkdirTemp("", "omnipack-verifytest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(root)
	if keys, err = verifytest.NewKeySet(filepath.Join(root, "keys"), "omnipack"); err == nil {
		other, err = verifytest.NewKeySet(filepath.Join(root, "other"), "omnipack")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "test keys:", err)
		return 1
	}
	signedAt = time.Now()
	example := filepath.Join("..", verifytest.Example)
	fixture, otherFixture = filepath.Join(root, "dist"), filepath.Join(root, "other-dist")
	if _, err = verifytest.BuildExample(context.Background(), example, fixture, keys, signedAt); err == nil {
		_, err = verifytest.BuildExample(context.Background(), example, otherFixture, other, signedAt)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "build the example release:", err)
		return 1
	}
	return m.Run()
}

// release is a private copy of the fixture release.
func release(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dist")
	if err := verifytest.Copy(fixture, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func pinned() verify.Options { return verify.Options{PublicKey: keys.ReleasePub()} }

func check(t *testing.T, src string, opts verify.Options) verify.Report {
	t.Helper()
	rep, err := verify.Release(context.Background(), src, opts)
	if err != nil {
		t.Fatalf("verify %s: %v", src, err)
	}
	return rep
}

func dump(rep verify.Report) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		fmt.Fprintf(&b, "  %v %s %s: %s\n", c.OK, c.Name, c.File, c.Detail)
	}
	return b.String()
}

func wantOK(t *testing.T, rep verify.Report) {
	t.Helper()
	if !rep.OK || rep.FirstFailure() != nil {
		t.Fatalf("verify failed:\n%s", dump(rep))
	}
}

// wantFail checks that the first failure is the named check on the named
// file, and that its detail holds every fragment.
func wantFail(t *testing.T, rep verify.Report, name, file string, fragments ...string) *verify.Check {
	t.Helper()
	f := rep.FirstFailure()
	if rep.OK || f == nil {
		t.Fatalf("verify passed, want %s %s to fail:\n%s", name, file, dump(rep))
	}
	if f.Name != name || f.File != file {
		t.Fatalf("first failure is %s %s (%s), want %s %s:\n%s", f.Name, f.File, f.Detail, name, file, dump(rep))
	}
	for _, s := range fragments {
		if !strings.Contains(f.Detail, s) {
			t.Errorf("%s %s: detail %q does not mention %q", name, file, f.Detail, s)
		}
	}
	return f
}

func artifacts(t *testing.T, dir string) []manifest.Artifact {
	t.Helper()
	rel, err := manifest.Read(filepath.Join(dir, manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	return rel.Artifacts
}

// byFormat returns the first artifact of a format.
func byFormat(t *testing.T, dir, format string) manifest.Artifact {
	t.Helper()
	for _, a := range artifacts(t, dir) {
		if a.Format == format {
			return a
		}
	}
	t.Fatalf("no %s artifact", format)
	return manifest.Artifact{}
}

// flip changes one bit of the byte at off (the middle when off < 0).
func flip(t *testing.T, path string, off int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if off < 0 {
		off = int64(len(data) / 2)
	}
	data[off] ^= 0x01
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func refresh(t *testing.T, dir string, names ...string) {
	t.Helper()
	if err := verifytest.Refresh(dir, keys, time.Now(), names...); err != nil {
		t.Fatal(err)
	}
}

func count(rep verify.Report) map[string]int {
	n := map[string]int{}
	for _, c := range rep.Checks {
		n[c.Name]++
	}
	return n
}

func TestGoodRelease(t *testing.T) {
	dir := release(t)
	rep := check(t, dir, pinned())
	wantOK(t, rep)
	if rep.Warning != "" || rep.Key.FromRelease {
		t.Errorf("a pinned key gives warning %q, from release %v", rep.Warning, rep.Key.FromRelease)
	}
	pub, _ := signing.LoadPublicKey(keys.ReleasePub())
	fp, _ := signing.Fingerprint(pub)
	rel, _ := manifest.Read(filepath.Join(dir, manifest.FileName))
	if rep.Key.SHA256 != fp || rep.Name != rel.Name || rep.Version != rel.Version || rep.ReleaseVersion != rel.ReleaseVersion {
		t.Errorf("report key %+v name %q version %q release version %d", rep.Key, rep.Name, rep.Version, rep.ReleaseVersion)
	}
	arts := artifacts(t, dir)
	formats := map[string]int{}
	for _, a := range arts {
		formats[a.Format]++
	}
	// Every artifact type of the layout is in the example's release.
	for _, f := range []string{"deb", "rpm", "apk", "archlinux", "tarball", "signature", "spdx", "cyclonedx", "provenance", "oci", "kubernetes", "quadlet", "podman"} {
		if formats[f] == 0 {
			t.Fatalf("the example release has no %s artifact", f)
		}
	}
	packages := formats["deb"] + formats["rpm"] + formats["apk"] + formats["archlinux"] + formats["tarball"]
	want := map[string]int{
		verify.CheckManifestSig: 3, // .sig, bundle, .asc
		verify.CheckExpiry:      1,
		verify.CheckArtifact:    len(arts) + 1, // and SHA256SUMS
		verify.CheckKey:         3,
		// Every package but the tarball, which has no signature format.
		verify.CheckPackageSig: packages - formats["tarball"],
		verify.CheckSBOM:       2 * packages,
		verify.CheckProvenance: 1,
		verify.CheckImage:      formats["oci"],
	}
	if got := count(rep); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("checks per kind %v, want %v", got, want)
	}
	// The order the brief fixes.
	order := []string{verify.CheckManifestSig, verify.CheckExpiry, verify.CheckArtifact, verify.CheckKey,
		verify.CheckManifestSig, verify.CheckPackageSig, verify.CheckSBOM, verify.CheckProvenance, verify.CheckImage}
	i := 0
	for _, c := range rep.Checks {
		for i < len(order) && c.Name != order[i] {
			i++
		}
		if i == len(order) {
			t.Fatalf("check %s %s is out of order:\n%s", c.Name, c.File, dump(rep))
		}
	}

	// Without --key: the same result, marked as integrity only.
	rep = check(t, dir, verify.Options{})
	wantOK(t, rep)
	if rep.Warning != verify.FromReleaseWarning || !rep.Key.FromRelease || rep.Key.Path != verify.ReleasePub {
		t.Errorf("release's own key: warning %q, key %+v", rep.Warning, rep.Key)
	}
}

// TestFlipEveryFile changes one byte of every file of the release. The
// digest check catches every artifact; the manifest's signatures catch
// release.json.
func TestFlipEveryFile(t *testing.T) {
	type want struct {
		check, file string
		detail      []string
	}
	cases := map[string]want{
		manifest.FileName:                      {verify.CheckManifestSig, manifest.FileName, []string{verify.SigFile}},
		verify.SigFile:                         {verify.CheckManifestSig, manifest.FileName, []string{verify.SigFile}},
		verify.BundleFile:                      {verify.CheckManifestSig, manifest.FileName, []string{verify.BundleFile}},
		verify.PGPSigFile:                      {verify.CheckManifestSig, verify.PGPSigFile, nil},
		manifest.SumsFileName:                  {verify.CheckArtifact, manifest.SumsFileName, nil},
		verify.PGPPub:                          {verify.CheckKey, verify.PGPPub, nil},
		"keys/" + keys.APKKeyName + ".rsa.pub": {verify.CheckKey, "keys/" + keys.APKKeyName + ".rsa.pub", nil},
	}
	formats := map[string]bool{}
	for _, a := range artifacts(t, fixture) {
		cases[a.Name] = want{verify.CheckArtifact, a.Name, []string{"sha256", a.SHA256}}
		formats[a.Format] = true
	}
	// Every artifact type of the layout is covered.
	for _, f := range []string{"deb", "rpm", "apk", "archlinux", "tarball", "signature", "spdx", "cyclonedx", "provenance", "oci", "kubernetes", "quadlet", "podman"} {
		if !formats[f] {
			t.Fatalf("the fixture has no %s artifact", f)
		}
	}
	for name, w := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := release(t)
			flip(t, filepath.Join(dir, name), -1)
			rep := check(t, dir, pinned())
			wantFail(t, rep, w.check, w.file, w.detail...)
			if w.check == verify.CheckManifestSig && w.file == manifest.FileName {
				// Nothing is checked against a manifest whose signature failed.
				for _, c := range rep.Checks {
					if c.Name != verify.CheckManifestSig {
						t.Fatalf("checks ran after a failed manifest signature:\n%s", dump(rep))
					}
				}
			}
		})
	}
}

// TestTamperedBehindDigest changes a file and records its new digest in a
// re-signed manifest, as a publisher's compromised build step or a thief
// of the release key alone could. Only the checks behind the digest can
// catch it, and the first to fail must be the right one.
func TestTamperedBehindDigest(t *testing.T) {
	pkgs := map[string]manifest.Artifact{}
	for _, a := range artifacts(t, fixture) {
		pkgs[a.Format] = a
	}
	arch := pkgs["archlinux"].Name
	cases := []struct {
		name    string
		file    string // the file changed
		off     func(t *testing.T, path string) int64
		check   string
		report  string // the file the failure names
		details []string
	}{
		{"deb", pkgs["deb"].Name, nil, verify.CheckPackageSig, pkgs["deb"].Name, []string{"_gpgorigin"}},
		{"deb control.tar.gz", pkgs["deb"].Name, debControlMTime, verify.CheckPackageSig, pkgs["deb"].Name, []string{"_gpgorigin"}},
		{"rpm payload", pkgs["rpm"].Name, rpmPayload, verify.CheckPackageSig, pkgs["rpm"].Name, []string{"RPMSIGTAG_PGP"}},
		{"rpm header", pkgs["rpm"].Name, rpmHeaderData, verify.CheckPackageSig, pkgs["rpm"].Name, []string{"RPMSIGTAG_RSA"}},
		{"apk control", pkgs["apk"].Name, apkStreamMTime(1), verify.CheckPackageSig, pkgs["apk"].Name, []string{"control stream"}},
		{"apk data", pkgs["apk"].Name, apkStreamMTime(2), verify.CheckPackageSig, pkgs["apk"].Name, []string{"datahash"}},
		{"archlinux", arch, nil, verify.CheckPackageSig, arch + ".sig", []string{arch}},
		{"archlinux sig", arch + ".sig", nil, verify.CheckPackageSig, arch + ".sig", nil},
		{"provenance", provenance.FileName, nil, verify.CheckProvenance, provenance.FileName, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dir := release(t)
			p := filepath.Join(dir, c.file)
			off := int64(-1)
			if c.off != nil {
				off = c.off(t, p)
			}
			flip(t, p, off)
			refresh(t, dir, c.file)
			wantFail(t, check(t, dir, pinned()), c.check, c.report, c.details...)
		})
	}
}

// debControlMTime is the offset of the MTIME field of control.tar.gz's
// gzip header: changing it leaves the archive readable.
func debControlMTime(t *testing.T, path string) int64 {
	data, _ := os.ReadFile(path)
	i := bytes.Index(data, []byte("control.tar.gz"))
	if i < 0 {
		t.Fatal("no control.tar.gz member")
	}
	return int64(i + 60 + 4)
}

// rpmHeaderData is an offset near the end of the main header's data.
func rpmHeaderData(t *testing.T, path string) int64 {
	off, n, err := rpm.HeaderSpan(path)
	if err != nil {
		t.Fatal(err)
	}
	return off + n - 20
}

// rpmPayload is an offset inside the compressed payload.
func rpmPayload(t *testing.T, path string) int64 {
	off, n, err := rpm.HeaderSpan(path)
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	start := off + n
	return start + (st.Size()-start)/2
}

// apkStreamMTime gives the offset of the MTIME field of the apk's nth gzip
// stream (0 signature, 1 control, 2 data).
func apkStreamMTime(n int) func(*testing.T, string) int64 {
	return func(t *testing.T, path string) int64 {
		data, _ := os.ReadFile(path)
		r := bytes.NewReader(data)
		for i := 0; ; i++ {
			start := int64(len(data) - r.Len())
			if i == n {
				return start + 4
			}
			zr, err := gzip.NewReader(r)
			if err != nil {
				t.Fatal(err)
			}
			zr.Multistream(false)
			if _, err := io.Copy(io.Discard, zr); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestSBOMTampered changes what an SBOM says, keeping it valid JSON.
func TestSBOMTampered(t *testing.T) {
	for _, format := range []string{"spdx", "cyclonedx"} {
		t.Run(format, func(t *testing.T) {
			dir := release(t)
			doc := byFormat(t, dir, format)
			pkgName := strings.TrimSuffix(strings.TrimSuffix(doc.Name, ".spdx.json"), ".cdx.json")
			var pkg manifest.Artifact
			for _, a := range artifacts(t, dir) {
				if a.Name == pkgName {
					pkg = a
				}
			}
			files, err := formats.Files(filepath.Join(dir, pkgName), pkg.Format)
			if err != nil {
				t.Fatal(err)
			}
			docData, _ := os.ReadFile(filepath.Join(dir, doc.Name))
			var binSum string
			for _, f := range files {
				if f.Mode.IsRegular() && binSum == "" && bytes.Contains(docData, []byte(f.SHA256)) {
					binSum = f.SHA256
				}
			}
			fake := strings.Repeat("ab", 32)
			for what, old := range map[string]string{"a file's sha256": binSum, "the package's sha256": pkg.SHA256} {
				t.Run(what, func(t *testing.T) {
					dir := release(t)
					p := filepath.Join(dir, doc.Name)
					data, _ := os.ReadFile(p)
					if !bytes.Contains(data, []byte(old)) {
						t.Fatalf("%s does not hold %s", doc.Name, old)
					}
					if err := os.WriteFile(p, bytes.ReplaceAll(data, []byte(old), []byte(fake)), 0o644); err != nil {
						t.Fatal(err)
					}
					refresh(t, dir, doc.Name)
					wantFail(t, check(t, dir, pinned()), verify.CheckSBOM, doc.Name, fake)
				})
			}
		})
	}
}

// TestForeignPackageSignatures puts in the packages of the same release
// built with other keys: the same files, valid signatures, the wrong
// signer.
func TestForeignPackageSignatures(t *testing.T) {
	for _, format := range []string{"deb", "rpm", "apk", "signature"} {
		t.Run(format, func(t *testing.T) {
			dir := release(t)
			name := byFormat(t, dir, format).Name
			data, err := os.ReadFile(filepath.Join(otherFixture, name))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				t.Fatal(err)
			}
			refresh(t, dir, name)
			detail := "OpenPGP"
			if format == "apk" {
				detail = "signed as .SIGN.RSA." + other.APKKeyName
			}
			wantFail(t, check(t, dir, pinned()), verify.CheckPackageSig, name, detail)
		})
	}
}

func TestWrongReleaseKey(t *testing.T) {
	otherSig := func(t *testing.T, dir string) (der []byte, data []byte) {
		data, err := os.ReadFile(filepath.Join(dir, manifest.FileName))
		if err != nil {
			t.Fatal(err)
		}
		der, err = signing.SignBlob(other.Release, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		return der, data
	}
	t.Run("release.json.sig", func(t *testing.T) {
		dir := release(t)
		der, _ := otherSig(t, dir)
		if err := signing.WriteCosignSig(filepath.Join(dir, verify.SigFile), der); err != nil {
			t.Fatal(err)
		}
		rep := check(t, dir, pinned())
		wantFail(t, rep, verify.CheckManifestSig, manifest.FileName, verify.SigFile, "bad signature")
		if n := len(rep.Checks); n != 2 {
			t.Errorf("%d checks after a bad manifest signature, want only the two signature lines:\n%s", n, dump(rep))
		}
	})
	t.Run("sigstore bundle", func(t *testing.T) {
		dir := release(t)
		der, data := otherSig(t, dir)
		pub, _ := other.Release.PublicKey()
		b, err := signing.Bundle(pub, bytes.NewReader(data), der)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, verify.BundleFile), b, 0o644)
		rep := check(t, dir, pinned())
		f := wantFail(t, rep, verify.CheckManifestSig, manifest.FileName, verify.BundleFile)
		if rep.Checks[0].OK != true || f != &rep.Checks[1] {
			t.Errorf("want the cosign line to pass and the bundle line to fail:\n%s", dump(rep))
		}
	})
	t.Run("whole release", func(t *testing.T) {
		// A complete, consistent release made with other keys: it passes
		// on its own key, with the warning, and fails on the pinned one.
		dir := filepath.Join(t.TempDir(), "dist")
		if err := verifytest.Copy(otherFixture, dir); err != nil {
			t.Fatal(err)
		}
		rep := check(t, dir, verify.Options{})
		wantOK(t, rep)
		if rep.Warning == "" {
			t.Error("no warning for a key taken from the release")
		}
		wantFail(t, check(t, dir, pinned()), verify.CheckManifestSig, manifest.FileName, "bad signature")
	})
	t.Run("keys/release.pub swapped", func(t *testing.T) {
		dir := release(t)
		data, _ := os.ReadFile(other.ReleasePub())
		os.WriteFile(filepath.Join(dir, verify.ReleasePub), data, 0o644)
		// Pinned: the manifest is fine, but the release publishes a key
		// that is not its own.
		wantFail(t, check(t, dir, pinned()), verify.CheckKey, verify.ReleasePub, "is not the key the release names")
		// Unpinned: that key is what is checked with, and fails.
		wantFail(t, check(t, dir, verify.Options{}), verify.CheckManifestSig, manifest.FileName, "bad signature")
	})
}

func TestExpiry(t *testing.T) {
	t.Run("now after expiry", func(t *testing.T) {
		dir := release(t)
		rel, _ := manifest.Read(filepath.Join(dir, manifest.FileName))
		opts := pinned()
		opts.Now = func() time.Time { return rel.Expires.Add(time.Hour) }
		rep := check(t, dir, opts)
		wantFail(t, rep, verify.CheckExpiry, manifest.FileName, "expired at "+rel.Expires.UTC().Format(time.RFC3339))
		onlyFailure(t, rep)
	})
	t.Run("signed with a past expiry", func(t *testing.T) {
		dir := release(t)
		past := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
		if err := verifytest.Resign(dir, keys, time.Now().Add(-48*time.Hour), func(r *manifest.Release) { r.Expires = &past }); err != nil {
			t.Fatal(err)
		}
		rep := check(t, dir, pinned())
		wantFail(t, rep, verify.CheckExpiry, manifest.FileName, "expired at "+past.Format(time.RFC3339))
		onlyFailure(t, rep)
	})
	t.Run("no expiry", func(t *testing.T) {
		dir := release(t)
		if err := verifytest.Resign(dir, keys, time.Now(), func(r *manifest.Release) { r.Expires = nil }); err != nil {
			t.Fatal(err)
		}
		rep := check(t, dir, pinned())
		wantFail(t, rep, verify.CheckExpiry, manifest.FileName, "no expiry")
		onlyFailure(t, rep)
	})
}

// onlyFailure checks that exactly one check failed.
func onlyFailure(t *testing.T, rep verify.Report) {
	t.Helper()
	n := 0
	for _, c := range rep.Checks {
		if !c.OK {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d checks failed, want 1:\n%s", n, dump(rep))
	}
}

// TestRefusedNames signs manifests whose artifact names leave the release
// directory or shadow its own files. A copy of the real file sits where a
// careless verifier would read it, so that reading it would pass.
func TestRefusedNames(t *testing.T) {
	deb := byFormat(t, fixture, "deb")
	for _, bad := range []string{"../" + deb.Name, "sub/" + deb.Name, "..", `..\` + deb.Name, manifest.FileName, "keys", ""} {
		t.Run(bad, func(t *testing.T) {
			t.Parallel()
			dir := release(t)
			data, _ := os.ReadFile(filepath.Join(dir, deb.Name))
			os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
			os.WriteFile(filepath.Join(dir, "..", deb.Name), data, 0o644)
			os.WriteFile(filepath.Join(dir, "sub", deb.Name), data, 0o644)
			err := verifytest.Resign(dir, keys, time.Now(), func(r *manifest.Release) {
				a := deb
				a.Name = bad
				r.Artifacts = append(r.Artifacts, a)
			})
			if err != nil {
				t.Fatal(err)
			}
			file := bad
			if bad == "" {
				file = "(no name)"
			}
			rep := check(t, dir, pinned())
			wantFail(t, rep, verify.CheckArtifact, file, "refused")
			// The name is not read, and nothing else fails but the
			// comparisons with lists that do not hold it.
			for _, c := range rep.Checks {
				switch {
				case c.OK:
				case c.Name == verify.CheckArtifact && c.File == file:
				case c.Name == verify.CheckProvenance && strings.Contains(c.Detail, "release.json lists "+bad+","):
				case c.File == manifest.SumsFileName && bad == "":
				default:
					t.Errorf("unexpected failure %s %s: %s", c.Name, c.File, c.Detail)
				}
			}
		})
	}
	t.Run("twice", func(t *testing.T) {
		dir := release(t)
		if err := verifytest.Resign(dir, keys, time.Now(), func(r *manifest.Release) {
			r.Artifacts = append(r.Artifacts, deb)
		}); err != nil {
			t.Fatal(err)
		}
		wantFail(t, check(t, dir, pinned()), verify.CheckArtifact, deb.Name, "twice")
	})
}

// TestKeyFiles swaps the published OpenPGP and apk keys: nothing may be
// verified with a key the signed manifest does not name.
func TestKeyFiles(t *testing.T) {
	apkFile := "keys/" + keys.APKKeyName + ".rsa.pub"
	t.Run("pgp.pub.asc", func(t *testing.T) {
		dir := release(t)
		data, _ := os.ReadFile(filepath.Join(other.Dir, signing.PGPPubFile))
		os.WriteFile(filepath.Join(dir, verify.PGPPub), data, 0o644)
		rep := check(t, dir, pinned())
		wantFail(t, rep, verify.CheckKey, verify.PGPPub, "keys/pgp.pub.asc is not the key the release names")
		for _, c := range rep.Checks {
			if c.File == verify.PGPSigFile || (c.Name == verify.CheckPackageSig && !strings.HasSuffix(c.File, ".apk")) {
				t.Errorf("%s %s was checked with a key the release does not name", c.Name, c.File)
			}
		}
	})
	t.Run("pgp.pub.asc with a second key", func(t *testing.T) {
		dir := release(t)
		a, _ := os.ReadFile(filepath.Join(keys.Dir, signing.PGPPubFile))
		b, _ := os.ReadFile(filepath.Join(other.Dir, signing.PGPPubFile))
		os.WriteFile(filepath.Join(dir, verify.PGPPub), append(a, b...), 0o644)
		wantFail(t, check(t, dir, pinned()), verify.CheckKey, verify.PGPPub, "holds 2 armored blocks")
		// The same as one binary keyring.
		os.WriteFile(filepath.Join(dir, verify.PGPPub), append(dearmor(t, a), dearmor(t, b)...), 0o644)
		wantFail(t, check(t, dir, pinned()), verify.CheckKey, verify.PGPPub, "holds 2 keys")
		// The release's own key alone, binary, is fine.
		os.WriteFile(filepath.Join(dir, verify.PGPPub), dearmor(t, a), 0o644)
		wantOK(t, check(t, dir, pinned()))
	})
	t.Run("apk key", func(t *testing.T) {
		dir := release(t)
		data, _ := os.ReadFile(filepath.Join(other.Dir, signing.APKPubFile))
		os.WriteFile(filepath.Join(dir, apkFile), data, 0o644)
		rep := check(t, dir, pinned())
		wantFail(t, rep, verify.CheckKey, apkFile, "is not the key the release names")
		for _, c := range rep.Checks {
			if c.Name == verify.CheckPackageSig && strings.HasSuffix(c.File, ".apk") {
				t.Errorf("the apk was checked with a key the release does not name")
			}
		}
	})
	t.Run("apk fingerprint in the manifest", func(t *testing.T) {
		// The name's 8-digit prefix still matches; only the full
		// fingerprint the signed manifest records tells the keys apart.
		dir := release(t)
		if err := verifytest.Resign(dir, keys, time.Now(), func(r *manifest.Release) {
			r.Keys.APK = strings.Repeat("0", 64)
		}); err != nil {
			t.Fatal(err)
		}
		wantFail(t, check(t, dir, pinned()), verify.CheckKey, apkFile, "release.json names "+strings.Repeat("0", 64))
	})
	t.Run("missing", func(t *testing.T) {
		dir := release(t)
		os.Remove(filepath.Join(dir, apkFile))
		wantFail(t, check(t, dir, pinned()), verify.CheckKey, apkFile, "missing")
	})
}

func dearmor(t *testing.T, data []byte) []byte {
	t.Helper()
	block, err := armor.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(block.Body)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestIncompleteRelease removes what the layout requires.
func TestIncompleteRelease(t *testing.T) {
	drop := func(t *testing.T, dir, name string) {
		t.Helper()
		os.Remove(filepath.Join(dir, name))
		if err := verifytest.Resign(dir, keys, time.Now(), func(r *manifest.Release) {
			var keep []manifest.Artifact
			for _, a := range r.Artifacts {
				if a.Name != name {
					keep = append(keep, a)
				}
			}
			r.Artifacts = keep
		}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("sbom", func(t *testing.T) {
		dir := release(t)
		doc := byFormat(t, dir, "cyclonedx")
		drop(t, dir, doc.Name)
		// The provenance still names it, so that fails too, but later.
		wantFail(t, check(t, dir, pinned()), verify.CheckSBOM, doc.Name, "lists no cyclonedx SBOM")
	})
	t.Run("arch signature", func(t *testing.T) {
		dir := release(t)
		sig := byFormat(t, dir, "signature")
		drop(t, dir, sig.Name)
		wantFail(t, check(t, dir, pinned()), verify.CheckPackageSig, sig.Name, "no detached signature")
	})
	t.Run("provenance", func(t *testing.T) {
		dir := release(t)
		drop(t, dir, provenance.FileName)
		wantFail(t, check(t, dir, pinned()), verify.CheckProvenance, provenance.FileName, "no provenance")
	})
	t.Run("file", func(t *testing.T) {
		dir := release(t)
		rpm := byFormat(t, dir, "rpm")
		os.Remove(filepath.Join(dir, rpm.Name))
		wantFail(t, check(t, dir, pinned()), verify.CheckArtifact, rpm.Name, "missing")
	})
	t.Run("release.json.sig", func(t *testing.T) {
		dir := release(t)
		os.Remove(filepath.Join(dir, verify.SigFile))
		wantFail(t, check(t, dir, pinned()), verify.CheckManifestSig, manifest.FileName, verify.SigFile, "missing")
	})
}

// TestProvenanceSubjects signs provenance whose subjects differ from the
// release.
func TestProvenanceSubjects(t *testing.T) {
	deb := byFormat(t, fixture, "deb")
	for what, edit := range map[string]func(*provenance.Statement){
		"missing subject": func(s *provenance.Statement) { s.Subject = s.Subject[1:] },
		"extra subject": func(s *provenance.Statement) {
			s.Subject = append(s.Subject, provenance.Subject{Name: "evil.deb", Digest: map[string]string{"sha256": deb.SHA256}})
		},
		"wrong digest": func(s *provenance.Statement) {
			for i := range s.Subject {
				if s.Subject[i].Name == deb.Name {
					s.Subject[i].Digest = map[string]string{"sha256": strings.Repeat("0", 64)}
				}
			}
		},
	} {
		t.Run(what, func(t *testing.T) {
			dir := release(t)
			rel, _ := manifest.Read(filepath.Join(dir, manifest.FileName))
			if err := verifytest.Provenance(dir, rel, keys, edit); err != nil {
				t.Fatal(err)
			}
			refresh(t, dir, provenance.FileName)
			rep := check(t, dir, pinned())
			wantFail(t, rep, verify.CheckProvenance, provenance.FileName, "subjects differ")
			onlyFailure(t, rep)
		})
	}
	t.Run("signed with another key", func(t *testing.T) {
		dir := release(t)
		rel, _ := manifest.Read(filepath.Join(dir, manifest.FileName))
		if err := verifytest.Provenance(dir, rel, other, nil); err != nil {
			t.Fatal(err)
		}
		refresh(t, dir, provenance.FileName)
		wantFail(t, check(t, dir, pinned()), verify.CheckProvenance, provenance.FileName, "does not verify with the release key")
	})
}

func TestInputErrors(t *testing.T) {
	dir := release(t)
	file := filepath.Join(dir, manifest.FileName)
	for name, c := range map[string]struct {
		src  string
		opts verify.Options
	}{
		"missing directory": {filepath.Join(dir, "nope"), pinned()},
		"a file":            {file, pinned()},
		"other scheme":      {"ftp://127.0.0.1/dist/", pinned()},
		"missing key":       {dir, verify.Options{PublicKey: filepath.Join(dir, "nope.pub")}},
		"private key":       {dir, verify.Options{PublicKey: filepath.Join(keys.Dir, signing.ReleaseKeyFile)}},
		"key not PEM":       {dir, verify.Options{PublicKey: file}},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := verify.Release(context.Background(), c.src, c.opts)
			var ie *verify.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("err = %v, want an InputError", err)
			}
			assertNoSecrets(t, err.Error())
		})
	}
}

// assertNoSecrets fails if text holds the key password or any line of
// either key set's private keys.
func assertNoSecrets(t *testing.T, text string) {
	t.Helper()
	if strings.Contains(text, verifytest.Password) {
		t.Fatalf("output holds the key password:\n%s", text)
	}
	for _, ks := range []*verifytest.KeySet{keys, other} {
		for _, name := range []string{signing.ReleaseKeyFile, signing.PGPKeyFile, signing.APKKeyFile} {
			data, err := os.ReadFile(filepath.Join(ks.Dir, name))
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range strings.Split(string(data), "\n") {
				if l = strings.TrimSpace(l); len(l) >= 16 && !strings.HasPrefix(l, "-----") && strings.Contains(text, l) {
					t.Fatalf("output holds private key material from %s", name)
				}
			}
		}
	}
}

// TestWeakDigest: a signature by the right key over SHA-1, which apt, rpm
// and pacman refuse, is refused too. The OpenPGP library will not make
// one, so gpg does.
func TestWeakDigest(t *testing.T) {
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatal("gpg is not installed; install it (Debian: apt-get install gnupg) to run this test")
	}
	dir := release(t)
	arch := byFormat(t, dir, "archlinux")
	sigPath := filepath.Join(dir, arch.Name+".sig")
	os.Remove(sigPath)
	home := t.TempDir()
	t.Cleanup(func() {
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		_ = cmd.Run()
	})
	gpg := func(args ...string) {
		t.Helper()
		cmd := exec.Command("gpg", append([]string{"--batch", "--pinentry-mode", "loopback", "--passphrase-fd", "0"}, args...)...)
		cmd.Env = append(os.Environ(), "GNUPGHOME="+home)
		cmd.Stdin = strings.NewReader(verifytest.Password)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gpg %v: %v\n%s", args, err, out)
		}
	}
	gpg("--import", filepath.Join(keys.Dir, signing.PGPKeyFile))
	gpg("--digest-algo", "SHA1", "--detach-sign", "-o", sigPath, filepath.Join(dir, arch.Name))
	refresh(t, dir, arch.Name+".sig")
	wantFail(t, check(t, dir, pinned()), verify.CheckPackageSig, arch.Name+".sig", "SHA-1")
}

// TestImageIndexNamed: release.json's image_index must be the index the
// layout holds: a manifest re-signed naming another digest fails the
// image check (and the provenance, whose image subject no longer matches).
func TestImageIndexNamed(t *testing.T) {
	img := byFormat(t, fixture, "oci")
	if img.ImageIndex == "" || img.ImageRepository == "" {
		t.Fatalf("release.json does not name the image: %+v", img)
	}
	dir := release(t)
	other := "sha256:" + strings.Repeat("0", 64)
	if err := verifytest.Resign(dir, keys, time.Now(), func(r *manifest.Release) {
		for i := range r.Artifacts {
			if r.Artifacts[i].Name == img.Name {
				r.Artifacts[i].ImageIndex = other
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	rep := check(t, dir, pinned())
	wantFail(t, rep, verify.CheckProvenance, "provenance.intoto.jsonl", "subjects differ", img.ImageRepository)
	failed := false
	for _, c := range rep.Checks {
		failed = failed || (c.Name == verify.CheckImage && c.File == img.Name && !c.OK && strings.Contains(c.Detail, "release.json names \""+other+"\""))
	}
	if !failed {
		t.Errorf("the image check passed a release.json naming another index:\n%s", dump(rep))
	}
}
