package verify_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/verify"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// server serves the directory holding dist/ on 127.0.0.1, lets override
// answer some paths itself, and records every path asked for.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	paths    []string
	override map[string]http.HandlerFunc // by path
}

func serve(t *testing.T, dir string) *server {
	t.Helper()
	s := &server{override: map[string]http.HandlerFunc{}}
	files := http.FileServer(http.Dir(filepath.Dir(dir)))
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.paths = append(s.paths, r.URL.Path)
		h := s.override[r.URL.Path]
		s.mu.Unlock()
		if h != nil {
			h(w, r)
			return
		}
		files.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	if !strings.HasPrefix(s.URL, "http://127.0.0.1:") {
		t.Fatalf("test server at %s, want 127.0.0.1", s.URL)
	}
	return s
}

// privateTmp points the temporary directory at an empty one, to see that
// verify leaves nothing behind.
func privateTmp(t *testing.T) string {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	return tmp
}

func assertEmpty(t *testing.T, dir string) {
	t.Helper()
	entries, _ := os.ReadDir(dir)
	if len(entries) != 0 {
		t.Errorf("verify left %d entries in the temporary directory", len(entries))
	}
}

func TestURL(t *testing.T) {
	dir := release(t)
	s := serve(t, dir)
	tmp := privateTmp(t)
	for _, src := range []string{s.URL + "/dist", s.URL + "/dist/"} {
		rep := check(t, src, pinned())
		wantOK(t, rep)
		if rep.Source != src {
			t.Errorf("report source %q, want %q", rep.Source, src)
		}
		assertEmpty(t, tmp)
	}
	// Every artifact was downloaded, and nothing outside dist/ asked for.
	asked := map[string]bool{}
	for _, p := range s.paths {
		asked[p] = true
		if !strings.HasPrefix(p, "/dist/") {
			t.Errorf("asked for %s, outside the release", p)
		}
	}
	for _, a := range artifacts(t, dir) {
		if !asked["/dist/"+a.Name] {
			t.Errorf("%s was not downloaded", a.Name)
		}
	}
	// The same with the release's own key, which is downloaded too.
	rep := check(t, s.URL+"/dist", verify.Options{})
	wantOK(t, rep)
	if !rep.Key.FromRelease || rep.Warning == "" {
		t.Errorf("URL without --key: key %+v, warning %q", rep.Key, rep.Warning)
	}
}

// TestURLSizeCap serves a file larger than release.json states, in
// several ways: every download stops at the signed size.
func TestURLSizeCap(t *testing.T) {
	dir := release(t)
	deb := byFormat(t, dir, "deb")
	body, err := os.ReadFile(filepath.Join(dir, deb.Name))
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 32<<10)
	var sent atomic.Int64 // bytes the endless handler got out
	for what, c := range map[string]struct {
		handler http.HandlerFunc
		detail  string
	}{
		"extra bytes": {func(w http.ResponseWriter, r *http.Request) {
			w.Write(body)
			w.(http.Flusher).Flush() // no Content-Length: chunked
			w.Write([]byte("appended by a hostile mirror"))
		}, "cut off"},
		"endless": {func(w http.ResponseWriter, r *http.Request) {
			w.Write(body)
			// Stops when the client hangs up; the bound only keeps a
			// broken client from hanging the test.
			for i := 0; i < 1<<15; i++ {
				n, err := w.Write(chunk)
				sent.Add(int64(n))
				if err != nil {
					return
				}
			}
		}, "cut off"},
		"announced too large": {func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", strconv.Itoa(len(body)+1<<30))
			w.Write(body)
		}, "announces"},
		"missing": {http.NotFound, "missing"},
		"truncated": {func(w http.ResponseWriter, r *http.Request) {
			w.Write(body[:len(body)/2])
		}, "bytes"},
	} {
		t.Run(what, func(t *testing.T) {
			s := serve(t, dir)
			tmp := privateTmp(t)
			s.override["/dist/"+deb.Name] = c.handler
			start := time.Now()
			rep := check(t, s.URL+"/dist/", pinned())
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("verify took %v", d)
			}
			wantFail(t, rep, verify.CheckArtifact, deb.Name, c.detail)
			// The other artifacts still pass, and nothing depending on the
			// bad one is checked.
			for _, ch := range rep.Checks {
				if !ch.OK && ch.File != deb.Name && ch.Name != verify.CheckArtifact {
					t.Errorf("unexpected failure %s %s: %s", ch.Name, ch.File, ch.Detail)
				}
				if ch.File == deb.Name && ch.Name != verify.CheckArtifact {
					t.Errorf("%s of a failed download was checked", ch.Name)
				}
			}
			assertEmpty(t, tmp)
			// The client hung up at the cap: at most socket buffers' worth
			// more went out, not the whole gigabyte.
			if n := sent.Load(); n > 64<<20 {
				t.Errorf("the server sent %d bytes of an endless response before the client hung up", n)
			}
		})
	}
}

// TestURLRefusedName: a signed name with "../" is refused before any
// request is made for it.
func TestURLRefusedName(t *testing.T) {
	dir := release(t)
	deb := byFormat(t, dir, "deb")
	bad := "../" + deb.Name
	data, _ := os.ReadFile(filepath.Join(dir, deb.Name))
	os.WriteFile(filepath.Join(dir, "..", deb.Name), data, 0o644)
	if err := verifytest.Resign(dir, keys, time.Now(), func(r *manifest.Release) {
		a := deb
		a.Name = bad
		r.Artifacts = append(r.Artifacts, a)
	}); err != nil {
		t.Fatal(err)
	}
	s := serve(t, dir)
	wantFail(t, check(t, s.URL+"/dist/", pinned()), verify.CheckArtifact, bad, "refused")
	for _, p := range s.paths {
		if !strings.HasPrefix(p, "/dist/") || strings.Contains(p, "..") {
			t.Errorf("asked for %s", p)
		}
	}
}

// TestURLManifestFirst: when the manifest's signature fails, no artifact
// is downloaded.
func TestURLManifestFirst(t *testing.T) {
	dir := release(t)
	flip(t, filepath.Join(dir, manifest.FileName), -1)
	s := serve(t, dir)
	wantFail(t, check(t, s.URL+"/dist/", pinned()), verify.CheckManifestSig, manifest.FileName)
	for _, p := range s.paths {
		if name := strings.TrimPrefix(p, "/dist/"); name != manifest.FileName && name != verify.SigFile && name != verify.BundleFile {
			t.Errorf("downloaded %s after the manifest failed", p)
		}
	}
}
