// Package apktest gives tests an apk client: go-apk, an independent Go
// implementation of apk-tools (which Debian does not package), built from
// its own module in packaging/apk/testdata/apkclient so that omnipack
// never depends on it.
package apktest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

var (
	clientOnce sync.Once
	clientPath string
	clientErr  error
)

// CacheDir holds the built client, by the hash of its source.
const CacheDir = "/var/cache/omnipack-tools"

// Client returns the path of the apk client (usage: apkclient -root DIR
// -arch x86_64 -key URL[,URL] -repo URL -world NAME), built once.
func Client(t testing.TB) string {
	t.Helper()
	clientOnce.Do(func() {
		_, self, _, _ := runtime.Caller(0)
		src := filepath.Join(filepath.Dir(self), "..", "testdata", "apkclient")
		h := sha256.New()
		for _, f := range []string{"go.mod", "go.sum", "main.go"} {
			data, err := os.ReadFile(filepath.Join(src, f))
			if err != nil {
				clientErr = err
				return
			}
			h.Write(data)
		}
		clientPath = filepath.Join(CacheDir, "apkclient-"+hex.EncodeToString(h.Sum(nil))[:12])
		if _, err := os.Stat(clientPath); err == nil {
			return
		}
		if clientErr = os.MkdirAll(CacheDir, 0o755); clientErr != nil {
			return
		}
		// Another test process may build it at the same time.
		tmp := fmt.Sprintf("%s.tmp-%d", clientPath, os.Getpid())
		cmd := exec.Command("go", "build", "-trimpath", "-o", tmp, ".")
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=-buildvcs=false")
		if out, err := cmd.CombinedOutput(); err != nil {
			clientErr = fmt.Errorf("go build %s: %v\n%s", src, err, out)
			return
		}
		clientErr = os.Rename(tmp, clientPath)
	})
	if clientErr != nil {
		t.Fatalf("building go-apk's client: %v (it needs the Go module proxy the first time)", clientErr)
	}
	return clientPath
}
