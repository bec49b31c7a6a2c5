package detector

import (
	"os"
	"slices"
	"strconv"

	"golang.org/x/sys/unix"
)

// families maps an os-release ID (or ID_LIKE word) to its package family.
// Derivatives not listed are found through their ID_LIKE.
var families = map[string]string{}

func init() {
	for family, ids := range map[string][]string{
		"deb":    {"debian", "ubuntu", "devuan", "raspbian", "linuxmint", "kali", "pop", "elementary", "zorin", "neon", "pureos"},
		"redhat": {"rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn", "scientific", "cloudlinux", "photon", "mariner", "azurelinux"},
		"suse":   {"suse", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "sles", "sled"},
		"alpine": {"alpine", "postmarketos"},
		"arch":   {"arch", "archarm", "manjaro", "artix", "endeavouros", "garuda"},
		// The distro's own package manager has no package of ours: the
		// installer uses the release tarball.
		"tarball": {"void", "gentoo"},
		// Nothing is installed: the installer points to a Nix-native
		// install instead.
		"nix": {"nixos"},
	} {
		for _, id := range ids {
			families[id] = family
		}
	}
}

// familyTools are each family's own tools, preferred in this order when
// the tree has several.
var familyTools = map[string][]string{
	"deb":    {"apt-get", "dpkg"},
	"redhat": {"dnf", "tdnf", "yum", "rpm"},
	"suse":   {"zypper", "rpm"},
	"alpine": {"apk"},
	"arch":   {"pacman"},
}

// allTools are the package tools looked for, high-level ones before dpkg
// and rpm, which alone say less about how the system is managed.
var allTools = []string{"apt-get", "dnf", "tdnf", "yum", "zypper", "apk", "pacman", "dpkg", "rpm"}

// toolDirs are where package tools live. PATH is not used: the tree decides,
// and a tree is not searched through the host's PATH.
var toolDirs = []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"}

// formats maps a package manager to the package format it installs.
var formats = map[string]string{
	"apt": "deb", "dpkg": "deb",
	"dnf": "rpm", "tdnf": "rpm", "yum": "rpm", "zypper": "rpm", "rpm": "rpm",
	"apk": "apk", "pacman": "archlinux",
}

// has is true when the tree has an executable tool in one of toolDirs.
// Executable is judged by access(2), as the shell's test -x does.
func (t tree) has(tool string) bool {
	for _, dir := range toolDirs {
		real, ok := t.resolve(dir + "/" + tool)
		if !ok {
			continue
		}
		fi, err := os.Stat(real)
		if err == nil && fi.Mode().IsRegular() && unix.Access(real, unix.X_OK) == nil {
			return true
		}
	}
	return false
}

// packageManager decides the package manager and format from the os-release
// family and the tools in the tree: the family's own tools first; a tree
// with no package tool at all (an os-release alone) gets the family's usual
// tool; an unknown family takes whichever tool is there.
func (t tree) packageManager(id string, like []string, version string) (pm, format string) {
	var tools []string
	for _, tool := range allTools {
		if t.has(tool) {
			tools = append(tools, tool)
		}
	}
	family := ""
	for _, w := range append([]string{id}, like...) {
		if f, ok := families[w]; ok {
			family = f
			break
		}
	}
	switch family {
	case "nix":
		return None, None
	case "tarball":
		return None, "tarball"
	}
	if len(tools) == 0 {
		switch family {
		case "deb":
			pm = "apt"
		case "redhat":
			pm = redhatDefault(id, like, version)
		case "suse":
			pm = "zypper"
		case "alpine":
			pm = "apk"
		case "arch":
			pm = "pacman"
		}
	} else {
		for _, tool := range append(slices.Clone(familyTools[family]), allTools...) {
			if slices.Contains(tools, tool) {
				pm = tool
				break
			}
		}
		if pm == "apt-get" {
			pm = "apt"
		}
	}
	if format, ok := formats[pm]; ok {
		return pm, format
	}
	return None, "tarball"
}

// redhatDefault is the tool a Red Hat family distribution has when the tree
// shows none: yum before EL8, Amazon Linux 2 and Fedora 22; tdnf on Photon
// and Azure Linux; else dnf.
func redhatDefault(id string, like []string, version string) string {
	words := append([]string{id}, like...)
	if slices.Contains(words, "photon") || slices.Contains(words, "mariner") || slices.Contains(words, "azurelinux") {
		return "tdnf"
	}
	// More than 9 digits is no version number, and too long for the
	// shell's test(1).
	digits := leadingDigits(version)
	major, err := strconv.Atoi(digits)
	if err != nil || len(digits) > 9 {
		return "dnf"
	}
	switch id {
	case "amzn":
		return pick(major < 2022, "yum", "dnf")
	case "fedora":
		return pick(major < 22, "yum", "dnf")
	}
	for _, el := range []string{"rhel", "centos", "rocky", "almalinux", "ol", "scientific", "cloudlinux"} {
		if slices.Contains(words, el) {
			return pick(major < 8, "yum", "dnf")
		}
	}
	return "dnf"
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return s[:i]
}

func pick(cond bool, yes, no string) string {
	if cond {
		return yes
	}
	return no
}
