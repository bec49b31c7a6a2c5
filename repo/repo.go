// Package repo is the repository stage: omnipack publish adds a verified,
// signed release to a static package repository tree that any web server
// or object store can serve, and omnipack serve serves one for trying it.
//
// The tree holds every format that has the repository stage
// (formats.With(packaging.StageRepo)): each format's Indexer says where its
// packages lie (PoolPath) and writes its index. Publish copies the
// release's packages into their pool paths, keeps the earlier versions
// (up to Keep per package), and rewrites each index, the file clients
// fetch first last, so that a publish that fails or is killed leaves the
// previous repository valid for every client. What is published is
// recorded in .omnipack/state.json inside the tree, beside the lock that
// keeps two publishes from interleaving.
//
// Call Publish with Repo, Dist and KeyDir set (and Password), or with
// Refresh to re-sign the indexes with a fresh expiry; the zero value of
// every other field is a sensible default.
package repo

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"

	"github.com/omnipack/omnipack/internal/atomicfile"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify"
)

// Defaults.
const (
	DefaultChannel  = packaging.DefaultChannel
	DefaultValidFor = 7 * 24 * time.Hour
)

// Options controls one publish.
type Options struct {
	// Repo is the repository tree, created if it does not exist.
	Repo string
	// Dist is the release directory to add (omnipack build's dist/);
	// unused with Refresh.
	Dist string
	// KeyDir is the key directory omnipack keygen wrote. Its keys sign
	// the repository's metadata, and its release.pub is the key the
	// release must verify with.
	KeyDir   string
	Password []byte
	// Channel is the apt suite, and the path elsewhere, the release goes
	// to: DefaultChannel when empty. With Refresh, empty means every
	// channel the repository has.
	Channel string
	// Name is the repository's name: apt's Origin, the names of its key
	// and setup files. Empty keeps the name the repository has, or for a
	// new one takes the owner of the release's keys (the vendor).
	Name string
	// URL is where clients reach the repository, for the setup snippets.
	// Empty keeps the one the repository has; a repository without one
	// gets no snippets.
	URL string
	// Keep is how many versions of each package (per format, channel and
	// architecture) stay published; the oldest published go first. 0
	// keeps every version.
	Keep int
	// ValidFor is how long clients trust the metadata (apt's
	// Valid-Until): DefaultValidFor when zero.
	ValidFor time.Duration
	// Refresh re-signs the indexes with a fresh expiry and publishes no
	// release.
	Refresh bool
	// NextKeyDir is a second omnipack keygen directory whose OpenPGP key
	// is announced to sign next: from this publish on, the published
	// keyrings carry it beside the current key (it is recorded in the
	// repository's state), and apt's InRelease and Release.gpg carry its
	// signature too whenever NextKeyDir is given. Publishing later with
	// KeyDir set to this directory switches the repository to it.
	NextKeyDir string
	// RetireKeys drops the keys that signed before the last switch from
	// the published keyrings.
	RetireKeys bool
	// Now is the time the metadata is dated; nil means time.Now.
	Now func() time.Time
}

// Result says what a publish did.
type Result struct {
	Name     string   `json:"name"`
	Channels []string `json:"channels"`
	Added    []string `json:"added"`   // pool paths published by this run
	Pruned   []string `json:"pruned"`  // pool paths removed by Keep
	Indexed  int      `json:"indexed"` // packages the written indexes list, all channels
	// Keys are the OpenPGP fingerprints the published keyrings carry, the
	// signing key first; Switched says this run made the announced key
	// the signing key.
	Keys       []string  `json:"keys"`
	Switched   bool      `json:"switched,omitempty"`
	ValidUntil time.Time `json:"valid_until"` // of every index written
}

// StateDir holds the repository's own files, which Serve does not serve.
const StateDir = ".omnipack"

