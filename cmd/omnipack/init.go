package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/signing"
)

// The template uses << >> so that the {{.Version}} of ldflags, which
// omnipack expands at build time, is written as it is.
var initTemplate = template.Must(template.New("omnipack.toml").Delims("<<", ">>").Parse(`# omnipack.toml: how omnipack packages <<.Name>> for every Linux host.
# Check it with "omnipack validate"; build with "omnipack build".

[project]
<<range .NameNotes>># <<.>>
<<end>>name = "<<.Name>>"
<<range .Version.Notes>># <<.>>
<<end>>version = "<<.Version.Value>>"
release = 1                         # packaging revision of this version
summary = "<<.Name>> host agent"
description = """
A longer description of what <<.Name>> does."""
maintainer = "Your Name <you@example.com>"
vendor = "Your Company"
license = "Apache-2.0"              # SPDX expression
homepage = "https://example.com/<<.Name>>"

[binary]
<<- if .GoPackage>>
# Built by omnipack for each architecture: CGO_ENABLED=0, -trimpath.
go_package = "<<.GoPackage>>"
# ldflags is a template. Its variables come from the version and the source
# commit (the one the signed provenance records), never from the clock, so
# two builds of one commit link the same bytes:
#   {{.Version}}      the version, as release.json records it (2.3.4, or 2.3.4+git5.gabc1234)
#   {{.Commit}}       the commit's full hash ("" outside git)
#   {{.ShortCommit}}  its first 7 hex digits
#   {{.Date}}         SOURCE_DATE_EPOCH if set, else the commit's date; RFC 3339 UTC
#   {{.Branch}}       the checked-out branch ("" on a detached HEAD or outside git)
# The linker ignores -X for a variable the program does not have. A program
# using github.com/prometheus/common/version would take:
# ldflags = "-s -w -X github.com/prometheus/common/version.Version={{.Version}} -X github.com/prometheus/common/version.Revision={{.Commit}} -X github.com/prometheus/common/version.Branch={{.Branch}} -X github.com/prometheus/common/version.BuildDate={{.Date}}"
ldflags = "-s -w -X main.version={{.Version}} -X main.commit={{.Commit}} -X main.date={{.Date}}"
<<- else>>
# Prebuilt binaries, one per architecture in targets.archs.
[binary.prebuilt]
amd64 = "<<.Prebuilt>>"
<<- end>>

[service]
# The daemon runs as <<.Exec>> with no arguments; give them here, e.g.:
# args = ["--config", "/etc/<<.Name>>/<<.Name>>.toml"]
user = "<<.User>>"<<.UserPad>># a system user created on install; "root" creates none
# group = "<<.User>>"
# environment = { LOG_LEVEL = "info" }
# working_directory = "/var/lib/<<.Name>>"
restart = "on-failure"              # always, on-failure or never
restart_sec = 5
after_network = true
# capabilities = ["CAP_NET_BIND_SERVICE"]
# Where a container's bounding set lacks a declared capability, the service
# starts without it and a warning says so; one listed here fails the start.
# required_capabilities = ["CAP_NET_BIND_SERVICE"]
profile = "default"                 # default, strict, trusted or nonetwork
reload_signal = "HUP"               # leave unset if the daemon cannot reload
stop_timeout = 30

# Resource limits, each optional: one left unset sets none. sysvinit, upstart
# and runit do not enforce memory_max and cpu_weight.
# [service.limits]
# open_files = 4096                 # RLIMIT_NOFILE, soft and hard
# memory_max = "512M"               # bytes, or with K, M, G or T (1024-based)
# cpu_weight = 100                  # 1 to 10000; 100 is every service's default
# nice = 0                          # -20 to 19

# Config files go to /etc/<<.Name>>/ and survive upgrades.
# [[config]]
# source = "<<.Name>>.toml"
# mode = "0640"                      # owner root, group the service group

# Any other files.
# [[files]]
# source = "README.md"
# dest = "/usr/share/doc/<<.Name>>/README.md"

[targets]
formats = [<<.Formats>>]
archs = [<<.Archs>>]
inits = [<<.Inits>>]

# Signing: "omnipack keygen" writes the keys into <<.KeyDir>>/ (kept out of git
# by the .gitignore that omnipack init wrote); the password is read from the
# environment, never from this file. With key_dir set, omnipack build signs
# every package and the release, and writes install.sh.
# [signing]
# key_dir = "<<.KeyDir>>"                    # relative to this file; omnipack build --keys DIR overrides it
# password_env = "OMNIPACK_KEY_PASSWORD"
# expires = "30d"                     # how long a signed release.json is valid; renew with omnipack resign

# install.sh, for: curl -fsSL https://downloads.example.com/<<.Name>>/install.sh | sudo sh -s -- --set key=value
# [installer]
# base_url = "https://downloads.example.com/<<.Name>>"   # where dist/ is published; without it
#                                     # install.sh needs --base-url URL or --offline DIR
# config = "<<.Name>>.toml"                 # the [[config]] file that --set key=value edits
# positional = ["auth_key"]           # keys that bare arguments set: sh -s KEY
# secrets = ["auth_key"]              # values that are never printed
# health_seconds = 5                  # how long the service must stay up after it starts
`))

