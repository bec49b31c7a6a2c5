// Package scripts generates the maintainer scripts of an omnipack package for
// each package format.
//
// Every package carries the files of every init system the vendor enabled,
// staged under layout.InitStage. The scripts pick the init system the host
// runs at install time, copy that init's files into place, record what they
// installed in layout.InitRecord, and drive the service through the init's
// initsys.Shell fragments. Nothing in this package knows a particular init
// system: the per-init parts are generated from the renderers given in Input,
// so adding an init system needs no change here.
//
// The generated scripts are POSIX sh (dash, busybox ash and bash), have no
// test hooks, and print every message to stderr prefixed with "NAME: ".
//
// Lifecycle, per format (a Set field left empty means "no script"):
//
//	deb    preinst   install|upgrade         create group and user
//	       postinst  configure, abort-remove  state dir, config group, init integration
//	       prerm     remove                   stop
//	       postrm    remove, purge            disable, delete recorded files
//	                 purge                    delete config, state and the accounts it created
//	rpm    %pre      $1=1|2                   create group and user
//	       %post     $1=1|2                   state dir, config group, init integration
//	       %preun    $1=0 only                stop, disable, delete recorded files
//	apk    .pre-install, .pre-upgrade         create group and user
//	       .post-install, .post-upgrade       state dir, config group, init integration
//	       .pre-deinstall                     stop, disable, delete recorded files
//	arch   pre_install, pre_upgrade           create group and user
//	       post_install, post_upgrade         state dir, config group, init integration
//	       pre_remove                         stop, disable, delete recorded files
//
// Detection: the first init whose Shell.Running holds, unless / is not PID
// 1's root (a chroot or image build, told by comparing stat of / and
// /proc/1/root when /proc is readable); then the first whose Shell.Installed
// holds, whose files are installed and enabled but nothing is started; else
// the init the record names; else nothing is set up and the files stay
// staged.
//
// Besides layout.InitRecord, the scripts keep /var/lib/omnipack/NAME.accounts,
// listing the user and group this package created, so that a deb purge
// deletes those and never an account that existed before (nobody, adm).
//
// Output: messages go to stderr with the prefix; what tools and init
// fragments print is prefixed too, except for the start, restart and start
// check fragments, whose output is passed to stderr as is: capturing it could hang
// the package manager on a daemon that inherits the pipe.
//
// Install and upgrade are told apart by the record, not by the package
// manager's arguments: when the record already names the init system in use,
// the service is restarted, otherwise started. That also covers reinstalling
// a removed but not purged deb, and an upgrade that finds a different init
// system than the one the old version set up (the old integration is removed
// first).
package scripts

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"
	"text/template"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/layout"
)

// Input is what the scripts are generated from.
type Input struct {
	Service initsys.Service
	// Inits are the init systems the vendor enabled, in detection order
	// (initsys.All order). The first whose Shell.Running holds is used.
	Inits []initsys.Renderer
	// Files holds each init's rendered files by init name, so the scripts
	// know targets and modes. An init missing from the map is rendered
	// here with its Render method.
	Files map[string][]initsys.File
	// ConfigFiles are the absolute paths of the config files the package
	// ships under the config directory. While one of them (or the config
	// directory itself) is owned by root:root, which is how package managers
	// write them on install and when an upgrade replaces an unmodified
	// config, the post-install script gives it the service group, so the
	// service can read a 0640 config. Modes are never changed, nor owners
	// the admin set.
	ConfigFiles []string
}

// Set holds the scripts of one package format, as script text. An empty
// field means the format runs no script in that slot: leave the nfpm field
// empty. The packager writes each non-empty field to a file and passes it as:
//
//	PreInstall, PostInstall, PreRemove, PostRemove -> nfpm.Scripts
//	PreUpgrade, PostUpgrade -> APK.Scripts or ArchLinux.Scripts
//
// rpm's %pretrans and %posttrans are not used: %pretrans may run before
// /bin/sh exists on a fresh system, and nothing needs to wait for the whole
// transaction (the new %post does everything; the old %preun does nothing
// on upgrade).
type Set struct {
	PreInstall  string
	PostInstall string
	PreRemove   string
	PostRemove  string
	PreUpgrade  string // apk .pre-upgrade, Arch pre_upgrade
	PostUpgrade string // apk .post-upgrade, Arch post_upgrade
}

