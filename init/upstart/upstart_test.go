package upstart

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inittest"
)

// There is no Upstart to load the job with, so these tests parse the job
// the way Upstart's libnih does and run the exec line through sh.

// upstartStanzas are the stanzas Upstart 1.10+ knows (init(5)).
var upstartStanzas = []string{
	"apparmor", "author", "cgroup", "chdir", "chroot", "console", "description",
	"emits", "env", "exec", "expect", "export", "instance", "kill", "limit",
	"manual", "nice", "normal", "oom", "post-start", "post-stop", "pre-start",
	"pre-stop", "reload", "respawn", "script", "setgid", "setuid", "start",
	"stop", "task", "umask", "usage", "version",
}

// nihToken reads one token from s like libnih's nih_config_token: quotes
// group, a backslash escapes the next character but is kept unless that is a
// backslash or whitespace, and with dequote the quotes and dropped
// backslashes are removed. It stops at an unquoted character of delim and
// returns the rest, or fails on an unterminated quote.
func nihToken(t *testing.T, s, delim string, dequote bool) (tok, rest string) {
	t.Helper()
	var b strings.Builder
	var quote rune
	slash := false
	for i, r := range s {
		switch {
		case slash:
			slash = false
			if r != '\\' && !strings.ContainsRune(" \t", r) || !dequote {
				b.WriteRune('\\')
			}
			b.WriteRune(r)
		case r == '\\':
			slash = true
		case quote != 0:
			if r == quote {
				quote = 0
				if dequote {
					continue
				}
			}
			b.WriteRune(r)
		case r == '"' || r == '\'':
			quote = r
			if !dequote {
				b.WriteRune(r)
			}
		case strings.ContainsRune(delim, r):
			return b.String(), s[i:]
		default:
			b.WriteRune(r)
		}
	}
	if quote != 0 || slash {
		t.Fatalf("unterminated quote or trailing backslash in %q", s)
	}
	return b.String(), ""
}

// upstartJob is a parsed job: stanza name to its argument strings.
type upstartJob map[string][]string

func parseUpstart(t *testing.T, body []byte) upstartJob {
	t.Helper()
	job := upstartJob{}
	lines := strings.Split(string(body), "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		name, rest, _ := strings.Cut(l, " ")
		if !slices.Contains(upstartStanzas, name) {
			t.Errorf("line %d: unknown stanza %q", i+1, name)
		}
		if strings.HasSuffix(l, " script") || l == "script" {
			var block []string
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "end script"; i++ {
				block = append(block, lines[i])
			}
			if i == len(lines) {
				t.Fatalf("script block without end script")
			}
			if name == "script" {
				rest = strings.Join(block, "\n")
			}
		}
		job[name] = append(job[name], rest)
	}
	return job
}

