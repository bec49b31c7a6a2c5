// Package config reads and validates omnipack.toml.
package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/layout"
)

// DefaultFile is the config file name omnipack looks for.
const DefaultFile = "omnipack.toml"

// Config is one omnipack.toml.
type Config struct {
	Project   Project      `toml:"project"`
	Package   Package      `toml:"package"`
	Binary    Binary       `toml:"binary"`
	Service   Service      `toml:"service"`
	Configs   []ConfigFile `toml:"config"`
	Files     []ExtraFile  `toml:"files"`
	Dirs      []Dir        `toml:"dirs"`
	Targets   Targets      `toml:"targets"`
	OCI       OCI          `toml:"oci"`
	Signing   Signing      `toml:"signing"`
	Installer Installer    `toml:"installer"`

	// Path is the file the config was read from; Dir is its directory, to
	// which every relative path in the config is resolved.
	Path string `toml:"-"`
	Dir  string `toml:"-"`
	// Notes say what validation decided for the vendor that is worth
	// knowing but no problem: a package name mapped for a format.
	Notes []string `toml:"-"`
	// Warnings are likely mistakes that do not stop a build, such as an
	// argument naming a path the package neither ships nor creates. Each
	// has the file, line, field and fix a problem has.
	Warnings Problems `toml:"-"`
}

// Package names the packages where they differ from the program, and
// their relations to other packages. The program (binary, service, user,
// /etc directory) keeps [project] name.
type Package struct {
	PackageFields
	// Formats overrides the fields for one format: [package.formats.deb].
	Formats map[string]PackageFields `toml:"formats"`
}

// PackageFields are one package's name and relations.
type PackageFields struct {
	Name      string   `toml:"name"`
	Replaces  []string `toml:"replaces"`  // packages whose files this one takes over
	Conflicts []string `toml:"conflicts"` // packages that cannot be installed beside it
	Provides  []string `toml:"provides"`  // virtual packages it stands in for
}

// EnvironmentFileFor is the path of the per-host settings file in the
// format's packages, or "" when [service] environment_file is off.
func (c *Config) EnvironmentFileFor(format string) string {
	r, ok := formatRules[format]
	if !c.Service.EnvironmentFile || !ok || r.EnvironmentFile == nil {
		return ""
	}
	return r.EnvironmentFile(c.Project.Name)
}

// PackageFor returns the package's name and relations for one format: its
// [package.formats.FORMAT] fields, else [package]'s, and for the name, else
// the project name mapped by the format's rule.
func (c *Config) PackageFor(format string) PackageFields {
	over := c.Package.Formats[format]
	p := c.Package.PackageFields
	p.Name = first(over.Name, p.Name)
	if p.Name == "" {
		p.Name = c.Project.Name
		if r, ok := formatRules[format]; ok && r.PackageName != nil {
			p.Name = r.PackageName(c.Project.Name)
		}
	}
	if over.Replaces != nil {
		p.Replaces = over.Replaces
	}
	if over.Conflicts != nil {
		p.Conflicts = over.Conflicts
	}
	if over.Provides != nil {
		p.Provides = over.Provides
	}
	return p
}

