package config

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/internal/loopback"
	"github.com/omnipack/omnipack/layout"
)

var (
	// A system account name valid for useradd, busybox adduser and every
	// init's user setting.
	accountRe = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	envKeyRe  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	capRe     = regexp.MustCompile(`^CAP_[A-Z_]+$`)
	// A conservative SPDX expression: identifiers, LicenseRef-, AND/OR/WITH
	// and parentheses.
	spdxRe       = regexp.MustCompile(`^[A-Za-z0-9.+()\- ]+$`)
	maintainerRe = regexp.MustCompile(`^[^<>]+ <[^<>@\s]+@[^<>\s]+>$`)
)

// ReloadSignals are the signals a service may reload on.
var ReloadSignals = []string{"HUP", "USR1", "USR2"}

// validate checks the defaulted config and returns every problem found.
func (c *Config) validate() Problems {
	var ps Problems
	add := func(field, fix, format string, a ...any) {
		ps = append(ps, Problem{Field: field, Msg: fmt.Sprintf(format, a...), Fix: fix})
	}
	c.validateProject(add)
	c.validateTargets(add)
	c.validateBinary(add)
	c.validateService(add)
	c.validateLimits(add)
	c.validateFiles(add)
	c.validateDirs(add)
	c.validateSigning(add)
	c.validateInstaller(add)
	c.validateOCI(add)
	return ps
}

// imageRepoRe is an image repository as registries name them: an optional
// registry host[:port], then lower-case path components.
var imageRepoRe = regexp.MustCompile(`^(?:[a-zA-Z0-9.-]+(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$`)

func (c *Config) validateOCI(add addFunc) {
	o := c.OCI
	if !imageRepoRe.MatchString(o.Repository) || len(o.Repository) > 255 {
		add("oci.repository", `use a registry path in lower case, such as "ghcr.io/vendor/agent"`, "%q is not an image repository name", o.Repository)
	}
	for _, f := range []struct {
		field string
		id    int
	}{{"oci.uid", o.UID}, {"oci.gid", o.GID}} {
		if f.id < 1 || f.id > 2147483646 {
			add(f.field, fmt.Sprintf("use a non-root id from 1 to 2147483646, or leave it unset for %d", DefaultImageID), "%d is out of range", f.id)
		}
	}
	for i, p := range o.HostPaths {
		if !path.IsAbs(p) || path.Clean(p) != p || p == "/" {
			add(fmt.Sprintf("oci.host_paths[%d]", i), "give a clean absolute path such as /dev/kmsg", "%q is not a clean absolute path", p)
		}
	}
	if len(c.Targets.Images) > 0 && len(c.Targets.Formats) == 0 {
		add("targets.formats", "list a package format beside the image (the image is made from the packages' inputs)", "only an image is listed")
	}
}

var configKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// EnvKeyPrefix starts an [installer] key that names a variable of the
// environment file instead of a config key: env.NAME.
const EnvKeyPrefix = "env."

