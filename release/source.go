// Package release reads a published release: from a release directory or
// an http(s) URL of one, within size caps and time limits, and loads its
// manifest after checking the manifest's signature. It is the one reader
// that omnipack verify, install and bundle (and, next, publish and audit)
// share; each passes its own Policy for the network.
package release

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/omnipack/omnipack/internal/loopback"
)

// ErrTooLarge: a file is larger than its signed size (or a cap).
var ErrTooLarge = errors.New("larger than its signed size")

// missingError says a release has no such file; it is an fs.ErrNotExist.
type missingError struct{ name, detail string }

func (e *missingError) Error() string { return e.name + " is missing from the release" + e.detail }
func (e *missingError) Unwrap() error { return fs.ErrNotExist }

// Source is where a release is read from: a release directory, or an
// http(s) URL of one.
type Source interface {
	// Fetch copies the release file name (slash-separated plain names,
	// such as "release.json" or "keys/release.pub") to w. More than limit
	// bytes is ErrTooLarge; nothing past limit+1 bytes is read.
	Fetch(ctx context.Context, name string, limit int64, w io.Writer) (int64, error)
	// String names the source for messages.
	String() string
}

// Limits bound every download (The Update Framework's slow-retrieval
// attack): a whole-file deadline, and a floor on the transfer speed
// measured over a window.
type Limits struct {
	Connect   time.Duration // TCP connect and TLS handshake, each
	Header    time.Duration // from request to response headers
	Total     time.Duration // one whole file
	Window    time.Duration // speed is measured over this
	MinPerWin int64         // bytes that must arrive in every Window
}

// DefaultLimits: 30 s to connect, 60 s for headers, 30 minutes for a file,
// and at least 1 KiB every 30 s (curl's --speed-limit 1024 --speed-time 30).
var DefaultLimits = Limits{Connect: 30 * time.Second, Header: 60 * time.Second, Total: 30 * time.Minute,
	Window: 30 * time.Second, MinPerWin: 1024}

// Policy is what a reader allows over the network.
type Policy struct {
	// PlainHTTP allows plain http from any host. Without it, plain http is
	// allowed to loopback only. Either way every redirect is checked by
	// the same rule, and one from https to plain http is refused.
	PlainHTTP bool
	// PlainHTTPFlag names the option that sets PlainHTTP, for the message
	// that refuses plain http.
	PlainHTTPFlag string
	// Limits bound each download; zero means DefaultLimits.
	Limits Limits
	// UserAgent is sent with every request.
	UserAgent string
}

// Open opens src: an existing directory, or an http(s) URL.
func Open(src string, p Policy) (Source, error) {
	if strings.Contains(src, "://") {
		u, err := p.checkURL(src)
		if err != nil {
			return nil, err
		}
		return newHTTPSource(u, p), nil
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w (pass a release directory, such as dist/, or an https URL)", src, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("source %s is not a directory (pass a release directory, such as dist/, or an https URL)", src)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	return Dir(abs), nil
}

func (p Policy) checkURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("source %q is not an http(s) URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("source URL must not carry credentials")
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.Host(u.Hostname()) && !p.PlainHTTP {
			flag := p.PlainHTTPFlag
			if flag == "" {
				flag = "--insecure-http"
			}
			return nil, fmt.Errorf("refusing plain http from %s: use https (plain http is only for loopback, or pass %s)", u.Host, flag)
		}
	default:
		return nil, fmt.Errorf("source %q: scheme %q is not http or https", raw, u.Scheme)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// checkName validates a release file name: plain names, "/"-separated.
func checkName(name string) error {
	for _, part := range strings.Split(name, "/") {
		if err := CheckFileName(part); err != nil {
			return err
		}
	}
	return nil
}

// Dir is a release directory on disk.
type Dir string

func (d Dir) String() string { return string(d) }

// Path returns where the release file name is, without reading it.
func (d Dir) Path(name string) (string, error) {
	if err := checkName(name); err != nil {
		return "", err
	}
	p := filepath.Join(string(d), filepath.FromSlash(name))
	fi, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return "", &missingError{name: name}
	}
	if err != nil {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", name)
	}
	return p, nil
}

func (d Dir) Fetch(_ context.Context, name string, limit int64, w io.Writer) (int64, error) {
	p, err := d.Path(name)
	if err != nil {
		return 0, err
	}
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return copyCapped(w, f, limit, name)
}

// copyCapped copies at most limit bytes, failing with ErrTooLarge when r
// holds more.
func copyCapped(w io.Writer, r io.Reader, limit int64, what string) (int64, error) {
	n, err := io.Copy(w, io.LimitReader(r, limit+1))
	if err != nil {
		return n, fmt.Errorf("%s: %w", what, err)
	}
	if n > limit {
		return n, fmt.Errorf("%s: %w (%d bytes)", what, ErrTooLarge, limit)
	}
	return n, nil
}

type httpSource struct {
	base   *url.URL
	client *http.Client
	policy Policy
}

func newHTTPSource(base *url.URL, p Policy) *httpSource {
	if p.Limits == (Limits{}) {
		p.Limits = DefaultLimits
	}
	l := p.Limits
	dialer := &net.Dialer{Timeout: l.Connect, KeepAlive: 30 * time.Second}
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSHandshakeTimeout:   l.Connect,
		ResponseHeaderTimeout: l.Header,
		IdleConnTimeout:       90 * time.Second,
		ForceAttemptHTTP2:     true,
	}
	client := &http.Client{Transport: tr, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 10 {
			return errors.New("too many redirects")
		}
		// Mirrors redirect to storage on other hosts, which is fine:
		// every file is checked against the signed manifest. Dropping
		// from https to http is not, nor plain http the policy refuses.
		if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
			return fmt.Errorf("refused redirect from https to %s", req.URL.Redacted())
		}
		_, err := p.checkURL(req.URL.String())
		return err
	}}
	return &httpSource{base: base, client: client, policy: p}
}

