package installer_test

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/omnipack/omnipack/internal/loopback"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/scripts/installer"
)

const secret = "UnitTest-SECRET-9d2e"

func TestRenderIsPOSIXAndShellcheckClean(t *testing.T) {
	f := getFixture(t)
	need(t, "shellcheck")
	data, err := os.ReadFile(f.script)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("#!/bin/sh\n")) {
		t.Errorf("install.sh does not start with #!/bin/sh")
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if last := lines[len(lines)-1]; last != installer.LastLine || !strings.Contains(last, `main "$@"`) {
		t.Errorf("last line is %q, want %q", last, installer.LastLine)
	}
	for _, want := range []string{string(f.params.ReleasePub), "apk_key_name='" + f.keys.APKKeyName + "'",
		"default_base_url='" + f.srv.URL() + "'", "config_path='/etc/crashwatch/crashwatch.toml'",
		"positional_keys='auth_key node_id'", "secret_keys='auth_key'", "health_seconds=3", "pgp_pub_b64='", "env_group='crashwatch'"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("install.sh does not embed %q", want)
		}
	}
	if out, err := exec.Command("shellcheck", "-s", "sh", f.script).CombinedOutput(); err != nil {
		t.Errorf("shellcheck -s sh install.sh: %v\n%s", err, out)
	}
	for _, sh := range shells(t) {
		argv := append(append([]string{}, sh.argv...), "-n", f.script)
		if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
			t.Errorf("%s -n install.sh: %v\n%s", sh.name, err, out)
		}
	}
}

func TestRenderRefusesBadParams(t *testing.T) {
	f := getFixture(t)
	for _, tc := range []struct {
		name string
		edit func(p *installer.Params)
		want string
	}{
		{"plain http", func(p *installer.Params) { p.BaseURL = "http://downloads.example.com/x" }, "plain http"},
		{"loopback look-alike", func(p *installer.Params) { p.BaseURL = "http://127.0.0.1.example.com/x" }, "plain http"},
		{"quote in URL", func(p *installer.Params) { p.BaseURL = "https://example.com/a b" }, "base URL"},
		{"name", func(p *installer.Params) { p.Name = "Crash Watch" }, "program name"},
		{"key", func(p *installer.Params) { p.Secrets = []string{"auth key"} }, "config key"},
		{"config path", func(p *installer.Params) { p.ConfigPath = "/etc/../root/x" }, "config path"},
		{"health", func(p *installer.Params) { p.HealthSeconds = 0 }, "health"},
		{"release key", func(p *installer.Params) { p.ReleasePub = p.APKPub }, "P-256"},
		{"pgp key", func(p *installer.Params) { p.PGPPub = []byte("junk") }, "OpenPGP"},
		{"init command", func(p *installer.Params) { p.Inits[0].Status = "a\nb" }, "one non-empty line"},
		{"no config for keys", func(p *installer.Params) { p.ConfigPath = "" }, "no config file"},
		{"env key not a variable", func(p *installer.Params) { p.Secrets = []string{"env.9X"} }, "or env.NAME"},
		{"env group", func(p *installer.Params) { p.Secrets, p.EnvGroup = []string{"env.TOKEN"}, "Bad Group" }, "environment file group"},
		{"env key without a group", func(p *installer.Params) { p.Secrets, p.EnvGroup = []string{"env.TOKEN"}, "" }, "environment file group"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := f.params
			p.Inits = append([]installer.Init(nil), f.params.Inits...)
			tc.edit(&p)
			if _, err := installer.Render(p); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Render: %v, want an error about %q", err, tc.want)
			}
		})
	}
	p := f.params
	p.BaseURL = ""
	if _, err := installer.Render(p); err != nil {
		t.Errorf("an empty base URL (--base-url or --offline at install time) is refused: %v", err)
	}
	// Keys of the environment file alone need no config file.
	p = f.params
	p.ConfigPath, p.Positional, p.Secrets = "", []string{"env.TOKEN"}, []string{"env.TOKEN"}
	if _, err := installer.Render(p); err != nil {
		t.Errorf("env.NAME keys without a config file are refused: %v", err)
	}
}

