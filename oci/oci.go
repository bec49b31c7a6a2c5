// Package oci builds the agent's container image: one image per
// architecture under one OCI image index, written as an OCI image layout
// without a container daemon. The same inputs give the same digests: every
// file in the layer is dated Created and owned by number, and the layer's
// tar and gzip streams carry nothing else that varies.
package oci

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/static"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/google/go-containerregistry/pkg/v1/validate"

	"github.com/omnipack/omnipack/internal/loopback"
)

// RefNameAnnotation tags an image in an OCI layout's index.json: the
// "TAG" of skopeo's and podman's oci:DIR:TAG.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// Spec is one image, for every architecture of a release.
type Spec struct {
	// Tag names the image in the layout (the version).
	Tag string
	// Created dates the image, its history and every file in it.
	Created time.Time
	// UID and GID run the process; "UID:GID" is the config's User.
	UID, GID   int
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
	Labels     map[string]string
	// Platforms are the images, one per architecture, in index order.
	Platforms []Platform
}

// Platform is one architecture's image.
type Platform struct {
	Architecture string // GOARCH
	Variant      string // e.g. v7 for 32-bit arm, else ""
	Entries      []Entry
}

// Entry is one file or directory of the image's layer. Parent
// directories not listed are root's, 0755.
type Entry struct {
	Path string // absolute and clean
	// Dir makes a directory; otherwise the file's content is Source's (a
	// file on the build host) or, when Source is "", Body.
	Dir      bool
	Source   string
	Body     []byte
	Mode     os.FileMode // permission bits
	UID, GID int
}

// Result names what Build wrote.
type Result struct {
	// Index is the digest of the image index, which the layout's
	// index.json tags with Spec.Tag.
	Index string
	// Manifests holds each platform's image manifest digest, by
	// "ARCH" or "ARCH/VARIANT".
	Manifests map[string]string
}

