package oci

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/static"
)

// cosign's names for attestations, as cosign save writes them: an image
// of kind attestationsKind beside the index, one DSSE envelope per layer.
const (
	attestationsKind        = "dev.cosignproject.cosign/atts"
	dsseMediaType           = "application/vnd.dsse.envelope.v1+json"
	predicateTypeAnnotation = "predicateType"
	// inTotoStatementType is the statement version cosign attest writes.
	inTotoStatementType = "https://in-toto.io/Statement/v0.1"
)

// Statement returns the in-toto statement that predicate (of
// predicateType) is about the image index: its subject is repository at
// the index digest, which cosign verify-attestation matches against the
// image it verifies.
func Statement(repository, index, predicateType string, predicate []byte) ([]byte, error) {
	hex, ok := strings.CutPrefix(index, "sha256:")
	if !ok || !json.Valid(predicate) {
		return nil, fmt.Errorf("oci: a statement needs a sha256 index digest and a JSON predicate (got %q)", index)
	}
	return json.Marshal(statement{
		Type:          inTotoStatementType,
		PredicateType: predicateType,
		Subject:       []subject{{Name: repository, Digest: map[string]string{"sha256": hex}}},
		Predicate:     json.RawMessage(predicate),
	})
}

type statement struct {
	Type          string          `json:"_type"`
	PredicateType string          `json:"predicateType"`
	Subject       []subject       `json:"subject"`
	Predicate     json.RawMessage `json:"predicate"`
}

type subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Attestation is one signed statement about the image: a DSSE envelope
// whose payload is a Statement of PredicateType.
type Attestation struct {
	PredicateType string
	Envelope      []byte
}

// Attest adds the attestations to the layout at dir (Build's, and Sign's)
// in the form cosign save writes, so that cosign verify-attestation
// --local-image checks them offline.
func Attest(dir string, atts []Attestation) error {
	if len(atts) == 0 {
		return errors.New("oci: no attestations")
	}
	layers := make([]mutate.Addendum, len(atts))
	for i, a := range atts {
		layers[i] = mutate.Addendum{Layer: static.NewLayer(a.Envelope, dsseMediaType),
			Annotations: map[string]string{predicateTypeAnnotation: a.PredicateType, signatureAnnotation: ""}}
	}
	return appendAttached(dir, attestationsKind, layers)
}

// WriteLayer writes the layer of the image whose manifest digest is
// manifest, under the image index index in the layout at dir,
// uncompressed to out: what an SBOM of that image lists.
func WriteLayer(dir, index, manifest, out string) error {
	ih, err := v1.NewHash(index)
	if err != nil {
		return err
	}
	mh, err := v1.NewHash(manifest)
	if err != nil {
		return err
	}
	top, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return err
	}
	ii, err := top.ImageIndex(ih)
	if err != nil {
		return err
	}
	img, err := ii.Image(mh)
	if err != nil {
		return err
	}
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	if len(layers) != 1 {
		return fmt.Errorf("oci: image %s has %d layers, want the one Build writes", manifest, len(layers))
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		return err
	}
	defer rc.Close()
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkAttestation requires, in the attestations image atts, an
// attestation of predicateType about index whose envelope verify (the
// release key's DSSE check, returning the payload) accepts.
func checkAttestation(top v1.ImageIndex, atts *v1.Descriptor, index v1.Hash, predicateType string, verify func(envelope []byte) ([]byte, error)) error {
	if atts == nil {
		return errors.New("the image carries no attestation")
	}
	img, err := top.Image(atts.Digest)
	if err != nil {
		return err
	}
	m, err := img.Manifest()
	if err != nil {
		return err
	}
	for _, l := range m.Layers {
		if l.MediaType != dsseMediaType || l.Annotations[predicateTypeAnnotation] != predicateType {
			continue
		}
		layer, err := img.LayerByDigest(l.Digest)
		if err != nil {
			return err
		}
		rc, err := layer.Compressed()
		if err != nil {
			return err
		}
		env, err := io.ReadAll(io.LimitReader(rc, 64<<20))
		rc.Close()
		if err != nil {
			return err
		}
		payload, err := verify(env)
		if err != nil {
			continue
		}
		var st statement
		if json.Unmarshal(payload, &st) != nil || st.PredicateType != predicateType {
			continue
		}
		for _, s := range st.Subject {
			if "sha256:"+s.Digest["sha256"] == index.String() {
				return nil
			}
		}
	}
	return fmt.Errorf("no %s attestation of the image index %s verifies with the release key", predicateType, index)
}