func first(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// Project describes the software being packaged.
type Project struct {
	Name        string `toml:"name"`
	Version     string `toml:"version"` // "1.2.3", or "git" to derive it with git describe
	Release     int    `toml:"release"` // packaging revision, starting at 1
	Summary     string `toml:"summary"`
	Description string `toml:"description"`
	Maintainer  string `toml:"maintainer"` // "Name <email>"
	Vendor      string `toml:"vendor"`
	License     string `toml:"license"` // SPDX expression
	Homepage    string `toml:"homepage"`
}

// Binary says where the daemon binary comes from: built by omnipack from a
// Go package, or prebuilt per architecture. Exactly one must be set.
type Binary struct {
	GoPackage string            `toml:"go_package"` // e.g. "." or "./cmd/agent", relative to the config file
	Ldflags   string            `toml:"ldflags"`    // a template of LdflagsVars: {{.Version}}, {{.Commit}}, ...
	Prebuilt  map[string]string `toml:"prebuilt"`   // architecture -> path
}

// Service describes how the daemon runs.
type Service struct {
	Exec             string            `toml:"exec"` // absolute; defaults to the installed binary
	Args             []string          `toml:"args"`
	User             string            `toml:"user"`  // defaults to the project name; "root" creates no user
	Group            string            `toml:"group"` // defaults to the user
	Environment      map[string]string `toml:"environment"`
	WorkingDirectory string            `toml:"working_directory"` // defaults to the state directory
	Restart          string            `toml:"restart"`           // always, on-failure or never
	RestartSec       int               `toml:"restart_sec"`
	AfterNetwork     bool              `toml:"after_network"`
	Capabilities     []string          `toml:"capabilities"`
	// RequiredCapabilities are those of Capabilities the daemon cannot
	// work without: on a host whose bounding set lacks one, the start
	// fails rather than going on without it.
	RequiredCapabilities []string `toml:"required_capabilities"`
	Profile              string   `toml:"profile"`       // default, strict, trusted or nonetwork
	ReloadSignal         string   `toml:"reload_signal"` // e.g. HUP; empty for none
	StopTimeout          int      `toml:"stop_timeout"`  // seconds
	// EnvironmentFile ships a commented per-host settings file at each
	// format's customary path (FormatRule.EnvironmentFile), which every
	// init reads before it starts the daemon.
	EnvironmentFile bool `toml:"environment_file"`
	// StartCheckSeconds is how long the maintainer scripts watch the
	// service after they start or restart it: it must still run (and
	// HealthCommand pass) at the end, or they warn with its last log
	// lines. Unset means DefaultStartCheckSeconds; 0 turns the check off.
	StartCheckSeconds *int `toml:"start_check_seconds"`
	// HealthCommand is an optional probe, as argv: exit 0 means healthy.
	// Its first word is an absolute path or the program's own name (the
	// installed daemon binary).
	HealthCommand []string `toml:"health_command"`
	// Limits are the resource limits the daemon runs under.
	Limits Limits `toml:"limits"`
}

// ConfigFile is a file installed under /etc/NAME/ and preserved across
// upgrades.
type ConfigFile struct {
	Source string `toml:"source"` // relative to the config file
	Dest   string `toml:"dest"`   // relative to /etc/NAME/; defaults to the source's base name
	Mode   string `toml:"mode"`   // octal, default 0640
	Owner  string `toml:"owner"`  // default root
	Group  string `toml:"group"`  // default the service group, so the daemon can read it
}

// ExtraFile is any other file the package carries.
type ExtraFile struct {
	Source string `toml:"source"`
	Dest   string `toml:"dest"` // absolute
	Mode   string `toml:"mode"` // octal, default 0644
}

// Dir is a directory the package creates on install, owned as declared,
// beyond the state directory every service gets.
type Dir struct {
	Path  string `toml:"path"`  // absolute
	Owner string `toml:"owner"` // the service user (default) or root
	Group string `toml:"group"` // the service group (default) or root
	Mode  string `toml:"mode"`  // octal, default 0750
	// Purge deletes it with its contents on purge; otherwise a purge
	// deletes it only when empty.
	Purge bool `toml:"purge"`
}

// Targets selects what to build.
type Targets struct {
	Formats []string `toml:"formats"`
	Archs   []string `toml:"archs"`
	Inits   []string `toml:"inits"`
	// Images are the image targets given in formats (ImageTargets), built
	// for every architecture at once from the packages' inputs; Formats
	// keeps the package formats.
	Images []string `toml:"-"`
}

// ImageTargets are the targets of [targets] formats that are images, not
// package formats.
var ImageTargets = []string{OCITarget}

// OCITarget is the OCI image (package oci).
const OCITarget = "oci"

// OCI configures the OCI image, built when [targets] formats lists "oci".
type OCI struct {
	// Repository is the image's name, as in ghcr.io/vendor/agent, which
	// every manifest and unit refers to; default the project name.
	Repository string `toml:"repository"`
	// UID and GID run the agent: an image has no useradd, so the account
	// is a fixed number; default DefaultImageID.
	UID int `toml:"uid"`
	GID int `toml:"gid"`
	// HostPaths are host files and directories the agent reads in a
	// container, mounted read-only at the same path (the example's
	// /dev/kmsg).
	HostPaths []string `toml:"host_paths"`
}

// DefaultImageID is the image's uid and gid unless [oci] sets them: the
// "nonroot" account of distroless images.
const DefaultImageID = 65532

// WantsImage reports whether the build makes the image target.
func (c *Config) WantsImage(target string) bool { return slices.Contains(c.Targets.Images, target) }

// Signing configures signing. With no key_dir the release is unsigned.
type Signing struct {
	KeyDir      string `toml:"key_dir"`      // written by omnipack keygen, relative to the config file
	PasswordEnv string `toml:"password_env"` // variable holding the key password; default OMNIPACK_KEY_PASSWORD
	Expires     string `toml:"expires"`      // how long a signed manifest is valid, e.g. "30d" or "720h"
}

// Installer configures the generated install.sh.
type Installer struct {
	// BaseURL is where dist/ is published; install.sh fetches release.json
	// and the packages from it. https, or http on loopback only.
	BaseURL string `toml:"base_url"`
	// RepoURL is where omnipack publish's repository is served (its --url):
	// install.sh --method repo adds it to the host. https, or http on
	// loopback only.
	RepoURL string `toml:"repo_url"`
	// Config is the [[config]] dest that --set key=value writes into;
	// default the first [[config]] entry.
	Config string `toml:"config"`
	// Positional names the config keys that bare arguments set, in order:
	// ["auth_key", "node_id"] makes `sh -s KEY NODE` work. A key env.NAME
	// (here and in Secrets) is the environment file's variable NAME.
	Positional []string `toml:"positional"`
	// Secrets are config keys whose values are never printed.
	Secrets []string `toml:"secrets"`
	// HealthSeconds is how long the service must stay up after start.
	HealthSeconds int `toml:"health_seconds"`
}

// DefaultPasswordEnv is where the key password is read from when the config
// names no other variable.
const DefaultPasswordEnv = "OMNIPACK_KEY_PASSWORD"

// Load reads, defaults and validates the config at path. Bad input is
// returned as Problems, listing every problem found.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, Problems{{File: path, Msg: "config file not found",
				Fix: "run `omnipack init` to write one, or pass --config PATH"}}
		}
		return nil, Problems{{File: path, Msg: err.Error()}}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	cfg := &Config{Path: path, Dir: filepath.Dir(abs)}
	lines := keyLines(data)
	md, err := toml.Decode(string(data), cfg)
	if err != nil {
		return nil, Problems{decodeProblem(path, lines, err)}
	}
	var ps Problems
	reported := map[string]bool{}
	for _, k := range md.Undecoded() {
		field := keyField(k)
		// The keys of an unknown table are reported once, as the table.
		if reported[keyField(k[:len(k)-1])] {
			reported[field] = true
			continue
		}
		reported[field] = true
		field, line := locateKey(lines, field)
		ps = append(ps, Problem{File: path, Line: line, Field: field, Msg: "unknown key", Fix: unknownKeyFix(k)})
	}
	cfg.applyDefaults()
	ps = append(ps, cfg.validate()...)
	for i := range ps {
		ps[i].File = path
		if ps[i].Line == 0 {
			ps[i].Line = lineOf(lines, ps[i].Field)
		}
	}
	if len(ps) > 0 {
		sort.SliceStable(ps, func(i, j int) bool { return ps[i].Line < ps[j].Line })
		return nil, ps
	}
	cfg.Warnings = cfg.warnings()
	for i := range cfg.Warnings {
		cfg.Warnings[i].File = path
		cfg.Warnings[i].Line = lineOf(lines, cfg.Warnings[i].Field)
	}
	return cfg, nil
}

