package apk

import (
	"fmt"
	"path"
	"strings"

	"github.com/omnipack/omnipack/packaging"
)

// KeyPath is where apk finds the public key named keyName.
func KeyPath(keyName string) string { return "/etc/apk/keys/" + keyName + ".rsa.pub" }

// RepositoryLine is the repository's line in /etc/apk/repositories: apk
// appends /ARCH/APKINDEX.tar.gz itself.
func RepositoryLine(baseURL, channel string) string {
	return strings.TrimSuffix(baseURL, "/") + "/" + RepoDir(channel)
}

// ListPath is where the repository tree holds the channel's repositories
// line, as a file apk-tools 3 also reads from /etc/apk/repositories.d/.
func ListPath(name, channel string) string { return path.Join("setup", "apk", channel, name+".list") }

// Setup writes the channel's repositories line (ListPath); the key the
// admin fetches is c.APKKey.
func (Format) Setup(c packaging.RepoClient) ([]packaging.RepoFile, error) {
	return []packaging.RepoFile{{Path: ListPath(c.Name, c.Channel), Body: []byte(RepositoryLine(c.URL, c.Channel) + "\n")}}, nil
}

// APKSetup is the snippet an admin pastes on an Alpine host: each key
// (two while a next key is announced) fetched from keyURL(name) into
// /etc/apk/keys, the repository line, then the first install. BusyBox's
// wget is on every Alpine host.
func APKSetup(pkg, baseURL, channel string, keyNames []string, keyURL func(keyName string) string) string {
	var b strings.Builder
	b.WriteString("# Trust the repository's signing key\n")
	for _, k := range keyNames {
		fmt.Fprintf(&b, "wget -qO %s %s\n", KeyPath(k), keyURL(k))
	}
	b.WriteString("# Add the repository\n")
	fmt.Fprintf(&b, "echo %s >> /etc/apk/repositories\n", RepositoryLine(baseURL, channel))
	b.WriteString("# Install; later versions arrive with apk upgrade\n")
	fmt.Fprintf(&b, "apk update\napk add %s\n", pkg)
	return b.String()
}

var _ packaging.RepoSetup = Format{}
