package verify

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // apk v2 signatures are RSA over SHA-1; the format fixes it
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pkgfile"
	"github.com/omnipack/omnipack/signing"
)

// packageSignatures checks release.json.asc and every package's own
// signature, each with the key its package manager would use.
func (v *verifier) packageSignatures(k releaseKeys) {
	if k.pgp != nil {
		v.add(CheckManifestSig, PGPSigFile, v.manifestPGP(k.pgp), "OpenPGP signature of release.json verifies with "+PGPPub)
	}
	arts := v.sortedArtifacts()
	for _, a := range arts {
		if v.ctx.Err() != nil {
			return
		}
		switch a.Format {
		case FormatDeb, FormatRPM:
			if k.pgp == nil || !v.usable(a.Name) {
				continue
			}
			check, what := checkDeb, "_gpgorigin verifies"
			if a.Format == FormatRPM {
				check, what = checkRPM, "header (RPMSIGTAG_RSA) and header+payload (RPMSIGTAG_PGP) signatures verify"
			}
			v.add(CheckPackageSig, a.Name, check(v.good[a.Name], k.pgp, v.pgpConfig()), what+" with "+PGPPub)
		case FormatAPK:
			if k.apk == nil || !v.usable(a.Name) {
				continue
			}
			v.add(CheckPackageSig, a.Name, checkAPK(v.good[a.Name], k.apkName, k.apk),
				".SIGN.RSA."+k.apkName+".rsa.pub verifies with "+keyFile(k.apkName+".rsa.pub")+"; data matches datahash")
		case FormatArch:
			sigName := a.Name + ".sig"
			if s, ok := v.arts[sigName]; !ok || s.Format != FormatSignature {
				v.add(CheckPackageSig, sigName, fmt.Errorf("release.json lists no detached signature %s of format %q for %s", sigName, FormatSignature, a.Name), "")
				continue
			}
			if k.pgp == nil || !v.usable(a.Name, sigName) {
				continue
			}
			v.add(CheckPackageSig, sigName, checkDetached(v.good[a.Name], v.good[sigName], a.Name, sigName, k.pgp, v.pgpConfig()),
				"detached signature of "+a.Name+" verifies with "+PGPPub)
		case FormatSignature:
			if base, ok := baseOf(a); !ok || v.arts[base].Format != FormatArch {
				v.add(CheckPackageSig, a.Name, errors.New("a detached signature, but release.json lists no Arch package it belongs to"), "")
			}
		}
	}
}

// pgpConfig judges key expiry and revocation at the verification time.
func (v *verifier) pgpConfig() *packet.Config {
	now := v.now
	return &packet.Config{Time: func() time.Time { return now }}
}

// manifestPGP checks release.json.asc, the signature for hosts with gpgv
// but no openssl.
func (v *verifier) manifestPGP(key openpgp.EntityList) error {
	rel, err := v.src.fetch(v.ctx, manifest.FileName, maxManifest)
	if err != nil {
		return err
	}
	p, err := v.src.fetch(v.ctx, PGPSigFile, maxSig)
	if err != nil {
		return err
	}
	return checkDetached(rel, p, manifest.FileName, PGPSigFile, key, v.pgpConfig())
}

// checkDetached verifies a detached OpenPGP signature file over a file.
func checkDetached(dataPath, sigPath, dataName, sigName string, key openpgp.EntityList, cfg *packet.Config) error {
	sig, err := readCapped(sigPath, sigName, maxSig)
	if err != nil {
		return err
	}
	f, err := os.Open(dataPath)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := verifyPGP(key, f, sig, cfg); err != nil {
		return fmt.Errorf("does not verify %s: %v", dataName, err)
	}
	return nil
}

// strongHashes are the digests accepted in OpenPGP signatures. apt (sqv),
// rpm and pacman refuse SHA-1, so verify does too.
var strongHashes = map[crypto.Hash]bool{
	crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true, crypto.SHA3_256: true, crypto.SHA3_512: true,
}

