package main

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestParseRecord(t *testing.T) {
	tests := []struct {
		in   string
		want record
	}{
		{
			in:   "6,339,5140900,-;NET: Registered protocol family 10",
			want: record{Facility: 0, Level: 6, Seq: 339, Usec: 5140900, Message: "NET: Registered protocol family 10"},
		},
		{
			// The dictionary after the message is dropped.
			in: "3,1022,402592557,-;python3[21951]: segfault at 0 ip 00007fa681985ad8 sp 00007ffe75c39d18 error 4\n" +
				" SUBSYSTEM=cpu\n DEVICE=+cpu:1\n",
			want: record{Level: 3, Seq: 1022, Usec: 402592557, Message: "python3[21951]: segfault at 0 ip 00007fa681985ad8 sp 00007ffe75c39d18 error 4"},
		},
		{
			// Unknown fields after flags are ignored; ';' may appear in the message.
			in:   "4,7,8,c,caller=T1;a;b\n",
			want: record{Level: 4, Seq: 7, Usec: 8, Message: "a;b"},
		},
		{
			// Written by user space: facility 1 (user), level 6.
			in:   "14,800,900,-;systemd[1]: Started foo.service.",
			want: record{Facility: 1, Level: 6, Seq: 800, Usec: 900, Message: "systemd[1]: Started foo.service."},
		},
		{
			in:   "6,1,2,-;",
			want: record{Level: 6, Seq: 1, Usec: 2},
		},
	}
	for _, tt := range tests {
		got, err := parseRecord(tt.in)
		if err != nil {
			t.Errorf("parseRecord(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("parseRecord(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}

	for _, bad := range []string{
		"",
		"no separator at all",
		"6,339;too few fields",
		"x,339,5140900,-;bad prio",
		"-1,339,5140900,-;negative prio",
		"6,abc,5140900,-;bad seq",
		"6,339,-5,-;bad usec",
		"Nov 22 01:57:40 vm kernel: a, b, c; d",
	} {
		if r, err := parseRecord(bad); err == nil {
			t.Errorf("parseRecord(%q) = %+v, want an error", bad, r)
		}
	}
}

// recordReader returns one record per Read, as /dev/kmsg does.
type recordReader struct {
	reads []any // string or error
}

func (r *recordReader) Read(p []byte) (int, error) {
	if len(r.reads) == 0 {
		return 0, io.EOF
	}
	next := r.reads[0]
	r.reads = r.reads[1:]
	if err, ok := next.(error); ok {
		return 0, err
	}
	return copy(p, next.(string)), nil
}

func TestReadKmsg(t *testing.T) {
	r := &recordReader{reads: []any{
		"6,1,10,-;first",
		"14,2,20,-;systemd[1]: user space, not the kernel",
		syscall.EPIPE, // messages were overwritten; reading goes on
		"3,9,90,-;second\n SUBSYSTEM=cpu",
		"garbage",
		"4,10,100,-;third",
	}}
	var got []string
	err := readKmsg(r, func(msg string) bool { got = append(got, msg); return true }, slog.New(slog.DiscardHandler))
	if err != io.EOF {
		t.Errorf("readKmsg error = %v, want io.EOF", err)
	}
	if want := []string{"first", "second", "third"}; !reflect.DeepEqual(got, want) {
		t.Errorf("readKmsg sent %q, want %q", got, want)
	}
}

// TestFollowKmsgStops checks on the real /dev/kmsg that a watcher blocked
// in a read stops at once when cancelled, which SIGTERM and a reload need.
func TestFollowKmsgStops(t *testing.T) {
	f, err := os.Open(kmsgPath)
	if err != nil {
		t.Skipf("no readable %s: %v", kmsgPath, err)
	}
	f.Close()

	w := &watcher{source: kmsgPath, log: slog.New(slog.DiscardHandler), msgs: make(chan string, 1000)}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := w.follow(ctx, true)
		done <- err
	}()
	time.Sleep(200 * time.Millisecond) // let it block in Read
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("follow on /dev/kmsg did not return within a second of cancel")
	}
}

func TestKmsgHint(t *testing.T) {
	open := func(path string, errno syscall.Errno) error {
		return &fs.PathError{Op: "open", Path: path, Err: errno}
	}
	for _, tc := range []struct {
		source string
		err    error
		want   string // a fragment; "" for no hint
	}{
		{kmsgPath, open(kmsgPath, syscall.EPERM), "needs CAP_SYSLOG"},
		{kmsgPath, open(kmsgPath, syscall.EACCES), "needs CAP_SYSLOG"},
		{kmsgPath, open(kmsgPath, syscall.ENOENT), "has no /dev/kmsg"},
		{kmsgPath, open(kmsgPath, syscall.EIO), ""},
		{"/var/log/kern.log", open("/var/log/kern.log", syscall.EPERM), ""},
	} {
		got := kmsgHint(tc.source, tc.err)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("kmsgHint(%s, %v) = %q, want %q", tc.source, tc.err, got, tc.want)
		}
	}
}