// TestTruncatedRunsNothing cuts install.sh at many points and runs each
// prefix under dash, bash and BusyBox ash, with a PATH of stubs that log
// every call: nothing may run, whatever the cut. The whole script, run the
// same way, does call them.
func TestTruncatedRunsNothing(t *testing.T) {
	f := getFixture(t)
	data, err := os.ReadFile(f.script)
	if err != nil {
		t.Fatal(err)
	}
	log := filepath.Join(t.TempDir(), "calls")
	stubs := stubDir(t, log, append(append([]string{}, mutating...), "mktemp", "id", "uname", "cat", "awk",
		"sed", "grep", "curl", "wget", "openssl", "gpgv", "date", "rm", "mkdir", "head", "stat", "readlink", "od",
		"dd", "tr", "cp", "mv", "chmod", "tar", "sleep", "pgrep", "sha256sum", "base64"))

	var cuts []int
	for i := 1; i < 40; i++ {
		cuts = append(cuts, len(data)*i/40)
	}
	// Right after each function: the prefix is complete and only defines.
	for i := 0; ; {
		j := bytes.Index(data[i:], []byte("\n}\n"))
		if j < 0 {
			break
		}
		i += j + 3
		cuts = append(cuts, i)
	}
	// Every byte of the last line but its newline.
	last := bytes.LastIndex(data[:len(data)-1], []byte("\n")) + 1
	for c := last; c < len(data)-1; c++ {
		cuts = append(cuts, c)
	}
	dir := t.TempDir()
	for _, sh := range shells(t) {
		for _, cut := range cuts {
			p := filepath.Join(dir, fmt.Sprintf("cut-%d.sh", cut))
			if err := os.WriteFile(p, data[:cut], 0o644); err != nil {
				t.Fatal(err)
			}
			r := run(t, sh, p, stubs, nil, "--set", "auth_key="+secret)
			calls, _ := os.ReadFile(log)
			if len(calls) > 0 || strings.Contains(r.out(), pkgName+":") {
				t.Fatalf("%s: install.sh cut at %d of %d ran (exit %d):\n%s\ncalls:\n%s", sh.name, cut, len(data), r.code, r.out(), calls)
			}
		}
	}
	// The control: complete, the same run does reach the stubs.
	r := run(t, shells(t)[0], f.script, stubs, nil, "--set", "auth_key="+secret)
	if calls, _ := os.ReadFile(log); len(calls) == 0 {
		t.Fatalf("the complete install.sh called no stub; the truncation check proves nothing:\n%s", r.out())
	}
	t.Logf("%d cut points × 3 shells: nothing ran", len(cuts))
}

// TestDryRun runs --dry-run against the served release under dash, bash and
// BusyBox ash (BusyBox's applets only, plus openssl: wget, sha256sum, awk,
// date are BusyBox's), with every tool that changes a host stubbed out.
func TestDryRun(t *testing.T) {
	f := getFixture(t)
	want := f.chosen(t, "1.0.0")
	for _, sh := range shells(t) {
		t.Run(sh.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "calls")
			stubs := stubDir(t, log, mutating)
			path := stubs + ":" + os.Getenv("PATH")
			fetchedWith := "+ curl "
			if sh.name == "busybox" {
				path = stubs + ":" + busyboxDir(t, "openssl")
				fetchedWith = "wget -q -O - " + f.srv.URL()
			}
			r := run(t, sh, f.script, path, nil, "--dry-run", "--set", "auth_key="+secret, "--set", "node_id=web-01")
			if r.code != 0 {
				t.Fatalf("exit %d:\n%s", r.code, r.out())
			}
			out := r.out()
			for _, w := range []string{
				"dry run: nothing on this host is changed",
				"host: ", "package manager ", "init ",
				fetchedWith,
				"signature verified with openssl",
				"package: " + want,
				want + ": size and sha256 match the signed manifest",
				"would write: /var/lib/omnipack/" + pkgName + ".release",
				"would set: auth_key=<secret>, node_id=web-01 in /etc/crashwatch/crashwatch.toml",
				"dry run done: every check passed; nothing was changed",
			} {
				if !strings.Contains(out, w) {
					t.Errorf("dry run output lacks %q:\n%s", w, out)
				}
			}
			if f.format != "tarball" && !strings.Contains(out, "would run: ") {
				t.Errorf("dry run shows no install command:\n%s", out)
			}
			if strings.Contains(out, secret) {
				t.Errorf("the secret is in the dry run's output:\n%s", out)
			}
			if calls := changingCalls(t, log); calls != "" {
				t.Errorf("--dry-run ran tools that change the host:\n%s", calls)
			}
		})
	}
}

