package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/layout"
)

// TestInitWritesAValidConfig checks that omnipack init's output validates
// as written, with paths relative to the config file wherever init is run
// from, and that init never overwrites without --force.
func TestInitWritesAValidConfig(t *testing.T) {
	for _, src := range []string{"cmd/agent", "agent-bin"} {
		dir := t.TempDir()
		os.MkdirAll(filepath.Join(dir, "cmd/agent"), 0o755)
		os.WriteFile(filepath.Join(dir, "agent-bin"), []byte("\x7fELF"), 0o755)
		cfg := filepath.Join(dir, "etc", "omnipack.toml")
		os.MkdirAll(filepath.Dir(cfg), 0o755)
		src = filepath.Join(dir, src)
		var stdout, stderr bytes.Buffer
		code := run([]string{"--config", cfg, "init", "--name", "my-agent", src}, &stdout, &stderr)
		if code != exitOK {
			t.Fatalf("init %s: exit %d: %s", src, code, stderr.String())
		}
		if code := run([]string{"--config", cfg, "validate"}, &stdout, &stderr); code != exitOK {
			t.Fatalf("init %s wrote a config that does not validate: %s", src, stderr.String())
		}
		stderr.Reset()
		if code := run([]string{"--config", cfg, "init", src}, &stdout, &stderr); code != exitInput || !strings.Contains(stderr.String(), "--force") {
			t.Errorf("init over an existing config: exit %d, %s", code, stderr.String())
		}
	}
}

// TestInitLimitsExample uncomments the [service.limits] example init
// writes: it must validate and set every limit.
func TestInitLimitsExample(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "agent-bin"), []byte("\x7fELF"), 0o755)
	cfg := filepath.Join(dir, "omnipack.toml")
	if code, _, stderr := runCmd(t, "--config", cfg, "init", filepath.Join(dir, "agent-bin")); code != exitOK {
		t.Fatalf("init: exit %d: %s", code, stderr)
	}
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	in := false
	for i, l := range lines {
		if l == "# [service.limits]" {
			in = true
		}
		if in && !strings.HasPrefix(l, "# ") {
			break
		}
		if in {
			lines[i] = strings.TrimPrefix(l, "# ")
		}
	}
	if !in {
		t.Fatalf("init wrote no [service.limits] example:\n%s", b)
	}
	os.WriteFile(cfg, []byte(strings.Join(lines, "\n")), 0o644)
	c, err := config.Load(cfg)
	if err != nil {
		t.Fatalf("the uncommented example does not validate: %v", err)
	}
	if l := c.ServiceModel("deb").Limits; l.OpenFiles == 0 || l.MemoryMax == 0 || l.CPUWeight == 0 || l.Nice == nil {
		t.Errorf("the example leaves a limit unset: %+v", l)
	}
}

// gitRepo runs git in dir with a fixed identity and commit time.
func gitRepo(t *testing.T, dir string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=1700000000 +0000")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
}

// writeFiles writes name -> body under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// initReportOf runs omnipack init --json and decodes its report.
func initReportOf(t *testing.T, args ...string) initReport {
	t.Helper()
	code, stdout, stderr := runCmd(t, append([]string{"--json"}, args...)...)
	if code != exitOK {
		t.Fatalf("init: exit %d\n%s%s", code, stdout, stderr)
	}
	var rep initReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("init --json: %v\n%s", err, stdout)
	}
	return rep
}

