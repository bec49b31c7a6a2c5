package repo

import (
	"fmt"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"

	"github.com/omnipack/omnipack/internal/atomicfile"
)

// KillAfterWritesEnv is for omnipack's tests only: set to N, a publish
// reports every file it renames into place on stderr ("omnipack: write K
// PATH") and SIGKILLs itself right after the Nth, so that a test can
// check what clients see of a publish killed there. 0 only reports.
const KillAfterWritesEnv = "OMNIPACK_TEST_KILL_AFTER_WRITES"

// repoFS is where Publish writes: the machine's file system, counted and
// killed at a rename when KillAfterWritesEnv is set.
var repoFS = newRepoFS()

func newRepoFS() atomicfile.FS {
	v, ok := os.LookupEnv(KillAfterWritesEnv)
	if !ok {
		return atomicfile.OS{}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		fmt.Fprintf(os.Stderr, "omnipack: %s=%q: give a count of writes (0 only reports them)\n", KillAfterWritesEnv, v)
		os.Exit(2)
	}
	return &killFS{killAt: n}
}

// killFS renames as the OS does, then counts the rename and, at killAt,
// kills the process without giving it a chance to clean up.
type killFS struct {
	atomicfile.OS
	killAt int64
	done   atomic.Int64
}

func (k *killFS) Rename(oldname, newname string) error {
	if err := k.OS.Rename(oldname, newname); err != nil {
		return err
	}
	n := k.done.Add(1)
	fmt.Fprintf(os.Stderr, "omnipack: write %d %s\n", n, newname)
	if n == k.killAt {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way; write nothing more
	}
	return nil
}
