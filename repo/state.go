package repo

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"

	"github.com/omnipack/omnipack/internal/atomicfile"
	"github.com/omnipack/omnipack/packaging"
)

// StateFile records what the repository publishes, inside StateDir.
const StateFile = "state.json"

// stateSchema changes when a field changes meaning.
const stateSchema = 1

// state is the repository's record of itself: every published package,
// the index files of the last two publishes per format and channel, and
// files waiting to be removed once no index names them.
type state struct {
	Schema int    `json:"schema"`
	Name   string `json:"name"`
	URL    string `json:"url,omitempty"`
	// Owner names the apk key (signing.APKKeyName), so that a refresh
	// loads the keys under the name the indexes carry.
	Owner    string  `json:"owner"`
	Packages []entry `json:"packages"`
	// Indexes holds, by FORMAT/CHANNEL, the files the last publish wrote
	// and the one before: a client may still be reading the older ones
	// (apt's by-hash files), so they go only one publish later.
	Indexes map[string]generations `json:"indexes,omitempty"`
	Pending []string               `json:"pending,omitempty"`
	// PGP records the repository's OpenPGP keys through a rotation.
	PGP *pgpKeys `json:"pgp,omitempty"`
}

// pgpKeys are the OpenPGP keys a repository's clients are told to trust:
// the one that signs, the one announced to sign next (--next-key), and
// the ones that signed before the last switch, until they are retired.
type pgpKeys struct {
	Signing  publicKey   `json:"signing"`
	Next     *publicKey  `json:"next,omitempty"`
	Previous []publicKey `json:"previous,omitempty"`
}

// publicKey is an OpenPGP public key, binary (as in keys/NAME.gpg) in
// base64.
type publicKey struct {
	Fingerprint string `json:"fingerprint"`
	Key         []byte `json:"key"`
}

type generations struct {
	Current  []string `json:"current"`
	Previous []string `json:"previous,omitempty"`
}

// entry is one published package.
type entry struct {
	Format  string                `json:"format"`
	Channel string                `json:"channel"`
	Package packaging.RepoPackage `json:"package"`
	Sig     string                `json:"sig,omitempty"` // its detached signature, beside it
	// ReleaseVersion is the signed release it came from: Keep removes
	// the lowest first.
	ReleaseVersion int64 `json:"release_version"`
}

func (e entry) files() []string {
	if e.Sig != "" {
		return []string{e.Package.Path, e.Sig}
	}
	return []string{e.Package.Path}
}

func statePath(root string) string { return filepath.Join(root, StateDir, StateFile) }

// readState reads the state, or returns an empty one for a new repository.
func readState(root string) (*state, error) {
	p := statePath(root)
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return &state{Schema: stateSchema}, nil
	}
	if err != nil {
		return nil, err
	}
	var st state
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return nil, fmt.Errorf("%s: %v (it records what the repository publishes; restore it from a backup)", p, err)
	}
	if st.Schema != stateSchema {
		return nil, fmt.Errorf("%s: schema %d is not one this omnipack reads (want %d); use a matching omnipack", p, st.Schema, stateSchema)
	}
	for _, e := range st.Packages {
		for _, f := range e.files() {
			if err := checkRelPath(f); err != nil {
				return nil, fmt.Errorf("%s: package %s: %v", p, e.Package.Name, err)
			}
		}
	}
	return &st, nil
}

func (st *state) write(root string) error {
	st.sort()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(repoFS, atomicfile.Options{},
		atomicfile.File{Path: statePath(root), Data: append(data, '\n'), Mode: 0o644})
}

func (st *state) sort() {
	sort.Slice(st.Packages, func(i, j int) bool {
		a, b := st.Packages[i], st.Packages[j]
		if a.Format != b.Format {
			return a.Format < b.Format
		}
		if a.Channel != b.Channel {
			return a.Channel < b.Channel
		}
		return a.Package.Path < b.Package.Path
	})
	slices.Sort(st.Pending)
	st.Pending = slices.Compact(st.Pending)
}

// add records e unless its pool path is published already, and says
// whether it did.
func (st *state) add(e entry) bool {
	for _, have := range st.Packages {
		if have.Format == e.Format && have.Package.Path == e.Package.Path {
			return false
		}
	}
	st.Packages = append(st.Packages, e)
	return true
}

// prune keeps the keep most recently released versions of every package
// of channel (per format, name and architecture) and returns the others,
// which it forgets. keep 0 keeps all.
func (st *state) prune(keep int, channel string) []entry {
	if keep == 0 {
		return nil
	}
	type group struct{ format, name, arch string }
	byGroup := map[group][]int{}
	for i, e := range st.Packages {
		if e.Channel == channel {
			g := group{e.Format, e.Package.Name, e.Package.Arch}
			byGroup[g] = append(byGroup[g], i)
		}
	}
	drop := map[int]bool{}
	for _, idx := range byGroup {
		sort.Slice(idx, func(a, b int) bool {
			ea, eb := st.Packages[idx[a]], st.Packages[idx[b]]
			if ea.ReleaseVersion != eb.ReleaseVersion {
				return ea.ReleaseVersion > eb.ReleaseVersion
			}
			return ea.Package.Path > eb.Package.Path
		})
		for _, i := range idx[min(keep, len(idx)):] {
			drop[i] = true
		}
	}
	var kept, pruned []entry
	for i, e := range st.Packages {
		if drop[i] {
			pruned = append(pruned, e)
		} else {
			kept = append(kept, e)
		}
	}
	st.Packages = kept
	return pruned
}

// packages lists the packages of one format in one channel, by path.
func (st *state) packages(format, channel string) []packaging.RepoPackage {
	var out []packaging.RepoPackage
	for _, e := range st.Packages {
		if e.Format == format && e.Channel == channel {
			out = append(out, e.Package)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// channels lists every channel with a package, sorted.
func (st *state) channels() []string {
	var out []string
	for _, e := range st.Packages {
		if !slices.Contains(out, e.Channel) {
			out = append(out, e.Channel)
		}
	}
	slices.Sort(out)
	return out
}

// rotate records the files just written for key and returns the files of
// the generation before the last that neither of the two newer ones has.
func (st *state) rotate(key string, written []packaging.RepoFile) []string {
	if st.Indexes == nil {
		st.Indexes = map[string]generations{}
	}
	now := make([]string, len(written))
	for i, f := range written {
		now[i] = f.Path
	}
	slices.Sort(now)
	g := st.Indexes[key]
	var stale []string
	for _, f := range g.Previous {
		if !slices.Contains(now, f) && !slices.Contains(g.Current, f) {
			stale = append(stale, f)
		}
	}
	st.Indexes[key] = generations{Current: now, Previous: g.Current}
	return stale
}

// names reports whether a package or the newest two index generations
// hold the path.
func (st *state) names(rel string) bool {
	for _, e := range st.Packages {
		if slices.Contains(e.files(), rel) {
			return true
		}
	}
	for _, g := range st.Indexes {
		if slices.Contains(g.Current, rel) || slices.Contains(g.Previous, rel) {
			return true
		}
	}
	return false
}
