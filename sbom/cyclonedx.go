package sbom

import (
	"bytes"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// CycloneDX returns the package's CycloneDX 1.6 JSON BOM. cyclonedx-go
// defaults to a newer spec version, so the version is set explicitly.
//
// Structure:
//
//	metadata.component: the package (type application, bom-ref = its purl,
//	    SHA-256 of the package file)
//	components: one component of type file per regular file, name = the
//	    installed path, SHA-1 and SHA-256 hashes
//	the binary's file component nests, as its own components, the Go main
//	    module (type application) and every dependency module (type
//	    library), since they are compiled into it; its properties hold the
//	    toolchain and build settings ("omnipack:go:version",
//	    "omnipack:go:setting:-trimpath", ...)
//	dependencies: the main module dependsOn every dependency module
//
// A module's h1: sum becomes a SHA-256 hash holding the hex of the decoded
// h1 (the SHA-256 of the module's dirhash summary, not of a zip), and the
// verbatim sum the property "omnipack:go:h1". bom-refs are the package's
// purl, "file:<path>" and "gomod:<path>@<version>" (module purls are
// lowercased by the purl spec and could collide).
func CycloneDX(in Input) ([]byte, error) {
	d, err := describe(in)
	if err != nil {
		return nil, err
	}
	bom := d.cyclonedxBOM()
	return withID(KindCycloneDX, func(id string) ([]byte, error) {
		bom.SerialNumber = ""
		if id != "" {
			bom.SerialNumber = "urn:uuid:" + id
		}
		var buf bytes.Buffer
		enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
		enc.SetPretty(true).SetEscapeHTML(false)
		if err := enc.EncodeVersion(bom, cdx.SpecVersion1_6); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	})
}

func (d *described) cyclonedxBOM() *cdx.BOM {
	in := d.in
	var supplier *cdx.OrganizationalEntity
	if in.Supplier != "" {
		supplier = &cdx.OrganizationalEntity{Name: in.Supplier}
	}
	pkg := cdx.Component{
		BOMRef:     d.purl,
		Type:       cdx.ComponentTypeApplication,
		Supplier:   supplier,
		Name:       in.Name,
		Version:    in.Artifact.Version,
		Hashes:     &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: d.sha256}},
		PackageURL: d.purl,
		Properties: cdxProperties(append(d.packageProperties(), [2]string{"omnipack:file", in.Artifact.Name})),
	}
	if in.License != "" && in.License != noAssertion {
		pkg.Licenses = &cdx.Licenses{{Expression: in.License}}
	}
	if in.Homepage != "" {
		pkg.ExternalReferences = &[]cdx.ExternalReference{{Type: cdx.ERTypeWebsite, URL: in.Homepage}}
	}

	var components []cdx.Component
	var deps []cdx.Dependency
	for _, f := range d.files {
		c := cdx.Component{
			BOMRef: "file:" + f.Path,
			Type:   cdx.ComponentTypeFile,
			Name:   f.Path,
			Hashes: &[]cdx.Hash{
				{Algorithm: cdx.HashAlgoSHA1, Value: f.SHA1},
				{Algorithm: cdx.HashAlgoSHA256, Value: f.SHA256},
			},
		}
		if d.bin != nil && f.Path == d.bin.path {
			c.Properties = cdxProperties(d.bin.properties())
			main := goComponent(d.bin.main, cdx.ComponentTypeApplication)
			nested := []cdx.Component{main}
			var refs []string
			for _, m := range d.bin.deps {
				dep := goComponent(m, cdx.ComponentTypeLibrary)
				nested = append(nested, dep)
				refs = append(refs, dep.BOMRef)
			}
			c.Components = &nested
			if len(refs) > 0 {
				deps = append(deps, cdx.Dependency{Ref: main.BOMRef, Dependencies: &refs})
			}
		}
		components = append(components, c)
	}

	bom := cdx.NewBOM()
	bom.Metadata = &cdx.Metadata{
		Timestamp: d.created(),
		Tools:     &cdx.ToolsChoice{Components: &[]cdx.Component{{Type: cdx.ComponentTypeApplication, Name: tool}}},
		Component: &pkg,
		Supplier:  supplier,
	}
	if len(components) > 0 {
		bom.Components = &components
	}
	if len(deps) > 0 {
		bom.Dependencies = &deps
	}
	return bom
}

func goComponent(m goModule, typ cdx.ComponentType) cdx.Component {
	c := cdx.Component{
		BOMRef:     "gomod:" + m.path + "@" + m.version,
		Type:       typ,
		Name:       m.path,
		Version:    m.version,
		PackageURL: m.purl(),
		Properties: cdxProperties(m.properties()),
	}
	if h := m.h1Hex(); h != "" {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: h}}
	}
	return c
}

func cdxProperties(props [][2]string) *[]cdx.Property {
	if len(props) == 0 {
		return nil
	}
	out := make([]cdx.Property, len(props))
	for i, p := range props {
		out[i] = cdx.Property{Name: p[0], Value: p[1]}
	}
	return &out
}