// TestDryRunRepo: --method repo on this host plans to write the
// repository's key and source file, and to refresh only that source
// before installing from it; nothing that changes the host runs.
func TestDryRunRepo(t *testing.T) {
	f := getFixture(t)
	if f.format != "deb" {
		t.Fatalf("this test plans an apt host, and this host's package format is %s", f.format)
	}
	log := filepath.Join(t.TempDir(), "calls")
	stubs := stubDir(t, log, mutating)
	r := run(t, shells(t)[0], f.script, stubs+":"+os.Getenv("PATH"), nil,
		"--dry-run", "--method", "repo", "--repo-url", "https://packages.example.com/", "--channel", "beta", "--set", "auth_key="+secret)
	if r.code != 0 {
		t.Fatalf("exit %d:\n%s", r.code, r.out())
	}
	out := r.out()
	t.Logf("dry run:\n%s", out)
	for _, w := range []string{
		"would add the repository https://packages.example.com (channel beta)",
		"would write: /etc/apt/keyrings/" + pkgName + ".gpg",
		"would write: /etc/apt/sources.list.d/" + pkgName + ".sources",
		"would run: env DEBIAN_FRONTEND=noninteractive apt-get update -o Dir::Etc::sourcelist=/etc/apt/sources.list.d/" + pkgName + ".sources -o Dir::Etc::sourceparts=-",
		"-o APT::Update::Error-Mode=any",
		"would run: env DEBIAN_FRONTEND=noninteractive apt-get install -y -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold " + pkgName,
		"would set: auth_key=<secret>",
		"dry run done: nothing was changed",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("dry run output lacks %q:\n%s", w, out)
		}
	}
	for _, never := range []string{"release.json", secret} {
		if strings.Contains(out, never) {
			t.Errorf("--method repo's dry run mentions %q:\n%s", never, out)
		}
	}
	if calls := changingCalls(t, log); calls != "" {
		t.Errorf("--dry-run ran tools that change the host:\n%s", calls)
	}
}