type initData struct {
	Name      string
	NameNotes []string
	Version   sourceVersion
	GoPackage string
	Prebuilt  string
	Exec      string
	User      string
	UserPad   string
	KeyDir    string
	Archs     string
	Formats   string
	Inits     string
}

// initReport is the --json form of omnipack init.
type initReport struct {
	OK        bool         `json:"ok"`
	Config    string       `json:"config"`
	Name      string       `json:"name"`
	Version   string       `json:"version"`  // as written: "git" or the version
	Resolved  string       `json:"resolved"` // what the version gives today
	GitIgnore gitignoreRep `json:"gitignore"`
}

type gitignoreRep struct {
	Path  string   `json:"path"`
	Added []string `json:"added"` // empty when every entry was there already
}

func newInitCmd(g *globals) *cobra.Command {
	var name string
	var force bool
	cmd := &cobra.Command{
		Use:   "init [GO_PACKAGE_DIR | BINARY]",
		Short: "Write a commented omnipack.toml for a Go package or a prebuilt binary",
		Long: `Write a commented omnipack.toml for the Go main package in GO_PACKAGE_DIR
(default .) or for a prebuilt BINARY:

  name     the Go program's name (go.mod's module path, without a /vN suffix),
           else the directory or binary name, made valid for every format
  version  "git" when the source is a tagged git checkout holding the config,
           else the tag's version, a VERSION file's, or 0.1.0

It also adds /dist/ (the build output) and /keys/ (the private signing keys
omnipack keygen writes) to the .gitignore beside omnipack.toml, creating it
if needed and never adding a line twice.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := "."
			if len(args) == 1 {
				src = args[0]
			}
			st, err := os.Stat(src)
			if err != nil {
				return usageError{fmt.Errorf("%s: %w (fix: name a Go main package directory or a built binary)", src, errors.Unwrap(err))}
			}
			if _, err := os.Stat(g.config); err == nil && !force {
				return usageError{fmt.Errorf("%s already exists (fix: pass --force to overwrite it)", g.config)}
			}
			configDir, err := filepath.Abs(filepath.Dir(g.config))
			if err != nil {
				return err
			}
			srcAbs, err := filepath.Abs(src)
			if err != nil {
				return err
			}
			// Paths in omnipack.toml are relative to the file itself.
			rel, err := relativeTo(g.config, src)
			if err != nil {
				return err
			}
			data := initData{Archs: `"amd64", "arm64"`, KeyDir: signing.DefaultKeyDir,
				Formats: tomlList(formats.Names()), Inits: tomlList(inits.Names())}
			srcDir := srcAbs
			program, programSource := filepath.Base(srcAbs), "the name of "+filepath.Base(srcAbs)
			if st.IsDir() {
				data.GoPackage = rel
				if rel != "." && !strings.HasPrefix(rel, "../") {
					data.GoPackage = "./" + rel
				}
				if p, ok := goProgramName(srcAbs); ok {
					program, programSource = p, "its name in go.mod's module path"
				}
			} else {
				data.Prebuilt = rel
				data.Archs = `"amd64"`
				srcDir = filepath.Dir(srcAbs)
			}
			if name == "" {
				var why string
				name, why = projectName(program)
				if why != "" {
					data.NameNotes = wrapComment(fmt.Sprintf("The program is %s (%s), but %s. So its %s, the service and its user are named %s.",
						program, programSource, why, layout.Bin(name), name), 76)
				}
			}
			data.Name = name
			data.Exec = layout.Bin(name)
			data.User = config.DefaultUser(name)
			data.UserPad = strings.Repeat(" ", max(1, 29-len(data.User)))
			data.Version = detectVersion(srcDir, configDir)
			var b strings.Builder
			if err := initTemplate.Execute(&b, data); err != nil {
				return err
			}
			if err := os.WriteFile(g.config, []byte(b.String()), 0o644); err != nil {
				return err
			}
			ignore, added, err := ignoreOutputs(configDir, "/"+defaultDist+"/", "/"+signing.DefaultKeyDir+"/")
			if err != nil {
				return fmt.Errorf("wrote %s, but %w", g.config, err)
			}
			if g.json {
				g.printJSON(initReport{OK: true, Config: g.config, Name: name, Version: data.Version.Value,
					Resolved: data.Version.Now, GitIgnore: gitignoreRep{Path: ignore, Added: added}})
				return nil
			}
			fmt.Fprintf(g.stdout, "wrote %s for %s %s (version = %q); edit it, then run omnipack validate\n",
				g.config, name, data.Version.Now, data.Version.Value)
			if len(added) > 0 {
				fmt.Fprintf(g.stdout, "added %s to %s: the build output and the private signing keys stay out of git\n",
					strings.Join(added, " and "), ignore)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "package name (default: the Go program's name, or the binary's)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing omnipack.toml")
	return cmd
}

// ignoreOutputs adds each of entries (anchored .gitignore patterns such as
// /dist/) to dir/.gitignore unless a line already ignores it, and returns
// the file and the entries added. An anchored pattern keeps a Go package
// directory such as internal/keys tracked.
func ignoreOutputs(dir string, entries ...string) (path string, added []string, err error) {
	path = filepath.Join(dir, ".gitignore")
	added = []string{}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return path, nil, err
	}
	have := map[string]bool{}
	for _, l := range strings.Split(string(old), "\n") {
		// dist, dist/, /dist and /dist/ all ignore the top-level dist/.
		have["/"+strings.Trim(strings.TrimSpace(l), "/")+"/"] = true
	}
	var b strings.Builder
	for _, e := range entries {
		if !have[e] {
			added = append(added, e)
			have[e] = true
		}
	}
	if len(added) == 0 {
		return path, added, nil
	}
	b.Write(old)
	if len(old) > 0 && !strings.HasSuffix(string(old), "\n") {
		b.WriteString("\n")
	}
	b.WriteString("# omnipack: the build output and the private signing keys (omnipack keygen)\n")
	for _, e := range added {
		b.WriteString(e + "\n")
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return path, nil, err
	}
	return path, added, nil
}

// tomlList spells names as the items of a TOML array.
func tomlList(names []string) string { return `"` + strings.Join(names, `", "`) + `"` }

// relativeTo returns path relative to the directory of configPath, with
// forward slashes, as omnipack.toml spells paths.
func relativeTo(configPath, path string) (string, error) {
	base, err := filepath.Abs(filepath.Dir(configPath))
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(base, abs)
	if err != nil {
		return "", err
	}
	return filepath.ToSlash(rel), nil
}
