package deb

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/omnipack/omnipack/pkgfile"
)

// Walk reads a deb: an ar archive of debian-binary, control.tar.* and
// data.tar.* (plus nfpm's _gpgorigin signature). Only data.tar.* holds
// installed files.
func (Format) Walk(r io.Reader, fn pkgfile.WalkFunc) error {
	br := bufio.NewReader(r)
	magic := make([]byte, 8)
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != "!<arch>\n" {
		return fmt.Errorf("not a deb: no ar header")
	}
	for {
		name, size, err := nextAr(br)
		if err == io.EOF {
			return fmt.Errorf("deb has no data.tar member")
		}
		if err != nil {
			return err
		}
		body := io.LimitReader(br, size)
		if comp, ok := strings.CutPrefix(name, "data.tar"); ok {
			comp = strings.TrimPrefix(comp, ".")
			zr, closeZ, err := pkgfile.Decompress(body, comp)
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			defer closeZ()
			return pkgfile.WalkTar(zr, nil, nil, fn)
		}
		// Skip the member and its padding to an even offset.
		if _, err := io.CopyN(io.Discard, br, size+size%2); err != nil && !(err == io.EOF && size%2 == 1) {
			return fmt.Errorf("ar member %s: %w", name, err)
		}
	}
}

// nextAr reads one 60-byte ar member header.
func nextAr(br *bufio.Reader) (name string, size int64, err error) {
	hdr := make([]byte, arHeaderSize)
	if _, err := io.ReadFull(br, hdr); err != nil {
		if err == io.ErrUnexpectedEOF {
			return "", 0, fmt.Errorf("ar: truncated member header")
		}
		return "", 0, err
	}
	return parseArHeader(hdr)
}

// arHeaderSize is the size of an ar member header.
const arHeaderSize = 60

// parseArHeader returns an ar member header's name and size.
func parseArHeader(hdr []byte) (name string, size int64, err error) {
	if !bytes.Equal(hdr[58:60], []byte("`\n")) {
		return "", 0, fmt.Errorf("ar: bad member header")
	}
	// GNU ar ends names with "/"; dpkg accepts both spellings.
	name = strings.TrimSuffix(strings.TrimSpace(string(hdr[0:16])), "/")
	size, err = strconv.ParseInt(strings.TrimSpace(string(hdr[48:58])), 10, 64)
	if err != nil || size < 0 {
		return "", 0, fmt.Errorf("ar: member %s has bad size %q", name, hdr[48:58])
	}
	return name, size, nil
}
