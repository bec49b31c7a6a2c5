package install

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/release"
	"github.com/omnipack/omnipack/signing"
)

// Runner runs a command on the host (inside the root).
type Runner interface {
	Run(ctx context.Context, c Command, stdout, stderr io.Writer) error
}

// ExecRunner runs commands with os/exec; with a Root other than /, inside
// it through chroot(8).
type ExecRunner struct {
	Root string
}

// Run runs c with no standard input. Output writers that are not files get
// their copy for at most a few seconds after c exits: a daemon that a
// maintainer script starts inherits the pipe, and must not hang us.
func (r ExecRunner) Run(ctx context.Context, c Command, stdout, stderr io.Writer) error {
	if len(c.Argv) == 0 {
		return errors.New("empty command")
	}
	argv := c.Argv
	if r.Root != "" && r.Root != "/" {
		argv = append([]string{"chroot", r.Root}, argv...)
	}
	// Not killed when ctx is cancelled: SIGKILL in the middle of dpkg or
	// a maintainer script is worse than letting the step finish (an
	// interrupt from the terminal reaches it directly anyway). Execute
	// stops between steps.
	cmd := exec.CommandContext(context.WithoutCancel(ctx), argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), c.Env...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if errors.Is(err, exec.ErrWaitDelay) {
		return nil
	}
	return err
}

// Executor carries out a plan.
type Executor struct {
	// release.Source is where the artifact is fetched from (nil for uninstall).
	Source release.Source
	// Root is the file system changed; "" is /.
	Root string
	// Out gets omnipack's own messages; Log what the tools print.
	Out, Log io.Writer
	Runner   Runner
	// Sets are the --set values (secret: never printed).
	Sets []Setting
	// HealthGrace is how long a service may take to come up before it
	// must stay up for the step's Seconds; 0 means 20 s.
	HealthGrace time.Duration
	// Poll is the health check's interval; 0 means 1 s.
	Poll time.Duration

	h             *hostFS
	tmpHost       string // the private temporary directory, on this machine
	tmpRoot       string // the same, as seen inside the root
	staged        *staged
	configChanged bool
	wasRunning    bool
	name          string
	// repoVersion is the version the package manager installed from the
	// repository (repo-install).
	repoVersion string
}

func (e *Executor) say(format string, args ...any) {
	fmt.Fprintf(e.Out, "omnipack install: "+format+"\n", args...)
}

// Execute runs every step of p in order and stops at the first failure.
// The temporary directory is removed in every case.
func (e *Executor) Execute(ctx context.Context, p *Plan) (err error) {
	if e.Runner == nil {
		e.Runner = ExecRunner{Root: e.Root}
	}
	if e.Log == nil {
		e.Log = e.Out
	}
	e.name = p.Name
	if e.h, err = openHostFS(e.Root); err != nil {
		return err
	}
	defer e.h.Close()
	download := p.Artifact != nil && slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == StepDownload })
	if download {
		if err := release.CheckArtifact(*p.Artifact); err != nil {
			return err
		}
	}
	if download || slices.ContainsFunc(p.Steps, func(s Step) bool { return s.Kind == StepRepoInstall }) {
		if err := e.makeTemp(); err != nil {
			return err
		}
		defer os.RemoveAll(e.tmpHost)
	}
	for _, s := range p.Steps {
		if s.Kind == StepNoStart {
			e.wasRunning = e.status(ctx, s)
		}
	}
	for i, s := range p.Steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := e.step(ctx, p, s); err != nil {
			return fmt.Errorf("step %d (%s): %w", i+1, s.Kind, err)
		}
	}
	return nil
}

// makeTemp creates the private (0700) temporary directory: in $TMPDIR, or
// in ROOT/var/tmp when installing into another root, so that commands run
// inside the root see it.
func (e *Executor) makeTemp() error {
	base := os.TempDir()
	if e.h.r != nil {
		if !e.h.exists("/var/tmp") {
			if err := e.h.MkdirAll("/var/tmp", 0o755); err != nil {
				return err
			}
			if err := e.h.r.Chmod("var/tmp", os.ModeSticky|0o777); err != nil {
				return err
			}
		}
		base = e.h.Host("/var/tmp")
	}
	dir, err := os.MkdirTemp(base, "omnipack-install-")
	if err != nil {
		return err
	}
	if err := os.Chmod(dir, 0o700); err != nil {
		os.RemoveAll(dir)
		return err
	}
	e.tmpHost, e.tmpRoot = dir, dir
	if e.h.r != nil {
		e.tmpRoot = "/" + strings.TrimPrefix(strings.TrimPrefix(dir, e.h.dir), "/")
	}
	return nil
}

