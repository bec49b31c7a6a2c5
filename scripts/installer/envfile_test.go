package installer_test

import (
	"bytes"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/omnipack/omnipack/install"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/scripts/installer"
)

// envDocs are environment files the editors are held equal on.
var envDocs = []string{
	"",
	"B=2",
	"# Settings for crashwatch.\n#LOG_LEVEL=\"info\"\n  REGION=\"eu\"\n",
	"A=1\nB=2\nA='3'\n",
	"AB=1\nA_=2\nexport A=0\n",
	"B=\"x\nA=inside\"\nA=real\n",
	"B=x\\\nA=inside\n",
	"# it's \"here\nB=\"a\\\"b\" # don't\nA=1 # it's\n",
	"A=\"x\ny\"\n",  // its own value goes on: refused
	"B=\"open\n",    // ends inside quotes: refused
	"B=x\\\n",       // ends with a backslash: refused
	"A=\"v\"",       // no final newline, the value it holds
	"C='x\n# A=c\n", // ends inside single quotes: refused
}

// envSets are the settings applied to each of envDocs.
var envSets = [][]install.Setting{
	{{Key: "env.A", Value: "v"}},
	{{Key: "env.A", Value: `a "b" $c ${d} \e ` + "`f` 'g' #h ü"}, {Key: "env.REGION", Value: "us east"}},
	{{Key: "env.LOG_LEVEL", Value: ""}, {Key: "env.B", Value: "2"}},
}

// TestEnvEditorMatchesGo runs install.sh's environment file editor under
// each awk on every document and set of values, and requires the file
// omnipack install's SetEnvFile writes, byte for byte, or a refusal from
// both.
func TestEnvEditorMatchesGo(t *testing.T) {
	prog := awkProgram(t, "env_awk")
	for name, argv := range awks(t) {
		t.Run(name, func(t *testing.T) {
			for _, doc := range envDocs {
				for _, sets := range envSets {
					dir := t.TempDir()
					var keys []string
					for _, s := range sets {
						keys = append(keys, s.Key)
						if err := os.WriteFile(filepath.Join(dir, s.Key), []byte(s.Value), 0o600); err != nil {
							t.Fatal(err)
						}
					}
					file := filepath.Join(dir, "environment")
					if err := os.WriteFile(file, []byte(doc), 0o600); err != nil {
						t.Fatal(err)
					}
					cmd := exec.Command(argv[0], append(argv[1:], "-v", "keys="+strings.Join(keys, " "), "-v", "dir="+dir, prog, file)...)
					cmd.Env = append(os.Environ(), "LC_ALL=C")
					out, err := cmd.Output()
					want, _, goErr := install.SetEnvFile([]byte(doc), sets)
					switch {
					case goErr != nil && err == nil:
						t.Errorf("%q: Go refuses (%v), awk writes:\n%s", doc, goErr, out)
					case goErr != nil:
						if !bytes.HasPrefix(lastLineOf(out), []byte("error ")) {
							t.Errorf("%q: awk fails without saying why:\n%s", doc, out)
						}
					case err != nil:
						t.Errorf("%q: awk refuses (%v): %s", doc, err, out)
					case !bytes.Equal(out, want):
						t.Errorf("%q with %v:\nawk:\n%s\nGo:\n%s", doc, keys, out, want)
					}
				}
			}
		})
	}
}

func lastLineOf(b []byte) []byte {
	lines := bytes.Split(bytes.TrimSuffix(b, []byte("\n")), []byte("\n"))
	return lines[len(lines)-1]
}

// TestEnvValueCheckMatchesGo: install.sh refuses the values omnipack
// install's CheckSetting refuses, and only those.
func TestEnvValueCheckMatchesGo(t *testing.T) {
	values := []string{"plain", "", "ünïcode € 𝄞", `"$x" \ ` + "`y`", "\x01", "a\tb", "a\x7fb", "\u0085 (C1 is allowed)",
		"\xff", "\xc3", "\xc3(", "\xc0\x80", "\xe0\x80\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xf0\x9d\x84",
		strings.Repeat("x", install.MaxValueLen), strings.Repeat("x", install.MaxValueLen+1)}
	prog := awkProgram(t, "env_value_awk")
	for name, argv := range awks(t) {
		t.Run(name, func(t *testing.T) {
			for _, v := range values {
				file := filepath.Join(t.TempDir(), "value")
				if err := os.WriteFile(file, []byte(v), 0o600); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(argv[0], append(argv[1:], prog, file)...)
				cmd.Env = append(os.Environ(), "LC_ALL=C")
				out, err := cmd.Output()
				goErr := install.CheckSetting(install.Setting{Key: "env.A", Value: v})
				if (err == nil) != (goErr == nil) {
					t.Errorf("%q: awk %v (%s), Go %v", v, err, out, goErr)
				}
			}
		})
	}
}