func (c *Config) validateInstaller(add addFunc) {
	in := c.Installer
	for _, f := range []struct{ field, value, what string }{
		{"installer.base_url", in.BaseURL, "releases"},
		{"installer.repo_url", in.RepoURL, "the repository"},
	} {
		if f.value == "" {
			continue
		}
		u, err := url.Parse(f.value)
		switch {
		case err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http"):
			add(f.field, "use an absolute https URL", "%q is not an http(s) URL", f.value)
		case u.Scheme == "http" && !loopback.Host(u.Hostname()):
			add(f.field, "serve "+f.what+" over https; plain http is only for loopback tests", "%q uses plain http", f.value)
		}
	}
	if in.Config != "" && !slices.ContainsFunc(c.Configs, func(f ConfigFile) bool { return f.Dest == in.Config }) {
		var dests []string
		for _, f := range c.Configs {
			dests = append(dests, f.Dest)
		}
		fix := "name the dest of one of the [[config]] files"
		if s, ok := suggest(in.Config, dests); ok {
			fix = didYouMean(s) + " Otherwise " + fix
		}
		add("installer.config", fix, "%q is not a [[config]] file", in.Config)
	}
	for i, k := range append(append([]string(nil), in.Positional...), in.Secrets...) {
		// env.NAME is a variable of the environment file, which the
		// installers' --set env.NAME=VALUE writes.
		if name, ok := strings.CutPrefix(k, EnvKeyPrefix); ok {
			switch {
			case !envKeyRe.MatchString(name):
				add(fmt.Sprintf("installer key %d", i), "write env.NAME with NAME of letters, digits and _, not starting with a digit", "%q is not env.NAME", k)
			case !c.Service.EnvironmentFile:
				add(fmt.Sprintf("installer key %d", i), "set [service] environment_file = true, or name a config key", "%q names a variable of the environment file, which the package does not ship", k)
			}
		} else if !configKeyRe.MatchString(k) {
			add(fmt.Sprintf("installer key %d", i), "use letters, digits, _ and -, or env.NAME for a variable of the environment file", "%q is not a config key", k)
		}
	}
	if in.HealthSeconds < 1 || in.HealthSeconds > 600 {
		add("installer.health_seconds", "use 1 to 600 seconds", "%d is out of range", in.HealthSeconds)
	}
}

func (c *Config) validateSigning(add addFunc) {
	s := c.Signing
	if s.KeyDir != "" {
		if st, err := os.Stat(c.Resolve(s.KeyDir)); err != nil || !st.IsDir() {
			add("signing.key_dir", "run `omnipack keygen --dir "+s.KeyDir+"` or fix the path (relative to omnipack.toml)",
				"key directory %s does not exist", c.Resolve(s.KeyDir))
		}
	}
	if !envKeyRe.MatchString(s.PasswordEnv) {
		add("signing.password_env", "name an environment variable such as OMNIPACK_KEY_PASSWORD", "%q is not a variable name", s.PasswordEnv)
	}
	if d, err := ParseValidity(s.Expires); err != nil || d < time.Hour {
		add("signing.expires", `use a duration of at least 1h such as "30d" or "720h"`, "%q is not a usable validity", s.Expires)
	}
}

// ParseValidity parses a validity period: a Go duration ("720h") or a
// number of days ("30d").
func ParseValidity(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

type addFunc func(field, fix, format string, a ...any)

// maxVersionLen is the longest version the installers take
// (release.CheckVersion), so a config must not get as far as building a
// release with a longer one.
const maxVersionLen = 128

func (c *Config) validateProject(add addFunc) {
	p := c.Project
	switch {
	case p.Name == "":
		add("project.name", `set name = "myagent"`, "is required")
	case len(p.Name) > layout.MaxName:
		add("project.name", fmt.Sprintf("use at most %d characters: the name is also the service's system user, and useradd takes no more", layout.MaxName),
			"is %d characters long", len(p.Name))
	default:
		if err := layout.CheckName(p.Name); err != nil {
			add("project.name", `name the program as its binary and service are called, such as "node_exporter"`, "%v", err)
		} else {
			c.validatePackages(add)
		}
	}
	switch {
	case p.Version == "":
		add("project.version", `set version = "1.0.0", or version = "git" to derive it from git describe`, "is required")
	case p.Version == "git":
	case len(p.Version) > maxVersionLen:
		add("project.version", fmt.Sprintf("use at most %d characters", maxVersionLen),
			"%q is longer than the installer accepts", p.Version)
	default:
		for _, f := range c.Targets.Formats {
			if r, ok := formatRules[f]; ok {
				if why, fix := r.CheckVersion(p.Version); why != "" {
					add("project.version", fix, "%q is not a valid %s version: %s", p.Version, f, why)
				}
			}
		}
	}
	if p.Release < 1 {
		add("project.release", "use 1 for the first packaging of a version", "must be 1 or more, got %d", p.Release)
	}
	if p.Maintainer == "" {
		add("project.maintainer", `set maintainer = "Name <email@example.com>"`, "is required (deb and rpm record it)")
	} else if !maintainerRe.MatchString(p.Maintainer) {
		add("project.maintainer", `use the form "Name <email@example.com>"`, "%q is not of the form Name <email>", p.Maintainer)
	}
	if !spdxRe.MatchString(p.License) {
		add("project.license", `use an SPDX expression such as "Apache-2.0" or "MIT OR Apache-2.0"`, "%q is not an SPDX license expression", p.License)
	}
	if p.Homepage != "" {
		if u, err := url.Parse(p.Homepage); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			add("project.homepage", "use an absolute http(s) URL", "%q is not an http(s) URL", p.Homepage)
		}
	}
	if strings.ContainsAny(p.Summary, "\n") {
		add("project.summary", "keep the summary to one line; put details in description", "must be one line")
	}
}

