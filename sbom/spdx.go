package sbom

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"net/url"
	"sort"
	"strconv"
	"strings"

	spdxjson "github.com/spdx/tools-golang/json"
	"github.com/spdx/tools-golang/spdx/v2/common"
	spdx "github.com/spdx/tools-golang/spdx/v2/v2_3"

	"github.com/omnipack/omnipack/pkgfile"
)

// spdxNamespaceBase is the conventional prefix of SPDX document namespaces
// (the SPDX specification's own examples use it); the URI only has to be
// unique, never to resolve.
const spdxNamespaceBase = "https://spdx.org/spdxdocs/"

const noAssertion = "NOASSERTION"

// SPDX returns the package's SPDX 2.3 JSON document.
//
// Elements and relationships:
//
//	SPDXRef-DOCUMENT DESCRIBES SPDXRef-Package (the package file; purl in
//	    externalRefs, sha256 in checksums, filesAnalyzed true with a
//	    package verification code)
//	SPDXRef-Package CONTAINS SPDXRef-File-... (each regular file, fileName
//	    ./usr/bin/x, SHA1 and SHA256 checksums)
//	the binary's file GENERATED_FROM SPDXRef-GoModule-<main module>
//	the binary's file STATIC_LINK SPDXRef-GoModule-<each dependency>
//	the main module DEPENDS_ON each dependency
//
// Go modules are packages with filesAnalyzed false and a
// pkg:golang purl. SPDX has no algorithm for an h1: sum, so it is recorded
// twice: as a SHA256 checksum holding the hex of the decoded h1 (the
// SHA-256 of the module's dirhash summary, not of a zip), and verbatim in an
// annotation "omnipack:go:h1=h1:...". The toolchain and build settings are
// annotations "omnipack:go:version=go1.26.8",
// "omnipack:go:setting:-trimpath=true", ... on the binary's file.
func SPDX(in Input) ([]byte, error) {
	d, err := describe(in)
	if err != nil {
		return nil, err
	}
	return d.spdx()
}

