package install

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"strings"

	"github.com/omnipack/omnipack/detector"
	"github.com/omnipack/omnipack/internal/loopback"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/signing"
)

// MethodRepo is the record's method for a release installed from the
// vendor's package repository (omnipack install --method repo, install.sh
// --method repo): its removal removes the repository again.
const MethodRepo = "repo"

// RepoOptions say which repository --method repo adds.
type RepoOptions struct {
	URL     string // the repository's root, as omnipack publish --url names it
	Channel string // "" is packaging.DefaultChannel
	// InsecureHTTP allows a plain http URL that is not loopback.
	InsecureHTTP bool
}

// StepRepoInstall adds the repository (Repo) to the package manager,
// trusting the release's OpenPGP key for it alone, checks that its
// metadata verifies, and installs or upgrades the package from it; a
// refusal puts the host's repository files back as they were.
const StepRepoInstall StepKind = "repo-install"

// StepRepoRemove deletes the repository's source file and key (Repo).
const StepRepoRemove StepKind = "repo-remove"

// RepoStep is what a repo step works with: the package manager's use of
// the repository (packaging.HostRepo), its commands with the package name
// in place.
type RepoStep struct {
	Manager    string   `json:"manager"`
	Keyring    string   `json:"keyring"`
	Source     string   `json:"source"`
	SourceBody string   `json:"source_body,omitempty"`
	Check      *Command `json:"check,omitempty"`
	Refresh    *Command `json:"refresh,omitempty"`
	Install    *Command `json:"install,omitempty"`
	Version    *Command `json:"version,omitempty"`
}

// scratchDir is ScratchToken's directory in the private temporary one.
const scratchDir = "repo.check"

// CheckRepoOptions refuses a repository URL or channel a client could not
// use: the URL must be http(s), plain http only to loopback unless
// InsecureHTTP, with no query, fragment or credentials.
func CheckRepoOptions(o RepoOptions) error {
	u, err := url.Parse(o.URL)
	switch {
	case o.URL == "":
		return errors.New("--method repo needs --repo-url URL, the repository's root (omnipack publish --url)")
	case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
		return fmt.Errorf("--repo-url %q: give the http(s) URL of the repository's root", o.URL)
	case u.User != nil || u.RawQuery != "" || u.Fragment != "" || strings.ContainsAny(o.URL, " \t\n\"'\\"):
		return fmt.Errorf("--repo-url %q: no credentials, query, fragment, quotes or spaces", o.URL)
	case u.Scheme == "http" && !loopback.Host(u.Hostname()) && !o.InsecureHTTP:
		return fmt.Errorf("--repo-url %q: plain http to a host that is not loopback; use https (or --insecure-http)", o.URL)
	}
	if o.Channel != "" {
		if err := packaging.CheckChannel(o.Channel); err != nil {
			return fmt.Errorf("--channel: %w", err)
		}
	}
	return nil
}

// hostRepo is the format's use of the repository on this host, or false
// when omnipack publishes no repository its package manager reads.
func hostRepo(format, name string, o RepoOptions) (packaging.HostRepo, bool) {
	f, ok := formats.Lookup(format)
	if !ok {
		return packaging.HostRepo{}, false
	}
	h, ok := f.(packaging.RepoHost)
	if !ok {
		return packaging.HostRepo{}, false
	}
	channel := o.Channel
	if channel == "" {
		channel = packaging.DefaultChannel
	}
	return h.HostRepo(packaging.RepoClient{URL: strings.TrimRight(o.URL, "/"), Channel: channel, Name: name}), true
}

// repoHostFormats lists the package managers --method repo can add a
// repository to, for an error message.
func repoHostFormats() string {
	var out []string
	for _, f := range formats.All() {
		if h, ok := f.(packaging.RepoHost); ok {
			out = append(out, h.HostRepo(packaging.RepoClient{}).Manager)
		}
	}
	return strings.Join(out, ", ")
}

// repoSteps are the steps that install the release's package from its
// repository on this host.
func repoSteps(f detector.Facts, name, pkg string, o RepoOptions) (*RepoStep, error) {
	if err := CheckRepoOptions(o); err != nil {
		return nil, err
	}
	hr, ok := hostRepo(f.PackageFormat, name, o)
	if !ok {
		return nil, fmt.Errorf("%w: --method repo adds repositories for %s, not for this host's %s (%s); use --method package",
			ErrUnsupported, repoHostFormats(), f.PackageManager, f.PackageFormat)
	}
	if hr.Manager != f.PackageManager {
		return nil, fmt.Errorf("%w: --method repo installs with %s, but this host's package manager is %s; use --method package", ErrUnsupported, hr.Manager, f.PackageManager)
	}
	cmd := func(c packaging.Command) *Command {
		argv := fill(c.Argv, "", pkg)
		for i, a := range argv {
			argv[i] = strings.ReplaceAll(a, packaging.ScratchArg, ScratchToken)
		}
		return &Command{Argv: argv, Env: c.Env}
	}
	return &RepoStep{Manager: hr.Manager, Keyring: hr.Keyring, Source: hr.Source, SourceBody: string(hr.SourceBody),
		Check: cmd(hr.Check), Refresh: cmd(hr.Refresh), Install: cmd(hr.Install), Version: cmd(hr.Version)}, nil
}