// TestInitForeignGoModule is init on someone else's Go project: a module
// in a tagged git checkout. The config must validate unchanged, be named
// after the module and versioned from the tag, and build a binary that
// carries the commit through {{.Commit}}.
func TestInitForeignGoModule(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"go.mod": "module example.com/acme/fancy_exporter\n\ngo 1.22\n",
		"main.go": `package main

import "fmt"

var version, commit, date string

func main() { fmt.Printf("version=%s commit=%s date=%s\n", version, commit, date) }
`,
	})
	git := gitRepo(t, dir)
	git("init", "-q", "-b", "main")
	git("add", ".")
	git("commit", "-q", "-m", "fancy exporter")
	git("tag", "v2.3.4")
	commit := git("rev-parse", "HEAD")
	cfg := filepath.Join(dir, "omnipack.toml")

	rep := initReportOf(t, "--config", cfg, "init", dir)
	// The project keeps the program's name; deb refuses "_" in package
	// names, so its rule maps the package to fancy-exporter.
	if rep.Name != "fancy_exporter" || rep.Version != "git" || rep.Resolved != "2.3.4" {
		t.Errorf("init report %+v, want fancy_exporter, version git giving 2.3.4", rep)
	}
	data, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^name = "fancy_exporter"$`),
		regexp.MustCompile(`(?m)^version = "git"$`),
		regexp.MustCompile(`(?m)^# .*rebuilding a commit reproduces it`),
		regexp.MustCompile(`(?m)^ldflags = ".*-X main.commit=\{\{.Commit\}\}.*"$`),
		regexp.MustCompile(`(?m)^#   \{\{.ShortCommit\}\}`),
		regexp.MustCompile(`(?m)^#   \{\{.Date\}\} .*SOURCE_DATE_EPOCH`),
		regexp.MustCompile(`(?m)^#   \{\{.Branch\}\}`),
		regexp.MustCompile(`(?m)^# ldflags = ".*-X github.com/prometheus/common/version.Revision=\{\{.Commit\}\}`),
		regexp.MustCompile(`(?m)^# args = \[`),
		regexp.MustCompile(`(?m)^# \[signing\]\n# key_dir = "keys"`),
		regexp.MustCompile(`(?m)^# \[installer\]\n# base_url = `),
	} {
		if !want.MatchString(text) {
			t.Errorf("omnipack.toml does not match %s:\n%s", want, text)
		}
	}
	if regexp.MustCompile(`(?m)^args`).MatchString(text) {
		t.Errorf("init assumed the program's arguments:\n%s", text)
	}

	if code, stdout, stderr := runCmd(t, "--config", cfg, "validate"); code != exitOK {
		t.Fatalf("validate the config as init wrote it: exit %d\n%s%s", code, stdout, stderr)
	}

	// With SOURCE_DATE_EPOCH unset the commit time dates the build.
	t.Setenv("SOURCE_DATE_EPOCH", "")
	os.Unsetenv("SOURCE_DATE_EPOCH")
	dist := filepath.Join(dir, "dist")
	code, stdout, stderr := runCmd(t, "--json", "--config", cfg, "build", "--dist", dist)
	if code != exitOK {
		t.Fatalf("build: exit %d\n%s%s", code, stdout, stderr)
	}
	var build struct {
		Release struct {
			Name            string `json:"name"`
			Version         string `json:"version"`
			SourceDateEpoch int64  `json:"source_date_epoch"`
		} `json:"release"`
	}
	if err := json.Unmarshal([]byte(stdout), &build); err != nil {
		t.Fatal(err)
	}
	if r := build.Release; r.Name != "fancy_exporter" || r.Version != "2.3.4" || r.SourceDateEpoch != 1700000000 {
		t.Errorf("release %+v, want fancy_exporter 2.3.4 dated by the commit (1700000000)", r)
	}
	// deb refuses "_" in package names, so its rule maps the package name.
	if _, err := os.Stat(filepath.Join(dist, "fancy-exporter_2.3.4-1_amd64.deb")); err != nil {
		t.Errorf("the deb is not named by the mapped package name: %v", err)
	}
	bin := fileFromTarGz(t, filepath.Join(dist, "fancy_exporter_2.3.4-1_linux_amd64.tar.gz"), "usr/bin/fancy_exporter")
	want := "version=2.3.4 commit=" + commit + " date=2023-11-14T22:13:20Z"
	if !bytes.Contains(bin, []byte(commit)) {
		t.Errorf("the binary does not hold the commit %s", commit)
	}
	if runtime.GOARCH == "amd64" {
		p := filepath.Join(t.TempDir(), "fancy_exporter")
		os.WriteFile(p, bin, 0o755)
		out, err := exec.Command(p).Output()
		if err != nil || strings.TrimSpace(string(out)) != want {
			t.Errorf("the built binary prints %q (%v), want %q", out, err, want)
		}
	}
	// dist/ is ignored through the .gitignore init wrote: only the two new
	// files show as untracked.
	if st := git("status", "--porcelain", "--untracked-files=all"); st != "?? .gitignore\n?? omnipack.toml" {
		t.Errorf("git status after init and build:\n%s", st)
	}
}

