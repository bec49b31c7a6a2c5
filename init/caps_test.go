package initsys_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

// TestCapNumbers holds the table against util-linux: setpriv --list-caps
// lists the capabilities this kernel knows in the order of their numbers.
func TestCapNumbers(t *testing.T) {
	inittest.Need(t, "setpriv", "apt-get install util-linux")
	out, err := exec.Command("setpriv", "--list-caps").Output()
	if err != nil {
		t.Fatalf("setpriv --list-caps: %v", err)
	}
	listed := strings.Fields(string(out))
	if len(listed) == 0 {
		t.Fatal("setpriv --list-caps listed nothing")
	}
	for n, short := range listed {
		name := "CAP_" + strings.ToUpper(short)
		if got, ok := initsys.CapNumber(name); !ok || got != n {
			t.Errorf("%s: the table says %d (known %v), setpriv says %d", name, got, ok, n)
		}
	}
	// The table may know capabilities newer than this kernel, not fewer.
	last, err := os.ReadFile("/proc/sys/kernel/cap_last_cap")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := strconv.Atoi(strings.TrimSpace(string(last))); len(initsys.CapNames()) < n+1 {
		t.Errorf("the table has %d capabilities; this kernel has %d", len(initsys.CapNames()), n+1)
	}
}

// TestCapsCheckLine runs the one-line check of the systemd and runit start
// fragments for real, in a PID namespace whose PID 1 lacks CAP_SYSLOG (as
// systemd-nspawn's does), under dash and BusyBox ash.
func TestCapsCheckLine(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a PID namespace; run go test as root")
	}
	inittest.Need(t, "unshare", "apt-get install util-linux")
	declared := initsys.Service{Name: "probe", Capabilities: []string{"cap_syslog", "CAP_NET_RAW"}}
	required := declared
	required.RequiredCapabilities = []string{"CAP_SYSLOG"}
	full := declared
	full.Capabilities = []string{"CAP_NET_RAW"}
	cases := []struct {
		name    string
		svc     initsys.Service
		fails   bool
		message string // "" for no message at all
	}{
		{"declared", declared, false, inittest.DroppedWarning(declared, "CAP_SYSLOG")},
		{"required", required, true, inittest.RequiredError(required, "CAP_SYSLOG")},
		{"all there", full, false, ""},
	}
	for _, shell := range [][]string{{"dash"}, {"busybox", "sh"}} {
		inittest.Need(t, shell[0], "apt-get install "+shell[0])
		for _, tc := range cases {
			t.Run(shell[0]+"/"+tc.name, func(t *testing.T) {
				line := initsys.CapsCheckLine(tc.svc)
				inittest.Shellcheck(t, "line", []byte("#!/bin/sh\n"+line+"\n[ -z \"$caps_missing\" ]\n"))
				// PID 1 of the new namespace is the shell itself.
				argv := append([]string{"unshare", "--pid", "--fork", "--mount-proc"},
					inittest.WithoutCap(t, "CAP_SYSLOG", shell...)...)
				argv = append(argv, "-c", line+`; [ -z "$caps_missing" ]`)
				cmd := exec.Command(argv[0], argv[1:]...)
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				if (err != nil) != tc.fails {
					t.Errorf("exit %v, want failure %v\n%s", err, tc.fails, stderr.String())
				}
				want := ""
				if tc.message != "" {
					want = tc.message
				}
				got := strings.TrimSuffix(stderr.String(), "\n")
				if tc.message == "" && got != "" || tc.message != "" && !strings.HasPrefix(got, want) || strings.Count(got, "\n") > 0 {
					t.Errorf("said %q, want one line starting %q", got, want)
				}
				if stdout.Len() > 0 {
					t.Errorf("printed to stdout: %q", stdout.String())
				}
			})
		}
	}
	if initsys.CapsCheckLine(initsys.Service{Name: "bare"}) != "" {
		t.Errorf("a service without capabilities gets a check")
	}
}

// TestCapsCheckPlural: two dropped capabilities make one warning naming
// both.
func TestCapsCheckPlural(t *testing.T) {
	s := initsys.Service{Name: "probe", Capabilities: []string{"CAP_SYSLOG", "CAP_NET_RAW", "CAP_CHOWN"}}
	dir := t.TempDir()
	status := filepath.Join(dir, "status")
	// CapBnd with only CAP_CHOWN (bit 0).
	if err := os.WriteFile(status, []byte("Name:\tx\nCapBnd:\t0000000000000001\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	line := strings.ReplaceAll(initsys.CapsCheckLine(s), "/proc/1/status", status)
	for _, shell := range [][]string{{"dash"}, {"busybox", "sh"}} {
		inittest.Need(t, shell[0], "apt-get install "+shell[0])
		out, err := exec.Command(shell[0], append(shell[1:], "-c", line+`; echo "$caps_keep"`)...).CombinedOutput()
		want := "probe: warning: CAP_NET_RAW, CAP_SYSLOG are not in this host's capability bounding set; starting without them\n-all,+chown\n"
		if err != nil || string(out) != want {
			t.Errorf("%s: %v\n%q\nwant\n%q", shell[0], err, out, want)
		}
	}
}