// repoRemoveStep deletes what a --method repo install added, where the
// record says the release came from the repository.
func repoRemoveStep(format, name string) (Step, bool) {
	hr, ok := hostRepo(format, name, RepoOptions{})
	if !ok {
		return Step{}, false
	}
	return Step{Kind: StepRepoRemove, Repo: &RepoStep{Manager: hr.Manager, Keyring: hr.Keyring, Source: hr.Source},
		Desc: fmt.Sprintf("delete the repository's source file %s and key %s", hr.Source, hr.Keyring)}, true
}

// repoInstall carries out a StepRepoInstall: the release's OpenPGP key,
// checked against the signed manifest, as the repository's keyring; the
// source file; the package manager's check of the repository (which
// changes nothing on the host); its refresh and install. When any of it
// fails the keyring and source file are put back as they were.
func (e *Executor) repoInstall(ctx context.Context, p *Plan, s Step) (err error) {
	r := s.Repo
	if e.Source == nil {
		return errors.New("no source to fetch the release's OpenPGP key from")
	}
	var armored bytes.Buffer
	if _, err := e.Source.Fetch(ctx, manifest.PGPPub, manifest.MaxKey, &armored); err != nil {
		return fmt.Errorf("fetch %s: %w", manifest.PGPPub, err)
	}
	keyring, err := signing.Dearmor(armored.Bytes())
	if err != nil {
		return fmt.Errorf("%s: %w", manifest.PGPPub, err)
	}
	fp, err := signing.PGPPublicFingerprint(keyring)
	if err != nil {
		return fmt.Errorf("%s: %w", manifest.PGPPub, err)
	}
	if p.Keys == nil || !strings.EqualFold(fp, p.Keys.OpenPGP) {
		want := ""
		if p.Keys != nil {
			want = p.Keys.OpenPGP
		}
		return fmt.Errorf("%s is not the OpenPGP key the signed manifest names (fingerprint %s, manifest %q); nothing was installed", manifest.PGPPub, fp, want)
	}

	// What the host has now, to put back.
	prev := map[string][]byte{}
	for _, f := range []string{r.Keyring, r.Source} {
		data, err := e.h.ReadFile(f)
		switch {
		case err == nil:
			prev[f] = data
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	restore := func() {
		for _, f := range []string{r.Keyring, r.Source} {
			if data, ok := prev[f]; ok {
				if werr := e.h.WriteAtomic(f, data, 0o644, -1, -1); werr != nil {
					e.say("warning: could not restore %s: %v", e.h.Host(f), werr)
				}
			} else if rerr := e.h.Remove(f); rerr == nil {
				e.say("removed %s again", e.h.Host(f))
			} else if !errors.Is(rerr, fs.ErrNotExist) {
				e.say("warning: could not delete %s: %v", e.h.Host(f), rerr)
			}
		}
	}
	defer func() {
		if err != nil {
			restore()
		}
	}()
	for _, f := range []struct {
		path string
		data []byte
	}{{r.Keyring, keyring}, {r.Source, []byte(r.SourceBody)}} {
		if old, ok := prev[f.path]; ok && bytes.Equal(old, f.data) {
			continue
		}
		if err := e.h.MkdirAll(path.Dir(f.path), 0o755); err != nil {
			return err
		}
		// 0644: the package manager reads them unprivileged.
		if err := e.h.WriteAtomic(f.path, f.data, 0o644, -1, -1); err != nil {
			return fmt.Errorf("write %s: %w", e.h.Host(f.path), err)
		}
		e.say("wrote %s", e.h.Host(f.path))
	}

	if err := e.h.MkdirAll(e.expand(p, ScratchToken)+"/partial", 0o700); err != nil {
		return err
	}
	for _, c := range []*Command{r.Check, r.Refresh} {
		cmd := e.expandCmd(p, *c)
		e.say("running: %s", cmd)
		if err := e.Runner.Run(ctx, cmd, e.Log, e.Log); err != nil {
			return fmt.Errorf("%s refused the repository in %s, or could not reach it (see its output above): its metadata must verify with the release's OpenPGP key %s; nothing was installed, and the host's repository files are as they were",
				r.Manager, e.h.Host(r.Source), fp)
		}
	}
	cmd := e.expandCmd(p, *r.Install)
	e.say("running: %s", cmd)
	if err := e.Runner.Run(ctx, cmd, e.Log, e.Log); err != nil {
		return fmt.Errorf("%s could not %s %s from the repository (see its output above); the repository files this run added were removed again", r.Manager, p.Action, p.Name)
	}
	var version bytes.Buffer
	if err := e.Runner.Run(ctx, e.expandCmd(p, *r.Version), &version, io.Discard); err != nil {
		return fmt.Errorf("%s installed %s, but its version cannot be read: %w", r.Manager, p.Name, err)
	}
	e.repoVersion = strings.TrimSpace(version.String())
	if e.repoVersion == "" || strings.ContainsAny(e.repoVersion, " \n") {
		return fmt.Errorf("%s installed %s, but its version %q cannot be read", r.Manager, p.Name, e.repoVersion)
	}
	e.say("%s %s is installed from the repository; later versions arrive with the host's %s upgrades", p.Name, e.repoVersion, r.Manager)
	return nil
}

// repoRemove deletes the repository's source file, then its key.
func (e *Executor) repoRemove(s Step) error {
	for _, f := range []string{s.Repo.Source, s.Repo.Keyring} {
		err := e.h.Remove(f)
		switch {
		case err == nil:
			e.say("deleted %s", e.h.Host(f))
		case !errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("delete %s: %w", e.h.Host(f), err)
		}
	}
	return nil
}
