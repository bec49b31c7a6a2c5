package repo

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/signing"
)

// KeysDir holds the repository's public keys, SetupDir (written by each
// format's RepoSetup) the snippets that use them.
const KeysDir = "keys"

// signer signs with the key directory's OpenPGP and apk keys, and where
// the format allows several signatures also with the announced next key
// when this run has it (--next-key), the current key's signature last.
func (p *publisher) signer() packaging.RepoSigner {
	k := p.keys
	all := []*openpgp.Entity{k.PGP}
	if p.next != nil {
		all = []*openpgp.Entity{p.next, k.PGP}
	}
	return packaging.RepoSigner{
		ClearSign: func(body []byte) ([]byte, error) { return signing.ClearSignAll(all, body) },
		Detached: func(body []byte, armored bool) ([]byte, error) {
			return signing.DetachSign(k.PGP, bytes.NewReader(body), armored)
		},
		DetachedAll: func(body []byte, armored bool) ([]byte, error) { return signing.DetachSignAll(all, body, armored) },
		APK:         signing.APKSignFn(k.APK),
		APKKeyName:  k.APKKeyName,
	}
}

// clientFiles are the public keys clients trust, keys/NAME.asc (armored),
// keys/NAME.gpg (binary, for Signed-By), each with every OpenPGP key of a
// rotation (the signing one first), and the apk key under the name
// /etc/apk/keys needs, and, when the repository's URL is known, each
// format's setup snippets for the channels.
func (p *publisher) clientFiles(channels []string) ([]packaging.RepoFile, error) {
	gpg, asc, fingerprints, err := p.st.PGP.keyring()
	if err != nil {
		return nil, fmt.Errorf("repository keyring: %w", err)
	}
	p.res.Keys = fingerprints
	apk, err := os.ReadFile(filepath.Join(p.opts.KeyDir, signing.APKPubFile))
	if err != nil {
		return nil, fmt.Errorf("repository apk public key: %w", err)
	}
	name := p.st.Name
	c := packaging.RepoClient{
		URL: p.st.URL, Name: name,
		PGPKey:          path.Join(KeysDir, name+".asc"),
		PGPKeyring:      path.Join(KeysDir, name+".gpg"),
		APKKey:          path.Join(KeysDir, p.keys.APKKeyName+".rsa.pub"),
		PGPFingerprints: fingerprints,
	}
	files := []packaging.RepoFile{{Path: c.PGPKey, Body: asc}, {Path: c.PGPKeyring, Body: gpg}, {Path: c.APKKey, Body: apk}}
	if c.URL == "" {
		return files, nil
	}
	for _, f := range formats.With(packaging.StageRepo) {
		s, ok := f.(packaging.RepoSetup)
		if !ok {
			continue
		}
		for _, ch := range channels {
			if len(p.st.packages(f.Name(), ch)) == 0 {
				continue
			}
			c.Channel = ch
			out, err := s.Setup(c)
			if err != nil {
				return nil, fmt.Errorf("%s setup for channel %s: %w", f.Name(), ch, err)
			}
			for _, rf := range out {
				if err := checkRelPath(rf.Path); err != nil {
					return nil, fmt.Errorf("%s setup: %w", f.Name(), err)
				}
			}
			files = append(files, out...)
		}
	}
	return files, nil
}
