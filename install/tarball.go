package install

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/omnipack/omnipack/layout"
)

// Bounds on a release tarball's content, against a decompression bomb.
const (
	maxTarEntries = 100000
	maxTarBytes   = 4 << 30
)

// staged is an unpacked tarball: the in-root paths of its files and
// directories.
type staged struct {
	files []string
	modes map[string]os.FileMode
	dirs  []string
}

// cleanEntry turns a tar entry name into an absolute in-root path, or
// fails for anything that is not a plain relative path below /.
func cleanEntry(name string) (string, error) {
	n := strings.TrimPrefix(name, "./")
	n = strings.TrimSuffix(n, "/")
	if n == "" || n == "." {
		return "", nil
	}
	if strings.HasPrefix(n, "/") || path.Clean(n) != n || n == ".." || strings.HasPrefix(n, "../") || strings.Contains(n, "/../") || strings.HasSuffix(n, "/..") {
		return "", fmt.Errorf("tarball entry %q is not a plain path below /", name)
	}
	for _, c := range n {
		if c < 0x20 || c == 0x7f || c == '\\' {
			return "", fmt.Errorf("tarball entry %q has a control character or backslash", name)
		}
	}
	for _, top := range []string{"proc", "sys", "dev", "run", "tmp"} {
		if n == top || strings.HasPrefix(n, top+"/") {
			return "", fmt.Errorf("tarball entry %q is below /%s", name, top)
		}
	}
	return "/" + n, nil
}

// stageTarball unpacks the tarball at tarPath into stageDir (a fresh,
// private directory), refusing links, devices, paths leading out and
// set-id bits, and checks that its file list (packaging.TarballFileList)
// names exactly its files.
func stageTarball(tarPath, stageDir, name string) (*staged, error) {
	f, err := os.Open(tarPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("tarball: %w", err)
	}
	root, err := os.OpenRoot(stageDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	tr := tar.NewReader(zr)
	st := &staged{modes: map[string]os.FileMode{}}
	seen := map[string]bool{}
	var total int64
	for n := 0; ; n++ {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("tarball: %w", err)
		}
		if n >= maxTarEntries {
			return nil, fmt.Errorf("tarball: more than %d entries", maxTarEntries)
		}
		p, err := cleanEntry(h.Name)
		if err != nil {
			return nil, err
		}
		if p == "" {
			continue
		}
		if seen[p] {
			return nil, fmt.Errorf("tarball: %s appears twice", p)
		}
		seen[p] = true
		rel := strings.TrimPrefix(p, "/")
		switch h.Typeflag {
		case tar.TypeDir:
			if err := root.MkdirAll(rel, 0o755); err != nil {
				return nil, fmt.Errorf("tarball: %s: %w", p, err)
			}
			st.dirs = append(st.dirs, p)
		case tar.TypeReg:
			total += h.Size
			if h.Size < 0 || total > maxTarBytes {
				return nil, fmt.Errorf("tarball: more than %d bytes unpacked", int64(maxTarBytes))
			}
			if err := root.MkdirAll(path.Dir(rel), 0o755); err != nil {
				return nil, fmt.Errorf("tarball: %s: %w", p, err)
			}
			mode := os.FileMode(h.Mode) & 0o777 // never set-id or sticky
			w, err := root.OpenFile(rel, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
			if err != nil {
				return nil, fmt.Errorf("tarball: %s: %w", p, err)
			}
			_, err = io.CopyN(w, tr, h.Size)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = root.Chmod(rel, mode)
			}
			if err != nil {
				return nil, fmt.Errorf("tarball: %s: %w", p, err)
			}
			st.files = append(st.files, p)
			st.modes[p] = mode
		default:
			return nil, fmt.Errorf("tarball entry %q is not a regular file or directory (type %q); refusing it", h.Name, h.Typeflag)
		}
	}
	list, err := root.ReadFile(strings.TrimPrefix(layout.TarballFileList(name), "/"))
	if err != nil {
		return nil, fmt.Errorf("tarball: no file list %s: %w; it is not a tarball of %s", layout.TarballFileList(name), err, name)
	}
	listed, err := parseFileList(list)
	if err != nil {
		return nil, err
	}
	have := append([]string(nil), st.files...)
	sort.Strings(have)
	if strings.Join(have, "\n") != strings.Join(listed, "\n") {
		return nil, fmt.Errorf("tarball: its file list %s does not name exactly its files", layout.TarballFileList(name))
	}
	sort.Strings(st.dirs)
	return st, nil
}

