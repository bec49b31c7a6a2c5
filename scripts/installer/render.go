package installer

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	_ "embed"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"regexp"
	"strings"
	"text/template"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/internal/loopback"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/packaging"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// FileName is the installer's name inside dist/.
const FileName = "install.sh"

// headTmpl holds install.sh's header: usage, the release's constants and
// the per-init service commands. mainSh holds every other function.
//
//go:embed install-head.sh.tmpl
var headTmpl string

// MainSh is install-main.sh: the installer's functions and main.
//
//go:embed install-main.sh
var MainSh string

// LastLine is the installer's last line. Every prefix of it is an
// incomplete compound command, so a download cut anywhere, even inside this
// line, is a syntax error or a file that only defines functions: nothing
// runs until the whole script has arrived.
const LastLine = `{ main "$@"; }`

// Params is everything install.sh embeds about one release.
type Params struct {
	// Name is the package name.
	Name string
	// Version is the version the installer was built with; informational
	// (the installer installs what the signed manifest lists).
	Version string
	// BaseURL is where dist/ is published ([installer] base_url). Empty
	// means the user must pass --base-url or --offline.
	BaseURL string
	// RepoURL is where the release's repository is served ([installer]
	// repo_url), for --method repo; empty means --repo-url must say.
	RepoURL string
	// HealthCommand is the release's health command as it runs on the
	// host, for --method repo, which reads no release.json.
	HealthCommand []string
	// ConfigPath is the absolute config file --set writes; empty when the
	// package has no config file.
	ConfigPath string
	// ConfigGroup owns the config file (root:GROUP, 0640).
	ConfigGroup string
	// EnvGroup owns the environment file --set env.NAME=VALUE writes
	// (root:GROUP, 0640): the service's group. Its path is the release's
	// (release.json's environment_file), as each package has its own.
	EnvGroup string
	// Positional names the keys bare arguments set, in order.
	Positional []string
	// Secrets are keys whose values are never printed. A key env.NAME,
	// here and in Positional, is the environment file's variable NAME.
	Secrets []string
	// HealthSeconds is how long the service must stay up after start.
	HealthSeconds int
	// ExecName is the daemon's process name (base name of its binary), for
	// noticing a restart during the health check.
	ExecName string
	// ReleasePub is the release public key, PEM "PUBLIC KEY" (ECDSA P-256).
	ReleasePub []byte
	// PGPPub is the OpenPGP public key, armored or binary.
	PGPPub []byte
	// APKKeyName is the apk key's name (/etc/apk/keys/APKKeyName.rsa.pub);
	// APKPub is that key, PEM "PUBLIC KEY" (RSA).
	APKKeyName string
	APKPub     []byte
	// Inits are the init systems the packages support and the commands
	// that drive the service under each (InitsFor).
	Inits []Init
	// Formats are the package formats a host may be given, with their
	// package managers' commands (FormatsFor).
	Formats []Format
	// Generator names the program that wrote the installer.
	Generator string
}