// TestRefusals serves broken and hostile releases; each dry run must refuse
// with a clear message and exit 1.
func TestRefusals(t *testing.T) {
	f := getFixture(t)
	defer f.srv.publish(f.release)
	deb := f.chosen(t, "1.0.0")
	dash := shells(t)[0]
	log := filepath.Join(t.TempDir(), "calls")
	stubs := stubDir(t, log, mutating)
	hostPath := stubs + ":" + os.Getenv("PATH")
	noOpenSSL := stubs + ":" + hostDirWithout(t, "openssl")
	noVerifier := stubs + ":" + hostDirWithout(t, "openssl", "gpgv")

	signed := func(edit func(dir string, m resign)) string {
		dir, m := copyRelease(t, f.release)
		edit(dir, resign{m})
		return dir
	}
	for _, tc := range []struct {
		name  string
		setup func() // publishes what the server serves
		path  string
		args  []string
		want  string
	}{
		{name: "tampered manifest", setup: func() {
			dir, _ := copyRelease(t, f.release)
			edit(t, filepath.Join(dir, "release.json"), `"release": 1,`, `"release": 2,`)
			f.srv.publish(dir)
		}, want: "signature does not verify"},
		{name: "tampered manifest, gpgv", path: noOpenSSL, setup: func() {
			dir, _ := copyRelease(t, f.release)
			edit(t, filepath.Join(dir, "release.json"), `"release": 1,`, `"release": 2,`)
			f.srv.publish(dir)
		}, want: "OpenPGP signature does not verify"},
		{name: "another key", setup: func() {
			f.srv.publish(signed(func(dir string, m resign) { m.sign(t, dir, f.otherKeys, time.Now(), time.Hour) }))
		}, want: "signature does not verify"},
		{name: "expired", setup: func() {
			f.srv.publish(signed(func(dir string, m resign) {
				m.sign(t, dir, f.keys, time.Now().Add(-48*time.Hour), time.Hour)
			}))
		}, want: "release.json expired at"},
		{name: "dotdot", setup: func() {
			f.srv.publish(signed(func(dir string, m resign) {
				for i := range m.Artifacts {
					if m.Artifacts[i].Name == deb {
						m.Artifacts[i].Name = "../" + deb
					}
				}
				m.sign(t, dir, f.keys, time.Now(), time.Hour)
			}))
		}, want: `artifact name "../` + deb + `" is not a plain file name`},
		{name: "option-like name", setup: func() {
			f.srv.publish(signed(func(dir string, m resign) {
				for i := range m.Artifacts {
					if m.Artifacts[i].Name == deb {
						m.Artifacts[i].Name = "-o" + deb
					}
				}
				m.sign(t, dir, f.keys, time.Now(), time.Hour)
			}))
		}, want: "is not a plain file name"},
		{name: "another package", setup: func() {
			f.srv.publish(signed(func(dir string, m resign) {
				m.Name = "otheragent"
				m.sign(t, dir, f.keys, time.Now(), time.Hour)
			}))
		}, want: "release.json is for otheragent, not crashwatch"},
		{name: "tampered package", setup: func() {
			dir, _ := copyRelease(t, f.release)
			p := filepath.Join(dir, deb)
			data, _ := os.ReadFile(p)
			data[7] ^= 1
			os.WriteFile(p, data, 0o644)
			f.srv.publish(dir)
		}, want: "does not match the signed manifest"},
		{name: "endless data", setup: func() {
			f.srv.publish(f.release)
			f.srv.handle(deb, func(w http.ResponseWriter, r *http.Request) {
				buf := bytes.Repeat([]byte("x"), 32<<10)
				for r.Context().Err() == nil {
					if _, err := w.Write(buf); err != nil {
						return
					}
				}
			})
		}, want: "more than the signed size"},
		{name: "announced too large", setup: func() {
			f.srv.publish(f.release)
			f.srv.handle(deb, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", "99999999")
				w.Write(bytes.Repeat([]byte("x"), 100))
			})
		}, want: "more than the signed size"},
		{name: "no verifier", path: noVerifier, setup: func() { f.srv.publish(f.release) },
			want: "cannot verify the release: this host has neither openssl nor gpgv"},
		{name: "version pin mismatch", setup: func() {
			dir := t.TempDir()
			os.Symlink(f.release, filepath.Join(dir, "9.9.9"))
			f.srv.publish(dir)
		}, args: []string{"--version", "9.9.9"}, want: "asked for version 9.9.9, but release.json"},
		{name: "bad option", args: []string{"--frobnicate"}, want: "unknown option: --frobnicate"},
		{name: "too many arguments", args: []string{"a", "b", "c"}, want: "too many arguments"},
		{name: "bad --set key", args: []string{"--set", "a b=c"}, want: "is not a config key"},
		{name: "unknown method", args: []string{"--method", "snap"}, want: "--method: snap is neither package nor repo"},
		{name: "repo without a URL", args: []string{"--method", "repo"}, want: "no repository URL is built in: pass --repo-url URL"},
		{name: "repo over plain http", args: []string{"--method", "repo", "--repo-url", "http://example.invalid/repo"}, want: "refusing plain http to example.invalid: use an https repository URL"},
		{name: "repo with a version", args: []string{"--method", "repo", "--repo-url", "https://example.invalid/repo", "--version", "1.0.0"},
			want: "--version does not go with --method repo"},
		{name: "repo with offline", args: []string{"--method", "repo", "--repo-url", "https://example.invalid/repo", "--offline", "/"},
			want: "--offline does not go with --method repo"},
		{name: "repo URL without repo", args: []string{"--repo-url", "https://example.invalid/repo"}, want: "--repo-url and --channel go with --method repo"},
		{name: "bad channel", args: []string{"--method", "repo", "--channel", "../x"}, want: "--channel: ../x is not a channel name"},
		// What omnipack publish refuses (packaging.CheckChannel) is refused here too.
		{name: "upper-case channel", args: []string{"--method", "repo", "--channel", "Beta"}, want: "--channel: Beta is not a channel name"},
		{name: "channel with _", args: []string{"--method", "repo", "--channel", "my_beta"}, want: "--channel: my_beta is not a channel name"},
		{name: "channel starting with .", args: []string{"--method", "repo", "--channel", ".beta"}, want: "--channel: .beta is not a channel name"},
		{name: "channel of 65", args: []string{"--method", "repo", "--channel", strings.Repeat("a", 65)}, want: "is not a channel name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			path := tc.path
			if path == "" {
				path = hostPath
			}
			r := run(t, dash, f.script, path, nil, append([]string{"--dry-run", "--set", "auth_key=" + secret}, tc.args...)...)
			if r.code == 0 {
				t.Errorf("exit 0:\n%s", r.out())
			}
			if !strings.Contains(r.out(), tc.want) {
				t.Errorf("output lacks %q:\n%s", tc.want, r.out())
			}
			if strings.Contains(r.out(), secret) {
				t.Errorf("the secret is in the output:\n%s", r.out())
			}
		})
	}

	t.Run("plain http before any request", func(t *testing.T) {
		f.srv.publish(f.release)
		before := f.srv.count()
		r := run(t, dash, f.script, hostPath, nil, "--dry-run", "--base-url", "http://example.invalid/x")
		if r.code == 0 || !strings.Contains(r.out(), "refusing plain http to example.invalid") {
			t.Errorf("exit %d:\n%s", r.code, r.out())
		}
		if strings.Contains(r.out(), "+ curl") || f.srv.count() != before {
			t.Errorf("fetched before refusing:\n%s", r.out())
		}
		r = run(t, dash, f.script, hostPath, nil, "--dry-run", "--base-url", "http://127.0.0.1.example.invalid/x")
		if r.code == 0 || !strings.Contains(r.out(), "refusing plain http") {
			t.Errorf("a loopback look-alike host is taken for loopback:\n%s", r.out())
		}
	})
	if calls := changingCalls(t, log); calls != "" {
		t.Errorf("refused runs called tools that change the host:\n%s", calls)
	}
}