// validatePackages checks each target format's package name (mapped from
// the program's, or set in [package]) and relations against the format's
// rule, and notes the names a format's rule changed.
func (c *Config) validatePackages(add addFunc) {
	for name := range c.Package.Formats {
		if _, ok := formatRules[name]; !ok {
			add("package.formats."+name, "name a format of targets.formats: "+strings.Join(FormatNames(), ", "), "unknown format %q", name)
		}
	}
	mapped := map[string][]string{} // package name -> formats it was mapped for
	for _, f := range c.Targets.Formats {
		r, ok := formatRules[f]
		if !ok {
			continue
		}
		pkg := c.PackageFor(f)
		field, explicit := "package.formats."+f+".name", true
		switch {
		case c.Package.Formats[f].Name != "":
		case c.Package.Name != "":
			field = "package.name"
		default:
			field, explicit = "project.name", false
		}
		if why := r.CheckName(pkg.Name); why != "" {
			if explicit {
				add(field, "choose a name the format allows", "%q is not a valid %s package name: %s", pkg.Name, f, why)
			} else {
				add(field, fmt.Sprintf("set [package] name, or [package.formats.%s] name, to a %s package name", f, f),
					"%q gives the %s package name %q, which is not valid: %s", c.Project.Name, f, pkg.Name, why)
			}
		} else if !explicit && pkg.Name != c.Project.Name {
			mapped[pkg.Name] = append(mapped[pkg.Name], f)
		}
		for kind, names := range map[string][]string{"replaces": pkg.Replaces, "conflicts": pkg.Conflicts, "provides": pkg.Provides} {
			for i, n := range names {
				if why := r.CheckName(n); why != "" {
					add(fmt.Sprintf("package.%s[%d]", kind, i), "name the other package as "+f+" spells it, or set it in [package.formats."+f+"]",
						"%q is not a valid %s package name: %s", n, f, why)
				}
			}
		}
	}
	for _, name := range slices.Sorted(maps.Keys(mapped)) {
		fs := mapped[name]
		var rules []string
		for _, f := range fs {
			rules = append(rules, formatRules[f].NameRule)
		}
		c.Notes = append(c.Notes, fmt.Sprintf("the %s package of %s is named %s (%s); the program, its service and /etc/%s keep %s; set [package] name to choose another",
			strings.Join(fs, " and "), c.Project.Name, name, strings.Join(slices.Compact(rules), "; "), c.Project.Name, c.Project.Name))
	}
}

func (c *Config) validateTargets(add addFunc) {
	t := c.Targets
	checkList(add, "targets.formats", append(slices.Clone(t.Formats), t.Images...), append(FormatNames(), ImageTargets...), nil)
	checkList(add, "targets.archs", t.Archs, archNames(), archAliases)
	checkList(add, "targets.inits", t.Inits, inits.Names(), nil)
}

