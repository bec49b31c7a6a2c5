package verify

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/omnipack/omnipack/manifest"
)

// sha256Hex is the hex SHA-256 of everything r holds.
func sha256Hex(r io.Reader) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checkDigest streams a file and compares its size and sha256 with the
// manifest's, reading at most one byte more than the stated size.
func checkDigest(p string, a manifest.Artifact) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, a.Size+1))
	if err != nil {
		return fmt.Errorf("read: %v", err)
	}
	if n > a.Size {
		return fmt.Errorf("larger than the %d bytes release.json states", a.Size)
	}
	if n != a.Size {
		return fmt.Errorf("%d bytes, release.json states %d", n, a.Size)
	}
	if sum := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(sum, a.SHA256) {
		return fmt.Errorf("sha256 %s, release.json states %s", sum, a.SHA256)
	}
	return nil
}

// readCapped reads a whole small file, refusing more than limit bytes.
func readCapped(p, name string, limit int64) ([]byte, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: more than the %d bytes allowed", name, limit)
	}
	return data, nil
}