// parseFileList reads a tarball file list: absolute clean paths, one a
// line, returned sorted.
func parseFileList(data []byte) ([]string, error) {
	var out []string
	for _, l := range strings.Split(string(data), "\n") {
		if l == "" {
			continue
		}
		p, err := cleanEntry(strings.TrimPrefix(l, "/"))
		if err != nil || p == "" || p != l {
			return nil, fmt.Errorf("file list: %q is not an absolute clean path", l)
		}
		out = append(out, p)
	}
	sort.Strings(out)
	return out, nil
}

// isConfig is true for a file under the config directory, which survives
// upgrades and removal.
func isConfig(name, p string) bool {
	return strings.HasPrefix(p, layout.ConfigDir(name)+"/")
}

func owner() int {
	if os.Geteuid() == 0 {
		return 0
	}
	return -1
}

// installStaged copies a staged tarball into the root. A config file that
// exists already is kept, and the new one written beside it as FILE.new
// when it differs. Files the previous install's list named that this one
// does not are deleted (config files are kept). It returns what it says.
func installStaged(h *hostFS, stageDir, name string, st *staged) ([]string, error) {
	var notes []string
	oldData, err := h.ReadFile(layout.TarballFileList(name))
	var old []string
	if err == nil {
		if old, err = parseFileList(oldData); err != nil {
			return nil, fmt.Errorf("the installed %s: %w", layout.TarballFileList(name), err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, d := range st.dirs {
		if err := h.MkdirAll(d, 0o755); err != nil {
			return nil, err
		}
	}
	// The file list goes last: until it is written, the old list still
	// names what a failed upgrade left.
	files := append([]string(nil), st.files...)
	sort.SliceStable(files, func(i, j int) bool {
		return files[j] == layout.TarballFileList(name) && files[i] != files[j]
	})
	for _, p := range files {
		data, err := os.ReadFile(stageDir + p)
		if err != nil {
			return nil, err
		}
		if err := h.MkdirAll(path.Dir(p), 0o755); err != nil {
			return nil, err
		}
		dest := p
		if isConfig(name, p) {
			if cur, err := h.ReadFile(p); err == nil {
				if bytes.Equal(cur, data) {
					continue
				}
				dest = p + ".new"
				notes = append(notes, fmt.Sprintf("kept your %s; the release's version is in %s", p, dest))
			}
		}
		if err := h.WriteAtomic(dest, data, st.modes[p], owner(), owner()); err != nil {
			return nil, fmt.Errorf("install %s: %w", h.Host(dest), err)
		}
	}
	now := map[string]bool{}
	for _, p := range st.files {
		now[p] = true
	}
	for _, p := range old {
		if !now[p] && !isConfig(name, p) {
			if err := h.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
				notes = append(notes, fmt.Sprintf("could not delete %s, which this release no longer has: %v", h.Host(p), err))
			}
			pruneDirs(h, name, path.Dir(p))
		}
	}
	return notes, nil
}

// removeListed deletes the files of a tarball install's list, keeping
// config files unless purge, then the empty directories that are ours.
func removeListed(h *hostFS, name string, purge bool) ([]string, error) {
	data, err := h.ReadFile(layout.TarballFileList(name))
	if errors.Is(err, fs.ErrNotExist) {
		return []string{"no " + layout.TarballFileList(name) + ": no tarball files to delete"}, nil
	}
	if err != nil {
		return nil, err
	}
	list, err := parseFileList(data)
	if err != nil {
		return nil, err
	}
	var notes []string
	// The list itself last, so that a failed removal can be run again.
	sort.SliceStable(list, func(i, j int) bool {
		return list[j] == layout.TarballFileList(name) && list[i] != list[j]
	})
	for _, p := range list {
		if isConfig(name, p) && !purge {
			continue
		}
		if err := h.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			notes = append(notes, fmt.Sprintf("could not delete %s: %v", h.Host(p), err))
		}
		pruneDirs(h, name, path.Dir(p))
	}
	return notes, nil
}

// pruneDirs deletes dir and its parents while they are empty and named
// for the project (a path component equal to name), so /usr/lib/NAME/...
// goes and /usr/bin never does.
func pruneDirs(h *hostFS, name, dir string) {
	for dir != "/" && dir != "." && containsComponent(dir, name) {
		if err := h.Remove(dir); err != nil {
			return
		}
		dir = path.Dir(dir)
	}
}

func containsComponent(p, name string) bool {
	for _, c := range strings.Split(p, "/") {
		if c == name {
			return true
		}
	}
	return false
}
