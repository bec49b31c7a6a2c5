package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
)

// wantFields is which Set fields each format fills.
var wantFields = map[string][]string{
	"deb":       {"PostInstall", "PostRemove", "PreInstall", "PreRemove"},
	"rpm":       {"PostInstall", "PreInstall", "PreRemove"},
	"apk":       {"PostInstall", "PostUpgrade", "PreInstall", "PreRemove", "PreUpgrade"},
	"archlinux": {"PostInstall", "PostUpgrade", "PreInstall", "PreRemove", "PreUpgrade"},
}

// inputs are the inputs every static check runs over.
func inputs(t *testing.T) map[string]Input {
	t.Helper()
	m := map[string]Input{"test inits": testInput()}
	root := testInput()
	root.Service.User, root.Service.Group = "root", "root"
	m["root service"] = root
	shared := testInput()
	shared.Service.Group = "adm"
	shared.ConfigFiles = nil
	m["shared group, no config files"] = shared
	if all := inits.All(); len(all) > 0 {
		in := Input{Service: testService(), Inits: all}
		m["registered renderers"] = in
		checked := in
		checked.Service.StartCheckSeconds = 3
		checked.Service.HealthCommand = []string{"/usr/bin/crashwatch", "--check", "$HOME `x` it's"}
		m["registered renderers, start check and health command"] = checked
	} else {
		t.Log("no init renderers registered in package initsys yet; checking the test renderers only")
	}
	return m
}

// generated returns every script of every format for every input, keyed by
// "input/format/field".
func generated(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for iname, in := range inputs(t) {
		for format, gen := range generators {
			set, err := gen(in)
			if err != nil {
				t.Fatalf("%s %s: %v", iname, format, err)
			}
			for field, text := range fields(set) {
				out[iname+"/"+format+"/"+field] = text
			}
			if format == "archlinux" {
				out[iname+"/archlinux/.INSTALL"] = archInstall(set)
			}
		}
	}
	return out
}

// unique drops scripts whose text another key already has (apk's
// .pre-install and .pre-upgrade are the same script, for one).
func unique(scripts map[string]string) map[string]string {
	seen := map[string]bool{}
	out := map[string]string{}
	for _, key := range sortedKeys(scripts) {
		if !seen[scripts[key]] {
			seen[scripts[key]] = true
			out[key] = scripts[key]
		}
	}
	return out
}

