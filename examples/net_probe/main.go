// net_probe is omnipack's second example agent: a small exporter
// configured entirely by flags, as many real daemons are, with an
// underscore in its name. It serves its own info and the *.prom files of a
// text-file directory at /metrics, says at /healthz that it is up, and
// with -check asks a running net_probe whether it is healthy.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

var version = "dev"

// options are the daemon's flags.
type options struct {
	listen      string
	textfileDir string
	labelsFile  string
	label       string
	addrFile    string
	interval    time.Duration
	check       bool
	showVersion bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("net_probe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.listen, "listen", "127.0.0.1:9120", "`ADDRESS` to serve /metrics and /healthz on")
	fs.StringVar(&o.textfileDir, "textfile-dir", "", "`DIR` whose *.prom files are served with the metrics (must exist)")
	fs.StringVar(&o.labelsFile, "labels-file", "", "`FILE` of static metrics appended to every scrape")
	fs.StringVar(&o.label, "label", "", "value of the label on net_probe_info")
	fs.StringVar(&o.addrFile, "addr-file", "", "`FILE` to write the bound address to once serving (-check reads it)")
	fs.DurationVar(&o.interval, "interval", 15*time.Second, "how often the probe runs")
	fs.BoolVar(&o.check, "check", false, "ask the running net_probe (at -addr-file's address, else -listen) whether it is healthy, and exit 0 if so")
	fs.BoolVar(&o.showVersion, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	return o, nil
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "net_probe: error: %v\n", err)
		return 2
	}
	switch {
	case o.showVersion:
		fmt.Fprintf(stdout, "net_probe %s\n", version)
		return 0
	case o.check:
		if err := check(o); err != nil {
			fmt.Fprintf(stderr, "net_probe: unhealthy: %v\n", err)
			return 1
		}
		fmt.Fprintln(stdout, "net_probe: healthy")
		return 0
	}
	if err := serve(o, stdout); err != nil {
		fmt.Fprintf(stderr, "net_probe: error: %v\n", err)
		return 1
	}
	return 0
}

// serve checks the flags' paths, serves until SIGTERM or SIGINT, and then
// shuts down cleanly.
func serve(o options, stdout io.Writer) error {
	if o.textfileDir != "" {
		if fi, err := os.Stat(o.textfileDir); err != nil {
			return fmt.Errorf("-textfile-dir: %v", err)
		} else if !fi.IsDir() {
			return fmt.Errorf("-textfile-dir: %s is not a directory", o.textfileDir)
		}
	}
	if o.labelsFile != "" {
		if _, err := os.ReadFile(o.labelsFile); err != nil {
			return fmt.Errorf("-labels-file: %v", err)
		}
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler(o), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	// Written once the socket accepts: -check and tests wait for it.
	if o.addrFile != "" {
		if err := writeAtomic(o.addrFile, ln.Addr().String()+"\n"); err != nil {
			srv.Close()
			return fmt.Errorf("-addr-file: %v", err)
		}
	}
	fmt.Fprintf(stdout, "net_probe %s: serving on %s (label %q, interval %s, textfiles from %q)\n", version, ln.Addr(), o.label, o.interval, o.textfileDir)

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	for {
		select {
		case err := <-errc:
			return err
		case s := <-sigs:
			if s == syscall.SIGHUP {
				// Textfiles are read on every scrape; there is nothing to reload.
				fmt.Fprintln(stdout, "net_probe: SIGHUP: textfiles are read on every scrape")
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if o.addrFile != "" {
				os.Remove(o.addrFile)
			}
			if err := srv.Shutdown(ctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		}
	}
}

func handler(o options) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "net_probe_info{version=%q,label=%q} 1\n", version, o.label)
		if o.labelsFile != "" {
			if b, err := os.ReadFile(o.labelsFile); err == nil {
				w.Write(b)
			}
		}
		if o.textfileDir == "" {
			return
		}
		files, _ := filepath.Glob(filepath.Join(o.textfileDir, "*.prom"))
		sort.Strings(files)
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				w.Write(b)
			}
		}
	})
	return mux
}

// check asks the running net_probe's /healthz.
func check(o options) error {
	addr := o.listen
	if o.addrFile != "" {
		b, err := os.ReadFile(o.addrFile)
		if err != nil {
			return fmt.Errorf("not serving: %v", err)
		}
		addr = strings.TrimSpace(string(b))
	}
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Get("http://" + addr + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s/healthz: %s", addr, resp.Status)
	}
	return nil
}

func writeAtomic(path, data string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(data), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
