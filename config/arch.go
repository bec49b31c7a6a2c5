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
