package signing

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/goreleaser/nfpm/v2"
	_ "github.com/goreleaser/nfpm/v2/apk"
	_ "github.com/goreleaser/nfpm/v2/deb"
	"github.com/goreleaser/nfpm/v2/files"
	_ "github.com/goreleaser/nfpm/v2/rpm"
)

// These tests pin down how these keys plug into nfpm, and check each
// package's signature with the tool its package manager trusts: gpgv for
// deb, rpmkeys for rpm, openssl for apk (apk-tools is not available here).

func nfpmPackage(t *testing.T, format string, configure func(*nfpm.Info)) []byte {
	t.Helper()
	src := writeFile(t, filepath.Join(t.TempDir(), "README"), []byte("probe\n"))
	info := nfpm.WithDefaults(&nfpm.Info{
		Name:        "probe",
		Arch:        "amd64",
		Platform:    "linux",
		Version:     "1.0.0",
		Release:     "1",
		Maintainer:  "Probe <probe@example.com>",
		Description: "probe",
		License:     "MIT",
		Overridables: nfpm.Overridables{Contents: files.Contents{{
			Source:      src,
			Destination: "/usr/share/doc/probe/README",
			FileInfo:    &files.ContentFileInfo{Mode: 0o644},
		}}},
	})
	configure(info)
	pkgr, err := nfpm.Get(format)
	if err != nil {
		t.Fatal(err)
	}
	if err := nfpm.PrepareForPackager(info, format); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := pkgr.Package(info, &buf); err != nil {
		t.Fatalf("nfpm %s: %v", format, err)
	}
	assertClean(t, buf.String())
	return buf.Bytes()
}

// arMembers splits a deb (an ar archive) into its members.
func arMembers(t *testing.T, deb []byte) map[string][]byte {
	t.Helper()
	if !bytes.HasPrefix(deb, []byte("!<arch>\n")) {
		t.Fatal("not an ar archive")
	}
	m := map[string][]byte{}
	for p := 8; p+60 <= len(deb); {
		h := deb[p : p+60]
		name := strings.TrimSuffix(strings.TrimSpace(string(h[0:16])), "/")
		size, err := strconv.Atoi(strings.TrimSpace(string(h[48:58])))
		if err != nil {
			t.Fatalf("ar member %s: %v", name, err)
		}
		p += 60
		m[name] = deb[p : p+size]
		p += size + size%2
	}
	return m
}

