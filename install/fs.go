package install

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/omnipack/omnipack/internal/atomicfile"
)

// hostFS is the file system the installer changes: / itself, or a root
// directory (--root), inside which every path is confined (os.Root: no
// ".." or symlink leads out). Paths are absolute as seen from inside.
type hostFS struct {
	dir string   // "/" or an absolute directory
	r   *os.Root // nil for "/"
}

func openHostFS(dir string) (*hostFS, error) {
	if dir == "" {
		dir = "/"
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if abs == "/" {
		return &hostFS{dir: "/"}, nil
	}
	r, err := os.OpenRoot(abs)
	if err != nil {
		return nil, fmt.Errorf("root %s: %w", dir, err)
	}
	return &hostFS{dir: abs, r: r}, nil
}

func (h *hostFS) Close() {
	if h.r != nil {
		h.r.Close()
	}
}

// rel turns an absolute in-root path into what os.Root takes.
func (h *hostFS) rel(p string) string {
	p = strings.TrimLeft(path.Clean("/"+p), "/")
	if p == "" {
		return "."
	}
	return p
}

// Host returns where the in-root path p is on this machine, for messages
// and for tools that run outside the root.
func (h *hostFS) Host(p string) string {
	if h.r == nil {
		return path.Clean(p)
	}
	return filepath.Join(h.dir, h.rel(p))
}

func (h *hostFS) OpenFile(p string, flag int, perm os.FileMode) (*os.File, error) {
	if h.r == nil {
		return os.OpenFile(p, flag, perm)
	}
	return h.r.OpenFile(h.rel(p), flag, perm)
}

func (h *hostFS) ReadFile(p string) ([]byte, error) {
	if h.r == nil {
		return os.ReadFile(p)
	}
	return h.r.ReadFile(h.rel(p))
}

func (h *hostFS) Stat(p string) (os.FileInfo, error) {
	if h.r == nil {
		return os.Stat(p)
	}
	return h.r.Stat(h.rel(p))
}

func (h *hostFS) Lstat(p string) (os.FileInfo, error) {
	if h.r == nil {
		return os.Lstat(p)
	}
	return h.r.Lstat(h.rel(p))
}

func (h *hostFS) MkdirAll(p string, perm os.FileMode) error {
	if h.r == nil {
		return os.MkdirAll(p, perm)
	}
	return h.r.MkdirAll(h.rel(p), perm)
}

func (h *hostFS) Remove(p string) error {
	if h.r == nil {
		return os.Remove(p)
	}
	return h.r.Remove(h.rel(p))
}

func (h *hostFS) RemoveAll(p string) error {
	if h.r == nil {
		return os.RemoveAll(p)
	}
	return h.r.RemoveAll(h.rel(p))
}

func (h *hostFS) Rename(from, to string) error {
	if h.r == nil {
		return os.Rename(from, to)
	}
	return h.r.Rename(h.rel(from), h.rel(to))
}

func (h *hostFS) ReadDir(p string) ([]fs.DirEntry, error) {
	f, err := h.OpenFile(p, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.ReadDir(-1)
}

// exists is true when p exists (a dangling symlink counts).
func (h *hostFS) exists(p string) bool {
	_, err := h.Lstat(p)
	return err == nil
}

// WriteAtomic writes data to p through a temporary file in p's directory,
// made with mode and owner uid:gid (-1 keeps the writer's), synced and then
// renamed over p: readers see the old or the new file, never a part, and
// a running binary at p is replaced, not overwritten.
func (h *hostFS) WriteAtomic(p string, data []byte, mode os.FileMode, uid, gid int) error {
	f := atomicfile.File{Path: path.Clean(p), Data: data, Mode: mode, Chown: uid >= 0 || gid >= 0, UID: uid, GID: gid}
	var fsys atomicfile.FS = atomicfile.OS{}
	if h.r != nil {
		fsys, f.Path = h.r, h.rel(p)
	}
	return atomicfile.Write(fsys, atomicfile.Options{}, f)
}