// TestVerifiers checks the paths that succeed: gpgv where openssl is
// missing, --insecure-skip-verify where neither is (loudly), and a pinned
// --version from BASE/VERSION/.
func TestVerifiers(t *testing.T) {
	f := getFixture(t)
	defer f.srv.publish(f.release)
	dash := shells(t)[0]
	log := filepath.Join(t.TempDir(), "calls")
	stubs := stubDir(t, log, mutating)

	f.srv.publish(f.release)
	r := run(t, dash, f.script, stubs+":"+hostDirWithout(t, "openssl"), nil, "--dry-run")
	if r.code != 0 || !strings.Contains(r.out(), "OpenPGP signature verified with gpgv") {
		t.Errorf("gpgv: exit %d:\n%s", r.code, r.out())
	}
	r = run(t, dash, f.script, stubs+":"+hostDirWithout(t, "openssl", "gpgv"), nil, "--dry-run", "--insecure-skip-verify")
	if r.code != 0 || !strings.Contains(r.stderr, "NOTHING about this release is authenticated") {
		t.Errorf("--insecure-skip-verify: exit %d:\n%s", r.code, r.out())
	}

	dir := t.TempDir()
	if err := os.Symlink(f.release, filepath.Join(dir, "1.0.0")); err != nil {
		t.Fatal(err)
	}
	f.srv.publish(dir)
	r = run(t, dash, f.script, stubs+":"+os.Getenv("PATH"), nil, "--dry-run", "--version", "1.0.0")
	if r.code != 0 || !strings.Contains(r.out(), f.srv.URL()+"/1.0.0/release.json") {
		t.Errorf("--version 1.0.0: exit %d:\n%s", r.code, r.out())
	}
	if calls := changingCalls(t, log); calls != "" {
		t.Errorf("dry runs called tools that change the host:\n%s", calls)
	}
}