func TestUpstartStructure(t *testing.T) {
	for _, v := range inittest.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			s := v.Svc
			f := inittest.Render(t, Init{}, s)[0]
			if f.Target != "/etc/init/"+s.Name+".conf" || f.Mode != 0o644 {
				t.Errorf("target %s mode %o", f.Target, f.Mode)
			}
			job := parseUpstart(t, f.Body)
			for _, required := range []string{"description", "start", "stop", "kill"} {
				if len(job[required]) == 0 {
					t.Errorf("missing %s stanza\n%s", required, f.Body)
				}
			}
			if len(job["exec"])+len(job["script"]) != 1 {
				t.Errorf("%d exec and %d script stanzas, want one of them\n%s", len(job["exec"]), len(job["script"]), f.Body)
			}
			for name, args := range job {
				if len(args) > 1 && name != "env" && name != "respawn" && name != "start" && name != "stop" {
					t.Errorf("stanza %s given %d times", name, len(args))
				}
			}
			if got := len(job["respawn"]) > 0; got != (s.Restart != initsys.RestartNever) {
				t.Errorf("respawn = %v for restart %s", got, s.Restart)
			}
			if got := len(job["setuid"]) > 0; got != (s.User != "root") {
				t.Errorf("setuid = %v for user %s", got, s.User)
			}
			if s.ReloadSignal != "" && !slices.Contains(job["reload"], "signal SIG"+s.ReloadSignal) {
				t.Errorf("reload = %q", job["reload"])
			}

			desc, _ := nihToken(t, job["description"][0], " \t#", true)
			if want, _ := initsys.Prepare(s); desc != want.Description {
				t.Errorf("description reads back as %q", desc)
			}
			var env []string
			for _, e := range job["env"] {
				tok, rest := nihToken(t, e, " \t#", true)
				if rest != "" {
					t.Errorf("env %q: trailing %q", e, rest)
				}
				env = append(env, tok)
			}
			var want []string
			for _, k := range s.EnvKeys() {
				want = append(want, k+"="+s.Environment[k])
			}
			if !slices.Equal(env, want) {
				t.Errorf("env reads back as %q, want %q", env, want)
			}

			if len(job["script"]) > 0 {
				checkScriptArgs(t, s, job["script"][0], env)
				return
			}
			// Upstart cuts the command at an unquoted # and hands the
			// rest to sh, which must see exactly the arguments.
			cmd, rest := nihToken(t, job["exec"][0], "#", false)
			if rest != "" {
				t.Errorf("exec line cut at %q", rest)
			}
			inittest.Need(t, "sh", "a POSIX sh")
			out, err := inittest.Run("sh", "-c", "set -- "+cmd+"\nfor a; do printf '%s\\0' \"$a\"; done")
			if err != nil {
				t.Fatalf("sh: %v\n%s", err, out)
			}
			got := strings.Split(strings.TrimSuffix(out, "\x00"), "\x00")
			if wantArgs := append([]string{s.Exec}, s.Args...); !slices.Equal(got, wantArgs) {
				t.Errorf("exec reads back as %q, want %q", got, wantArgs)
			}
		})
	}
}

func TestUpstartJob(t *testing.T) {
	body := inittest.Render(t, Init{}, inittest.Crashwatch())[0].Body
	for _, want := range []string{
		"start on (runlevel [2345] and static-network-up)",
		"stop on runlevel [!2345]",
		"respawn",
		"respawn limit 5 10",
		"normal exit 0 TERM INT HUP PIPE",
		"kill timeout 20",
		"reload signal SIGHUP",
		"setuid crashwatch",
		"setgid crashwatch",
		"chdir /var/lib/crashwatch",
		"console log",
		"post-stop exec sleep 5",
	} {
		if !inittest.HasLine(body, want) {
			t.Errorf("job lacks %q\n%s", want, inittest.Numbered(body))
		}
	}
}

// preStartScript returns the body of the job's pre-start script block.
func preStartScript(t *testing.T, body []byte) string {
	t.Helper()
	_, rest, ok := strings.Cut(string(body), "\npre-start script\n")
	if !ok {
		t.Fatalf("no pre-start script\n%s", body)
	}
	script, _, ok := strings.Cut(rest, "\nend script\n")
	if !ok {
		t.Fatalf("pre-start script without end script\n%s", body)
	}
	return script
}

