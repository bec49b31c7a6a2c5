package inits

import (
	"fmt"
	"os/exec"
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

// shellScript embeds every fragment of every init the way maintainer
// scripts do: conditions inside if and negated, commands on their own.
func shellScript(s initsys.Service) []byte {
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	for _, r := range All() {
		sh := r.Shell(s)
		fmt.Fprintf(&b, "\n# %s\n", r.Name())
		for _, cond := range []string{sh.Running, sh.Installed, sh.Status} {
			fmt.Fprintf(&b, "if %s; then\n\techo yes\nfi\n", cond)
			fmt.Fprintf(&b, "if ! %s; then\n\techo no\nfi\n", cond)
		}
		fmt.Fprintf(&b, "if %s && %s; then\n\techo both\nfi\n", sh.Running, sh.Installed)
		for _, cmd := range []string{sh.Enable, sh.Disable, sh.Start, sh.Stop, sh.Restart, sh.Reload, sh.PID, sh.Log} {
			fmt.Fprintf(&b, "%s\n", cmd)
		}
		if sh.StartCheck != "" {
			fmt.Fprintf(&b, "if %s; then\n\techo ok\nfi\n", sh.StartCheck)
		}
	}
	return []byte(b.String())
}

func TestShellFragments(t *testing.T) {
	for _, v := range inittest.Variants() {
		body := shellScript(v.Svc)
		inittest.Shellcheck(t, v.Name, body)
		inittest.ParseSh(t, v.Name, body)
	}
	for _, r := range All() {
		sh := r.Shell(inittest.Crashwatch())
		for name, frag := range map[string]string{
			"Running": sh.Running, "Installed": sh.Installed, "Enable": sh.Enable, "Disable": sh.Disable,
			"Start": sh.Start, "Stop": sh.Stop, "Restart": sh.Restart, "Status": sh.Status, "Reload": sh.Reload,
			"PID": sh.PID, "Log": sh.Log,
		} {
			if strings.TrimSpace(frag) == "" || strings.Contains(frag, "\n") {
				t.Errorf("%s %s fragment %q must be one non-empty line", r.Name(), name, frag)
			}
		}
		if strings.Contains(sh.StartCheck, "\n") {
			t.Errorf("%s StartCheck fragment %q must be one line", r.Name(), sh.StartCheck)
		}
	}
}

// TestShellDetection evaluates each init's Running and Installed conditions
// on this machine with every shell: they must answer yes or no quietly.
func TestShellDetection(t *testing.T) {
	for _, shell := range [][]string{{"dash"}, {"busybox", "sh"}} {
		inittest.Need(t, shell[0], "apt-get install "+shell[0])
		for _, r := range All() {
			sh := r.Shell(inittest.Crashwatch())
			for name, cond := range map[string]string{"Running": sh.Running, "Installed": sh.Installed, "Status": sh.Status} {
				args := append(shell[1:], "-c", "if "+cond+"; then echo true; else echo false; fi")
				cmd := exec.Command(shell[0], args...)
				var stderr strings.Builder
				cmd.Stderr = &stderr
				out, err := cmd.Output()
				if err != nil || stderr.Len() > 0 {
					t.Errorf("%s: %s %s: %v %s", strings.Join(shell, " "), r.Name(), name, err, stderr.String())
				}
				t.Logf("%s %s %s on this host: %s", strings.Join(shell, " "), r.Name(), name, strings.TrimSpace(string(out)))
			}
		}
	}
}
