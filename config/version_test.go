package config

import (
	"os"
	"os/exec"
	"testing"
)

func TestParseDescribe(t *testing.T) {
	cases := map[string]Version{
		"v1.2.3-0-gabc1234":     {Base: "1.2.3"},
		"v1.2.3-5-gabc1234":     {Base: "1.2.3", Commits: 5, Hash: "abc1234"},
		"1.0.0~rc1-12-g0011223": {Base: "1.0.0~rc1", Commits: 12, Hash: "0011223"},
	}
	for in, want := range cases {
		got, err := parseDescribe(in)
		if err != nil || got != want {
			t.Errorf("parseDescribe(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	if _, err := parseDescribe("abc1234"); err == nil {
		t.Error("a bare hash (no tag) was accepted")
	}
	if got := (Version{Base: "1.2.3", Commits: 5, Hash: "abc1234"}).String(); got != "1.2.3+git5.gabc1234" {
		t.Errorf("String() = %q", got)
	}
}

// TestResolveVersionFromGit runs the real git in a throw-away repository.
func TestResolveVersionFromGit(t *testing.T) {
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com", "GIT_COMMITTER_DATE=1700000000 +0000")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	git("init", "-q")
	git("commit", "-q", "--allow-empty", "-m", "one")
	cfg := &Config{Path: "omnipack.toml", Dir: dir, Project: Project{Version: "git"}}
	if _, err := cfg.ResolveVersion(); err == nil {
		t.Fatal("an untagged repository gave a version")
	}
	git("tag", "v1.2.0")
	if v, err := cfg.ResolveVersion(); err != nil || v != (Version{Base: "1.2.0"}) {
		t.Fatalf("on the tag: %+v, %v", v, err)
	}
	git("commit", "-q", "--allow-empty", "-m", "two")
	v, err := cfg.ResolveVersion()
	if err != nil || v.Base != "1.2.0" || v.Commits != 1 || len(v.Hash) != 7 {
		t.Fatalf("after the tag: %+v, %v", v, err)
	}
	if when, ok := cfg.CommitTime(); !ok || when != 1700000000 {
		t.Errorf("CommitTime = %d, %v; want the committer time 1700000000", when, ok)
	}
}