func (e *Executor) expand(p *Plan, s string) string {
	art := ""
	if p.Artifact != nil {
		art = path.Join(e.tmpRoot, p.Artifact.Name)
	}
	return strings.NewReplacer(ArtifactToken, art, StageToken, path.Join(e.tmpRoot, "stage"), ScratchToken, path.Join(e.tmpRoot, scratchDir)).Replace(s)
}

func (e *Executor) expandCmd(p *Plan, c Command) Command {
	out := Command{Env: c.Env}
	for _, a := range c.Argv {
		out.Argv = append(out.Argv, e.expand(p, a))
	}
	return out
}

func (e *Executor) step(ctx context.Context, p *Plan, s Step) error {
	switch s.Kind {
	case StepDownload:
		return e.download(ctx, *p.Artifact)
	case StepStage:
		stage := filepath.Join(e.tmpHost, "stage")
		if err := os.Mkdir(stage, 0o700); err != nil {
			return err
		}
		st, err := stageTarball(filepath.Join(e.tmpHost, p.Artifact.Name), stage, p.Name)
		if err != nil {
			return err
		}
		e.staged = st
		e.say("unpacked %d files of %s", len(st.files), p.Artifact.Name)
		return nil
	case StepRun:
		return e.run(ctx, p, s)
	case StepInstallFiles:
		if e.staged == nil {
			return errors.New("nothing staged")
		}
		notes, err := installStaged(e.h, filepath.Join(e.tmpHost, "stage"), p.Name, e.staged)
		for _, n := range notes {
			e.say("%s", n)
		}
		if err == nil {
			e.say("installed %d files", len(e.staged.files))
		}
		return err
	case StepRecord:
		r := Record{ReleaseVersion: p.ReleaseVersion, Version: p.Version, Release: p.Release, Format: p.Format,
			PackageManager: p.PackageManager, Artifact: p.Artifact.Name, SHA256: p.Artifact.SHA256,
		}
		if _, ok := managed(p.Format); ok {
			r.Package = packageName(p.Format, p.Name, p.Artifact.Package)
		}
		if p.Method == MethodRepo {
			r.Method = MethodRepo
			// Another version than the verified release's came from the
			// repository: the record names only what is known of it, as
			// install.sh's does.
			if e.repoVersion != p.Artifact.Version {
				if err := release.CheckVersion(e.repoVersion); err != nil {
					return fmt.Errorf("the version %s installed from the repository: %w", p.PackageManager, err)
				}
				r = Record{Version: e.repoVersion, Format: p.Format, PackageManager: p.PackageManager, Package: r.Package, Method: MethodRepo}
			}
		}
		if err := writeRecord(e.h, p.Name, r); err != nil {
			return err
		}
		e.say("recorded %s %s (release_version %d) in %s", p.Name, p.Version, p.ReleaseVersion, e.h.Host(RecordPath(p.Name)))
		return nil
	case StepConfig:
		return e.config(s)
	case StepEnvironment:
		return e.environment(s)
	case StepNoStart:
		if !e.wasRunning && e.status(ctx, s) {
			c, _ := e.initCmd(s, "stop")
			e.say("--no-start: stopping the service the install started: %s", c)
			return e.Runner.Run(ctx, c, e.Log, e.Log)
		}
		return nil
	case StepRestart:
		if !e.configChanged {
			return nil
		}
		c, ok := e.initCmd(s, "restart")
		if !ok {
			return nil
		}
		e.say("restarting the service for the new config or environment: %s", c)
		if err := e.Runner.Run(ctx, c, e.Log, e.Log); err != nil {
			e.printLogs(ctx, s)
			return fmt.Errorf("the service did not restart: %w", err)
		}
		return nil
	case StepHealth:
		return e.health(ctx, s)
	case StepRemoveFiles:
		notes, err := removeListed(e.h, p.Name, s.Purge)
		for _, n := range notes {
			e.say("%s", n)
		}
		return err
	case StepPurge:
		return e.purge(ctx, p.Name)
	case StepForget:
		if err := e.h.Remove(s.Path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		_ = e.h.Remove(RecordDir) // only when empty
		return nil
	case StepTrustKey:
		return e.trustKey(ctx, p, s)
	case StepRepoInstall:
		return e.repoInstall(ctx, p, s)
	case StepRepoRemove:
		return e.repoRemove(s)
	}
	return fmt.Errorf("unknown step kind %q", s.Kind)
}

// download fetches the artifact into the private directory, capped at its
// signed size, and checks size and sha256 before anything uses it.
func (e *Executor) download(ctx context.Context, a manifest.Artifact) error {
	if e.Source == nil {
		return errors.New("no source to download from")
	}
	n, err := fetchChecked(ctx, e.Source, a, filepath.Join(e.tmpHost, a.Name), 0o600, false)
	var m *mismatch
	switch {
	case errors.As(err, &m) && m.sha256 == "":
		return fmt.Errorf("%s is %d bytes, the manifest signed %d: truncated or replaced; nothing was installed", a.Name, m.size, a.Size)
	case errors.As(err, &m):
		return fmt.Errorf("%s has sha256 %s, the manifest signed %s: the file was tampered with or comes from another release; nothing was installed", a.Name, m.sha256, a.SHA256)
	case err != nil:
		return fmt.Errorf("download %s: %w; nothing was installed", a.Name, err)
	}
	e.say("downloaded %s (%d bytes, sha256 matches the signed manifest)", a.Name, n)
	return nil
}

// trustKey installs the release's apk key where apk-tools looks for it,
// once its sha256 is the one the signed manifest names (keys.apk).
func (e *Executor) trustKey(ctx context.Context, p *Plan, s Step) error {
	if e.Source == nil {
		return errors.New("no source to fetch the key from")
	}
	want := ""
	if p.Keys != nil {
		want = p.Keys.APK
	}
	var b bytes.Buffer
	if _, err := e.Source.Fetch(ctx, s.Key, manifest.MaxKey, &b); err != nil {
		return fmt.Errorf("fetch %s: %w", s.Key, err)
	}
	block, _ := pem.Decode(b.Bytes())
	if block == nil {
		return fmt.Errorf("%s is not a PEM public key", s.Key)
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return fmt.Errorf("%s is not a PEM public key", s.Key)
	}
	fp, err := signing.Fingerprint(pub)
	if err != nil {
		return err
	}
	if want == "" || fp != want {
		return fmt.Errorf("%s is not the key the signed manifest names (sha256 %s, manifest %q); nothing was installed", s.Key, fp, want)
	}
	if old, err := e.h.ReadFile(s.Path); err == nil && bytes.Equal(old, b.Bytes()) {
		return nil
	}
	if err := e.h.MkdirAll(path.Dir(s.Path), 0o755); err != nil {
		return err
	}
	if err := e.h.WriteAtomic(s.Path, b.Bytes(), 0o644, -1, -1); err != nil {
		return fmt.Errorf("write %s: %w", e.h.Host(s.Path), err)
	}
	e.say("installed the release's key %s as %s", s.Key, e.h.Host(s.Path))
	return nil
}

func (e *Executor) run(ctx context.Context, p *Plan, s Step) error {
	if s.Cmd == nil {
		return errors.New("no command")
	}
	if s.IfExists != "" {
		where := e.expand(p, s.IfExists)
		if !e.h.exists(where) {
			return nil
		}
	}
	if s.OnlyIf != nil {
		if err := e.Runner.Run(ctx, e.expandCmd(p, *s.OnlyIf), io.Discard, io.Discard); err != nil {
			e.say("skipped (%s): %s", s.OnlyIf, "not installed")
			return nil
		}
	}
	c := e.expandCmd(p, *s.Cmd)
	e.say("running: %s", c)
	if err := e.Runner.Run(ctx, c, e.Log, e.Log); err != nil {
		return fmt.Errorf("%s: %w", c.Argv[0], err)
	}
	return nil
}

// findConfig returns /etc/NAME/NAME.toml, else the only *.toml directly in
// /etc/NAME, else "".
func findConfig(h *hostFS, name string) string {
	dir := layout.ConfigDir(name)
	if fi, err := h.Stat(dir + "/" + name + ".toml"); err == nil && fi.Mode().IsRegular() {
		return dir + "/" + name + ".toml"
	}
	ents, err := h.ReadDir(dir)
	if err != nil {
		return ""
	}
	var tomls []string
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".toml") && !strings.HasPrefix(e.Name(), ".") {
			tomls = append(tomls, dir+"/"+e.Name())
		}
	}
	if len(tomls) == 1 {
		return tomls[0]
	}
	return ""
}

