package install

import (
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/omnipack/omnipack/detector"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/release"
)

// Tokens in a Step's paths and command arguments that the executor
// replaces: the downloaded artifact and the directory a tarball is
// unpacked into, both inside the private temporary directory.
const (
	ArtifactToken = "${ARTIFACT}"
	StageToken    = "${STAGE}"
	// ScratchToken is an empty private directory, for a repo-install
	// step's check of the repository.
	ScratchToken = "${SCRATCH}"
)

// Action is what a plan does overall.
type Action string

// Actions.
const (
	ActionInstall   Action = "install"
	ActionUpgrade   Action = "upgrade"
	ActionDowngrade Action = "downgrade"
	ActionReinstall Action = "reinstall"
	// ActionNone: this release is installed already; only --set values
	// are applied (and the service checked).
	ActionNone      Action = "none"
	ActionUninstall Action = "uninstall"
	ActionPurge     Action = "purge"
)

// StepKind names what the executor does for a step.
type StepKind string

// Step kinds.
const (
	// StepDownload fetches Artifact to ${ARTIFACT}, capped at its signed
	// size, and checks its size and sha256.
	StepDownload StepKind = "download"
	// StepStage unpacks the tarball at ${ARTIFACT} into ${STAGE},
	// refusing any entry that is not a plain file or directory below /.
	StepStage StepKind = "stage"
	// StepRun runs Cmd (skipped when IfExists is missing or OnlyIf fails).
	StepRun StepKind = "run"
	// StepInstallFiles copies ${STAGE} into the root: a config file under
	// /etc/NAME that exists already is kept and the new one written as
	// FILE.new; files the old file list had and the new one lacks are
	// deleted.
	StepInstallFiles StepKind = "install-files"
	// StepRecord writes the release record (Path).
	StepRecord StepKind = "record"
	// StepConfig sets the --set keys in the config file (Path; empty:
	// chosen once the package is installed).
	StepConfig StepKind = "config"
	// StepEnvironment sets the --set env.NAME variables (Vars) in the
	// package's environment file (Path, from the signed manifest).
	StepEnvironment StepKind = "environment"
	// StepNoStart stops the service again when this run's install started
	// it (--no-start).
	StepNoStart StepKind = "no-start"
	// StepRestart restarts the service through Init when a config step
	// changed the file.
	StepRestart StepKind = "restart"
	// StepHealth checks that the service runs, through Init, for Seconds.
	StepHealth StepKind = "health"
	// StepRemoveFiles deletes what a tarball install's file list (Path)
	// names; config files under /etc/NAME stay unless Purge.
	StepRemoveFiles StepKind = "remove-files"
	// StepPurge deletes /etc/NAME, /var/lib/NAME and /var/log/NAME, and the accounts the
	// maintainer scripts noted as created by the package.
	StepPurge StepKind = "purge"
	// StepForget deletes the release record (Path); only a purge does.
	StepForget StepKind = "forget"
	// StepTrustKey installs the release's key file Key (keys/NAME) at Path,
	// where the package manager looks for it, after checking it is the key
	// the signed manifest names.
	StepTrustKey StepKind = "trust-key"
)

// Command is a program and its arguments: never a shell line built from
// input (init fragments are fixed text from package initsys, run with
// sh -c, with only the validated project name in them).
type Command struct {
	Argv []string `json:"argv"`
	// Env is added to the environment: KEY=VALUE, never a secret.
	Env []string `json:"env,omitempty"`
}

