package install

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/omnipack/omnipack/layout"
)

// syncBuffer is a bytes.Buffer safe to read while another goroutine
// writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestLockHost: while another process holds the installer lock (as
// flock(1) in install.sh holds it), omnipack install says so and waits,
// and goes on once it is released.
func TestLockHost(t *testing.T) {
	name := fmt.Sprintf("locktest-%d", os.Getpid())
	p := layout.InstallLock(name)
	t.Cleanup(func() { os.Remove(p) })
	if err := os.MkdirAll("/run/omnipack", 0o755); err != nil {
		t.Fatalf("cannot make /run/omnipack for the lock: %v", err)
	}
	held, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.Flock(int(held.Fd()), unix.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	var out syncBuffer
	got := make(chan error, 1)
	go func() {
		unlock, err := lockHost(context.Background(), name, &out)
		if err == nil {
			unlock()
		}
		got <- err
	}()
	// The waiting message is the sign that it found the lock held.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(out.String(), "another installer of "+name+" is running") {
		select {
		case err := <-got:
			t.Fatalf("lockHost returned while the lock was held: %v", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("lockHost neither waited nor said so")
		}
		time.Sleep(10 * time.Millisecond)
	}
	held.Close() // releases the lock
	if err := <-got; err != nil {
		t.Fatalf("lockHost after the release: %v", err)
	}
}
