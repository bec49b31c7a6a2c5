package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omnipack/omnipack/detector"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/release"
)

// Options is one `omnipack install` run.
type Options struct {
	// release.Source is a dist or bundle directory, or an http(s) URL of one.
	// With Uninstall it may be empty when Name is set.
	Source string
	Key    release.KeySpec
	// InsecureHTTP allows plain http to a host that is not loopback.
	InsecureHTTP bool
	// Root is the file system to install into; "" is /. Commands run
	// inside another root through chroot.
	Root      string
	DryRun    bool
	Uninstall bool
	// Name is the project to uninstall when no release.Source is given.
	Name string
	Plan PlanOptions
	// release.Limits bound downloads; zero means release.DefaultLimits.
	Limits release.Limits
	// Now is the time expiry is judged at; nil means time.Now.
	Now func() time.Time
	// Out gets omnipack's messages, Log what the tools print.
	Out, Log io.Writer
	// Runner runs commands; nil means ExecRunner.
	Runner Runner
	// AllowNonRoot skips the root check (tests installing into a tree).
	AllowNonRoot bool
	// HealthGrace and Poll tune the health check (see Executor).
	HealthGrace, Poll time.Duration
	// Detect examines the root; nil means detector.Detect.
	Detect func(root string) (detector.Facts, error)
}

// Result is what a run decided and did.
type Result struct {
	Plan     *Plan
	Verified *release.Verified
	// Changed is false for a dry run and for a run that had nothing to do.
	Changed bool
}

// Inspect gathers what the root has of project name already.
func Inspect(root, name string) (State, error) {
	h, err := openHostFS(root)
	if err != nil {
		return State{}, err
	}
	defer h.Close()
	return inspect(h, name)
}

func inspect(h *hostFS, name string) (State, error) {
	rec, err := readRecord(h, name)
	if err != nil {
		return State{}, err
	}
	return State{
		Record:       rec,
		TarballFiles: h.exists(layout.TarballFileList(name)),
		Binary:       h.exists(layout.Bin(name)),
		Init:         readInitRecord(h, name),
		ConfigFile:   findConfig(h, name),
	}, nil
}

