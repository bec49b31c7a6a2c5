package rpm

import (
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

// Detached: an rpm carries its signatures in its signature header.
func (Format) Detached() bool { return false }

// CheckSignature verifies the OpenPGP signatures nfpm writes into an rpm's
// signature header, each over exactly the bytes it covers:
// RPMSIGTAG_RSA (268) over the main header, which is what rpmkeys -K
// checks, and RPMSIGTAG_PGP (1002) over the main header and the payload.
// The header's own SHA-256 (273), the size (1000) and the payload digest
// the header records (RPMTAG_PAYLOADDIGEST, 5092) must match too.
func (Format) CheckSignature(p, _ string, k packaging.VerifyKeys) (string, error) {
	const what = "header (RPMSIGTAG_RSA) and header+payload (RPMSIGTAG_PGP) signatures verify with keys/pgp.pub.asc"
	if k.PGP == nil {
		return "", packaging.ErrNoKey
	}
	s, err := readSigned(p)
	if err != nil {
		return "", errors.New(strings.ReplaceAll(err.Error(), p+": ", ""))
	}
	if s.HeaderSig == nil {
		return "", errors.New("no header signature (RPMSIGTAG_RSA): the rpm is not signed")
	}
	if s.HeaderPayloadSig == nil {
		return "", errors.New("no header+payload signature (RPMSIGTAG_PGP)")
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return "", err
	}
	header := func() *io.SectionReader { return io.NewSectionReader(f, s.HeaderOffset, s.HeaderLength) }
	rest := st.Size() - s.HeaderOffset
	if err := signing.VerifyPGP(k.PGP, header(), s.HeaderSig, k.Now); err != nil {
		return "", fmt.Errorf("header signature (RPMSIGTAG_RSA) does not verify: %v", err)
	}
	if err := signing.VerifyPGP(k.PGP, io.NewSectionReader(f, s.HeaderOffset, rest), s.HeaderPayloadSig, k.Now); err != nil {
		return "", fmt.Errorf("header+payload signature (RPMSIGTAG_PGP) does not verify: %v", err)
	}
	if s.HeaderSHA256 != "" {
		if sum, err := sha256Hex(header()); err != nil || !strings.EqualFold(sum, s.HeaderSHA256) {
			return "", errors.New("the header's SHA-256 (RPMSIGTAG_SHA256) does not match")
		}
	}
	if s.Size >= 0 && s.Size != rest {
		return "", fmt.Errorf("RPMSIGTAG_SIZE says %d bytes of header and payload, the file has %d", s.Size, rest)
	}
	if s.PayloadSHA256 != "" {
		payload := io.NewSectionReader(f, s.HeaderOffset+s.HeaderLength, rest-s.HeaderLength)
		if sum, err := sha256Hex(payload); err != nil || !strings.EqualFold(sum, s.PayloadSHA256) {
			return "", errors.New("the payload does not match the header's payload digest (RPMTAG_PAYLOADDIGEST)")
		}
	}
	return what, nil
}

func sha256Hex(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