// config edits the config file with the --set values: mode 0640 or
// stricter, owner and group kept (a new file gets the config directory's
// group). No value is ever printed.
func (e *Executor) config(s Step) error {
	p := s.Path
	if p == "" {
		if p = findConfig(e.h, e.name); p == "" {
			return fmt.Errorf("%w: no %s/%s.toml and not exactly one *.toml in %s; pass --config-file", errNoConfig, layout.ConfigDir(e.name), e.name, layout.ConfigDir(e.name))
		}
	}
	sets, _ := splitSets(e.Sets)
	var keys []string
	for _, s := range sets {
		keys = append(keys, s.String())
	}
	doc, err := e.h.ReadFile(p)
	uid, gid, mode := -1, -1, os.FileMode(0o640)
	switch {
	case err == nil:
		fi, err := e.h.Lstat(p)
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", e.h.Host(p))
		}
		mode = fi.Mode().Perm() & 0o640
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	case errors.Is(err, fs.ErrNotExist):
		if fi, err := e.h.Stat(path.Dir(p)); err == nil {
			if st, ok := fi.Sys().(*syscall.Stat_t); ok {
				uid, gid = owner(), int(st.Gid)
			}
		} else {
			return fmt.Errorf("%w: %s does not exist", errNoConfig, e.h.Host(path.Dir(p)))
		}
	default:
		return err
	}
	out, changed, err := SetTOML(doc, sets)
	if err != nil {
		return fmt.Errorf("%s: %w", e.h.Host(p), err)
	}
	if !changed {
		e.say("%s already holds %s; unchanged", e.h.Host(p), strings.Join(keys, " "))
		return nil
	}
	if os.Geteuid() != 0 {
		uid, gid = -1, -1
	}
	if err := e.h.WriteAtomic(p, out, mode, uid, gid); err != nil {
		return fmt.Errorf("write %s: %w", e.h.Host(p), err)
	}
	e.configChanged = true
	e.say("set %s in %s (mode %04o)", strings.Join(keys, " "), e.h.Host(p), mode)
	return nil
}

