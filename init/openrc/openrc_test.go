package openrc

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

func TestOpenRCScripts(t *testing.T) {
	for _, v := range inittest.Variants() {
		t.Run(v.Name, func(t *testing.T) {
			f := inittest.Render(t, Init{}, v.Svc)[0]
			if f.Target != "/etc/init.d/"+v.Svc.Name || f.Mode != 0o755 {
				t.Errorf("target %s mode %o", f.Target, f.Mode)
			}
			if !strings.HasPrefix(string(f.Body), "#!/sbin/openrc-run\n") {
				t.Errorf("wrong shebang")
			}
			inittest.Shellcheck(t, v.Name, f.Body)
			inittest.ParseSh(t, v.Name, f.Body)
		})
	}
}

// openrcEval sources the script in sh the way openrc-run.sh does, runs
// start_pre when asked, and prints the words supervise-daemon.sh would exec
// (it evals "$command -- $command_args"), then the user switch it would use.
func openrcEval(t *testing.T, body []byte, path string, startPre bool) (argv []string, user string) {
	t.Helper()
	return openrcEvalIn(t, body, path, "", startPre)
}

// openrcEvalIn is openrcEval run in the directory dir.
func openrcEvalIn(t *testing.T, body []byte, path, dir string, startPre bool) (argv []string, user string) {
	t.Helper()
	script := inittest.WriteTemp(t, "openrc", body, 0o644)
	prog := `checkpath() { :; }; ewarn() { :; }; eerror() { :; }
. "$1"
` + map[bool]string{true: "start_pre\n"}[startPre] + `
eval "set -- $command $command_args"
for a; do printf '%s\0' "$a"; done
printf '%s' "${command_user-unset}"`
	cmd := exec.Command("sh", "-c", prog, "sh", script)
	cmd.Env = append(os.Environ(), "PATH="+path)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sh: %v\n%s", err, out)
	}
	words := strings.Split(string(out), "\x00")
	return words[:len(words)-1], words[len(words)-1]
}

func TestOpenRCCommand(t *testing.T) {
	inittest.Need(t, "setpriv", "apt-get install util-linux")
	setpriv, _ := exec.LookPath("setpriv")
	s := inittest.Crashwatch()
	body := inittest.Render(t, Init{}, s)[0].Body
	want := append([]string{s.Exec}, s.Args...)

	// Without setpriv (PATH has grep only) OpenRC switches users itself.
	noSetpriv := t.TempDir()
	grep, _ := exec.LookPath("grep")
	if err := os.Symlink(grep, filepath.Join(noSetpriv, "grep")); err != nil {
		t.Fatal(err)
	}
	argv, user := openrcEval(t, body, noSetpriv, true)
	if !slices.Equal(argv, want) || user != "crashwatch:crashwatch" {
		t.Errorf("without setpriv: argv %q user %q, want %q as crashwatch:crashwatch", argv, user, want)
	}

	// With setpriv, setpriv switches and execs the daemon.
	argv, user = openrcEval(t, body, os.Getenv("PATH"), true)
	wantWrapped := append(append([]string{setpriv}, initsys.SetprivArgs(mustPrepare(t, s), initsys.SetprivCaps(s.Capabilities))...), want...)
	if !slices.Equal(argv, wantWrapped) || user != "unset" {
		t.Errorf("with setpriv: argv %q user %q, want %q unset", argv, user, wantWrapped)
	}

	// Profile nonetwork puts setpriv in an empty network namespace.
	inittest.Need(t, "unshare", "apt-get install util-linux")
	unshare, _ := exec.LookPath("unshare")
	nonet := s
	nonet.Profile = initsys.ProfileNoNetwork
	argv, _ = openrcEval(t, inittest.Render(t, Init{}, nonet)[0].Body, os.Getenv("PATH"), true)
	wantWrapped = append(append([]string{unshare, "--net", "--", setpriv}, initsys.SetprivArgs(mustPrepare(t, nonet), initsys.SetprivCaps(nonet.Capabilities))...), want...)
	if !slices.Equal(argv, wantWrapped) {
		t.Errorf("nonetwork: argv %q, want %q", argv, wantWrapped)
	}

	// The exported environment reaches the daemon unchanged.
	script := inittest.WriteTemp(t, "openrc", body, 0o644)
	out, err := inittest.Run("sh", "-c", `. "$1"; printf '%s\0' "$GREETING" "$LOG_LEVEL" "$EMPTY"`, "sh", script)
	if got := strings.Split(out, "\x00"); err != nil || got[0] != s.Environment["GREETING"] || got[1] != "info" || got[2] != "" {
		t.Errorf("environment: %v %q", err, out)
	}
}

