package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/config"
)

// TestDidYouMean checks that a misspelt key, table or value is answered
// with the likely intended one in the problem's fix, at its line.
func TestDidYouMean(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(validConfig, old) {
			t.Fatalf("test table out of date: %q not in validConfig", old)
		}
		return strings.Replace(validConfig, old, new, 1)
	}
	archs := func(a string) string { return replace(`archs = ["amd64"]`, `archs = ["amd64", "`+a+`"]`) }
	cases := []struct {
		name, cfg string
		line      int
		field     string
		fix       string // the whole fix, or its start when it ends in "…"
	}{
		{"key", replace(`license = "MIT"`, `licence = "MIT"`), 5, "project.licence", `did you mean "license"?`},
		{"swapped letters", replace(`license = "MIT"`, `licnese = "MIT"`), 5, "project.licnese", `did you mean "license"?`},
		{"table", replace("[service]", "[servce]"), 10, "servce", `did you mean "service"?`},
		{"key in an array of tables", replace(`source = "probe.toml"`, "source = \"probe.toml\"\nmdoe = \"0640\""), 15, "config[0].mdoe", `did you mean "mode"?`},
		{"key in the wrong table", replace(`args = ["-v"]`, "args = [\"-v\"]\narchs = [\"amd64\"]"), 12, "service.archs", `did you mean "args"? If not, move it to [targets]`},
		{"key only in another table", replace(`license = "MIT"`, "license = \"MIT\"\nformats = [\"deb\"]"), 6, "project.formats", "move it to [package] or [targets]"},
		{"x86_64", archs("x86_64"), 21, "targets.archs[1]", `did you mean "amd64"? Use one of amd64, arm64, armv7, 386, ppc64le, s390x, riscv64`},
		{"aarch64", archs("aarch64"), 21, "targets.archs[1]", `did you mean "arm64"? …`},
		{"i686", archs("i686"), 21, "targets.archs[1]", `did you mean "386"? …`},
		{"i386", archs("i386"), 21, "targets.archs[1]", `did you mean "386"? …`},
		{"armhf", archs("armhf"), 21, "targets.archs[1]", `did you mean "armv7"? …`},
		{"armv7l", archs("armv7l"), 21, "targets.archs[1]", `did you mean "armv7"? …`},
		{"upper case", archs("ARM64"), 21, "targets.archs[1]", `did you mean "arm64"? …`},
		{"prebuilt arch", replace(`amd64 = "bin/probe"`, "amd64 = \"bin/probe\"\nx86_64 = \"bin/probe\""), 9, "binary.prebuilt.x86_64", `did you mean "amd64"? …`},
		{"format", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\nformats = [\"dbe\"]"), 22, "targets.formats[0]", `did you mean "deb"? Use one of …`},
		{"init", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\ninits = [\"sytemd\"]"), 22, "targets.inits[0]", `did you mean "systemd"? …`},
		{"restart", replace(`args = ["-v"]`, "args = [\"-v\"]\nrestart = \"on_failure\""), 12, "service.restart", `did you mean "on-failure"? Use one of always, on-failure, never`},
		{"profile", replace(`args = ["-v"]`, "args = [\"-v\"]\nprofile = \"strcit\""), 12, "service.profile", `did you mean "strict"? …`},
		{"reload signal", replace(`args = ["-v"]`, "args = [\"-v\"]\nreload_signal = \"SIGHUP\""), 12, "service.reload_signal", `did you mean "HUP"? Use one of HUP, USR1, USR2, or leave it unset`},
		{"limits key", replace(`args = ["-v"]`, "args = [\"-v\"]\n\n[service.limits]\nopen_file = 4096"), 14, "service.limits.open_file", `did you mean "open_files"?`},
		{"limit in [service]", replace(`args = ["-v"]`, "args = [\"-v\"]\nnice = 5"), 12, "service.nice", "move it to [service.limits]"},
		{"memory suffix case", replace(`args = ["-v"]`, "args = [\"-v\"]\n\n[service.limits]\nmemory_max = \"256m\""), 14, "service.limits.memory_max", `did you mean "256M"? The suffixes are upper case.`},
		{"nothing close", replace(`args = ["-v"]`, "args = [\"-v\"]\nprofile = \"hardened\""), 12, "service.profile", "use one of default, strict, trusted, nonetwork"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, path := writeProject(t, tc.cfg)
			code, stdout, stderr := runCmd(t, "--json", "--config", path, "validate")
			if code != exitInput {
				t.Fatalf("exit %d, want %d\n%s%s", code, exitInput, stdout, stderr)
			}
			var rep errorReportJSON
			if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
				t.Fatalf("not JSON: %v\n%s", err, stdout)
			}
			if len(rep.Problems) != 1 {
				t.Fatalf("want exactly one problem, got %d:\n%s", len(rep.Problems), rep.Error)
			}
			p := rep.Problems[0]
			fixOK := p.Fix == tc.fix
			if prefix, ok := strings.CutSuffix(tc.fix, "…"); ok {
				fixOK = strings.HasPrefix(p.Fix, prefix)
			}
			if p.File != path || p.Line != tc.line || p.Field != tc.field || !fixOK {
				t.Errorf("got %+v\nwant line %d, field %s, fix %q", p, tc.line, tc.field, tc.fix)
			}
		})
	}
}

// TestLdflagsVariableCheckedBeforeBuilding checks that a misspelt ldflags
// variable is bad input found by validate, before anything is compiled.
func TestLdflagsVariableCheckedBeforeBuilding(t *testing.T) {
	cfg := strings.Replace(validConfig, "[binary.prebuilt]\namd64 = \"bin/probe\"",
		"[binary]\ngo_package = \"./src\"\nldflags = \"-X main.commit={{.Comit}}\"", 1)
	dir, path := writeProject(t, cfg)
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	// Were it compiled, the build would fail with exit 1, not 2.
	os.WriteFile(filepath.Join(dir, "src", "main.go"), []byte("package main\n\nfunc main() { this does not compile }\n"), 0o644)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	for _, command := range []string{"validate", "build"} {
		code, stdout, stderr := runCmd(t, "--json", "--config", path, command, "--dist="+filepath.Join(dir, "dist"))
		if command == "validate" {
			code, stdout, stderr = runCmd(t, "--json", "--config", path, command)
		}
		var rep errorReportJSON
		if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitInput {
			t.Fatalf("%s: exit %d, want %d; %v\n%s%s", command, code, exitInput, err, stdout, stderr)
		}
		want := config.Problem{File: path, Line: 9, Field: "binary.ldflags", Msg: "unknown variable {{.Comit}}",
			Fix: "did you mean {{.Commit}}? Use the variables {{.Version}}, {{.Commit}}, {{.ShortCommit}}, {{.Date}}, {{.Branch}}"}
		if len(rep.Problems) != 1 || rep.Problems[0] != want {
			t.Errorf("%s: problems %+v, want [%+v]", command, rep.Problems, want)
		}
	}
}