// checkList reports unknown and duplicate entries of a list of names.
func checkList(add addFunc, field string, got, known []string, aliases map[string]string) {
	seen := map[string]bool{}
	for i, v := range got {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !slices.Contains(known, v):
			add(f, oneOfFix(v, known, aliases), "unknown value %q", v)
		case seen[v]:
			add(f, "remove the duplicate", "%q is listed twice", v)
		}
		seen[v] = true
	}
}

func (c *Config) validateBinary(add addFunc) {
	b := c.Binary
	switch {
	case b.GoPackage == "" && len(b.Prebuilt) == 0:
		add("binary", `set go_package = "." to build from Go, or [binary.prebuilt] with one file per architecture`,
			"no binary source: set go_package or prebuilt")
	case b.GoPackage != "" && len(b.Prebuilt) > 0:
		add("binary", "keep only one of them", "go_package and prebuilt are both set")
	case b.GoPackage != "":
		dir := c.Resolve(b.GoPackage)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			add("binary.go_package", "give a directory holding a Go main package, relative to omnipack.toml",
				"directory %s does not exist", dir)
		}
		if msg, fix, ok := LdflagsProblem(b.Ldflags); !ok {
			add("binary.ldflags", fix, "%s", msg)
		}
	default:
		for arch := range b.Prebuilt {
			if _, ok := LookupArch(arch); !ok {
				add("binary.prebuilt."+arch, oneOfFix(arch, archNames(), archAliases), "unknown architecture %q", arch)
			}
		}
		for _, arch := range c.Targets.Archs {
			if _, known := LookupArch(arch); !known {
				continue // validateTargets reports it
			}
			src, ok := b.Prebuilt[arch]
			field := "binary.prebuilt." + arch
			if !ok {
				add("binary.prebuilt", fmt.Sprintf("add %s = \"path/to/binary\", or drop %s from targets.archs", arch, arch),
					"no prebuilt binary for target architecture %s", arch)
				continue
			}
			checkSource(add, field, c.Resolve(src), "point it at the built binary for "+arch)
		}
	}
}

