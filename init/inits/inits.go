// Package inits is the one registry of omnipack's init systems. Every other
// stage asks it for the inits instead of naming them: adding an init system
// is one package below init/ plus one line here.
package inits

import (
	"fmt"
	"sort"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/openrc"
	"github.com/omnipack/omnipack/init/runit"
	"github.com/omnipack/omnipack/init/systemd"
	"github.com/omnipack/omnipack/init/sysvinit"
	"github.com/omnipack/omnipack/init/upstart"
)

// registry holds every init system in detection order (by Precedence).
var registry = sorted(systemd.Init{}, openrc.Init{}, upstart.Init{}, runit.Init{}, sysvinit.Init{})

func sorted(rs ...initsys.Renderer) []initsys.Renderer {
	seen := map[string]bool{}
	for _, r := range rs {
		if seen[r.Name()] {
			panic(fmt.Sprintf("inits: init system %q registered twice", r.Name()))
		}
		seen[r.Name()] = true
	}
	sort.SliceStable(rs, func(i, j int) bool { return rs[i].Precedence() < rs[j].Precedence() })
	return rs
}

// All returns every init system in detection order: an init that runs on
// top of another (OpenRC on sysvinit) comes before it.
func All() []initsys.Renderer { return append([]initsys.Renderer(nil), registry...) }

// Names returns the names of every init system, in detection order.
func Names() []string {
	names := make([]string, len(registry))
	for i, r := range registry {
		names[i] = r.Name()
	}
	return names
}

// Lookup returns the init system with the given name.
func Lookup(name string) (initsys.Renderer, bool) {
	for _, r := range registry {
		if r.Name() == name {
			return r, true
		}
	}
	return nil, false
}