// environment sets the --set env.NAME values in the environment file the
// manifest names: mode 0640 or stricter, owner and group kept (as the
// package installed it: root and the service's group); a file the admin
// deleted is written again, root-owned with its directory's group. It is
// replaced atomically and only when it changes; a change restarts the
// service. No value is ever printed.
func (e *Executor) environment(s Step) error {
	_, sets := splitSets(e.Sets)
	var keys []string
	for _, set := range sets {
		keys = append(keys, set.String())
	}
	doc, err := e.h.ReadFile(s.Path)
	uid, gid, mode := -1, -1, os.FileMode(0o640)
	switch {
	case err == nil:
		fi, err := e.h.Lstat(s.Path)
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return fmt.Errorf("%s is not a regular file", e.h.Host(s.Path))
		}
		mode = fi.Mode().Perm() & 0o640
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = int(st.Uid), int(st.Gid)
		}
	case errors.Is(err, fs.ErrNotExist):
		fi, err := e.h.Stat(path.Dir(s.Path))
		if err != nil {
			return fmt.Errorf("cannot write the environment file: %w", err)
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			uid, gid = owner(), int(st.Gid)
		}
	default:
		return err
	}
	out, changed, err := SetEnvFile(doc, sets)
	if err != nil {
		return fmt.Errorf("%s: %w", e.h.Host(s.Path), err)
	}
	if !changed {
		e.say("%s already holds %s; unchanged", e.h.Host(s.Path), strings.Join(keys, " "))
		return nil
	}
	if os.Geteuid() != 0 {
		uid, gid = -1, -1
	}
	if err := e.h.WriteAtomic(s.Path, out, mode, uid, gid); err != nil {
		return fmt.Errorf("write %s: %w", e.h.Host(s.Path), err)
	}
	e.configChanged = true
	e.say("set %s in %s (mode %04o)", strings.Join(keys, " "), e.h.Host(s.Path), mode)
	return nil
}