// Build writes s as an OCI image layout into dir, which must not exist
// yet: index.json tags the image index with s.Tag.
func Build(s Spec, dir string) (*Result, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	if _, err := os.Lstat(dir); err == nil {
		return nil, fmt.Errorf("oci: %s exists already", dir)
	}
	lp, err := layout.Write(dir, mutate.IndexMediaType(empty.Index, types.OCIImageIndex))
	if err != nil {
		return nil, fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	res := &Result{Manifests: map[string]string{}}
	index := v1.IndexManifest{SchemaVersion: 2, MediaType: types.OCIImageIndex}
	for _, p := range s.Platforms {
		img, err := s.image(p)
		if err == nil {
			err = lp.WriteImage(img)
		}
		var desc *v1.Descriptor
		if err == nil {
			desc, err = partial.Descriptor(img)
		}
		if err != nil {
			return nil, fmt.Errorf("oci: %s image: %w", p.Name(), err)
		}
		// No artifactType: it is for artifacts, not images, and clients
		// that predate it (skopeo 1.9) would rewrite the index.
		desc.ArtifactType = ""
		desc.Platform = &v1.Platform{OS: "linux", Architecture: p.Architecture, Variant: p.Variant}
		res.Manifests[p.Name()] = desc.Digest.String()
		index.Manifests = append(index.Manifests, *desc)
	}
	raw, err := json.Marshal(index)
	if err != nil {
		return nil, err
	}
	h, size, err := v1.SHA256(bytes.NewReader(raw))
	if err == nil {
		err = lp.WriteBlob(h, io.NopCloser(bytes.NewReader(raw)))
	}
	if err == nil {
		// The tag for skopeo and podman, the kind for cosign.
		err = lp.AppendDescriptor(v1.Descriptor{MediaType: types.OCIImageIndex, Size: size, Digest: h,
			Annotations: map[string]string{RefNameAnnotation: s.Tag, kindAnnotation: imageIndexKind}})
	}
	if err != nil {
		return nil, fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	res.Index = h.String()
	return res, nil
}

// Name is the platform as Result.Manifests keys it: ARCH or ARCH/VARIANT.
func (p Platform) Name() string {
	if p.Variant != "" {
		return p.Architecture + "/" + p.Variant
	}
	return p.Architecture
}

func (s Spec) check() error {
	var errs []error
	if s.Tag == "" || len(s.Tag) > 128 || strings.Trim(s.Tag, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" ||
		strings.HasPrefix(s.Tag, ".") || strings.HasPrefix(s.Tag, "-") {
		errs = append(errs, fmt.Errorf("tag %q: use letters, digits and _ . - (not first), at most 128", s.Tag))
	}
	if s.UID < 0 || s.GID < 0 {
		errs = append(errs, fmt.Errorf("uid %d, gid %d: want numbers of 0 or more", s.UID, s.GID))
	}
	if len(s.Platforms) == 0 {
		errs = append(errs, errors.New("no platforms"))
	}
	seen := map[string]bool{}
	for _, p := range s.Platforms {
		if seen[p.Name()] {
			errs = append(errs, fmt.Errorf("platform %s twice", p.Name()))
		}
		seen[p.Name()] = true
		paths := map[string]bool{}
		for _, e := range p.Entries {
			if !path.IsAbs(e.Path) || path.Clean(e.Path) != e.Path || e.Path == "/" {
				errs = append(errs, fmt.Errorf("%s: path %q is not absolute and clean", p.Name(), e.Path))
			}
			if paths[e.Path] {
				errs = append(errs, fmt.Errorf("%s: %s twice", p.Name(), e.Path))
			}
			paths[e.Path] = true
		}
	}
	return errors.Join(errs...)
}

// image is one platform's image: one layer, and the config.
func (s Spec) image(p Platform) (v1.Image, error) {
	layerTar, err := s.layer(p)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
	if err != nil {
		return nil, err
	}
	created := v1.Time{Time: s.Created.UTC()}
	img := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err = mutate.Append(img, mutate.Addendum{Layer: layer, MediaType: types.OCILayer,
		History: v1.History{Created: created, CreatedBy: "omnipack build"}})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.Variant, cf.OS = p.Architecture, p.Variant, "linux"
	cf.Created = created
	cf.Config = v1.Config{
		User:       fmt.Sprintf("%d:%d", s.UID, s.GID),
		Entrypoint: s.Entrypoint,
		Cmd:        s.Cmd,
		Env:        s.Env,
		WorkingDir: s.WorkingDir,
		Labels:     s.Labels,
	}
	return mutate.ConfigFile(img, cf)
}

// layer is the platform's uncompressed layer: every entry and its parent
// directories, sorted by path.
func (s Spec) layer(p Platform) ([]byte, error) {
	entries := map[string]Entry{}
	for _, e := range p.Entries {
		entries[e.Path] = e
		for d := path.Dir(e.Path); d != "/"; d = path.Dir(d) {
			if _, ok := entries[d]; !ok {
				entries[d] = Entry{Path: d, Dir: true, Mode: 0o755}
			}
		}
	}
	// A listed directory overrides the default of a parent added above.
	for _, e := range p.Entries {
		entries[e.Path] = e
	}
	paths := make([]string, 0, len(entries))
	for p := range entries {
		paths = append(paths, p)
	}
	slices.Sort(paths)
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	mtime := s.Created.UTC()
	for _, name := range paths {
		e := entries[name]
		h := &tar.Header{Name: strings.TrimPrefix(name, "/"), Mode: int64(e.Mode.Perm()), Uid: e.UID, Gid: e.GID,
			ModTime: mtime, Format: tar.FormatPAX}
		var body []byte
		if e.Dir {
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		} else {
			body = e.Body
			if e.Source != "" {
				data, err := os.ReadFile(e.Source)
				if err != nil {
					return nil, err
				}
				body = data
			}
			h.Typeflag, h.Size = tar.TypeReg, int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// cosign's names for what a layout holds, as cosign save writes them.
const (
	kindAnnotation         = "kind"
	imageIndexKind         = "dev.cosignproject.cosign/imageIndex"
	signaturesKind         = "dev.cosignproject.cosign/sigs"
	signatureAnnotation    = "dev.cosignproject.cosign/signature"
	simpleSigningMediaType = "application/vnd.dev.cosign.simplesigning.v1+json"
)

// SimpleSigningPayload is what a cosign image signature signs: the
// repository and the digest of the image index.
func SimpleSigningPayload(repository, index string) ([]byte, error) {
	return json.Marshal(map[string]any{
		"critical": map[string]any{
			"identity": map[string]string{"docker-reference": repository},
			"image":    map[string]string{"docker-manifest-digest": index},
			"type":     "cosign container image signature",
		},
		"optional": nil,
	})
}

// Sign adds to the layout at dir the signature of its image index (as
// Build wrote it) in the form cosign save writes, so that cosign verify
// --local-image checks it offline: sign returns the DER signature of the
// simple-signing payload (the release key's, ECDSA P-256 over SHA-256).
func Sign(dir, repository string, res *Result, sign func(payload []byte) ([]byte, error)) error {
	payload, err := SimpleSigningPayload(repository, res.Index)
	if err != nil {
		return err
	}
	sig, err := sign(payload)
	if err != nil {
		return fmt.Errorf("oci: sign the image: %w", err)
	}
	return appendAttached(dir, signaturesKind, []mutate.Addendum{{Layer: static.NewLayer(payload, simpleSigningMediaType),
		Annotations: map[string]string{signatureAnnotation: base64.StdEncoding.EncodeToString(sig)}}})
}

// appendAttached adds to the layout at dir an image of cosign's kind
// (signatures, attestations) holding the layers, as cosign save does.
func appendAttached(dir, kind string, layers []mutate.Addendum) error {
	img, err := mutate.Append(mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON), layers...)
	if err != nil {
		return err
	}
	lp, err := layout.FromPath(dir)
	if err != nil {
		return fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{kindAnnotation: kind})); err != nil {
		return fmt.Errorf("oci: layout %s: %w", dir, err)
	}
	return nil
}

// Push pushes the image in the layout tar at archive to repository (a
// registry path such as ghcr.io/vendor/agent): the image index under its
// tag, and its cosign signature and attestations, when the layout has
// them, under cosign's tags sha256-HEX.sig and sha256-HEX.att, which plain
// skopeo copy of the tag leaves behind. Plain http is used only for a
// loopback registry. It returns the index digest.
func Push(ctx context.Context, archive, repository string) (string, error) {
	a, cleanup, err := openArchive(archive)
	if err != nil {
		return "", fmt.Errorf("oci: %s: %w", archive, err)
	}
	defer cleanup()
	top, index := a.top, a.index
	if index.Annotations[RefNameAnnotation] == "" {
		return "", fmt.Errorf("oci: %s holds no tagged image index", archive)
	}
	var opts []name.Option
	if host, _, _ := strings.Cut(repository, "/"); loopback.Host(strings.Split(host, ":")[0]) {
		opts = append(opts, name.Insecure)
	}
	tag, err := name.NewTag(repository+":"+index.Annotations[RefNameAnnotation], opts...)
	if err != nil {
		return "", fmt.Errorf("oci: %q: %w", repository, err)
	}
	ii, err := top.ImageIndex(index.Digest)
	if err != nil {
		return "", err
	}
	if err := remote.WriteIndex(tag, ii, remote.WithContext(ctx)); err != nil {
		return "", fmt.Errorf("oci: push %s: %w", tag, err)
	}
	for _, att := range []struct {
		desc   *v1.Descriptor
		suffix string
	}{{a.sigs, ".sig"}, {a.atts, ".att"}} {
		if att.desc == nil {
			continue
		}
		img, err := top.Image(att.desc.Digest)
		if err != nil {
			return "", err
		}
		attTag := tag.Context().Tag(strings.Replace(index.Digest.String(), ":", "-", 1) + att.suffix)
		if err := remote.Write(attTag, img, remote.WithContext(ctx)); err != nil {
			return "", fmt.Errorf("oci: push %s: %w", attTag, err)
		}
	}
	return index.Digest.String(), nil
}

// Archive writes the layout at dir (Build's, and Sign's) as one tar at
// out that depends only on the layout's names and contents: sorted, dated
// mtime, root's, 0755 and 0644. Push and Check read it back.
func Archive(dir, out string, mtime time.Time) error {
	var paths []string
	if err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir {
			paths = append(paths, p)
		}
		return nil
	}); err != nil {
		return err
	}
	sort.Strings(paths)
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		info, err := os.Lstat(p)
		if err != nil {
			return err
		}
		h := &tar.Header{Name: filepath.ToSlash(rel), ModTime: mtime.UTC(), Format: tar.FormatPAX}
		switch {
		case info.IsDir():
			h.Typeflag, h.Name, h.Mode = tar.TypeDir, h.Name+"/", 0o755
		case info.Mode().IsRegular():
			h.Typeflag, h.Mode, h.Size = tar.TypeReg, 0o644, info.Size()
		default:
			return fmt.Errorf("%s is neither a file nor a directory", p)
		}
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if h.Typeflag == tar.TypeReg {
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, in)
			in.Close()
			if err != nil {
				return err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// archived is an unpacked layout tar: its index.json, and in it the
// descriptors of the image index and, when the layout has them, of its
// cosign signatures and attestations.
type archived struct {
	top               v1.ImageIndex
	index, sigs, atts *v1.Descriptor
}

// openArchive unpacks the layout tar at archive into a temporary directory,
// which cleanup removes.
func openArchive(archive string) (a *archived, cleanup func(), err error) {
	dir, err := os.MkdirTemp("", "omnipack-oci-*")
	if err != nil {
		return nil, nil, err
	}
	cleanup = func() { os.RemoveAll(dir) }
	defer func() {
		if err != nil {
			cleanup()
		}
	}()
	if err := untar(archive, dir); err != nil {
		return nil, nil, err
	}
	a = &archived{}
	if a.top, err = layout.ImageIndexFromPath(dir); err != nil {
		return nil, nil, err
	}
	im, err := a.top.IndexManifest()
	if err != nil {
		return nil, nil, err
	}
	for i, d := range im.Manifests {
		switch d.Annotations[kindAnnotation] {
		case imageIndexKind:
			a.index = &im.Manifests[i]
		case signaturesKind:
			a.sigs = &im.Manifests[i]
		case attestationsKind:
			a.atts = &im.Manifests[i]
		}
	}
	if a.index == nil {
		return nil, nil, errors.New("the layout holds no image index")
	}
	return a, cleanup, nil
}

// untar unpacks a layout tar (files and directories with plain names
// only) into dir.
func untar(archive, dir string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		p := path.Clean(h.Name)
		if path.IsAbs(p) || p == ".." || strings.HasPrefix(p, "../") {
			return fmt.Errorf("%q leaves the layout", h.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(p))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s is neither a file nor a directory", h.Name)
		}
	}
}

// Verifier checks an image's signatures with the release key.
type Verifier struct {
	// Signature checks a DER signature of payload.
	Signature func(payload, sig []byte) error
	// DSSE checks a DSSE envelope and returns its payload. When set, the
	// image must carry an attestation of PredicateType.
	DSSE          func(envelope []byte) ([]byte, error)
	PredicateType string
}

// Check reads the layout tar at archive as a client would: every blob of
// the image index must have its digest and size (validate.Index), and the
// layout must carry a cosign signature of the index that v accepts, whose
// payload names that index, and with v.DSSE an attestation about it. It
// returns the index digest.
func Check(archive string, v Verifier) (string, error) {
	a, cleanup, err := openArchive(archive)
	if err != nil {
		return "", err
	}
	defer cleanup()
	top, index, sigs := a.top, a.index, a.sigs
	ii, err := top.ImageIndex(index.Digest)
	if err != nil {
		return "", err
	}
	if err := validate.Index(ii); err != nil {
		return "", fmt.Errorf("the image index %s does not match its blobs: %w", index.Digest, err)
	}
	if sigs == nil {
		return "", errors.New("the image carries no signature")
	}
	img, err := top.Image(sigs.Digest)
	if err != nil {
		return "", err
	}
	m, err := img.Manifest()
	if err != nil {
		return "", err
	}
	for _, l := range m.Layers {
		sig, err := base64.StdEncoding.DecodeString(l.Annotations[signatureAnnotation])
		if err != nil || len(sig) == 0 {
			continue
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return "", err
		}
		rc, err := layer.Compressed()
		if err != nil {
			return "", err
		}
		payload, err := io.ReadAll(io.LimitReader(rc, 1<<20))
		rc.Close()
		if err != nil {
			return "", err
		}
		var p struct {
			Critical struct {
				Image struct {
					Digest string `json:"docker-manifest-digest"`
				} `json:"image"`
			} `json:"critical"`
		}
		if json.Unmarshal(payload, &p) != nil || p.Critical.Image.Digest != index.Digest.String() {
			continue
		}
		if v.Signature(payload, sig) != nil {
			continue
		}
		if v.DSSE != nil {
			if err := checkAttestation(top, a.atts, index.Digest, v.PredicateType, v.DSSE); err != nil {
				return "", err
			}
		}
		return index.Digest.String(), nil
	}
	return "", fmt.Errorf("no signature of the image index %s verifies with the release key", index.Digest)
}