// String shows the command as a shell would take it.
func (c Command) String() string {
	var parts []string
	parts = append(parts, c.Env...)
	for _, a := range c.Argv {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:=@%+,-${}", c)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Step is one thing the executor does.
type Step struct {
	Kind StepKind `json:"kind"`
	Desc string   `json:"description"`
	Cmd  *Command `json:"command,omitempty"`
	// IfExists skips the step when this path (inside the root, after
	// token expansion) does not exist.
	IfExists string `json:"if_exists,omitempty"`
	// OnlyIf is run first; the step is skipped when it fails.
	OnlyIf *Command `json:"only_if,omitempty"`
	// Path is the file a record, config, remove-files or forget step
	// works on.
	Path string `json:"path,omitempty"`
	// Init and Seconds drive restart, no-start and health steps.
	Init    string `json:"init,omitempty"`
	Seconds int    `json:"seconds,omitempty"`
	// Purge keeps no config in a remove-files step.
	Purge bool `json:"purge,omitempty"`
	// Key is the release file a trust-key step installs.
	Key string `json:"key,omitempty"`
	// Vars are the variables an environment step sets, sorted.
	Vars []string `json:"variables,omitempty"`
	// Health is the release's health command, which a health step runs
	// once the service has stayed up.
	Health *Command `json:"health_command,omitempty"`
	// Repo is what a repo-install or repo-remove step works with.
	Repo *RepoStep `json:"repository,omitempty"`
}

// State is what the host has already, gathered by the caller (Inspect).
type State struct {
	// Record is the installed release, nil when none is recorded.
	Record *Record `json:"record,omitempty"`
	// TarballFiles: the tarball's file list /usr/lib/NAME/files exists.
	TarballFiles bool `json:"tarball_files"`
	// Binary: /usr/bin/NAME exists.
	Binary bool `json:"binary"`
	// Init is the init the maintainer scripts set the service up with.
	Init string `json:"init,omitempty"`
	// ConfigFile is the config file --set edits, when one exists already.
	ConfigFile string `json:"config_file,omitempty"`
}

// PlanOptions are the user's choices that planning depends on.
type PlanOptions struct {
	// Version pins the project version: the manifest must be this one.
	Version        string
	AllowDowngrade bool
	// Reinstall installs the package again even when this release is
	// recorded as installed.
	Reinstall bool
	NoStart   bool
	Sets      []Setting
	// ConfigFile is the file --set edits: relative to /etc/NAME, or an
	// absolute path below it; empty chooses /etc/NAME/NAME.toml or the
	// only *.toml there.
	ConfigFile string
	// HealthSeconds is how long the service must stay up; 0 means 5.
	HealthSeconds int
	Purge         bool
	// Repo, when set, installs from the release's package repository
	// (--method repo) instead of from the release's package file.
	Repo *RepoOptions
}

// Plan is every decision of one run, made before anything changes.
type Plan struct {
	Name           string         `json:"name"`
	Version        string         `json:"version,omitempty"`
	Release        int            `json:"release,omitempty"`
	ReleaseVersion int64          `json:"release_version,omitempty"`
	Action         Action         `json:"action"`
	Host           detector.Facts `json:"host"`
	Installed      *Record        `json:"installed,omitempty"`
	// Artifact is the chosen file (nil when nothing is downloaded).
	Artifact *manifest.Artifact `json:"artifact,omitempty"`
	// Keys are the keys the signed manifest names.
	Keys *manifest.Keys `json:"keys,omitempty"`
	// Format is how the release is (or was) installed.
	Format         string `json:"format"`
	PackageManager string `json:"package_manager"`
	// Init is the init system the service is driven through; "" when no
	// init runs (nothing is restarted or health-checked).
	Init  string   `json:"init,omitempty"`
	Notes []string `json:"notes,omitempty"`
	Steps []Step   `json:"steps"`
	// Method is MethodRepo when the package comes from the repository.
	Method string `json:"method,omitempty"`
}

// ChooseArtifact picks the release's package for the host's package format
// and architecture. A host whose format the release lacks (or that has no
// supported package manager) gets the release tarball; NixOS, an unknown
// architecture and a release with neither are refused.
func ChooseArtifact(f detector.Facts, r *manifest.Release) (*manifest.Artifact, []string, error) {
	if f.PackageFormat == detector.None {
		if f.DistroID == "nixos" {
			return nil, nil, fmt.Errorf("%w: NixOS manages software through the Nix store; omnipack will not install into it. "+
				"Package %s with a Nix expression instead (for example a derivation that fetches the release tarball and checks its sha256 from release.json); nothing was changed",
				ErrUnsupported, r.Name)
		}
		return nil, nil, fmt.Errorf("%w: no package format fits %s; nothing was changed", ErrUnsupported, f.DistroID)
	}
	if !release.IsPackage(f.PackageFormat) {
		return nil, nil, fmt.Errorf("%w: package format %q is not one omnipack installs", ErrUnsupported, f.PackageFormat)
	}
	if f.Arch == "" || f.Arch == detector.Unknown {
		return nil, nil, fmt.Errorf("%w: cannot tell this host's architecture", ErrUnsupported)
	}
	find := func(format string) ([]manifest.Artifact, error) {
		var out []manifest.Artifact
		for _, a := range r.Artifacts {
			if a.Format == format && a.Arch == f.Arch && a.OS == "linux" {
				out = append(out, a)
			}
		}
		if len(out) > 1 {
			return nil, fmt.Errorf("the release lists %d %s packages for %s; refusing to guess", len(out), format, f.Arch)
		}
		return out, nil
	}
	got, err := find(f.PackageFormat)
	if err != nil {
		return nil, nil, err
	}
	var notes []string
	if unpacked := formats.Unpacked().Name(); len(got) == 0 && f.PackageFormat != unpacked {
		if got, err = find(unpacked); err != nil {
			return nil, nil, err
		}
		if len(got) == 1 {
			notes = append(notes, fmt.Sprintf("the release has no %s package for %s: installing the release %s instead; %s will not know about its files",
				f.PackageFormat, f.Arch, unpacked, f.PackageManager))
		}
	}
	if len(got) == 0 {
		return nil, nil, fmt.Errorf("%w: the release has no %s package (nor a tarball) for %s; it has: %s; nothing was changed",
			ErrUnsupported, f.PackageFormat, f.Arch, available(r))
	}
	a := got[0]
	return &a, notes, nil
}

func available(r *manifest.Release) string {
	seen := map[string]bool{}
	var out []string
	for _, a := range r.Artifacts {
		if release.IsPackage(a.Format) && !seen[a.Format+"/"+a.Arch] {
			seen[a.Format+"/"+a.Arch] = true
			out = append(out, a.Format+"/"+a.Arch)
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return "no packages"
	}
	return strings.Join(out, ", ")
}

// managed returns format's package-manager plug-in; false for a format no
// package manager installs.
func managed(format string) (packaging.PackageManaged, bool) {
	f, ok := formats.Lookup(format)
	if !ok || !formats.Has(f, packaging.StageInstall) {
		return nil, false
	}
	return f.(packaging.PackageManaged), true
}

// PackageCommand is how package manager pm does op for a package of
// format: the plug-in's words (packaging.PackageManaged.Command), the
// package file and name filled in. install.sh runs the same words.
func PackageCommand(format, pm string, op packaging.Op, file, name string) (Command, error) {
	m, ok := managed(format)
	if !ok {
		return Command{}, fmt.Errorf("%w: no package manager installs the %s format", ErrUnsupported, format)
	}
	c, ok := m.Command(pm, op)
	if !ok {
		return Command{}, fmt.Errorf("%w: no way to %s a %s package with %s", ErrUnsupported, op, format, pm)
	}
	return Command{Argv: fill(c.Argv, file, name), Env: c.Env}, nil
}

// KnownCommand succeeds when the package manager knows the package (for
// dpkg also when only its config is left).
func KnownCommand(format, name string) Command {
	m, ok := managed(format)
	if !ok {
		return Command{Argv: []string{"false"}}
	}
	return queryCommand(m.Known(), name)
}

// queryCommand runs a Query: its argv, or, for one that compares output,
// the sh condition install.sh runs too.
func queryCommand(q packaging.Query, name string) Command {
	if q.Want == "" {
		return Command{Argv: fill(q.Argv, "", name)}
	}
	return Command{Argv: []string{"/bin/sh", "-c", q.Shell(name)}}
}

func fill(argv []string, file, name string) []string {
	out := make([]string, len(argv))
	for i, a := range argv {
		switch a {
		case packaging.FileArg:
			a = file
		case packaging.NameArg:
			a = name
		}
		out[i] = a
	}
	return out
}

// packageName is the package's name as format's package manager knows
// it: the one the manifest or record gives, else the format's mapping of
// the program's name.
func packageName(format, program, given string) string {
	if given != "" {
		return given
	}
	return formats.PackageName(format, program)
}

// apkKeyName is the apk key's name the signed manifest gives, "" for an
// unsigned one.
func apkKeyName(r *manifest.Release) string {
	if r.Keys == nil {
		return ""
	}
	return r.Keys.APKKeyName
}

// ops maps an install action to the package manager's operation.
var ops = map[Action]packaging.Op{ActionInstall: packaging.OpInstall, ActionUpgrade: packaging.OpUpgrade,
	ActionDowngrade: packaging.OpDowngrade, ActionReinstall: packaging.OpReinstall}

// InitCommand is the init fragment for what (restart, stop, status) of the
// service, run with sh -c; ok is false for an init omnipack cannot drive.
func InitCommand(initName, name, what string) (Command, bool) {
	r, ok := inits.Lookup(initName)
	if !ok {
		return Command{}, false
	}
	sh := r.Shell(initsys.Service{Name: name})
	frag := map[string]string{"restart": sh.Restart, "stop": sh.Stop, "status": sh.Status, "start": sh.Start}[what]
	if frag == "" {
		return Command{}, false
	}
	return Command{Argv: []string{"/bin/sh", "-c", frag}}, true
}

// DrivableInit returns the init to restart and health-check through: the
// one the maintainer scripts recorded, else the running one; "" when none
// runs.
func DrivableInit(f detector.Facts, st State) string {
	if _, ok := inits.Lookup(f.Init); !ok {
		// None or unknown (a tree): nothing can be started here.
		return ""
	}
	if _, ok := inits.Lookup(st.Init); ok {
		return st.Init
	}
	return f.Init
}

// tarball paths inside the root.
func scriptPath(name, script string) string {
	return path.Join(layout.TarballScriptsDir(name), script)
}

// NewPlan decides an install or upgrade: the artifact for the host, the
// action against what is installed, and every step. It is pure: the
// facts, the verified manifest and the host's state are all it reads.
func NewPlan(f detector.Facts, r *manifest.Release, st State, o PlanOptions) (*Plan, error) {
	if err := release.CheckRelease(r); err != nil {
		return nil, err
	}
	if o.Version != "" && o.Version != r.Version {
		return nil, fmt.Errorf("the release is %s %s, not the pinned version %s; nothing was changed", r.Name, r.Version, o.Version)
	}
	for _, s := range o.Sets {
		if err := CheckSetting(s); err != nil {
			return nil, err
		}
	}
	configPath, err := resolveConfig(r.Name, o.ConfigFile, st.ConfigFile)
	if err != nil {
		return nil, err
	}
	a, notes, err := ChooseArtifact(f, r)
	if err != nil {
		return nil, err
	}
	p := &Plan{Name: r.Name, Version: r.Version, Release: r.Release, ReleaseVersion: r.ReleaseVersion, Host: f, Installed: st.Record,
		Artifact: a, Keys: r.Keys, Format: a.Format, PackageManager: f.PackageManager, Notes: notes}
	if formats.Is(a.Format, packaging.StageUnpack) {
		p.PackageManager = detector.None
	}
	rec := st.Record
	if o.Repo != nil {
		step, err := repoSteps(f, r.Name, packageName(a.Format, r.Name, a.Package), *o.Repo)
		if err != nil {
			return nil, err
		}
		p.Method = MethodRepo
		p.Action = ActionInstall
		if rec != nil || st.Binary {
			p.Action = ActionUpgrade
		}
		p.Notes = append(p.Notes, fmt.Sprintf("--method repo: %s installs the newest %s in the repository %s (the release's own package is %s), and later versions arrive with its upgrades",
			step.Manager, r.Name, o.Repo.URL, a.Name))
		p.Steps = append(p.Steps, Step{Kind: StepRepoInstall, Repo: step,
			Desc: fmt.Sprintf("trust the release's OpenPGP key (checked against the signed manifest) as %s for this repository alone, write %s, check the repository's signature with %s, then %s %s from it",
				step.Keyring, step.Source, step.Manager, p.Action, r.Name)},
			Step{Kind: StepRecord, Path: RecordPath(r.Name), Desc: fmt.Sprintf("record the installed version, from the repository, in %s", RecordPath(r.Name))})
		if err := p.finish(r, st, o, configPath); err != nil {
			return nil, err
		}
		return p, nil
	}

	// The action: TUF's rollback rule on the signed release version.
	switch {
	case rec == nil:
		p.Action = ActionInstall
		if st.Binary || st.TarballFiles {
			p.Notes = append(p.Notes, fmt.Sprintf("%s is on this host but omnipack recorded no release; installing over it", r.Name))
		}
	case r.ReleaseVersion < rec.ReleaseVersion:
		if !o.AllowDowngrade {
			return nil, fmt.Errorf("%w: this release (%s %s, release_version %d) is older than the installed one (%s, release_version %d); "+
				"an attacker may be replaying an old signed release. Pass --allow-downgrade to go back on purpose; nothing was changed",
				ErrRollback, r.Name, r.Version, r.ReleaseVersion, rec.Version, rec.ReleaseVersion)
		}
		p.Action = ActionDowngrade
	case r.ReleaseVersion == rec.ReleaseVersion && !o.Reinstall:
		if st.Binary || st.TarballFiles {
			p.Action = ActionNone
		} else {
			p.Action = ActionReinstall
			p.Notes = append(p.Notes, fmt.Sprintf("%s is recorded as installed but /usr/bin/%s is missing; installing it again", r.Name, r.Name))
		}
	case r.ReleaseVersion == rec.ReleaseVersion:
		p.Action = ActionReinstall
	default:
		p.Action = ActionUpgrade
	}
	if rec != nil && rec.Format != "" && rec.Format != a.Format && p.Action != ActionNone {
		p.Notes = append(p.Notes, fmt.Sprintf("installed as %s before, now as %s", rec.Format, a.Format))
	}

	if p.Action != ActionNone {
		p.Steps = append(p.Steps, Step{Kind: StepDownload,
			Desc: fmt.Sprintf("download %s (%s/%s, at most %d bytes) into a private temporary directory and check its sha256 %s", a.Name, a.Format, a.Arch, a.Size, a.SHA256)})
		if formats.Is(a.Format, packaging.StageUnpack) {
			p.Steps = append(p.Steps,
				Step{Kind: StepStage, Desc: "unpack the tarball into " + StageToken + ", refusing any entry that is not a plain file or directory"},
				Step{Kind: StepRun, Desc: "run the tarball's preinstall script (accounts)",
					IfExists: StageToken + scriptPath(r.Name, "preinstall"),
					Cmd:      &Command{Argv: []string{"/bin/sh", StageToken + scriptPath(r.Name, "preinstall")}}},
				Step{Kind: StepInstallFiles, Path: layout.TarballFileList(r.Name),
					Desc: fmt.Sprintf("copy the files into place; an existing config file under %s is kept and the new one written beside it as FILE.new", layout.ConfigDir(r.Name))},
				Step{Kind: StepRun, Desc: "run the tarball's postinstall script (state directory, init integration, start)",
					IfExists: scriptPath(r.Name, "postinstall"),
					Cmd:      &Command{Argv: []string{"/bin/sh", scriptPath(r.Name, "postinstall")}}},
			)
		} else {
			m, _ := managed(a.Format)
			if k := m.TrustedKey(apkKeyName(r)); k != nil {
				if apkKeyName(r) == "" {
					return nil, fmt.Errorf("%w: the release names no apk key, so %s cannot check the package; nothing was changed", ErrUnsupported, f.PackageManager)
				}
				p.Steps = append(p.Steps, Step{Kind: StepTrustKey, Path: k.Path, Key: k.Release,
					Desc: fmt.Sprintf("install the release's key %s as %s for %s, checked against the signed manifest", k.Release, k.Path, f.PackageManager)})
			}
			cmd, err := PackageCommand(a.Format, f.PackageManager, ops[p.Action], ArtifactToken, packageName(a.Format, r.Name, a.Package))
			if err != nil {
				return nil, err
			}
			p.Steps = append(p.Steps, Step{Kind: StepRun, Cmd: &cmd, Desc: "install the package with " + f.PackageManager})
		}
		p.Steps = append(p.Steps, Step{Kind: StepRecord, Path: RecordPath(r.Name),
			Desc: fmt.Sprintf("record release_version %d, version %s in %s", r.ReleaseVersion, r.Version, RecordPath(r.Name))})
	}
	if err := p.finish(r, st, o, configPath); err != nil {
		return nil, err
	}
	return p, nil
}

// finish adds the steps after the package is in place: the --set values,
// the restart they need, and the service's start and health check.
func (p *Plan) finish(r *manifest.Release, st State, o PlanOptions, configPath string) error {
	f, a := p.Host, p.Artifact
	configSets, envSets := splitSets(o.Sets)
	if len(configSets) > 0 {
		var keys []string
		for _, s := range configSets {
			keys = append(keys, s.String())
		}
		where := configPath
		if where == "" {
			where = fmt.Sprintf("%s/%s.toml, or the only *.toml in %s (chosen once installed)", layout.ConfigDir(r.Name), r.Name, layout.ConfigDir(r.Name))
		}
		p.Steps = append(p.Steps, Step{Kind: StepConfig, Path: configPath,
			Desc: fmt.Sprintf("set %s in %s (mode 0640 or stricter, owner kept)", strings.Join(keys, " "), where)})
	}
	if len(envSets) > 0 {
		if a.EnvironmentFile == "" {
			return fmt.Errorf("%w: --set %s: %s's %s package ships no environment file ([service] environment_file is off in its omnipack.toml); nothing was changed",
				ErrNoEnvironmentFile, envSets[0].Key, r.Name, a.Format)
		}
		var keys []string
		for _, s := range envSets {
			keys = append(keys, s.String())
		}
		p.Steps = append(p.Steps, Step{Kind: StepEnvironment, Path: a.EnvironmentFile, Vars: envNames(envSets),
			Desc: fmt.Sprintf("set %s in the environment file %s (mode 0640 or stricter, owner kept)", strings.Join(keys, " "), a.EnvironmentFile)})
	}

	p.Init = DrivableInit(f, st)
	switch {
	case p.Init == "":
		p.Notes = append(p.Notes, "no init system is running: the service is set up to start at boot, but not started or health-checked now")
	case o.NoStart:
		if p.Action != ActionNone {
			cmd, _ := InitCommand(p.Init, r.Name, "stop")
			p.Steps = append(p.Steps, Step{Kind: StepNoStart, Init: p.Init, Cmd: &cmd,
				Desc: "--no-start: stop the service again if this install started it"})
		}
	default:
		if len(o.Sets) > 0 {
			cmd, _ := InitCommand(p.Init, r.Name, "restart")
			p.Steps = append(p.Steps, Step{Kind: StepRestart, Init: p.Init, Cmd: &cmd,
				Desc: "restart the service through " + p.Init + " if the config or the environment file changed"})
		}
		secs := o.HealthSeconds
		if secs <= 0 {
			secs = 5
		}
		cmd, _ := InitCommand(p.Init, r.Name, "status")
		step := Step{Kind: StepHealth, Init: p.Init, Seconds: secs, Cmd: &cmd,
			Desc: fmt.Sprintf("check through %s that the service runs and stays up for %d s; print its last log lines if not", p.Init, secs)}
		if len(r.HealthCommand) > 0 {
			step.Health = &Command{Argv: slices.Clone(r.HealthCommand)}
			step.Desc = fmt.Sprintf("check through %s that the service runs and stays up for %d s, then that its health command passes (%s); print its last log lines if not", p.Init, secs, step.Health)
		}
		p.Steps = append(p.Steps, step)
	}
	return nil
}

// resolveConfig returns the in-root config path from --config-file, else
// the existing one found, else "" (chosen after install).
func resolveConfig(name, flag, found string) (string, error) {
	dir := layout.ConfigDir(name)
	if flag == "" {
		return found, nil
	}
	p := flag
	if !strings.HasPrefix(p, "/") {
		p = dir + "/" + p
	}
	clean := path.Clean(p)
	if clean != p || strings.Contains(p, "/../") || !strings.HasPrefix(clean, dir+"/") {
		return "", fmt.Errorf("--config-file %q: name a file below %s", flag, dir)
	}
	return clean, nil
}

// NewUninstallPlan decides a removal: how the release was installed (the
// record says; else the tarball's file list; else the host's package
// manager), the removal, and with o.Purge the config, state and accounts.
func NewUninstallPlan(f detector.Facts, name string, st State, o PlanOptions) (*Plan, error) {
	if err := release.CheckName(name); err != nil {
		return nil, err
	}
	p := &Plan{Name: name, Action: ActionUninstall, Host: f, Installed: st.Record, PackageManager: f.PackageManager}
	if o.Purge {
		p.Action = ActionPurge
	}
	unpacked := formats.Unpacked().Name()
	switch {
	case st.Record != nil && st.Record.Format != "":
		p.Format = st.Record.Format
	case st.TarballFiles:
		p.Format = unpacked
	default:
		p.Format = f.PackageFormat
	}
	_, isManaged := managed(p.Format)
	switch {
	case p.Format == unpacked:
		p.PackageManager = detector.None
		p.Steps = append(p.Steps,
			Step{Kind: StepRun, Desc: "run the tarball's preremove script (stop, disable, remove the init files)",
				IfExists: scriptPath(name, "preremove"),
				Cmd:      &Command{Argv: []string{"/bin/sh", scriptPath(name, "preremove")}}},
			Step{Kind: StepRemoveFiles, Path: layout.TarballFileList(name), Purge: o.Purge,
				Desc: fmt.Sprintf("delete the files %s lists%s", layout.TarballFileList(name), keepConfig(name, o.Purge))})
	case isManaged:
		op := packaging.OpRemove
		if o.Purge {
			op = packaging.OpPurge
		}
		pkg := ""
		if st.Record != nil {
			pkg = st.Record.Package
		}
		pkg = packageName(p.Format, name, pkg)
		cmd, err := PackageCommand(p.Format, f.PackageManager, op, "", pkg)
		if err != nil {
			return nil, err
		}
		q := KnownCommand(p.Format, pkg)
		p.Steps = append(p.Steps, Step{Kind: StepRun, Cmd: &cmd, OnlyIf: &q, Desc: "remove the package with " + f.PackageManager + " (if installed)"})
		if st.Record != nil && st.Record.Method == MethodRepo {
			if step, ok := repoRemoveStep(p.Format, name); ok {
				p.Method = MethodRepo
				p.Steps = append(p.Steps, step)
			}
		}
	default:
		if f.DistroID == "nixos" {
			return nil, fmt.Errorf("%w: NixOS: omnipack installs nothing here, so there is nothing to remove", ErrUnsupported)
		}
		return nil, fmt.Errorf("%w: cannot tell how %s was installed (no record, no tarball file list, no package manager)", ErrUnsupported, name)
	}
	if o.Purge {
		p.Steps = append(p.Steps, Step{Kind: StepPurge,
			Desc: fmt.Sprintf("delete %s, %s and %s, and the user and group the package created (%s)", layout.ConfigDir(name), layout.StateDir(name), layout.LogDir(name), AccountsPath(name))},
			Step{Kind: StepForget, Path: RecordPath(name), Desc: "delete the release record " + RecordPath(name)})
	} else {
		// As install.sh does: the record stays, so that reinstalling an
		// older release later is still a rollback.
		p.Notes = append(p.Notes, fmt.Sprintf("the config in %s and the release record %s are kept (--purge deletes them)", layout.ConfigDir(name), RecordPath(name)))
	}
	return p, nil
}

func keepConfig(name string, purge bool) string {
	if purge {
		return ""
	}
	return ", except config files under " + layout.ConfigDir(name)
}

// Text renders the plan for --dry-run and before a real run. tmp is shown
// for the temporary directory.
func (p *Plan) Text(tmp string) string {
	var b strings.Builder
	f := p.Host
	fmt.Fprintf(&b, "host: distro=%s %s arch=%s libc=%s package_manager=%s package_format=%s init=%s container=%s\n",
		f.DistroID, f.DistroVersion, f.Arch, f.Libc, f.PackageManager, f.PackageFormat, f.Init, f.Container)
	if p.Installed != nil {
		fmt.Fprintf(&b, "installed: %s %s (release_version %d)\n", p.Name, p.Installed.Version, p.Installed.ReleaseVersion)
	} else {
		fmt.Fprintf(&b, "installed: nothing recorded\n")
	}
	if p.Version != "" {
		fmt.Fprintf(&b, "release: %s %s (release_version %d)\n", p.Name, p.Version, p.ReleaseVersion)
	}
	fmt.Fprintf(&b, "action: %s\n", p.Action)
	if p.Artifact != nil {
		fmt.Fprintf(&b, "artifact: %s (%s, %s, %d bytes, sha256 %s)\n", p.Artifact.Name, p.Artifact.Format, p.Artifact.Arch, p.Artifact.Size, p.Artifact.SHA256)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	for i, s := range p.Steps {
		fmt.Fprintf(&b, "step %d: %s\n", i+1, p.expand(s.Desc, tmp))
		if s.OnlyIf != nil {
			fmt.Fprintf(&b, "  if:  %s\n", p.expand(s.OnlyIf.String(), tmp))
		}
		if s.IfExists != "" {
			fmt.Fprintf(&b, "  if exists: %s\n", p.expand(s.IfExists, tmp))
		}
		if s.Cmd != nil {
			fmt.Fprintf(&b, "  run: %s\n", p.expand(s.Cmd.String(), tmp))
		}
		if s.Repo != nil {
			for _, c := range []*Command{s.Repo.Check, s.Repo.Refresh, s.Repo.Install} {
				if c != nil {
					fmt.Fprintf(&b, "  run: %s\n", p.expand(c.String(), tmp))
				}
			}
		}
	}
	return b.String()
}

// PlanLines are the plan's decisions in the form install.sh --dry-run
// prints them too: the keys installed for the package manager, every
// command of the package manager and of the package's scripts, and the
// environment file --set env.NAME writes with the variables, in order,
// with the artifact and the unpacked tarball as ${ARTIFACT} and ${STAGE},
// then one line with the action, artifact, format, package manager and
// init. The two installers' dry runs are held equal on these lines.
func (p *Plan) PlanLines() []string {
	var out []string
	for _, s := range p.Steps {
		switch {
		case s.Kind == StepTrustKey:
			out = append(out, "plan: trust-key "+s.Path)
		case s.Kind == StepEnvironment:
			out = append(out, "plan: set-env "+s.Path+" "+strings.Join(s.Vars, " "))
		case s.Kind == StepRun && s.Cmd != nil:
			words := s.Cmd.Argv
			if len(s.Cmd.Env) > 0 {
				words = append(append([]string{"env"}, s.Cmd.Env...), words...)
			}
			out = append(out, "plan: run "+strings.Join(words, " "))
		}
	}
	artifact, init := "", p.Init
	if p.Artifact != nil {
		artifact = p.Artifact.Name
	}
	if init == "" {
		init = detector.None
	}
	return append(out, fmt.Sprintf("plan: action=%s artifact=%s format=%s package_manager=%s init=%s",
		p.Action, artifact, p.Format, p.PackageManager, init))
}

// expand replaces the tokens with paths below tmp.
func (p *Plan) expand(s, tmp string) string {
	art := ""
	if p.Artifact != nil {
		art = tmp + "/" + p.Artifact.Name
	}
	return strings.NewReplacer(ArtifactToken, art, StageToken, tmp+"/stage", ScratchToken, tmp+"/"+scratchDir).Replace(s)
}