var (
	keyRe     = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	envKeyRe  = regexp.MustCompile(`^env\.[A-Za-z_][A-Za-z0-9_]*$`)
	groupRe   = regexp.MustCompile(`^[a-z_][a-z0-9_-]*\$?$`)
	initRe    = regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	apkNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@+-]*$`)
	wordRe    = regexp.MustCompile(`^[A-Za-z0-9._+~-]*$`)
	// urlCharsRe is what a base URL may hold, the set install.sh accepts for
	// --base-url: no blanks, quotes, backslashes, shell or curl glob
	// characters.
	urlCharsRe = regexp.MustCompile(`^[A-Za-z0-9._~:/@%+=,\[\]-]+$`)
	// configPathRe is a config file under /etc of plain characters.
	configPathRe = regexp.MustCompile(`^/etc/[A-Za-z0-9._+@/-]+$`)
)

// Render returns install.sh for p: the header with p's constants, detect.sh,
// install-main.sh, and LastLine. It checks p first, so a config mistake
// cannot produce an installer that embeds something unusable.
func Render(p Params) ([]byte, error) {
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("install.sh: %w", err)
	}
	pgp, err := pgpBinary(p.PGPPub)
	if err != nil {
		return nil, fmt.Errorf("install.sh: OpenPGP public key: %w", err)
	}
	t, err := template.New("head").Funcs(template.FuncMap{"q": ShellQuote, "words": words, "lines": lines}).Parse(headTmpl)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	var packageFormats []string
	unpacked := ""
	for _, f := range p.Formats {
		packageFormats = append(packageFormats, f.Name)
		if f.Unpacked {
			unpacked = f.Name
		}
	}
	data := struct {
		Params
		Base64PGP      string
		EnvPrefix      string
		PackageFormats []string
		Unpacked       string
		RecordDir      string
		LockFile       string
		TarballFiles   string
		TarballScripts string
		Ops            []packaging.Op
		SyslogTail     string
		PurgeList      string
		KeptCopies     []string
		HealthTimeout  int
	}{p, wrap(base64.StdEncoding.EncodeToString(pgp), 64), EnvPrefix(p.Name), packageFormats, unpacked,
		layout.RecordDir, layout.InstallLock(p.Name), layout.TarballFileList(p.Name), layout.TarballScriptsDir(p.Name), packaging.Ops, initsys.SyslogTail(p.Name),
		layout.PurgeList(p.Name), layout.KeptCopies, initsys.HealthTimeout}
	if err := t.Execute(&b, data); err != nil {
		return nil, err
	}
	b.WriteString("\n")
	b.WriteString(DetectSh)
	b.WriteString("\n")
	b.WriteString(MainSh)
	b.WriteString("\n")
	b.WriteString(LastLine + "\n")
	return b.Bytes(), nil
}

func (p *Params) check() error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	if err := layout.CheckName(p.Name); err != nil {
		bad("program name: %v", err)
	}
	if !wordRe.MatchString(p.Version) {
		bad("version %q: use letters, digits and . _ + ~ -", p.Version)
	}
	if p.BaseURL != "" {
		if err := CheckBaseURL(p.BaseURL); err != nil {
			errs = append(errs, err)
		}
	}
	if p.RepoURL != "" {
		if err := CheckBaseURL(p.RepoURL); err != nil {
			bad("repository URL: %v", err)
		}
	}
	for _, w := range p.HealthCommand {
		if w == "" || strings.ContainsAny(w, "\n\r") {
			bad("health command word %q: want a non-empty word on one line", w)
		}
	}
	if p.ConfigPath != "" {
		if path.Clean(p.ConfigPath) != p.ConfigPath || !configPathRe.MatchString(p.ConfigPath) {
			bad("config path %q: want a clean absolute path under /etc", p.ConfigPath)
		}
		if !groupRe.MatchString(p.ConfigGroup) {
			bad("config group %q is not a group name", p.ConfigGroup)
		}
	}
	configKeys, envKeys := 0, 0
	for _, k := range append(append([]string(nil), p.Positional...), p.Secrets...) {
		switch {
		case envKeyRe.MatchString(k):
			envKeys++
		case keyRe.MatchString(k):
			configKeys++
		default:
			bad("config key %q: use letters, digits, _ and -, or env.NAME", k)
		}
	}
	if configKeys > 0 && p.ConfigPath == "" {
		bad("positional or secret keys are set, but there is no config file to write them to")
	}
	if (envKeys > 0 || p.EnvGroup != "") && !groupRe.MatchString(p.EnvGroup) {
		bad("environment file group %q is not a group name", p.EnvGroup)
	}
	if p.HealthSeconds < 1 || p.HealthSeconds > 600 {
		bad("health seconds %d: use 1 to 600", p.HealthSeconds)
	}
	if !wordRe.MatchString(p.ExecName) || p.ExecName == "" {
		bad("exec name %q: want the daemon's base name", p.ExecName)
	}
	if err := checkECDSAPub(p.ReleasePub); err != nil {
		bad("release public key: %v", err)
	}
	if !apkNameRe.MatchString(p.APKKeyName) {
		bad("apk key name %q is not a file name", p.APKKeyName)
	}
	if err := checkRSAPub(p.APKPub); err != nil {
		bad("apk public key: %v", err)
	}
	if len(p.Inits) == 0 {
		bad("no init systems")
	}
	unpacked := 0
	for _, f := range p.Formats {
		if !initRe.MatchString(f.Name) {
			bad("format name %q", f.Name)
		}
		if f.Unpacked {
			unpacked++
		}
		for _, m := range f.Managers {
			if !initRe.MatchString(m.Name) || !wordRe.MatchString(m.Tool) || m.Tool == "" {
				bad("format %s: package manager %q, tool %q", f.Name, m.Name, m.Tool)
			}
		}
		if f.EnvFile != "" && (path.Clean(f.EnvFile) != f.EnvFile || !configPathRe.MatchString(f.EnvFile)) {
			bad("format %s: environment file %q: want a clean absolute path under /etc", f.Name, f.EnvFile)
		}
		if r := f.Repo; r != nil {
			if !initRe.MatchString(r.Manager) || !wordRe.MatchString(r.Tool) || r.Tool == "" {
				bad("format %s: repository package manager %q, tool %q", f.Name, r.Manager, r.Tool)
			}
			for _, p := range []string{r.Keyring, r.Source} {
				if path.Clean(p) != p || !configPathRe.MatchString(p) {
					bad("format %s: repository file %q: want a clean absolute path under /etc", f.Name, p)
				}
			}
		}
	}
	if unpacked != 1 {
		bad("want one format the installer unpacks itself, have %d", unpacked)
	}
	for _, in := range p.Inits {
		if !initRe.MatchString(in.Name) {
			bad("init name %q", in.Name)
		}
		for _, f := range []string{in.Start, in.Stop, in.Restart, in.Status, in.StatusHint} {
			if strings.TrimSpace(f) == "" || strings.Contains(f, "\n") {
				bad("init %s: every command must be one non-empty line", in.Name)
				break
			}
		}
	}
	if strings.ContainsAny(p.Generator, "\n\r") {
		bad("generator %q has a line break", p.Generator)
	}
	return errors.Join(errs...)
}

// CheckBaseURL accepts an https URL, or http to a loopback address (tests),
// as the installer's default base URL.
func CheckBaseURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || !urlCharsRe.MatchString(s) {
		return fmt.Errorf("base URL %q: want https://HOST/PATH with no query, user or blanks", s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !loopback.Host(u.Hostname()) {
			return fmt.Errorf("base URL %q: plain http is only for loopback addresses; serve releases over https", s)
		}
	default:
		return fmt.Errorf("base URL %q: want https", s)
	}
	return nil
}

func checkECDSAPub(data []byte) error {
	pub, err := parsePub(data)
	if err != nil {
		return err
	}
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != elliptic.P256() {
		return errors.New("not an ECDSA P-256 key (openssl dgst must verify it)")
	}
	return nil
}

func checkRSAPub(data []byte) error {
	pub, err := parsePub(data)
	if err != nil {
		return err
	}
	if _, ok := pub.(*rsa.PublicKey); !ok {
		return errors.New("not an RSA key")
	}
	return nil
}

func parsePub(data []byte) (any, error) {
	b, rest := pem.Decode(data)
	if b == nil || b.Type != "PUBLIC KEY" || strings.TrimSpace(string(rest)) != "" {
		return nil, errors.New(`want one PEM "PUBLIC KEY" block`)
	}
	return x509.ParsePKIXPublicKey(b.Bytes)
}

// pgpBinary returns the OpenPGP key as binary packets (what gpgv reads as a
// keyring), checking that it holds a public key.
func pgpBinary(data []byte) ([]byte, error) {
	bin := data
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN PGP")) {
		blk, err := armor.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		if blk.Type != "PGP PUBLIC KEY BLOCK" {
			return nil, fmt.Errorf("armor type %q, want PGP PUBLIC KEY BLOCK", blk.Type)
		}
		if bin, err = io.ReadAll(blk.Body); err != nil {
			return nil, err
		}
	}
	pk, err := packet.Read(bytes.NewReader(bin))
	if err != nil {
		return nil, err
	}
	if _, ok := pk.(*packet.PublicKey); !ok {
		return nil, fmt.Errorf("first packet is %T, want a public key", pk)
	}
	return bin, nil
}

// EnvPrefix is the prefix of the environment variables install.sh reads
// config values from: the package name in upper case with every other
// character as _, and a trailing _ (crashwatch: CRASHWATCH_AUTH_KEY).
func EnvPrefix(name string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(name) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String() + "_"
}

// ShellQuote quotes s as one sh word.
func ShellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func words(ws []string) string { return strings.Join(ws, " ") }

func lines(ws []string) string { return strings.Join(ws, "\n") }

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n])
		b.WriteByte('\n')
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}
