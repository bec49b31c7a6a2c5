package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/omnipack/omnipack/detector"
	"github.com/omnipack/omnipack/install/installtest"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/release"
)

const debianOSRelease = "ID=debian\nVERSION_ID=\"12\"\n"
const voidOSRelease = "ID=void\n"

// fakeRunner records commands instead of running them. result decides
// each command's outcome (nil: success).
type fakeRunner struct {
	mu     sync.Mutex
	cmds   []string
	result func(c Command) (string, error)
}

func (f *fakeRunner) Run(_ context.Context, c Command, stdout, _ io.Writer) error {
	f.mu.Lock()
	f.cmds = append(f.cmds, c.String())
	f.mu.Unlock()
	if f.result == nil {
		return nil
	}
	out, err := f.result(c)
	io.WriteString(stdout, out)
	return err
}

func (f *fakeRunner) ran() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.cmds...)
}

// tree is a root file system of the distro with the directories a real one
// has, so that a refused run can be compared byte for byte.
func tree(t *testing.T, osRelease string) string {
	root := installtest.Tree(t, osRelease)
	os.MkdirAll(filepath.Join(root, "var/tmp"), 0o1777)
	return root
}

func opts(root, src, key string, r Runner, out io.Writer) Options {
	return Options{Source: src, Key: release.KeySpec{Path: key}, Root: root, Out: out, Log: out, Runner: r,
		AllowNonRoot: true, HealthGrace: 200 * time.Millisecond, Poll: 20 * time.Millisecond}
}