// TestSecretsFromEnvironmentAndArguments: the three ways to give a value,
// their precedence, and that the environment variable is not passed on.
func TestSecretsFromEnvironmentAndArguments(t *testing.T) {
	f := getFixture(t)
	f.srv.publish(f.release)
	log := filepath.Join(t.TempDir(), "calls")
	stubs := stubDir(t, log, mutating)
	path := stubs + ":" + os.Getenv("PATH")
	dash := shells(t)[0]

	r := run(t, dash, f.script, path, []string{"CRASHWATCH_AUTH_KEY=" + secret, "CRASHWATCH_NODE_ID=from-env"}, "--dry-run")
	if r.code != 0 || !strings.Contains(r.out(), "would set: auth_key=<secret>, node_id=from-env") || strings.Contains(r.out(), secret) {
		t.Errorf("environment: exit %d:\n%s", r.code, r.out())
	}
	r = run(t, dash, f.script, path, []string{"CRASHWATCH_NODE_ID=from-env"}, "--dry-run", secret, "from-arg", "--set", "node_id=from-set")
	if r.code != 0 || !strings.Contains(r.out(), "would set: node_id=from-set, auth_key=<secret>") || strings.Contains(r.out(), secret) {
		t.Errorf("precedence: exit %d:\n%s", r.code, r.out())
	}
	r = run(t, dash, f.script, path, nil, "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "CRASHWATCH_AUTH_KEY") || !strings.Contains(r.stdout, "--uninstall") {
		t.Errorf("--help: exit %d:\n%s", r.code, r.out())
	}
}

// resign signs an edited manifest again.
type resign struct{ *manifest.Release }

func (r resign) sign(t *testing.T, dir string, k *pipeline.Keys, now time.Time, validity time.Duration) {
	t.Helper()
	if err := pipeline.SignRelease(dir, r.Release, k, 0, now, validity); err != nil {
		t.Fatal(err)
	}
}