func (c *Config) validateService(add addFunc) {
	s := c.Service
	name := c.Project.Name
	if !path.IsAbs(s.Exec) {
		add("service.exec", "use an absolute path such as "+layout.Bin(name), "%q is not an absolute path", s.Exec)
	} else if s.Exec != layout.Bin(name) && !slices.ContainsFunc(c.Files, func(f ExtraFile) bool { return f.Dest == s.Exec }) {
		add("service.exec", "leave exec unset to run the packaged binary "+layout.Bin(name)+", or ship the program with a [[files]] entry",
			"%s is not installed by this package", s.Exec)
	}
	for i, a := range s.Args {
		if strings.ContainsAny(a, "\n\x00") {
			add(fmt.Sprintf("service.args[%d]", i), "remove the newline", "arguments must be one line")
		}
	}
	if !accountRe.MatchString(s.User) {
		add("service.user", "use a lower-case system account name such as "+strconv.Quote(DefaultUser(name)),
			"%q is not a valid user name", s.User)
	}
	if !accountRe.MatchString(s.Group) {
		add("service.group", "use a lower-case group name", "%q is not a valid group name", s.Group)
	}
	for _, k := range sortedKeys(s.Environment) {
		field := "service.environment." + k
		if !envKeyRe.MatchString(k) {
			add(field, "use letters, digits and _ only, not starting with a digit", "%q is not a valid variable name", k)
		}
		if strings.ContainsAny(s.Environment[k], "\n\x00") {
			add(field, "put multi-line values in a config file instead", "value must be one line")
		}
	}
	if !path.IsAbs(s.WorkingDirectory) {
		add("service.working_directory", "use an absolute path", "%q is not absolute", s.WorkingDirectory)
	}
	if !slices.Contains(initsys.RestartPolicies, s.Restart) {
		add("service.restart", oneOfFix(s.Restart, initsys.RestartPolicies, nil), "unknown restart policy %q", s.Restart)
	}
	if s.RestartSec < 0 || s.RestartSec > 3600 {
		add("service.restart_sec", "use 0 to 3600 seconds", "%d is out of range", s.RestartSec)
	}
	if s.StopTimeout < 1 || s.StopTimeout > 3600 {
		add("service.stop_timeout", "use 1 to 3600 seconds", "%d is out of range", s.StopTimeout)
	}
	if n := *s.StartCheckSeconds; n < 0 || n > MaxStartCheckSeconds {
		add("service.start_check_seconds",
			fmt.Sprintf("use 1 to %d seconds (the package manager waits that long on every install), or 0 to skip the check", MaxStartCheckSeconds),
			"%d is out of range", n)
	}
	c.validateHealthCommand(add)
	checkCaps := func(field string, caps []string) {
		for i, cp := range caps {
			f := fmt.Sprintf("%s[%d]", field, i)
			if _, known := initsys.CapNumber(cp); !capRe.MatchString(cp) {
				add(f, `use a capability name such as "CAP_NET_BIND_SERVICE"`, "%q is not a capability name", cp)
			} else if !known {
				add(f, "use a capability listed in capabilities(7), such as CAP_NET_BIND_SERVICE", "unknown capability %q", cp)
			}
		}
	}
	checkCaps("service.capabilities", s.Capabilities)
	checkCaps("service.required_capabilities", s.RequiredCapabilities)
	for i, cp := range s.RequiredCapabilities {
		if capRe.MatchString(cp) && !slices.Contains(s.Capabilities, cp) {
			add(fmt.Sprintf("service.required_capabilities[%d]", i),
				fmt.Sprintf("add %q to service.capabilities as well, or remove it here", cp),
				"%q is not in service.capabilities: only a declared capability can be required", cp)
		}
	}
	if !slices.Contains(initsys.Profiles, s.Profile) {
		add("service.profile", oneOfFix(s.Profile, initsys.Profiles, nil), "unknown profile %q", s.Profile)
	}
	if s.ReloadSignal != "" && !slices.Contains(ReloadSignals, s.ReloadSignal) {
		add("service.reload_signal", oneOfFix(s.ReloadSignal, ReloadSignals, reloadSignalAliases())+", or leave it unset", "unsupported signal %q", s.ReloadSignal)
	}
}

// healthWordRe is what a word of health_command may hold: printable
// characters, but no quote or backslash, so that every installer (install.sh
// reads release.json with awk) takes it as it is.
var healthWordRe = regexp.MustCompile(`^[ -!#-\[\]-~]+$`)

// validateHealthCommand checks [service] health_command: argv whose first
// word is an absolute path or the program's own name.
func (c *Config) validateHealthCommand(add addFunc) {
	h := c.Service.HealthCommand
	if h == nil {
		return
	}
	name := c.Project.Name
	if len(h) == 0 {
		add("service.health_command", fmt.Sprintf(`name a command such as ["%s", "--check"], or remove the key`, name), "the command is empty")
		return
	}
	if len(h) > 64 {
		add("service.health_command", "put a longer probe in a script the package ships, and name that", "%d words; at most 64", len(h))
	}
	for i, w := range h {
		if !healthWordRe.MatchString(w) || len(w) > 1024 {
			add(fmt.Sprintf("service.health_command[%d]", i),
				`use printable characters without " or \ (put a complex probe in a script the package ships)`,
				"%q is empty, too long or holds a character the installers cannot carry", w)
		}
	}
	if first := h[0]; first != name && (!path.IsAbs(first) || path.Clean(first) != first) {
		add("service.health_command[0]",
			fmt.Sprintf("use an absolute path such as /usr/bin/curl, or %q for the daemon's own binary", name),
			"%q is neither an absolute path nor the program's name", first)
	}
}

