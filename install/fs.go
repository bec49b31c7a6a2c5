package install

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
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
	tmp, err := h.tempName(p)
	if err != nil {
		return err
	}
	f, err := h.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			f.Close()
			h.Remove(tmp)
		}
	}()
	if uid >= 0 || gid >= 0 {
		if err := f.Chown(uid, gid); err != nil {
			return err
		}
	}
	if err := f.Chmod(mode); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := h.Rename(tmp, p); err != nil {
		return err
	}
	ok = true
	return nil
}

func (h *hostFS) tempName(p string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return path.Join(path.Dir(p), "."+path.Base(p)+".omnipack-"+hex.EncodeToString(b[:])), nil
}