// keyField turns a TOML key into omnipack's dotted field notation. Keys in
// arrays of tables carry no index in BurntSushi/toml's metadata; the line
// scanner still finds the first occurrence.
func keyField(k toml.Key) string { return strings.Join(k, ".") }

func decodeProblem(path string, lines map[string]int, err error) Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if msg == "" {
			msg = err.Error()
		}
		field := ""
		if pe.LastKey != "" {
			field = pe.LastKey
		}
		return Problem{File: path, Line: pe.Position.Line, Field: field, Msg: msg,
			Fix: decodeFix(msg)}
	}
	// Type mismatches are plain errors of the form
	// `toml: line N (last key "a.b"): message`.
	if m := typeErrRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ := strconv.Atoi(m[1])
		if line == 0 {
			line = lineOf(lines, m[2])
		}
		return Problem{File: path, Line: line, Field: m[2], Msg: m[3], Fix: decodeFix(m[3])}
	}
	return Problem{File: path, Msg: err.Error(), Fix: decodeFix(err.Error())}
}

var typeErrRe = regexp.MustCompile(`^toml: (?:line (\d+) )?\(last key "([^"]+)"\): (.*)$`)

func decodeFix(msg string) string {
	switch {
	case strings.Contains(msg, "incompatible types"), strings.Contains(msg, "cannot decode"):
		return "give the value the type shown by `omnipack init`"
	default:
		return "see the TOML syntax at the line shown"
	}
}

