package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"syscall"
)

// record is one /dev/kmsg record. The format is described in the kernel's
// Documentation/ABI/testing/dev-kmsg:
//
//	prio,seq,usec,flags[,more...];message
//	 KEY=value
//
// prio holds the syslog facility and level; lines starting with a space
// after the message are a dictionary of key/value pairs.
type record struct {
	Facility int
	Level    int
	Seq      uint64
	Usec     uint64 // since boot
	Message  string
}

func parseRecord(s string) (record, error) {
	header, body, ok := strings.Cut(s, ";")
	if !ok {
		return record{}, errors.New("kmsg record: no ';'")
	}
	// Later kernels may add fields after flags; the format says to ignore them.
	f := strings.Split(header, ",")
	if len(f) < 4 {
		return record{}, fmt.Errorf("kmsg record: %d header fields, want at least 4", len(f))
	}
	prio, err1 := strconv.Atoi(f[0])
	seq, err2 := strconv.ParseUint(f[1], 10, 64)
	usec, err3 := strconv.ParseUint(f[2], 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil || prio < 0 {
		return record{}, fmt.Errorf("kmsg record: bad header %q", header)
	}
	msg, _, _ := strings.Cut(body, "\n") // drop the dictionary
	return record{
		Facility: prio >> 3,
		Level:    prio & 7,
		Seq:      seq,
		Usec:     usec,
		Message:  msg,
	}, nil
}

// kmsgBufSize is the largest record the kernel hands out
// (CONSOLE_EXT_LOG_MAX); a read with a smaller buffer fails with EINVAL.
const kmsgBufSize = 8192

// readKmsg passes each kernel message read from r to send until a read
// fails or send returns false. Each Read of /dev/kmsg returns one record.
func readKmsg(r io.Reader, send func(string) bool, log *slog.Logger) error {
	buf := make([]byte, kmsgBufSize)
	for {
		n, err := r.Read(buf)
		if errors.Is(err, syscall.EPIPE) {
			// The ring buffer wrapped past our position; the next read
			// goes on from the oldest record still there.
			log.Warn("kernel log overran, some messages were lost")
			continue
		}
		if err != nil {
			return err
		}
		rec, err := parseRecord(string(buf[:n]))
		// Facility 0 is the kernel. Anything that user space writes to
		// /dev/kmsg gets another facility, so it cannot fake a crash.
		if err != nil || rec.Facility != 0 {
			continue
		}
		if !send(rec.Message) {
			return nil
		}
	}
}
