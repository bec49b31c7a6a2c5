package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sync/atomic"
	"time"
)

const (
	kmsgPath = "/dev/kmsg"
	// pollInterval is how often a plain file is checked for new lines.
	pollInterval = 200 * time.Millisecond
	// maxLine bounds the memory one line may take; the rest of a longer
	// line is dropped. Kernel messages are far shorter.
	maxLine = 64 << 10
)

// errReopen means the source path no longer names the open file: it was
// deleted, renamed or replaced, as log rotation does.
var errReopen = errors.New("source was replaced")

// A watcher follows one source and sends the kernel messages it reads on
// msgs until it is stopped. It never gives up on an unreadable source: it
// logs the error once per change and tries again every retry interval.
type watcher struct {
	source string
	retry  atomic.Int64 // a time.Duration; a reload may change it
	log    *slog.Logger
	msgs   chan string
	cancel context.CancelFunc
}

func startWatcher(cfg Config, log *slog.Logger) *watcher {
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{
		source: cfg.Source,
		log:    log.With("source", cfg.Source),
		msgs:   make(chan string),
		cancel: cancel,
	}
	w.retry.Store(int64(cfg.RetryInterval))
	go w.run(ctx, cfg.FromStart)
	return w
}

// stop makes the watcher close its source and return. Each watcher has its
// own msgs channel, so nothing it read is taken for the next one's.
func (w *watcher) stop() { w.cancel() }

func (w *watcher) run(ctx context.Context, fromStart bool) {
	seekEnd := !fromStart
	var lastErr string
	for {
		opened, err := w.follow(ctx, seekEnd)
		if ctx.Err() != nil {
			return
		}
		// /dev/kmsg always holds old history, so it is always read from
		// its end after the first time. A file that appears (again) after
		// the first attempt is new, so all of it is read.
		seekEnd = w.source == kmsgPath
		if opened {
			lastErr = ""
		}
		if errors.Is(err, errReopen) {
			w.log.Info("source was replaced, reopening")
			continue
		}
		if err == nil {
			err = io.ErrUnexpectedEOF // not expected: follow returns only on error
		}
		if err.Error() != lastErr {
			lastErr = err.Error()
			attrs := []any{"err", lastErr, "retry_interval", time.Duration(w.retry.Load()).String()}
			if hint := kmsgHint(w.source, err); hint != "" {
				attrs = append(attrs, "hint", hint)
			}
			w.log.Error("source unreadable, will retry", attrs...)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Duration(w.retry.Load())):
		}
	}
}

// kmsgHint says what it means that /dev/kmsg cannot be opened, as in many
// containers: crashwatch keeps running and retrying, so that it picks the
// kernel log up once it is granted, but reports nothing until then.
func kmsgHint(source string, err error) string {
	if source != kmsgPath {
		return ""
	}
	const meanwhile = "no crashes are reported until then; or set source to a log file that the kernel's messages reach"
	switch {
	case errors.Is(err, fs.ErrPermission):
		return "reading /dev/kmsg needs CAP_SYSLOG where kernel.dmesg_restrict=1, and this host or container does not grant it: " + meanwhile
	case errors.Is(err, fs.ErrNotExist):
		return "this host has no /dev/kmsg, as in many containers (systemd-nspawn, Docker): " + meanwhile
	}
	return ""
}

// follow opens the source and reads it until an error or until ctx is
// done. opened tells whether the source could be opened at all.
func (w *watcher) follow(ctx context.Context, seekEnd bool) (opened bool, err error) {
	f, err := os.Open(w.source)
	if err != nil {
		return false, err
	}
	defer f.Close()
	// Closing the file is what ends a Read blocked on /dev/kmsg.
	defer context.AfterFunc(ctx, func() { f.Close() })()
	if seekEnd {
		if _, err := f.Seek(0, io.SeekEnd); err != nil {
			return true, err
		}
	}
	w.log.Info("reading source", "from_end", seekEnd)

	send := func(msg string) bool {
		select {
		case w.msgs <- msg:
			return true
		case <-ctx.Done():
			return false
		}
	}
	if w.source == kmsgPath {
		return true, readKmsg(f, send, w.log)
	}
	return true, w.tail(ctx, f, send)
}

// tail sends the kernel message in each line of f, and waits for more at
// the end, like tail -F. It handles truncation (copytruncate) by starting
// over, and rotation by returning errReopen once the old file is read.
func (w *watcher) tail(ctx context.Context, f *os.File, send func(string) bool) error {
	st, err := f.Stat()
	if err != nil {
		return err
	}
	offset, err := f.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	r := bufio.NewReader(f)
	var line []byte
	gone := false
	for {
		chunk, err := r.ReadSlice('\n')
		offset += int64(len(chunk))
		if len(line) < maxLine {
			line = append(line, chunk[:min(len(chunk), maxLine-len(line))]...)
		}
		switch {
		case err == nil:
			if !send(lineMessage(string(line))) {
				return nil
			}
			line = line[:0]
			continue
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err != io.EOF:
			return err
		case gone:
			// The old file is read to its end; a last unterminated line
			// will get no more text.
			if len(line) > 0 && !send(lineMessage(string(line))) {
				return nil
			}
			return errReopen
		}

		// At the end of the file. A partial line stays in line until its
		// newline is written.
		now, err := os.Stat(w.source)
		if err != nil || !os.SameFile(st, now) {
			gone = true // read what was added meanwhile, then reopen
			continue
		}
		if now.Size() < offset {
			w.log.Info("source was truncated, reading it from the start")
			if _, err := f.Seek(0, io.SeekStart); err != nil {
				return err
			}
			r.Reset(f)
			offset, line = 0, line[:0]
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pollInterval):
		}
	}
}