// TestUpstartWithoutCapability runs the pre-start script as Upstart does
// (sh -e) with CAP_SYSLOG missing from the bounding set. root keeps what
// the bounding set holds, so the job warns about CAP_SYSLOG, or fails when
// it is required; for another user Upstart can grant no capability, so a
// required one always fails the start.
func TestUpstartWithoutCapability(t *testing.T) {
	root := inittest.Crashwatch()
	root.User, root.Group, root.StateDir = "root", "root", "/nonexistent/omnipack-test"
	root.Capabilities = []string{"CAP_SYSLOG", "CAP_NET_RAW"}
	rootRequired := root
	rootRequired.RequiredCapabilities = []string{"CAP_SYSLOG"}
	user := inittest.Crashwatch()
	user.RequiredCapabilities = []string{"CAP_SYSLOG"}
	cases := []struct {
		name  string
		svc   initsys.Service
		fails bool
		says  string
	}{
		{"root", root, false, inittest.DroppedWarning(root, "CAP_SYSLOG")},
		{"root-required", rootRequired, true, inittest.RequiredError(root, "CAP_SYSLOG")},
		{"user-required", user, true, "crashwatch: error: CAP_SYSLOG required, but Upstart cannot grant capabilities to user crashwatch; not starting"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			script := preStartScript(t, inittest.Render(t, Init{}, tc.svc)[0].Body)
			// The state directory is not what is tested here.
			script = strings.Replace(script, "install -d -m 0750 /nonexistent/omnipack-test", ":", 1)
			inittest.Shellcheck(t, "pre-start", []byte("#!/bin/sh -e\n"+script))
			argv := inittest.WithoutCap(t, "CAP_SYSLOG", "sh", "-e", "-c", script)
			out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
			if (err != nil) != tc.fails || !strings.Contains(string(out), tc.says) {
				t.Errorf("pre-start: %v (want failure %v), want it to say %q:\n%s\n--- script ---\n%s", err, tc.fails, tc.says, out, script)
			}
		})
	}
}

// checkScriptArgs runs a job's script block as Upstart does (sh -e, with
// the env stanzas exported), with its exec turned into a print of the
// words, and with and without the settings file in place: the words must
// be the expanded arguments, $FLAGS split and not globbed.
func checkScriptArgs(t *testing.T, s initsys.Service, script string, env []string) {
	t.Helper()
	inittest.Need(t, "sh", "a POSIX sh")
	lines := strings.Split(script, "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if !strings.HasPrefix(last, "exec ") {
		t.Fatalf("the script does not end in exec:\n%s", script)
	}
	lines[len(lines)-1] = "set -- " + strings.TrimPrefix(last, "exec ") + "\nfor a; do printf '%s\\0' \"$a\"; done"
	for _, written := range []bool{true, false} {
		settings := filepath.Join(t.TempDir(), "settings")
		if written {
			if err := os.WriteFile(settings, []byte(inittest.EnvFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		body := strings.ReplaceAll(strings.Join(lines, "\n"), initsys.ShQuote(s.EnvironmentFile), initsys.ShQuote(settings))
		dir := t.TempDir()
		inittest.GlobBait(t, dir)
		cmd := exec.Command("sh", "-e", "-c", body)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sh: %v\n%s", err, body)
		}
		want := inittest.EnvFileDefaultArgs
		if written {
			want = inittest.EnvFileArgs
		}
		want = append([]string{s.Exec}, want...)
		if got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00"); !slices.Equal(got, want) {
			t.Errorf("with the settings file written = %v the script runs %q, want %q", written, got, want)
		}
	}
}

// TestUpstartLimits: the open files limit and nice value are init(5)'s
// "limit nofile SOFT HARD" and "nice VALUE" stanzas; the limits Upstart
// cannot apply are named in a comment, and a job without limits has
// neither stanza.
func TestUpstartLimits(t *testing.T) {
	body := inittest.Render(t, Init{}, inittest.LimitsService(initsys.ProfileDefault))[0].Body
	job := parseUpstart(t, body)
	if got := job["limit"]; !slices.Equal(got, []string{"nofile 4321 4321"}) {
		t.Errorf("limit stanzas %q, want [\"nofile 4321 4321\"]\n%s", got, inittest.Numbered(body))
	}
	if got := job["nice"]; !slices.Equal(got, []string{"-5"}) {
		t.Errorf("nice stanzas %q, want [\"-5\"]\n%s", got, inittest.Numbered(body))
	}
	if want := "# Upstart puts the service in no cgroup of its own: the memory maximum and CPU weight are not enforced."; !inittest.HasLine(body, want) {
		t.Errorf("job does not say %q\n%s", want, inittest.Numbered(body))
	}
	job = parseUpstart(t, inittest.Render(t, Init{}, inittest.Crashwatch())[0].Body)
	if len(job["limit"])+len(job["nice"]) > 0 {
		t.Errorf("a job without limits has limit %q nice %q", job["limit"], job["nice"])
	}
}
