package detector

import (
	"os"
	"slices"
	"strconv"

	"github.com/omnipack/omnipack/packaging/formats"

	"golang.org/x/sys/unix"
)

// Distribution families: what decides which package tools a distribution
// is expected to have.
const (
	familyDebian = "debian"
	familyRedHat = "redhat"
	familySUSE   = "suse"
	familyAlpine = "alpine"
	familyArch   = "arch"
	// The distro's own package manager has no package of ours: the
	// installer unpacks the release tarball (formats.Unpacked).
	familyForeign = "foreign"
	// Nothing is installed: the installer points to a Nix-native install
	// instead.
	familyNix = "nix"
)

// families maps an os-release ID (or ID_LIKE word) to its family.
// Derivatives not listed are found through their ID_LIKE.
var families = map[string]string{}

func init() {
	for family, ids := range map[string][]string{
		familyDebian:  {"debian", "ubuntu", "devuan", "raspbian", "linuxmint", "kali", "pop", "elementary", "zorin", "neon", "pureos"},
		familyRedHat:  {"rhel", "fedora", "centos", "rocky", "almalinux", "ol", "amzn", "scientific", "cloudlinux", "photon", "mariner", "azurelinux"},
		familySUSE:    {"suse", "opensuse", "opensuse-leap", "opensuse-tumbleweed", "sles", "sled"},
		familyAlpine:  {"alpine", "postmarketos"},
		familyArch:    {"arch", "archarm", "manjaro", "artix", "endeavouros", "garuda"},
		familyForeign: {"void", "gentoo"},
		familyNix:     {"nixos"},
	} {
		for _, id := range ids {
			families[id] = family
		}
	}
}

// familyTools are each family's own tools, preferred in this order when
// the tree has several.
var familyTools = map[string][]string{
	familyDebian: {"apt-get", "dpkg"},
	familyRedHat: {"dnf", "tdnf", "yum", "rpm"},
	familySUSE:   {"zypper", "rpm"},
	familyAlpine: {"apk"},
	familyArch:   {"pacman"},
}

// allTools are the package tools looked for, high-level ones before dpkg
// and rpm, which alone say less about how the system is managed.
var allTools = []string{"apt-get", "dnf", "tdnf", "yum", "zypper", "apk", "pacman", "dpkg", "rpm"}

// toolDirs are where package tools live. PATH is not used: the tree decides,
// and a tree is not searched through the host's PATH.
var toolDirs = []string{"/usr/bin", "/bin", "/usr/sbin", "/sbin"}

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
	case familyNix:
		return None, None
	case familyForeign:
		return None, formats.Unpacked().Name()
	}
	if len(tools) == 0 {
		switch family {
		case familyDebian:
			pm = "apt"
		case familyRedHat:
			pm = redhatDefault(id, like, version)
		case familySUSE:
			pm = "zypper"
		case familyAlpine:
			pm = "apk"
		case familyArch:
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
	// The package manager's format is the registry's: the format whose
	// plug-in lists it.
	if f, ok := formats.ForManager(pm); ok {
		return pm, f.Name()
	}
	return None, formats.Unpacked().Name()
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
