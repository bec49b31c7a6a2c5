package sbom

import (
	"bytes"
	"debug/buildinfo"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"runtime/debug"
	"strings"
)

// goBinary is the Go build info of the daemon binary.
type goBinary struct {
	path      string // installed path of the binary
	goVersion string // go1.26.8
	mainPath  string // import path of package main
	main      goModule
	deps      []goModule // in build info order (sorted by module path)
	settings  []debug.BuildSetting
}

// goModule is one module compiled into the binary. For a replaced module
// it is the replacement, the code that was actually compiled; a module
// replaced by a local directory keeps its path, with version "(devel)".
type goModule struct {
	path, version string
	sum           string // h1:<base64 sha256>, empty for the main module and directory replacements
	replaces      string // the replaced module, path@version, if any
	dir           string // a directory replacement's path, if any
}

// devel is the version Go gives code built from a local directory: the
// main module and directory replacements.
const devel = "(devel)"

// h1Hex returns the hex form of an h1: sum, or "" if it has none. An h1 sum
// is the base64 SHA-256 of the module's file-hash summary (golang.org/x/mod
// dirhash Hash1), so it is a SHA-256 value, though not of any one file.
func (m goModule) h1Hex() string {
	b64, ok := strings.CutPrefix(m.sum, "h1:")
	if !ok {
		return ""
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 32 {
		return ""
	}
	return hex.EncodeToString(raw)
}

func (m goModule) purl() string { return goPURL(m.path, purlVersion(m.version)) }

// purlVersion leaves out "(devel)", which names no version.
func purlVersion(v string) string {
	if v == devel {
		return ""
	}
	return v
}

// readGoBinary reads the build info of a binary's bytes. A binary that is
// not a Go program (a prebuilt daemon in another language, a script) has
// none, which is not an error.
func readGoBinary(path string, data []byte) (*goBinary, error) {
	bi, err := buildinfo.Read(bytes.NewReader(data))
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "not a Go executable") || strings.Contains(msg, "unrecognized file format") {
			return nil, nil
		}
		return nil, fmt.Errorf("sbom: Go build info of %s: %w", path, err)
	}
	b := &goBinary{path: path, goVersion: bi.GoVersion, mainPath: bi.Path,
		main: moduleOf(&bi.Main), settings: bi.Settings}
	for _, d := range bi.Deps {
		b.deps = append(b.deps, moduleOf(d))
	}
	return b, nil
}

func moduleOf(m *debug.Module) goModule {
	g := goModule{path: m.Path, version: m.Version, sum: m.Sum}
	if r := m.Replace; r != nil {
		g.replaces = m.Path
		if m.Version != "" {
			g.replaces += "@" + m.Version
		}
		if r.Version == "" || r.Version == devel {
			// A directory replacement: local code, kept under the module
			// path it replaces, with no version or sum of its own.
			g.version, g.sum, g.dir = devel, "", r.Path
		} else {
			g.path, g.version, g.sum = r.Path, r.Version, r.Sum
		}
	}
	return g
}

// properties are the binary's build facts as name/value pairs, shared by
// both SBOM kinds: the toolchain, the main package and every build setting
// (-trimpath, CGO_ENABLED, GOARCH, -ldflags, ...).
func (b *goBinary) properties() [][2]string {
	out := [][2]string{{"omnipack:go:version", b.goVersion}, {"omnipack:go:path", b.mainPath}}
	for _, s := range b.settings {
		out = append(out, [2]string{"omnipack:go:setting:" + s.Key, s.Value})
	}
	return out
}

// moduleProperties are a module's facts that have no field of their own.
func (m goModule) properties() [][2]string {
	var out [][2]string
	if m.sum != "" {
		out = append(out, [2]string{"omnipack:go:h1", m.sum})
	}
	if m.replaces != "" {
		out = append(out, [2]string{"omnipack:go:replaces", m.replaces})
	}
	if m.dir != "" {
		out = append(out, [2]string{"omnipack:go:replacement-dir", m.dir})
	}
	return out
}
