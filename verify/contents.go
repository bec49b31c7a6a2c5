package verify

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/pkgfile"
	"github.com/omnipack/omnipack/provenance"
	"github.com/omnipack/omnipack/sbom"
	"github.com/omnipack/omnipack/signing"
)

// sboms checks that every package has both SBOMs, that every SBOM belongs
// to a package, and that each lists exactly the package's files and names
// the package's sha256.
func (v *verifier) sboms() {
	files := map[string][]pkgfile.File{} // pkgfile.List of each package, read once
	listErr := map[string]error{}
	for _, a := range v.sortedArtifacts() {
		if v.ctx.Err() != nil {
			return
		}
		if isPackage(a.Format) {
			spdx, cdx := sbom.FileNames(a.Name)
			for name, format := range map[string]string{spdx: manifest.FormatSPDX, cdx: manifest.FormatCycloneDX} {
				if s, ok := v.arts[name]; !ok || s.Format != format {
					v.add(CheckSBOM, name, fmt.Errorf("release.json lists no %s SBOM %s for %s", format, name, a.Name), "")
				}
			}
			continue
		}
		if a.Format != manifest.FormatSPDX && a.Format != manifest.FormatCycloneDX {
			continue
		}
		pkgName, _ := baseOf(a)
		pkg, ok := v.arts[pkgName]
		if !ok || !isPackage(pkg.Format) {
			v.add(CheckSBOM, a.Name, fmt.Errorf("release.json lists no package %s for this SBOM", pkgName), "")
			continue
		}
		if !v.usable(a.Name, pkgName) {
			continue
		}
		if _, done := files[pkgName]; !done && listErr[pkgName] == nil {
			fs, err := formats.Files(v.good[pkgName], pkg.Format)
			if err != nil {
				err = fmt.Errorf("cannot read the files of %s: %s", pkgName, stripPath(err, v.good[pkgName]))
			}
			files[pkgName], listErr[pkgName] = fs, err
		}
		if err := listErr[pkgName]; err != nil {
			v.add(CheckSBOM, a.Name, err, "")
			continue
		}
		v.add(CheckSBOM, a.Name, v.checkSBOM(a, pkg, files[pkgName]),
			fmt.Sprintf("lists the %d files of %s and its sha256", regularCount(files[pkgName]), pkgName))
	}
}

func (v *verifier) checkSBOM(a, pkg manifest.Artifact, files []pkgfile.File) error {
	doc, err := readCapped(v.good[a.Name], a.Name, a.Size)
	if err != nil {
		return err
	}
	kind := sbom.KindSPDX
	if a.Format == manifest.FormatCycloneDX {
		kind = sbom.KindCycloneDX
	}
	if err := sbom.Check(doc, kind, files); err != nil {
		return err
	}
	sum, err := sbom.PackageSHA256(doc, kind)
	if err != nil {
		return err
	}
	if !strings.EqualFold(sum, pkg.SHA256) {
		return fmt.Errorf("names package sha256 %s, but %s has %s", sum, pkg.Name, pkg.SHA256)
	}
	return nil
}

func regularCount(files []pkgfile.File) int {
	n := 0
	for _, f := range files {
		if f.Mode.IsRegular() {
			n++
		}
	}
	return n
}

// provenance checks the signed SLSA provenance: one DSSE envelope signed
// with the release key, holding an in-toto statement whose subjects are
// exactly the manifest's artifacts other than the provenance itself.
func (v *verifier) provenance() {
	var found []manifest.Artifact
	for _, a := range v.sortedArtifacts() {
		if a.Format == manifest.FormatProvenance {
			found = append(found, a)
		}
	}
	if len(found) == 0 {
		v.add(CheckProvenance, provenance.FileName, fmt.Errorf("release.json lists no provenance (%s)", provenance.FileName), "")
		return
	}
	for _, a := range found {
		if a.Name != provenance.FileName || len(found) > 1 {
			v.add(CheckProvenance, a.Name, fmt.Errorf("want one provenance artifact, named %s", provenance.FileName), "")
			continue
		}
		if !v.usable(a.Name) {
			continue
		}
		n, err := v.checkProvenance(a)
		v.add(CheckProvenance, a.Name, err, fmt.Sprintf("DSSE signature verifies with the release key; its %d subjects are the release's artifacts", n))
	}
}

func (v *verifier) checkProvenance(a manifest.Artifact) (int, error) {
	data, err := readCapped(v.good[a.Name], a.Name, a.Size)
	if err != nil {
		return 0, err
	}
	// A .jsonl file; the release has exactly one envelope in it.
	env := bytes.TrimSpace(data)
	if bytes.Contains(env, []byte("\n")) {
		return 0, errors.New("holds more than one line; want one DSSE envelope")
	}
	payload, err := signing.VerifyDSSE(v.key, env)
	if err != nil {
		return 0, fmt.Errorf("DSSE envelope does not verify with the release key: %v", err)
	}
	// The payload type is covered by the signature, so it can be trusted
	// now.
	var e struct {
		PayloadType string `json:"payloadType"`
	}
	if err := json.Unmarshal(env, &e); err != nil {
		return 0, err
	}
	if e.PayloadType != provenance.PayloadType {
		return 0, fmt.Errorf("payload type %q, want %q", e.PayloadType, provenance.PayloadType)
	}
	st, err := provenance.Parse(payload)
	if err != nil {
		return 0, err
	}
	got := st.SubjectDigests()
	if len(got) != len(st.Subject) {
		return 0, errors.New("the statement names a subject twice")
	}
	want := v.rel.Subjects(a.Name)
	for n, d := range want {
		want[n] = strings.ToLower(d)
	}
	for n, d := range got {
		got[n] = strings.ToLower(d)
	}
	if err := problemsError(diffDigests(want, got, "release.json", "the provenance")); err != nil {
		return 0, fmt.Errorf("subjects differ from the release: %v", err)
	}
	return len(got), nil
}
