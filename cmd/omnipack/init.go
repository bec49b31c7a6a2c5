package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/packaging/formats"
)

var initTemplate = template.Must(template.New("omnipack.toml").Parse(`# omnipack.toml: how omnipack packages {{.Name}} for every Linux host.
# Check it with "omnipack validate"; build with "omnipack build".

[project]
name = "{{.Name}}"
# An explicit version, or "git" to derive it from "git describe" (tag v1.2.3).
# Pre-releases use "~": "1.3.0~rc1".
version = "0.1.0"
release = 1                         # packaging revision of this version
summary = "{{.Name}} host agent"
description = """
A longer description of what {{.Name}} does."""
maintainer = "Your Name <you@example.com>"
vendor = "Your Company"
license = "Apache-2.0"              # SPDX expression
homepage = "https://example.com/{{.Name}}"

[binary]
{{- if .GoPackage}}
# Built by omnipack for each architecture: CGO_ENABLED=0, -trimpath.
go_package = "{{.GoPackage}}"
ldflags = "-s -w -X main.version={{"{{"}}.Version{{"}}"}}"
{{- else}}
# Prebuilt binaries, one per architecture in targets.archs.
[binary.prebuilt]
amd64 = "{{.Prebuilt}}"
{{- end}}

[service]
args = ["-config", "/etc/{{.Name}}/{{.Name}}.toml"]
user = "{{.Name}}"                   # a system user created on install; "root" creates none
# group = "{{.Name}}"
# environment = { LOG_LEVEL = "info" }
# working_directory = "/var/lib/{{.Name}}"
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

# Config files go to /etc/{{.Name}}/ and survive upgrades.
# [[config]]
# source = "{{.Name}}.toml"
# mode = "0640"                      # owner root, group the service group

# Any other files.
# [[files]]
# source = "README.md"
# dest = "/usr/share/doc/{{.Name}}/README.md"

[targets]
formats = [{{.Formats}}]
archs = [{{.Archs}}]
inits = [{{.Inits}}]
`))

var nameRe = regexp.MustCompile(`[^a-z0-9.+-]+`)

func newInitCmd(g *globals) *cobra.Command {
	var name string
	var force bool
	cmd := &cobra.Command{
		Use:   "init [GO_PACKAGE_DIR | BINARY]",
		Short: "Write a commented omnipack.toml for a Go package or a prebuilt binary",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src := "."
			if len(args) == 1 {
				src = args[0]
			}
			st, err := os.Stat(src)
			if err != nil {
				return usageError{fmt.Errorf("%s: %w (fix: name a Go main package directory or a built binary)", src, errors.Unwrap(err))}
			}
			// Paths in omnipack.toml are relative to the file itself.
			rel, err := relativeTo(g.config, src)
			if err != nil {
				return err
			}
			data := struct{ Name, GoPackage, Prebuilt, Archs, Formats, Inits string }{Archs: `"amd64", "arm64"`,
				Formats: tomlList(formats.Names()), Inits: tomlList(inits.Names())}
			if st.IsDir() {
				data.GoPackage = rel
				if rel != "." && !strings.HasPrefix(rel, "../") {
					data.GoPackage = "./" + rel
				}
			} else {
				data.Prebuilt = rel
				data.Archs = `"amd64"`
			}
			if name == "" {
				abs, _ := filepath.Abs(src)
				name = nameRe.ReplaceAllString(strings.ToLower(filepath.Base(abs)), "-")
			}
			data.Name = name
			if _, err := os.Stat(g.config); err == nil && !force {
				return usageError{fmt.Errorf("%s already exists (fix: pass --force to overwrite it)", g.config)}
			}
			var b strings.Builder
			if err := initTemplate.Execute(&b, data); err != nil {
				return err
			}
			if err := os.WriteFile(g.config, []byte(b.String()), 0o644); err != nil {
				return err
			}
			if g.json {
				g.printJSON(map[string]any{"ok": true, "config": g.config})
			} else {
				fmt.Fprintf(g.stdout, "wrote %s; edit it, then run omnipack validate\n", g.config)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "package name (default: the directory or binary name)")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing omnipack.toml")
	return cmd
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
