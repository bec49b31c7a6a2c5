package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildDaemon builds net_probe once per test into a temporary directory.
func buildDaemon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "net_probe")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// waitFile waits until the daemon has written path, or fails when the
// daemon exits first.
func waitFile(t *testing.T, path string, exited <-chan error) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for {
		if b, err := os.ReadFile(path); err == nil {
			return string(b)
		}
		select {
		case err := <-exited:
			t.Fatalf("the daemon exited before writing %s: %v", path, err)
		case <-deadline:
			t.Fatalf("the daemon wrote no %s within 30 s", path)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func TestServeAndCheck(t *testing.T) {
	bin := buildDaemon(t)
	dir := t.TempDir()
	textfiles := filepath.Join(dir, "textfile")
	os.Mkdir(textfiles, 0o755)
	os.WriteFile(filepath.Join(textfiles, "a.prom"), []byte("job_done 1\n"), 0o644)
	labels := filepath.Join(dir, "labels.prom")
	os.WriteFile(labels, []byte("site{name=\"lab\"} 1\n"), 0o644)
	addrFile := filepath.Join(dir, "listen")

	var out bytes.Buffer
	cmd := exec.Command(bin, "-listen", "127.0.0.1:0", "-textfile-dir", textfiles, "-labels-file", labels, "-label", "edge one", "-addr-file", addrFile)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })

	addr := strings.TrimSpace(waitFile(t, addrFile, exited))
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`net_probe_info{version="dev",label="edge one"} 1`, `site{name="lab"} 1`, "job_done 1"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("/metrics lacks %q:\n%s", want, body)
		}
	}
	if err := exec.Command(bin, "-check", "-addr-file", addrFile).Run(); err != nil {
		t.Errorf("-check of a serving daemon: %v", err)
	}

	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("still running 30 s after SIGTERM")
	}
	if _, err := os.Stat(addrFile); !os.IsNotExist(err) {
		t.Errorf("the address file is left after the shutdown: %v", err)
	}
	if err := exec.Command(bin, "-check", "-addr-file", addrFile).Run(); err == nil {
		t.Error("-check succeeds with the daemon stopped")
	}
}

// TestMissingTextfileDir: a wrong path in the flags is one error line
// naming the flag, and a failing exit, before anything is served.
func TestMissingTextfileDir(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"-listen", "127.0.0.1:0", "-textfile-dir", "/nonexistent/textfile"}, &stdout, &stderr)
	if code != 1 || stderr.String() != "net_probe: error: -textfile-dir: stat /nonexistent/textfile: no such file or directory\n" {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

func TestBadFlags(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run([]string{"-listen"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "net_probe: error: flag needs an argument: -listen") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
	stderr.Reset()
	if code := run([]string{"extra"}, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), `unexpected argument "extra"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