// Run verifies the release, plans and (unless DryRun) executes. The plan
// is printed first in every case; nothing on the host changes before the
// manifest's signature, expiry and version, and the chosen artifact, have
// been checked.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Log == nil {
		o.Log = o.Out
	}
	if o.Root == "" {
		o.Root = "/"
	}
	if o.Limits == (release.Limits{}) {
		o.Limits = release.DefaultLimits
	}
	now := time.Now
	if o.Now != nil {
		now = o.Now
	}
	detect := detector.Detect
	if o.Detect != nil {
		detect = o.Detect
	}
	res := &Result{}

	var src release.Source
	name := o.Name
	if o.Source != "" {
		var err error
		if src, err = release.Open(o.Source, policy(o.InsecureHTTP, o.Limits)); err != nil {
			return res, err
		}
		if o.Key.Path == "" && o.Key.FromRelease {
			fmt.Fprintf(o.Out, "omnipack install: WARNING: %s\n", release.FromReleaseWarning)
		}
		at := now()
		if o.Uninstall {
			// Removing needs only the name: an expired manifest still
			// names what to remove.
			at = time.Time{}
		}
		v, err := release.Load(ctx, src, o.Key, at)
		if err != nil {
			return res, err
		}
		res.Verified = v
		if name != "" && name != v.Release.Name {
			return res, fmt.Errorf("--name %s, but the release is %s", name, v.Release.Name)
		}
		name = v.Release.Name
		fmt.Fprintf(o.Out, "omnipack install: verified %s from %s: %s %s, release_version %d, expires %s, key %s\n",
			"release.json", src, v.Release.Name, v.Release.Version, v.Release.ReleaseVersion,
			v.Release.Expires.UTC().Format(time.RFC3339), release.Short(v.KeySHA256))
	} else if !o.Uninstall {
		return res, errors.New("no source: pass a dist or bundle directory, or an https URL")
	} else if name == "" {
		return res, errors.New("--uninstall needs the source (to read the name from) or --name NAME")
	}
	if err := release.CheckName(name); err != nil {
		return res, err
	}
	facts, err := detect(o.Root)
	if err != nil {
		return res, err
	}
	st, err := Inspect(o.Root, name)
	if err != nil {
		if !o.Uninstall {
			return res, err
		}
		// A damaged record must not stop a removal.
		fmt.Fprintf(o.Out, "omnipack install: warning: %v; removing anyway\n", err)
		st = State{}
		if h, herr := openHostFS(o.Root); herr == nil {
			st.TarballFiles = h.exists(layout.TarballFileList(name))
			h.Close()
		}
	}
	var p *Plan
	if o.Uninstall {
		p, err = NewUninstallPlan(facts, name, st, o.Plan)
	} else {
		p, err = NewPlan(facts, res.Verified.Release, st, o.Plan)
	}
	res.Plan = p
	if err != nil {
		return res, err
	}
	fmt.Fprint(o.Out, p.Text("$TMPDIR/omnipack-install-XXXX"))
	if o.DryRun {
		for _, l := range p.PlanLines() {
			fmt.Fprintln(o.Out, l)
		}
		fmt.Fprintln(o.Out, "dry run: nothing was changed")
		return res, nil
	}
	if p.Action == ActionNone && len(p.Steps) == 0 {
		fmt.Fprintf(o.Out, "omnipack install: %s %s is installed already; nothing to do\n", p.Name, p.Version)
		return res, nil
	}
	if !o.AllowNonRoot && os.Geteuid() != 0 {
		return res, fmt.Errorf("%w: installing changes the system; run it as root (sudo omnipack install …), or try --dry-run", ErrNotRoot)
	}
	if p.Action == ActionNone {
		fmt.Fprintf(o.Out, "omnipack install: %s %s is installed already; the package is left as it is\n", p.Name, p.Version)
	}
	unlock, err := lockHost(ctx, name, o.Out)
	if err != nil {
		return res, err
	}
	defer unlock()
	ex := &Executor{Source: src, Root: o.Root, Out: o.Out, Log: o.Log, Runner: o.Runner, Sets: o.Plan.Sets,
		HealthGrace: o.HealthGrace, Poll: o.Poll}
	err = ex.Execute(ctx, p)
	res.Changed = p.Action != ActionNone || ex.configChanged
	if err != nil {
		return res, err
	}
	switch p.Action {
	case ActionUninstall, ActionPurge:
		fmt.Fprintf(o.Out, "omnipack install: %s: %s done\n", p.Name, p.Action)
	case ActionNone:
		fmt.Fprintf(o.Out, "omnipack install: %s %s: done\n", p.Name, p.Version)
	default:
		fmt.Fprintf(o.Out, "omnipack install: %s %s: %s done\n", p.Name, p.Version, p.Action)
	}
	return res, nil
}

// policy is how the installer reads a release over the network: plain
// http only to loopback unless insecureHTTP, with l's time and speed
// limits.
func policy(insecureHTTP bool, l release.Limits) release.Policy {
	return release.Policy{PlainHTTP: insecureHTTP, PlainHTTPFlag: "--insecure-http", Limits: l, UserAgent: "omnipack-install"}
}

// lockWait is how long an installer waits for another one on the host.
const lockWait = 10 * time.Minute

// lockHost takes the installer lock (layout.InstallLock) of the machine it
// runs on, the one install.sh takes with flock(1), waiting up to lockWait
// for another installer: cloud-init and a cron job can start two at once.
func lockHost(ctx context.Context, name string, out io.Writer) (func(), error) {
	p := layout.InstallLock(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return nil, err
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(lockWait)
	for said := false; ; said = true {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
		}
		if !said {
			fmt.Fprintf(out, "omnipack install: another installer of %s is running; waiting for it (up to %s)\n", name, lockWait)
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("another installer of %s has held %s for %s; try again when it is done", name, f.Name(), lockWait)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}
