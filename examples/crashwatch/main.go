// Command crashwatch watches the kernel log for crashed processes (segfaults,
// fatal traps and OOM kills) and writes one JSON line per crash.
//
// Events go to stdout or to the file named by the output key; logs go to
// stderr, also as JSON lines. SIGHUP reloads the config and reopens the
// output file; SIGTERM and SIGINT stop. Exit status: 0 after a clean stop,
// 2 for bad flags or a bad config at startup, 1 if the output cannot be
// opened at startup.
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("crashwatch", flag.ContinueOnError)
	flags.SetOutput(stderr)
	configPath := flags.String("config", defaultConfigPath, "config file `path`")
	showVersion := flags.Bool("version", false, "print the version and exit")
	checkConfig := flags.Bool("check-config", false, "validate the config file and exit: 0 if valid, 2 if not")
	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if flags.NArg() > 0 {
		fmt.Fprintf(stderr, "crashwatch: unexpected argument %q\n", flags.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Fprintln(stdout, "crashwatch", version)
		return 0
	}
	if *checkConfig {
		cfg, err := loadConfig(*configPath)
		if err != nil {
			fmt.Fprintln(stderr, "crashwatch:", err)
			return 2
		}
		if cfg.AuthKey == "" {
			fmt.Fprintln(stderr, "crashwatch: warning: auth_key not set")
		}
		fmt.Fprintf(stdout, "crashwatch: config %s is valid\n", *configPath)
		return 0
	}

	log := slog.New(slog.NewJSONHandler(stderr, nil))

	// Take the signals before anything else, so that an early SIGHUP is
	// handled instead of killing the process.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)

	cfg, err := loadConfig(*configPath)
	if err != nil {
		log.Error("bad config", "err", err.Error())
		return 2
	}
	out, err := openOutput(cfg.Output, stdout)
	if err != nil {
		log.Error("cannot open output", "output", cfg.Output, "err", err.Error())
		return 1
	}
	a := &agent{configPath: *configPath, cfg: cfg, out: out, stdout: stdout, log: log}
	defer func() { a.out.Close() }()

	logConfig(log, "started", cfg)
	a.watcher = startWatcher(cfg, log)
	for {
		select {
		case sig := <-sigs:
			if sig != syscall.SIGHUP {
				log.Info("stopping", "signal", sig.String())
				a.watcher.stop()
				return 0
			}
			a.reload()
		case msg := <-a.watcher.msgs:
			a.handle(msg)
		}
	}
}

// agent holds the running state that a reload may replace.
type agent struct {
	configPath string
	cfg        Config
	out        *output
	stdout     io.Writer
	watcher    *watcher
	log        *slog.Logger

	lastOOM      int    // pid of the last OOM kill reported
	lastWriteErr string // so that a failing output is logged once, not per event
}

func (a *agent) handle(msg string) {
	ev, ok := parseMessage(msg)
	if !ok {
		return
	}
	// The kernel reports one OOM kill twice, as "oom-kill:...,pid=N" and
	// "Out of memory: Killed process N"; report it once.
	if ev.Kind == kindOOMKill {
		if ev.PID == a.lastOOM {
			return
		}
		a.lastOOM = ev.PID
	}
	ev.Time = time.Now().UTC().Format(time.RFC3339)
	ev.NodeID = a.cfg.NodeID
	if err := a.out.write(ev); err != nil {
		if err.Error() != a.lastWriteErr {
			a.lastWriteErr = err.Error()
			a.log.Error("cannot write event", "output", a.out.path, "err", a.lastWriteErr)
		}
		return
	}
	a.lastWriteErr = ""
}

// reload applies the config file again. A config that is invalid, or whose
// output cannot be opened, is not applied at all: the old one stays.
func (a *agent) reload() {
	cfg, err := loadConfig(a.configPath)
	if err != nil {
		a.log.Error("reload failed, keeping the old config", "err", err.Error())
		return
	}
	// The output file is reopened even if its name is unchanged, so that
	// logrotate can rotate it and send SIGHUP, as for any daemon's log.
	out, err := openOutput(cfg.Output, a.stdout)
	if err != nil {
		a.log.Error("reload failed, keeping the old config", "output", cfg.Output, "err", err.Error())
		return
	}
	a.out.Close()
	a.out = out
	// Reopening an unchanged source would lose or repeat lines, so only
	// a new source gets a new watcher.
	if cfg.Source != a.cfg.Source {
		a.watcher.stop()
		a.watcher = startWatcher(cfg, a.log)
	} else {
		a.watcher.retry.Store(int64(cfg.RetryInterval))
	}
	a.cfg = cfg
	logConfig(a.log, "reloaded", cfg)
}

// logConfig logs the settings in use. The auth_key is a secret: only
// whether it is set is logged.
func logConfig(log *slog.Logger, msg string, cfg Config) {
	log.Info(msg, "version", version, "source", cfg.Source, "node_id", cfg.NodeID,
		"output", cfg.Output, "auth_key_set", cfg.AuthKey != "")
	if cfg.AuthKey == "" {
		log.Warn("auth_key not set")
	}
}

// output is where events go: stdout, or a file that they are appended to.
type output struct {
	path string
	w    io.Writer
	f    *os.File // nil for stdout
}

func openOutput(path string, stdout io.Writer) (*output, error) {
	if path == "stdout" {
		return &output{path: path, w: stdout}, nil
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	return &output{path: path, w: f, f: f}, nil
}

// write writes ev as one line in a single write, so that concurrent
// appenders and readers never see half an event.
func (o *output) write(ev Event) error {
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	_, err = o.w.Write(append(b, '\n'))
	return err
}

func (o *output) Close() error {
	if o.f == nil {
		return nil
	}
	return o.f.Close()
}
