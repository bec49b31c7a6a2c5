package verify

import (

	//nolint:gosec // apk v2 signatures are RSA over SHA-1; the format fixes it
	"errors"
	"fmt"
	"os"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/signing"
)

// packageSignatures checks release.json.asc and every package's own
// signature, each with the key its package manager would use.
func (v *verifier) packageSignatures(k packaging.VerifyKeys) {
	if k.PGP != nil {
		v.add(CheckManifestSig, PGPSigFile, v.manifestPGP(k), "OpenPGP signature of release.json verifies with "+PGPPub)
	}
	for _, a := range v.sortedArtifacts() {
		if v.ctx.Err() != nil {
			return
		}
		if a.Format == manifest.FormatSignature {
			if base, ok := baseOf(a); !ok || !detached(v.arts[base].Format) {
				v.add(CheckPackageSig, a.Name, errors.New("a detached signature, but release.json lists no package signed that way it belongs to"), "")
			}
			continue
		}
		f, ok := formats.Lookup(a.Format)
		if !ok || !formats.Has(f, packaging.StageVerify) {
			continue
		}
		checker := f.(packaging.SignatureChecker)
		file, sigPath := a.Name, ""
		names := []string{a.Name}
		if checker.Detached() {
			sigName := a.Name + ".sig"
			file = sigName
			if s, ok := v.arts[sigName]; !ok || s.Format != manifest.FormatSignature {
				v.add(CheckPackageSig, sigName, fmt.Errorf("release.json lists no detached signature %s of format %q for %s", sigName, manifest.FormatSignature, a.Name), "")
				continue
			}
			names = append(names, sigName)
		}
		if !v.usable(names...) {
			continue
		}
		if checker.Detached() {
			sigPath = v.good[file]
		}
		detail, err := checker.CheckSignature(v.good[a.Name], sigPath, k)
		if errors.Is(err, packaging.ErrNoKey) {
			continue // the key's own check failed, and says so
		}
		if err != nil {
			err = errors.New(stripPath(err, v.good[a.Name]))
		}
		v.add(CheckPackageSig, file, err, detail)
	}
}

// detached reports whether format is one signed by a PKG.sig beside it.
func detached(format string) bool {
	f, ok := formats.Lookup(format)
	if !ok || !formats.Has(f, packaging.StageVerify) {
		return false
	}
	return f.(packaging.SignatureChecker).Detached()
}

// manifestPGP checks release.json.asc, the signature for hosts with gpgv
// but no openssl.
func (v *verifier) manifestPGP(k packaging.VerifyKeys) error {
	rel, err := v.src.Path(v.ctx, manifest.FileName, manifest.MaxManifest)
	if err != nil {
		return err
	}
	p, err := v.src.Path(v.ctx, PGPSigFile, manifest.MaxSig)
	if err != nil {
		return err
	}
	sig, err := readCapped(p, PGPSigFile, manifest.MaxSig)
	if err != nil {
		return err
	}
	f, err := os.Open(rel)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := signing.VerifyPGP(k.PGP, f, sig, k.Now); err != nil {
		return fmt.Errorf("does not verify %s: %v", manifest.FileName, err)
	}
	return nil
}