func (c *Config) applyDefaults() {
	p := &c.Project
	if p.Release == 0 {
		p.Release = 1
	}
	if p.Summary == "" {
		p.Summary = p.Name
	}
	if p.Description == "" {
		p.Description = p.Summary
	}
	if p.License == "" {
		p.License = "NOASSERTION"
	}
	b := &c.Binary
	if b.GoPackage != "" && b.Ldflags == "" {
		b.Ldflags = "-s -w -X main.version={{.Version}}"
	}
	s := &c.Service
	if s.Exec == "" {
		s.Exec = layout.Bin(p.Name)
	}
	if s.User == "" {
		// The program name as a system account may: lower case, no "." or ":".
		s.User = DefaultUser(p.Name)
	}
	if s.Group == "" {
		s.Group = s.User
	}
	if s.WorkingDirectory == "" {
		s.WorkingDirectory = layout.StateDir(p.Name)
	}
	if s.Restart == "" {
		s.Restart = "on-failure"
	}
	if s.RestartSec == 0 {
		s.RestartSec = 5
	}
	if s.Profile == "" {
		s.Profile = "default"
	}
	if s.StopTimeout == 0 {
		s.StopTimeout = 30
	}
	if s.StartCheckSeconds == nil {
		n := DefaultStartCheckSeconds
		s.StartCheckSeconds = &n
	}
	for i := range c.Configs {
		f := &c.Configs[i]
		if f.Dest == "" {
			f.Dest = filepath.Base(f.Source)
		}
		if f.Mode == "" {
			f.Mode = "0640"
		}
		if f.Owner == "" {
			f.Owner = "root"
		}
		if f.Group == "" {
			f.Group = s.Group
		}
	}
	for i := range c.Files {
		if c.Files[i].Mode == "" {
			c.Files[i].Mode = "0644"
		}
	}
	for i := range c.Dirs {
		d := &c.Dirs[i]
		if d.Owner == "" {
			d.Owner = s.User
		}
		if d.Group == "" {
			d.Group = s.Group
		}
		if d.Mode == "" {
			d.Mode = "0750"
		}
	}
	if c.Signing.PasswordEnv == "" {
		c.Signing.PasswordEnv = DefaultPasswordEnv
	}
	if c.Signing.Expires == "" {
		c.Signing.Expires = "30d"
	}
	if c.Installer.Config == "" && len(c.Configs) > 0 {
		c.Installer.Config = c.Configs[0].Dest
	}
	if c.Installer.HealthSeconds == 0 {
		c.Installer.HealthSeconds = 5
	}
	t := &c.Targets
	if len(t.Formats) == 0 {
		t.Formats = FormatNames()
	}
	var formats []string
	for _, f := range t.Formats {
		switch {
		case !slices.Contains(ImageTargets, f):
			formats = append(formats, f)
		case !slices.Contains(t.Images, f):
			t.Images = append(t.Images, f)
		}
	}
	if len(t.Images) > 0 {
		t.Formats = formats
	}
	if c.OCI.Repository == "" {
		c.OCI.Repository = strings.ToLower(c.Project.Name)
	}
	if c.OCI.UID == 0 {
		c.OCI.UID = DefaultImageID
	}
	if c.OCI.GID == 0 {
		c.OCI.GID = DefaultImageID
	}
	if len(t.Archs) == 0 {
		t.Archs = []string{"amd64", "arm64"}
	}
	if len(t.Inits) == 0 {
		t.Inits = inits.Names()
	}
}

