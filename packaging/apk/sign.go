package apk

import (
	"archive/tar"
	"bufio"
	"compress/gzip"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // apk v2 signatures are RSA over SHA-1; the format fixes it
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/signing"
)

// Detached: an apk carries its signature in its first gzip stream.
func (Format) Detached() bool { return false }

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

// CheckSignature verifies an apk v2 package as apk-tools does: the first
// gzip stream holds .SIGN.RSA.<keyname>.rsa.pub, an RSA PKCS#1 v1.5
// signature over the SHA-1 of the exact bytes of the control gzip stream
// that follows; the control's .PKGINFO holds datahash, the SHA-256 of the
// data stream, which ties the data to the signature.
func (Format) CheckSignature(p, _ string, k packaging.VerifyKeys) (string, error) {
	if k.APK == nil {
		return "", packaging.ErrNoKey
	}
	keyFile := "keys/" + k.APKName + ".rsa.pub"
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	parts, err := splitPackage(f)
	if err != nil {
		return "", err
	}
	want := ".SIGN.RSA." + k.APKName + ".rsa.pub"
	if parts.sigName == "" {
		return "", errors.New("the apk is not signed: it has no .SIGN.* stream")
	}
	if parts.sigName != want {
		return "", fmt.Errorf("signed as %s, want %s", parts.sigName, want)
	}
	if err := rsa.VerifyPKCS1v15(k.APK, crypto.SHA1, parts.controlSHA1, parts.sig); err != nil {
		return "", fmt.Errorf("%s does not verify the control stream with %s: %w", want, keyFile, signing.ErrBadSignature)
	}
	pkginfo, controlEnd, size := parts.pkginfo, parts.controlEnd, parts.size
	dataHash := ""
	for _, line := range strings.Split(string(pkginfo), "\n") {
		if k, val, ok := strings.Cut(line, " = "); ok && k == "datahash" {
			dataHash = strings.TrimSpace(val)
		}
	}
	if dataHash == "" {
		return "", errors.New(".PKGINFO has no datahash, so the signature does not cover the data")
	}
	dh := sha256.New()
	if _, err := io.Copy(dh, io.NewSectionReader(f, controlEnd, size-controlEnd)); err != nil {
		return "", err
	}
	if !strings.EqualFold(hex.EncodeToString(dh.Sum(nil)), dataHash) {
		return "", errors.New("the data stream does not match the signed .PKGINFO datahash")
	}
	return want + " verifies with " + keyFile + "; data matches datahash", nil
}

// packageParts is an apk v2 package split at its gzip streams.
type packageParts struct {
	sigName     string // the signature member, .SIGN.RSA.KEY.rsa.pub; "" when unsigned
	sig         []byte
	controlSHA1 []byte // of the control stream's exact bytes: what the signature signs, apk's Q1 checksum
	pkginfo     []byte
	controlEnd  int64 // where the data stream begins
	size        int64
}

// splitPackage reads the signature stream (if any) and the control
// stream of the apk f, hashing the control stream's bytes.
func splitPackage(f *os.File) (*packageParts, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	parts := &packageParts{size: st.Size()}
	c := &byteCounter{r: bufio.NewReader(f)}
	zr, err := gzip.NewReader(c)
	if err != nil {
		return nil, fmt.Errorf("first gzip stream: %v", err)
	}
	zr.Multistream(false)
	hdr, err := tar.NewReader(zr).Next()
	if err != nil {
		return nil, fmt.Errorf("first gzip stream: %v", err)
	}
	var controlStart int64
	if strings.HasPrefix(hdr.Name, ".SIGN.") {
		if hdr.Size > signing.MaxPGPSignature {
			return nil, errors.New("signature member is too large")
		}
		parts.sigName = hdr.Name
		parts.sig = make([]byte, hdr.Size)
		if _, err := io.ReadFull(zr, parts.sig); err != nil {
			return nil, fmt.Errorf("signature stream: %v", err)
		}
		if _, err := io.Copy(io.Discard, zr); err != nil {
			return nil, fmt.Errorf("signature stream: %v", err)
		}
		controlStart = c.n
		if err := zr.Reset(c); err != nil {
			return nil, fmt.Errorf("control stream: %v", err)
		}
		zr.Multistream(false)
		if parts.pkginfo, err = readPKGINFO(zr); err != nil {
			return nil, fmt.Errorf("control stream: %v", err)
		}
	} else {
		// Unsigned: the first stream is the control stream, its first
		// member read already.
		if strings.TrimPrefix(hdr.Name, "./") != ".PKGINFO" {
			return nil, errors.New("control stream: .PKGINFO is not its first member")
		}
		if parts.pkginfo, err = io.ReadAll(io.LimitReader(zr, 1<<20)); err != nil {
			return nil, fmt.Errorf("control stream: %v", err)
		}
	}
	if _, err := io.Copy(io.Discard, zr); err != nil {
		return nil, fmt.Errorf("control stream: %v", err)
	}
	parts.controlEnd = c.n
	h := sha1.New() //nolint:gosec // the apk v2 format
	if _, err := io.Copy(h, io.NewSectionReader(f, controlStart, parts.controlEnd-controlStart)); err != nil {
		return nil, err
	}
	parts.controlSHA1 = h.Sum(nil)
	return parts, nil
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