// verifyPGP checks a detached signature, armored or binary, made by the
// one key in key with a strong digest.
func verifyPGP(key openpgp.EntityList, data io.Reader, sig []byte, cfg *packet.Config) error {
	raw := sig
	if bytes.HasPrefix(bytes.TrimSpace(sig), []byte("-----BEGIN PGP ")) {
		block, err := armor.Decode(bytes.NewReader(sig))
		if err != nil || block.Type != openpgp.SignatureType {
			return errors.New("not an armored OpenPGP signature")
		}
		if raw, err = io.ReadAll(io.LimitReader(block.Body, maxSig)); err != nil {
			return errors.New("damaged armored OpenPGP signature")
		}
	}
	pr := packet.NewReader(bytes.NewReader(raw))
	for n := 0; ; n++ {
		p, err := pr.Next()
		if err == io.EOF {
			if n == 0 {
				return errors.New("empty OpenPGP signature")
			}
			break
		}
		if err != nil {
			return errors.New("not an OpenPGP signature")
		}
		s, ok := p.(*packet.Signature)
		if !ok {
			return errors.New("not an OpenPGP signature")
		}
		if !strongHashes[s.Hash] {
			return fmt.Errorf("OpenPGP signature uses digest %v, which package managers refuse", s.Hash)
		}
	}
	if _, err := openpgp.CheckDetachedSignature(key, data, bytes.NewReader(raw), cfg); err != nil {
		return fmt.Errorf("%w: OpenPGP: %v", signing.ErrBadSignature, err)
	}
	return nil
}

// arMember is one member of an ar archive.
type arMember struct {
	name      string
	off, size int64
}

// arMembers lists a deb's ar members in order.
func arMembers(f *os.File) ([]arMember, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	magic := make([]byte, 8)
	if _, err := f.ReadAt(magic, 0); err != nil || string(magic) != "!<arch>\n" {
		return nil, errors.New("not a deb: no ar header")
	}
	var ms []arMember
	hdr := make([]byte, 60)
	for off := int64(8); off < st.Size(); {
		if _, err := f.ReadAt(hdr, off); err != nil || !bytes.Equal(hdr[58:60], []byte("`\n")) {
			return nil, fmt.Errorf("not a deb: bad ar member header at byte %d", off)
		}
		name := strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
		size, err := strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
		if err != nil || size < 0 || off+60+size > st.Size() {
			return nil, fmt.Errorf("not a deb: ar member %q has a bad size", name)
		}
		ms = append(ms, arMember{name, off + 60, size})
		off += 60 + size + size%2
	}
	return ms, nil
}

// checkDeb verifies a deb's _gpgorigin, the signature dpkg-sig's "origin"
// role and debsig-verify use: a detached OpenPGP signature over
// debian-binary, control.tar.* and data.tar.*, concatenated in that order.
// Any other member would not be covered, so none is allowed.
func checkDeb(p string, key openpgp.EntityList, cfg *packet.Config) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	ms, err := arMembers(f)
	if err != nil {
		return err
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.name
	}
	if len(ms) != 4 || ms[0].name != "debian-binary" || !strings.HasPrefix(ms[1].name, "control.tar") ||
		!strings.HasPrefix(ms[2].name, "data.tar") || ms[3].name != "_gpgorigin" {
		return fmt.Errorf("members are %s; want debian-binary, control.tar.*, data.tar.*, _gpgorigin", strings.Join(names, ", "))
	}
	if ms[3].size > maxSig {
		return errors.New("_gpgorigin is too large to be a signature")
	}
	sig := make([]byte, ms[3].size)
	if _, err := f.ReadAt(sig, ms[3].off); err != nil {
		return err
	}
	signed := io.MultiReader(io.NewSectionReader(f, ms[0].off, ms[0].size),
		io.NewSectionReader(f, ms[1].off, ms[1].size), io.NewSectionReader(f, ms[2].off, ms[2].size))
	if err := verifyPGP(key, signed, sig, cfg); err != nil {
		return fmt.Errorf("_gpgorigin does not verify: %v", err)
	}
	return nil
}

