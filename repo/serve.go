package repo

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/omnipack/omnipack/internal/loopback"
)

// ErrNotLoopback: Serve was given an address other hosts can reach.
var ErrNotLoopback = errors.New("not a loopback address")

// DefaultAddr is where Serve listens unless told otherwise.
const DefaultAddr = "127.0.0.1:8080"

// Serve serves the directory dir (a repository or a release) over plain
// http on addr until ctx ends, and calls ready with its URL once it
// listens. It refuses an address other hosts could reach unless public:
// serve is for trying a repository out, and production repositories
// belong behind a web server with https. The repository's own StateDir is
// not served.
func Serve(ctx context.Context, dir, addr string, public bool, ready func(url string)) error {
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("address %q: %v (give HOST:PORT, e.g. %s)", addr, err, DefaultAddr)
	}
	if !public && !loopback.Host(host) {
		return fmt.Errorf("address %q: %w, other hosts could reach it (pass --public to serve them, or use %s)", addr, ErrNotLoopback, DefaultAddr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: hideState(http.FileServer(http.Dir(dir))), ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	if ready != nil {
		ready("http://" + ln.Addr().String())
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(shut); err != nil {
			return err
		}
		if err := <-done; !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
}

// hideState answers 404 for the repository's lock and state.
func hideState(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, seg := range strings.Split(r.URL.Path, "/") {
			if seg == StateDir {
				http.NotFound(w, r)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}
