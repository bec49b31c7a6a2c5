package install

import (
	"errors"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/detector"
)

// TestRepoPlan: --method repo on an apt host adds the repository (the
// deb plug-in's key, source and commands), installs from it and records
// it; a second install is an upgrade. A host whose package manager has no
// repository, and a bad URL or channel, are refused before anything is
// planned. The uninstall of a repo install deletes the repository's files
// after the package.
func TestRepoPlan(t *testing.T) {
	deb := detector.Facts{DistroID: "debian", PackageManager: "apt", PackageFormat: "deb", Arch: "amd64", Init: "systemd"}
	ro := &RepoOptions{URL: "https://repo.example.com/agent", Channel: "beta"}
	p, err := NewPlan(deb, testRelease(), State{}, PlanOptions{Repo: ro})
	if err != nil {
		t.Fatal(err)
	}
	if p.Method != MethodRepo || p.Action != ActionInstall || len(p.Steps) < 2 || p.Steps[0].Kind != StepRepoInstall || p.Steps[1].Kind != StepRecord {
		t.Fatalf("plan %+v", p)
	}
	r := p.Steps[0].Repo
	if r.Manager != "apt" || r.Keyring != "/etc/apt/keyrings/agent.gpg" || r.Source != "/etc/apt/sources.list.d/agent.sources" ||
		!strings.Contains(r.SourceBody, "URIs: https://repo.example.com/agent\n") || !strings.Contains(r.SourceBody, "Suites: beta\n") ||
		!strings.Contains(r.SourceBody, "Signed-By: /etc/apt/keyrings/agent.gpg\n") {
		t.Errorf("repository %+v", r)
	}
	if got := r.Install.String(); !strings.HasSuffix(got, " agent") || !strings.Contains(got, "apt-get install") {
		t.Errorf("install command %q", got)
	}
	if !strings.Contains(r.Check.String(), "Dir::State::Lists="+ScratchToken) {
		t.Errorf("the check does not keep its lists in the scratch directory: %s", r.Check)
	}
	if text := p.Text("/tmp/x"); !strings.Contains(text, "Dir::State::Lists=/tmp/x/repo.check") {
		t.Errorf("the plan text does not show the check:\n%s", text)
	}
	if p, err := NewPlan(deb, testRelease(), State{Record: &Record{ReleaseVersion: 1, Version: "1.0.0", Method: MethodRepo}}, PlanOptions{Repo: ro}); err != nil || p.Action != ActionUpgrade {
		t.Errorf("again: %v %v", p, err)
	}

	for name, tc := range map[string]struct {
		facts detector.Facts
		ro    RepoOptions
		want  string
	}{
		"dnf host":      {detector.Facts{DistroID: "fedora", PackageManager: "dnf", PackageFormat: "rpm", Arch: "amd64"}, *ro, "adds repositories for apt"},
		"no URL":        {deb, RepoOptions{}, "needs --repo-url"},
		"ftp URL":       {deb, RepoOptions{URL: "ftp://repo.example.com"}, "http(s) URL"},
		"plain http":    {deb, RepoOptions{URL: "http://repo.example.com"}, "plain http"},
		"credentials":   {deb, RepoOptions{URL: "https://u:p@repo.example.com"}, "no credentials"},
		"bad channel":   {deb, RepoOptions{URL: "https://repo.example.com", Channel: "../x"}, "channel"},
		"quote in path": {deb, RepoOptions{URL: "https://repo.example.com/a'b"}, "quotes"},
	} {
		_, err := NewPlan(tc.facts, testRelease(), State{}, PlanOptions{Repo: &tc.ro})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
		}
	}
	if _, err := NewPlan(deb, testRelease(), State{}, PlanOptions{Repo: &RepoOptions{URL: "http://127.0.0.1:8080"}}); err != nil {
		t.Errorf("plain http to loopback: %v", err)
	}
	dnf := detector.Facts{DistroID: "fedora", PackageManager: "dnf", PackageFormat: "rpm", Arch: "amd64"}
	if _, err := NewPlan(dnf, testRelease(), State{}, PlanOptions{Repo: ro}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("dnf host: %v, want ErrUnsupported", err)
	}

	up, err := NewUninstallPlan(deb, "agent", State{Record: &Record{ReleaseVersion: 1, Version: "1.0.0", Format: "deb", Method: MethodRepo}}, PlanOptions{})
	if err != nil || len(up.Steps) != 2 || up.Steps[1].Kind != StepRepoRemove || up.Steps[1].Repo.Source != r.Source || up.Steps[1].Repo.Keyring != r.Keyring {
		t.Errorf("uninstall of a repo install: %+v %v", up, err)
	}
	if up, err := NewUninstallPlan(deb, "agent", State{Record: &Record{ReleaseVersion: 1, Version: "1.0.0", Format: "deb"}}, PlanOptions{}); err != nil ||
		len(up.Steps) != 1 {
		t.Errorf("uninstall of a package install removes a repository: %+v %v", up, err)
	}
}

// TestRecordMethod: the record carries method=repo, as install.sh writes
// it, and nothing else there.
func TestRecordMethod(t *testing.T) {
	r := Record{ReleaseVersion: 5, Version: "1.0.0-1", Format: "deb", PackageManager: "apt", Package: "agent", Method: MethodRepo}
	data := r.Marshal()
	if !strings.Contains(string(data), "\nmethod=repo\n") {
		t.Errorf("record %q", data)
	}
	back, err := ParseRecord(data)
	if err != nil || *back != r {
		t.Errorf("parsed %+v %v, want %+v", back, err, r)
	}
	if back, err := ParseRecord([]byte("release_version=1\nversion=1\nmethod=rm -rf\n")); err != nil || back.Method != "" {
		t.Errorf("a method other than repo: %+v %v", back, err)
	}
}
