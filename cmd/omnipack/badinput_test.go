package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// validConfig builds from a prebuilt binary so the table runs without
// compiling anything. Each case rewrites one part of it.
const validConfig = `[project]
name = "probe"
version = "1.0.0"
maintainer = "Ops <ops@example.com>"
license = "MIT"

[binary.prebuilt]
amd64 = "bin/probe"

[service]
args = ["-v"]

[[config]]
source = "probe.toml"

[[files]]
source = "README"
dest = "/usr/share/doc/probe/README"

[targets]
archs = ["amd64"]
`

// writeProject writes a project directory holding the config and the files
// validConfig refers to.
func writeProject(t *testing.T, cfg string) (dir, path string) {
	t.Helper()
	dir = t.TempDir()
	for name, body := range map[string]string{
		"bin/probe":  "#!/bin/sh\n",
		"probe.toml": "key = 1\n",
		"README":     "probe\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	path = filepath.Join(dir, "omnipack.toml")
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, path
}

// snapshot reads every file under dir, so a test can prove it unchanged.
func snapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		files[strings.TrimPrefix(p, dir)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestBadInput(t *testing.T) {
	replace := func(old, new string) string {
		if !strings.Contains(validConfig, old) {
			t.Fatalf("test table out of date: %q not in validConfig", old)
		}
		return strings.Replace(validConfig, old, new, 1)
	}
	// limits puts a [service.limits] table holding line at line 13, its
	// key at line 14.
	limits := func(line string) string {
		return replace(`args = ["-v"]`, "args = [\"-v\"]\n\n[service.limits]\n"+line)
	}
	cases := []struct {
		name  string
		cfg   string
		line  int // 0: no line expected (the problem has no place in the file)
		field string
		want  string // a fragment of the message
	}{
		{"unknown key", replace(`license = "MIT"`, "license = \"MIT\"\nlicence = \"MIT\""), 6, "project.licence", "unknown key"},
		{"wrong type", replace(`version = "1.0.0"`, "version = \"1.0.0\"\nrelease = \"one\""), 4, "project.release", "incompatible types"},
		{"toml syntax", replace(`license = "MIT"`, `license = "MIT`), 5, "", ""},
		{"missing binary", replace(`amd64 = "bin/probe"`, `amd64 = "bin/nothere"`), 8, "binary.prebuilt.amd64", "does not exist"},
		{"no binary source", replace("[binary.prebuilt]\namd64 = \"bin/probe\"", ""), 0, "binary", "no binary source"},
		{"prebuilt missing an arch", replace(`archs = ["amd64"]`, `archs = ["amd64", "arm64"]`), 0, "binary.prebuilt", "no prebuilt binary for target architecture arm64"},
		{"name invalid for a program", replace(`name = "probe"`, `name = "probe agent"`), 2, "project.name", "use letters, digits and _ . : - only"},
		{"package name invalid for deb", replace(`license = "MIT"`, "license = \"MIT\"\n\n[package]\nname = \"Probe_Agent\""), 8, "package.name", "not a valid deb package name"},
		{"version with hyphen", replace(`version = "1.0.0"`, `version = "1.0-beta"`), 3, "project.version", "not a valid deb version"},
		{"version invalid for apk only", replace(`version = "1.0.0"`, `version = "1.0.0beta"`), 3, "project.version", "not a valid apk version"},
		{"unknown architecture", replace(`archs = ["amd64"]`, `archs = ["amd64", "mips"]`), 21, "targets.archs[1]", `unknown value "mips"`},
		{"unknown init", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\ninits = [\"systemd\", \"launchd\"]"), 22, "targets.inits[1]", `unknown value "launchd"`},
		{"unknown format", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\nformats = [\"snap\"]"), 22, "targets.formats[0]", `unknown value "snap"`},
		{"unknown profile", replace(`args = ["-v"]`, "args = [\"-v\"]\nprofile = \"hardened\""), 12, "service.profile", `unknown profile "hardened"`},
		{"two files one destination", replace(`dest = "/usr/share/doc/probe/README"`, `dest = "/usr/bin/probe"`), 18, "files[0].dest", "also used by the binary"},
		{"missing config file", replace(`source = "probe.toml"`, `source = "probe.conf"`), 14, "config[0].source", "does not exist"},
		{"bad config mode", replace(`source = "probe.toml"`, "source = \"probe.toml\"\nmode = \"0999\""), 15, "config[0].mode", "not an octal file mode"},
		{"config escapes /etc", replace(`source = "probe.toml"`, "source = \"probe.toml\"\ndest = \"../passwd\""), 15, "config[0].dest", "without .."},
		{"relative exec", replace(`args = ["-v"]`, "args = [\"-v\"]\nexec = \"probe\""), 12, "service.exec", "not an absolute path"},
		{"bad maintainer", replace(`maintainer = "Ops <ops@example.com>"`, `maintainer = "ops"`), 4, "project.maintainer", "Name <email>"},
		{"bad user", replace(`args = ["-v"]`, "args = [\"-v\"]\nuser = \"Probe User\""), 12, "service.user", "not a valid user name"},
		{"bad restart", replace(`args = ["-v"]`, "args = [\"-v\"]\nrestart = \"sometimes\""), 12, "service.restart", "unknown restart policy"},
		{"bad environment key", replace(`args = ["-v"]`, "args = [\"-v\"]\nenvironment = { \"1BAD\" = \"x\" }"), 12, "service.environment.1BAD", "not a valid variable name"},
		{"duplicate arch", replace(`archs = ["amd64"]`, `archs = ["amd64", "amd64"]`), 21, "targets.archs[1]", "listed twice"},
		{"missing key directory", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[signing]\nkey_dir = \"nokeys\""), 24, "signing.key_dir", "does not exist"},
		{"bad validity", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[signing]\nexpires = \"soon\""), 24, "signing.expires", "not a usable validity"},
		{"name too long for a file name", replace(`name = "probe"`, `name = "`+strings.Repeat("p", 300)+`"`), 2, "project.name", "at most 32 characters"},
		{"name too long for a user", replace(`name = "probe"`, `name = "`+strings.Repeat("p", 33)+`"`), 2, "project.name", "at most 32 characters"},
		{"unknown capability", replace(`args = ["-v"]`, "args = [\"-v\"]\ncapabilities = [\"CAP_SYS_TIME\", \"CAP_SYSLOGD\"]"), 12, "service.capabilities[1]", `unknown capability "CAP_SYSLOGD"`},
		{"directory in /usr", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[[dirs]]\npath = \"/usr/lib/probe/cache\""), 24, "dirs[0].path", "a tree packages do not create directories in"},
		{"directory of another user", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[[dirs]]\npath = \"/var/lib/probe/spool\"\nowner = \"www-data\""), 25, "dirs[0].owner", "neither the service's account nor root"},
		{"directory purged without the name", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[[dirs]]\npath = \"/var/lib/shared\"\npurge = true"), 25, "dirs[0].purge", `one of its components must be "probe"`},
		{"world-writable directory", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[[dirs]]\npath = \"/var/lib/probe/drop\"\nmode = \"0777\""), 25, "dirs[0].mode", "lets every user write"},
		{"file over the environment file", strings.Replace(replace(`dest = "/usr/share/doc/probe/README"`, "dest = \"/etc/default/probe\""), `args = ["-v"]`, "args = [\"-v\"]\nenvironment_file = true", 1), 19, "files[0].dest", "also used by the deb packages' environment file"},
		{"required capability not declared", replace(`args = ["-v"]`, "args = [\"-v\"]\ncapabilities = [\"CAP_SYS_TIME\"]\nrequired_capabilities = [\"CAP_SYSLOG\"]"), 13, "service.required_capabilities[0]", `"CAP_SYSLOG" is not in service.capabilities`},
		{"open files out of range", limits("open_files = 0"), 14, "service.limits.open_files", "0 is out of range"},
		{"memory size unit", limits(`memory_max = "256MB"`), 14, "service.limits.memory_max", `"256MB" is not a memory size`},
		{"memory size fraction", limits("memory_max = 1.5"), 14, "service.limits.memory_max", "1.5 is not a memory size"},
		{"memory size zero", limits("memory_max = 0"), 14, "service.limits.memory_max", "0 would leave the daemon no memory"},
		{"memory size too large", limits(`memory_max = "9999999999T"`), 14, "service.limits.memory_max", "too large"},
		{"cpu weight out of range", limits("cpu_weight = 10001"), 14, "service.limits.cpu_weight", "10001 is out of range"},
		{"nice out of range", limits("nice = 20"), 14, "service.limits.nice", "20 is out of range"},
		{"open files as a string", limits(`open_files = "4096"`), 14, "service.limits.open_files", "incompatible types"},
		{"env key without an environment file", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[installer]\nsecrets = [\"env.TOKEN\"]"), 0, "installer key 0", "which the package does not ship"},
		{"env key not a variable", strings.Replace(replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[installer]\nsecrets = [\"env.9X\"]"), `args = ["-v"]`, "args = [\"-v\"]\nenvironment_file = true", 1), 0, "installer key 0", `"env.9X" is not env.NAME`},
		{"image uid negative", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[oci]\nuid = -1"), 24, "oci.uid", "-1 is out of range"},
		{"image repository upper case", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[oci]\nrepository = \"ghcr.io/Vendor/probe\""), 24, "oci.repository", "is not an image repository name"},
		{"image only", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\nformats = [\"oci\"]"), 22, "targets.formats", "only an image is listed"},
		{"repository url plain http", replace(`archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[installer]\nrepo_url = \"http://packages.example.com\""), 24, "installer.repo_url", "serve the repository over https"},
		{"start check too long", replace(`args = ["-v"]`, "args = [\"-v\"]\nstart_check_seconds = 301"), 12, "service.start_check_seconds", "301 is out of range"},
		{"start check negative", replace(`args = ["-v"]`, "args = [\"-v\"]\nstart_check_seconds = -1"), 12, "service.start_check_seconds", "-1 is out of range"},
		{"health command not absolute", replace(`args = ["-v"]`, "args = [\"-v\"]\nhealth_command = [\"probe-check\"]"), 12, "service.health_command[0]", "neither an absolute path nor the program's name"},
		{"health command empty", replace(`args = ["-v"]`, "args = [\"-v\"]\nhealth_command = []"), 12, "service.health_command", "the command is empty"},
		{"health command quote", replace(`args = ["-v"]`, "args = [\"-v\"]\nhealth_command = [\"probe\", 'say \"hi\"']"), 12, "service.health_command[1]", "holds a character the installers cannot carry"},
		{"extra file in config dir", replace(`dest = "/usr/share/doc/probe/README"`, `dest = "/etc/probe/README"`), 18, "files[0].dest", "declare files under /etc/probe as [[config]]"},
	}
	if len(cases) < 15 {
		t.Fatalf("need at least 15 cases, have %d", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir, cfgPath := writeProject(t, tc.cfg)
			dist := filepath.Join(dir, "dist")
			if err := os.MkdirAll(dist, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dist, "release.json"), []byte(`{"previous":true}`), 0o644)
			os.WriteFile(filepath.Join(dist, "old.deb"), []byte("previous package"), 0o644)
			before := snapshot(t, dir)

			var stdout, stderr bytes.Buffer
			code := run([]string{"--config", cfgPath, "build", "--dist", dist}, &stdout, &stderr)
			msg := stderr.String()
			if code != exitInput {
				t.Fatalf("exit code %d, want %d; stderr:\n%s", code, exitInput, msg)
			}
			loc := regexp.QuoteMeta(cfgPath)
			if tc.line > 0 {
				loc += ":" + strconv.Itoa(tc.line) + ":"
			}
			if !regexp.MustCompile(loc).MatchString(msg) {
				t.Errorf("message does not name %s (line %d):\n%s", cfgPath, tc.line, msg)
			}
			if tc.field != "" && !strings.Contains(msg, tc.field) {
				t.Errorf("message does not name field %q:\n%s", tc.field, msg)
			}
			if tc.want != "" && !strings.Contains(msg, tc.want) {
				t.Errorf("message lacks %q:\n%s", tc.want, msg)
			}
			if !strings.Contains(msg, "fix:") {
				t.Errorf("message says nothing about the fix:\n%s", msg)
			}
			after := snapshot(t, dir)
			if len(after) != len(before) {
				t.Errorf("files changed: before %d, after %d", len(before), len(after))
			}
			for name, body := range before {
				if after[name] != body {
					t.Errorf("%s changed", name)
				}
			}
			leftovers, _ := filepath.Glob(filepath.Join(dir, ".dist.tmp-*"))
			if len(leftovers) > 0 {
				t.Errorf("temporary output left behind: %v", leftovers)
			}
		})
	}
}

// TestValidateReportsEveryProblem checks that validate lists all problems,
// not just the first, in text and JSON.
func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := strings.NewReplacer(`name = "probe"`, `name = "P"`, `archs = ["amd64"]`, `archs = ["vax"]`,
		`args = ["-v"]`, "args = [\"-v\"]\nprofile = \"x\"").Replace(validConfig)
	_, path := writeProject(t, cfg)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--config", path, "validate"}, &stdout, &stderr); code != exitInput {
		t.Fatalf("exit %d, want %d", code, exitInput)
	}
	for _, field := range []string{"project.name", "targets.archs[0]", "service.profile"} {
		if !strings.Contains(stderr.String(), field) {
			t.Errorf("validate did not report %s:\n%s", field, stderr.String())
		}
	}
	stdout.Reset()
	stderr.Reset()
	if code := run([]string{"--json", "--config", path, "validate"}, &stdout, &stderr); code != exitInput {
		t.Fatalf("--json exit %d, want %d", code, exitInput)
	}
	var report errorReportJSON
	if err := json.Unmarshal(stdout.Bytes(), &report); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, stdout.String())
	}
	if report.OK || len(report.Problems) < 3 {
		t.Errorf("want ok=false and 3+ problems, got %+v", report)
	}
}

func TestValidConfigValidates(t *testing.T) {
	_, path := writeProject(t, validConfig)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"--config", path, "validate"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
}

func TestMissingConfigFile(t *testing.T) {
	var stdout, stderr bytes.Buffer
	path := filepath.Join(t.TempDir(), "omnipack.toml")
	if code := run([]string{"--config", path, "build"}, &stdout, &stderr); code != exitInput {
		t.Fatalf("exit %d, want %d", code, exitInput)
	}
	if !strings.Contains(stderr.String(), "omnipack init") {
		t.Errorf("no hint to run omnipack init: %s", stderr.String())
	}
}

// TestFailedBuildKeepsDist breaks the build half way (the Go code does not
// compile) and checks that the previous dist/ is untouched and that no
// temporary output is left behind.
func TestFailedBuildKeepsDist(t *testing.T) {
	cfg := strings.Replace(validConfig, "[binary.prebuilt]\namd64 = \"bin/probe\"", "[binary]\ngo_package = \"./src\"", 1)
	dir, path := writeProject(t, cfg)
	os.MkdirAll(filepath.Join(dir, "src"), 0o755)
	os.WriteFile(filepath.Join(dir, "src", "go.mod"), []byte("module probe\n\ngo 1.22\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "src", "main.go"), []byte("package main\n\nfunc main() { this does not compile }\n"), 0o644)
	dist := filepath.Join(dir, "dist")
	os.MkdirAll(dist, 0o755)
	os.WriteFile(filepath.Join(dist, "release.json"), []byte(`{"previous":true}`), 0o644)
	before := snapshot(t, dir)
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")

	var stdout, stderr bytes.Buffer
	code := run([]string{"--config", path, "build", "--dist", dist}, &stdout, &stderr)
	if code != exitFailure {
		t.Fatalf("exit %d, want %d: %s", code, exitFailure, stderr.String())
	}
	if !strings.Contains(stderr.String(), "go build") {
		t.Errorf("the error does not say the go build failed: %s", stderr.String())
	}
	after := snapshot(t, dir)
	for name, body := range before {
		if after[name] != body {
			t.Errorf("%s changed", name)
		}
	}
	if len(after) != len(before) {
		t.Errorf("files were added: %d before, %d after", len(before), len(after))
	}
	if left, _ := filepath.Glob(filepath.Join(dir, ".dist.tmp-*")); len(left) > 0 {
		t.Errorf("temporary output left behind: %v", left)
	}
}

// TestValidateWarnsOfUnprovidedPaths: an absolute path in args or the
// environment that the package neither ships nor creates is a warning
// with its file, line, field and fix; validate still succeeds. Paths the
// package provides, their parents and /dev are not.
func TestValidateWarnsOfUnprovidedPaths(t *testing.T) {
	cfg := strings.Replace(validConfig, `args = ["-v"]`, `args = ["-textfile-dir", "/var/lib/probe/textfile", "-log=/var/log/probe/probe.log", "-db", "/srv/probe.db", "-null", "/dev/null", "-c", "/etc/probe/probe.toml"]
environment = { CACHE = "/var/cache/probe", OK = "/var/lib" }`, 1) + `
[[dirs]]
path = "/var/lib/probe/textfile"
`
	_, path := writeProject(t, cfg)
	code, stdout, stderr := runCmd(t, "--config", path, "validate")
	if code != exitOK {
		t.Fatalf("validate: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"warning: " + path + ":11: service.args[2]: /var/log/probe/probe.log is neither shipped nor created",
		"warning: " + path + ":11: service.args[4]: /srv/probe.db is neither shipped nor created",
		"warning: " + path + ":12: service.environment.CACHE: /var/cache/probe is neither shipped nor created",
		"(fix: ship it with [[files]] or [[config]], declare it in [[dirs]], or correct the path)",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if n := strings.Count(stderr, "warning:"); n != 3 {
		t.Errorf("%d warnings, want 3:\n%s", n, stderr)
	}
	code, stdout, _ = runCmd(t, "--json", "--config", path, "validate")
	var rep struct {
		OK       bool `json:"ok"`
		Warnings []struct {
			Field string `json:"field"`
			Line  int    `json:"line"`
		} `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || code != exitOK || !rep.OK || len(rep.Warnings) != 3 || rep.Warnings[0].Field != "service.args[2]" || rep.Warnings[0].Line != 11 {
		t.Errorf("--json: exit %d %v %+v\n%s", code, err, rep, stdout)
	}
}

// TestEnvKeysInInstaller: with [service] environment_file, [installer]
// may name the environment file's variables as env.NAME.
func TestEnvKeysInInstaller(t *testing.T) {
	cfg := strings.Replace(validConfig, `args = ["-v"]`, "args = [\"-v\"]\nenvironment_file = true", 1)
	cfg = strings.Replace(cfg, `archs = ["amd64"]`, "archs = [\"amd64\"]\n\n[installer]\npositional = [\"env.TOKEN\"]\nsecrets = [\"env.TOKEN\", \"key\"]", 1)
	_, cfgPath := writeProject(t, cfg)
	if code, out, errOut := runCmd(t, "--config", cfgPath, "validate"); code != exitOK {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
}