// DefaultUser is the system account a service runs as when
// [service] user is not set: the program name where useradd takes it, in
// lower case with other characters as "_" and a leading digit after "_".
func DefaultUser(name string) string {
	s := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, strings.ToLower(name))
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	if len(s) > 32 {
		s = s[:32]
	}
	return s
}

// validateFiles checks config and extra files, and that no two things the
// package installs share a destination.
func (c *Config) validateFiles(add addFunc) {
	name := c.Project.Name
	owner := map[string]string{layout.Bin(name): "the binary"}
	claim := func(field, dest string) {
		if prev, ok := owner[dest]; ok {
			add(field, "give each file its own destination", "destination %s is also used by %s", dest, prev)
			return
		}
		owner[dest] = field
	}
	for _, f := range c.Targets.Formats {
		if p := c.EnvironmentFileFor(f); p != "" && owner[p] == "" {
			owner[p] = "the " + f + " packages' environment file ([service] environment_file)"
		}
	}
	for i, f := range c.Configs {
		field := fmt.Sprintf("config[%d]", i)
		if f.Source == "" {
			add(field+".source", "name the default config file shipped in the package", "is required")
		} else {
			checkSource(add, field+".source", c.Resolve(f.Source), "create the file or fix the path (relative to omnipack.toml)")
		}
		if path.IsAbs(f.Dest) || path.Clean(f.Dest) != f.Dest || strings.HasPrefix(f.Dest, "..") || f.Dest == "." {
			add(field+".dest", fmt.Sprintf("use a plain relative path; it is installed under %s/", layout.ConfigDir(name)),
				"%q must be relative to %s/ without .. or extra slashes", f.Dest, layout.ConfigDir(name))
		} else {
			claim(field+".dest", c.ConfigDest(f))
		}
		checkMode(add, field+".mode", f.Mode)
		if !accountRe.MatchString(f.Owner) {
			add(field+".owner", "use an existing or packaged account name", "%q is not a valid user name", f.Owner)
		}
		if !accountRe.MatchString(f.Group) {
			add(field+".group", "use an existing or packaged group name", "%q is not a valid group name", f.Group)
		}
	}
	for i, f := range c.Files {
		field := fmt.Sprintf("files[%d]", i)
		if f.Source == "" {
			add(field+".source", "name the file to ship", "is required")
		} else {
			checkSource(add, field+".source", c.Resolve(f.Source), "create the file or fix the path (relative to omnipack.toml)")
		}
		switch {
		case !path.IsAbs(f.Dest) || path.Clean(f.Dest) != f.Dest:
			add(field+".dest", "use a clean absolute path such as /usr/share/doc/NAME/README", "%q must be a clean absolute path", f.Dest)
		case strings.HasPrefix(f.Dest, layout.ConfigDir(name)+"/"):
			add(field+".dest", "declare files under "+layout.ConfigDir(name)+" as [[config]] so upgrades preserve them", "%s is in the config directory", f.Dest)
		case strings.HasPrefix(f.Dest+"/", layout.InitStageRoot(name)+"/"):
			add(field+".dest", "choose another path; omnipack stages init files there", "%s is reserved for service files", f.Dest)
		default:
			claim(field+".dest", f.Dest)
		}
		checkMode(add, field+".mode", f.Mode)
	}
}

// dirPathRe keeps declared directories to characters that need no quoting
// in any init's files, maintainer scripts or systemd's directives.
var dirPathRe = regexp.MustCompile(`^/[A-Za-z0-9@%+,._:/-]+$`)

// systemTrees are directories a package must not create or take over:
// the system's own, and the roots under which [[dirs]] go.
var systemTrees = []string{"/bin", "/boot", "/dev", "/etc", "/home", "/lib", "/lib32", "/lib64", "/libx32",
	"/media", "/mnt", "/opt", "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr",
	"/var", "/var/cache", "/var/lib", "/var/log", "/var/spool", "/var/tmp", "/var/run", "/var/opt"}

