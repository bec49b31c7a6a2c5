package repo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
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