// envHarness runs install.sh's own functions, as main does: the options
// parsed, the values collected (and checked), the artifact's environment
// file checked, then apply_env_settings on the file /etc/default/crashwatch
// below the root $2 (empty: the release names no environment file).
const envHarness = `. "$1"
shift
root=$1
shift
umask 077
init_options
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/arg" "$tmp/pos" "$tmp/set"
parse_args "$@"
collect_settings
a_format=deb a_envfile=
[ -z "$root" ] || a_envfile=/etc/default/crashwatch root_prefix=$root
check_env_file
config_changed=no
apply_env_settings
echo "config_changed=$config_changed"
`

// TestEnvSettingsThroughInstallSh drives install.sh's functions under
// dash, bash and BusyBox ash: --set env.NAME=VALUE (and the environment,
// for an env.NAME secret) lands in the environment file with mode 0640,
// root:GROUP, written atomically, and sh's ". FILE" (set -a) reads each
// value back exactly; a secret is never printed; the same values again
// leave the file as it was; bad names and values exit 2.
func TestEnvSettingsThroughInstallSh(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Fatal("this test writes a root:GROUP file: run it as root")
	}
	group := "daemon"
	g, err := user.LookupGroup(group)
	if err != nil {
		t.Fatalf("group %s: %v", group, err)
	}
	f := getFixture(t)
	p := f.params
	p.Secrets = append(append([]string(nil), p.Secrets...), "env.TOKEN")
	p.EnvGroup = group
	data, err := installer.Render(p)
	if err != nil {
		t.Fatal(err)
	}
	// Everything but the last line: the functions only.
	lib := filepath.Join(t.TempDir(), "install-functions.sh")
	if err := os.WriteFile(lib, bytes.TrimSuffix(data, []byte(installer.LastLine+"\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	harness := filepath.Join(t.TempDir(), "harness.sh")
	if err := os.WriteFile(harness, []byte(envHarness), 0o644); err != nil {
		t.Fatal(err)
	}
	values := map[string]string{
		"SPACES":   "  two  spaces  ",
		"QUOTES":   `"double" 'single'`,
		"DOLLAR":   `$HOME ${PATH} $(id) $`,
		"BACKSL":   `a\b\\c\`,
		"BACKTICK": "`id` `",
		"MIXED":    `a "$b" \` + "`c`" + ` 'd' #e ü`,
	}
	const secretValue = "env-SECRET-7c1 $x"
	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "etc/default")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			envFile := filepath.Join(dir, "crashwatch")
			shipped := "# Settings for crashwatch.\n#MIXED=\"default\"\nMIXED=\"old\"\n"
			if err := os.WriteFile(envFile, []byte(shipped), 0o644); err != nil {
				t.Fatal(err)
			}
			args := []string{harness, lib, root}
			for k, v := range values {
				args = append(args, "--set", "env."+k+"="+v)
			}
			env := []string{"CRASHWATCH_ENV_TOKEN=" + secretValue}
			r := run(t, sh, args[0], "", env, args[1:]...)
			if r.code != 0 || !strings.Contains(r.out(), "config_changed=yes") {
				t.Fatalf("exit %d:\n%s", r.code, r.out())
			}
			if !strings.Contains(r.out(), "env.TOKEN=<secret>") || !strings.Contains(r.out(), "env.SPACES=  two  spaces  ") ||
				strings.Contains(r.out(), "SECRET-7c1") {
				t.Errorf("the summary shows a secret or hides a value:\n%s", r.out())
			}
			fi, err := os.Stat(envFile)
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if fi.Mode().Perm() != 0o640 || st.Uid != 0 || g.Gid != strconv.FormatUint(uint64(st.Gid), 10) {
				t.Errorf("mode %v, owner %d:%d, want 0640 root:%s (%s)", fi.Mode(), st.Uid, st.Gid, group, g.Gid)
			}
			got, _ := os.ReadFile(envFile)
			if !strings.HasPrefix(string(got), "# Settings for crashwatch.\n#MIXED=\"default\"\nMIXED=") || strings.Contains(string(got), `"old"`) {
				t.Errorf("the comments or the line to replace were not handled:\n%s", got)
			}
			if left, _ := filepath.Glob(filepath.Join(dir, ".crashwatch.*")); len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
			want := map[string]string{"TOKEN": secretValue}
			for k, v := range values {
				want[k] = v
			}
			for k, v := range want {
				cmd := exec.Command("sh", "-c", `set -a; . "$1"; set +a; printf '%s' "$(printenv "$2")"`, "sh", envFile, k)
				cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/home/x"}
				out, err := cmd.Output()
				if err != nil || string(out) != v {
					t.Errorf("sh reads %s as %q (%v), want %q\n%s", k, out, err, v, got)
				}
			}

			// The same values again: not rewritten, no restart.
			before, _ := os.Stat(envFile)
			r = run(t, sh, args[0], "", env, args[1:]...)
			after, _ := os.Stat(envFile)
			if r.code != 0 || !strings.Contains(r.out(), "config_changed=no") || !strings.Contains(r.out(), "already has") || !os.SameFile(before, after) {
				t.Errorf("second run: exit %d, file replaced %v:\n%s", r.code, !os.SameFile(before, after), r.out())
			}

			// Refused before anything, with exit 2; the value never shown.
			for _, c := range []struct{ arg, want string }{
				{"env.9LIVES=x", "is not env.NAME"},
				{"env.A-B=x", "is not env.NAME"},
				{"env.A=hidden\nline", "the value contains a newline"},
				{"env.A=hidden\x01", "the value contains a newline or another control character"},
				{"env.A=hidden\xff", "is not valid UTF-8"},
				{"env.A=" + strings.Repeat("h", install.MaxValueLen+1), "longer than 4096 bytes"},
			} {
				r := run(t, sh, harness, "", nil, lib, root, "--set", c.arg)
				if r.code != 2 || !strings.Contains(r.out(), c.want) || strings.Contains(r.out(), "hidden") {
					t.Errorf("--set %q: exit %d, want 2 and %q:\n%s", c.arg, r.code, c.want, r.out())
				}
			}
			if again, _ := os.ReadFile(envFile); !bytes.Equal(again, got) {
				t.Errorf("a refused run changed the file")
			}
			// Without an environment file in the release: refused, exit 2.
			r = run(t, sh, harness, "", nil, lib, "", "--set", "env.A=x")
			if r.code != 2 || !strings.Contains(r.out(), "deb package ships no environment file") {
				t.Errorf("no environment file: exit %d:\n%s", r.code, r.out())
			}
		})
	}
}