// initCmd is the step's init command, for the init the maintainer scripts
// actually set the service up with when that differs from the plan's.
func (e *Executor) initCmd(s Step, what string) (Command, bool) {
	init := s.Init
	if rec := readInitRecord(e.h, e.name); rec != "" && rec != init {
		if _, ok := InitCommand(rec, e.name, what); ok {
			init = rec
		}
	}
	return InitCommand(init, e.name, what)
}

func (e *Executor) status(ctx context.Context, s Step) bool {
	c, ok := e.initCmd(s, "status")
	if !ok {
		return false
	}
	return e.Runner.Run(ctx, c, io.Discard, io.Discard) == nil
}

// health waits up to HealthGrace for the service to run, then requires it
// to keep running for the step's Seconds. An unhealthy service's last log
// lines are printed and the run fails.
func (e *Executor) health(ctx context.Context, s Step) error {
	grace, poll := e.HealthGrace, e.Poll
	if grace <= 0 {
		grace = 20 * time.Second
	}
	if poll <= 0 {
		poll = time.Second
	}
	c, _ := e.initCmd(s, "status")
	e.say("health check: %s", c)
	sleep := func() error {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(poll):
			return nil
		}
	}
	deadline := time.Now().Add(grace)
	for !e.status(ctx, s) {
		if time.Now().After(deadline) {
			e.printLogs(ctx, s)
			return fmt.Errorf("the service is not running after %s (%s); see the log lines above", grace, c)
		}
		if err := sleep(); err != nil {
			return err
		}
	}
	until := time.Now().Add(time.Duration(s.Seconds) * time.Second)
	for time.Now().Before(until) {
		if err := sleep(); err != nil {
			return err
		}
		if !e.status(ctx, s) {
			e.printLogs(ctx, s)
			return fmt.Errorf("the service started but stopped within %d s (%s); see the log lines above", s.Seconds, c)
		}
	}
	if s.Health != nil {
		e.say("health command: %s", s.Health)
		// Bounded as install.sh bounds it; Runner lets commands finish.
		c := *s.Health
		if _, err := exec.LookPath("timeout"); err == nil {
			c.Argv = append([]string{"timeout", strconv.Itoa(initsys.HealthTimeout)}, c.Argv...)
		}
		var out bytes.Buffer
		if err := e.Runner.Run(ctx, c, &out, &out); err != nil {
			e.Out.Write(out.Bytes())
			e.printLogs(ctx, s)
			return fmt.Errorf("the service runs, but its health command (%s) failed: %v; see the log lines above", s.Health, err)
		}
		e.say("the service is running, stayed up for %d s and passed its health command", s.Seconds)
		return nil
	}
	e.say("the service is running and stayed up for %d s", s.Seconds)
	return nil
}

// printLogs shows the service's last log lines: from the log the init
// keeps (initsys.Shell.Log), else from the system log. install.sh runs the
// same fragments.
func (e *Executor) printLogs(ctx context.Context, s Step) {
	init := s.Init
	if rec := readInitRecord(e.h, e.name); rec != "" {
		init = rec
	}
	fmt.Fprintf(e.Out, "omnipack install: last log lines of %s (%s):\n", e.name, init)
	var frags []string
	if r, ok := inits.Lookup(init); ok {
		if l := r.Shell(initsys.Service{Name: e.name}).Log; l != "" {
			frags = append(frags, l)
		}
	}
	frags = append(frags, initsys.SyslogTail(e.name))
	for _, frag := range frags {
		var b bytes.Buffer
		if err := e.Runner.Run(ctx, Command{Argv: []string{"/bin/sh", "-c", frag}}, &b, &b); err == nil && b.Len() > 0 {
			e.Out.Write(b.Bytes())
			return
		}
	}
	fmt.Fprintf(e.Out, "  (no log found: %s keeps no service log here; run /usr/bin/%s in the foreground to see why it stops)\n", init, e.name)
}

