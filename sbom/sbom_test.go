package sbom

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/santhosh-tekuri/jsonschema/v6"
	spdxjson "github.com/spdx/tools-golang/json"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/pkgfile"
)

var created = time.Unix(1700000000, 0).UTC()

// goBinaryPath builds a small real Go program once per test binary: a main
// module using github.com/BurntSushi/toml (a versioned dependency with an
// h1 sum) and example.com/lib, replaced by a local directory. It is built
// the way omnipack builds daemons: CGO_ENABLED=0, -trimpath, fixed GOOS and
// GOARCH, and an -X ldflag.
func goBinaryPath(t *testing.T) string {
	t.Helper()
	dir := mkdir(t)
	files := map[string]string{
		"go.mod": "module example.com/probe\n\ngo 1.26\n\nrequire (\n\tgithub.com/BurntSushi/toml v1.6.0\n\texample.com/lib v0.1.0\n)\n\n" +
			"replace example.com/lib => ./lib\n",
		"go.sum": "github.com/BurntSushi/toml v1.6.0 h1:dRaEfpa2VI55EwlIW72hMRHdWouJeRF7TPYhI+AUQjk=\n" +
			"github.com/BurntSushi/toml v1.6.0/go.mod h1:ukJfTF/6rtPPRCnwkur4qwRxa8vTRFBF0uk2lLoLwho=\n",
		"main.go": "package main\n\nimport (\n\t\"fmt\"\n\n\t\"example.com/lib\"\n\t\"github.com/BurntSushi/toml\"\n)\n\n" +
			"var version = \"dev\"\n\nfunc main() {\n\tvar v map[string]any\n\t_, err := toml.Decode(\"a = 1\", &v)\n\tfmt.Println(version, lib.Name, v, err)\n}\n",
		"lib/go.mod": "module example.com/lib\n\ngo 1.26\n",
		"lib/lib.go": "package lib\n\nconst Name = \"lib\"\n",
	}
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(mkdir(t), "probe")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false", "-ldflags", "-X main.version=1.2.3", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	return out
}

type built struct {
	input Input
	files []pkgfile.File
}

// buildPackages builds one package per format around binary, the way
// omnipack's build does, and returns the SBOM inputs.
func buildPackages(t *testing.T, binary string) map[string]built {
	t.Helper()
	dir := mkdir(t)
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	arch, _ := config.LookupArch("amd64")
	spec := &packaging.Spec{
		Name: "probe", Version: config.Version{Base: "1.2.3"}, Release: 1, Arch: arch,
		Summary: "probe agent", Description: "probe agent for tests", Maintainer: "Ops <ops@example.com>",
		Vendor: "Example Corp.", License: "MIT OR Apache-2.0", Homepage: "https://example.com/probe", MTime: created,
		Binary:  binary,
		Configs: []packaging.File{{Source: write("probe.toml", "key = 1\n"), Dest: "/etc/probe/probe.toml", Mode: 0o640, Owner: "root", Group: "probe"}},
		Files:   []packaging.File{{Source: write("README", "read me\n"), Dest: "/usr/share/doc/probe/README", Mode: 0o644}},
		Service: initsys.Service{Name: "probe", Exec: "/usr/bin/probe", User: "probe", Group: "probe",
			StateDir: "/var/lib/probe", ConfigDir: "/etc/probe", WorkingDir: "/var/lib/probe",
			Restart: initsys.RestartAlways, Profile: initsys.ProfileDefault, StopTimeout: 10},
		ScratchDir: mkdir(t),
		StageDir:   mkdir(t),
	}
	var err error
	spec.Inits, spec.InitFiles, err = packaging.StageInits(spec.Service, inits.Names(), spec.StageDir)
	if err != nil {
		t.Fatal(err)
	}
	out := mkdir(t)
	pkgs := map[string]built{}
	for _, format := range formats.Names() {
		res, err := formats.Build(spec, format, out)
		if err != nil {
			t.Fatal(err)
		}
		size, sum, err := manifest.Digest(res.Path)
		if err != nil {
			t.Fatal(err)
		}
		files, err := formats.Files(res.Path, format)
		if err != nil {
			t.Fatal(err)
		}
		pkgs[format] = built{Input{
			PackagePath: res.Path,
			Artifact: manifest.Artifact{Name: filepath.Base(res.Path), Format: format, Arch: "amd64", OS: "linux",
				Version: res.Version, Size: size, SHA256: sum},
			Name: "probe", Version: "1.2.3", License: spec.License, Supplier: spec.Vendor, Homepage: spec.Homepage,
			BinaryPath: "/usr/bin/probe", Created: created,
		}, files}
	}
	return pkgs
}