func writeScripts(t *testing.T, scripts map[string]string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	files := map[string]string{}
	for key, text := range scripts {
		f := filepath.Join(dir, strings.NewReplacer("/", "_", " ", "_", ",", "").Replace(key))
		if err := os.WriteFile(f, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		files[key] = f
	}
	return files
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func TestFormatsFillTheirFields(t *testing.T) {
	for format, gen := range generators {
		set, err := gen(testInput())
		if err != nil {
			t.Fatalf("%s: %v", format, err)
		}
		var got []string
		for f := range fields(set) {
			got = append(got, f)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(wantFields[format], " ") {
			t.Errorf("%s fills %v, want %v", format, got, wantFields[format])
		}
	}
}

func TestScriptsAreShellScripts(t *testing.T) {
	for key, text := range generated(t) {
		if strings.HasSuffix(key, ".INSTALL") {
			continue
		}
		if !strings.HasPrefix(text, "#!/bin/sh\n") {
			t.Errorf("%s does not start with #!/bin/sh", key)
		}
		if !strings.HasSuffix(text, "\nmain \"$@\"\n") {
			t.Errorf("%s does not end by calling main", key)
		}
		for _, bashism := range []*regexp.Regexp{
			regexp.MustCompile(`\blocal\s`), regexp.MustCompile(`\[\[`), regexp.MustCompile(`\bfunction\s`),
			regexp.MustCompile(`(^|[\s=])\$'`), regexp.MustCompile(`echo -e`), regexp.MustCompile(`==`),
			regexp.MustCompile(`pipefail`), regexp.MustCompile(`<<<`), regexp.MustCompile(`&>`),
		} {
			if bashism.MatchString(text) {
				t.Errorf("%s matches %s", key, bashism)
			}
		}
	}
}

func TestShellcheck(t *testing.T) {
	if _, err := exec.LookPath("shellcheck"); err != nil {
		t.Fatal("shellcheck is not installed; install it (Debian: apt-get install shellcheck) to test the maintainer scripts")
	}
	scripts := unique(generated(t))
	files := writeScripts(t, scripts)
	for _, key := range sortedKeys(scripts) {
		args := []string{"-s", "sh", files[key]}
		if strings.HasSuffix(key, ".INSTALL") {
			// Bash (pacman sources it with bash), and the same helpers
			// defined in every function body read as unreachable code.
			args = []string{"-s", "bash", "-S", "warning", files[key]}
		}
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			out, err := exec.Command("shellcheck", args...).CombinedOutput()
			if err != nil {
				t.Errorf("shellcheck %s: %v\n%s", strings.Join(args[:len(args)-1], " "), err, out)
			}
		})
	}
}

func TestSyntax(t *testing.T) {
	shells := [][]string{{"dash", "-n"}, {"bash", "-n"}, {"busybox", "sh", "-n"}}
	for _, sh := range shells {
		if _, err := exec.LookPath(sh[0]); err != nil {
			t.Fatalf("%s is not installed; install it (Debian: apt-get install %s) to test the maintainer scripts", sh[0], sh[0])
		}
	}
	scripts := unique(generated(t))
	files := writeScripts(t, scripts)
	for _, key := range sortedKeys(scripts) {
		for _, sh := range shells {
			if strings.HasSuffix(key, ".INSTALL") && sh[0] != "bash" {
				continue // pacman sources .INSTALL with bash
			}
			args := append(append([]string(nil), sh[1:]...), files[key])
			if out, err := exec.Command(sh[0], args...).CombinedOutput(); err != nil {
				t.Errorf("%s %s: %v\n%s", strings.Join(sh, " "), key, err, out)
			}
		}
	}
}

// TestInitPartsAreGenerated checks that the init-specific code comes from
// the renderers: each init's fragments and file lists appear, and nothing
// names an init the input did not enable.
func TestInitPartsAreGenerated(t *testing.T) {
	in := testInput()
	in.Inits = in.Inits[:1]
	set, err := Deb(in)
	if err != nil {
		t.Fatal(err)
	}
	post := set.PostInstall
	for _, want := range []string{
		"\t'testinit')\n\t\t(\n\t\t\t[ -e /run/testinit ]\n\t\t) >/dev/null 2>&1\n",
		"install_file 0644 '/usr/lib/crashwatch/init/testinit/etc/testinit/crashwatch.conf' '/etc/testinit/crashwatch.conf' &&\n",
		"install_file 0755 '/usr/lib/crashwatch/init/testinit/etc/testinit/sv/crashwatch/log/run' '/etc/testinit/sv/crashwatch/log/run'\n",
		"\ncat >>/var/log/testinit/actions <<EOF\ntestinit reload\nEOF\n",
		"printf '%s\\n' 'testinitctl status crashwatch'",
		"\t\tif init_running 'testinit'; then\n\t\t\tinit='testinit'\n\t\t\tonline=yes\n",
	} {
		if !strings.Contains(post, want) {
			t.Errorf("postinst lacks %q", want)
		}
	}
	if strings.Contains(post, "otherinit") {
		t.Error("postinst mentions otherinit, which is not enabled")
	}
}

func TestFilesRenderedWhenMissing(t *testing.T) {
	in := testInput()
	in.Files = nil
	set, err := Deb(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(set.PostInstall, "'/etc/otherinit/init.d/crashwatch'") {
		t.Error("files of an init missing from Input.Files were not rendered")
	}
}

func TestRootServiceCreatesNoAccounts(t *testing.T) {
	in := testInput()
	in.Service.User, in.Service.Group = "root", "root"
	set, err := Deb(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{set.PreInstall, set.PostInstall, set.PostRemove} {
		for _, tool := range []string{"useradd --system", "groupadd --system", "userdel '", "groupdel '", "own_config_path '"} {
			if strings.Contains(s, tool) {
				t.Errorf("a root service's script runs %s", tool)
			}
		}
	}
}

func TestInvalidInput(t *testing.T) {
	cases := map[string]func(*Input){
		"no inits":            func(in *Input) { in.Inits = nil },
		"bad name":            func(in *Input) { in.Service.Name = "Crash Watch" },
		"bad user":            func(in *Input) { in.Service.User = "crash$(reboot)" },
		"empty group":         func(in *Input) { in.Service.Group = "" },
		"shared state dir":    func(in *Input) { in.Service.StateDir = "/var/lib" },
		"root config dir":     func(in *Input) { in.Service.ConfigDir = "/etc" },
		"relative state dir":  func(in *Input) { in.Service.StateDir = "var/lib/crashwatch" },
		"unclean config dir":  func(in *Input) { in.Service.ConfigDir = "/etc/crashwatch/../" },
		"quote in state dir":  func(in *Input) { in.Service.StateDir = "/var/lib/crashwatch'x" },
		"config file outside": func(in *Input) { in.ConfigFiles = []string{"/etc/passwd"} },
		"space in target":     func(in *Input) { in.Files["testinit"] = []initsys.File{{Target: "/etc/a b", Mode: 0o644}} },
		"newline in target":   func(in *Input) { in.Files["testinit"] = []initsys.File{{Target: "/etc/a\nb", Mode: 0o644}} },
		"relative target":     func(in *Input) { in.Files["testinit"] = []initsys.File{{Target: "etc/a", Mode: 0o644}} },
		"zero mode":           func(in *Input) { in.Files["testinit"] = []initsys.File{{Target: "/etc/a", Mode: 0}} },
		"target in stage": func(in *Input) {
			in.Files["testinit"] = []initsys.File{{Target: "/usr/lib/crashwatch/init/x", Mode: 0o644}}
		},
		"target is the record": func(in *Input) {
			in.Files["testinit"] = []initsys.File{{Target: "/var/lib/omnipack/crashwatch.init", Mode: 0o644}}
		},
		"duplicate target": func(in *Input) {
			in.Files["testinit"] = []initsys.File{{Target: "/etc/a", Mode: 0o644}, {Target: "/etc/a", Mode: 0o644}}
		},
		"no files":        func(in *Input) { in.Files["testinit"] = []initsys.File{} },
		"duplicate init":  func(in *Input) { in.Inits = append(in.Inits, in.Inits[0]) },
		"bad init name":   func(in *Input) { in.Inits = []initsys.Renderer{testInit{name: "Sys V"}} },
		"state dir slash": func(in *Input) { in.Service.StateDir = "/" },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			in := testInput()
			mutate(&in)
			for format, gen := range generators {
				if _, err := gen(in); err == nil {
					t.Errorf("%s accepted it", format)
				}
			}
		})
	}
}

func TestDefaultsFromLayout(t *testing.T) {
	in := testInput()
	in.Service.StateDir, in.Service.ConfigDir = "", ""
	set, err := Deb(in)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"rm -rf '/etc/crashwatch'", "rm -rf '/var/lib/crashwatch'"} {
		if !strings.Contains(set.PostRemove, want) {
			t.Errorf("postrm lacks %q", want)
		}
	}
}
