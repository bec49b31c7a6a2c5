package verify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// source makes the files of a release available as local files.
type source interface {
	// fetch returns a local path holding the release file name (a plain
	// name, or keys/NAME). limit is the most bytes the file may have; a
	// download is cut off beyond it. A directory source leaves the check
	// of the size to the caller, which reads at most limit+1 bytes.
	fetch(ctx context.Context, name string, limit int64) (string, error)
	close()
}

func openSource(src string) (source, error) {
	if strings.HasPrefix(src, "http://") || strings.HasPrefix(src, "https://") {
		return newURLSource(src)
	}
	if strings.Contains(src, "://") {
		return nil, fmt.Errorf("%s: only directories and http(s) URLs can be verified", src)
	}
	st, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("release directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory (pass the release directory, such as dist/)", src)
	}
	return dirSource(src), nil
}

// dirSource is a release directory on disk.
type dirSource string

func (d dirSource) fetch(_ context.Context, name string, _ int64) (string, error) {
	p := filepath.Join(string(d), filepath.FromSlash(name))
	st, err := os.Stat(p)
	if errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("%s is missing from the release", name)
	}
	if err != nil {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	if !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", name)
	}
	return p, nil
}

func (dirSource) close() {}

// urlSource downloads a release into a private temporary directory.
type urlSource struct {
	base   *url.URL
	client *http.Client
	tmp    string
}

// Transfer limits against a slow or stalling server: connecting and the
// response headers each get a fixed time, and a whole download gets a
// minute plus the time its size takes at minSpeed.
const (
	connectTimeout = 30 * time.Second
	headerTimeout  = 60 * time.Second
	baseDeadline   = time.Minute
	minSpeed       = 64 << 10 // bytes per second
)

func newURLSource(src string) (*urlSource, error) {
	u, err := url.Parse(src)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("%s is not a usable URL", src)
	}
	if u.User != nil {
		return nil, fmt.Errorf("the release URL must not hold credentials")
	}
	u.RawQuery, u.Fragment = "", ""
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		u.RawPath = ""
	}
	tmp, err := os.MkdirTemp("", "omnipack-verify-*")
	if err != nil {
		return nil, err
	}
	transport := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: connectTimeout}).DialContext,
		TLSHandshakeTimeout:   connectTimeout,
		ResponseHeaderTimeout: headerTimeout,
		ForceAttemptHTTP2:     true,
	}
	client := &http.Client{
		Transport: transport,
		// Mirrors and release hosts redirect to storage on other hosts,
		// which is fine since every file is checked against the signed
		// manifest; dropping from https to http is not.
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 10 {
				return errors.New("too many redirects")
			}
			if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
				return fmt.Errorf("refused redirect from https to %s", req.URL.Redacted())
			}
			return nil
		},
	}
	return &urlSource{base: u, client: client, tmp: tmp}, nil
}

func (s *urlSource) close() {
	s.client.CloseIdleConnections()
	os.RemoveAll(s.tmp)
}

func (s *urlSource) fetch(ctx context.Context, name string, limit int64) (string, error) {
	ref := s.base.JoinPath(strings.Split(name, "/")...)
	dst := filepath.Join(s.tmp, filepath.FromSlash(name))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil // fetched earlier in this run
	}
	ctx, cancel := context.WithTimeout(ctx, baseDeadline+time.Duration(limit/minSpeed)*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref.String(), nil)
	if err != nil {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return "", fmt.Errorf("%s: download failed: %v", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", fmt.Errorf("%s is missing from the release (HTTP 404)", name)
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: download failed: HTTP %s", name, resp.Status)
	}
	if resp.ContentLength > limit {
		return "", fmt.Errorf("%s: the server announces %d bytes, more than the %d allowed; not downloaded", name, resp.ContentLength, limit)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", err
	}
	part := dst + ".part"
	f, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	n, err := io.Copy(f, io.LimitReader(resp.Body, limit+1))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	switch {
	case err != nil:
		os.Remove(part)
		return "", fmt.Errorf("%s: download failed after %d bytes: %v", name, n, err)
	case n > limit:
		os.Remove(part)
		return "", fmt.Errorf("%s: the server sent more than the %d bytes allowed; download cut off", name, limit)
	}
	if err := os.Rename(part, dst); err != nil {
		return "", err
	}
	return dst, nil
}