func fileFromTarGz(t *testing.T, archive, name string) []byte {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s in %s: %v", name, archive, err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			return data
		}
	}
}

func TestGoProgramName(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"plain/go.mod":          "module example.com/acme/fancy_exporter\n",
		"major/go.mod":          "// comment\nmodule example.com/acme/tool/v2 // the v2 line\n\ngo 1.22\n",
		"major/cmd/v3/x.go":     "package main\n",
		"quoted/go.mod":         "module \"example.com/quoted\"\n",
		"nested/go.mod":         "module example.com/nested\n",
		"nested/cmd/agent/x.go": "package main\n",
		"v1/go.mod":             "module example.com/v1\n",
		"none/x.go":             "package main\n",
	})
	for sub, want := range map[string]string{
		"plain":            "fancy_exporter",
		"major":            "tool",
		"major/cmd/v3":     "cmd",
		"quoted":           "quoted",
		"nested/cmd/agent": "agent",
		"v1":               "v1",
	} {
		if got, ok := goProgramName(filepath.Join(dir, sub)); !ok || got != want {
			t.Errorf("goProgramName(%s) = %q, %v; want %q", sub, got, ok, want)
		}
	}
	if got, ok := goProgramName(filepath.Join(dir, "none")); ok {
		t.Errorf("outside a module: %q", got)
	}
	// Outside a module init falls back to the directory's name.
	rep := initReportOf(t, "--config", filepath.Join(dir, "none", "omnipack.toml"), "init", filepath.Join(dir, "none"))
	if rep.Name != "none" {
		t.Errorf("init outside a module named it %q, want the directory's name", rep.Name)
	}
}

func TestProjectName(t *testing.T) {
	for program, want := range map[string]string{
		"agent":                 "agent",
		"fancy_exporter":        "fancy_exporter",
		"Node_Exporter":         "Node_Exporter",
		"_lead":                 "_lead",
		"my agent!":             "my-agent",
		".hidden":               "hidden",
		"a..b":                  "a.b",
		strings.Repeat("x", 40): strings.Repeat("x", 32),
	} {
		got, why := projectName(program)
		if got != want || (got != program) != (why != "") {
			t.Errorf("projectName(%q) = %q, %q; want %q", program, got, why, want)
		}
		if err := layout.CheckName(got); err != nil {
			t.Errorf("projectName(%q) = %q, which omnipack refuses: %v", program, got, err)
		}
	}
	for name, want := range map[string]string{"agent": "agent", "Fancy_Exporter": "fancy_exporter", "a.b:c": "a_b_c", "3proxy": "_3proxy"} {
		if got := config.DefaultUser(name); got != want {
			t.Errorf("config.DefaultUser(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestInitVersion checks where the version comes from: the tag ("git" when
// the config is in the same checkout, the tag's version when not), else a
// VERSION file, else 0.1.0; and that each result validates.
func TestInitVersion(t *testing.T) {
	main := map[string]string{"go.mod": "module example.com/agent\n", "main.go": "package main\n\nfunc main() {}\n"}
	t.Run("VERSION file", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, main)
		writeFiles(t, dir, map[string]string{"VERSION": "v1.4.0\n"})
		cfg := filepath.Join(dir, "omnipack.toml")
		if rep := initReportOf(t, "--config", cfg, "init", dir); rep.Version != "1.4.0" {
			t.Errorf("version %q, want 1.4.0 from VERSION", rep.Version)
		}
		mustValidate(t, cfg)
	})
	t.Run("untagged checkout", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, main)
		git := gitRepo(t, dir)
		git("init", "-q")
		git("add", ".")
		git("commit", "-q", "-m", "one")
		cfg := filepath.Join(dir, "omnipack.toml")
		if rep := initReportOf(t, "--config", cfg, "init", dir); rep.Version != "0.1.0" {
			t.Errorf("version %q, want 0.1.0", rep.Version)
		}
		if data, _ := os.ReadFile(cfg); !strings.Contains(string(data), `# No tag like v1.2.3 yet: after "git tag v1.0.0", version = "git"`) {
			t.Errorf("no hint to tag:\n%s", data)
		}
		mustValidate(t, cfg)
	})
	t.Run("commits after the tag", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, main)
		git := gitRepo(t, dir)
		git("init", "-q")
		git("add", ".")
		git("commit", "-q", "-m", "one")
		git("tag", "v1.0.0")
		git("commit", "-q", "--allow-empty", "-m", "two")
		cfg := filepath.Join(dir, "omnipack.toml")
		rep := initReportOf(t, "--config", cfg, "init", dir)
		if rep.Version != "git" || !strings.HasPrefix(rep.Resolved, "1.0.0+git1.g") {
			t.Errorf("version %q giving %q, want git giving 1.0.0+git1.gHASH", rep.Version, rep.Resolved)
		}
		mustValidate(t, cfg)
	})
	t.Run("config outside the checkout", func(t *testing.T) {
		src := t.TempDir()
		writeFiles(t, src, main)
		git := gitRepo(t, src)
		git("init", "-q")
		git("add", ".")
		git("commit", "-q", "-m", "one")
		git("tag", "v3.1.0")
		cfg := filepath.Join(t.TempDir(), "omnipack.toml")
		if rep := initReportOf(t, "--config", cfg, "init", src); rep.Version != "3.1.0" {
			t.Errorf("version %q, want 3.1.0 written out: git describe in the config's directory would not see the tag", rep.Version)
		}
		mustValidate(t, cfg)
	})
	t.Run("nothing", func(t *testing.T) {
		dir := t.TempDir()
		writeFiles(t, dir, main)
		cfg := filepath.Join(dir, "omnipack.toml")
		if rep := initReportOf(t, "--config", cfg, "init", dir); rep.Version != "0.1.0" {
			t.Errorf("version %q, want 0.1.0", rep.Version)
		}
		mustValidate(t, cfg)
	})
}