// forbiddenTrees hold no directory of a package's own: the system's
// binaries and libraries, the kernel's file systems and scratch space.
var forbiddenTrees = []string{"/bin", "/boot", "/dev", "/lib", "/lib32", "/lib64", "/libx32", "/proc",
	"/sbin", "/sys", "/tmp", "/usr", "/var/tmp", "/var/run", "/home", "/root"}

// validateDirs checks [[dirs]]: a clean absolute path of the package's
// own, owned by the service's account or root, and a purge that deletes
// contents only below a directory named after the program.
func (c *Config) validateDirs(add addFunc) {
	name, seen := c.Project.Name, map[string]string{}
	for i, d := range c.Dirs {
		field := fmt.Sprintf("dirs[%d]", i)
		switch {
		case d.Path == "":
			add(field+".path", "give the absolute path of the directory, such as /var/lib/"+name+"/spool", "is required")
		case !dirPathRe.MatchString(d.Path) || path.Clean(d.Path) != d.Path:
			add(field+".path", "use a clean absolute path of letters, digits and @%+,._:-", "%q is not a clean absolute path", d.Path)
		case slices.Contains(systemTrees, d.Path):
			add(field+".path", "declare a directory of the program's own below it, such as "+d.Path+"/"+name, "%s is a system directory", d.Path)
		case slices.ContainsFunc(forbiddenTrees, func(t string) bool { return strings.HasPrefix(d.Path, t+"/") }):
			add(field+".path", "use a directory under /var/lib, /var/cache, /var/log, /run, /srv, /opt or /etc/"+name, "%s is in a tree packages do not create directories in", d.Path)
		case d.Path == layout.StateDir(name) || d.Path == layout.ConfigDir(name):
			add(field+".path", "remove the entry; the package creates "+d.Path+" itself", "%s is the service's own directory", d.Path)
		case seen[d.Path] != "":
			add(field+".path", "declare each directory once", "%s is also declared by %s", d.Path, seen[d.Path])
		case d.Purge && !slices.Contains(strings.Split(d.Path, "/"), name):
			add(field+".purge", "set purge = false (an empty directory is still deleted), or use a path with a component named "+name,
				"purge = true deletes %s with its contents, so one of its components must be %q", d.Path, name)
		}
		if d.Path != "" {
			seen[d.Path] = field
		}
		for _, acc := range []struct{ key, val, own string }{{"owner", d.Owner, c.Service.User}, {"group", d.Group, c.Service.Group}} {
			if acc.val != "root" && acc.val != acc.own {
				add(field+"."+acc.key, fmt.Sprintf("use %q (the service's, the default) or \"root\"", acc.own),
					"%q is neither the service's account nor root; the package creates no other", acc.val)
			}
		}
		if m, err := ParseMode(d.Mode); err != nil {
			add(field+".mode", `use an octal string such as "0750"`, "%v", err)
		} else if m&0o002 != 0 {
			add(field+".mode", `use a mode without write for others, such as "0770"`, "%s lets every user write in %s", d.Mode, d.Path)
		}
	}
}

func checkSource(add addFunc, field, p, fix string) {
	st, err := os.Stat(p)
	switch {
	case err != nil:
		add(field, fix, "file %s does not exist", p)
	case !st.Mode().IsRegular():
		add(field, fix, "%s is not a regular file", p)
	}
}

func checkMode(add addFunc, field, mode string) {
	if _, err := ParseMode(mode); err != nil {
		add(field, `use an octal string such as "0640"`, "%v", err)
	}
}

// ParseMode parses an octal permission string such as "0640".
func ParseMode(s string) (os.FileMode, error) {
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o777 || len(s) < 3 {
		return 0, fmt.Errorf("%q is not an octal file mode", s)
	}
	return os.FileMode(v), nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