// nameRe is a repository name: a file name and an apt Origin.
var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$`)

// Publish adds the release at opts.Dist to the repository at opts.Repo, or
// with opts.Refresh re-signs its indexes. Nothing is added unless the
// release verifies as omnipack verify checks it.
func Publish(ctx context.Context, opts Options) (*Result, error) {
	if err := checkOptions(&opts); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(opts.Repo, StateDir), 0o755); err != nil {
		return nil, fmt.Errorf("repository %s: %w", opts.Repo, err)
	}
	unlock, err := lock(opts.Repo)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := sweepTemps(opts.Repo); err != nil {
		return nil, err
	}
	st, err := readState(opts.Repo)
	if err != nil {
		return nil, err
	}
	p := &publisher{opts: opts, st: st, now: opts.Now().UTC().Truncate(time.Second)}
	if opts.Refresh {
		return p.refresh()
	}
	return p.publish(ctx)
}

func checkOptions(o *Options) error {
	if o.Repo == "" {
		return errors.New("no repository directory (pass --repo DIR)")
	}
	if o.KeyDir == "" {
		return errors.New("no key directory: the repository is signed with the release's keys (pass --keys DIR)")
	}
	if !o.Refresh && o.Dist == "" {
		return errors.New("no release directory (pass --dist DIR)")
	}
	if o.Channel == "" && !o.Refresh {
		o.Channel = DefaultChannel
	}
	if o.Channel != "" {
		if err := packaging.CheckChannel(o.Channel); err != nil {
			return err
		}
	}
	if o.Name != "" && !nameRe.MatchString(o.Name) {
		return fmt.Errorf("repository name %q: use A-Z a-z 0-9 . _ + - (starting with a letter or digit)", o.Name)
	}
	if o.URL != "" && !strings.HasPrefix(o.URL, "https://") && !strings.HasPrefix(o.URL, "http://") {
		return fmt.Errorf("repository URL %q: give the http(s) URL clients reach the repository at", o.URL)
	}
	o.URL = strings.TrimRight(o.URL, "/")
	if o.Keep < 0 {
		return fmt.Errorf("--keep %d: give how many versions to keep (0 keeps all)", o.Keep)
	}
	if o.ValidFor == 0 {
		o.ValidFor = DefaultValidFor
	}
	if o.ValidFor < 0 {
		return fmt.Errorf("--valid-for %s: give how long clients may trust the metadata, e.g. 168h", o.ValidFor)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// publisher carries one run's state.
type publisher struct {
	opts Options
	st   *state
	now  time.Time
	keys *pipeline.Keys
	// next is the announced next OpenPGP key, when NextKeyDir gives it.
	next *openpgp.Entity
	res  Result
}

func (p *publisher) publish(ctx context.Context) (*Result, error) {
	rel, err := p.verified(ctx)
	if err != nil {
		return nil, err
	}
	if p.keys, err = p.loadKeys(ownerOf(rel.Keys.APKKeyName)); err != nil {
		return nil, err
	}
	if err := p.addRelease(rel); err != nil {
		return nil, err
	}
	pruned := p.st.prune(p.opts.Keep, p.opts.Channel)
	return p.finish([]string{p.opts.Channel}, pruned)
}

func (p *publisher) refresh() (*Result, error) {
	channels := p.st.channels()
	if len(channels) == 0 {
		return nil, fmt.Errorf("repository %s has nothing published to refresh (publish a release first)", p.opts.Repo)
	}
	if c := p.opts.Channel; c != "" {
		if !slices.Contains(channels, c) {
			return nil, fmt.Errorf("repository %s has no channel %q (it has %s)", p.opts.Repo, c, strings.Join(channels, ", "))
		}
		channels = []string{c}
	}
	var err error
	if p.keys, err = p.loadKeys(p.st.Owner); err != nil {
		return nil, err
	}
	return p.finish(channels, nil)
}

// verified verifies the release with the key directory's release key and
// returns its manifest.
func (p *publisher) verified(ctx context.Context) (*manifest.Release, error) {
	return verifiedRelease(ctx, p.opts.Dist, p.opts.KeyDir, p.opts.Now)
}

// verifiedRelease verifies the release at dist with keyDir's release key,
// as omnipack verify does, and returns its manifest.
func verifiedRelease(ctx context.Context, dist, keyDir string, now func() time.Time) (*manifest.Release, error) {
	rep, err := verify.Release(ctx, dist, verify.Options{
		PublicKey: filepath.Join(keyDir, signing.ReleasePubFile),
		Now:       now,
	})
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", dist, err)
	}
	if err := rep.Err(); err != nil {
		hint := "nothing was published"
		if f := rep.FirstFailure(); f != nil && f.Name == verify.CheckExpiry {
			hint += "; run omnipack resign on it first"
		}
		return nil, fmt.Errorf("release %s: %w; %s", dist, err, hint)
	}
	rel, err := manifest.Read(filepath.Join(dist, manifest.FileName))
	if err != nil {
		return nil, err
	}
	// The copies are checked against this manifest; it must be the one
	// that verified.
	if rel.ReleaseVersion != rep.ReleaseVersion || rel.Name != rep.Name || rel.Version != rep.Version || rel.Keys == nil {
		return nil, fmt.Errorf("%s changed while it was verified; nothing was published", filepath.Join(dist, manifest.FileName))
	}
	return rel, nil
}

// ownerOf is the owner an apk key name was made from (signing.APKKeyName:
// OWNER-FINGERPRINT8), which LoadKeys needs to name the key the same way.
func ownerOf(apkKeyName string) string {
	if i := strings.LastIndex(apkKeyName, "-"); i > 0 {
		return apkKeyName[:i]
	}
	return apkKeyName
}

func (p *publisher) loadKeys(owner string) (*pipeline.Keys, error) {
	k, err := pipeline.LoadKeys(p.opts.KeyDir, owner, p.opts.Password)
	if err != nil {
		return nil, err
	}
	p.st.Owner = owner
	return k, nil
}

// addRelease copies every package of a format with a repository into its
// pool path and records it.
func (p *publisher) addRelease(rel *manifest.Release) error {
	for _, a := range rel.Artifacts {
		f, ok := formats.Lookup(a.Format)
		if !ok || !formats.Has(f, packaging.StageRepo) {
			continue
		}
		pkg := packaging.RepoPackage{
			Name: a.Package, Program: rel.Name, Version: a.Version, Arch: a.Arch, Size: a.Size, SHA256: a.SHA256,
		}
		if pkg.Name == "" {
			pkg.Name = formats.PackageName(a.Format, rel.Name)
		}
		pkg.Path = f.(packaging.Indexer).PoolPath(p.opts.Channel, pkg)
		if err := checkRelPath(pkg.Path); err != nil {
			return fmt.Errorf("%s pool path for %s: %w", a.Format, a.Name, err)
		}
		e := entry{Format: a.Format, Channel: p.opts.Channel, Package: pkg, ReleaseVersion: rel.ReleaseVersion}
		if err := p.copyIn(a.Name, pkg.Path, a.Size, a.SHA256); err != nil {
			return err
		}
		if sc, ok := f.(packaging.SignatureChecker); ok && sc.Detached() {
			sig, ok := artifact(rel, a.Name+".sig")
			if !ok {
				return fmt.Errorf("release.json lists no detached signature %s.sig for %s", a.Name, a.Name)
			}
			e.Sig = pkg.Path + ".sig"
			if err := p.copyIn(sig.Name, e.Sig, sig.Size, sig.SHA256); err != nil {
				return err
			}
		}
		if p.st.add(e) {
			p.res.Added = append(p.res.Added, pkg.Path)
		}
	}
	return nil
}

func artifact(rel *manifest.Release, name string) (manifest.Artifact, bool) {
	for _, a := range rel.Artifacts {
		if a.Name == name {
			return a, true
		}
	}
	return manifest.Artifact{}, false
}

// checkRelPath refuses a pool path that would leave the tree.
func checkRelPath(p string) error {
	if p == "" || path.IsAbs(p) || path.Clean(p) != p || p == ".." || strings.HasPrefix(p, "../") || strings.HasPrefix(p, StateDir+"/") {
		return fmt.Errorf("%q is not a clean path inside the repository", p)
	}
	return nil
}

// copyIn copies a release file into the pool, beside its place first and
// renamed last, checking its digest against the signed manifest. A file
// already there must be the same: a published package never changes, as
// clients cache it by name.
func (p *publisher) copyIn(name, rel string, size int64, sha string) error {
	dst := filepath.Join(p.opts.Repo, filepath.FromSlash(rel))
	if gotSize, gotSum, err := manifest.Digest(dst); err == nil {
		if gotSize == size && gotSum == sha {
			return nil
		}
		return fmt.Errorf("%s is already published with other content (sha256 %s, the release has %s); "+
			"a published package never changes: raise the version or the release number and build again", rel, gotSum, sha)
	}
	src, err := os.Open(filepath.Join(p.opts.Dist, name))
	if err != nil {
		return err
	}
	defer src.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	// Streamed, and checked before the rename: a file that changed after
	// it was verified never takes its place.
	from := &digestReader{r: io.LimitReader(src, size+1), h: sha256.New(), name: name, size: size, sha: sha}
	return atomicfile.Write(repoFS, atomicfile.Options{}, atomicfile.File{Path: dst, From: from, Mode: 0o644})
}

// digestReader reads r and, at its end, fails unless what it read has the
// signed size and sha256.
type digestReader struct {
	r         io.Reader
	h         hash.Hash
	n         int64
	name, sha string
	size      int64
}

func (d *digestReader) Read(b []byte) (int, error) {
	n, err := d.r.Read(b)
	d.h.Write(b[:n])
	d.n += int64(n)
	if err == io.EOF {
		if sum := hex.EncodeToString(d.h.Sum(nil)); d.n != d.size || sum != d.sha {
			return n, fmt.Errorf("%s changed after it was verified (%d bytes, sha256 %s; release.json says %d bytes, %s); nothing was published",
				d.name, d.n, sum, d.size, d.sha)
		}
	}
	return n, err
}

// finish writes the state, then every index, key and setup file of the
// channels, then removes what the indexes no longer name.
func (p *publisher) finish(channels []string, pruned []entry) (*Result, error) {
	if p.opts.Name != "" {
		p.st.Name = p.opts.Name
	}
	if p.st.Name == "" {
		p.st.Name = p.st.Owner
	}
	if !nameRe.MatchString(p.st.Name) {
		return nil, fmt.Errorf("repository name %q: pass --name NAME", p.st.Name)
	}
	if p.opts.URL != "" {
		p.st.URL = p.opts.URL
	}
	if err := p.rotateKeys(); err != nil {
		return nil, err
	}
	validUntil := p.now.Add(p.opts.ValidFor)
	sets, err := p.indexes(channels, validUntil)
	if err != nil {
		return nil, err
	}
	files, err := p.clientFiles(channels)
	if err != nil {
		return nil, err
	}
	for _, e := range pruned {
		p.st.Pending = append(p.st.Pending, e.files()...)
		p.res.Pruned = append(p.res.Pruned, e.Package.Path)
	}
	// The state first: killed after it, the next publish rewrites the
	// indexes it names; the pruned files stay until then.
	if err := p.st.write(p.opts.Repo); err != nil {
		return nil, err
	}
	if err := p.write(files); err != nil {
		return nil, err
	}
	for _, s := range sets {
		if err := p.writeSet(s); err != nil {
			return nil, err
		}
		for _, stale := range p.st.rotate(s.key, s.files) {
			// A switched directory's old generations go as a whole.
			if s.switcher == nil || s.switcher.SwitchDir(stale) == "" {
				p.st.Pending = append(p.st.Pending, stale)
			}
		}
	}
	p.removePending()
	if err := p.st.write(p.opts.Repo); err != nil {
		return nil, err
	}
	p.res.Name, p.res.Channels, p.res.ValidUntil = p.st.Name, channels, validUntil
	return &p.res, nil
}

// indexSet is one format's index of one channel.
type indexSet struct {
	key      string // FORMAT/CHANNEL
	files    []packaging.RepoFile
	switcher packaging.RepoSwitcher // nil: every file is replaced on its own
}

// indexes asks every format with a repository for each channel's index.
func (p *publisher) indexes(channels []string, validUntil time.Time) ([]indexSet, error) {
	sign := p.signer()
	var sets []indexSet
	for _, f := range formats.With(packaging.StageRepo) {
		for _, c := range channels {
			pkgs := p.st.packages(f.Name(), c)
			if len(pkgs) == 0 {
				continue
			}
			files, err := f.(packaging.Indexer).Index(packaging.RepoIndex{
				Root: p.opts.Repo, Channel: c, Name: p.st.Name, Packages: pkgs,
				Date: p.now, ValidUntil: validUntil, Sign: sign,
			})
			if err != nil {
				return nil, fmt.Errorf("%s index of channel %s: %w", f.Name(), c, err)
			}
			for _, rf := range files {
				err := checkRelPath(rf.Path)
				if err == nil && rf.Link != "" {
					err = checkRelPath(rf.Link)
				}
				if err != nil {
					return nil, fmt.Errorf("%s index of channel %s: %w", f.Name(), c, err)
				}
			}
			sw, _ := f.(packaging.RepoSwitcher)
			sets = append(sets, indexSet{key: f.Name() + "/" + c, files: files, switcher: sw})
			p.res.Indexed += len(pkgs)
		}
	}
	return sets, nil
}

// write puts files in place in their order, each whole or not at all.
func (p *publisher) write(files []packaging.RepoFile) error {
	set := make([]atomicfile.File, 0, len(files))
	for _, f := range files {
		dst := filepath.Join(p.opts.Repo, filepath.FromSlash(f.Path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		set = append(set, atomicfile.File{Path: dst, Data: f.Body, Mode: 0o644, ModTime: laterModTime(dst, time.Now())})
	}
	return atomicfile.Write(repoFS, atomicfile.Options{}, set...)
}

// laterModTime is the modification time for a file replacing the one at
// dst: now, but at least a whole second after the old file's. Web servers
// answer If-Modified-Since by the second, so an index replaced within the
// second a client last fetched it would be "not modified" to that client
// until the next publish.
func laterModTime(dst string, now time.Time) time.Time {
	now = now.Truncate(time.Second)
	if st, err := os.Stat(dst); err == nil {
		if next := st.ModTime().Truncate(time.Second).Add(time.Second); next.After(now) {
			return next
		}
	}
	return now
}

// removePending deletes the files no index names any more; what cannot be
// deleted now stays pending for the next publish.
func (p *publisher) removePending() {
	var left []string
	for _, rel := range p.st.Pending {
		if p.st.names(rel) {
			continue // published again since
		}
		err := os.Remove(filepath.Join(p.opts.Repo, filepath.FromSlash(rel)))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			left = append(left, rel)
		}
	}
	p.st.Pending = left
}
