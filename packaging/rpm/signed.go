package rpm

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
)

// rpm signature header tags (rpmtag.h, RPMSIGTAG_*) and the main header's
// payload digest tags.
const (
	sigTagRSA          = 268  // OpenPGP signature over the main header
	sigTagSHA256       = 273  // hex SHA-256 of the main header
	sigTagSize         = 1000 // bytes of main header plus payload
	sigTagPGP          = 1002 // OpenPGP signature over main header plus payload
	tagPayloadDigest   = 5092 // hex digest of the compressed payload
	tagPayloadDigestAl = 5093 // its algorithm

	typeBin = 7
)

// signedParts is what an rpm's signature header says about the rest of the
// file, and where that rest lies, so a verifier can check each signature
// over exactly the bytes it covers. rpm (4.14 and later) checks the header
// signature and then the payload through the header's payload digest; the
// header-plus-payload signature is the older form, which nfpm writes too.
type signedParts struct {
	// HeaderOffset and HeaderLength place the main header in the file,
	// from its magic to the end of its data. The payload runs from
	// HeaderOffset+HeaderLength to the end of the file.
	HeaderOffset int64
	HeaderLength int64

	HeaderSig        []byte // RPMSIGTAG_RSA (268), nil if absent
	HeaderPayloadSig []byte // RPMSIGTAG_PGP (1002), nil if absent
	HeaderSHA256     string // RPMSIGTAG_SHA256 (273), "" if absent
	Size             int64  // RPMSIGTAG_SIZE (1000), -1 if absent
	// PayloadSHA256 is RPMTAG_PAYLOADDIGEST from the main header when its
	// algorithm is SHA-256, else "".
	PayloadSHA256 string
}

// readSigned reads the lead, the signature header and the main header
// of the rpm at pkgPath. It does not verify anything.
func readSigned(pkgPath string) (*signedParts, error) {
	f, err := os.Open(pkgPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sig, hdr, span, err := readHeaders(bufio.NewReader(f))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pkgPath, err)
	}
	s := &signedParts{HeaderOffset: span.Start, HeaderLength: span.End - span.Start, Size: -1}
	if s.HeaderSig, err = sig.bin(sigTagRSA); err == nil {
		s.HeaderPayloadSig, err = sig.bin(sigTagPGP)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: rpm signature header: %w", pkgPath, err)
	}
	s.HeaderSHA256 = sig.str(sigTagSHA256)
	if v := sig.ints(sigTagSize); len(v) == 1 {
		s.Size = v[0]
	}
	if algo := hdr.ints(tagPayloadDigestAl); len(algo) > 0 && algo[0] == digestAlgoSHA256 {
		s.PayloadSHA256 = hdr.str(tagPayloadDigest)
	}
	return s, nil
}

// bin returns a binary tag's bytes, nil if absent.
func (h header) bin(tag uint32) ([]byte, error) {
	e, ok := h[tag]
	if !ok {
		return nil, nil
	}
	if e.typ != typeBin || uint64(e.count) > uint64(len(e.data)) {
		return nil, fmt.Errorf("tag %d is not %d bytes of binary data", tag, e.count)
	}
	return bytes.Clone(e.data[:e.count]), nil
}

// HeaderSpan places the main header of the rpm at pkgPath: its offset and
// length. The header signature covers exactly that span; the payload runs
// from its end to the end of the file. Everything before it is the lead
// and the signature header, which signing changes.
func HeaderSpan(pkgPath string) (offset, length int64, err error) {
	s, err := readSigned(pkgPath)
	if err != nil {
		return 0, 0, err
	}
	return s.HeaderOffset, s.HeaderLength, nil
}