var accountRe = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)

// removeCreated deletes what the package's scripts noted they created in
// layout.PurgeList, as the package's own purge does where the package
// manager has one: the last created first; a tree with its contents and a
// file with its kept copies, both only below a directory named after the
// program; another directory only when empty.
func (e *Executor) removeCreated(name string) error {
	list := layout.PurgeList(name)
	data, err := e.h.ReadFile(list)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		kind, p, _ := strings.Cut(lines[i], " ")
		if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
			continue
		}
		own := slices.Contains(strings.Split(p, "/"), name)
		switch {
		case kind == layout.PurgeTree && own:
			if err := e.h.RemoveAll(p); err != nil {
				return err
			}
			e.say("deleted %s", e.h.Host(p))
		case kind == layout.PurgeFile && own:
			for _, f := range append([]string{p}, suffixed(p, layout.KeptCopies)...) {
				if err := e.h.Remove(f); err == nil {
					e.say("deleted %s", e.h.Host(f))
				} else if !errors.Is(err, fs.ErrNotExist) {
					return err
				}
			}
		case kind == layout.PurgeEmpty:
			if fi, err := e.h.Lstat(p); err != nil || !fi.IsDir() {
				continue
			}
			if err := e.h.Remove(p); err != nil {
				e.say("kept %s: it is not empty", e.h.Host(p))
				continue
			}
			e.say("deleted %s", e.h.Host(p))
		}
	}
	if err := e.h.Remove(list); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// suffixed is p with each suffix appended.
func suffixed(p string, suffixes []string) []string {
	out := make([]string, len(suffixes))
	for i, s := range suffixes {
		out[i] = p + s
	}
	return out
}

// purge deletes the config, state and log directories and the accounts the
// maintainer scripts noted as created by the package (users first).
func (e *Executor) purge(ctx context.Context, name string) error {
	for _, d := range []string{layout.ConfigDir(name), layout.StateDir(name), layout.LogDir(name)} {
		if err := e.h.RemoveAll(d); err != nil {
			return err
		}
		e.say("deleted %s", e.h.Host(d))
	}
	if err := e.removeCreated(name); err != nil {
		return err
	}
	data, err := e.h.ReadFile(AccountsPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var users, groups []string
	for _, l := range strings.Split(string(data), "\n") {
		kind, acct, _ := strings.Cut(strings.TrimSpace(l), " ")
		if !accountRe.MatchString(acct) {
			continue
		}
		switch kind {
		case "user":
			users = append(users, acct)
		case "group":
			groups = append(groups, acct)
		}
	}
	sort.Strings(users)
	sort.Strings(groups)
	del := func(kind, tool, busybox, acct string) {
		c := Command{Argv: []string{"/bin/sh", "-c",
			`if command -v ` + tool + ` >/dev/null 2>&1; then ` + tool + ` "$1"; else ` + busybox + ` "$1"; fi`, "sh", acct}}
		exists := Command{Argv: []string{"/bin/sh", "-c", `getent ` + map[string]string{"user": "passwd", "group": "group"}[kind] + ` "$1" >/dev/null 2>&1 || grep -q "^$1:" /etc/` + map[string]string{"user": "passwd", "group": "group"}[kind], "sh", acct}}
		if e.Runner.Run(ctx, exists, io.Discard, io.Discard) != nil {
			return
		}
		if err := e.Runner.Run(ctx, c, e.Log, e.Log); err != nil {
			e.say("warning: could not delete the %s %s: %v", kind, acct, err)
			return
		}
		e.say("deleted the %s %s", kind, acct)
	}
	for _, u := range users {
		del("user", "userdel", "deluser", u)
	}
	for _, g := range groups {
		del("group", "groupdel", "delgroup", g)
	}
	if err := e.h.Remove(AccountsPath(name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}