func mustValidate(t *testing.T, cfg string) {
	t.Helper()
	if code, stdout, stderr := runCmd(t, "--config", cfg, "validate"); code != exitOK {
		data, _ := os.ReadFile(cfg)
		t.Fatalf("validate: exit %d\n%s%s\n%s", code, stdout, stderr, data)
	}
}

// TestInitIgnoresOutputs checks that init adds /dist/ and /keys/ to the
// .gitignore beside the config, keeps what is there, and never adds a line
// twice.
func TestInitIgnoresOutputs(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"go.mod": "module example.com/agent\n", "main.go": "package main\n"})
	cfg := filepath.Join(dir, "omnipack.toml")
	ignore := filepath.Join(dir, ".gitignore")

	rep := initReportOf(t, "--config", cfg, "init", dir)
	got, _ := os.ReadFile(ignore)
	if rep.GitIgnore.Path != ignore || strings.Join(rep.GitIgnore.Added, " ") != "/dist/ /keys/" ||
		!strings.HasSuffix(string(got), "\n/dist/\n/keys/\n") {
		t.Errorf("new .gitignore: report %+v, file:\n%s", rep.GitIgnore, got)
	}
	// Again: nothing to add, the file is untouched.
	rep = initReportOf(t, "--config", cfg, "init", "--force", dir)
	again, _ := os.ReadFile(ignore)
	if len(rep.GitIgnore.Added) != 0 || string(again) != string(got) {
		t.Errorf("second init: added %v, file:\n%s", rep.GitIgnore.Added, again)
	}

	// An existing file, with dist already ignored and no final newline.
	os.WriteFile(ignore, []byte("*.o\ndist"), 0o644)
	rep = initReportOf(t, "--config", cfg, "init", "--force", dir)
	got, _ = os.ReadFile(ignore)
	if strings.Join(rep.GitIgnore.Added, " ") != "/keys/" || !strings.HasPrefix(string(got), "*.o\ndist\n#") ||
		!strings.HasSuffix(string(got), "\n/keys/\n") || strings.Count(string(got), "dist") != 1 {
		t.Errorf("existing .gitignore: added %v, file:\n%s", rep.GitIgnore.Added, got)
	}

	// git agrees: the keys and the build output are ignored, and a Go
	// package directory called keys is not.
	git := gitRepo(t, dir)
	git("init", "-q")
	writeFiles(t, dir, map[string]string{"keys/release.key": "k", "dist/release.json": "{}", "internal/keys/keys.go": "package keys\n"})
	if st := git("status", "--porcelain", "--untracked-files=all"); strings.Contains(st, "release.key") ||
		strings.Contains(st, "dist/") || !strings.Contains(st, "internal/keys/keys.go") {
		t.Errorf("git status:\n%s", st)
	}
}