func edit(t *testing.T, path, from, to string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(from)) {
		t.Fatalf("%s holds no %q", path, from)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(from), []byte(to), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestManifestParser runs install.sh's manifest parser under each awk on
// manifests as omnipack writes them and on broken ones, and holds its
// RFC 3339 arithmetic equal to Go's.
func TestManifestParser(t *testing.T) {
	f := getFixture(t)
	prog := awkProgram(t, "manifest_awk")
	good, err := os.ReadFile(filepath.Join(f.release, "release.json"))
	if err != nil {
		t.Fatal(err)
	}
	for name, argv := range awks(t) {
		t.Run(name, func(t *testing.T) {
			parse := func(text string) (string, int) {
				cmd := exec.Command(argv[0], append(argv[1:], prog)...)
				cmd.Env = append(os.Environ(), "LC_ALL=C")
				cmd.Stdin = strings.NewReader(text)
				out, err := cmd.Output()
				code := 0
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.ExitCode()
				} else if err != nil {
					t.Fatal(err)
				}
				return string(out), code
			}
			out, code := parse(string(good))
			if code != 0 {
				t.Fatalf("the signed manifest does not parse (exit %d):\n%s", code, out)
			}
			for _, w := range []string{"schema 1\n", "name crashwatch\n", "version 1.0.0\n", "release 1\n", "release_version ",
				"expires_epoch ", "artifact provenance.intoto.jsonl provenance - linux 1.0.0 ",
				// The environment file last; - for none.
				" /etc/default/crashwatch\n", " /etc/sysconfig/crashwatch\n", " /etc/crashwatch/environment\n"} {
				if !strings.Contains(out, w) {
					t.Errorf("facts lack %q:\n%s", w, out)
				}
			}
			if !regexpMatch(`(?m)^artifact provenance\.intoto\.jsonl .* -$`, out) {
				t.Errorf("an artifact without an environment file does not end in -:\n%s", out)
			}
			if n := strings.Count(out, "\nartifact "); n != len(packages("1.0.0")) {
				t.Errorf("%d artifacts, want %d", n, len(packages("1.0.0")))
			}
			for _, bad := range []struct{ from, to, want string }{
				{`"schema": 1,`, `"schema": 1, "x": 2,`, "schema is not a number"},
				{`"schema": 1,`, `"schema": 1,` + "\n\"x\": 2,", "unexpected line"},
				{`"name": "crashwatch",`, `"name": "crash\"watch",`, "not a plain string"},
				{`"release": 1,`, `"releases": 1,`, "unknown field releases"},
				{`"release": 1,`, `"release": -1,`, "not a number"},
				{`"format": "deb",`, `"format": "deb",` + "\n      \"format\": \"rpm\",", "appears twice"},
				{`"name": "provenance.intoto.jsonl",`, `"name": "../../etc/passwd",`, "is not a plain file name"},
				{`"name": "provenance.intoto.jsonl",`, `"name": "a/b",`, "is not a plain file name"},
				{`"name": "provenance.intoto.jsonl",`, `"name": "..",`, "is not a plain file name"},
				{`"name": "provenance.intoto.jsonl",`, `"name": "x y",`, "is not a plain file name"},
				{`"size": `, `"size": 1`, ""}, // still digits: fine
				{`"os": "linux",`, `"os": "linux;rm",`, "bad os"},
				{`"expires": "`, `"expires": "x`, "not an RFC 3339"},
				{`"environment_file": "/etc/default/crashwatch",`, `"environment_file": "/etc/default/../shadow",`, "environment_file of crashwatch_1.0.0-1_amd64.deb is not a clean path"},
				{`"environment_file": "/etc/default/crashwatch",`, `"environment_file": "/root/.profile",`, "not a clean path below /etc/"},
				{`"environment_file": "/etc/default/crashwatch",`, `"environment_file": "/etc/default/a b",`, "not a clean path below /etc/"},
				{`"environment_file": "/etc/default/crashwatch",`, `"environment_file": "/etc/default/x\"y",`, "not a plain string"},
				{`"environment_file": "/etc/default/crashwatch",`, `"environment_file": "/etc/default/crashwatch",` + "\n      \"environment_file\": \"/etc/x\",", "appears twice"},
			} {
				text := strings.Replace(string(good), bad.from, bad.to, 1)
				out, code := parse(text)
				if bad.want == "" {
					if code != 0 {
						t.Errorf("%q → %q refused: %s", bad.from, bad.to, out)
					}
					continue
				}
				if code == 0 || !strings.Contains(out, "error ") || !strings.Contains(out, bad.want) {
					t.Errorf("%q → %q: exit %d, want an error about %q:\n%s", bad.from, bad.to, code, bad.want, lastLine(out))
				}
			}
			// The health command: one word a line, spaces and && kept.
			const health = `  "health_command": [` + "\n" + `    "/usr/bin/crashwatch",` + "\n" + `    "--check",` + "\n" + `    "a b && c > d"` + "\n" + `  ],` + "\n" + `  "artifacts": [`
			withHealth := strings.Replace(string(good), `  "artifacts": [`, health, 1)
			out, code = parse(withHealth)
			if code != 0 || !strings.Contains(out, "health_word /usr/bin/crashwatch\nhealth_word --check\nhealth_word a b && c > d\n") {
				t.Errorf("the health command: exit %d:\n%s", code, out)
			}
			for _, bad := range []struct{ from, to, want string }{
				{`"/usr/bin/crashwatch",`, `"crashwatch",`, "does not start with a clean absolute path"},
				{`"/usr/bin/crashwatch",`, `"/usr/bin/../crashwatch",`, "does not start with a clean absolute path"},
				{`"--check",`, `"--ch\\eck",`, "not a plain string"},
				{`"--check",`, `"",`, "bad health_command word"},
				{"    \"/usr/bin/crashwatch\",\n    \"--check\",\n    \"a b && c > d\"\n", "", "health_command is empty"},
			} {
				if out, code := parse(strings.Replace(withHealth, bad.from, bad.to, 1)); code == 0 || !strings.Contains(out, bad.want) {
					t.Errorf("health command %q → %q: exit %d, want an error about %q:\n%s", bad.from, bad.to, code, bad.want, lastLine(out))
				}
			}

			half := bytes.LastIndexByte(good[:len(good)/2], '\n') + 1
			if out, code := parse(string(good[:half])); code == 0 || !strings.Contains(out, "ends early") {
				t.Errorf("a truncated manifest: exit %d: %s", code, lastLine(out))
			}
			if out, code := parse(string(good) + "{}\n"); code == 0 || !strings.Contains(out, "text after") {
				t.Errorf("text after the manifest: exit %d: %s", code, lastLine(out))
			}

			// Epochs: the parser against Go.
			times := []string{"1970-01-01T00:00:00Z", "2000-02-29T12:34:56Z", "2024-12-31T23:59:59Z", "2026-03-01T00:00:00Z",
				"2038-01-19T03:14:08Z", "2100-03-01T00:00:00Z", "2024-06-01T10:00:00.123456789Z", "2024-06-01T12:00:00+02:00",
				"2024-06-01T05:30:00-04:30"}
			for _, s := range times {
				want, err := time.Parse(time.RFC3339Nano, s)
				if err != nil {
					t.Fatal(err)
				}
				out, _ := parse(replaceExpires(string(good), s))
				got := factValue(out, "expires_epoch")
				if got != strconv.FormatInt(want.Unix(), 10) {
					t.Errorf("expires %s: epoch %q, want %d", s, got, want.Unix())
				}
			}
		})
	}
}

