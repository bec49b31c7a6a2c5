package repo

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/omnipack/omnipack/internal/atomicfile"
	"github.com/omnipack/omnipack/packaging"
)

// writeSet puts one format's index of one channel in place: the files
// replaced on their own first, in their order, then each directory that
// switches as a whole (packaging.RepoSwitcher), in the order of its first
// file.
func (p *publisher) writeSet(s indexSet) error {
	var single []packaging.RepoFile
	var dirs []string
	byDir := map[string][]packaging.RepoFile{}
	for _, f := range s.files {
		d := ""
		if s.switcher != nil {
			d = s.switcher.SwitchDir(f.Path)
		}
		if d == "" {
			if f.Link != "" {
				return fmt.Errorf("%s index: %s is a link outside a directory that switches as a whole", s.key, f.Path)
			}
			single = append(single, f)
			continue
		}
		if _, ok := byDir[d]; !ok {
			dirs = append(dirs, d)
		}
		byDir[d] = append(byDir[d], f)
	}
	if err := p.write(single); err != nil {
		return err
	}
	for _, d := range dirs {
		if err := p.switchDir(s.key, d, byDir[d]); err != nil {
			return fmt.Errorf("%s index: %w", s.key, err)
		}
	}
	return nil
}

// genSuffix is the generation part of a switched directory's real name:
// .BASE.GEN beside BASE, the link clients fetch through.
var genSuffix = regexp.MustCompile(`^\.[0-9a-f]{16}$`)

// switchDir writes files, all under the repository directory dir, into a
// new generation directory beside dir and then makes dir a symbolic link
// to it with one rename. The new generation also keeps the files of the
// one before (recorded for key) that it no longer names, so a client that
// fetched the old entry point just before the switch still finds what it
// names; generations older than the one replaced are removed.
func (p *publisher) switchDir(key, dir string, files []packaging.RepoFile) error {
	if err := checkRelPath(dir); err != nil {
		return err
	}
	link := filepath.Join(p.opts.Repo, filepath.FromSlash(dir))
	parent, base := filepath.Split(link)
	old, err := os.Readlink(link)
	switch {
	case errors.Is(err, os.ErrNotExist):
		old = ""
	case err != nil:
		if st, serr := os.Lstat(link); serr == nil && st.IsDir() {
			return fmt.Errorf("%s is a directory, not the symbolic link omnipack publish switches: the repository was written by an older omnipack (publish into a new directory)", link)
		}
		return err
	}
	gen := "." + base + "." + digestOf(files)
	if gen == old {
		return nil // this very index is what clients see already
	}
	genDir := filepath.Join(parent, gen)
	// A generation of this name that is not linked is one a killed
	// publish left, perhaps half written.
	if err := os.RemoveAll(genDir); err != nil {
		return err
	}
	if err := os.Mkdir(genDir, 0o755); err != nil {
		return err
	}
	now := time.Now()
	names := map[string]bool{}
	var regular []atomicfile.File
	for _, f := range files {
		rel, ok := strings.CutPrefix(f.Path, dir+"/")
		if !ok || checkRelPath(rel) != nil {
			return fmt.Errorf("index file %s is not inside %s, the directory it switches with", f.Path, dir)
		}
		names[rel] = true
		dst := filepath.Join(genDir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if f.Link != "" {
			// Relative, so that the tree can move.
			target, err := filepath.Rel(filepath.Dir(dst), filepath.Join(p.opts.Repo, filepath.FromSlash(f.Link)))
			if err != nil {
				return err
			}
			if err := os.Symlink(target, dst); err != nil {
				return err
			}
			continue
		}
		regular = append(regular, atomicfile.File{Path: dst, Data: f.Body, Mode: 0o644,
			ModTime: laterModTime(filepath.Join(link, filepath.FromSlash(rel)), now)})
	}
	// Not through repoFS: nothing in genDir is visible before the switch.
	if err := atomicfile.Write(atomicfile.OS{}, atomicfile.Options{}, regular...); err != nil {
		return err
	}
	if old != "" {
		if err := p.carryOver(key, dir, link, genDir, names); err != nil {
			return err
		}
	}
	if err := atomicfile.SyncDir(genDir); err != nil {
		return err
	}
	if err := atomicfile.Symlink(repoFS, gen, link); err != nil {
		return err
	}
	return removeGenerations(parent, base, gen, old)
}

// carryOver links into genDir the files of dir's current generation that
// the last publish recorded for key and the new one does not name.
func (p *publisher) carryOver(key, dir, link, genDir string, names map[string]bool) error {
	for _, prev := range p.st.Indexes[key].Current {
		rel, ok := strings.CutPrefix(prev, dir+"/")
		if !ok || names[rel] || checkRelPath(rel) != nil {
			continue
		}
		src := filepath.Join(link, filepath.FromSlash(rel))
		// A link to a package is not carried: the new index links every
		// package still published, and the others are about to go.
		if st, err := os.Lstat(src); err != nil || !st.Mode().IsRegular() {
			continue
		}
		dst := filepath.Join(genDir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.Link(src, dst); err != nil {
			return err
		}
	}
	return nil
}

// removeGenerations removes every generation of base in parent but keep
// and prev: a client may still be reading prev.
func removeGenerations(parent, base, keep, prev string) error {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return err
	}
	for _, e := range entries {
		n := e.Name()
		rest, ok := strings.CutPrefix(n, "."+base)
		if !ok || !genSuffix.MatchString(rest) || n == keep || n == prev {
			continue
		}
		if err := os.RemoveAll(filepath.Join(parent, n)); err != nil {
			return err
		}
	}
	return nil
}

// digestOf names a generation by its content.
func digestOf(files []packaging.RepoFile) string {
	h := sha256.New()
	for _, f := range files {
		fmt.Fprintf(h, "%s\x00%s\x00%d\x00", f.Path, f.Link, len(f.Body))
		h.Write(f.Body)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}