// TestRunRefusesBeforeAnyChange: each attack ends in an error, no command
// runs and the root is byte for byte unchanged.
func TestRunRefusesBeforeAnyChange(t *testing.T) {
	for _, c := range []struct {
		name   string
		mutate func(t *testing.T, d *installtest.Dist, root string)
		want   string
	}{
		{"tampered package", func(t *testing.T, d *installtest.Dist, root string) {
			a := d.Artifact(t, "deb")
			b, _ := os.ReadFile(filepath.Join(d.Dir, a.Name))
			b[0] ^= 1
			os.WriteFile(filepath.Join(d.Dir, a.Name), b, 0o644)
		}, "tampered with"},
		{"package from another release", func(t *testing.T, d *installtest.Dist, root string) {
			other := installtest.Make(t, d.Key, installtest.Options{Version: "0.9.0"})
			b, _ := os.ReadFile(filepath.Join(other.Dir, other.Artifact(t, "deb").Name))
			os.WriteFile(filepath.Join(d.Dir, d.Artifact(t, "deb").Name), b, 0o644)
		}, "another release"},
		{"truncated package", func(t *testing.T, d *installtest.Dist, root string) {
			p := filepath.Join(d.Dir, d.Artifact(t, "deb").Name)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, b[:len(b)/2], 0o644)
		}, "truncated"},
		{"larger package", func(t *testing.T, d *installtest.Dist, root string) {
			p := filepath.Join(d.Dir, d.Artifact(t, "deb").Name)
			b, _ := os.ReadFile(p)
			os.WriteFile(p, append(b, "more"...), 0o644)
		}, "larger than its signed size"},
		{"tampered manifest", func(t *testing.T, d *installtest.Dist, root string) {
			p := filepath.Join(d.Dir, "release.json")
			b, _ := os.ReadFile(p)
			os.WriteFile(p, bytes.Replace(b, []byte("1.0.0"), []byte("1.0.1"), 1), 0o644)
		}, "does not verify"},
		{"another key", func(t *testing.T, d *installtest.Dist, root string) {
			raw, _ := d.Release.Marshal()
			d.WriteSigned(t, raw, installtest.NewKey(t))
		}, "does not verify"},
		{"expired", func(t *testing.T, d *installtest.Dist, root string) {
			past := time.Now().Add(-time.Minute)
			d.Release.Expires = &past
			d.Sign(t)
		}, "expired"},
		{"rollback", func(t *testing.T, d *installtest.Dist, root string) {
			os.MkdirAll(filepath.Join(root, "var/lib/omnipack"), 0o755)
			os.WriteFile(filepath.Join(root, "var/lib/omnipack/agent.release"), []byte("release_version=1800000000\nversion=2.0.0\nformat=deb\n"), 0o644)
		}, "rollback refused"},
		{"../ in the chosen name", func(t *testing.T, d *installtest.Dist, root string) {
			for i, a := range d.Release.Artifacts {
				if a.Format == "deb" {
					d.Release.Artifacts[i].Name = "../" + a.Name
				}
			}
			d.Sign(t)
		}, "not a plain file name"},
		{"nixos", func(t *testing.T, d *installtest.Dist, root string) {
			os.WriteFile(filepath.Join(root, "etc/os-release"), []byte("ID=nixos\n"), 0o644)
		}, "NixOS"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := installtest.Make(t, nil, installtest.Options{})
			root := tree(t, debianOSRelease)
			c.mutate(t, d, root)
			before := installtest.Snapshot(t, root)
			r := &fakeRunner{}
			var out bytes.Buffer
			_, err := Run(context.Background(), opts(root, d.Dir, d.Key.PubPath, r, &out))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want %q\n%s", err, c.want, out.String())
			}
			if cmds := r.ran(); len(cmds) > 0 {
				t.Errorf("commands ran: %v", cmds)
			}
			if after := installtest.Snapshot(t, root); !reflect.DeepEqual(before, after) {
				t.Errorf("the root changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func TestRunPackageManager(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	root := tree(t, debianOSRelease)
	// The package "installs" the config file, as a deb would.
	cfg := filepath.Join(root, "etc/agent/agent.toml")
	r := &fakeRunner{result: func(c Command) (string, error) {
		if c.Argv[0] == "apt-get" {
			if !strings.HasPrefix(c.Argv[len(c.Argv)-1], "/var/tmp/omnipack-install-") {
				return "", fmt.Errorf("artifact path %s is not inside the root", c.Argv[len(c.Argv)-1])
			}
			art := filepath.Join(root, c.Argv[len(c.Argv)-1])
			if fi, err := os.Stat(art); err != nil || fi.Mode().Perm() != 0o600 {
				return "", fmt.Errorf("artifact %v %v", fi, err)
			}
			if fi, _ := os.Stat(filepath.Dir(art)); fi.Mode().Perm() != 0o700 {
				return "", fmt.Errorf("temp dir mode %v", fi.Mode())
			}
			os.MkdirAll(filepath.Dir(cfg), 0o755)
			os.WriteFile(cfg, []byte(installtest.DefaultConfig), 0o644)
			os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
			os.WriteFile(filepath.Join(root, "usr/bin/agent"), []byte("binary"), 0o755)
		}
		return "", nil
	}}
	var out bytes.Buffer
	o := opts(root, d.Dir, d.Key.PubPath, r, &out)
	o.Plan.Sets = []Setting{{"auth_key", "TOPSECRET-123"}, {"node_id", "n1"}}
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	cmds := r.ran()
	if len(cmds) != 1 || !strings.HasPrefix(cmds[0], "DEBIAN_FRONTEND=noninteractive apt-get install -y") {
		t.Errorf("commands %v", cmds)
	}
	if !res.Changed || res.Plan.Artifact.Format != "deb" {
		t.Errorf("%+v", res)
	}
	got, _ := os.ReadFile(cfg)
	if !strings.Contains(string(got), "\nauth_key = \"TOPSECRET-123\"\n") || !strings.Contains(string(got), "\nnode_id = \"n1\"\n") {
		t.Errorf("config:\n%s", got)
	}
	if fi, _ := os.Stat(cfg); fi.Mode().Perm() != 0o640 {
		t.Errorf("config mode %v", fi.Mode())
	}
	if strings.Contains(out.String(), "TOPSECRET") || !strings.Contains(out.String(), "auth_key=<set>") {
		t.Errorf("output:\n%s", out.String())
	}
	rec, _ := os.ReadFile(filepath.Join(root, "var/lib/omnipack/agent.release"))
	if !strings.HasPrefix(string(rec), "release_version=1700000000\nversion=1.0.0\nrelease=1\nformat=deb\npackage_manager=apt\nartifact=agent_1.0.0-1_amd64.deb\nsha256=") {
		t.Errorf("record %q", rec)
	}
	if ents, _ := os.ReadDir(filepath.Join(root, "var/tmp")); len(ents) != 0 {
		t.Errorf("temporary files left: %v", ents)
	}

	// Again: nothing to install, the config already holds the values.
	r.cmds = nil
	out.Reset()
	if res, err = Run(context.Background(), o); err != nil || res.Changed || len(r.ran()) != 0 {
		t.Errorf("second run: %v changed=%v %v\n%s", err, res.Changed, r.ran(), out.String())
	}
	if !strings.Contains(out.String(), "installed already") || !strings.Contains(out.String(), "unchanged") {
		t.Errorf("second run does not say so:\n%s", out.String())
	}

	// A dry run of an upgrade changes nothing and runs nothing.
	d2 := installtest.Make(t, d.Key, installtest.Options{Version: "1.1.0", ReleaseVersion: 1700000500})
	before := installtest.Snapshot(t, root)
	r.cmds = nil
	out.Reset()
	o.Source, o.DryRun = d2.Dir, true
	if res, err = Run(context.Background(), o); err != nil || res.Plan.Action != ActionUpgrade || len(r.ran()) != 0 {
		t.Fatalf("dry run: %v %+v %v", err, res, r.ran())
	}
	for _, want := range []string{"host: distro=debian 12 arch=amd64", "action: upgrade", "artifact: agent_1.1.0-1_amd64.deb",
		"run: DEBIAN_FRONTEND=noninteractive apt-get install -y", "auth_key=<set>", "dry run: nothing was changed"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("dry run lacks %q:\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "TOPSECRET") {
		t.Error("dry run shows the secret")
	}
	if !reflect.DeepEqual(before, installtest.Snapshot(t, root)) {
		t.Error("dry run changed the root")
	}
}

// TestRunTarball installs, upgrades, re-runs, removes and purges from the
// release tarball on a host without a supported package manager.
func TestRunTarball(t *testing.T) {
	d1 := installtest.Make(t, nil, installtest.Options{})
	root := tree(t, voidOSRelease)
	r := &fakeRunner{}
	var out bytes.Buffer
	o := opts(root, d1.Dir, d1.Key.PubPath, r, &out)
	o.Plan.Sets = []Setting{{"auth_key", "SECRET-A"}}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	cmds := r.ran()
	if len(cmds) != 2 || !strings.HasPrefix(cmds[0], "/bin/sh /var/tmp/omnipack-install-") || !strings.HasSuffix(cmds[0], "/stage/usr/lib/agent/scripts/preinstall") ||
		cmds[1] != "/bin/sh /usr/lib/agent/scripts/postinstall" {
		t.Errorf("commands %q", cmds)
	}
	bin, err := os.ReadFile(filepath.Join(root, "usr/bin/agent"))
	if err != nil || !strings.Contains(string(bin), "1.0.0") {
		t.Errorf("binary %q %v", bin, err)
	}
	if fi, _ := os.Stat(filepath.Join(root, "usr/bin/agent")); fi.Mode().Perm() != 0o755 {
		t.Errorf("binary mode %v", fi.Mode())
	}
	cfg := filepath.Join(root, "etc/agent/agent.toml")
	if b, _ := os.ReadFile(cfg); !strings.Contains(string(b), `auth_key = "SECRET-A"`) {
		t.Errorf("config:\n%s", b)
	}
	if rec, _ := os.ReadFile(filepath.Join(root, "var/lib/omnipack/agent.release")); !strings.Contains(string(rec), "\nformat=tarball\npackage_manager=none\n") {
		t.Errorf("record %q", rec)
	}
	if strings.Contains(out.String(), "SECRET-A") {
		t.Errorf("secret printed:\n%s", out.String())
	}

	// Version 2 drops a file and ships a changed config: the edited config
	// stays, the new one lands beside it, the dropped file goes.
	d2 := installtest.Make(t, d1.Key, installtest.Options{Version: "2.0.0", ReleaseVersion: 1700000900,
		Config: installtest.DefaultConfig + "\n# new_option = 1\n"})
	os.WriteFile(filepath.Join(root, "usr/share/doc/agent/OLD"), []byte("x"), 0o644)
	list, _ := os.ReadFile(filepath.Join(root, "usr/lib/agent/files"))
	os.WriteFile(filepath.Join(root, "usr/lib/agent/files"), append(list, "/usr/share/doc/agent/OLD\n"...), 0o644)
	o.Source, o.Plan.Sets = d2.Dir, nil
	out.Reset()
	res, err := Run(context.Background(), o)
	if err != nil || res.Plan.Action != ActionUpgrade {
		t.Fatalf("upgrade: %v\n%s", err, out.String())
	}
	if b, _ := os.ReadFile(cfg); !strings.Contains(string(b), `auth_key = "SECRET-A"`) {
		t.Errorf("upgrade lost the edited config:\n%s", b)
	}
	if b, err := os.ReadFile(cfg + ".new"); err != nil || !strings.Contains(string(b), "new_option") {
		t.Errorf("no config.new: %v", err)
	}
	if bin, _ := os.ReadFile(filepath.Join(root, "usr/bin/agent")); !strings.Contains(string(bin), "2.0.0") {
		t.Errorf("binary not upgraded: %q", bin)
	}
	if _, err := os.Stat(filepath.Join(root, "usr/share/doc/agent/OLD")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file the new release dropped is still there: %v", err)
	}

	// Going back to version 1 is a rollback.
	o.Source = d1.Dir
	if _, err := Run(context.Background(), o); !errors.Is(err, ErrRollback) {
		t.Errorf("rollback: %v", err)
	}

	// Uninstall keeps the config; purge deletes it and the record.
	r.cmds = nil
	o.Source, o.Uninstall = "", true
	o.Name = "agent"
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if cmds := r.ran(); len(cmds) != 1 || cmds[0] != "/bin/sh /usr/lib/agent/scripts/preremove" {
		t.Errorf("uninstall commands %q", cmds)
	}
	for _, gone := range []string{"usr/bin/agent", "usr/lib/agent", "usr/share/doc/agent"} {
		if _, err := os.Stat(filepath.Join(root, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s is still there", gone)
		}
	}
	for _, kept := range []string{"usr/bin", "usr/lib", "etc/agent/agent.toml", "var/lib/omnipack/agent.release"} {
		if _, err := os.Stat(filepath.Join(root, kept)); err != nil {
			t.Errorf("%s is gone", kept)
		}
	}
	os.MkdirAll(filepath.Join(root, "var/lib/agent"), 0o750)
	os.MkdirAll(filepath.Join(root, "var/log/agent"), 0o750)
	os.WriteFile(filepath.Join(root, "var/log/agent/current"), []byte("a log line\n"), 0o640)
	// What the package's scripts noted they created: a tree, an empty
	// directory and its created parent, a kept one, and the environment
	// file with a copy rpm kept; and lines a purge must not act on.
	for _, d := range []string{"var/cache/agent/blobs", "srv/agent/spool", "var/lib/shared"} {
		os.MkdirAll(filepath.Join(root, d), 0o750)
	}
	for _, f := range []string{"var/cache/agent/blobs/b", "var/lib/shared/admin.prom", "etc/sysconfig/agent", "etc/sysconfig/agent.rpmsave", "etc/sysconfig/other"} {
		os.MkdirAll(filepath.Dir(filepath.Join(root, f)), 0o755)
		os.WriteFile(filepath.Join(root, f), []byte("x\n"), 0o640)
	}
	os.WriteFile(filepath.Join(root, "var/lib/omnipack/agent.purge"), []byte("empty /srv\nempty /srv/agent\nempty /srv/agent/spool\ntree /var/cache/agent\nempty /var/lib/shared\nfile /etc/sysconfig/agent\ntree /var/lib/shared\nfile /etc/sysconfig/other\ntree relative/agent\n"), 0o644)
	o.Plan.Purge = true
	out.Reset()
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	for _, gone := range []string{"etc/agent", "var/lib/agent", "var/log/agent", "var/lib/omnipack", "var/cache/agent", "srv", "etc/sysconfig/agent", "etc/sysconfig/agent.rpmsave"} {
		if _, err := os.Stat(filepath.Join(root, gone)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the purge", gone)
		}
	}
	for _, kept := range []string{"var/lib/shared/admin.prom", "etc/sysconfig/other"} {
		if _, err := os.Stat(filepath.Join(root, kept)); err != nil {
			t.Errorf("the purge deleted %s, which is not the package's: %v", kept, err)
		}
	}
	if !strings.Contains(out.String(), "/var/lib/shared: it is not empty") {
		t.Errorf("the purge does not say it kept a directory holding files:\n%s", out.String())
	}
}

// TestStageRefusesUnsafeEntries: links, devices and paths leading out.
func TestStageRefusesUnsafeEntries(t *testing.T) {
	for _, name := range []string{"../etc/passwd", "/etc/passwd", "usr/../../x", "proc/self/x", "a\nb"} {
		if _, err := cleanEntry(name); err == nil {
			t.Errorf("%q accepted", name)
		}
	}
	for _, name := range []string{"usr/bin/agent", "./etc/agent/", "usr/lib/agent/scripts/preinstall"} {
		if _, err := cleanEntry(name); err != nil {
			t.Errorf("%q refused: %v", name, err)
		}
	}
}

// TestDownloadSizeCap: a server that sends more than the signed size is
// cut off, with or without announcing the length, and so is one that is
// too slow.
func TestDownloadSizeCap(t *testing.T) {
	d := installtest.Make(t, nil, installtest.Options{})
	deb := d.Artifact(t, "deb")
	mode := "announce"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name != deb.Name {
			http.ServeFile(w, r, filepath.Join(d.Dir, filepath.FromSlash(name)))
			return
		}
		body, _ := os.ReadFile(filepath.Join(d.Dir, name))
		switch mode {
		case "announce":
			w.Header().Set("Content-Length", fmt.Sprint(len(body)+1<<20))
			w.Write(body)
			w.Write(make([]byte, 1<<20))
		case "stream":
			w.Write(body)
			w.(http.Flusher).Flush()
			for i := 0; i < 64; i++ {
				if _, err := w.Write(make([]byte, 64<<10)); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		case "slow":
			w.Write(body[:10])
			w.(http.Flusher).Flush()
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}
	}))
	defer srv.Close()
	if !strings.HasPrefix(srv.URL, "http://127.0.0.1:") {
		t.Fatalf("server at %s", srv.URL)
	}
	for _, m := range []string{"announce", "stream", "slow"} {
		t.Run(m, func(t *testing.T) {
			mode = m
			root := tree(t, debianOSRelease)
			before := installtest.Snapshot(t, root)
			r := &fakeRunner{}
			var out bytes.Buffer
			o := opts(root, srv.URL, d.Key.PubPath, r, &out)
			o.Limits = release.DefaultLimits
			o.Limits.Window, o.Limits.MinPerWin = 300*time.Millisecond, 1024
			_, err := Run(context.Background(), o)
			want := "larger than its signed size"
			if m == "slow" {
				want = "slower than"
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("error %v, want %q", err, want)
			}
			if m != "slow" && !errors.Is(err, release.ErrTooLarge) {
				t.Errorf("not ErrTooLarge: %v", err)
			}
			if len(r.ran()) > 0 || !reflect.DeepEqual(before, installtest.Snapshot(t, root)) {
				t.Errorf("something changed: %v", r.ran())
			}
		})
	}
	// The same server with an honest file works.
	mode = "none"
	src, err := release.Open(srv.URL+"/", policy(false, release.DefaultLimits))
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if _, err := src.Fetch(context.Background(), "release.json", manifest.MaxManifest, &b); err != nil || b.Len() == 0 {
		t.Errorf("fetch: %v", err)
	}
}

func TestOpenSourceSchemes(t *testing.T) {
	for _, c := range []struct {
		url      string
		insecure bool
		ok       bool
	}{
		{"https://example.com/rel", false, true},
		{"http://127.0.0.1:8080/rel", false, true},
		{"http://[::1]:8080/rel", false, true},
		{"http://localhost/rel", false, true},
		{"http://example.com/rel", false, false},
		{"http://127.0.0.1.example.com/rel", false, false},
		{"http://example.com/rel", true, true},
		{"ftp://example.com/rel", true, false},
		{"https://user:pw@example.com/rel", false, false},
		{"file:///etc", false, false},
	} {
		_, err := release.Open(c.url, policy(c.insecure, release.DefaultLimits))
		if (err == nil) != c.ok {
			t.Errorf("%s insecure=%v: %v", c.url, c.insecure, err)
		}
		if err != nil && strings.Contains(c.url, "example.com/rel") && c.url[:5] == "http:" && !strings.Contains(err.Error(), "--insecure-http") {
			t.Errorf("refusal does not name the way out: %v", err)
		}
	}
}

// TestHealth: a service that runs passes; one that never starts or dies
// fails, after its log lines are shown; so does one whose health command
// fails, after that command's output.
func TestHealth(t *testing.T) {
	for _, c := range []struct {
		name    string
		status  func(n int) bool // the n-th status query succeeds
		healthy bool             // the health command passes
		ok      bool
	}{
		{"up", func(int) bool { return true }, true, true},
		{"slow to start", func(n int) bool { return n > 3 }, true, true},
		{"never up", func(int) bool { return false }, true, false},
		{"dies", func(n int) bool { return n < 3 }, true, false},
		{"unhealthy", func(int) bool { return true }, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			n, probed := 0, false
			r := &fakeRunner{result: func(cmd Command) (string, error) {
				line := strings.Join(cmd.Argv, " ")
				if strings.Contains(line, "journalctl -u agent.service") {
					return "agent[42]: fatal: auth_key is wrong\n", nil
				}
				if strings.HasSuffix(line, "/usr/bin/agent -check") {
					probed = true
					if !c.healthy {
						return "agent: unhealthy: connection refused\n", errors.New("exit status 1")
					}
					return "", nil
				}
				n++
				if c.status(n) {
					return "", nil
				}
				return "", errors.New("exit status 3")
			}}
			cmd, _ := InitCommand("systemd", "agent", "status")
			p := &Plan{Name: "agent", Steps: []Step{{Kind: StepHealth, Init: "systemd", Seconds: 1, Cmd: &cmd,
				Health: &Command{Argv: []string{"/usr/bin/agent", "-check"}}}}}
			var out bytes.Buffer
			e := &Executor{Root: t.TempDir(), Out: &out, Runner: r, HealthGrace: 300 * time.Millisecond, Poll: 50 * time.Millisecond}
			err := e.Execute(context.Background(), p)
			if (err == nil) != c.ok {
				t.Fatalf("err %v\n%s", err, out.String())
			}
			if !c.ok && !strings.Contains(out.String(), "auth_key is wrong") {
				t.Errorf("no log lines:\n%s", out.String())
			}
			// The health command runs once the service stayed up.
			if stayedUp := c.ok || !c.healthy; probed != stayedUp {
				t.Errorf("health command run: %v, want %v", probed, stayedUp)
			}
			if !c.healthy && !strings.Contains(out.String(), "agent: unhealthy: connection refused") {
				t.Errorf("the health command's output is not shown:\n%s", out.String())
			}
			if !strings.Contains(strings.Join(r.ran(), "\n"), "systemctl is-active --quiet agent.service") {
				t.Errorf("status not asked through systemctl: %v", r.ran())
			}
		})
	}
}

// TestRunEnvironmentFile: --set env.NAME=VALUE lands in the environment
// file the signed manifest names, mode kept at 0640, the value never
// printed; a change restarts the service, an unchanged file is not
// rewritten; the tarball's file is written the same way, and a package
// without one is refused before anything changes.
func TestRunEnvironmentFile(t *testing.T) {
	const value = `debug "q" $HOME \x ` + "`id`"
	d := installtest.Make(t, nil, installtest.Options{EnvironmentFile: true})
	if got := d.Artifact(t, "deb").EnvironmentFile; got != "/etc/default/agent" {
		t.Fatalf("the deb names %q", got)
	}
	root := tree(t, debianOSRelease)
	envFile := filepath.Join(root, "etc/default/agent")
	r := &fakeRunner{result: func(c Command) (string, error) {
		if c.Argv[0] == "apt-get" {
			// As the deb does: the binary, and the environment file 0640.
			os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
			os.WriteFile(filepath.Join(root, "usr/bin/agent"), []byte("binary"), 0o755)
			os.MkdirAll(filepath.Dir(envFile), 0o755)
			os.WriteFile(envFile, []byte(installtest.DefaultEnvironment), 0o640)
		}
		return "", nil
	}}
	var out bytes.Buffer
	o := opts(root, d.Dir, d.Key.PubPath, r, &out)
	// A running systemd, so that the plan restarts and checks the service.
	o.Detect = func(root string) (detector.Facts, error) {
		f, err := detector.Detect(root)
		f.Init = "systemd"
		return f, err
	}
	o.Plan.Sets = []Setting{{"env.LOG_LEVEL", value}, {"env.TOKEN", "TOPSECRET-9"}}
	o.Plan.HealthSeconds = 1
	res, err := Run(context.Background(), o)
	if err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	got, _ := os.ReadFile(envFile)
	want := installtest.DefaultEnvironment + "LOG_LEVEL=\"debug \\\"q\\\" \\$HOME \\\\x \\`id\\`\"\nTOKEN=\"TOPSECRET-9\"\n"
	if string(got) != want {
		t.Errorf("environment file:\n%s\nwant\n%s", got, want)
	}
	if fi, _ := os.Stat(envFile); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
	if _, err := os.Stat(filepath.Join(root, "etc/agent")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("env settings touched the config directory: %v", err)
	}
	if strings.Contains(out.String(), "TOPSECRET") || strings.Contains(out.String(), "debug") ||
		!strings.Contains(out.String(), "env.TOKEN=<set>") || !res.Changed {
		t.Errorf("output:\n%s", out.String())
	}
	if cmds := strings.Join(r.ran(), "\n"); !strings.Contains(cmds, "systemctl restart agent.service") {
		t.Errorf("a changed environment file did not restart the service: %s", cmds)
	}

	// Again: the file holds the values; it is not rewritten, nothing restarts.
	fi1, _ := os.Stat(envFile)
	r.cmds = nil
	out.Reset()
	if res, err = Run(context.Background(), o); err != nil || res.Changed {
		t.Fatalf("second run: %v changed=%v\n%s", err, res.Changed, out.String())
	}
	if fi2, _ := os.Stat(envFile); !os.SameFile(fi1, fi2) || !strings.Contains(out.String(), "unchanged") {
		t.Errorf("the unchanged file was rewritten:\n%s", out.String())
	}
	if cmds := strings.Join(r.ran(), "\n"); strings.Contains(cmds, "restart") {
		t.Errorf("an unchanged environment file restarted the service: %s", cmds)
	}

	// A dry run shows the step and its plan line, and changes nothing.
	os.Remove(envFile)
	before := installtest.Snapshot(t, root)
	o.DryRun = true
	out.Reset()
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "\nplan: set-env /etc/default/agent LOG_LEVEL TOKEN\n") ||
		!strings.Contains(out.String(), "env.LOG_LEVEL=<set> env.TOKEN=<set> in the environment file /etc/default/agent") {
		t.Errorf("dry run:\n%s", out.String())
	}
	if !reflect.DeepEqual(before, installtest.Snapshot(t, root)) {
		t.Error("the dry run changed the root")
	}
	// Deleted by the admin: written again, 0640.
	o.DryRun = false
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(envFile); string(got) != "LOG_LEVEL=\"debug \\\"q\\\" \\$HOME \\\\x \\`id\\`\"\nTOKEN=\"TOPSECRET-9\"\n" {
		t.Errorf("rewritten file:\n%s", got)
	}
	if fi, _ := os.Stat(envFile); fi.Mode().Perm() != 0o640 {
		t.Errorf("rewritten file's mode %v", fi.Mode())
	}

	// The tarball carries /etc/agent/environment; the value lands there.
	root = tree(t, voidOSRelease)
	o = opts(root, d.Dir, d.Key.PubPath, &fakeRunner{}, &out)
	o.Plan.Sets = []Setting{{"env.LOG_LEVEL", "warn"}}
	if _, err := Run(context.Background(), o); err != nil {
		t.Fatalf("tarball: %v\n%s", err, out.String())
	}
	if got, _ := os.ReadFile(filepath.Join(root, "etc/agent/environment")); string(got) != installtest.DefaultEnvironment+"LOG_LEVEL=\"warn\"\n" {
		t.Errorf("tarball's environment file:\n%s", got)
	}

	// A release that ships none: refused, nothing changed.
	plain := installtest.Make(t, d.Key, installtest.Options{})
	root = tree(t, debianOSRelease)
	before = installtest.Snapshot(t, root)
	r = &fakeRunner{}
	o = opts(root, plain.Dir, plain.Key.PubPath, r, &out)
	o.Plan.Sets = []Setting{{"env.LOG_LEVEL", "warn"}}
	if _, err := Run(context.Background(), o); !errors.Is(err, ErrNoEnvironmentFile) || !strings.Contains(err.Error(), "ships no environment file") {
		t.Errorf("no environment file: %v", err)
	}
	if len(r.ran()) > 0 || !reflect.DeepEqual(before, installtest.Snapshot(t, root)) {
		t.Errorf("the refused run changed something: %v", r.ran())
	}
}