// fixtureRoot holds the files of the whole test run; TestMain removes it.
var fixtureRoot string

func TestMain(m *testing.M) {
	var err error
	if fixtureRoot, err = os.MkdirTemp("", "sbom-test-*"); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(fixtureRoot)
	os.Exit(code)
}

// mkdir makes a directory that outlives the test that asked for it.
func mkdir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp(fixtureRoot, "d-*")
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// fixture is shared by the tests: building a Go binary and four packages
// takes a few seconds.
var fixture struct {
	binary string
	pkgs   map[string]built
}

func packages(t *testing.T) (string, map[string]built) {
	t.Helper()
	if fixture.pkgs == nil {
		fixture.binary = goBinaryPath(t)
		fixture.pkgs = buildPackages(t, fixture.binary)
	}
	return fixture.binary, fixture.pkgs
}

func generate(t *testing.T, kind string, in Input) []byte {
	t.Helper()
	var doc []byte
	var err error
	if kind == KindSPDX {
		doc, err = SPDX(in)
	} else {
		doc, err = CycloneDX(in)
	}
	if err != nil {
		t.Fatalf("%s: %v", kind, err)
	}
	return doc
}

var kinds = []string{KindSPDX, KindCycloneDX}

// TestSchemas validates both SBOMs of every format against the official
// JSON schemas kept in testdata (see testdata/README.md).
func TestSchemas(t *testing.T) {
	_, pkgs := packages(t)
	schemas := map[string]*jsonschema.Schema{
		KindSPDX:      compileSchema(t, "spdx-2.3.schema.json", "http://spdx.org/rdf/terms/2.3"),
		KindCycloneDX: compileSchema(t, "bom-1.6.schema.json", "http://cyclonedx.org/schema/bom-1.6.schema.json"),
	}
	for _, format := range formats.Names() {
		for _, kind := range kinds {
			t.Run(format+"/"+kind, func(t *testing.T) {
				doc := generate(t, kind, pkgs[format].input)
				inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
				if err != nil {
					t.Fatal(err)
				}
				if err := schemas[kind].Validate(inst); err != nil {
					t.Errorf("%v\n%s", err, doc)
				}
				// The schemas do reject: an unknown hash algorithm or
				// checksum algorithm is invalid in both.
				bad := bytes.Replace(doc, []byte(`"SHA256"`), []byte(`"SHA-999"`), 1)
				bad = bytes.Replace(bad, []byte(`"SHA-256"`), []byte(`"SHA-999"`), 1)
				inst, err = jsonschema.UnmarshalJSON(bytes.NewReader(bad))
				if err != nil {
					t.Fatal(err)
				}
				if schemas[kind].Validate(inst) == nil {
					t.Error("a document with an unknown hash algorithm passed the schema")
				}
			})
		}
	}
}