func (s *httpSource) String() string { return s.base.String() }

func (s *httpSource) Fetch(ctx context.Context, name string, limit int64, w io.Writer) (int64, error) {
	if err := checkName(name); err != nil {
		return 0, err
	}
	u := *s.base
	u.Path = s.base.Path + "/" + name
	l := s.policy.Limits
	ctx, cancel := context.WithTimeout(ctx, l.Total)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	if s.policy.UserAgent != "" {
		req.Header.Set("User-Agent", s.policy.UserAgent)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return 0, &missingError{name: name, detail: " (HTTP 404 from " + u.Redacted() + ")"}
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("download %s: %s", u.Redacted(), resp.Status)
	}
	if resp.ContentLength > limit {
		return 0, fmt.Errorf("download %s: %w: the server announces %d bytes, at most %d are allowed", u.Redacted(), ErrTooLarge, resp.ContentLength, limit)
	}
	// The speed floor: a watchdog cancels the request when fewer than
	// MinPerWin bytes arrived in a window.
	var got atomic.Int64
	stalled := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(l.Window)
		defer t.Stop()
		last := int64(0)
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n := got.Load()
				if n-last < l.MinPerWin {
					close(stalled)
					cancel()
					return
				}
				last = n
			}
		}
	}()
	n, err := copyCapped(w, countingReader{resp.Body, &got}, limit, name)
	if err != nil {
		select {
		case <-stalled:
			return n, fmt.Errorf("download %s: slower than %d bytes in %s; giving up", u.Redacted(), l.MinPerWin, l.Window)
		default:
		}
		if ctx.Err() == context.DeadlineExceeded {
			return n, fmt.Errorf("download %s: took longer than %s; giving up", u.Redacted(), l.Total)
		}
		if errors.Is(err, ErrTooLarge) {
			return n, fmt.Errorf("%s: the server sent more than the %d bytes allowed; download cut off: %w", name, limit, ErrTooLarge)
		}
		return n, err
	}
	return n, nil
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Files makes a Source's files available as local files, for readers that
// need random access (a package's signature, its file list): a
// directory's own files as they are, a download once into a private
// temporary directory that Close removes.
type Files struct {
	src Source
	tmp string
}

// NewFiles returns the local view of src.
func NewFiles(src Source) *Files { return &Files{src: src} }

// Source returns the source the files come from.
func (f *Files) Source() Source { return f.src }

// Path returns a local path holding the release file name, at most limit
// bytes long.
func (f *Files) Path(ctx context.Context, name string, limit int64) (string, error) {
	if d, ok := f.src.(Dir); ok {
		return d.Path(name)
	}
	if err := checkName(name); err != nil {
		return "", err
	}
	if f.tmp == "" {
		tmp, err := os.MkdirTemp("", "omnipack-release-*")
		if err != nil {
			return "", err
		}
		f.tmp = tmp
	}
	dst := filepath.Join(f.tmp, filepath.FromSlash(name))
	if _, err := os.Stat(dst); err == nil {
		return dst, nil // fetched earlier in this run
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", err
	}
	part := dst + ".part"
	out, err := os.OpenFile(part, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	_, err = f.src.Fetch(ctx, name, limit, out)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(part, dst)
	}
	if err != nil {
		os.Remove(part)
		return "", err
	}
	return dst, nil
}

// Close removes the downloads.
func (f *Files) Close() {
	if s, ok := f.src.(*httpSource); ok {
		s.client.CloseIdleConnections()
	}
	if f.tmp != "" {
		os.RemoveAll(f.tmp)
	}
}
