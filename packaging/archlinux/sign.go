package archlinux

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/signing"
)

// Detached: pacman checks PKG.sig, a binary OpenPGP signature beside the
// package, as SigLevel asks.
func (Format) Detached() bool { return true }

// CheckSignature verifies the detached signature at sig over the package.
func (Format) CheckSignature(pkg, sig string, k packaging.VerifyKeys) (string, error) {
	if k.PGP == nil {
		return "", packaging.ErrNoKey
	}
	s, err := os.Open(sig)
	if err != nil {
		return "", err
	}
	defer s.Close()
	sigData, err := io.ReadAll(io.LimitReader(s, signing.MaxPGPSignature+1))
	if err != nil {
		return "", err
	}
	if len(sigData) > signing.MaxPGPSignature {
		return "", fmt.Errorf("more than the %d bytes a signature may have", signing.MaxPGPSignature)
	}
	f, err := os.Open(pkg)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if err := signing.VerifyPGP(k.PGP, f, sigData, k.Now); err != nil {
		return "", fmt.Errorf("does not verify %s: %v", filepath.Base(pkg), err)
	}
	return "detached signature of " + filepath.Base(pkg) + " verifies with keys/pgp.pub.asc", nil
}