// compileSchema compiles a schema from testdata, with the CycloneDX
// schema's references (the SPDX license list and JSF) registered under
// the URLs it names, so nothing is fetched.
func compileSchema(t *testing.T, file, url string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	for _, r := range []struct{ file, url string }{
		{"spdx-2.3.schema.json", "http://spdx.org/rdf/terms/2.3"},
		{"bom-1.6.schema.json", "http://cyclonedx.org/schema/bom-1.6.schema.json"},
		{"spdx.schema.json", "http://cyclonedx.org/schema/spdx.schema.json"},
		{"jsf-0.82.schema.json", "http://cyclonedx.org/schema/jsf-0.82.schema.json"},
	} {
		f, err := os.Open(filepath.Join("testdata", r.file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", r.file, err)
		}
		if err := c.AddResource(r.url, doc); err != nil {
			t.Fatalf("%s: %v", r.file, err)
		}
	}
	s, err := c.Compile(url)
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return s
}

// goMod is a module as `go version -m` and the SBOMs describe it.
type goMod struct{ Path, Version, H1 string }

// goVersionM runs `go version -m` on the binary: its Go version, modules
// (main and deps, replacements resolved to what was compiled) and build
// settings.
func goVersionM(t *testing.T, binary string) (string, []goMod, map[string]string) {
	t.Helper()
	out, err := exec.Command("go", "version", "-m", binary).Output()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	_, goVersion, _ := strings.Cut(lines[0], ": ")
	var mods []goMod
	settings := map[string]string{}
	for _, line := range lines[1:] {
		f := strings.Split(strings.TrimPrefix(line, "\t"), "\t")
		for len(f) < 4 {
			f = append(f, "")
		}
		switch f[0] {
		case "mod", "dep":
			mods = append(mods, goMod{f[1], f[2], f[3]})
		case "=>":
			last := &mods[len(mods)-1]
			if strings.HasPrefix(f[1], ".") || strings.HasPrefix(f[1], "/") {
				// A directory replacement compiles local code: the SBOMs
				// keep the module path, with Go's "(devel)" version.
				*last = goMod{last.Path, f[2], ""}
			} else {
				*last = goMod{f[1], f[2], f[3]}
			}
		case "build":
			k, v, _ := strings.Cut(f[1], "=")
			settings[k] = v
		}
	}
	return strings.TrimSpace(goVersion), mods, settings
}

// sbomModules reads the Go modules and the binary's build properties out
// of an SBOM, checking on the way that each SHA-256 checksum is the
// decoded h1 sum.
func sbomModules(t *testing.T, kind string, doc []byte) ([]goMod, map[string]string) {
	t.Helper()
	var mods []goMod
	props := map[string]string{}
	checkHash := func(name, h1, hexSum string) {
		if h1 == "" {
			if hexSum != "" {
				t.Errorf("%s: SHA-256 %s without an h1 sum", name, hexSum)
			}
			return
		}
		raw, _ := hex.DecodeString(hexSum)
		if "h1:"+base64.StdEncoding.EncodeToString(raw) != h1 {
			t.Errorf("%s: SHA-256 %s is not the decoded %s", name, hexSum, h1)
		}
	}
	if kind == KindSPDX {
		var d struct {
			Packages []struct {
				Name         string `json:"name"`
				Version      string `json:"versionInfo"`
				ExternalRefs []struct {
					Locator string `json:"referenceLocator"`
				} `json:"externalRefs"`
				Checksums []struct {
					Value string `json:"checksumValue"`
				} `json:"checksums"`
				Annotations []struct {
					Comment string `json:"comment"`
				} `json:"annotations"`
			} `json:"packages"`
			Files []struct {
				Name        string `json:"fileName"`
				Annotations []struct {
					Comment string `json:"comment"`
				} `json:"annotations"`
			} `json:"files"`
		}
		if err := json.Unmarshal(doc, &d); err != nil {
			t.Fatal(err)
		}
		for _, p := range d.Packages {
			if len(p.ExternalRefs) != 1 || !strings.HasPrefix(p.ExternalRefs[0].Locator, "pkg:golang/") {
				continue
			}
			m := goMod{Path: p.Name, Version: p.Version}
			for _, a := range p.Annotations {
				if v, ok := strings.CutPrefix(a.Comment, "omnipack:go:h1="); ok {
					m.H1 = v
				}
			}
			sum := ""
			if len(p.Checksums) > 0 {
				sum = p.Checksums[0].Value
			}
			checkHash(p.Name, m.H1, sum)
			mods = append(mods, m)
		}
		for _, f := range d.Files {
			if f.Name == "./usr/bin/probe" {
				for _, a := range f.Annotations {
					k, v, _ := strings.Cut(a.Comment, "=")
					props[k] = v
				}
			}
		}
		return mods, props
	}
	type component struct {
		Type       string                         `json:"type"`
		Name       string                         `json:"name"`
		Version    string                         `json:"version"`
		PURL       string                         `json:"purl"`
		Hashes     []struct{ Content string }     `json:"hashes"`
		Properties []struct{ Name, Value string } `json:"properties"`
		Components []json.RawMessage              `json:"components"`
	}
	var b struct {
		Components []component `json:"components"`
	}
	if err := json.Unmarshal(doc, &b); err != nil {
		t.Fatal(err)
	}
	for _, c := range b.Components {
		if c.Name != "/usr/bin/probe" {
			if len(c.Components) > 0 {
				t.Errorf("%s nests components", c.Name)
			}
			continue
		}
		for _, p := range c.Properties {
			props[p.Name] = p.Value
		}
		for _, raw := range c.Components {
			var m component
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(m.PURL, "pkg:golang/") {
				t.Errorf("nested component %s has purl %q", m.Name, m.PURL)
			}
			g := goMod{Path: m.Name, Version: m.Version}
			for _, p := range m.Properties {
				if p.Name == "omnipack:go:h1" {
					g.H1 = p.Value
				}
			}
			sum := ""
			if len(m.Hashes) > 0 {
				sum = m.Hashes[0].Content
			}
			checkHash(m.Name, g.H1, sum)
			mods = append(mods, g)
		}
	}
	return mods, props
}

// TestGoModulesMatchGoVersionM compares the modules, toolchain and build
// settings in both SBOMs with what `go version -m` says about the binary.
func TestGoModulesMatchGoVersionM(t *testing.T) {
	binary, pkgs := packages(t)
	goVersion, want, settings := goVersionM(t, binary)
	if len(want) != 3 {
		t.Fatalf("go version -m lists %d modules, want main, toml and the replaced lib: %+v", len(want), want)
	}
	sortMods := func(m []goMod) { sort.Slice(m, func(i, j int) bool { return m[i].Path < m[j].Path }) }
	sortMods(want)
	for _, format := range formats.Names() {
		for _, kind := range kinds {
			t.Run(format+"/"+kind, func(t *testing.T) {
				got, props := sbomModules(t, kind, generate(t, kind, pkgs[format].input))
				sortMods(got)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("modules\n got %+v\nwant %+v", got, want)
				}
				if props["omnipack:go:version"] != goVersion {
					t.Errorf("go version %q, want %q", props["omnipack:go:version"], goVersion)
				}
				for k, v := range settings {
					if props["omnipack:go:setting:"+k] != v {
						t.Errorf("build setting %s = %q, want %q", k, props["omnipack:go:setting:"+k], v)
					}
				}
				// -trimpath keeps -ldflags out of the build info.
				for _, k := range []string{"-trimpath", "CGO_ENABLED", "GOARCH", "GOOS"} {
					if _, ok := settings[k]; !ok {
						t.Errorf("go version -m shows no %s setting", k)
					}
				}
			})
		}
	}
}

