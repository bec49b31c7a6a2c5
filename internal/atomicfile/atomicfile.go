// Package atomicfile writes files so that a reader sees the old file or
// the new one, never a part of either, and a set of files all new or all
// old: each file is written under a temporary name beside it, synced, and
// renamed into place only once every file of the set is written.
package atomicfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

// FS is where the files are written: OS for the machine's own paths, or
// an *os.Root, which confines every path to its directory.
type FS interface {
	OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error)
	Rename(oldname, newname string) error
	Link(oldname, newname string) error
	Remove(name string) error
	Chtimes(name string, atime, mtime time.Time) error
	Symlink(oldname, newname string) error
}

// OS is the machine's file system.
type OS struct{}

func (OS) OpenFile(name string, flag int, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(name, flag, perm)
}
func (OS) Rename(oldname, newname string) error  { return os.Rename(oldname, newname) }
func (OS) Link(oldname, newname string) error    { return os.Link(oldname, newname) }
func (OS) Remove(name string) error              { return os.Remove(name) }
func (OS) Symlink(oldname, newname string) error { return os.Symlink(oldname, newname) }
func (OS) Chtimes(name string, atime, mtime time.Time) error {
	return os.Chtimes(name, atime, mtime)
}

// File is one file to write.
type File struct {
	Path string // in the FS
	Data []byte
	// From, when set, is read to its end instead of Data: a large file is
	// copied without being held in memory. An error from it fails the set.
	From io.Reader
	Mode fs.FileMode
	// Chown, when set, gives the file to UID:GID (-1 keeps one of them)
	// before any data is written.
	Chown    bool
	UID, GID int
	// ModTime, when set, is the file's modification time.
	ModTime time.Time
}

// ErrExists is returned, with NoReplace, for a file that exists already.
var ErrExists = fs.ErrExist

// Options change how a set is put in place.
type Options struct {
	// NoReplace refuses to replace an existing file: each is linked into
	// place (link(2) fails where the name exists) rather than renamed,
	// and the files already placed are removed again when one fails.
	NoReplace bool
}

// Write writes the files as one set. The temporary files are created
// 0600 (O_EXCL), given their owner and mode before any data is written,
// and synced; on failure they are removed and no file of the set is
// replaced, except that a failing rename can leave the files renamed
// before it in place.
func Write(fsys FS, opts Options, files ...File) (err error) {
	temps := make([]string, len(files)) // "" once renamed into place
	var placed []string                 // linked into place (NoReplace)
	defer func() {
		for _, t := range temps {
			if t != "" {
				_ = fsys.Remove(t)
			}
		}
		if err != nil {
			for _, p := range placed {
				_ = fsys.Remove(p)
			}
		}
	}()
	for i, f := range files {
		t, err := writeTemp(fsys, f)
		temps[i] = t
		if err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
	}
	for i, f := range files {
		if opts.NoReplace {
			if err := fsys.Link(temps[i], f.Path); err != nil {
				return fmt.Errorf("write %s: %w", f.Path, err)
			}
			placed = append(placed, f.Path)
			continue
		}
		if err := fsys.Rename(temps[i], f.Path); err != nil {
			return fmt.Errorf("write %s: %w", f.Path, err)
		}
		temps[i] = ""
	}
	return nil
}

// WriteFile writes one file (Write of a set of one).
func WriteFile(fsys FS, p string, data []byte, mode fs.FileMode) error {
	return Write(fsys, Options{}, File{Path: p, Data: data, Mode: mode})
}

// tempRe matches the base name of a temporary file Write makes.
var tempRe = regexp.MustCompile(`^\..+\.tmp-[0-9a-f]{12}$`)

// IsTemp reports whether name (a base name) is one of Write's temporary
// files: one a process killed while writing leaves behind.
func IsTemp(name string) bool { return tempRe.MatchString(name) }

// tempName is a fresh temporary name beside p, one IsTemp knows.
func tempName(p string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(p), "."+filepath.Base(p)+".tmp-"+hex.EncodeToString(b[:])), nil
}

// Symlink makes p a symbolic link to target with one rename, so that a
// reader finds the link or file that was there before, or the new link,
// never nothing. p must not be a directory.
func Symlink(fsys FS, target, p string) error {
	tmp, err := tempName(p)
	if err != nil {
		return err
	}
	if err := fsys.Symlink(target, tmp); err != nil {
		return fmt.Errorf("link %s: %w", p, err)
	}
	if err := fsys.Rename(tmp, p); err != nil {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("link %s: %w", p, err)
	}
	return nil
}

func writeTemp(fsys FS, f File) (string, error) {
	tmp, err := tempName(f.Path)
	if err != nil {
		return "", err
	}
	out, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	err = fill(out, f)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil && !f.ModTime.IsZero() {
		err = fsys.Chtimes(tmp, f.ModTime, f.ModTime)
	}
	return tmp, err
}

func fill(out *os.File, f File) error {
	if f.Chown {
		if err := out.Chown(f.UID, f.GID); err != nil {
			return err
		}
	}
	if err := out.Chmod(f.Mode); err != nil {
		return err
	}
	if f.From != nil {
		if _, err := io.Copy(out, f.From); err != nil {
			return err
		}
	} else if _, err := out.Write(f.Data); err != nil {
		return err
	}
	return out.Sync()
}

// SyncDir makes the renames in dir durable.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, os.ErrInvalid) {
		return err
	}
	return nil
}
