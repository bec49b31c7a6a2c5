package install

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
	"sync/atomic"
	"time"
)

// ErrTooLarge: a file is larger than its signed size (or a cap).
var ErrTooLarge = errors.New("larger than its signed size")

// Source is where a release is read from: a dist or bundle directory, or an
// http(s) URL of one.
type Source interface {
	// Fetch copies the file at rel (slash-separated plain names, such as
	// "release.json" or "keys/release.pub") to w. More than limit bytes
	// is ErrTooLarge; nothing past limit+1 bytes is read.
	Fetch(ctx context.Context, rel string, limit int64, w io.Writer) (int64, error)
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

// OpenSource opens src: an existing directory, or an http(s) URL. Plain
// http is refused unless the host is loopback or insecureHTTP is set.
func OpenSource(src string, insecureHTTP bool, limits Limits) (Source, error) {
	if strings.Contains(src, "://") {
		u, err := checkURL(src, insecureHTTP)
		if err != nil {
			return nil, err
		}
		return newHTTPSource(u, insecureHTTP, limits), nil
	}
	fi, err := os.Stat(src)
	if err != nil {
		return nil, fmt.Errorf("source %s: %w (pass a dist or bundle directory, or an https URL)", src, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("source %s is not a directory (pass a dist or bundle directory, or an https URL)", src)
	}
	abs, err := filepath.Abs(src)
	if err != nil {
		return nil, err
	}
	return dirSource(abs), nil
}

// IsLoopback is true for localhost and loopback addresses.
func IsLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func checkURL(raw string, insecureHTTP bool) (*url.URL, error) {
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
		if !IsLoopback(u.Hostname()) && !insecureHTTP {
			return nil, fmt.Errorf("refusing plain http from %s: use https (plain http is only for loopback, or pass --insecure-http)", u.Host)
		}
	default:
		return nil, fmt.Errorf("source %q: scheme %q is not http or https", raw, u.Scheme)
	}
	u.RawQuery, u.Fragment = "", ""
	u.Path = strings.TrimSuffix(u.Path, "/")
	u.RawPath = ""
	return u, nil
}

// checkRel validates a relative path of plain names.
func checkRel(rel string) error {
	for _, part := range strings.Split(rel, "/") {
		if err := CheckFileName(part); err != nil {
			return err
		}
	}
	return nil
}

type dirSource string

func (d dirSource) String() string { return string(d) }

func (d dirSource) Fetch(ctx context.Context, rel string, limit int64, w io.Writer) (int64, error) {
	if err := checkRel(rel); err != nil {
		return 0, err
	}
	p := filepath.Join(string(d), filepath.FromSlash(rel))
	f, err := os.Open(p)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, fmt.Errorf("%s is not a regular file", p)
	}
	return copyCapped(w, f, limit, rel)
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
	limits Limits
}

func newHTTPSource(base *url.URL, insecureHTTP bool, l Limits) *httpSource {
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
		// A redirect may not lead from https (or loopback) to plain http
		// elsewhere.
		_, err := checkURL(req.URL.String(), insecureHTTP)
		return err
	}}
	return &httpSource{base: base, client: client, limits: l}
}

func (s *httpSource) String() string { return s.base.String() }

func (s *httpSource) Fetch(ctx context.Context, rel string, limit int64, w io.Writer) (int64, error) {
	if err := checkRel(rel); err != nil {
		return 0, err
	}
	u := *s.base
	u.Path = s.base.Path + "/" + rel
	ctx, cancel := context.WithTimeout(ctx, s.limits.Total)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("User-Agent", "omnipack-install")
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", u.Redacted(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("download %s: %s", u.Redacted(), resp.Status)
	}
	if resp.ContentLength > limit {
		return 0, fmt.Errorf("download %s: %w: the server announces %d bytes, at most %d are signed", u.Redacted(), ErrTooLarge, resp.ContentLength, limit)
	}
	// The speed floor: a watchdog cancels the request when fewer than
	// MinPerWin bytes arrived in a window.
	var got atomic.Int64
	stalled := make(chan struct{})
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(s.limits.Window)
		defer t.Stop()
		last := int64(0)
		for {
			select {
			case <-done:
				return
			case <-t.C:
				n := got.Load()
				if n-last < s.limits.MinPerWin {
					close(stalled)
					cancel()
					return
				}
				last = n
			}
		}
	}()
	n, err := copyCapped(w, countingReader{resp.Body, &got}, limit, rel)
	if err != nil {
		select {
		case <-stalled:
			return n, fmt.Errorf("download %s: slower than %d bytes in %s; giving up", u.Redacted(), s.limits.MinPerWin, s.limits.Window)
		default:
		}
		if ctx.Err() == context.DeadlineExceeded {
			return n, fmt.Errorf("download %s: took longer than %s; giving up", u.Redacted(), s.limits.Total)
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