// spdx encodes the SPDX document of d.
func (d *described) spdx() ([]byte, error) {
	doc := d.spdxDocument()
	return withID(KindSPDX, func(id string) ([]byte, error) {
		doc.DocumentNamespace = ""
		if id != "" {
			doc.DocumentNamespace = spdxNamespaceBase + url.PathEscape(d.in.Artifact.Name) + "-" + id
		}
		var buf bytes.Buffer
		if err := spdxjson.Write(doc, &buf, spdxjson.Indent("  "), spdxjson.EscapeHTML(false)); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
}

func (d *described) spdxDocument() *spdx.Document {
	in := d.in
	creators := []common.Creator{{CreatorType: "Tool", Creator: tool}}
	if in.Supplier != "" {
		creators = append(creators, common.Creator{CreatorType: "Organization", Creator: in.Supplier})
	}
	doc := &spdx.Document{
		SPDXVersion:    spdx.Version,
		DataLicense:    spdx.DataLicense,
		SPDXIdentifier: "DOCUMENT",
		DocumentName:   in.Artifact.Name,
		CreationInfo:   &spdx.CreationInfo{Creators: creators, Created: d.created()},
	}
	ids := idSet{}
	annotate := func(props [][2]string) []spdx.Annotation {
		var out []spdx.Annotation
		for _, p := range props {
			out = append(out, spdx.Annotation{
				Annotator:         common.Annotator{AnnotatorType: "Tool", Annotator: tool},
				AnnotationDate:    d.created(),
				AnnotationType:    "OTHER",
				AnnotationComment: p[0] + "=" + p[1],
			})
		}
		return out
	}
	relate := func(a common.ElementID, rel string, b common.ElementID) {
		doc.Relationships = append(doc.Relationships, &spdx.Relationship{
			RefA: common.MakeDocElementID("", string(a)), RefB: common.MakeDocElementID("", string(b)), Relationship: rel})
	}

	pkgID := ids.add("Package")
	supplier := &common.Supplier{Supplier: noAssertion}
	if in.Supplier != "" {
		supplier = &common.Supplier{SupplierType: "Organization", Supplier: in.Supplier}
	}
	license := in.License
	if license == "" {
		license = noAssertion
	}
	pkg := &spdx.Package{
		PackageName:               in.Name,
		PackageSPDXIdentifier:     pkgID,
		PackageVersion:            in.Artifact.Version,
		PackageFileName:           in.Artifact.Name,
		PackageSupplier:           supplier,
		PackageDownloadLocation:   noAssertion,
		FilesAnalyzed:             true,
		IsFilesAnalyzedTagPresent: true,
		PackageVerificationCode:   &common.PackageVerificationCode{Value: verificationCode(d.files)},
		PackageChecksums:          []common.Checksum{{Algorithm: common.SHA256, Value: d.sha256}},
		PackageHomePage:           in.Homepage,
		PackageLicenseConcluded:   noAssertion,
		PackageLicenseDeclared:    license,
		PackageCopyrightText:      noAssertion,
		PackageExternalReferences: []*spdx.PackageExternalReference{
			{Category: common.CategoryPackageManager, RefType: "purl", Locator: d.purl}},
		PrimaryPackagePurpose: "INSTALL",
		BuiltDate:             d.created(),
		Annotations:           annotate(d.packageProperties()),
	}
	doc.Packages = append(doc.Packages, pkg)
	relate("DOCUMENT", common.TypeRelationshipDescribe, pkgID)

	var binID common.ElementID
	for _, f := range d.files {
		id := ids.add("File-" + strings.TrimPrefix(f.Path, "/"))
		file := &spdx.File{
			FileName:           "." + f.Path,
			FileSPDXIdentifier: id,
			Checksums: []common.Checksum{
				{Algorithm: common.SHA1, Value: f.SHA1},
				{Algorithm: common.SHA256, Value: f.SHA256},
			},
			LicenseConcluded:  noAssertion,
			FileCopyrightText: noAssertion,
		}
		if d.bin != nil && f.Path == d.bin.path {
			binID = id
			file.FileTypes = []string{"BINARY", "APPLICATION"}
			file.Annotations = annotate(d.bin.properties())
		}
		doc.Files = append(doc.Files, file)
		relate(pkgID, common.TypeRelationshipContains, id)
	}

	if d.bin != nil && binID != "" {
		mod := func(m goModule, purpose string) common.ElementID {
			id := ids.add("GoModule-" + m.path)
			p := &spdx.Package{
				PackageName:             m.path,
				PackageSPDXIdentifier:   id,
				PackageVersion:          m.version,
				PackageDownloadLocation: noAssertion,
				FilesAnalyzed:           false,
				PackageExternalReferences: []*spdx.PackageExternalReference{
					{Category: common.CategoryPackageManager, RefType: "purl", Locator: m.purl()}},
				PrimaryPackagePurpose: purpose,
				Annotations:           annotate(m.properties()),
			}
			if h := m.h1Hex(); h != "" {
				p.PackageChecksums = []common.Checksum{{Algorithm: common.SHA256, Value: h}}
			}
			doc.Packages = append(doc.Packages, p)
			return id
		}
		mainID := mod(d.bin.main, "APPLICATION")
		relate(binID, common.TypeRelationshipGeneratedFrom, mainID)
		for _, dep := range d.bin.deps {
			id := mod(dep, "LIBRARY")
			relate(binID, common.TypeRelationshipStaticLink, id)
			relate(mainID, common.TypeRelationshipDependsOn, id)
		}
	}
	return doc
}

// packageProperties are the package facts without an SPDX field.
func (d *described) packageProperties() [][2]string {
	out := [][2]string{{"omnipack:format", d.in.Artifact.Format}, {"omnipack:arch", d.in.Artifact.Arch}}
	if d.in.Version != "" {
		out = append(out, [2]string{"omnipack:version", d.in.Version})
	}
	return out
}

// verificationCode is SPDX 2.3 clause 7.9: the SHA1 of the sorted,
// concatenated SHA1s of the package's files.
func verificationCode(files []pkgfile.File) string {
	sums := make([]string, 0, len(files))
	for _, f := range files {
		sums = append(sums, f.SHA1)
	}
	sort.Strings(sums)
	h := sha1.Sum([]byte(strings.Join(sums, "")))
	return hex.EncodeToString(h[:])
}

// idSet hands out SPDX element IDs (SPDXRef- is added on output): letters,
// digits, "." and "-" only, unique within the document.
type idSet map[common.ElementID]bool

func (s idSet) add(name string) common.ElementID {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			b[i] = '-'
		}
	}
	id := common.ElementID(b)
	for n := 2; s[id]; n++ {
		id = common.ElementID(string(b) + "-" + strconv.Itoa(n))
	}
	s[id] = true
	return id
}
