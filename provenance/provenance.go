// Package provenance describes how a release was built as an in-toto
// Statement with a SLSA v1 provenance predicate. The statement is signed as
// a DSSE envelope by the signing stage.
package provenance

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Fixed identifiers of the formats and of omnipack's build.
const (
	StatementType = "https://in-toto.io/Statement/v1"
	PredicateType = "https://slsa.dev/provenance/v1"
	PayloadType   = "application/vnd.in-toto+json"
	// BuildType names omnipack's build process; its parameters are
	// documented in the README.
	BuildType = "https://omnipack.dev/buildtypes/omnipack-build/v1"
	// FileName is the signed envelope's name in dist/.
	FileName = "provenance.intoto.jsonl"
)

// Statement is an in-toto v1 statement.
type Statement struct {
	Type          string    `json:"_type"`
	Subject       []Subject `json:"subject"`
	PredicateType string    `json:"predicateType"`
	Predicate     Predicate `json:"predicate"`
}

// Subject is one artifact the statement is about.
type Subject struct {
	Name   string            `json:"name"`
	Digest map[string]string `json:"digest"`
}

// Predicate is a SLSA v1 provenance predicate.
type Predicate struct {
	BuildDefinition BuildDefinition `json:"buildDefinition"`
	RunDetails      RunDetails      `json:"runDetails"`
}

type BuildDefinition struct {
	BuildType            string               `json:"buildType"`
	ExternalParameters   ExternalParameters   `json:"externalParameters"`
	InternalParameters   map[string]any       `json:"internalParameters,omitempty"`
	ResolvedDependencies []ResourceDescriptor `json:"resolvedDependencies"`
}

// ExternalParameters are the inputs a user controls: the config and the
// source it builds.
type ExternalParameters struct {
	Config ConfigRef `json:"config"`
	Source SourceRef `json:"source"`
}

type ConfigRef struct {
	Path   string            `json:"path"` // relative to the source repository when inside one
	Digest map[string]string `json:"digest"`
}

type SourceRef struct {
	Repository string `json:"repository"` // remote URL, or "" outside git
	Commit     string `json:"commit"`     // full commit hash, or "" outside git
	Dirty      bool   `json:"dirty"`      // uncommitted changes were built
}

type ResourceDescriptor struct {
	URI    string            `json:"uri"`
	Name   string            `json:"name,omitempty"`
	Digest map[string]string `json:"digest,omitempty"`
}

type RunDetails struct {
	Builder  Builder  `json:"builder"`
	Metadata Metadata `json:"metadata"`
}

type Builder struct {
	ID      string            `json:"id"`
	Version map[string]string `json:"version,omitempty"`
}

type Metadata struct {
	InvocationID string    `json:"invocationId,omitempty"`
	StartedOn    time.Time `json:"startedOn"`
	FinishedOn   time.Time `json:"finishedOn"`
}

// Input is what the build knows about itself.
type Input struct {
	Subjects        map[string]string // artifact file name -> hex sha256
	ConfigPath      string            // absolute path of omnipack.toml
	GoVersion       string            // e.g. go1.26.8; empty for prebuilt binaries
	GoSumPath       string            // absolute path of the built module's go.sum; may be empty
	OmnipackVersion string
	SourceDateEpoch int64
	Started         time.Time
	Finished        time.Time
	// Source is the git state the build read, so the provenance records the
	// commit the binary was stamped with; nil reads it from the config's
	// directory.
	Source *SourceRef
}

// New builds the statement, reading the config, go.sum and git state.
func New(in Input) (*Statement, error) {
	if len(in.Subjects) == 0 {
		return nil, errors.New("provenance needs at least one subject")
	}
	configSum, err := fileSHA256(in.ConfigPath)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(in.ConfigPath)
	var src SourceRef
	if in.Source != nil {
		src = *in.Source
	} else {
		src = ReadSource(dir)
	}
	configPath := filepath.Base(in.ConfigPath)
	if top := git(dir, "rev-parse", "--show-toplevel"); top != "" {
		if rel, err := filepath.Rel(top, in.ConfigPath); err == nil {
			configPath = filepath.ToSlash(rel)
		}
	}
	st := &Statement{
		Type:          StatementType,
		PredicateType: PredicateType,
		Predicate: Predicate{
			BuildDefinition: BuildDefinition{
				BuildType: BuildType,
				ExternalParameters: ExternalParameters{
					Config: ConfigRef{Path: configPath, Digest: map[string]string{"sha256": configSum}},
					Source: src,
				},
				InternalParameters: map[string]any{"source_date_epoch": in.SourceDateEpoch},
			},
			RunDetails: RunDetails{
				Builder: Builder{
					ID:      "https://omnipack.dev/builder/local",
					Version: map[string]string{"omnipack": in.OmnipackVersion},
				},
				Metadata: Metadata{StartedOn: in.Started.UTC(), FinishedOn: in.Finished.UTC()},
			},
		},
	}
	names := make([]string, 0, len(in.Subjects))
	for n := range in.Subjects {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		st.Subject = append(st.Subject, Subject{Name: n, Digest: map[string]string{"sha256": in.Subjects[n]}})
	}
	deps := &st.Predicate.BuildDefinition.ResolvedDependencies
	if src.Repository != "" || src.Commit != "" {
		uri := "git+" + src.Repository
		if src.Repository == "" {
			uri = "git+file:" + filepath.Base(dir)
		}
		*deps = append(*deps, ResourceDescriptor{URI: uri + "@" + src.Commit, Name: "source",
			Digest: map[string]string{"gitCommit": src.Commit}})
	}
	if in.GoVersion != "" {
		*deps = append(*deps, ResourceDescriptor{URI: "pkg:golang/toolchain@" + in.GoVersion, Name: "go toolchain"})
	}
	if in.GoSumPath != "" {
		sum, err := fileSHA256(in.GoSumPath)
		if err != nil {
			return nil, err
		}
		*deps = append(*deps, ResourceDescriptor{URI: "file:go.sum", Name: "go.sum",
			Digest: map[string]string{"sha256": sum}})
	}
	return st, nil
}

// Marshal encodes the statement as the DSSE payload.
func (s *Statement) Marshal() ([]byte, error) { return json.Marshal(s) }

// Parse decodes a statement and checks its fixed fields.
func Parse(payload []byte) (*Statement, error) {
	var s Statement
	if err := json.Unmarshal(payload, &s); err != nil {
		return nil, fmt.Errorf("provenance statement: %w", err)
	}
	if s.Type != StatementType || s.PredicateType != PredicateType {
		return nil, fmt.Errorf("provenance statement has type %q / predicate %q, want %q / %q",
			s.Type, s.PredicateType, StatementType, PredicateType)
	}
	return &s, nil
}

// SubjectDigests returns the statement's subjects as name -> sha256.
func (s *Statement) SubjectDigests() map[string]string {
	m := make(map[string]string, len(s.Subject))
	for _, sub := range s.Subject {
		m[sub.Name] = sub.Digest["sha256"]
	}
	return m
}

// ReadSource reads the git state of the checkout holding dir; every field
// is empty outside git.
func ReadSource(dir string) SourceRef {
	return SourceRef{
		Repository: git(dir, "config", "--get", "remote.origin.url"),
		Commit:     git(dir, "rev-parse", "HEAD"),
		Dirty:      git(dir, "status", "--porcelain", "--untracked-files=no") != "",
	}
}

// git runs a read-only git command and returns its trimmed output, or ""
// when dir is not in a repository.
func git(dir string, args ...string) string {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(out))
}

func fileSHA256(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:]), nil
}
