package main

import "testing"

// Messages as a Linux 6.x kernel printed them for real crashes.
func TestParseMessage(t *testing.T) {
	tests := []struct {
		msg     string
		kind    string
		pid     int
		process string
	}{
		{
			msg:  "python3[21951]: segfault at 0 ip 00007fa681985ad8 sp 00007ffe75c39d18 error 4 in libc.so.6[167ad8,7fa681844000+156000] likely on CPU 1 (core 1, socket 0)",
			kind: kindSegfault, pid: 21951, process: "python3",
		},
		{
			// A comm may hold spaces and brackets.
			msg:  "Web Content[4242]: segfault at 7f00dead ip 00007f1 sp 00007ff error 6 in libxul.so[7f2+3a0000]",
			kind: kindSegfault, pid: 4242, process: "Web Content",
		},
		{
			msg:  "a[b][77]: segfault at 8 ip 0000000000401136 sp 00007ffc error 4 in a.out[401000+1000]",
			kind: kindSegfault, pid: 77, process: "a[b]",
		},
		{
			msg:  "traps: python3[22032] general protection fault ip:7ff030b1e000 sp:7ffdd8b71c28 error:0 in dev/zero[0,7ff030b1e000+1000]",
			kind: kindTrap, pid: 22032, process: "python3",
		},
		{
			msg:  "traps: python3[22078] trap invalid opcode ip:7f3a92db1000 sp:7ffce51af428 error:0 in dev/zero[0,7f3a92db1000+1000]",
			kind: kindTrap, pid: 22078, process: "python3",
		},
		{
			msg:  "traps: python3[22119] trap divide error ip:7f07ebc07002 sp:7ffd693126c8 error:0 in dev/zero[2,7f07ebc07000+1000]",
			kind: kindTrap, pid: 22119, process: "python3",
		},
		{
			msg:  "Out of memory: Killed process 1234 (stress-ng-vm) total-vm:4194304kB, anon-rss:3960000kB, file-rss:4kB, shmem-rss:0kB, UID:0 pgtables:7800kB oom_score_adj:1000",
			kind: kindOOMKill, pid: 1234, process: "stress-ng-vm",
		},
		{
			msg:  "Memory cgroup out of memory: Killed process 22247 (python3) total-vm:221368kB, anon-rss:50944kB, file-rss:6524kB, shmem-rss:0kB, UID:0 pgtables:160kB oom_score_adj:0",
			kind: kindOOMKill, pid: 22247, process: "python3",
		},
		{
			msg:  "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0,oom_memcg=/cwtest,task_memcg=/cwtest,task=python3,pid=22247,uid=0",
			kind: kindOOMKill, pid: 22247, process: "python3",
		},
		{
			msg:  "oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/user.slice/user-1000.slice/session-2.scope,task=java,pid=9,uid=1000",
			kind: kindOOMKill, pid: 9, process: "java",
		},
		{
			// Kernels before 5.0.
			msg:  "Out of memory: Kill process 3170 (mysqld) score 895 or sacrifice child",
			kind: kindOOMKill, pid: 3170, process: "mysqld",
		},
	}
	for _, tt := range tests {
		ev, ok := parseMessage(tt.msg)
		if !ok {
			t.Errorf("parseMessage(%q): no event", tt.msg)
			continue
		}
		if ev.Kind != tt.kind || ev.PID != tt.pid || ev.Process != tt.process || ev.Message != tt.msg {
			t.Errorf("parseMessage(%q) = %+v, want kind %s pid %d process %q", tt.msg, ev, tt.kind, tt.pid, tt.process)
		}
	}
}

func TestParseMessageIgnores(t *testing.T) {
	for _, msg := range []string{
		"",
		"Linux version 6.18.44 (builder@sandboxing) #1 SMP PREEMPT_DYNAMIC",
		"python3 invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=0",
		"oom_reaper: reaped process 22247 (python3), now anon-rss:0kB, file-rss:0kB, shmem-rss:0kB",
		"Code: e1 ff ff ff c3 66 2e 0f 1f 84 00 00 00 00 00 0f 1f 00 89 f8",
		"traps: no pid here general protection fault",
		// A user-space log line that quotes a crash: the prefix is far
		// longer than any process name.
		"Jan  2 03:04:05 host myapp[55]: child[56]: segfault at 0 ip 0 sp 0 error 4",
		"huge[99999999999999999999]: segfault at 0 ip 0 sp 0 error 4",
	} {
		if ev, ok := parseMessage(msg); ok {
			t.Errorf("parseMessage(%q) = %+v, want no event", msg, ev)
		}
	}
}

func TestLineMessage(t *testing.T) {
	const msg = "python3[21951]: segfault at 0 ip 00007fa681985ad8 sp 00007ffe75c39d18 error 4 in libc.so.6[167ad8,7fa681844000+156000]"
	for _, line := range []string{
		msg,
		msg + "\n",
		msg + "\r\n",
		"[  402.592557] " + msg,             // dmesg
		"[Sun Nov 22 01:57:40 2026] " + msg, // dmesg -T
		"Nov 22 01:57:40 vm kernel: " + msg, // syslog
		"Nov 22 01:57:40 vm kernel: [  402.592557] " + msg,             // syslog of an older rsyslog
		"2026-11-22T01:57:40.123456+00:00 vm kernel: " + msg,           // rsyslog, RFC 3339
		"3,1234,402592557,-;" + msg,                                    // a copy of /dev/kmsg
		"3,1234,402592557,-,caller=T21951;" + msg + "\n SUBSYSTEM=cpu", // with more fields and a dictionary
	} {
		if got := lineMessage(line); got != msg {
			t.Errorf("lineMessage(%q) = %q, want %q", line, got, msg)
		}
	}
}
