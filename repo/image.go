package repo

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/oci"
)

// PushImage verifies the release at dist with keyDir's release key, as
// omnipack verify does, and pushes its image (the .oci.tar release.json
// lists) with its cosign signature to repository. It returns the pushed
// index digest.
func PushImage(ctx context.Context, dist, keyDir, repository string, now func() time.Time) (string, error) {
	if keyDir == "" {
		return "", errors.New("no key directory: the release is verified with the keys' release.pub (pass --keys DIR)")
	}
	rel, err := verifiedRelease(ctx, dist, keyDir, now)
	if err != nil {
		return "", err
	}
	for _, a := range rel.Artifacts {
		if a.Format != manifest.FormatOCI {
			continue
		}
		p := filepath.Join(dist, a.Name)
		// Checked again: the file must still be the one that verified.
		if size, sum, err := manifest.Digest(p); err != nil || size != a.Size || sum != a.SHA256 {
			return "", fmt.Errorf("%s changed after it was verified; nothing was pushed", p)
		}
		return oci.Push(ctx, p, repository)
	}
	return "", fmt.Errorf("release %s has no image: list \"oci\" in [targets] formats and build it again", dist)
}
