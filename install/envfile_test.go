package install

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// shipped is an environment file as a package ships it
// (initsys.EnvFileDefaults), with a line an admin added.
const shipped = `# Settings for agent on this host, read by its service each time it starts,
# whichever init runs it. One NAME="value" per line; within the double
# quotes write \" \\ \$ and \` + "`" + ` for those characters.
#
# The package's defaults, which a line here overrides:
#LOG_LEVEL="info"
#FLAGS="--from-unit"
  REGION="eu-west"
`

// TestSetEnvFile: where each variable lands and what stays as it was.
func TestSetEnvFile(t *testing.T) {
	for _, c := range []struct {
		name string
		doc  string
		sets []Setting
		want string // "" with err set: refused
		err  string
	}{
		{"appended, comments kept", shipped, []Setting{{"env.LOG_LEVEL", "debug"}},
			shipped + "LOG_LEVEL=\"debug\"\n", ""},
		{"active line replaced, indent kept", shipped, []Setting{{"env.REGION", "us-east"}},
			strings.Replace(shipped, `  REGION="eu-west"`, `  REGION="us-east"`, 1), ""},
		{"several, in order, the last of one name wins", shipped,
			[]Setting{{"env.A", "1"}, {"env.REGION", "x"}, {"env.A", "2"}},
			strings.Replace(shipped, `  REGION="eu-west"`, `  REGION="x"`, 1) + "A=\"2\"\n", ""},
		{"every active line of the name", "A=1\nB=2\nA='3'\n", []Setting{{"env.A", "v"}},
			"A=\"v\"\nB=2\nA=\"v\"\n", ""},
		{"a longer name is another variable", "AB=1\nA_=2\n", []Setting{{"env.A", "v"}},
			"AB=1\nA_=2\nA=\"v\"\n", ""},
		{"export lines are left, the new line comes after", "export A=1\n", []Setting{{"env.A", "v"}},
			"export A=1\nA=\"v\"\n", ""},
		{"no final newline", "B=2", []Setting{{"env.A", "v"}}, "B=2\nA=\"v\"\n", ""},
		{"no final newline, replaced", "A=\"v\"", []Setting{{"env.A", "v"}}, "A=\"v\"\n", ""},
		{"empty file", "", []Setting{{"env.A", "v"}}, "A=\"v\"\n", ""},
		{"escaped", "", []Setting{{"env.A", `a "b" $c \d ` + "`e`"}}, "A=\"a \\\"b\\\" \\$c \\\\d \\`e\\`\"\n", ""},
		{"inside another's quoted value: not a line of its own", "B=\"x\nA=inside\"\n", []Setting{{"env.A", "v"}},
			"B=\"x\nA=inside\"\nA=\"v\"\n", ""},
		{"after a backslash continuation: not a line of its own", "B=x\\\nA=inside\n", []Setting{{"env.A", "v"}},
			"B=x\\\nA=inside\nA=\"v\"\n", ""},
		{"a quote in a comment opens nothing", "# it's \"here\n", []Setting{{"env.A", "v"}},
			"# it's \"here\nA=\"v\"\n", ""},
		{"an escaped quote opens nothing", "B=\"a\\\"b\"\nA=1\n", []Setting{{"env.A", "v"}},
			"B=\"a\\\"b\"\nA=\"v\"\n", ""},
		{"its own value goes on over lines", "A=\"x\ny\"\n", []Setting{{"env.A", "v"}}, "", "more than one line"},
		{"the file ends inside quotes", "B=\"x\n", []Setting{{"env.A", "v"}}, "", "ends inside a quoted value"},
		{"the file ends with a backslash", "B=x\\\n", []Setting{{"env.A", "v"}}, "", "with a backslash"},
		{"a config key", "", []Setting{{"auth_key", "v"}}, "", "not an environment variable setting"},
		{"a control character", "", []Setting{{"env.A", "a\tb"}}, "", "control character"},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, changed, err := SetEnvFile([]byte(c.doc), c.sets)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(out) != c.want {
				t.Errorf("got\n%s\nwant\n%s", out, c.want)
			}
			if changed != (c.want != c.doc) {
				t.Errorf("changed = %v", changed)
			}
			again, changed, err := SetEnvFile(out, c.sets)
			if err != nil || changed || string(again) != string(out) {
				t.Errorf("setting the same values again changed the file (%v, %v):\n%s", changed, err, again)
			}
		})
	}
}

// TestCheckSettingEnvNames: env.NAME takes an environment variable name,
// and its value the config's rules.
func TestCheckSettingEnvNames(t *testing.T) {
	for key, ok := range map[string]bool{
		"env.LOG_LEVEL": true, "env._x9": true, "env.a": true, "auth_key": true, "node-id": true,
		"env.": false, "env.9A": false, "env.A-B": false, "env.A.B": false, "env.A B": false, "env.$A": false, "env": true,
		"ENV.A": false, "env.A=": false,
	} {
		if err := CheckSetting(Setting{key, "v"}); (err == nil) != ok {
			t.Errorf("%q: %v", key, err)
		}
	}
	for _, bad := range []string{"a\nb", "a\rb", "\x00", "\x7f", "\xff", strings.Repeat("x", MaxValueLen+1)} {
		if err := CheckSetting(Setting{"env.A", bad}); err == nil || strings.Contains(err.Error(), bad) {
			t.Errorf("value %q: %v", bad, err)
		}
	}
	if err := CheckSetting(Setting{"env.A", `ünï "$(id)" \ ` + "`x` 'y' #z"}); err != nil {
		t.Errorf("printable value refused: %v", err)
	}
}

// TestEnvFileReadBySh writes values that need every kind of escaping and
// reads them back the way the shell inits do (set -a; . FILE) under dash,
// bash and BusyBox ash: each must come back exactly.
func TestEnvFileReadBySh(t *testing.T) {
	values := map[string]string{
		"SPACES":   "  two  spaces  ",
		"QUOTES":   `"double" 'single'`,
		"DOLLAR":   `$HOME ${PATH} $(id) $`,
		"BACKSL":   `a\b\\c\`,
		"BACKTICK": "`id` `",
		"MIXED":    `a "$b" \` + "`c`" + ` 'd' #e ü`,
		"EMPTY":    "",
	}
	var sets []Setting
	for k, v := range values {
		sets = append(sets, Setting{"env." + k, v})
	}
	out, _, err := SetEnvFile([]byte(shipped+"MIXED=old\n"), sets)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "environment")
	if err := os.WriteFile(file, out, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, sh := range [][]string{{"dash"}, {"bash", "--posix"}, {"busybox", "sh"}} {
		if _, err := exec.LookPath(sh[0]); err != nil {
			t.Fatalf("%s is not installed", sh[0])
		}
		for k, want := range values {
			cmd := exec.Command(sh[0], append(sh[1:], "-c", `set -a; . "$1"; set +a; printf '%s' "$2=$(printenv "$2")"`, "sh", file, k)...)
			cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=/home/x"}
			got, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v\n%s", sh[0], err, out)
			}
			if string(got) != k+"="+want {
				t.Errorf("%s reads %q, want %q\n%s", sh[0], got, k+"="+want, out)
			}
		}
	}
}
