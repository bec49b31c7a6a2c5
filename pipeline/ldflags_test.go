package pipeline

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/config"
)

// runGit runs git in dir as a fixed author and committer at a fixed time
// and returns its trimmed output.
func runGit(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_AUTHOR_DATE=1700000000 +0000",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=1700000000 +0000")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// TestLdflagsVars checks each ldflags variable inside and outside git, on a
// branch and on a detached HEAD.
func TestLdflagsVars(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) string { t.Helper(); return runGit(t, dir, args...) }
	cfg := &config.Config{Dir: dir}
	v := config.Version{Base: "1.2.3", Commits: 2, Hash: "abcdef0"}

	outside := ldflagsVars(v, readSource(cfg), 86400)
	if outside != (config.LdflagsVars{Version: "1.2.3+git2.gabcdef0", Date: "1970-01-02T00:00:00Z"}) {
		t.Errorf("outside git: %+v", outside)
	}

	git("init", "-q", "-b", "release/2.x")
	git("commit", "-q", "--allow-empty", "-m", "one")
	commit := git("rev-parse", "HEAD")
	src := readSource(cfg)
	onBranch := ldflagsVars(v, src, 1700000000)
	want := config.LdflagsVars{Version: "1.2.3+git2.gabcdef0", Commit: commit, ShortCommit: commit[:7],
		Date: "2023-11-14T22:13:20Z", Branch: "release/2.x"}
	if onBranch != want {
		t.Errorf("on a branch: %+v, want %+v", onBranch, want)
	}
	if src.Commit != commit {
		t.Errorf("the provenance's source commit %q, want %q", src.Commit, commit)
	}

	git("checkout", "-q", "--detach")
	want.Branch = ""
	if detached := ldflagsVars(v, readSource(cfg), 1700000000); detached != want {
		t.Errorf("detached: %+v, want %+v", detached, want)
	}

	got, err := expandLdflags("-X main.version={{.Version}} -X main.commit={{.Commit}} -X main.short={{.ShortCommit}} -X main.date={{.Date}} -X main.branch={{.Branch}}", want)
	if err != nil || got != "-X main.version=1.2.3+git2.gabcdef0 -X main.commit="+commit+" -X main.short="+commit[:7]+" -X main.date=2023-11-14T22:13:20Z -X main.branch=" {
		t.Errorf("expandLdflags = %q, %v", got, err)
	}
	if _, err := expandLdflags("{{.Nope}}", want); err == nil {
		t.Error("an unknown variable expanded")
	}
}
