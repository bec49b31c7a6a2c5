package config

import (
	"fmt"
	"path"
	"regexp"
	"strings"

	"github.com/omnipack/omnipack/layout"
)

// absPathRe finds absolute paths inside an argument or a value: the whole
// word, or what follows "=" (-config=/etc/x) or ":" (file:/var/x).
var absPathRe = regexp.MustCompile(`(?:^|[=:\s,])(/[^\s,:=;"']*)`)

// hostPaths are trees every host has and no package creates; a path in
// them is the host's business (/dev/null, /proc/self, /sys/class/net).
var hostPaths = []string{"/dev", "/proc", "/sys"}

// warnings finds the likely mistakes that do not stop a build.
func (c *Config) warnings() Problems {
	var ws Problems
	have := c.providedPaths()
	check := func(field, value string) {
		for _, m := range absPathRe.FindAllStringSubmatch(value, -1) {
			p := path.Clean(m[1])
			if provided(have, p) {
				continue
			}
			ws = append(ws, Problem{Field: field,
				Msg: fmt.Sprintf("%s is neither shipped nor created by the package, so the service may fail on a host that lacks it", p),
				Fix: "ship it with [[files]] or [[config]], declare it in [[dirs]], or correct the path"})
		}
	}
	for i, a := range c.Service.Args {
		check(fmt.Sprintf("service.args[%d]", i), a)
	}
	for _, k := range sortedKeys(c.Service.Environment) {
		check("service.environment."+k, c.Service.Environment[k])
	}
	return ws
}

// providedPaths are what the package ships or creates on every host: its
// files and directories, and the parents a package manager creates for
// them.
func (c *Config) providedPaths() []string {
	name := c.Project.Name
	have := []string{layout.Bin(name), layout.StateDir(name), layout.ConfigDir(name), c.Service.Exec, c.Service.WorkingDirectory}
	for _, f := range c.Configs {
		have = append(have, c.ConfigDest(f))
	}
	for _, f := range c.Files {
		have = append(have, f.Dest)
	}
	for _, d := range c.Dirs {
		have = append(have, d.Path)
	}
	for _, f := range c.Targets.Formats {
		if p := c.EnvironmentFileFor(f); p != "" {
			have = append(have, p)
		}
	}
	return have
}

// provided reports whether p is one of have, lies in a directory of have,
// is a parent of one, or is in a tree every host has.
func provided(have []string, p string) bool {
	for _, h := range append(have, hostPaths...) {
		if p == h || strings.HasPrefix(p, h+"/") || strings.HasPrefix(h, p+"/") {
			return true
		}
	}
	return false
}
