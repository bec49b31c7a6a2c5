package config

// Arch is one target architecture, named as omnipack.toml names it.
type Arch struct {
	Name   string // amd64, arm64, armv7, ...
	GOARCH string
	GOARM  string // only for 32-bit arm
}

// Archs lists every supported architecture.
var Archs = []Arch{
	{Name: "amd64", GOARCH: "amd64"},
	{Name: "arm64", GOARCH: "arm64"},
	{Name: "armv7", GOARCH: "arm", GOARM: "7"},
	{Name: "386", GOARCH: "386"},
	{Name: "ppc64le", GOARCH: "ppc64le"},
	{Name: "s390x", GOARCH: "s390x"},
	{Name: "riscv64", GOARCH: "riscv64"},
}

// archAliases maps the names distributions and uname give an architecture
// (lower case) to its omnipack name, so that validate can answer
// archs = ["x86_64"] with "did you mean "amd64"?".
var archAliases = map[string]string{
	"x86_64": "amd64", "x86-64": "amd64", "x64": "amd64",
	"aarch64": "arm64",
	"armhf":   "armv7", "armv7l": "armv7", "armv7hl": "armv7", "armv7h": "armv7",
	"i386": "386", "i486": "386", "i586": "386", "i686": "386", "x86": "386",
	"ppc64el": "ppc64le",
}

// LookupArch finds an architecture by its omnipack name.
func LookupArch(name string) (Arch, bool) {
	for _, a := range Archs {
		if a.Name == name {
			return a, true
		}
	}
	return Arch{}, false
}

func archNames() []string {
	names := make([]string, len(Archs))
	for i, a := range Archs {
		names[i] = a.Name
	}
	return names
}
