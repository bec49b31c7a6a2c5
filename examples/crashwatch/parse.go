package main

import (
	"regexp"
	"strconv"
	"strings"
)

// Event kinds.
const (
	kindSegfault = "segfault"
	kindTrap     = "trap"
	kindOOMKill  = "oom_kill"
)

// Event is one crash found in the kernel log, written as one JSON line.
type Event struct {
	Time    string `json:"time"` // RFC 3339, UTC, when crashwatch read the message
	Kind    string `json:"kind"`
	PID     int    `json:"pid"`
	Process string `json:"process"`
	Message string `json:"message"`
	NodeID  string `json:"node_id"`
}

// The kernel's own formats. A task's comm is at most 15 bytes and may hold
// spaces and brackets, so it is matched lazily with a length bound; the bound
// also keeps a long log prefix from being taken for a process name.
var (
	// arch/x86/mm/fault.c: "%s%s[%d]: segfault at %lx ip %px sp %px error %lx"
	segfaultRE = regexp.MustCompile(`^(.{1,15}?)\[(\d+)\]: segfault at `)
	// arch/x86/kernel/traps.c: "traps: %s[%d] general protection fault ..."
	// and "traps: %s[%d] trap %s ip:..." (invalid opcode, divide error, int3).
	trapRE = regexp.MustCompile(`^traps: (.{1,15}?)\[(\d+)\] (?:general protection|trap )`)
	// mm/oom_kill.c: "Out of memory: Killed process %d (%s) total-vm:..."
	// and, for a cgroup limit, "Memory cgroup out of memory: Killed process ...".
	// Kernels before 5.0 said "Kill process %d (%s) score ...".
	oomRE = regexp.MustCompile(`^(?:Memory cgroup o|O)ut of memory: Kill(?:ed)? process (\d+) \((.*)\)(?: |,|$)`)
	// mm/oom_kill.c: "oom-kill:constraint=...,task=%s,pid=%d,uid=%d"
	oomKillRE = regexp.MustCompile(`^oom-kill:.*,task=(.*),pid=(\d+),uid=`)

	// Prefixes that dmesg puts before a message: "[12345.678901] " or,
	// with -T, "[Mon Jan  2 03:04:05 2024] ".
	dmesgTimeRE = regexp.MustCompile(`^\[[^\]]*\d\] `)
)

// parseMessage reports whether a kernel message is a crash, and which.
// The event's Time and NodeID are left for the caller.
func parseMessage(msg string) (Event, bool) {
	ev := Event{Message: msg}
	var comm, pid string
	if m := segfaultRE.FindStringSubmatch(msg); m != nil {
		ev.Kind, comm, pid = kindSegfault, m[1], m[2]
	} else if m := trapRE.FindStringSubmatch(msg); m != nil {
		ev.Kind, comm, pid = kindTrap, m[1], m[2]
	} else if m := oomRE.FindStringSubmatch(msg); m != nil {
		ev.Kind, pid, comm = kindOOMKill, m[1], m[2]
	} else if m := oomKillRE.FindStringSubmatch(msg); m != nil {
		ev.Kind, comm, pid = kindOOMKill, m[1], m[2]
	} else {
		return Event{}, false
	}
	n, err := strconv.Atoi(pid)
	if err != nil {
		return Event{}, false // out of range: not a real pid
	}
	ev.PID, ev.Process = n, comm
	return ev, true
}

// lineMessage returns the kernel message in one line of a text log, without
// the prefix that dmesg, syslog, journalctl or a copy of /dev/kmsg put
// before it. A line with no known prefix is returned as it is.
func lineMessage(line string) string {
	line = strings.TrimRight(line, "\r\n")
	if r, err := parseRecord(line); err == nil {
		return r.Message
	}
	// syslog and journalctl: "Jan  2 03:04:05 host kernel: ...".
	if _, after, ok := strings.Cut(line, " kernel: "); ok {
		line = after
	}
	if loc := dmesgTimeRE.FindStringIndex(line); loc != nil {
		line = line[loc[1]:]
	}
	return line
}
