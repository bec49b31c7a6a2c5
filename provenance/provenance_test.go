package provenance

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

func TestStatementFromAGitCheckout(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) string {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	os.MkdirAll(filepath.Join(dir, "agent"), 0o755)
	cfg := filepath.Join(dir, "agent", "omnipack.toml")
	os.WriteFile(cfg, []byte("[project]\n"), 0o644)
	sum := filepath.Join(dir, "agent", "go.sum")
	os.WriteFile(sum, []byte("example.com/x v1.0.0 h1:abc=\n"), 0o644)
	run("init", "-q")
	run("remote", "add", "origin", "https://git.example.com/agent.git")
	run("add", ".")
	run("commit", "-q", "-m", "one")
	commit := run("rev-parse", "HEAD")
	commit = commit[:len(commit)-1]

	st, err := New(Input{
		Subjects:   map[string]string{"b.rpm": "22", "a.deb": "11"},
		ConfigPath: cfg, GoVersion: "go1.26.8", GoSumPath: sum, OmnipackVersion: "test",
		SourceDateEpoch: 1700000000, Started: time.Unix(1, 0), Finished: time.Unix(2, 0),
	})
	if err != nil {
		t.Fatal(err)
	}
	if st.Subject[0].Name != "a.deb" || st.Subject[1].Name != "b.rpm" {
		t.Errorf("subjects not sorted: %+v", st.Subject)
	}
	ext := st.Predicate.BuildDefinition.ExternalParameters
	if ext.Config.Path != "agent/omnipack.toml" || len(ext.Config.Digest["sha256"]) != 64 {
		t.Errorf("config parameter %+v", ext.Config)
	}
	if ext.Source.Repository != "https://git.example.com/agent.git" || ext.Source.Commit != commit || ext.Source.Dirty {
		t.Errorf("source parameter %+v, want commit %s", ext.Source, commit)
	}
	var uris []string
	for _, d := range st.Predicate.BuildDefinition.ResolvedDependencies {
		uris = append(uris, d.URI)
	}
	want := []string{"git+https://git.example.com/agent.git@" + commit, "pkg:golang/toolchain@go1.26.8", "file:go.sum"}
	if len(uris) != len(want) {
		t.Fatalf("dependencies %v, want %v", uris, want)
	}
	for i := range want {
		if uris[i] != want[i] {
			t.Errorf("dependency %d = %s, want %s", i, uris[i], want[i])
		}
	}
	payload, err := st.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(payload)
	if err != nil || back.SubjectDigests()["a.deb"] != "11" {
		t.Fatalf("round trip: %v %+v", err, back)
	}
	if _, err := Parse([]byte(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"x"}`)); err == nil {
		t.Error("a statement of another type was accepted")
	}
	if _, err := New(Input{ConfigPath: cfg}); err == nil {
		t.Error("a statement without subjects was made")
	}
}
