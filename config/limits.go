package config

import (
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
)

// Limits is [service.limits]: the resource limits the daemon runs under.
// Every key is optional; one left unset sets no limit.
type Limits struct {
	OpenFiles *int `toml:"open_files"` // RLIMIT_NOFILE, soft and hard
	// MemoryMax is bytes: an integer, or a string with a K, M, G or T
	// suffix (1024-based) as systemd's MemoryMax= takes it, such as
	// "256M". Left as decoded, so that validate can say what is wrong
	// with any other value.
	MemoryMax any  `toml:"memory_max"`
	CPUWeight *int `toml:"cpu_weight"` // 1..10000, as systemd's CPUWeight=
	Nice      *int `toml:"nice"`       // -20..19
}

var memorySizeRe = regexp.MustCompile(`^([0-9]+)([KMGTkmgt]?)$`)

// memorySuffixes are the 1024-based multipliers systemd's MemoryMax= takes.
var memorySuffixes = map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}

// memoryMaxFix is the fix for a memory_max that is not a memory size.
const memoryMaxFix = `write bytes, or a whole number with K, M, G or T (1024-based) as systemd's MemoryMax= takes it, such as "256M"; leave it unset for no limit`

// parseMemorySize reads a memory size as [service.limits] memory_max
// holds it: bytes as an integer, or a string with an optional K, M, G or T
// suffix. fix says what to write instead when it is not one.
func parseMemorySize(v any) (bytes uint64, msg, fix string) {
	var s string
	switch v := v.(type) {
	case int64:
		s = strconv.FormatInt(v, 10)
	case string:
		s = v
	default:
		return 0, fmt.Sprintf("%v is not a memory size", v), memoryMaxFix
	}
	m := memorySizeRe.FindStringSubmatch(s)
	switch {
	case s == "infinity" || s == "max":
		return 0, fmt.Sprintf("%q is not a memory size", s), "leave memory_max unset for no limit"
	case m == nil:
		return 0, fmt.Sprintf("%q is not a memory size", s), memoryMaxFix
	case m[2] != strings.ToUpper(m[2]):
		// systemd takes the suffixes in upper case only.
		return 0, fmt.Sprintf("%q is not a memory size", s), didYouMean(m[1]+strings.ToUpper(m[2])) + " The suffixes are upper case."
	}
	n, err := strconv.ParseUint(m[1], 10, 64)
	shift := memorySuffixes[m[2]]
	switch {
	case err != nil || n > math.MaxInt64>>shift:
		// cgroup v1's memory.limit_in_bytes is a signed 64-bit number.
		return 0, fmt.Sprintf("%q is too large", s), "leave memory_max unset for no limit"
	case n == 0:
		return 0, "0 would leave the daemon no memory", "leave memory_max unset for no limit"
	}
	return n << shift, "", ""
}

// validateLimits checks [service.limits], and notes which target inits
// cannot enforce the limits that need a cgroup.
func (c *Config) validateLimits(add addFunc) {
	l := c.Service.Limits
	if n := l.OpenFiles; n != nil && (*n < 1 || *n > initsys.MaxOpenFiles) {
		add("service.limits.open_files",
			fmt.Sprintf("use the number of files the daemon may have open, 1 to %d (the kernel's default fs.nr_open)", initsys.MaxOpenFiles),
			"%d is out of range", *n)
	}
	if l.MemoryMax != nil {
		if _, msg, fix := parseMemorySize(l.MemoryMax); msg != "" {
			add("service.limits.memory_max", fix, "%s", msg)
		}
	}
	if w := l.CPUWeight; w != nil && (*w < initsys.MinCPUWeight || *w > initsys.MaxCPUWeight) {
		add("service.limits.cpu_weight",
			fmt.Sprintf("use %d to %d as systemd's CPUWeight= takes it; every service has 100 unless set", initsys.MinCPUWeight, initsys.MaxCPUWeight),
			"%d is out of range", *w)
	}
	if n := l.Nice; n != nil && (*n < initsys.MinNice || *n > initsys.MaxNice) {
		add("service.limits.nice",
			fmt.Sprintf("use %d (the most CPU time) to %d (the least); 0 is every service's default", initsys.MinNice, initsys.MaxNice),
			"%d is out of range", *n)
	}
	if l.MemoryMax == nil && l.CPUWeight == nil {
		return
	}
	var unenforced []string
	for _, name := range c.Targets.Inits {
		r, ok := inits.Lookup(name)
		if !ok {
			continue // validateTargets reports it
		}
		if cg, ok := r.(initsys.CgroupManager); !ok || !cg.ManagesCgroups() {
			unenforced = append(unenforced, name)
		}
	}
	if n := len(unenforced); n > 0 {
		list := unenforced[0]
		if n > 1 {
			list = strings.Join(unenforced[:n-1], ", ") + " and " + unenforced[n-1]
		}
		c.Notes = append(c.Notes, fmt.Sprintf("service.limits: memory_max and cpu_weight are not enforced under %s, which put a service in no cgroup of its own (open_files and nice are)", list))
	}
}

// limitsModel is [service.limits] as the service model holds it.
func (l Limits) limitsModel() initsys.Limits {
	var m initsys.Limits
	if l.OpenFiles != nil {
		m.OpenFiles = *l.OpenFiles
	}
	if l.MemoryMax != nil {
		m.MemoryMax, _, _ = parseMemorySize(l.MemoryMax)
	}
	if l.CPUWeight != nil {
		m.CPUWeight = *l.CPUWeight
	}
	if l.Nice != nil {
		n := *l.Nice
		m.Nice = &n
	}
	return m
}