// TestCheck: each SBOM matches its package, and Check notices a file
// missing from the list, an extra file, a changed digest, and an SBOM
// whose recorded digest was edited.
func TestCheck(t *testing.T) {
	_, pkgs := packages(t)
	for _, format := range formats.Names() {
		for _, kind := range kinds {
			t.Run(format+"/"+kind, func(t *testing.T) {
				b := pkgs[format]
				doc := generate(t, kind, b.input)
				if err := Check(doc, kind, b.files); err != nil {
					t.Fatal(err)
				}
				sum, err := PackageSHA256(doc, kind)
				if err != nil || sum != b.input.Artifact.SHA256 {
					t.Errorf("PackageSHA256 = %s, %v; want %s", sum, err, b.input.Artifact.SHA256)
				}

				missing := slices.Clone(b.files)
				dropped := missing[0].Path
				missing = missing[1:]
				expectCheckError(t, doc, kind, missing, dropped+" is in the SBOM but not in the package")

				extra := append(slices.Clone(b.files), pkgfile.File{Path: "/usr/bin/backdoor", Mode: 0o755,
					SHA256: strings.Repeat("a", 64), SHA1: strings.Repeat("a", 40)})
				expectCheckError(t, doc, kind, extra, "/usr/bin/backdoor is in the package but not in the SBOM")

				changed := slices.Clone(b.files)
				i := slices.IndexFunc(changed, func(f pkgfile.File) bool { return f.Path == "/usr/bin/probe" })
				changed[i].SHA256 = strings.Repeat("0", 64)
				expectCheckError(t, doc, kind, changed, "/usr/bin/probe: SBOM sha256")

				// An SBOM edited to claim another digest for a file.
				real := b.files[i].SHA256
				if bytes.Count(doc, []byte(real)) != 1 {
					t.Fatalf("the binary's sha256 appears %d times", bytes.Count(doc, []byte(real)))
				}
				forged := bytes.Replace(doc, []byte(real), []byte(strings.Repeat("f", 64)), 1)
				expectCheckError(t, forged, kind, b.files, "/usr/bin/probe: SBOM sha256 ffff")
			})
		}
	}
	if err := Check([]byte("{}"), "swid", nil); err == nil {
		t.Error("Check accepted an unknown kind")
	}
	if err := Check([]byte(`{"bomFormat":"CycloneDX"}`), KindSPDX, nil); err == nil {
		t.Error("Check accepted a CycloneDX document as SPDX")
	}
}

