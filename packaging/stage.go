package packaging

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/layout"
)

// StageInits renders the service for every enabled init system, in
// detection order, and writes each file at its staged path under stageDir,
// ready to become a Spec's Inits, InitFiles and StageDir.
func StageInits(svc initsys.Service, enabled []string, stageDir string) ([]initsys.Renderer, map[string][]initsys.File, error) {
	var enabledInits []initsys.Renderer
	files := map[string][]initsys.File{}
	for _, r := range inits.All() {
		if !slices.Contains(enabled, r.Name()) {
			continue
		}
		rendered, err := r.Render(svc)
		if err != nil {
			return nil, nil, fmt.Errorf("render %s service: %w", r.Name(), err)
		}
		for _, f := range rendered {
			p := filepath.Join(stageDir, layout.Staged(svc.Name, r.Name(), f.Target))
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return nil, nil, err
			}
			if err := os.WriteFile(p, f.Body, 0o644); err != nil {
				return nil, nil, err
			}
		}
		enabledInits = append(enabledInits, r)
		files[r.Name()] = rendered
	}
	return enabledInits, files, nil
}
