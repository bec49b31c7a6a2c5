package packaging

import "github.com/goreleaser/nfpm/v2"

// applyScripts attaches the maintainer scripts for a format.
func applyScripts(info *nfpm.Info, spec *Spec, format string) error {
	return nil
}