// TestEnvDryRun: install.sh --dry-run names the environment file the
// release's package for this machine ships and the variables, as a plan
// line, and changes nothing; a release whose packages ship none is
// refused with exit 2, and so is one naming a path outside /etc.
func TestEnvDryRun(t *testing.T) {
	f := getFixture(t)
	defer f.srv.publish(f.release)
	f.srv.publish(f.release)
	format, _ := formats.Lookup(f.format)
	envFile := format.Rule().EnvironmentFile(pkgName)
	log := filepath.Join(t.TempDir(), "calls")
	path := stubDir(t, log, mutating) + ":" + os.Getenv("PATH")
	dash := shells(t)[0]
	r := run(t, dash, f.script, path, nil, "--dry-run", "--set", "env.LOG_LEVEL=de bug", "--set", "env.B=1", "--set", "env.LOG_LEVEL=debug")
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.out())
	}
	for _, want := range []string{"\nplan: set-env " + envFile + " B LOG_LEVEL\n",
		"would set: env.LOG_LEVEL=debug, env.B=1 in " + envFile + " (mode 0640, root:crashwatch)"} {
		if !strings.Contains(r.out(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, r.out())
		}
	}
	if calls := changingCalls(t, log); calls != "" {
		t.Errorf("the dry run called tools that change the host:\n%s", calls)
	}

	for _, c := range []struct {
		name, envFile, want string
		code                int
	}{
		{"no environment file", "", "package ships no environment file", 2},
		{"outside /etc", "/root/.profile", "is not a clean path below /etc/: /root/.profile", 1},
		{"dot-dot", "/etc/default/../../root/.profile", "is not a clean path below /etc/: /etc/default/../..", 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir, m := copyRelease(t, f.release)
			for i := range m.Artifacts {
				if m.Artifacts[i].EnvironmentFile != "" {
					m.Artifacts[i].EnvironmentFile = c.envFile
				}
			}
			resign{m}.sign(t, dir, f.keys, time.Now(), time.Hour)
			f.srv.publish(dir)
			r := run(t, dash, f.script, path, nil, "--dry-run", "--set", "env.LOG_LEVEL=x")
			if r.code != c.code || !strings.Contains(r.out(), c.want) {
				t.Errorf("exit %d (want %d), want %q:\n%s", r.code, c.code, c.want, r.out())
			}
		})
	}
}
