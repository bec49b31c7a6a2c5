package sbom

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/omnipack/omnipack/pkgfile"
)

// maxProblems bounds how many differences an error lists.
const maxProblems = 20

// Check verifies that an SBOM of the given kind (KindSPDX or KindCycloneDX)
// lists exactly the regular files of a package, as pkgfile.List read them,
// with matching SHA-256 (and SHA-1, where the SBOM records one). Symlinks
// and directories are not part of the comparison: the SBOMs list only
// files with content.
func Check(doc []byte, kind string, files []pkgfile.File) error {
	l, err := parse(doc, kind)
	if err != nil {
		return err
	}
	var problems []string
	want := map[string]pkgfile.File{}
	for _, f := range files {
		if !f.Mode.IsRegular() {
			continue
		}
		want[f.Path] = f
		got, ok := l.files[f.Path]
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%s is in the package but not in the SBOM", f.Path))
		case got.sha256 != f.SHA256:
			problems = append(problems, fmt.Sprintf("%s: SBOM sha256 %s, package %s", f.Path, got.sha256, f.SHA256))
		case got.sha1 != "" && f.SHA1 != "" && got.sha1 != f.SHA1:
			problems = append(problems, fmt.Sprintf("%s: SBOM sha1 %s, package %s", f.Path, got.sha1, f.SHA1))
		}
	}
	for p := range l.files {
		if _, ok := want[p]; !ok {
			problems = append(problems, fmt.Sprintf("%s is in the SBOM but not in the package", p))
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	if len(problems) > maxProblems {
		problems = append(problems[:maxProblems], fmt.Sprintf("and %d more", len(problems)-maxProblems))
	}
	return fmt.Errorf("%s SBOM does not match the package: %s", kind, strings.Join(problems, "; "))
}

// PackageSHA256 returns the sha256 an SBOM records for the package file
// itself, to compare with release.json.
func PackageSHA256(doc []byte, kind string) (string, error) {
	l, err := parse(doc, kind)
	if err != nil {
		return "", err
	}
	if l.pkgSHA256 == "" {
		return "", fmt.Errorf("%s SBOM records no sha256 for the package", kind)
	}
	return l.pkgSHA256, nil
}

type sums struct{ sha256, sha1 string }

// listing is what Check needs from an SBOM of either kind.
type listing struct {
	pkgSHA256 string
	files     map[string]sums // by absolute installed path
}

func parse(doc []byte, kind string) (*listing, error) {
	switch kind {
	case KindSPDX:
		return parseSPDX(doc)
	case KindCycloneDX:
		return parseCycloneDX(doc)
	}
	return nil, fmt.Errorf("unknown SBOM kind %q (want %s or %s)", kind, KindSPDX, KindCycloneDX)
}

type spdxChecksum struct {
	Algorithm string `json:"algorithm"`
	Value     string `json:"checksumValue"`
}

func spdxSums(cs []spdxChecksum) sums {
	var s sums
	for _, c := range cs {
		switch c.Algorithm {
		case "SHA256":
			s.sha256 = strings.ToLower(c.Value)
		case "SHA1":
			s.sha1 = strings.ToLower(c.Value)
		}
	}
	return s
}

func parseSPDX(doc []byte) (*listing, error) {
	var d struct {
		SPDXVersion string `json:"spdxVersion"`
		Packages    []struct {
			ID        string         `json:"SPDXID"`
			Checksums []spdxChecksum `json:"checksums"`
		} `json:"packages"`
		Files []struct {
			ID        string         `json:"SPDXID"`
			Name      string         `json:"fileName"`
			Checksums []spdxChecksum `json:"checksums"`
		} `json:"files"`
		Relationships []struct {
			A    string `json:"spdxElementId"`
			B    string `json:"relatedSpdxElement"`
			Type string `json:"relationshipType"`
		} `json:"relationships"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("SPDX SBOM: %w", err)
	}
	if d.SPDXVersion != "SPDX-2.3" {
		return nil, fmt.Errorf("SPDX SBOM: spdxVersion %q, want SPDX-2.3", d.SPDXVersion)
	}
	var described []string
	contains := map[string]string{} // file ID -> containing element
	for _, r := range d.Relationships {
		switch r.Type {
		case "DESCRIBES":
			if r.A == "SPDXRef-DOCUMENT" {
				described = append(described, r.B)
			}
		case "CONTAINS":
			contains[r.B] = r.A
		case "CONTAINED_BY":
			contains[r.A] = r.B
		}
	}
	if len(described) != 1 {
		return nil, fmt.Errorf("SPDX SBOM: the document describes %d elements, want the one package", len(described))
	}
	pkgID := described[0]
	l := &listing{files: map[string]sums{}}
	for _, p := range d.Packages {
		if p.ID == pkgID {
			l.pkgSHA256 = spdxSums(p.Checksums).sha256
		}
	}
	for _, f := range d.Files {
		if contains[f.ID] != pkgID {
			return nil, fmt.Errorf("SPDX SBOM: file %s is not contained by the described package", f.Name)
		}
		p, err := installedPath(f.Name)
		if err != nil {
			return nil, fmt.Errorf("SPDX SBOM: %w", err)
		}
		if _, dup := l.files[p]; dup {
			return nil, fmt.Errorf("SPDX SBOM lists %s twice", p)
		}
		l.files[p] = spdxSums(f.Checksums)
	}
	return l, nil
}

type cdxComponent struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Hashes []struct {
		Alg     string `json:"alg"`
		Content string `json:"content"`
	} `json:"hashes"`
	Components []cdxComponent `json:"components"`
}

func (c cdxComponent) sums() sums {
	var s sums
	for _, h := range c.Hashes {
		switch h.Alg {
		case "SHA-256":
			s.sha256 = strings.ToLower(h.Content)
		case "SHA-1":
			s.sha1 = strings.ToLower(h.Content)
		}
	}
	return s
}

func parseCycloneDX(doc []byte) (*listing, error) {
	var b struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Component *cdxComponent `json:"component"`
		} `json:"metadata"`
		Components []cdxComponent `json:"components"`
	}
	if err := json.Unmarshal(doc, &b); err != nil {
		return nil, fmt.Errorf("CycloneDX SBOM: %w", err)
	}
	if b.BOMFormat != "CycloneDX" {
		return nil, fmt.Errorf("CycloneDX SBOM: bomFormat %q", b.BOMFormat)
	}
	if b.Metadata.Component == nil {
		return nil, errors.New("CycloneDX SBOM: no metadata.component describes the package")
	}
	l := &listing{pkgSHA256: b.Metadata.Component.sums().sha256, files: map[string]sums{}}
	var walk func([]cdxComponent) error
	walk = func(cs []cdxComponent) error {
		for _, c := range cs {
			if c.Type == "file" {
				p, err := installedPath(c.Name)
				if err != nil {
					return fmt.Errorf("CycloneDX SBOM: %w", err)
				}
				if _, dup := l.files[p]; dup {
					return fmt.Errorf("CycloneDX SBOM lists %s twice", p)
				}
				l.files[p] = c.sums()
			}
			if err := walk(c.Components); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(b.Metadata.Component.Components); err != nil {
		return nil, err
	}
	if err := walk(b.Components); err != nil {
		return nil, err
	}
	return l, nil
}

// installedPath turns an SBOM file name (./usr/bin/x in SPDX, /usr/bin/x in
// CycloneDX) into the installed path.
func installedPath(name string) (string, error) {
	p := strings.TrimPrefix(name, ".")
	if !strings.HasPrefix(p, "/") || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") {
		return "", fmt.Errorf("file name %q is not a path in the package", name)
	}
	return p, nil
}
