package repo

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/omnipack/omnipack/signing"
)

// rotateKeys brings the recorded OpenPGP keys up to this run: the key
// directory's key signs; a key announced earlier and now given as the key
// directory becomes the signing key, the old one staying in the keyrings
// until RetireKeys; NextKeyDir announces a next key. A key directory
// whose key is neither the signing key nor the announced one is refused:
// clients would refuse the repository.
func (p *publisher) rotateKeys() error {
	cur, err := readPublicKey(p.opts.KeyDir)
	if err != nil {
		return err
	}
	if got := signing.PGPFingerprint(p.keys.PGP); got != cur.Fingerprint {
		return fmt.Errorf("%s is the public key of %s, not of %s (%s); run omnipack keygen again",
			filepath.Join(p.opts.KeyDir, signing.PGPPubFile), cur.Fingerprint, filepath.Join(p.opts.KeyDir, signing.PGPKeyFile), got)
	}
	k := p.st.PGP
	switch {
	case k == nil:
		k = &pgpKeys{Signing: cur}
	case k.Signing.Fingerprint == cur.Fingerprint:
	case k.Next != nil && k.Next.Fingerprint == cur.Fingerprint:
		k.Previous = append(k.Previous, k.Signing)
		k.Signing, k.Next = cur, nil
		p.res.Switched = true
	default:
		return fmt.Errorf("the repository is signed with OpenPGP key %s and %s has key %s, which its clients do not trust yet; "+
			"announce it first: publish with the current --keys and --next-key %s, and switch once clients have the new keyring",
			k.Signing.Fingerprint, p.opts.KeyDir, cur.Fingerprint, p.opts.KeyDir)
	}
	k.Previous = slices.DeleteFunc(k.Previous, func(pk publicKey) bool { return pk.Fingerprint == cur.Fingerprint })
	if p.opts.RetireKeys {
		k.Previous = nil
	}
	if dir := p.opts.NextKeyDir; dir != "" {
		next, err := readPublicKey(dir)
		if err != nil {
			return err
		}
		if next.Fingerprint == cur.Fingerprint {
			return fmt.Errorf("--next-key %s has the key that signs already (%s); give the key directory of the new key", dir, cur.Fingerprint)
		}
		if p.next, err = signing.LoadPGPEntity(filepath.Join(dir, signing.PGPKeyFile), p.opts.Password); err != nil {
			return fmt.Errorf("--next-key %s: %w", dir, err)
		}
		if got := signing.PGPFingerprint(p.next); got != next.Fingerprint {
			return fmt.Errorf("%s is the public key of %s, not of %s (%s); run omnipack keygen again",
				filepath.Join(dir, signing.PGPPubFile), next.Fingerprint, filepath.Join(dir, signing.PGPKeyFile), got)
		}
		k.Next = &next
	}
	p.st.PGP = k
	return nil
}

// trusted is every key the keyrings carry: the signing key, the next
// one, then earlier ones.
func (k *pgpKeys) trusted() []publicKey {
	out := []publicKey{k.Signing}
	if k.Next != nil {
		out = append(out, *k.Next)
	}
	return append(out, k.Previous...)
}

// keyring returns the trusted keys as one binary keyring (keys/NAME.gpg),
// one armored block of them (keys/NAME.asc) and their fingerprints.
func (k *pgpKeys) keyring() (gpg, asc []byte, fingerprints []string, err error) {
	var raw bytes.Buffer
	for _, pk := range k.trusted() {
		raw.Write(pk.Key)
		fingerprints = append(fingerprints, pk.Fingerprint)
	}
	asc, err = signing.ArmorPublicKeys(raw.Bytes())
	return raw.Bytes(), asc, fingerprints, err
}

// readPublicKey reads a key directory's OpenPGP public key.
func readPublicKey(dir string) (publicKey, error) {
	path := filepath.Join(dir, signing.PGPPubFile)
	asc, err := os.ReadFile(path)
	if err != nil {
		return publicKey{}, fmt.Errorf("repository public key: %w", err)
	}
	raw, err := signing.Dearmor(asc)
	if err != nil {
		return publicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	fp, err := signing.PGPPublicFingerprint(raw)
	if err != nil {
		return publicKey{}, fmt.Errorf("%s: %w", path, err)
	}
	return publicKey{Fingerprint: fp, Key: raw}, nil
}
