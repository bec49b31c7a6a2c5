package installer

import (
	"slices"
	"strings"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
)

// Init is one init system's service commands and log access, as shell
// fragments (initsys.Shell).
type Init struct {
	Name                         string
	Start, Stop, Restart, Status string
	// StatusHint is the command shown to the admin; Log prints the
	// service's last log lines, "" when the init keeps none of its own.
	StatusHint, Log string
}

// Format is what install.sh knows of one package format: rendered from
// the format's plug-in (packaging.PackageManaged), so that install.sh and
// omnipack install run the same commands.
type Format struct {
	Name string
	// Package is the package's name as this format's package manager
	// knows it.
	Package string
	// Unpacked formats are installed by install.sh itself (the tarball).
	Unpacked bool
	Managers []Manager
	// Installed and Known are sh conditions on the package's state
	// (packaging.PackageManaged.Installed and Known).
	Installed, Known string
	// TrustedKey is where the package manager reads the release's key
	// from, "" when it needs none.
	TrustedKey string
	// Verify checks the package file's native signature with the keys in
	// "$p_keys" (sh words), and VerifyTool is the program it runs; both ""
	// when the package manager has no such command.
	Verify, VerifyTool string
	// EnvFile is where the format's package keeps the service's
	// environment file, "" when it has none; Repo is how its package
	// manager installs from omnipack's repository, nil when it cannot.
	EnvFile string
	Repo    *Repo
}

// Repo is install.sh --method repo for one format (packaging.HostRepo):
// Source's content as a sh command printing it for "$repo_url" and
// "$repo_channel", the commands as sh words.
type Repo struct {
	Manager, Tool                    string
	Keyring, Source                  string
	PrintSource                      string
	Check, Refresh, Install, Version string
}

// Manager is one package manager of a format.
type Manager struct {
	Name string
	// Tool is the program its commands run.
	Tool string
	// Commands holds, by packaging.Op, the command as sh words, the
	// package file as "$a_file" and the name as "$pkg_name".
	Commands map[packaging.Op]string
}

// InitsFor returns the enabled init systems' commands for the service, in
// detection order.
func InitsFor(svc initsys.Service, enabled []string) []Init {
	var out []Init
	for _, r := range inits.All() {
		if !slices.Contains(enabled, r.Name()) {
			continue
		}
		sh := r.Shell(svc)
		out = append(out, Init{Name: r.Name(), Start: sh.Start, Stop: sh.Stop, Restart: sh.Restart, Status: sh.Status,
			StatusHint: sh.StatusHint, Log: sh.Log})
	}
	return out
}

// FormatsFor returns every format a host may be given (by a package
// manager, or unpacked), from the registry, for the program: its package
// names by format (a format missing there gets its rule's mapping of the
// program's name) and the release's apk key name.
func FormatsFor(program string, packages map[string]string, apkKeyName string) []Format {
	var out []Format
	for _, f := range formats.All() {
		pkg := packages[f.Name()]
		if pkg == "" {
			pkg = formats.PackageName(f.Name(), program)
		}
		switch {
		case formats.Has(f, packaging.StageUnpack):
			out = append(out, Format{Name: f.Name(), Package: pkg, Unpacked: true})
		case formats.Has(f, packaging.StageInstall):
			m := f.(packaging.PackageManaged)
			rf := Format{Name: f.Name(), Package: pkg, Installed: m.Installed().Shell(pkg), Known: m.Known().Shell(pkg)}
			if k := m.TrustedKey(apkKeyName); k != nil {
				rf.TrustedKey = k.Path
			}
			if c, ok := m.VerifyCommand(); ok {
				rf.Verify, rf.VerifyTool = shellWords(c, pkg), c.Argv[0]
			}
			if h, ok := f.(packaging.RepoHost); ok {
				rf.Repo = hostRepo(h.HostRepo(packaging.RepoClient{URL: packaging.URLArg, Channel: packaging.ChannelArg, Name: program}), pkg)
			}
			for _, pm := range m.Managers() {
				mgr := Manager{Name: pm, Commands: map[packaging.Op]string{}}
				for _, op := range packaging.Ops {
					c, ok := m.Command(pm, op)
					if !ok {
						continue
					}
					mgr.Commands[op] = shellWords(c, pkg)
					if mgr.Tool == "" {
						mgr.Tool = c.Argv[0]
					}
				}
				rf.Managers = append(rf.Managers, mgr)
			}
			out = append(out, rf)
		}
	}
	return out
}

// hostRepo renders h for install.sh, with pkg the package's name.
func hostRepo(h packaging.HostRepo, pkg string) *Repo {
	printf := []string{"printf", "'%s'"}
	body := string(h.SourceBody)
	for body != "" {
		i, arg := len(body), ""
		for _, a := range []string{packaging.URLArg, packaging.ChannelArg} {
			if j := strings.Index(body, a); j >= 0 && j < i {
				i, arg = j, a
			}
		}
		if i > 0 {
			printf = append(printf, ShellQuote(body[:i]))
		}
		switch arg {
		case packaging.URLArg:
			printf = append(printf, `"$repo_url"`)
		case packaging.ChannelArg:
			printf = append(printf, `"$repo_channel"`)
		}
		body = body[min(len(body), i+len(arg)):]
	}
	return &Repo{Manager: h.Manager, Tool: h.Refresh.Argv[0], Keyring: h.Keyring, Source: h.Source,
		PrintSource: strings.Join(printf, " "),
		Check:       shellWords(h.Check, pkg), Refresh: shellWords(h.Refresh, pkg), Install: shellWords(h.Install, pkg), Version: shellWords(h.Version, pkg)}
}

// shellWords renders c as sh words: env(1) for its environment, the
// package file as the installer's variable, the package name as pkg.
func shellWords(c packaging.Command, pkg string) string {
	var words []string
	if len(c.Env) > 0 {
		words = append(words, "env")
		for _, e := range c.Env {
			words = append(words, ShellWord(e))
		}
	}
	for _, a := range c.Argv {
		switch a {
		case packaging.FileArg:
			words = append(words, `"$a_file"`)
		case packaging.NameArg:
			words = append(words, ShellWord(pkg))
		case packaging.KeyDirArg:
			words = append(words, `"$p_keys"`)
		default:
			if before, after, ok := strings.Cut(a, packaging.ScratchArg); ok {
				// One word: an option naming the directory.
				w := ShellWord(before) + `"$r_scratch"`
				if after != "" {
					w += ShellWord(after)
				}
				words = append(words, w)
				continue
			}
			words = append(words, ShellWord(a))
		}
	}
	return strings.Join(words, " ")
}

// ShellWord quotes s for sh only where it needs it.
func ShellWord(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:=@%+,-") == "" {
		return s
	}
	return ShellQuote(s)
}
