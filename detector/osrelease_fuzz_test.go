package detector

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// osReleaseSeeds adds every os-release fixture and a few hostile files.
func osReleaseSeeds(f *testing.F) {
	entries, err := os.ReadDir("testdata/os-release")
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		if body, err := os.ReadFile(filepath.Join("testdata/os-release", e.Name())); err == nil && e.Name() != "EXPECTED.tsv" {
			f.Add(body)
		}
	}
	for _, s := range []string{
		"ID=\"$(touch /tmp/x)\"\nID_LIKE='debian ubuntu'\nVERSION_ID=12 # comment\n",
		"ID=debian\r\nVERSION_ID=\"12\\\"\"\n\tID_LIKE=a\\ b\n",
		"ID=deb\x00ian\nID=\"unterminated\n",
	} {
		f.Add([]byte(s))
	}
}

// writeOsRelease puts body at etc/os-release in root.
func writeOsRelease(t testing.TB, root string, body []byte) {
	if err := os.WriteFile(filepath.Join(root, "etc", "os-release"), body, 0o644); err != nil {
		t.Fatal(err)
	}
}

func newOsReleaseTree(t testing.TB) string {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// FuzzOsRelease detects a tree whose only file is a fuzzed os-release.
// Every fact must be a plain identifier (Facts.Text prints them unquoted),
// and, as in sh, a last ID=debian line must win over anything before it.
func FuzzOsRelease(f *testing.F) {
	osReleaseSeeds(f)
	root := newOsReleaseTree(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		writeOsRelease(t, root, body)
		facts, err := Detect(root)
		if err != nil {
			t.Fatal(err)
		}
		if facts.DistroID != Unknown && !valid(facts.DistroID) || facts.DistroVersion != "" && !valid(facts.DistroVersion) {
			t.Fatalf("unchecked value: id %q version %q", facts.DistroID, facts.DistroVersion)
		}
		for _, w := range facts.DistroLike {
			if !valid(w) {
				t.Fatalf("unchecked ID_LIKE word %q", w)
			}
		}
		if text := facts.Text(); strings.Count(text, "\n") != 9 || strings.ContainsAny(text, "\r\x00\"'$`\\") {
			t.Fatalf("Text() is not nine plain lines:\n%q", text)
		}
		last := []byte("\nID=debian\n")
		if len(body)+len(last) > osReleaseMax {
			return
		}
		writeOsRelease(t, root, append(body[:len(body):len(body)], last...))
		if facts, err := Detect(root); err != nil || facts.DistroID != "debian" {
			t.Fatalf("a last ID=debian line gave ID %q, %v", facts.DistroID, err)
		}
	})
}

// shellDetector is one shell running detect.sh's detect_all in a loop, so
// that comparing it with Detect costs a pipe round trip, not a shell start.
type shellDetector struct {
	name   string
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *syncBuffer
}

// syncBuffer collects a shell's stderr, which exec copies in from another
// goroutine.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns what was written so far and empties the buffer.
func (b *syncBuffer) take() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.buf.String()
	b.buf.Reset()
	return s
}

// detectLoop reads one root per line and prints its facts, then a line
// with a dot. It runs under set -eu, as install.sh does.
const detectLoop = `set -eu
. "$1"
while IFS= read -r detect_loop_root; do
	detect_all "$detect_loop_root" || echo "detect_all failed"
	detect_print
	echo .
done
`

func startShellDetectors(t testing.TB) []*shellDetector {
	detectSh, _ := scripts(t)
	loop := filepath.Join(filepath.Dir(detectSh), "detect-loop.sh")
	if err := os.WriteFile(loop, []byte(detectLoop), 0o644); err != nil {
		t.Fatal(err)
	}
	var out []*shellDetector
	for _, sh := range shells(t, false) {
		argv := append(append([]string{}, sh.argv...), loop, detectSh)
		cmd := exec.Command(argv[0], argv[1:]...)
		if sh.path != "" {
			cmd.Env = append(os.Environ(), "PATH="+sh.path)
		}
		d := &shellDetector{name: sh.name, stderr: &syncBuffer{}}
		cmd.Stderr = d.stderr
		var err error
		if d.in, err = cmd.StdinPipe(); err != nil {
			t.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		d.out = bufio.NewReader(stdout)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.in.Close(); cmd.Wait() })
		out = append(out, d)
	}
	return out
}

// detect returns what the shell prints for root, and anything it wrote
// to stderr meanwhile.
func (d *shellDetector) detect(t testing.TB, root string) (facts, stderr string) {
	if _, err := io.WriteString(d.in, root+"\n"); err != nil {
		t.Fatalf("%s: %v (stderr: %s)", d.name, err, d.stderr.take())
	}
	var b strings.Builder
	for {
		line, err := d.out.ReadString('\n')
		if err != nil {
			t.Fatalf("%s ended: %v (stderr: %s)", d.name, err, d.stderr.take())
		}
		if line == ".\n" {
			break
		}
		b.WriteString(line)
	}
	return b.String(), d.stderr.take()
}

// FuzzOsReleaseShellsAgree runs Detect and detect.sh under dash, BusyBox
// ash and bash on the same fuzzed os-release: install.sh must see the
// host as omnipack install does.
func FuzzOsReleaseShellsAgree(f *testing.F) {
	osReleaseSeeds(f)
	detectors := startShellDetectors(f)
	root := newOsReleaseTree(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		writeOsRelease(t, root, body)
		facts, err := Detect(root)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range detectors {
			got, stderr := d.detect(t, root)
			if got != facts.Text() || stderr != "" {
				t.Errorf("%s and Go disagree on os-release %q:\n--- %s\n%s--- Go\n%s--- %s stderr\n%s", d.name, body, d.name, got, facts.Text(), d.name, stderr)
			}
		}
	})
}
