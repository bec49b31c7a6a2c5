package initsys

// Resource limits. systemd has a setting for each; the other inits express
// what they can (see each renderer): the open files limit and the nice
// value everywhere, the memory maximum and CPU weight only where the init
// manages cgroups (systemd, OpenRC).

import (
	"fmt"
	"strconv"
	"strings"
)

// Ranges of the limits, as systemd's settings take them.
const (
	// MaxOpenFiles is the kernel's default fs.nr_open: RLIMIT_NOFILE cannot
	// be set above it.
	MaxOpenFiles = 1 << 20
	MinCPUWeight = 1
	MaxCPUWeight = 10000
	MinNice      = -20
	MaxNice      = 19
)

// Limits are the resource limits the daemon runs under. A zero field (nil
// Nice) sets nothing: the daemon gets what its init gives every service.
type Limits struct {
	// OpenFiles is RLIMIT_NOFILE, set as both the soft and the hard
	// limit: a Go daemon raises its soft limit to the hard one at start,
	// so a soft limit alone would not hold.
	OpenFiles int
	// MemoryMax is the most memory, in bytes, the service's cgroup may
	// use (systemd's MemoryMax=, cgroup v2 memory.max).
	MemoryMax uint64
	// CPUWeight is the service's share of CPU time against other cgroups,
	// MinCPUWeight to MaxCPUWeight, 100 being every service's default
	// (systemd's CPUWeight=, cgroup v2 cpu.weight).
	CPUWeight int
	// Nice is the scheduling priority, MinNice to MaxNice.
	Nice *int
}

// CgroupManager is implemented by the renderers of inits that put the
// service in a cgroup of its own, and so apply Limits.MemoryMax and
// Limits.CPUWeight; the others cannot.
type CgroupManager interface {
	ManagesCgroups() bool
}

// IsZero reports whether no limit is set.
func (l Limits) IsZero() bool { return l == Limits{} }

// checkLimits rejects values no init can apply.
func checkLimits(name string, l Limits) error {
	switch {
	case l.OpenFiles < 0 || l.OpenFiles > MaxOpenFiles:
		return fmt.Errorf("initsys: %s: open files limit %d out of range 1..%d", name, l.OpenFiles, MaxOpenFiles)
	case l.CPUWeight != 0 && (l.CPUWeight < MinCPUWeight || l.CPUWeight > MaxCPUWeight):
		return fmt.Errorf("initsys: %s: CPU weight %d out of range %d..%d", name, l.CPUWeight, MinCPUWeight, MaxCPUWeight)
	case l.Nice != nil && (*l.Nice < MinNice || *l.Nice > MaxNice):
		return fmt.Errorf("initsys: %s: nice %d out of range %d..%d", name, *l.Nice, MinNice, MaxNice)
	}
	return nil
}

// CPUShares is the cgroup v1 cpu.shares for a cgroup v2 CPU weight, mapped
// as systemd maps CPUWeight= on a v1 host: the default weight 100 is the
// default 1024 shares.
func CPUShares(weight int) int {
	return min(max(weight*1024/100, 2), 262144)
}

// NiceValue is the nice value as sh and init files write it; "" when unset.
func (l Limits) NiceValue() string {
	if l.Nice == nil {
		return ""
	}
	return strconv.Itoa(*l.Nice)
}

// UlimitOpenFiles is the sh that sets the open files limit, soft and hard,
// for what the shell starts next: one statement, or "" when unset. Where
// the shell may not raise the hard limit that far (without
// CAP_SYS_RESOURCE, as in some containers) it sets both to the hard limit
// and warns, as systemd, too, gets as close as it may and starts the
// service.
func UlimitOpenFiles(s Service, emit CapsEmit) string {
	if s.Limits.OpenFiles == 0 {
		return ""
	}
	n := s.Limits.OpenFiles
	// POSIX leaves ulimit -n undefined, but dash, bash, BusyBox ash and
	// mksh all have it, and without -H or -S it sets both limits.
	return fmt.Sprintf("# shellcheck disable=SC3045\n"+
		"if ! ulimit -n %d 2>/dev/null; then ulimit -n \"$(ulimit -Hn)\"; %s; fi", n,
		emit("warning", fmt.Sprintf("the open files limit cannot be raised to %d here; starting with the hard limit, $(ulimit -Hn)", n)))
}

// LimitsNotEnforced says which of the limits an init without a cgroup
// manager (sysvinit, runit, upstart) cannot apply, for a comment in its
// files; "" when none of them is set.
func LimitsNotEnforced(l Limits, init string) string {
	var names []string
	if l.MemoryMax > 0 {
		names = append(names, "memory maximum")
	}
	if l.CPUWeight > 0 {
		names = append(names, "CPU weight")
	}
	if len(names) == 0 {
		return ""
	}
	return fmt.Sprintf("%s puts the service in no cgroup of its own: the %s %s not enforced",
		init, strings.Join(names, " and "), map[bool]string{true: "are", false: "is"}[len(names) > 1])
}
