package pipeline

import (
	"bytes"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/kubernetes"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/oci"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/podman"
	"github.com/omnipack/omnipack/provenance"
	"github.com/omnipack/omnipack/sbom"
	"github.com/omnipack/omnipack/signing"
)

// ImageArchiveName is the image's OCI layout as one tar file, the artifact
// release.json lists: oci-archive: to skopeo and podman; unpacked, a
// layout directory for cosign verify --local-image.
func ImageArchiveName(name, version string) string { return name + "_" + version + ".oci.tar" }

// imageSpec is the image of the release: per architecture, the binary, the
// config files and the service's directories the packages install, owned
// by [oci] uid and gid where the packages give them to the service's
// account; the entrypoint and arguments of [service].
func imageSpec(cfg *config.Config, svc initsys.Service, specs []*packaging.Spec, version string, src provenance.SourceRef, mtime time.Time) oci.Spec {
	uid, gid := cfg.OCI.UID, cfg.OCI.GID
	owner := func(name string, id int) int {
		if name == "" || name == "root" {
			return 0
		}
		return id
	}
	var env []string
	for k, v := range svc.Environment {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	labels := map[string]string{
		"org.opencontainers.image.title":   cfg.Project.Name,
		"org.opencontainers.image.version": version,
		"org.opencontainers.image.created": mtime.UTC().Format(time.RFC3339),
	}
	for k, v := range map[string]string{
		"org.opencontainers.image.revision":    src.Commit,
		"org.opencontainers.image.licenses":    cfg.Project.License,
		"org.opencontainers.image.description": cfg.Project.Summary,
		"org.opencontainers.image.vendor":      cfg.Project.Vendor,
		"org.opencontainers.image.url":         cfg.Project.Homepage,
		"org.opencontainers.image.source":      src.Repository,
	} {
		if v != "" {
			labels[k] = v
		}
	}
	s := oci.Spec{Tag: version, Created: mtime, UID: uid, GID: gid,
		Entrypoint: []string{svc.Exec}, Cmd: slices.Clone(svc.Args), Env: env, WorkingDir: svc.WorkingDir, Labels: labels}
	for _, spec := range specs {
		p := oci.Platform{Architecture: spec.Arch.GOARCH}
		if spec.Arch.GOARM != "" {
			p.Variant = "v" + spec.Arch.GOARM
		}
		p.Entries = append(p.Entries, oci.Entry{Path: layout.Bin(cfg.Project.Name), Source: spec.Binary, Mode: 0o755})
		for _, f := range append(slices.Clone(spec.Configs), spec.Files...) {
			mode := f.Mode
			if mode == 0 {
				mode = 0o644
			}
			p.Entries = append(p.Entries, oci.Entry{Path: f.Dest, Source: f.Source, Mode: mode,
				UID: owner(f.Owner, uid), GID: owner(f.Group, gid)})
		}
		if svc.StateDir != "" {
			p.Entries = append(p.Entries, oci.Entry{Path: svc.StateDir, Dir: true, Mode: 0o750,
				UID: owner(svc.User, uid), GID: owner(svc.Group, gid)})
		}
		for _, d := range svc.Dirs {
			if d.Path == svc.StateDir {
				continue
			}
			p.Entries = append(p.Entries, oci.Entry{Path: d.Path, Dir: true, Mode: fs.FileMode(d.Mode),
				UID: owner(d.Owner, uid), GID: owner(d.Group, gid)})
		}
		s.Platforms = append(s.Platforms, p)
	}
	return s
}

// buildImage writes the release's OCI image layout, as one tar, into
// staging, with the image's cosign signature in it when there are keys;
// beside it the Kubernetes manifests and the podman units that run the
// image by its digest. It returns their artifacts: release.json lists
// them all, so verify, SHA256SUMS and the provenance cover them.
func buildImage(cfg *config.Config, specs []*packaging.Spec, version string, src provenance.SourceRef, mtime time.Time, keys *Keys, staging string) ([]manifest.Artifact, error) {
	work, err := os.MkdirTemp("", "omnipack-oci-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	dir := filepath.Join(work, "oci")
	svc := cfg.ServiceModel("")
	spec := imageSpec(cfg, svc, specs, version, src, mtime)
	res, err := oci.Build(spec, dir)
	if err != nil {
		return nil, err
	}
	if keys != nil {
		sign := func(payload []byte) ([]byte, error) { return signing.SignBlob(keys.Release, bytes.NewReader(payload)) }
		if err := oci.Sign(dir, cfg.OCI.Repository, res, sign); err != nil {
			return nil, err
		}
		atts, err := imageSBOMs(cfg, spec, specs, res, dir, work, version, mtime, keys)
		if err != nil {
			return nil, err
		}
		if err := oci.Attest(dir, atts); err != nil {
			return nil, err
		}
	}
	name := ImageArchiveName(cfg.Project.Name, version)
	if err := oci.Archive(dir, filepath.Join(staging, name), mtime); err != nil {
		return nil, fmt.Errorf("oci: %s: %w", name, err)
	}
	files := map[string]string{name: manifest.FormatOCI}
	ref := cfg.OCI.Repository + "@" + res.Index
	if err := writeKubernetes(cfg, svc, specs, version, ref, staging, files); err != nil {
		return nil, err
	}
	if err := writeContainerUnits(cfg, svc, ref, staging, files); err != nil {
		return nil, err
	}
	var arts []manifest.Artifact
	for _, f := range slices.Sorted(maps.Keys(files)) {
		a, err := artifact(filepath.Join(staging, f), files[f], "", version)
		if err != nil {
			return nil, err
		}
		if a.Format == manifest.FormatOCI {
			a.ImageRepository, a.ImageIndex = cfg.OCI.Repository, res.Index
		}
		arts = append(arts, a)
	}
	return arts, nil
}

// imageSBOMs are the image's SBOM attestations, one per platform: the
// SPDX document of that platform's image (its layer's files, the Go
// modules of its binary) as an in-toto statement about the image index,
// in a DSSE envelope signed with the release key, as cosign attest
// --type spdxjson makes them.
func imageSBOMs(cfg *config.Config, spec oci.Spec, specs []*packaging.Spec, res *oci.Result, dir, work, version string, mtime time.Time, keys *Keys) ([]oci.Attestation, error) {
	var atts []oci.Attestation
	for i, p := range spec.Platforms {
		digest := res.Manifests[p.Name()]
		layer := filepath.Join(work, "layer-"+specs[i].Arch.Name+".tar")
		if err := oci.WriteLayer(dir, res.Index, digest, layer); err != nil {
			return nil, fmt.Errorf("oci: %s layer: %w", p.Name(), err)
		}
		doc, err := sbom.ImageSPDX(sbom.ImageInput{LayerPath: layer, Repository: cfg.OCI.Repository, Digest: digest,
			Arch: specs[i].Arch.Name, Name: cfg.Project.Name, Version: version, License: cfg.Project.License,
			Supplier: cfg.Project.Vendor, Homepage: cfg.Project.Homepage, BinaryPath: layout.Bin(cfg.Project.Name), Created: mtime})
		if err != nil {
			return nil, fmt.Errorf("SPDX SBOM of the %s image: %w", p.Name(), err)
		}
		os.Remove(layer)
		st, err := oci.Statement(cfg.OCI.Repository, res.Index, sbom.SPDXPredicateType, doc)
		if err != nil {
			return nil, err
		}
		env, err := signing.SignDSSE(keys.Release, signing.InTotoPayloadType, st)
		if err != nil {
			return nil, fmt.Errorf("oci: attest the %s image's SBOM: %w", p.Name(), err)
		}
		atts = append(atts, oci.Attestation{PredicateType: sbom.SPDXPredicateType, Envelope: env})
	}
	return atts, nil
}

// writableDirs are the directories the agent writes, its state directory
// and the [[dirs]] it owns: a container's root is read-only, so each needs
// a volume.
func writableDirs(svc initsys.Service) []string {
	var dirs []string
	if svc.StateDir != "" {
		dirs = append(dirs, svc.StateDir)
	}
	for _, d := range svc.Dirs {
		if d.Owner != "root" && d.Path != svc.StateDir {
			dirs = append(dirs, d.Path)
		}
	}
	return dirs
}

// writeContainerUnits writes the quadlet file and the plain podman unit
// for the image at ref.
func writeContainerUnits(cfg *config.Config, svc initsys.Service, ref, dir string, files map[string]string) error {
	u := podman.Unit{Name: cfg.Project.Name, Description: svc.Description, Image: ref,
		Capabilities: svc.Capabilities, ConfigDir: svc.ConfigDir, StateDirs: writableDirs(svc), HostPaths: cfg.OCI.HostPaths,
		HostNetwork: svc.AfterNetwork, OpenFiles: svc.Limits.OpenFiles, HealthCommand: cfg.HealthArgv(),
		Restart: svc.Restart, RestartSec: svc.RestartSec, StopTimeout: svc.StopTimeout}
	for _, f := range []struct {
		name, format string
		body         []byte
	}{{u.QuadletFile(), manifest.FormatQuadlet, u.Quadlet()}, {u.UnitFile(), manifest.FormatPodmanUnit, u.Plain()}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.body, 0o644); err != nil {
			return err
		}
		files[f.name] = f.format
	}
	return nil
}

// writeKubernetes renders the manifests for the image at ref.
func writeKubernetes(cfg *config.Config, svc initsys.Service, specs []*packaging.Spec, version, ref, dir string, files map[string]string) error {
	w := kubernetes.Workload{Name: cfg.Project.Name, Version: version, Image: ref,
		UID: int64(cfg.OCI.UID), GID: int64(cfg.OCI.GID), Capabilities: svc.Capabilities,
		ConfigDir: svc.ConfigDir, Config: map[string][]byte{}, StateDirs: writableDirs(svc), HostPaths: cfg.OCI.HostPaths,
		HealthCommand: cfg.HealthArgv()}
	if len(specs) > 0 {
		for _, f := range specs[0].Configs {
			rel, err := filepath.Rel(svc.ConfigDir, f.Dest)
			if err != nil || strings.HasPrefix(rel, "..") {
				continue
			}
			data, err := os.ReadFile(f.Source)
			if err != nil {
				return err
			}
			w.Config[filepath.ToSlash(rel)] = data
		}
	}
	rendered, err := kubernetes.Render(w)
	if err != nil {
		return err
	}
	for _, f := range rendered {
		if err := os.WriteFile(filepath.Join(dir, f.Name), f.Body, 0o644); err != nil {
			return err
		}
		files[f.Name] = manifest.FormatKubernetes
	}
	return nil
}