func expectCheckError(t *testing.T, doc []byte, kind string, files []pkgfile.File, want string) {
	t.Helper()
	err := Check(doc, kind, files)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("Check: %v, want an error mentioning %q", err, want)
	}
}

// TestDeterministic: two runs give identical bytes; a different creation
// time gives a different document identifier.
func TestDeterministic(t *testing.T) {
	_, pkgs := packages(t)
	for _, format := range formats.Names() {
		for _, kind := range kinds {
			in := pkgs[format].input
			a, b := generate(t, kind, in), generate(t, kind, in)
			if !bytes.Equal(a, b) {
				t.Errorf("%s %s: two runs differ", format, kind)
			}
			in.Created = in.Created.Add(time.Second)
			c := generate(t, kind, in)
			if documentID(t, kind, a) == documentID(t, kind, c) {
				t.Errorf("%s %s: another creation time kept the identifier %s", format, kind, documentID(t, kind, a))
			}
		}
	}
}

func documentID(t *testing.T, kind string, doc []byte) string {
	t.Helper()
	var d struct {
		Namespace string `json:"documentNamespace"`
		Serial    string `json:"serialNumber"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		t.Fatal(err)
	}
	if kind == KindSPDX {
		if !strings.HasPrefix(d.Namespace, spdxNamespaceBase) {
			t.Errorf("documentNamespace %q", d.Namespace)
		}
		return d.Namespace
	}
	if !strings.HasPrefix(d.Serial, "urn:uuid:") {
		t.Errorf("serialNumber %q", d.Serial)
	}
	return d.Serial
}

// TestDocumentBasics checks the fields FORMATS.md requires and the
// package's identity in both SBOMs.
func TestDocumentBasics(t *testing.T) {
	_, pkgs := packages(t)
	wantPURL := map[string]string{
		"deb":       "pkg:deb/example-corp/probe@1.2.3-1?arch=amd64",
		"rpm":       "pkg:rpm/example-corp/probe@1.2.3-1?arch=x86_64",
		"apk":       "pkg:apk/example-corp/probe@1.2.3-r1?arch=x86_64",
		"archlinux": "pkg:alpm/example-corp/probe@1.2.3-1?arch=x86_64",
		"tarball":   "pkg:generic/example-corp/probe@1.2.3-1?arch=amd64",
	}
	for _, format := range formats.Names() {
		in := pkgs[format].input
		var s struct {
			SPDXVersion, DataLicense, SPDXID, Name string
			CreationInfo                           struct {
				Created  string
				Creators []string
			}
			Packages []struct {
				SPDXID        string
				FilesAnalyzed *bool
				ExternalRefs  []struct {
					ReferenceCategory, ReferenceType, ReferenceLocator string
				}
			}
		}
		if err := json.Unmarshal(generate(t, KindSPDX, in), &s); err != nil {
			t.Fatal(err)
		}
		if s.SPDXVersion != "SPDX-2.3" || s.DataLicense != "CC0-1.0" || s.SPDXID != "SPDXRef-DOCUMENT" ||
			s.Name != in.Artifact.Name || s.CreationInfo.Created != "2023-11-14T22:13:20Z" || len(s.CreationInfo.Creators) == 0 {
			t.Errorf("%s: SPDX document fields %+v", format, s)
		}
		for _, p := range s.Packages {
			if p.FilesAnalyzed == nil {
				t.Errorf("%s: package %s does not state filesAnalyzed", format, p.SPDXID)
			}
		}
		if p := s.Packages[0].ExternalRefs[0]; p.ReferenceCategory != "PACKAGE-MANAGER" || p.ReferenceType != "purl" || p.ReferenceLocator != wantPURL[format] {
			t.Errorf("%s: SPDX package purl %+v, want %s", format, p, wantPURL[format])
		}

		var c struct {
			BOMFormat, SpecVersion, SerialNumber string
			Version                              int
			Metadata                             struct {
				Timestamp string
				Component struct{ Type, Name, Version, PURL string }
			}
		}
		if err := json.Unmarshal(generate(t, KindCycloneDX, in), &c); err != nil {
			t.Fatal(err)
		}
		if c.BOMFormat != "CycloneDX" || c.SpecVersion != "1.6" || c.Version != 1 || c.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
			t.Errorf("%s: CycloneDX fields %+v", format, c)
		}
		if m := c.Metadata.Component; m.PURL != wantPURL[format] || m.Name != "probe" || m.Version != in.Artifact.Version || m.Type != "application" {
			t.Errorf("%s: CycloneDX package %+v, want purl %s", format, m, wantPURL[format])
		}
	}
}

func TestPackageURL(t *testing.T) {
	a := func(format, arch, version string) manifest.Artifact {
		return manifest.Artifact{Name: "x", Format: format, Arch: arch, Version: version}
	}
	for _, c := range []struct {
		art          manifest.Artifact
		name, vendor string
		want         string
	}{
		{a("deb", "amd64", "1.2.3~rc1-1"), "probe", "", "pkg:deb/omnipack/probe@1.2.3~rc1-1?arch=amd64"},
		{a("deb", "armv7", "1.2.3+git5-2"), "probe", "ACME", "pkg:deb/acme/probe@1.2.3%2Bgit5-2?arch=armhf"},
		{a("rpm", "arm64", "1.2.3-1"), "Probe", " Big  Co, Inc. ", "pkg:rpm/big-co-inc/Probe@1.2.3-1?arch=aarch64"},
		{a("apk", "386", "1.2.3_git4-r1"), "probe", "example.org", "pkg:apk/example.org/probe@1.2.3_git4-r1?arch=x86"},
		{a("archlinux", "amd64", "1.2.3.r4.gabc-1"), "probe", "Ünïcode", "pkg:alpm/n-code/probe@1.2.3.r4.gabc-1?arch=x86_64"},
	} {
		got, err := PackageURL(c.art, c.name, c.vendor)
		if err != nil || got != c.want {
			t.Errorf("PackageURL(%+v, %q, %q) = %q, %v; want %q", c.art, c.name, c.vendor, got, err, c.want)
		}
	}
	if _, err := PackageURL(a("msi", "amd64", "1"), "x", ""); err == nil {
		t.Error("unknown format accepted")
	}
	if got := goPURL("github.com/BurntSushi/toml", "v1.6.0+incompatible"); got != "pkg:golang/github.com/burntsushi/toml@v1.6.0%2Bincompatible" {
		t.Errorf("goPURL = %s", got)
	}
}

// TestNonGoBinary: a daemon that is not a Go program gets an SBOM of its
// files without modules.
func TestNonGoBinary(t *testing.T) {
	script := filepath.Join(t.TempDir(), "probe")
	if err := os.WriteFile(script, []byte("#!/bin/sh\necho probe\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	pkgs := buildPackages(t, script)
	for _, kind := range kinds {
		b := pkgs["deb"]
		doc := generate(t, kind, b.input)
		if err := Check(doc, kind, b.files); err != nil {
			t.Error(err)
		}
		if bytes.Contains(doc, []byte("pkg:golang/")) {
			t.Errorf("%s: Go modules listed for a shell script", kind)
		}
	}
}

func TestInputErrors(t *testing.T) {
	_, pkgs := packages(t)
	in := pkgs["deb"].input
	wrongSum := in
	wrongSum.Artifact.SHA256 = strings.Repeat("0", 64)
	noTime := in
	noTime.Created = time.Time{}
	noBinary := in
	noBinary.BinaryPath = "/usr/bin/other"
	for name, bad := range map[string]Input{"wrong sha256": wrongSum, "no time": noTime, "no binary": noBinary} {
		if _, err := SPDX(bad); err == nil {
			t.Errorf("%s: SPDX succeeded", name)
		}
		if _, err := CycloneDX(bad); err == nil {
			t.Errorf("%s: CycloneDX succeeded", name)
		}
	}
}

func TestFileNames(t *testing.T) {
	s, c := FileNames("probe_1.2.3-1_amd64.deb")
	if s != "probe_1.2.3-1_amd64.deb.spdx.json" || c != "probe_1.2.3-1_amd64.deb.cdx.json" {
		t.Errorf("FileNames = %s, %s", s, c)
	}
}

// TestLibrariesReadBack: the SPDX and CycloneDX libraries read the SBOMs
// back, relationships and nesting included.
func TestLibrariesReadBack(t *testing.T) {
	_, pkgs := packages(t)
	in := pkgs["rpm"].input
	doc, err := spdxjson.Read(bytes.NewReader(generate(t, KindSPDX, in)))
	if err != nil {
		t.Fatal(err)
	}
	if len(doc.Packages) != 4 || len(doc.Files) != len(pkgs["rpm"].files) {
		t.Errorf("SPDX read back: %d packages, %d files", len(doc.Packages), len(doc.Files))
	}
	links := 0
	for _, r := range doc.Relationships {
		if r.Relationship == "STATIC_LINK" && r.RefA.ElementRefID == "File-usr-bin-probe" {
			links++
		}
	}
	if links != 2 {
		t.Errorf("SPDX read back: the binary statically links %d modules, want 2", links)
	}

	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(generate(t, KindCycloneDX, in)), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatal(err)
	}
	if bom.SpecVersion != cdx.SpecVersion1_6 || bom.Metadata.Component.PackageURL != "pkg:rpm/example-corp/probe@1.2.3-1?arch=x86_64" {
		t.Errorf("CycloneDX read back: spec %v, package %+v", bom.SpecVersion, bom.Metadata.Component)
	}
}
