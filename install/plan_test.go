package install

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/detector"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging/tarball"
	"github.com/omnipack/omnipack/release"
)

// testRelease is a manifest with every package format for amd64 and arm64.
func testRelease(formats ...string) *manifest.Release {
	if len(formats) == 0 {
		formats = release.PackageFormats()
	}
	exp := time.Now().Add(time.Hour)
	r := &manifest.Release{Schema: manifest.SchemaVersion, Name: "agent", Version: "1.2.0", Release: 1,
		ReleaseVersion: 1700000100, Expires: &exp,
		Keys: &manifest.Keys{Release: strings.Repeat("01", 32), OpenPGP: strings.Repeat("AB", 20), APKKeyName: "agent-01010101", APK: strings.Repeat("01", 32)}}
	for _, arch := range []string{"amd64", "arm64"} {
		for _, f := range formats {
			r.Artifacts = append(r.Artifacts, manifest.Artifact{Name: "agent-" + arch + "." + f, Format: f, Arch: arch, OS: "linux",
				Version: "1.2.0-1", Size: 100, SHA256: strings.Repeat("ab", 32)})
		}
		r.Artifacts = append(r.Artifacts, manifest.Artifact{Name: "agent-" + arch + ".spdx.json", Format: "spdx", Arch: arch, OS: "linux",
			Version: "1.2.0-1", Size: 10, SHA256: strings.Repeat("cd", 32)})
	}
	return r
}

type expectation struct{ file, format, pm string }

func readExpected(t *testing.T) []expectation {
	t.Helper()
	b, err := os.ReadFile("../detector/testdata/os-release/EXPECTED.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var rows []expectation
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		rows = append(rows, expectation{f[0], f[1], f[2]})
	}
	if len(rows) < 10 {
		t.Fatalf("only %d rows in EXPECTED.tsv", len(rows))
	}
	return rows
}

// factsFor detects a tree holding only the fixture's os-release, as a
// host of that distro on amd64 with systemd running.
func factsFor(t *testing.T, fixture string) detector.Facts {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("../detector/testdata/os-release", fixture))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	if err := os.WriteFile(filepath.Join(root, "etc/os-release"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := detector.Detect(root)
	if err != nil {
		t.Fatal(err)
	}
	f.Arch, f.Init = "amd64", "systemd"
	return f
}

// TestPlanEveryFixture: for every os-release fixture, the plan installs
// the artifact of EXPECTED.tsv's format with that package manager; NixOS
// is refused.
func TestPlanEveryFixture(t *testing.T) {
	tools := map[string]string{"apt": "apt-get", "dnf": "dnf", "yum": "yum", "zypper": "zypper", "apk": "apk", "pacman": "pacman"}
	for _, e := range readExpected(t) {
		t.Run(e.file, func(t *testing.T) {
			f := factsFor(t, e.file)
			if f.PackageFormat != e.format || f.PackageManager != e.pm {
				t.Fatalf("detector says %s/%s, EXPECTED.tsv %s/%s", f.PackageFormat, f.PackageManager, e.format, e.pm)
			}
			p, err := NewPlan(f, testRelease(), State{}, PlanOptions{})
			if e.format == "none" {
				if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "NixOS") || !strings.Contains(err.Error(), "nothing was changed") {
					t.Fatalf("NixOS not refused clearly: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Artifact.Format != e.format || p.Artifact.Arch != "amd64" || p.Format != e.format {
				t.Errorf("chose %s (%s/%s), want format %s for amd64", p.Artifact.Name, p.Artifact.Format, p.Artifact.Arch, e.format)
			}
			if p.Action != ActionInstall || p.Steps[0].Kind != StepDownload {
				t.Errorf("action %s, first step %s", p.Action, p.Steps[0].Kind)
			}
			var runs []string
			for _, s := range p.Steps {
				if s.Kind == StepRun {
					runs = append(runs, s.Cmd.String())
				}
			}
			if e.format == tarball.Name {
				if !slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == StepInstallFiles }) || len(runs) != 2 {
					t.Errorf("tarball plan lacks unpack and scripts: %v", runs)
				}
			} else {
				if len(runs) != 1 || !strings.Contains(runs[0], tools[e.pm]+" ") || !strings.HasSuffix(runs[0], ArtifactToken) {
					t.Errorf("install command %v, want %s … %s", runs, tools[e.pm], ArtifactToken)
				}
			}
			if last := p.Steps[len(p.Steps)-1]; last.Kind != StepHealth || last.Init != "systemd" || last.Seconds != 5 {
				t.Errorf("last step %+v, want a 5 s health check through systemd", last)
			}
		})
	}
}