func TestNfpmDebSignatureVerifiesWithGpgv(t *testing.T) {
	need(t, "gpg", "gpgv")
	e, err := LoadPGPEntity(key(PGPKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	keyring := dearmor(t, key(PGPPubFile))
	for name, sig := range map[string]nfpm.PackageSignature{
		// nfpm reads the encrypted, armored pgp.key itself...
		"KeyFile": {KeyFile: key(PGPKeyFile), KeyPassphrase: testPassword},
		// ...or signs through omnipack, which unlocks the key once.
		"SignFn": {SignFn: PGPSignFn(e, true)},
	} {
		deb := nfpmPackage(t, "deb", func(info *nfpm.Info) { info.Deb.Signature.PackageSignature = sig })
		m := arMembers(t, deb)
		gpgorigin, ok := m["_gpgorigin"]
		if !ok {
			t.Fatalf("%s: no _gpgorigin member", name)
		}
		if !bytes.HasPrefix(gpgorigin, []byte("-----BEGIN PGP SIGNATURE-----")) {
			t.Errorf("%s: _gpgorigin is not armored, unlike nfpm's own", name)
		}
		tmp := t.TempDir()
		signed := append(append(bytes.Clone(m["debian-binary"]), m["control.tar.gz"]...), m["data.tar.gz"]...)
		dataPath := writeFile(t, filepath.Join(tmp, "signed"), signed)
		sigPath := writeFile(t, filepath.Join(tmp, "_gpgorigin"), gpgorigin)
		if out, err := tool(t, nil, "gpgv", "--keyring", keyring, sigPath, dataPath); err != nil {
			t.Fatalf("%s: gpgv rejects the deb signature: %v\n%s", name, err, out)
		}
		if out, err := tool(t, nil, "gpgv", "--keyring", keyring, sigPath, writeFile(t, filepath.Join(tmp, "bad"), flipped(signed))); err == nil {
			t.Fatalf("%s: gpgv accepts a changed deb:\n%s", name, out)
		}
	}
}

func TestNfpmRPMSignatureVerifiesWithRpmkeys(t *testing.T) {
	need(t, "rpmkeys")
	e, err := LoadPGPEntity(key(PGPKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	db := t.TempDir()
	if out, err := tool(t, nil, "rpmkeys", "--dbpath", db, "--import", key(PGPPubFile)); err != nil {
		t.Fatalf("rpmkeys --import pgp.pub.asc: %v\n%s", err, out)
	}
	for name, sig := range map[string]nfpm.PackageSignature{
		"KeyFile": {KeyFile: key(PGPKeyFile), KeyPassphrase: testPassword},
		"SignFn":  {SignFn: PGPSignFn(e, false)},
	} {
		rpm := nfpmPackage(t, "rpm", func(info *nfpm.Info) { info.RPM.Signature.PackageSignature = sig })
		path := writeFile(t, filepath.Join(t.TempDir(), "probe.rpm"), rpm)
		out, err := tool(t, nil, "rpmkeys", "--dbpath", db, "-Kv", path)
		if err != nil || !strings.Contains(out, "Header V4 RSA/SHA256 Signature") || strings.Contains(out, "NOKEY") {
			t.Fatalf("%s: rpmkeys -Kv: %v\n%s", name, err, out)
		}
		// rpmkeys without the key must not pass it.
		if out, err := tool(t, nil, "rpmkeys", "--dbpath", t.TempDir(), "-Kv", path); err == nil {
			t.Fatalf("%s: rpmkeys passes the rpm without the key:\n%s", name, out)
		}
	}
}

// gzipStreams splits an apk into its concatenated gzip streams.
func gzipStreams(t *testing.T, apk []byte) [][]byte {
	t.Helper()
	var streams [][]byte
	r := bytes.NewReader(apk)
	for r.Len() > 0 {
		start := len(apk) - r.Len()
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		zr.Multistream(false)
		if _, err := io.Copy(io.Discard, zr); err != nil {
			t.Fatal(err)
		}
		streams = append(streams, apk[start:len(apk)-r.Len()])
	}
	return streams
}

func TestNfpmAPKSignatureVerifiesWithOpenSSL(t *testing.T) {
	need(t, "openssl")
	k, err := LoadAPKKey(key(APKKeyFile), []byte(testPassword))
	if err != nil {
		t.Fatal(err)
	}
	name, err := APKKeyName("Acme Corp", &k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	apk := nfpmPackage(t, "apk", func(info *nfpm.Info) {
		info.APK.Signature.SignFn = APKSignFn(k)
		info.APK.Signature.KeyName = name
	})
	streams := gzipStreams(t, apk)
	if len(streams) != 3 {
		t.Fatalf("apk has %d gzip streams, want signature, control and data", len(streams))
	}
	zr, err := gzip.NewReader(bytes.NewReader(streams[0]))
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if want := ".SIGN.RSA." + name + ".rsa.pub"; hdr.Name != want {
		t.Fatalf("signature member %q, want %q", hdr.Name, want)
	}
	sig, err := io.ReadAll(tr)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	sigPath := writeFile(t, filepath.Join(tmp, "sig"), sig)
	control := writeFile(t, filepath.Join(tmp, "control.tar.gz"), streams[1])
	out, err := tool(t, nil, "openssl", "dgst", "-sha1", "-verify", key(APKPubFile), "-signature", sigPath, control)
	if err != nil || !strings.Contains(out, "Verified OK") {
		t.Fatalf("openssl rejects the apk signature over the control stream: %v\n%s", err, out)
	}
	bad := writeFile(t, filepath.Join(tmp, "bad"), flipped(streams[1]))
	if out, err := tool(t, nil, "openssl", "dgst", "-sha1", "-verify", key(APKPubFile), "-signature", sigPath, bad); err == nil {
		t.Fatalf("openssl accepts a changed control stream:\n%s", out)
	}
}
