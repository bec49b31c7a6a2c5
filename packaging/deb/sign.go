package deb

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/signing"
)

// Detached: a deb carries its signature as the _gpgorigin member.
func (Format) Detached() bool { return false }

// CheckSignature verifies a deb's _gpgorigin, the signature dpkg-sig's
// "origin" role and debsig-verify use: a detached OpenPGP signature over
// debian-binary, control.tar.* and data.tar.*, concatenated in that order.
// Any other member would not be covered, so none is allowed.
func (Format) CheckSignature(p, _ string, k packaging.VerifyKeys) (string, error) {
	const what = "_gpgorigin verifies with keys/pgp.pub.asc"
	if k.PGP == nil {
		return "", packaging.ErrNoKey
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	ms, err := arMembers(f)
	if err != nil {
		return "", err
	}
	names := make([]string, len(ms))
	for i, m := range ms {
		names[i] = m.name
	}
	if len(ms) != 4 || ms[0].name != "debian-binary" || !strings.HasPrefix(ms[1].name, "control.tar") ||
		!strings.HasPrefix(ms[2].name, "data.tar") || ms[3].name != "_gpgorigin" {
		return "", fmt.Errorf("members are %s; want debian-binary, control.tar.*, data.tar.*, _gpgorigin", strings.Join(names, ", "))
	}
	if ms[3].size > signing.MaxPGPSignature {
		return "", errors.New("_gpgorigin is too large to be a signature")
	}
	sig := make([]byte, ms[3].size)
	if _, err := f.ReadAt(sig, ms[3].off); err != nil {
		return "", err
	}
	signed := io.MultiReader(io.NewSectionReader(f, ms[0].off, ms[0].size),
		io.NewSectionReader(f, ms[1].off, ms[1].size), io.NewSectionReader(f, ms[2].off, ms[2].size))
	if err := signing.VerifyPGP(k.PGP, signed, sig, k.Now); err != nil {
		return "", fmt.Errorf("_gpgorigin does not verify: %v", err)
	}
	return what, nil
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
	hdr := make([]byte, arHeaderSize)
	for off := int64(8); off < st.Size(); {
		if _, err := f.ReadAt(hdr, off); err != nil {
			return nil, fmt.Errorf("not a deb: bad ar member header at byte %d", off)
		}
		name, size, err := parseArHeader(hdr)
		if err != nil {
			return nil, fmt.Errorf("not a deb: at byte %d: %v", off, err)
		}
		if off+arHeaderSize+size > st.Size() {
			return nil, fmt.Errorf("not a deb: ar member %q runs past the end of the file", name)
		}
		ms = append(ms, arMember{name, off + arHeaderSize, size})
		off += arHeaderSize + size + size%2
	}
	return ms, nil
}
