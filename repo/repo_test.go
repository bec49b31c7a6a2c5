package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/packaging"
)

func pkg(name, version string) packaging.RepoPackage {
	return packaging.RepoPackage{Path: "pool/" + name + "_" + version + ".deb", Name: name, Version: version, Arch: "amd64"}
}

// TestPruneKeepsNewestPerPackage: Keep counts per format, channel, package
// and architecture, by release version, and forgets only what it prunes.
func TestPruneKeepsNewestPerPackage(t *testing.T) {
	st := &state{}
	for i, v := range []string{"1", "2", "3"} {
		st.add(entry{Format: "deb", Channel: "stable", Package: pkg("a", v), ReleaseVersion: int64(10 + i)})
		st.add(entry{Format: "deb", Channel: "beta", Package: pkg("a", v+"b"), ReleaseVersion: int64(10 + i)})
	}
	st.add(entry{Format: "deb", Channel: "stable", Package: pkg("b", "1"), ReleaseVersion: 1})
	if st.add(entry{Format: "deb", Channel: "stable", Package: pkg("b", "1"), ReleaseVersion: 99}) {
		t.Error("the same pool path was added twice")
	}
	pruned := st.prune(2, "stable")
	if len(pruned) != 1 || pruned[0].Package.Version != "1" || pruned[0].Package.Name != "a" {
		t.Fatalf("prune(2) removed %+v, want a 1 only", pruned)
	}
	var left []string
	for _, e := range st.Packages {
		left = append(left, e.Channel+"/"+e.Package.Name+"_"+e.Package.Version)
	}
	slices.Sort(left)
	want := []string{"beta/a_1b", "beta/a_2b", "beta/a_3b", "stable/a_2", "stable/a_3", "stable/b_1"}
	if !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	if st.prune(0, "stable") != nil {
		t.Error("keep 0 pruned something")
	}
}

// TestRotateKeepsTwoGenerations: a file an index stopped naming stays one
// more publish (a client may be reading it), then goes.
func TestRotateKeepsTwoGenerations(t *testing.T) {
	st := &state{}
	files := func(names ...string) []packaging.RepoFile {
		var out []packaging.RepoFile
		for _, n := range names {
			out = append(out, packaging.RepoFile{Path: n})
		}
		return out
	}
	if stale := st.rotate("deb/stable", files("InRelease", "by-hash/1")); stale != nil {
		t.Errorf("first publish: stale %v", stale)
	}
	if stale := st.rotate("deb/stable", files("InRelease", "by-hash/2")); stale != nil {
		t.Errorf("second publish: stale %v, want by-hash/1 kept one more", stale)
	}
	if !st.names("by-hash/1") {
		t.Error("by-hash/1 is not named by the previous generation")
	}
	if stale := st.rotate("deb/stable", files("InRelease", "by-hash/3")); !slices.Equal(stale, []string{"by-hash/1"}) {
		t.Errorf("third publish: stale %v, want [by-hash/1]", stale)
	}
}

// TestLockRefusesSecondPublish: while one publish holds the lock, another
// is refused with a message saying why, before it reads anything.
func TestLockRefusesSecondPublish(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, StateDir), 0o755)
	unlock, err := lock(root)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Publish(context.Background(), Options{Repo: root, Dist: t.TempDir(), KeyDir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "is being published by another omnipack") {
		t.Errorf("a second publish: %v", err)
	}
	unlock()
	if unlock, err = lock(root); err != nil {
		t.Errorf("the lock was not released: %v", err)
	} else {
		unlock()
	}
}

// TestPublishSweepsKilledTemps: the temporary files a killed publish left
// are removed by the next one, under the lock, even one that then fails;
// other files stay.
func TestPublishSweepsKilledTemps(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "dists", "stable")
	os.MkdirAll(dir, 0o755)
	left := filepath.Join(dir, ".InRelease.tmp-0123456789ab")
	kept := filepath.Join(dir, ".htaccess")
	for _, p := range []string{left, kept} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Publish(context.Background(), Options{Repo: root, Dist: t.TempDir(), KeyDir: t.TempDir()}); err == nil {
		t.Fatal("a publish of an empty release directory succeeded")
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the killed publish's temporary file is still there: %v", err)
	}
	if _, err := os.Stat(kept); err != nil {
		t.Errorf("publish removed another file: %v", err)
	}
}

