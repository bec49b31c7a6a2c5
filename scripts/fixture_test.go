package scripts

import (
	"fmt"
	"strings"

	initsys "github.com/omnipack/omnipack/init"
)

// testInit is a test-only init system. Its fragments only touch files, so
// the behaviour tests can see what the scripts asked of it:
//   - it "runs" while /run/NAME exists and "is installed" while
//     /etc/NAME.installed exists;
//   - every action appends "NAME ACTION" to /var/log/NAME/actions;
//   - start and restart fail while /etc/NAME.failstart exists;
//   - the start check says so and fails while /etc/NAME.failcheck exists;
//   - the service is down (Status) while /etc/NAME.down exists; its pid
//     is 42, or a new one every time it is asked while /etc/NAME.flap
//     exists; its log is /var/log/NAME/service.log.
type testInit struct {
	name  string
	prec  int
	files []initsys.File
}

func (t testInit) Name() string    { return t.name }
func (t testInit) Precedence() int { return t.prec }

// Running is never asked: the scripts evaluate Shell.Running in the chroot.
func (t testInit) Running() bool                                  { return false }
func (t testInit) Render(initsys.Service) ([]initsys.File, error) { return t.files, nil }

func (t testInit) Shell(s initsys.Service) initsys.Shell {
	log := "/var/log/" + t.name
	act := func(a string) string {
		return fmt.Sprintf("mkdir -p %s && echo '%s %s' >>%s/actions", log, t.name, a, log)
	}
	failing := fmt.Sprintf("[ ! -e /etc/%s.failstart ] && ", t.name)
	sh := initsys.Shell{
		Running:   "[ -e /run/" + t.name + " ]",
		Installed: "[ -e /etc/" + t.name + ".installed ]",
		Enable:    act("enable") + " && : >" + log + "/" + s.Name + ".enabled",
		Disable:   act("disable") + " && rm -f " + log + "/" + s.Name + ".enabled",
		// A fragment that clobbers the script's variables: it runs in a
		// subshell, so the script must not notice.
		Start:      "init=clobbered online=clobbered\n" + failing + act("start"),
		Stop:       act("stop"),
		StartCheck: fmt.Sprintf("if [ -e /etc/%s.failcheck ]; then echo '%s: error: the start check failed'; false; fi", t.name, s.Name),
		Restart:    failing + act("restart"),
		Status:     "[ ! -e /etc/" + t.name + ".down ]",
		PID:        fmt.Sprintf(`if [ -e /etc/%[1]s.flap ]; then n=$(cat /etc/%[1]s.flap); echo $((n + 1)) >/etc/%[1]s.flap; echo "$n"; else echo 42; fi`, t.name),
		Log:        "cat " + log + "/service.log",
		StatusHint: t.name + "ctl status " + s.Name,
		// A fragment of several lines with a here-document: embedded
		// verbatim, not indented.
		Reload: "mkdir -p " + log + "\ncat >>" + log + "/actions <<EOF\n" + t.name + " reload\nEOF",
	}
	if t.name == "otherinit" {
		// A fragment that exits: it must not end the script.
		sh.Enable += "\nexit 0"
	}
	return sh
}

func testService() initsys.Service {
	return initsys.Service{
		Name:        "crashwatch",
		Description: "Crash watcher",
		Exec:        "/usr/bin/crashwatch",
		User:        "crashwatch",
		Group:       "crashwatch",
		StateDir:    "/var/lib/crashwatch",
		ConfigDir:   "/etc/crashwatch",
		Restart:     initsys.RestartOnFailure,
		Profile:     initsys.ProfileDefault,
	}
}

var (
	testinitFiles = []initsys.File{
		{Target: "/etc/testinit/crashwatch.conf", Mode: 0o644, Body: []byte("exec /usr/bin/crashwatch\n")},
		{Target: "/etc/testinit/sv/crashwatch/log/run", Mode: 0o755, Body: []byte("#!/bin/sh\nexec logger\n")},
	}
	otherinitFiles = []initsys.File{
		{Target: "/etc/otherinit/init.d/crashwatch", Mode: 0o755, Body: []byte("#!/bin/sh\n# otherinit script\n")},
	}
)

func testInits() []initsys.Renderer {
	return []initsys.Renderer{
		testInit{name: "testinit", prec: 10, files: testinitFiles},
		testInit{name: "otherinit", prec: 20, files: otherinitFiles},
	}
}

const testConfig = "/etc/crashwatch/crashwatch.toml"

func testInput() Input {
	in := Input{
		Service:     testService(),
		Inits:       testInits(),
		Files:       map[string][]initsys.File{},
		ConfigFiles: []string{testConfig},
	}
	for _, r := range in.Inits {
		files, _ := r.Render(in.Service)
		in.Files[r.Name()] = files
	}
	return in
}

// generators maps each format to its generator.
var generators = map[string]func(Input) (Set, error){
	"deb":       Deb,
	"rpm":       RPM,
	"apk":       APK,
	"archlinux": Arch,
}

// fields lists a Set's scripts by field name; empty ones are left out.
func fields(s Set) map[string]string {
	m := map[string]string{
		"PreInstall":  s.PreInstall,
		"PostInstall": s.PostInstall,
		"PreRemove":   s.PreRemove,
		"PostRemove":  s.PostRemove,
		"PreUpgrade":  s.PreUpgrade,
		"PostUpgrade": s.PostUpgrade,
	}
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

// archInstall builds .INSTALL the way nfpm v2.45.2 does (arch.writeScripts).
func archInstall(s Set) string {
	var b strings.Builder
	for fn, body := range map[string]string{
		"pre_install":  s.PreInstall,
		"post_install": s.PostInstall,
		"pre_remove":   s.PreRemove,
		"post_remove":  s.PostRemove,
		"pre_upgrade":  s.PreUpgrade,
		"post_upgrade": s.PostUpgrade,
	} {
		if body == "" {
			continue
		}
		fmt.Fprintf(&b, "function %s() {\n%s\n}\n\n", fn, body)
	}
	return b.String()
}