func mustPrepare(t *testing.T, s initsys.Service) initsys.Service {
	t.Helper()
	s, err := initsys.Prepare(s)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestOpenRCScript(t *testing.T) {
	body := inittest.Render(t, Init{}, inittest.Crashwatch())[0].Body
	for _, want := range []string{
		`command=/usr/bin/crashwatch`,
		`command_user="crashwatch:crashwatch"`,
		`capabilities="^cap_syslog"`,
		`directory="/var/lib/crashwatch"`,
		`supervisor=supervise-daemon`,
		`respawn_delay=5`,
		`respawn_max=0`,
		`retry="TERM/20/KILL/5"`,
		`extra_started_commands="reload"`,
		"\tuse net logger",
		"\tafter net",
		"\tcheckpath -d -m 0750 -o crashwatch:crashwatch /var/lib/crashwatch || return 1",
		"\tsupervise-daemon \"${RC_SVCNAME}\" --signal HUP",
	} {
		if !inittest.HasLine(body, want) {
			t.Errorf("script lacks %q\n%s", want, inittest.Numbered(body))
		}
	}

	never := inittest.Crashwatch()
	never.Restart = initsys.RestartNever
	body = inittest.Render(t, Init{}, never)[0].Body
	for _, want := range []string{
		"command_background=yes",
		`pidfile="/run/crashwatch.pid"`,
		"\tservice_set_value command /usr/bin/crashwatch",
		"\tkill -s HUP \"$(cat \"$pidfile\")\"",
	} {
		if !inittest.HasLine(body, want) {
			t.Errorf("never script lacks %q\n%s", want, inittest.Numbered(body))
		}
	}
	if strings.Contains(string(body), "supervisor=") {
		t.Errorf("Restart=never still supervised\n%s", body)
	}

	spaced := inittest.Crashwatch()
	spaced.Exec = "/opt/crash watch/bin/crashwatch"
	if _, err := (Init{}).Render(spaced); err == nil {
		t.Errorf("OpenRC accepted an exec path with a space")
	}
}

// TestOpenRCWithoutCapability runs start_pre, for a service that declares
// CAP_SYSLOG and CAP_NET_RAW, with CAP_SYSLOG missing from the bounding set
// as in a systemd-nspawn container: setpriv is asked for CAP_NET_RAW only
// and ewarn says so once; when CAP_SYSLOG is required, start_pre fails with
// eerror saying so. (openrc-run itself is not installed here; the script is
// sourced as openrc-run.sh does.)
func TestOpenRCWithoutCapability(t *testing.T) {
	inittest.Need(t, "setpriv", "apt-get install util-linux")
	for _, required := range []bool{false, true} {
		t.Run(map[bool]string{false: "declared", true: "required"}[required], func(t *testing.T) {
			s := inittest.Crashwatch()
			s.Capabilities = []string{"CAP_SYSLOG", "CAP_NET_RAW"}
			if required {
				s.RequiredCapabilities = []string{"CAP_SYSLOG"}
			}
			script := inittest.WriteTemp(t, "openrc", inittest.Render(t, Init{}, s)[0].Body, 0o644)
			prog := `checkpath() { :; }
ewarn() { printf 'ewarn %s\n' "$*" >&2; }
eerror() { printf 'eerror %s\n' "$*" >&2; }
. "$1"
start_pre || exit 3
eval "set -- $command $command_args"
for a; do printf '%s\n' "$a"; done`
			for _, sh := range []string{"dash", "busybox"} {
				inittest.Need(t, sh, "apt-get install "+sh)
				argv := inittest.WithoutCap(t, "CAP_SYSLOG", sh)
				if sh == "busybox" {
					argv = append(argv, "sh")
				}
				cmd := exec.Command(argv[0], append(argv[1:], "-c", prog, "sh", script)...)
				var stdout, stderr strings.Builder
				cmd.Stdout, cmd.Stderr = &stdout, &stderr
				err := cmd.Run()
				if required {
					want := "eerror " + inittest.RequiredError(s, "CAP_SYSLOG")
					if err == nil || !strings.Contains(stderr.String(), want) {
						t.Errorf("%s: start_pre: %v, want it to fail with %q:\n%s", sh, err, want, stderr.String())
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: start_pre: %v\n%s", sh, err, stderr.String())
				}
				if want := "ewarn " + inittest.DroppedWarning(s, "CAP_SYSLOG") + "\n"; stderr.String() != want {
					t.Errorf("%s: start_pre said %q, want the one warning %q", sh, stderr.String(), want)
				}
				args := strings.Split(stdout.String(), "\n")
				for _, want := range []string{"--inh-caps=-all,+net_raw", "--ambient-caps=-all,+net_raw", "--bounding-set=-all,+net_raw"} {
					if !slices.Contains(args, want) {
						t.Errorf("%s: setpriv is not given %s: %q", sh, want, args)
					}
				}
			}
		})
	}
}

// TestOpenRCEnvironmentFile: the script reads the settings file and
// start_pre works out the arguments from it, $FLAGS split and not globbed,
// or without the file from the declared defaults.
func TestOpenRCEnvironmentFile(t *testing.T) {
	// Without setpriv, so the words are the daemon's alone.
	noSetpriv := t.TempDir()
	for _, tool := range []string{"grep", "sed"} {
		p, err := exec.LookPath(tool)
		if err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
		if err := os.Symlink(p, filepath.Join(noSetpriv, tool)); err != nil {
			t.Fatal(err)
		}
	}
	for _, written := range []bool{true, false} {
		s := inittest.EnvFileService(initsys.ProfileDefault)
		s.EnvironmentFile = filepath.Join(t.TempDir(), "settings")
		if written {
			if err := os.WriteFile(s.EnvironmentFile, []byte(inittest.EnvFile), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		dir := t.TempDir()
		inittest.GlobBait(t, dir)
		argv, _ := openrcEvalIn(t, inittest.Render(t, Init{}, s)[0].Body, noSetpriv, dir, true)
		want := inittest.EnvFileDefaultArgs
		if written {
			want = inittest.EnvFileArgs
		}
		if want = append([]string{s.Exec}, want...); !slices.Equal(argv, want) {
			t.Errorf("with the settings file written = %v: argv %q, want %q", written, argv, want)
		}
	}
}

// TestOpenRCLimits sources the script and applies its limits the way
// openrc-run.sh 0.45 reads them: ulimit $rc_ulimit in sh, each line of
// rc_cgroup_settings as "file value" (cgroup2_set_limits), the v1
// variables as "file value" (cgroup_set_values), and the supervisor's
// arguments. openrc-run itself runs the script in the real-host tier.
func TestOpenRCLimits(t *testing.T) {
	prog := `. "$1"
if [ -n "${rc_ulimit}" ]; then
	ulimit ${rc_ulimit} || exit 3
fi
echo "nofile $(ulimit -Sn) $(ulimit -Hn)"
echo "${rc_cgroup_settings}" | while read -r key value; do
	[ -n "$key" ] && [ -n "$value" ] && echo "v2 $key $value"
done
for v1 in "$rc_cgroup_memory" "$rc_cgroup_cpu"; do
	[ -n "$v1" ] && echo "v1 $v1"
done
echo "supervise_daemon_args ${supervise_daemon_args-unset}"
echo "start_stop_daemon_args ${start_stop_daemon_args-unset}"`
	l := inittest.Limits
	cases := []struct {
		name string
		svc  initsys.Service
		want []string
	}{
		{"limits", inittest.LimitsService(initsys.ProfileDefault), []string{
			"nofile 4321 4321",
			"v2 memory.max 268435456",
			"v2 cpu.weight 50",
			"v1 memory.limit_in_bytes 268435456",
			"v1 cpu.shares 512",
			"supervise_daemon_args --nicelevel -5",
			"start_stop_daemon_args unset",
		}},
		{"never", func() initsys.Service {
			s := inittest.LimitsService(initsys.ProfileDefault)
			s.Restart = initsys.RestartNever
			s.Limits = initsys.Limits{CPUWeight: 10000, Nice: l.Nice}
			return s
		}(), []string{
			"nofile 20000 20000",
			"v2 cpu.weight 10000",
			"v1 cpu.shares 102400",
			"supervise_daemon_args unset",
			"start_stop_daemon_args --nicelevel -5",
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := inittest.Render(t, Init{}, tc.svc)[0].Body
			script := inittest.WriteTemp(t, "openrc", body, 0o644)
			for _, sh := range []string{"dash", "busybox"} {
				inittest.Need(t, sh, "apt-get install "+sh)
				argv := []string{sh}
				if sh == "busybox" {
					argv = append(argv, "sh")
				}
				// The open files limit the shell starts with, so that a
				// script without one shows it unchanged.
				argv = append([]string{"prlimit", "--nofile=20000:20000", "--"}, argv...)
				out, err := exec.Command(argv[0], append(argv[1:], "-c", prog, "sh", script)...).CombinedOutput()
				if err != nil {
					t.Fatalf("%s: %v\n%s", sh, err, out)
				}
				if got := strings.Split(strings.TrimSpace(string(out)), "\n"); !slices.Equal(got, tc.want) {
					t.Errorf("%s: openrc-run would apply\n%s\nwant\n%s\n--- script ---\n%s", sh, strings.Join(got, "\n"), strings.Join(tc.want, "\n"), inittest.Numbered(body))
				}
			}
		})
	}
	// Without limits the script sets none of OpenRC's variables.
	body := string(inittest.Render(t, Init{}, inittest.Crashwatch())[0].Body)
	for _, v := range []string{"rc_ulimit", "rc_cgroup_", "supervise_daemon_args", "start_stop_daemon_args"} {
		if strings.Contains(body, v) {
			t.Errorf("a service without limits sets %s:\n%s", v, body)
		}
	}
}
