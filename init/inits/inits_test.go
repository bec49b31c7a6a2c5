package inits

import (
	"bytes"
	"path/filepath"
	"slices"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

func TestRegistryOrder(t *testing.T) {
	want := []string{"systemd", "openrc", "upstart", "runit", "sysvinit"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestRenderDeterministic(t *testing.T) {
	for _, r := range All() {
		for _, v := range inittest.Variants() {
			a, err := r.Render(v.Svc)
			if err != nil {
				t.Fatalf("%s %s: %v", r.Name(), v.Name, err)
			}
			for range 5 {
				b, _ := r.Render(v.Svc)
				if len(a) != len(b) {
					t.Fatalf("%s %s: file count differs between renders", r.Name(), v.Name)
				}
				for i := range a {
					if a[i].Target != b[i].Target || a[i].Mode != b[i].Mode || !bytes.Equal(a[i].Body, b[i].Body) {
						t.Fatalf("%s %s: %s differs between renders", r.Name(), v.Name, a[i].Target)
					}
				}
			}
			for _, f := range a {
				if !filepath.IsAbs(f.Target) {
					t.Errorf("%s %s: target %q is not absolute", r.Name(), v.Name, f.Target)
				}
			}
		}
	}
}

func TestRenderRejects(t *testing.T) {
	bad := map[string]func(*initsys.Service){
		"name":                func(s *initsys.Service) { s.Name = "Bad Name" },
		"exec":                func(s *initsys.Service) { s.Exec = "crashwatch" },
		"newline":             func(s *initsys.Service) { s.Args = []string{"a\nb"} },
		"env name":            func(s *initsys.Service) { s.Environment = map[string]string{"A-B": "x"} },
		"user":                func(s *initsys.Service) { s.User = "x;rm" },
		"profile":             func(s *initsys.Service) { s.Profile = "paranoid" },
		"restart":             func(s *initsys.Service) { s.Restart = "sometimes" },
		"signal":              func(s *initsys.Service) { s.ReloadSignal = "KILL" },
		"cap":                 func(s *initsys.Service) { s.Capabilities = []string{"CAP_sys-admin"} },
		"open files":          func(s *initsys.Service) { s.Limits.OpenFiles = initsys.MaxOpenFiles + 1 },
		"negative open files": func(s *initsys.Service) { s.Limits.OpenFiles = -1 },
		"cpu weight":          func(s *initsys.Service) { s.Limits.CPUWeight = initsys.MaxCPUWeight + 1 },
		"nice":                func(s *initsys.Service) { s.Limits.Nice = inittest.Nice(initsys.MinNice - 1) },
	}
	for what, mutate := range bad {
		s := inittest.Crashwatch()
		mutate(&s)
		for _, r := range All() {
			if _, err := r.Render(s); err == nil {
				t.Errorf("%s accepted a bad %s", r.Name(), what)
			}
		}
	}
}
