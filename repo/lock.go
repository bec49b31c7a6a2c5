package repo

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/omnipack/omnipack/internal/atomicfile"
)

// LockFile keeps two publishes to one repository from interleaving.
const LockFile = "lock"

// lock takes the repository's lock or says who to wait for. The kernel
// drops it when the process ends, killed or not.
func lock(root string) (unlock func(), err error) {
	p := filepath.Join(root, StateDir, LockFile)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, fmt.Errorf("repository %s is being published by another omnipack (it holds %s); run again when that one ends", root, p)
		}
		return nil, fmt.Errorf("lock %s: %w", p, err)
	}
	return func() { f.Close() }, nil
}

// sweepTemps removes the temporary files a publish killed while writing
// left in the tree (atomicfile's), which no index names and no client
// reads: under the lock, no other publish is writing them.
func sweepTemps(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && atomicfile.IsTemp(d.Name()) { // a file, or a link (atomicfile.Symlink)
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("remove the temporary file %s an earlier publish left: %w", p, err)
			}
		}
		return nil
	})
}