func TestPlanRefusals(t *testing.T) {
	deb := detector.Facts{DistroID: "debian", PackageManager: "apt", PackageFormat: "deb", Arch: "amd64", Init: "systemd"}
	t.Run("unknown arch", func(t *testing.T) {
		f := deb
		f.Arch = detector.Unknown
		if _, err := NewPlan(f, testRelease(), State{}, PlanOptions{}); !errors.Is(err, ErrUnsupported) {
			t.Errorf("got %v", err)
		}
	})
	t.Run("arch not built", func(t *testing.T) {
		f := deb
		f.Arch = "s390x"
		_, err := NewPlan(f, testRelease(), State{}, PlanOptions{})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "deb/amd64") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("no deb falls back to the tarball", func(t *testing.T) {
		p, err := NewPlan(deb, testRelease("rpm", "tarball"), State{}, PlanOptions{})
		if err != nil || p.Artifact.Format != tarball.Name || len(p.Notes) == 0 || !strings.Contains(p.Notes[0], "tarball") {
			t.Fatalf("%+v %v", p, err)
		}
	})
	t.Run("neither package nor tarball", func(t *testing.T) {
		_, err := NewPlan(deb, testRelease("rpm"), State{}, PlanOptions{})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "rpm/amd64") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("version pin", func(t *testing.T) {
		if _, err := NewPlan(deb, testRelease(), State{}, PlanOptions{Version: "9.9"}); err == nil || !strings.Contains(err.Error(), "pinned version 9.9") {
			t.Errorf("got %v", err)
		}
		if _, err := NewPlan(deb, testRelease(), State{}, PlanOptions{Version: "1.2.0"}); err != nil {
			t.Error(err)
		}
	})
	t.Run("unsafe artifact name", func(t *testing.T) {
		r := testRelease()
		r.Artifacts[0].Name = "../../etc/passwd"
		if _, err := NewPlan(deb, r, State{}, PlanOptions{}); err == nil || !strings.Contains(err.Error(), "not a plain file name") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("bad sha256", func(t *testing.T) {
		r := testRelease()
		r.Artifacts[1].SHA256 = strings.Repeat("AB", 32)
		if _, err := NewPlan(deb, r, State{}, PlanOptions{}); err == nil || !strings.Contains(err.Error(), "sha256") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("size out of range", func(t *testing.T) {
		r := testRelease()
		r.Artifacts[1].Size = 0
		if _, err := NewPlan(deb, r, State{}, PlanOptions{}); err == nil || !strings.Contains(err.Error(), "size") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("secret value with a newline", func(t *testing.T) {
		_, err := NewPlan(deb, testRelease(), State{}, PlanOptions{Sets: []Setting{{"auth_key", "se\ncret"}}})
		if err == nil || strings.Contains(err.Error(), "cret") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("config file outside /etc/NAME", func(t *testing.T) {
		for _, c := range []string{"/etc/passwd", "../passwd", "/etc/agent/../passwd"} {
			if _, err := NewPlan(deb, testRelease(), State{}, PlanOptions{ConfigFile: c}); err == nil {
				t.Errorf("%s accepted", c)
			}
		}
		p, err := NewPlan(deb, testRelease(), State{}, PlanOptions{ConfigFile: "conf.d/x.toml", Sets: []Setting{{"a", "b"}}})
		if err != nil || !slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Path == "/etc/agent/conf.d/x.toml" }) {
			t.Errorf("%v %v", p, err)
		}
	})
}

// TestPlanVersions: the signed release version against the record.
func TestPlanVersions(t *testing.T) {
	deb := detector.Facts{DistroID: "debian", PackageManager: "apt", PackageFormat: "deb", Arch: "amd64", Init: "systemd"}
	r := testRelease()
	rec := func(rv int64) State {
		return State{Record: &Record{ReleaseVersion: rv, Version: "1.1.0", Format: "deb"}, Binary: true}
	}
	if _, err := NewPlan(deb, r, rec(r.ReleaseVersion+1), PlanOptions{}); !errors.Is(err, ErrRollback) {
		t.Errorf("rollback: %v", err)
	}
	p, err := NewPlan(deb, r, rec(r.ReleaseVersion+1), PlanOptions{AllowDowngrade: true})
	if err != nil || p.Action != ActionDowngrade || !strings.Contains(p.Steps[1].Cmd.String(), "--allow-downgrades") {
		t.Errorf("downgrade: %+v %v", p, err)
	}
	p, err = NewPlan(deb, r, rec(r.ReleaseVersion-1), PlanOptions{})
	if err != nil || p.Action != ActionUpgrade {
		t.Errorf("upgrade: %+v %v", p, err)
	}
	p, err = NewPlan(deb, r, rec(r.ReleaseVersion), PlanOptions{})
	if err != nil || p.Action != ActionNone || slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == StepDownload || s.Kind == StepRun }) {
		t.Errorf("same release: %+v %v", p, err)
	}
	p, err = NewPlan(deb, r, rec(r.ReleaseVersion), PlanOptions{Reinstall: true})
	if err != nil || p.Action != ActionReinstall {
		t.Errorf("reinstall: %+v %v", p, err)
	}
	st := rec(r.ReleaseVersion)
	st.Binary = false
	p, err = NewPlan(deb, r, st, PlanOptions{})
	if err != nil || p.Action != ActionReinstall {
		t.Errorf("recorded but missing: %+v %v", p, err)
	}
}

func TestPlanInitSteps(t *testing.T) {
	f := detector.Facts{DistroID: "alpine", PackageManager: "apk", PackageFormat: "apk", Arch: "amd64", Init: "openrc"}
	sets := []Setting{{"auth_key", "s3cr3t-value"}}
	p, err := NewPlan(f, testRelease(), State{}, PlanOptions{Sets: sets})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range p.Steps {
		kinds = append(kinds, string(s.Kind))
	}
	if got := strings.Join(kinds, " "); got != "download trust-key run record config restart health" {
		t.Errorf("steps %s", got)
	}
	text := p.Text("/tmp/x")
	for _, want := range []string{"/etc/apk/keys/agent-01010101.rsa.pub", "apk add /tmp/x/agent-amd64.apk", "auth_key=<set>", "rc-service agent restart", "rc-service agent status"} {
		if !strings.Contains(text, want) {
			t.Errorf("plan text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "s3cr3t") {
		t.Errorf("plan text shows the secret:\n%s", text)
	}

	p, _ = NewPlan(f, testRelease(), State{}, PlanOptions{NoStart: true, Sets: sets})
	if slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == StepHealth || s.Kind == StepRestart }) ||
		!slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == StepNoStart }) {
		t.Errorf("--no-start plan: %+v", p.Steps)
	}

	f.Init = detector.None
	p, _ = NewPlan(f, testRelease(), State{}, PlanOptions{})
	if p.Init != "" || slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == StepHealth }) {
		t.Errorf("no init running, but %+v", p.Steps)
	}
	// The init the scripts recorded wins over the detected one.
	f.Init = "sysvinit"
	p, _ = NewPlan(f, testRelease(), State{Init: "openrc"}, PlanOptions{})
	if p.Init != "openrc" {
		t.Errorf("init %s", p.Init)
	}
}

func TestUninstallPlan(t *testing.T) {
	deb := detector.Facts{DistroID: "debian", PackageManager: "apt", PackageFormat: "deb", Arch: "amd64", Init: "systemd"}
	p, err := NewUninstallPlan(deb, "agent", State{}, PlanOptions{Purge: true})
	if err != nil || p.Action != ActionPurge || p.Steps[0].Cmd.String() != "DEBIAN_FRONTEND=noninteractive apt-get purge -y agent" ||
		p.Steps[0].OnlyIf.String() != "dpkg-query -W agent" || p.Steps[1].Kind != StepPurge || p.Steps[2].Kind != StepForget {
		t.Errorf("deb purge: %+v %v", p, err)
	}
	rpm := detector.Facts{DistroID: "fedora", PackageManager: "dnf", PackageFormat: "rpm", Arch: "amd64"}
	p, err = NewUninstallPlan(rpm, "agent", State{}, PlanOptions{})
	if err != nil || p.Steps[0].Cmd.String() != "dnf remove -y agent" || len(p.Steps) != 1 || !strings.Contains(strings.Join(p.Notes, " "), "record") {
		t.Errorf("rpm remove: %+v %v", p, err)
	}
	// The record (or the tarball's file list) says how it was installed.
	p, err = NewUninstallPlan(deb, "agent", State{Record: &Record{ReleaseVersion: 1, Version: "1.0", Format: "tarball"}}, PlanOptions{})
	if err != nil || p.Format != tarball.Name || p.Steps[0].Cmd.String() != "/bin/sh /usr/lib/agent/scripts/preremove" || p.Steps[1].Kind != StepRemoveFiles {
		t.Errorf("tarball remove: %+v %v", p, err)
	}
	void := detector.Facts{DistroID: "void", PackageManager: "none", PackageFormat: "tarball", Arch: "amd64"}
	if p, err = NewUninstallPlan(void, "agent", State{TarballFiles: true}, PlanOptions{}); err != nil || p.Format != tarball.Name {
		t.Errorf("void: %+v %v", p, err)
	}
	if _, err := NewUninstallPlan(deb, "../x", State{}, PlanOptions{}); err == nil {
		t.Error("bad name accepted")
	}
}

// TestPlanEnvironment: --set env.NAME becomes one step on the environment
// file the manifest names for the chosen artifact, after the config, with
// the restart; its plan line names the file and the variables, never a
// value; a package without one is refused.
func TestPlanEnvironment(t *testing.T) {
	f := detector.Facts{DistroID: "fedora", PackageManager: "dnf", PackageFormat: "rpm", Arch: "amd64", Init: "systemd"}
	r := testRelease()
	for i := range r.Artifacts {
		if r.Artifacts[i].Format == "rpm" {
			r.Artifacts[i].EnvironmentFile = "/etc/sysconfig/agent"
		}
	}
	sets := []Setting{{"env.TOKEN", "s3cr3t-env"}, {"auth_key", "k"}, {"env.LOG_LEVEL", "debug"}, {"env.TOKEN", "again"}}
	p, err := NewPlan(f, r, State{}, PlanOptions{Sets: sets})
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, s := range p.Steps {
		kinds = append(kinds, string(s.Kind))
	}
	if got := strings.Join(kinds, " "); got != "download run record config environment restart health" {
		t.Errorf("steps %s", got)
	}
	for _, s := range p.Steps {
		if s.Kind == StepConfig && strings.Contains(s.Desc, "env.") {
			t.Errorf("the config step sets the environment's variables: %s", s.Desc)
		}
	}
	lines := p.PlanLines()
	if !slices.Contains(lines, "plan: set-env /etc/sysconfig/agent LOG_LEVEL TOKEN") {
		t.Errorf("plan lines %q", lines)
	}
	if text := p.Text("/tmp/x") + strings.Join(lines, "\n"); strings.Contains(text, "s3cr3t") || strings.Contains(text, "debug") {
		t.Errorf("the plan shows a value:\n%s", text)
	}

	// Only env settings: no config step, whatever the config file.
	p, err = NewPlan(f, r, State{}, PlanOptions{Sets: []Setting{{"env.A", "1"}}, ConfigFile: "other.toml"})
	if err != nil || slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == StepConfig }) {
		t.Errorf("%+v %v", p, err)
	}
	// The deb of this release names no environment file.
	f = detector.Facts{DistroID: "debian", PackageManager: "apt", PackageFormat: "deb", Arch: "amd64", Init: "systemd"}
	if _, err := NewPlan(f, r, State{}, PlanOptions{Sets: []Setting{{"env.A", "1"}}}); !errors.Is(err, ErrNoEnvironmentFile) ||
		!strings.Contains(err.Error(), "--set env.A") || !strings.Contains(err.Error(), "deb package ships no environment file") {
		t.Errorf("no environment file: %v", err)
	}
	// A bad variable name is refused before anything is planned.
	if _, err := NewPlan(f, r, State{}, PlanOptions{Sets: []Setting{{"env.9A", "1"}}}); err == nil || !strings.Contains(err.Error(), "env.NAME") {
		t.Errorf("bad name: %v", err)
	}
}
