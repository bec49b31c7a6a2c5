package main

// These tests build the real binary and run it as a service would be run:
// config file, signals, exit status, stdout and stderr.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const testVersion = "9.8.7-test"

// Realistic kernel log lines, as a syslog daemon writes them to kern.log.
const (
	segfaultLine = "Nov 22 01:57:40 vm kernel: [  402.592557] python3[21951]: segfault at 0 ip 00007fa681985ad8 sp 00007ffe75c39d18 error 4 in libc.so.6[167ad8,7fa681844000+156000] likely on CPU 1 (core 1, socket 0)\n"
	trapLine     = "Nov 22 01:57:41 vm kernel: traps: myd[22032] general protection fault ip:7ff030b1e000 sp:7ffdd8b71c28 error:0 in myd[0,7ff030b1e000+1000]\n"
	oomKillLine  = "Nov 22 01:57:42 vm kernel: oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/big.service,task=big,pid=31337,uid=0\n"
	oomLine      = "Nov 22 01:57:42 vm kernel: Out of memory: Killed process 31337 (big) total-vm:4194304kB, anon-rss:3960000kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:7800kB oom_score_adj:0\n"
	noiseLine    = "Nov 22 01:57:43 vm kernel: usb 1-1: new high-speed USB device number 2 using xhci_hcd\n"
)

func buildAgent(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "crashwatch")
	cmd := exec.Command("go", "build", "-ldflags", "-X main.version="+testVersion, "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// syncBuffer is a bytes.Buffer that the test can read while the child
// process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type agentProc struct {
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	exited         chan struct{}
}

func startAgent(t *testing.T, bin string, args ...string) *agentProc {
	t.Helper()
	p := &agentProc{
		cmd:    exec.Command(bin, args...),
		stdout: &syncBuffer{},
		stderr: &syncBuffer{},
		exited: make(chan struct{}),
	}
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("stderr:\n%s\nstdout:\n%s", p.stderr, p.stdout)
		}
	})
	return p
}

// stop sends sig and checks that the agent exits with status 0 within a
// second.
func (p *agentProc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case <-p.exited:
	case <-time.After(time.Second):
		t.Fatalf("still running a second after %v", sig)
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("exit status %d after %v, want 0", code, sig)
	}
}

func (p *agentProc) signal(t *testing.T, sig syscall.Signal) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// logs returns the agent's stderr log entries whose msg is msg.
func (p *agentProc) logs(t *testing.T, msg string) []map[string]any {
	t.Helper()
	var found []map[string]any
	sc := bufio.NewScanner(strings.NewReader(p.stderr.String()))
	for sc.Scan() {
		line := sc.Text()
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("stderr line is not JSON: %q", line)
		}
		if entry["msg"] == msg {
			found = append(found, entry)
		}
	}
	return found
}