// Deb returns the preinst, postinst, prerm and postrm of a deb.
func Deb(in Input) (Set, error) {
	d, err := prepare(in, "deb")
	if err != nil {
		return Set{}, err
	}
	return build(d, []phase{
		{&d.set.PreInstall, "preinst", debPreinstDoc, accountFuncs, debPreinstMain},
		{&d.set.PostInstall, "postinst", debPostinstDoc, configureFuncs, debPostinstMain},
		{&d.set.PreRemove, "prerm", debPrermDoc, stopFuncs, debPrermMain},
		{&d.set.PostRemove, "postrm", debPostrmDoc, purgeFuncs, debPostrmMain},
	})
}

// RPM returns the %pre, %post and %preun of an rpm; it has no %postun.
func RPM(in Input) (Set, error) {
	d, err := prepare(in, "rpm")
	if err != nil {
		return Set{}, err
	}
	return build(d, []phase{
		{&d.set.PreInstall, "%pre", rpmPreDoc, accountFuncs, plainAccountsMain},
		{&d.set.PostInstall, "%post", rpmPostDoc, configureFuncs, plainConfigureMain},
		{&d.set.PreRemove, "%preun", rpmPreunDoc, removeFuncs, rpmPreunMain},
	})
}

// APK returns the .pre-install, .post-install, .pre-upgrade, .post-upgrade
// and .pre-deinstall of an apk; it has no .post-deinstall.
func APK(in Input) (Set, error) {
	d, err := prepare(in, "apk")
	if err != nil {
		return Set{}, err
	}
	return build(d, []phase{
		{&d.set.PreInstall, ".pre-install", apkPreInstallDoc, accountFuncs, plainAccountsMain},
		{&d.set.PreUpgrade, ".pre-upgrade", apkPreUpgradeDoc, accountFuncs, plainAccountsMain},
		{&d.set.PostInstall, ".post-install", apkPostInstallDoc, configureFuncs, plainConfigureMain},
		{&d.set.PostUpgrade, ".post-upgrade", apkPostUpgradeDoc, configureFuncs, plainConfigureMain},
		{&d.set.PreRemove, ".pre-deinstall", apkPreDeinstallDoc, removeFuncs, plainRemoveMain},
	})
}

// Arch returns the pre_install, post_install, pre_upgrade, post_upgrade and
// pre_remove bodies of an Arch package; it has no post_remove. nfpm wraps
// each body in a function of that name in .INSTALL, which pacman sources
// with bash before calling the function with the versions as arguments; the
// bodies are also complete sh scripts on their own.
func Arch(in Input) (Set, error) {
	d, err := prepare(in, "archlinux")
	if err != nil {
		return Set{}, err
	}
	return build(d, []phase{
		{&d.set.PreInstall, "pre_install", archPreInstallDoc, accountFuncs, plainAccountsMain},
		{&d.set.PreUpgrade, "pre_upgrade", archPreUpgradeDoc, accountFuncs, plainAccountsMain},
		{&d.set.PostInstall, "post_install", archPostInstallDoc, configureFuncs, plainConfigureMain},
		{&d.set.PostUpgrade, "post_upgrade", archPostUpgradeDoc, configureFuncs, plainConfigureMain},
		{&d.set.PreRemove, "pre_remove", archPreRemoveDoc, removeFuncs, plainRemoveMain},
	})
}

// phase is one script of one format.
type phase struct {
	out   *string
	name  string // the format's own name for the script
	doc   string // comment on when it runs and with which arguments
	funcs []string
	main  string
}

// dirData is one declared directory as the templates see it.
type dirData struct {
	Path, Owner, Group, Mode string
	Purge                    bool
}

// data is what the script templates see.
type data struct {
	Name, User, Group, Format string
	StateDir, ConfigDir       string
	LogDir                    string // where an init without a journal logs
	Stage                     string // parent of every init's stage
	RecordDir                 string
	Record, RecordNew         string
	Accounts                  string // accounts this package created
	PurgeList                 string // what this package created, for purge
	Dirs                      []dirData
	EnvironmentFile           string
	KeptCopies                []string // suffixes of a config file's kept copies
	CreateUser, CreateGroup   bool
	ConfigPaths               []string
	Dispatch                  map[string]string // generated init functions
	// The start check (watch_start): seconds, 0 for none; the health
	// command as sh words and as text for messages, and how long it may
	// take.
	StartCheckSeconds         int
	HealthCommand, HealthText string
	HealthTimeout             int
	SyslogTail                string
	set                       Set
}