func regexpMatch(re, s string) bool { return regexp.MustCompile(re).MatchString(s) }

func replaceExpires(text, value string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, `  "expires": "`) {
			lines[i] = `  "expires": "` + value + `",`
		}
	}
	return strings.Join(lines, "\n")
}

func factValue(out, key string) string {
	for _, l := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(l, key+" "); ok {
			return v
		}
	}
	return ""
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestConfigEditor runs install.sh's TOML editor under each awk: values
// land where they should, come back unchanged through a TOML parser, and
// everything else in the file stays as it was.
func TestConfigEditor(t *testing.T) {
	prog := awkProgram(t, "toml_awk")
	const config = `# example config
# Secret key.
auth_key = ""

# Name of this host. Default: the hostname.
# node_id = "web-01"
auth_key_extra = "untouched"
#   source = "/dev/kmsg"

[table]
auth_key = "in a table: not ours"
`
	values := map[string]string{
		"auth_key":  `s3"cr\et` + "\ttab\x01ctl",
		"node_id":   "web 01 ünïcode",
		"source":    "/var/log/kern.log",
		"brand-new": "",
	}
	for name, argv := range awks(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var keys []string
			for _, k := range []string{"auth_key", "node_id", "source", "brand-new"} {
				keys = append(keys, k)
				if err := os.WriteFile(filepath.Join(dir, k), []byte(values[k]), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			conf := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(conf, []byte(config), 0o600); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(argv[0], append(argv[1:], "-v", "keys="+strings.Join(keys, " "), "-v", "dir="+dir, prog, conf, conf)...)
			cmd.Env = append(os.Environ(), "LC_ALL=C")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v", err)
			}
			got := string(out)
			var doc struct {
				AuthKey      string `toml:"auth_key"`
				NodeID       string `toml:"node_id"`
				Source       string `toml:"source"`
				BrandNew     string `toml:"brand-new"`
				AuthKeyExtra string `toml:"auth_key_extra"`
				Table        struct {
					AuthKey string `toml:"auth_key"`
				} `toml:"table"`
			}
			if _, err := toml.Decode(got, &doc); err != nil {
				t.Fatalf("the edited config is not TOML: %v\n%s", err, got)
			}
			if doc.AuthKey != values["auth_key"] || doc.NodeID != values["node_id"] || doc.Source != values["source"] || doc.BrandNew != "" {
				t.Errorf("values do not round-trip: %+v\n%s", doc, got)
			}
			if doc.AuthKeyExtra != "untouched" || doc.Table.AuthKey != "in a table: not ours" {
				t.Errorf("the editor touched other keys: %+v\n%s", doc, got)
			}
			for _, keep := range []string{"# example config\n", "# Name of this host. Default: the hostname.\n"} {
				if !strings.Contains(got, keep) {
					t.Errorf("lost %q", keep)
				}
			}
			if !strings.Contains(got, "brand-new = \"\"\n\n[table]") {
				t.Errorf("a new key is not added before the first table:\n%s", got)
			}
			if strings.Count(got, "\n") != strings.Count(config, "\n")+2 {
				t.Errorf("line count changed beyond the added key:\n%s", got)
			}
		})
	}
}

func TestIsLoopbackAndEnvPrefix(t *testing.T) {
	for host, want := range map[string]bool{"127.0.0.1": true, "127.1.2.3": true, "localhost": true, "::1": true,
		"127.0.0.1.example.com": false, "128.0.0.1": false, "example.com": false, "0.0.0.0": false} {
		if got := loopback.Host(host); got != want {
			t.Errorf("loopback.Host(%q) = %v", host, got)
		}
	}
	for name, want := range map[string]string{"crashwatch": "CRASHWATCH_", "my-agent.2": "MY_AGENT_2_"} {
		if got := installer.EnvPrefix(name); got != want {
			t.Errorf("EnvPrefix(%q) = %q, want %q", name, got, want)
		}
	}
}