// waitLog waits until the agent has logged msg at least n times.
func (p *agentProc) waitLog(t *testing.T, msg string, n int) []map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if found := p.logs(t, msg); len(found) >= n {
			return found
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %d log entries %q; stderr:\n%s", n, msg, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitEvents waits until read returns at least n JSON lines, and returns
// them parsed.
func waitEvents(t *testing.T, read func() string, n int) []Event {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var events []Event
		sc := bufio.NewScanner(strings.NewReader(read()))
		for sc.Scan() {
			var ev Event
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Fatalf("output line is not an event: %q: %v", sc.Text(), err)
			}
			events = append(events, ev)
		}
		if len(events) >= n {
			return events
		}
		if time.Now().After(deadline) {
			t.Fatalf("got %d events, want %d: %+v", len(events), n, events)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func fileText(path string) func() string {
	return func() string {
		b, _ := os.ReadFile(path)
		return string(b)
	}
}

func appendText(t *testing.T, path, text string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func checkEvent(t *testing.T, ev Event, kind string, pid int, process, nodeID string) {
	t.Helper()
	if ev.Kind != kind || ev.PID != pid || ev.Process != process || ev.NodeID != nodeID {
		t.Errorf("event %+v, want kind %s pid %d process %q node_id %q", ev, kind, pid, process, nodeID)
	}
	when, err := time.Parse(time.RFC3339, ev.Time)
	if err != nil || !strings.HasSuffix(ev.Time, "Z") || time.Since(when) > time.Minute {
		t.Errorf("event time %q is not a recent RFC 3339 UTC time", ev.Time)
	}
	if ev.Message == "" || strings.Contains(ev.Message, "kernel:") {
		t.Errorf("event message %q should be the kernel message alone", ev.Message)
	}
}

func TestVersionFlag(t *testing.T) {
	bin := buildAgent(t)
	out, err := exec.Command(bin, "-version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(out), "crashwatch "+testVersion+"\n"; got != want {
		t.Errorf("-version printed %q, want %q", got, want)
	}
}

func TestBadConfigExits2(t *testing.T) {
	bin := buildAgent(t)
	good := writeConfig(t, "auth_key = \"k\"\n")
	tests := []struct {
		name string
		args []string
		code int
		want []string // in stderr
	}{
		{"unknown key", []string{"-config", writeConfig(t, "auth_key = \"k\"\ncolour = \"red\"\n")}, 2, []string{`unknown key \"colour\"`}},
		{"wrong type", []string{"-config", writeConfig(t, "auth_key = \"k\"\nretry_interval = true\n")}, 2, []string{`\"retry_interval\"`}},
		{"missing file", []string{"-config", "/nonexistent/crashwatch.toml"}, 2, []string{"/nonexistent/crashwatch.toml", "no such file"}},
		{"bad flag", []string{"-bogus"}, 2, []string{"-bogus"}},
		{"check good", []string{"-check-config", "-config", good}, 0, nil},
		{"check empty key", []string{"-check-config", "-config", writeConfig(t, "auth_key = \"\"\n")}, 0, []string{"auth_key not set"}},
		{"check bad", []string{"-check-config", "-config", writeConfig(t, "auth_key = \"k\"\nsorce = \"/x\"\n")}, 2, []string{`unknown key "sorce"`}},
		{"unopenable output", []string{"-config", writeConfig(t, "auth_key = \"k\"\noutput = \"/nonexistent/dir/events\"\n")}, 1, []string{"/nonexistent/dir/events"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cmd := exec.Command(bin, tt.args...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			done := make(chan error, 1)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			go func() { done <- cmd.Wait() }()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				t.Fatal("did not exit")
			}
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Errorf("exit status %d, want %d; stderr:\n%s", code, tt.code, &stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr does not contain %q:\n%s", w, &stderr)
				}
			}
			if len(tt.args) > 1 && tt.code == 2 && !strings.Contains(stderr.String(), tt.args[len(tt.args)-1]) {
				t.Errorf("stderr does not name the config file:\n%s", &stderr)
			}
		})
	}
}

// TestTailFile follows a kern.log that a syslog daemon appends to.
func TestTailFile(t *testing.T) {
	bin := buildAgent(t)
	dir := t.TempDir()
	source := filepath.Join(dir, "kern.log")
	// History from before the start is not reported.
	appendText(t, source, strings.Replace(segfaultLine, "21951", "1", 2))
	config := writeConfig(t, fmt.Sprintf("auth_key = \"\"\nnode_id = \"node-a\"\nsource = %q\n", source))

	p := startAgent(t, bin, "-config", config)
	started := p.waitLog(t, "started", 1)[0]
	if started["version"] != testVersion || started["source"] != source || started["node_id"] != "node-a" || started["auth_key_set"] != false {
		t.Errorf("started entry = %v", started)
	}
	p.waitLog(t, "auth_key not set", 1)
	p.waitLog(t, "reading source", 1)

	appendText(t, source, segfaultLine+noiseLine+trapLine+oomKillLine+oomLine)
	// A line written in two parts is one message.
	half := len(segfaultLine) / 2
	appendText(t, source, strings.ReplaceAll(segfaultLine, "21951", "424")[:half])
	time.Sleep(3 * pollInterval)
	appendText(t, source, strings.ReplaceAll(segfaultLine, "21951", "424")[half:])

	events := waitEvents(t, p.stdout.String, 4)
	time.Sleep(3 * pollInterval) // anything more would be a duplicate
	if events = waitEvents(t, p.stdout.String, 4); len(events) != 4 {
		t.Fatalf("got %d events, want 4: %+v", len(events), events)
	}
	checkEvent(t, events[0], "segfault", 21951, "python3", "node-a")
	checkEvent(t, events[1], "trap", 22032, "myd", "node-a")
	checkEvent(t, events[2], "oom_kill", 31337, "big", "node-a")
	checkEvent(t, events[3], "segfault", 424, "python3", "node-a")
	if want := strings.TrimPrefix(strings.TrimSpace(trapLine), "Nov 22 01:57:41 vm kernel: "); events[1].Message != want {
		t.Errorf("message = %q, want %q", events[1].Message, want)
	}

	p.stop(t, syscall.SIGTERM)
	if p.logs(t, "stopping") == nil {
		t.Error("no stopping log entry")
	}
}

// TestReload changes source, output and node_id with SIGHUP, then sends
// an invalid config, which must be refused while the agent goes on.
func TestReload(t *testing.T) {
	bin := buildAgent(t)
	dir := t.TempDir()
	src1, src2 := filepath.Join(dir, "one.log"), filepath.Join(dir, "two.log")
	out1, out2 := filepath.Join(dir, "one.jsonl"), filepath.Join(dir, "two.jsonl")
	appendText(t, src1, "")
	appendText(t, src2, "")
	config := writeConfig(t, fmt.Sprintf("auth_key = \"k\"\nnode_id = \"old\"\nsource = %q\noutput = %q\n", src1, out1))

	p := startAgent(t, bin, "-config", config)
	p.waitLog(t, "reading source", 1)
	appendText(t, src1, segfaultLine)
	checkEvent(t, waitEvents(t, fileText(out1), 1)[0], "segfault", 21951, "python3", "old")

	newConfig := fmt.Sprintf("auth_key = \"k\"\nnode_id = \"new\"\nsource = %q\noutput = %q\nretry_interval = \"1s\"\n", src2, out2)
	if err := os.WriteFile(config, []byte(newConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	p.signal(t, syscall.SIGHUP)
	reloaded := p.waitLog(t, "reloaded", 1)[0]
	if reloaded["source"] != src2 || reloaded["output"] != out2 || reloaded["node_id"] != "new" {
		t.Errorf("reloaded entry = %v", reloaded)
	}
	p.waitLog(t, "reading source", 2)
	appendText(t, src1, trapLine) // the old source is no longer read
	appendText(t, src2, oomLine)
	checkEvent(t, waitEvents(t, fileText(out2), 1)[0], "oom_kill", 31337, "big", "new")

	// An invalid config is refused; the running one stays.
	if err := os.WriteFile(config, []byte(newConfig+"node = \"typo\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	p.signal(t, syscall.SIGHUP)
	failed := p.waitLog(t, "reload failed, keeping the old config", 1)[0]
	if err, _ := failed["err"].(string); !strings.Contains(err, config) || !strings.Contains(err, `unknown key "node"`) {
		t.Errorf("reload error %q should name the file and the key", err)
	}
	appendText(t, src2, segfaultLine)
	events := waitEvents(t, fileText(out2), 2)
	checkEvent(t, events[1], "segfault", 21951, "python3", "new")

	time.Sleep(3 * pollInterval)
	if got := len(waitEvents(t, fileText(out1), 1)); got != 1 {
		t.Errorf("%d events in the old output, want 1", got)
	}
	if got := len(waitEvents(t, fileText(out2), 2)); got != 2 {
		t.Errorf("%d events in the new output, want 2", got)
	}
	if p.stdout.String() != "" {
		t.Errorf("events on stdout with a file output: %q", p.stdout)
	}

	// After logrotate renames the output, SIGHUP opens a new file.
	if err := os.WriteFile(config, []byte(newConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(out2, out2+".1"); err != nil {
		t.Fatal(err)
	}
	p.signal(t, syscall.SIGHUP)
	p.waitLog(t, "reloaded", 2)
	appendText(t, src2, trapLine)
	checkEvent(t, waitEvents(t, fileText(out2), 1)[0], "trap", 22032, "myd", "new")
	p.stop(t, syscall.SIGTERM)
}

// TestUnreadableSource starts on a missing file, which must be logged
// once, not per retry, and read in full once it appears; the same again
// after the file is removed.
func TestUnreadableSource(t *testing.T) {
	bin := buildAgent(t)
	dir := t.TempDir()
	source := filepath.Join(dir, "kern.log")
	config := writeConfig(t, fmt.Sprintf("auth_key = \"k\"\nnode_id = \"n\"\nsource = %q\nretry_interval = \"50ms\"\n", source))

	p := startAgent(t, bin, "-config", config)
	first := p.waitLog(t, "source unreadable, will retry", 1)[0]
	if err, _ := first["err"].(string); !strings.Contains(err, "no such file") {
		t.Errorf("error = %q", err)
	}
	time.Sleep(500 * time.Millisecond) // about ten retries
	if n := len(p.logs(t, "source unreadable, will retry")); n != 1 {
		t.Errorf("logged %d times, want once", n)
	}

	// The file appears, whole: all of it is new.
	tmp := filepath.Join(dir, "tmp")
	appendText(t, tmp, noiseLine+segfaultLine)
	if err := os.Rename(tmp, source); err != nil {
		t.Fatal(err)
	}
	checkEvent(t, waitEvents(t, p.stdout.String, 1)[0], "segfault", 21951, "python3", "n")

	// Removed, as by a careless rotation, then back.
	if err := os.Remove(source); err != nil {
		t.Fatal(err)
	}
	p.waitLog(t, "source unreadable, will retry", 2)
	appendText(t, source, trapLine)
	checkEvent(t, waitEvents(t, p.stdout.String, 2)[1], "trap", 22032, "myd", "n")

	p.stop(t, syscall.SIGINT)
}

// TestRotation follows the file through both kinds of log rotation: a
// rename and a new file, and copytruncate.
func TestRotation(t *testing.T) {
	bin := buildAgent(t)
	dir := t.TempDir()
	source := filepath.Join(dir, "kern.log")
	appendText(t, source, noiseLine)
	config := writeConfig(t, fmt.Sprintf("auth_key = \"k\"\nnode_id = \"n\"\nsource = %q\nretry_interval = \"100ms\"\n", source))

	p := startAgent(t, bin, "-config", config)
	p.waitLog(t, "reading source", 1)

	// Lines written just before the rename are read from the old file.
	appendText(t, source, segfaultLine)
	if err := os.Rename(source, source+".1"); err != nil {
		t.Fatal(err)
	}
	appendText(t, source, trapLine)
	events := waitEvents(t, p.stdout.String, 2)
	checkEvent(t, events[0], "segfault", 21951, "python3", "n")
	checkEvent(t, events[1], "trap", 22032, "myd", "n")

	if err := os.Truncate(source, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(3 * pollInterval)
	appendText(t, source, oomLine)
	checkEvent(t, waitEvents(t, p.stdout.String, 3)[2], "oom_kill", 31337, "big", "n")
	p.stop(t, syscall.SIGTERM)
}

// TestAuthKeyNotLogged runs through start, reloads and bad configs with a
// key set, and checks that the key never reaches stderr.
func TestAuthKeyNotLogged(t *testing.T) {
	const key = "s3cr3t-Key-9f8e7d"
	bin := buildAgent(t)
	source := filepath.Join(t.TempDir(), "kern.log")
	appendText(t, source, "")
	good := fmt.Sprintf("auth_key = %q\nsource = %q\n", key, source)
	config := writeConfig(t, good)

	p := startAgent(t, bin, "-config", config)
	if started := p.waitLog(t, "started", 1)[0]; started["auth_key_set"] != true {
		t.Errorf("started entry = %v, want auth_key_set true", started)
	}
	bad := []string{
		good + "extra = 1\n",
		strings.Replace(good, `"`+key+`"`, key, 1), // unquoted
		strings.Replace(good, `"`+key+`"`, `"`+key, 1),
		strings.Replace(good, `"`+key+`"`, `"`+key+`\q"`, 1),
		good + "auth_key = \"again\"\n",
	}
	for i, text := range bad {
		if err := os.WriteFile(config, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
		p.signal(t, syscall.SIGHUP)
		p.waitLog(t, "reload failed, keeping the old config", i+1)

		out, _ := exec.Command(bin, "-check-config", "-config", config).CombinedOutput()
		if strings.Contains(string(out), key[:6]) {
			t.Errorf("-check-config printed the key: %s", out)
		}
	}
	if err := os.WriteFile(config, []byte(good), 0o600); err != nil {
		t.Fatal(err)
	}
	p.signal(t, syscall.SIGHUP)
	p.waitLog(t, "reloaded", 1)
	p.stop(t, syscall.SIGTERM)

	if strings.Contains(p.stderr.String(), key[:6]) {
		t.Errorf("stderr contains the auth_key:\n%s", p.stderr)
	}
	if p.logs(t, "auth_key not set") != nil {
		t.Error("warned about an unset auth_key that is set")
	}
}

// TestKmsgWithoutSyslog runs the agent on /dev/kmsg without CAP_SYSLOG, as
// in a container whose bounding set lacks it, where kernel.dmesg_restrict=1
// (Debian's default): it must keep running, say once why it reads nothing
// and what to do, and stop cleanly.
func TestKmsgWithoutSyslog(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to drop CAP_SYSLOG from the bounding set")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/dmesg_restrict"); err != nil || strings.TrimSpace(string(b)) != "1" {
		t.Skip("kernel.dmesg_restrict is not 1: /dev/kmsg is readable without CAP_SYSLOG here")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatalf("setpriv not found; install util-linux: %v", err)
	}
	bin := buildAgent(t)
	config := writeConfig(t, "auth_key = \"k\"\nnode_id = \"n\"\nretry_interval = \"50ms\"\n")
	p := startAgent(t, setpriv, "--bounding-set=-syslog", "--", bin, "-config", config)
	first := p.waitLog(t, "source unreadable, will retry", 1)[0]
	if hint, _ := first["hint"].(string); !strings.Contains(hint, "needs CAP_SYSLOG") {
		t.Errorf("the log does not say that CAP_SYSLOG is missing: %v", first)
	}
	if err, _ := first["err"].(string); !strings.Contains(err, "operation not permitted") {
		t.Errorf("err = %q, want EPERM", err)
	}
	p.stop(t, syscall.SIGTERM)
	if n := len(p.logs(t, "source unreadable, will retry")); n != 1 {
		t.Errorf("logged %d times, want once", n)
	}
}
