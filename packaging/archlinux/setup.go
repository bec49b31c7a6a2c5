package archlinux

import (
	"fmt"
	"strings"
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

// PacmanSetup is the whole snippet an admin pastes on an Arch host: the
// key commands, then the section appended to /etc/pacman.conf, then the
// first install.
func PacmanSetup(name, pkg, baseURL, channel, keyURL string, fingerprints []string) string {
	return "# Trust the repository's signing key\n" +
		PacmanKeyCommands(name, keyURL, fingerprints) +
		"# Add the repository\n" +
		"cat >> /etc/pacman.conf <<'EOF'\n" + PacmanSection(name, baseURL, channel) + "EOF\n" +
		"# Install (-Syu, not -Sy: Arch installs only onto an up-to-date system);\n" +
		"# later versions arrive with pacman -Syu\n" +
		"pacman -Syu --noconfirm " + pkg + "\n"
}