// Resolve returns a path from the config made absolute against its directory.
func (c *Config) Resolve(p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// ConfigDest returns the absolute destination of a config file.
func (c *Config) ConfigDest(f ConfigFile) string {
	return layout.ConfigDir(c.Project.Name) + "/" + f.Dest
}

// ServiceModel returns the init-independent service description.
func (c *Config) ServiceModel(format string) initsys.Service {
	s, name := c.Service, c.Project.Name
	return initsys.Service{
		EnvironmentFile:      c.EnvironmentFileFor(format),
		Name:                 name,
		Description:          c.Project.Summary,
		Exec:                 s.Exec,
		Args:                 s.Args,
		User:                 s.User,
		Group:                s.Group,
		Environment:          s.Environment,
		WorkingDir:           s.WorkingDirectory,
		StateDir:             layout.StateDir(name),
		ConfigDir:            layout.ConfigDir(name),
		Restart:              s.Restart,
		RestartSec:           s.RestartSec,
		AfterNetwork:         s.AfterNetwork,
		Capabilities:         s.Capabilities,
		RequiredCapabilities: s.RequiredCapabilities,
		Profile:              s.Profile,
		ReloadSignal:         s.ReloadSignal,
		StopTimeout:          s.StopTimeout,
		Dirs:                 c.serviceDirs(),
		Limits:               s.Limits.limitsModel(),
		StartCheckSeconds:    *s.StartCheckSeconds,
		HealthCommand:        c.HealthArgv(),
	}
}

// DefaultStartCheckSeconds is [service] start_check_seconds when unset.
const DefaultStartCheckSeconds = 3

// MaxStartCheckSeconds bounds start_check_seconds: the package manager
// waits that long for every install and upgrade.
const MaxStartCheckSeconds = 300

// HealthArgv is [service] health_command as it runs on the host: a first
// word naming the program is the daemon's binary (service.exec). Nil when
// no health command is set.
func (c *Config) HealthArgv() []string {
	h := c.Service.HealthCommand
	if len(h) == 0 {
		return nil
	}
	out := slices.Clone(h)
	if out[0] == c.Project.Name {
		out[0] = c.Service.Exec
	}
	return out
}

// serviceDirs are the [[dirs]] in the service model; a mode validate
// refuses becomes 0.
func (c *Config) serviceDirs() []initsys.Dir {
	var out []initsys.Dir
	for _, d := range c.Dirs {
		mode, _ := ParseMode(d.Mode)
		out = append(out, initsys.Dir{Path: d.Path, Owner: d.Owner, Group: d.Group, Mode: uint32(mode), Purge: d.Purge})
	}
	return out
}
