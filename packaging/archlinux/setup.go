package archlinux

import (
	"fmt"
	"path"
	"strings"

	"github.com/omnipack/omnipack/packaging"
)

// PacmanSection is the pacman.conf section of the repository NAME at
// baseURL (no trailing slash) for channel: pacman fills in $arch, and
// requires a valid signature on the database and on every package.
func PacmanSection(name, baseURL, channel string) string {
	return fmt.Sprintf("[%s]\nSigLevel = Required DatabaseRequired\nServer = %s/arch/%s/$arch\n",
		name, strings.TrimSuffix(baseURL, "/"), channel)
}

// PacmanKeyCommands are the commands that make pacman trust the repository's
// OpenPGP key, one a line: fetch the armored key from keyURL, add it to
// pacman's keyring and sign it locally, for each fingerprint it must
// carry (two while a next key is announced). pacman-key --add imports
// every key of the file; --lsign-key marks each named one trusted.
func PacmanKeyCommands(name, keyURL string, fingerprints []string) string {
	keyFile := "/tmp/" + name + ".pgp.asc"
	var b strings.Builder
	fmt.Fprintf(&b, "curl -fsSL -o %s %s\n", keyFile, keyURL)
	fmt.Fprintf(&b, "pacman-key --add %s\n", keyFile)
	for _, fp := range fingerprints {
		fmt.Fprintf(&b, "pacman-key --lsign-key %s\n", fp)
	}
	fmt.Fprintf(&b, "rm %s\n", keyFile)
	return b.String()
}

// KeyringDir is where pacman-key --populate NAME reads NAME.gpg and
// NAME-trusted from on Arch, as the distribution's own keyring packages
// install them.
const KeyringDir = "/usr/share/pacman/keyrings"

// SectionPath and TrustedPath are where the repository tree holds the
// channel's pacman.conf section and the -trusted file that names the keys
// pacman-key --populate signs locally.
func SectionPath(name, channel string) string {
	return path.Join("setup", "pacman", channel, name+".conf")
}

func TrustedPath(name, channel string) string {
	return path.Join("setup", "pacman", channel, name+"-trusted")
}

// Setup writes the channel's pacman.conf section and the -trusted file
// of the repository's key fingerprints, in the ownertrust form pacman-key
// reads ("FINGERPRINT:4:", as archlinux-keyring's).
func (Format) Setup(c packaging.RepoClient) ([]packaging.RepoFile, error) {
	if len(c.PGPFingerprints) == 0 {
		return nil, fmt.Errorf("pacman setup of %s: no OpenPGP fingerprint for %s-trusted", c.Name, c.Name)
	}
	var trusted strings.Builder
	for _, fp := range c.PGPFingerprints {
		fmt.Fprintf(&trusted, "%s:4:\n", fp)
	}
	return []packaging.RepoFile{
		{Path: SectionPath(c.Name, c.Channel), Body: []byte(PacmanSection(c.Name, c.URL, c.Channel))},
		{Path: TrustedPath(c.Name, c.Channel), Body: []byte(trusted.String())},
	}, nil
}

// PacmanSetup is the whole snippet an admin pastes on an Arch host for
// the repository c describes, installing pkg: the repository's keyring
// and -trusted file put where pacman-key --populate finds them, then the
// section appended to /etc/pacman.conf, then the first install.
func PacmanSetup(c packaging.RepoClient, pkg string) string {
	url := func(rel string) string { return strings.TrimSuffix(c.URL, "/") + "/" + rel }
	var b strings.Builder
	b.WriteString("# Trust the repository's signing key\n")
	fmt.Fprintf(&b, "curl -fsSL %s -o %s/%s.gpg\n", url(c.PGPKeyring), KeyringDir, c.Name)
	fmt.Fprintf(&b, "curl -fsSL %s -o %s/%s-trusted\n", url(TrustedPath(c.Name, c.Channel)), KeyringDir, c.Name)
	fmt.Fprintf(&b, "pacman-key --populate %s\n", c.Name)
	b.WriteString("# Add the repository\n")
	fmt.Fprintf(&b, "curl -fsSL %s >> /etc/pacman.conf\n", url(SectionPath(c.Name, c.Channel)))
	b.WriteString("# Install (-Syu, not -Sy: Arch installs only onto an up-to-date system);\n")
	b.WriteString("# later versions arrive with pacman -Syu\n")
	fmt.Fprintf(&b, "pacman -Syu --noconfirm %s\n", pkg)
	return b.String()
}

var _ packaging.RepoSetup = Format{}