func TestOptionsRefused(t *testing.T) {
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{Dist: "d", KeyDir: "k"}, "no repository directory"},
		{Options{Repo: "r", Dist: "d"}, "no key directory"},
		{Options{Repo: "r", KeyDir: "k"}, "no release directory"},
		{Options{Repo: "r", Dist: "d", KeyDir: "k", Channel: "../x"}, `channel "../x"`},
		{Options{Repo: "r", Dist: "d", KeyDir: "k", Keep: -1}, "--keep -1"},
		{Options{Repo: "r", Dist: "d", KeyDir: "k", ValidFor: -time.Hour}, "--valid-for -1h0m0s"},
		{Options{Repo: "r", Dist: "d", KeyDir: "k", URL: "ftp://x"}, "http(s) URL"},
		{Options{Repo: "r", Dist: "d", KeyDir: "k", Name: "a/b"}, `repository name "a/b"`},
	} {
		if err := checkOptions(&c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.opts, err, c.want)
		}
	}
}

// TestServe: serve answers on loopback with the tree's files, hides the
// repository's state, and refuses an address other hosts reach.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, StateDir), 0o755)
	os.WriteFile(filepath.Join(dir, StateDir, StateFile), []byte("{}"), 0o644)
	os.WriteFile(filepath.Join(dir, "hello"), []byte("hi"), 0o644)
	if err := Serve(context.Background(), dir, "0.0.0.0:0", false, nil); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("serve on 0.0.0.0: %v", err)
	}
	if err := Serve(context.Background(), dir, ":0", false, nil); err == nil || !strings.Contains(err.Error(), "not a loopback address") {
		t.Errorf("serve on every address: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	urls := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, dir, "127.0.0.1:0", false, func(u string) { urls <- u }) }()
	var url string
	select {
	case url = <-urls:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	get := func(p string) (int, string) {
		resp, err := http.Get(url + p)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	if code, body := get("/hello"); code != 200 || body != "hi" {
		t.Errorf("GET /hello: %d %q", code, body)
	}
	if code, _ := get("/" + StateDir + "/" + StateFile); code != http.StatusNotFound {
		t.Errorf("GET the state: %d, want 404", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after cancel: %v", err)
	}
}

// TestReplacedIndexIsModifiedToClients: an index replaced within the
// second a client fetched it is still new to that client's
// If-Modified-Since, as apt and dnf send it, on omnipack serve.
func TestReplacedIndexIsModifiedToClients(t *testing.T) {
	dir := t.TempDir()
	p := &publisher{opts: Options{Repo: dir}}
	write := func(body string) {
		t.Helper()
		if err := p.write([]packaging.RepoFile{{Path: "dists/stable/InRelease", Body: []byte(body)}}); err != nil {
			t.Fatal(err)
		}
	}
	write("first")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	urls := make(chan string, 1)
	go func() { _ = Serve(ctx, dir, "127.0.0.1:0", false, func(u string) { urls <- u }) }()
	url := <-urls + "/dists/stable/InRelease"
	get := func(ims string) (int, string, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if ims != "" {
			req.Header.Set("If-Modified-Since", ims)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body), resp.Header.Get("Last-Modified")
	}
	_, _, lastModified := get("")
	write("second") // well within the same second
	if code, body, _ := get(lastModified); code != http.StatusOK || body != "second" {
		t.Errorf("GET with If-Modified-Since %s after a replace: %d %q, want 200 \"second\"", lastModified, code, body)
	}
}

// TestCopyInChecksBeforeRename: a release file whose bytes differ from the
// signed digest never takes its place in the pool, and leaves no
// temporary file; one that matches is copied whole.
func TestCopyInChecksBeforeRename(t *testing.T) {
	dist, root := t.TempDir(), t.TempDir()
	body := []byte("the package as signed\n")
	if err := os.WriteFile(filepath.Join(dist, "x.deb"), body, 0o644); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(body)
	good := hex.EncodeToString(sum[:])
	p := &publisher{opts: Options{Repo: root, Dist: dist}}
	for _, tc := range []struct {
		name string
		size int64
		sha  string
	}{
		{"other digest", int64(len(body)), strings.Repeat("0", 64)},
		{"shorter", int64(len(body)) - 1, good},
		{"longer", int64(len(body)) + 1, good},
	} {
		err := p.copyIn("x.deb", "pool/x.deb", tc.size, tc.sha)
		if err == nil || !strings.Contains(err.Error(), "changed after it was verified") {
			t.Errorf("%s: copyIn: %v", tc.name, err)
		}
		entries, _ := os.ReadDir(filepath.Join(root, "pool"))
		if len(entries) != 0 {
			t.Errorf("%s: the pool holds %v", tc.name, entries)
		}
	}
	if err := p.copyIn("x.deb", "pool/x.deb", int64(len(body)), good); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(filepath.Join(root, "pool", "x.deb")); err != nil || string(got) != string(body) {
		t.Errorf("the pool's copy: %q, %v", got, err)
	}
}

// switchAtRepodata switches the files under repodata/ as a whole.
type switchAtRepodata struct{}

func (switchAtRepodata) SwitchDir(p string) string {
	if strings.HasPrefix(p, "repodata/") {
		return "repodata"
	}
	return ""
}

// TestSwitchedDirectoryGenerations: a switched directory is a link to its
// newest generation; each generation also holds what the one before named
// (a client may have fetched the old entry point), and generations older
// than the one replaced go. Publishing the same index again changes
// nothing, and a directory in the link's place is refused.
func TestSwitchedDirectoryGenerations(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "pool"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "pool", "pkg"), []byte("package"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := &publisher{opts: Options{Repo: root}, st: &state{}}
	publish := func(gen string) {
		t.Helper()
		s := indexSet{key: "rpm/stable", switcher: switchAtRepodata{}, files: []packaging.RepoFile{
			{Path: "repodata/" + gen + "-primary.xml.gz", Body: []byte(gen)},
			{Path: "repodata/pkg", Link: "pool/pkg"},
			{Path: "repodata/repomd.xml", Body: []byte("names " + gen)},
		}}
		if err := p.writeSet(s); err != nil {
			t.Fatalf("publish %s: %v", gen, err)
		}
		p.st.rotate(s.key, s.files)
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return ""
		}
		return string(b)
	}
	generations := func() []string {
		var out []string
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), ".repodata.") {
				out = append(out, e.Name())
			}
		}
		return out
	}

	publish("a")
	if st, err := os.Lstat(filepath.Join(root, "repodata")); err != nil || st.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("repodata is not a link: %v", err)
	}
	if read("repodata/repomd.xml") != "names a" || read("repodata/pkg") != "package" {
		t.Errorf("generation a reads %q and %q", read("repodata/repomd.xml"), read("repodata/pkg"))
	}
	publish("b")
	if read("repodata/repomd.xml") != "names b" || read("repodata/b-primary.xml.gz") != "b" || read("repodata/a-primary.xml.gz") != "a" {
		t.Errorf("generation b: repomd.xml %q, b %q, a kept %q", read("repodata/repomd.xml"), read("repodata/b-primary.xml.gz"), read("repodata/a-primary.xml.gz"))
	}
	publish("c")
	if read("repodata/a-primary.xml.gz") != "" || read("repodata/b-primary.xml.gz") != "b" || read("repodata/c-primary.xml.gz") != "c" {
		t.Errorf("generation c: a %q (want gone), b %q, c %q", read("repodata/a-primary.xml.gz"), read("repodata/b-primary.xml.gz"), read("repodata/c-primary.xml.gz"))
	}
	if g := generations(); len(g) != 2 {
		t.Errorf("generations on disk %v, want the current and the one before", g)
	}
	link, _ := os.Readlink(filepath.Join(root, "repodata"))
	publish("c")
	if again, _ := os.Readlink(filepath.Join(root, "repodata")); again != link {
		t.Errorf("the same index published again switched %s to %s", link, again)
	}
	if err := sweepTemps(root); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(root)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("a switch left %s", e.Name())
		}
	}

	old := &publisher{opts: Options{Repo: t.TempDir()}, st: &state{}}
	os.MkdirAll(filepath.Join(old.opts.Repo, "repodata"), 0o755)
	err := old.writeSet(indexSet{key: "rpm/stable", switcher: switchAtRepodata{}, files: []packaging.RepoFile{{Path: "repodata/repomd.xml"}}})
	if err == nil || !strings.Contains(err.Error(), "older omnipack") {
		t.Errorf("a repodata directory in the link's place: %v, want it refused", err)
	}
}