// checkRPM verifies the OpenPGP signatures nfpm writes into an rpm's
// signature header, each over exactly the bytes it covers:
// RPMSIGTAG_RSA (268) over the main header, which is what rpmkeys -K
// checks, and RPMSIGTAG_PGP (1002) over the main header and the payload.
// The header's own SHA-256 (273), the size (1000) and the payload digest
// the header records (RPMTAG_PAYLOADDIGEST, 5092) must match too.
func checkRPM(p string, key openpgp.EntityList, cfg *packet.Config) error {
	s, err := pkgfile.ReadRPMSigned(p)
	if err != nil {
		return errors.New(stripPath(err, p))
	}
	if s.HeaderSig == nil {
		return errors.New("no header signature (RPMSIGTAG_RSA): the rpm is not signed")
	}
	if s.HeaderPayloadSig == nil {
		return errors.New("no header+payload signature (RPMSIGTAG_PGP)")
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	header := func() *io.SectionReader { return io.NewSectionReader(f, s.HeaderOffset, s.HeaderLength) }
	rest := st.Size() - s.HeaderOffset
	if err := verifyPGP(key, header(), s.HeaderSig, cfg); err != nil {
		return fmt.Errorf("header signature (RPMSIGTAG_RSA) does not verify: %v", err)
	}
	if err := verifyPGP(key, io.NewSectionReader(f, s.HeaderOffset, rest), s.HeaderPayloadSig, cfg); err != nil {
		return fmt.Errorf("header+payload signature (RPMSIGTAG_PGP) does not verify: %v", err)
	}
	if s.HeaderSHA256 != "" {
		if sum, err := sha256Hex(header()); err != nil || !strings.EqualFold(sum, s.HeaderSHA256) {
			return errors.New("the header's SHA-256 (RPMSIGTAG_SHA256) does not match")
		}
	}
	if s.Size >= 0 && s.Size != rest {
		return fmt.Errorf("RPMSIGTAG_SIZE says %d bytes of header and payload, the file has %d", s.Size, rest)
	}
	if s.PayloadSHA256 != "" {
		payload := io.NewSectionReader(f, s.HeaderOffset+s.HeaderLength, rest-s.HeaderLength)
		if sum, err := sha256Hex(payload); err != nil || !strings.EqualFold(sum, s.PayloadSHA256) {
			return errors.New("the payload does not match the header's payload digest (RPMTAG_PAYLOADDIGEST)")
		}
	}
	return nil
}

// byteCounter counts the bytes gzip takes from a bufio.Reader. gzip reads
// an io.ByteReader without reading ahead, so the count is the exact end of
// each gzip stream.
type byteCounter struct {
	r *bufio.Reader
	n int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *byteCounter) ReadByte() (byte, error) {
	b, err := c.r.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// checkAPK verifies an apk v2 package as apk-tools does: the first gzip
// stream holds .SIGN.RSA.<keyname>.rsa.pub, an RSA PKCS#1 v1.5 signature
// over the SHA-1 of the exact bytes of the control gzip stream that
// follows; the control's .PKGINFO holds datahash, the SHA-256 of the data
// stream, which ties the data to the signature.
func checkAPK(p, keyName string, pub *rsa.PublicKey) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	c := &byteCounter{r: bufio.NewReader(f)}
	zr, err := gzip.NewReader(c)
	if err != nil {
		return fmt.Errorf("signature stream: %v", err)
	}
	zr.Multistream(false)
	hdr, err := tar.NewReader(zr).Next()
	if err != nil {
		return fmt.Errorf("signature stream: %v", err)
	}
	want := ".SIGN.RSA." + keyName + ".rsa.pub"
	if !strings.HasPrefix(hdr.Name, ".SIGN.") {
		return errors.New("the apk is not signed: it has no .SIGN.* stream")
	}
	if hdr.Name != want {
		return fmt.Errorf("signed as %s, want %s", hdr.Name, want)
	}
	if hdr.Size > maxSig {
		return errors.New("signature member is too large")
	}
	sig := make([]byte, hdr.Size)
	if _, err := io.ReadFull(zr, sig); err != nil {
		return fmt.Errorf("signature stream: %v", err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("signature stream: %v", err)
	}
	controlStart := c.n

	if err := zr.Reset(c); err != nil {
		return fmt.Errorf("control stream: %v", err)
	}
	zr.Multistream(false)
	pkginfo, err := readPKGINFO(zr)
	if err != nil {
		return fmt.Errorf("control stream: %v", err)
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return fmt.Errorf("control stream: %v", err)
	}
	controlEnd := c.n

	h := sha1.New() //nolint:gosec // the apk v2 format
	if _, err := io.Copy(h, io.NewSectionReader(f, controlStart, controlEnd-controlStart)); err != nil {
		return err
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA1, h.Sum(nil), sig); err != nil {
		return fmt.Errorf("%s does not verify the control stream with %s: %w", want, keyFile(keyName+".rsa.pub"), signing.ErrBadSignature)
	}
	dataHash := ""
	for _, line := range strings.Split(string(pkginfo), "\n") {
		if k, val, ok := strings.Cut(line, " = "); ok && k == "datahash" {
			dataHash = strings.TrimSpace(val)
		}
	}
	if dataHash == "" {
		return errors.New(".PKGINFO has no datahash, so the signature does not cover the data")
	}
	sum, err := sha256Hex(io.NewSectionReader(f, controlEnd, st.Size()-controlEnd))
	if err != nil {
		return err
	}
	if !strings.EqualFold(sum, dataHash) {
		return errors.New("the data stream does not match the signed .PKGINFO datahash")
	}
	return nil
}

// readPKGINFO returns .PKGINFO from a control tar. nfpm writes the control
// tar without an end-of-archive marker, so reading stops at .PKGINFO.
func readPKGINFO(r io.Reader) ([]byte, error) {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return nil, errors.New("no .PKGINFO in the control stream")
		}
		if strings.TrimPrefix(hdr.Name, "./") == ".PKGINFO" {
			return io.ReadAll(io.LimitReader(tr, 1<<20))
		}
	}
}