var (
	accountRE = regexp.MustCompile(`^[a-z_][a-z0-9_-]{0,31}$`)
	initRE    = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	// Paths are embedded in shell code and messages and listed one a
	// line in the record, so they are kept to characters that need no
	// care anywhere.
	pathRE = regexp.MustCompile(`^/[A-Za-z0-9@%+,._:/-]*$`)
)

func checkPath(what, p string) error {
	if !pathRE.MatchString(p) || path.Clean(p) != p || p == "/" {
		return fmt.Errorf("scripts: %s %q must be a clean absolute path of letters, digits and @%%+,._:-", what, p)
	}
	return nil
}

// checkOwnDir guards the directories a purge deletes: one of their
// components must be the service name, so a config mistake such as
// state_dir = "/var/lib" can never turn into rm -rf /var/lib.
func checkOwnDir(what, p, name string) error {
	if err := checkPath(what, p); err != nil {
		return err
	}
	for _, c := range strings.Split(p, "/") {
		if c == name {
			return nil
		}
	}
	return fmt.Errorf("scripts: %s %q must have the service name %q as one of its components (a purge deletes it)", what, p, name)
}

func prepare(in Input, format string) (*data, error) {
	s := in.Service
	if err := layout.CheckName(s.Name); err != nil {
		return nil, fmt.Errorf("scripts: service name: %w", err)
	}
	if !accountRE.MatchString(s.User) {
		return nil, fmt.Errorf("scripts: user %q is not a valid system account name", s.User)
	}
	if !accountRE.MatchString(s.Group) {
		return nil, fmt.Errorf("scripts: group %q is not a valid system group name", s.Group)
	}
	d := &data{
		Name:        s.Name,
		User:        s.User,
		Group:       s.Group,
		Format:      format,
		StateDir:    s.StateDir,
		ConfigDir:   s.ConfigDir,
		LogDir:      layout.LogDir(s.Name),
		Stage:       layout.InitStageRoot(s.Name),
		Record:      layout.InitRecord(s.Name),
		RecordNew:   layout.InitRecord(s.Name) + ".new",
		RecordDir:   layout.RecordDir,
		CreateUser:  s.User != "root",
		CreateGroup: s.Group != "root",
		Dispatch:    map[string]string{},
	}
	if s.StartCheckSeconds < 0 || s.StartCheckSeconds > 3600 {
		return nil, fmt.Errorf("scripts: start check of %d s: use 0 to 3600", s.StartCheckSeconds)
	}
	d.StartCheckSeconds = s.StartCheckSeconds
	d.HealthTimeout = initsys.HealthTimeout
	d.SyslogTail = initsys.SyslogTail(s.Name)
	if len(s.HealthCommand) > 0 {
		if !path.IsAbs(s.HealthCommand[0]) {
			return nil, fmt.Errorf("scripts: health command %q: its first word must be an absolute path", s.HealthCommand)
		}
		words := make([]string, len(s.HealthCommand))
		for i, w := range s.HealthCommand {
			if strings.ContainsAny(w, "\n\x00") {
				return nil, fmt.Errorf("scripts: health command word %q must be one line", w)
			}
			words[i] = quote(w)
		}
		d.HealthCommand = strings.Join(words, " ")
		d.HealthText = strings.Join(s.HealthCommand, " ")
	}
	d.Accounts = layout.Accounts(s.Name)
	d.PurgeList = layout.PurgeList(s.Name)
	d.KeptCopies = layout.KeptCopies
	if s.EnvironmentFile != "" {
		if err := checkOwnDir("environment file", s.EnvironmentFile, s.Name); err != nil {
			return nil, err
		}
		d.EnvironmentFile = s.EnvironmentFile
	}
	for _, dir := range s.Dirs {
		if err := checkPath("directory", dir.Path); err != nil {
			return nil, err
		}
		if dir.Purge {
			if err := checkOwnDir("directory purged with its contents", dir.Path, s.Name); err != nil {
				return nil, err
			}
		}
		for _, a := range []string{dir.Owner, dir.Group} {
			if !accountRE.MatchString(a) {
				return nil, fmt.Errorf("scripts: directory %s: %q is not a valid account name", dir.Path, a)
			}
		}
		d.Dirs = append(d.Dirs, dirData{Path: dir.Path, Owner: dir.Owner, Group: dir.Group, Mode: fmt.Sprintf("%04o", dir.Mode), Purge: dir.Purge})
	}
	if d.StateDir == "" {
		d.StateDir = layout.StateDir(s.Name)
	}
	if d.ConfigDir == "" {
		d.ConfigDir = layout.ConfigDir(s.Name)
	}
	if err := checkOwnDir("state directory", d.StateDir, s.Name); err != nil {
		return nil, err
	}
	if err := checkOwnDir("config directory", d.ConfigDir, s.Name); err != nil {
		return nil, err
	}
	d.ConfigPaths = []string{d.ConfigDir}
	for _, c := range in.ConfigFiles {
		if err := checkPath("config file", c); err != nil {
			return nil, err
		}
		if !strings.HasPrefix(c, d.ConfigDir+"/") && c != s.EnvironmentFile {
			return nil, fmt.Errorf("scripts: config file %q is not under the config directory %s", c, d.ConfigDir)
		}
		d.ConfigPaths = append(d.ConfigPaths, c)
	}
	if len(in.Inits) == 0 {
		return nil, fmt.Errorf("scripts: service %s enables no init system", s.Name)
	}
	var inits []initInfo
	for _, r := range in.Inits {
		name := r.Name()
		if !initRE.MatchString(name) {
			return nil, fmt.Errorf("scripts: init system name %q must be lower-case letters, digits, _ and -", name)
		}
		for _, have := range inits {
			if have.name == name {
				return nil, fmt.Errorf("scripts: init system %q given twice", name)
			}
		}
		files, ok := in.Files[name]
		if !ok {
			var err error
			if files, err = r.Render(s); err != nil {
				return nil, fmt.Errorf("scripts: rendering %s files: %w", name, err)
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("scripts: init system %s has no files for %s", name, s.Name)
		}
		seen := map[string]bool{}
		for _, f := range files {
			if err := checkPath(name+" file target", f.Target); err != nil {
				return nil, err
			}
			if seen[f.Target] {
				return nil, fmt.Errorf("scripts: %s installs %s twice", name, f.Target)
			}
			seen[f.Target] = true
			if strings.HasPrefix(f.Target, d.Stage+"/") || strings.HasPrefix(f.Target, d.RecordDir+"/") {
				return nil, fmt.Errorf("scripts: %s file target %s is inside omnipack's own directories", name, f.Target)
			}
			if f.Mode == 0 || f.Mode > 0o7777 {
				return nil, fmt.Errorf("scripts: %s file %s has mode %#o; want 0001-07777", name, f.Target, f.Mode)
			}
		}
		inits = append(inits, initInfo{name: name, sh: r.Shell(s), files: files})
	}
	for k, v := range dispatch(s.Name, inits) {
		d.Dispatch[k] = v
	}
	return d, nil
}

func build(d *data, phases []phase) (Set, error) {
	for _, p := range phases {
		text, err := render(d, p)
		if err != nil {
			return Set{}, fmt.Errorf("scripts: %s %s: %w", d.Format, p.name, err)
		}
		*p.out = text
	}
	return d.set, nil
}

func render(d *data, p phase) (string, error) {
	var b bytes.Buffer
	fmt.Fprintf(&b, "#!/bin/sh\n# %s %s script, generated by omnipack: do not edit.\n#\n", d.Name, p.name)
	b.WriteString(comment(p.doc))
	b.WriteString(comment(exitPolicy))
	b.WriteString(prologue)
	for _, f := range p.funcs {
		b.WriteString("\n")
		if g, ok := d.Dispatch[f]; ok {
			b.WriteString(g)
			continue
		}
		src, ok := funcs[f]
		if !ok {
			return "", fmt.Errorf("no shell function %q", f)
		}
		if err := execute(&b, f, src, d); err != nil {
			return "", err
		}
	}
	b.WriteString("\n")
	if err := execute(&b, "main", p.main, d); err != nil {
		return "", err
	}
	b.WriteString("\nmain \"$@\"\n")
	return b.String(), nil
}

func execute(b *bytes.Buffer, name, src string, d *data) error {
	t, err := template.New(name).Funcs(template.FuncMap{"q": quote}).Parse(src)
	if err != nil {
		return err
	}
	return t.Execute(b, d)
}

// comment turns text into sh comment lines, with a blank comment after.
func comment(text string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimSpace(text), "\n") {
		if l == "" {
			b.WriteString("#\n")
			continue
		}
		b.WriteString("# " + l + "\n")
	}
	b.WriteString("#\n")
	return b.String()
}

// quote returns s as one sh word.
func quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

const exitPolicy = `
Exit status: non-zero only when the package cannot work at all (the service
account, the state directory, the init files or their record could not be
made). Failing to start, stop, enable or disable the service only warns,
with the command that shows its status: a package left half-configured is
worse for the admin than a service that is not running.`

const prologue = `
umask 022
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
`
