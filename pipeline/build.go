// Package pipeline runs the build from a loaded config to a finished dist/
// directory: binaries, rendered service files, packages and release.json.
package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/omnipack/omnipack/config"
	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/provenance"
	"github.com/omnipack/omnipack/sbom"
)

// Options controls one build.
type Options struct {
	Config  *config.Config
	DistDir string // replaced only when the whole build succeeds
	// Progress, if set, is told about each step as it starts.
	Progress func(step string)
	// Jobs bounds how many packages are written at once; 0 means one per CPU.
	Jobs int
	// Keys, when set, sign the packages natively and the release as a whole.
	Keys *Keys
	// Now is the signing time; nil means time.Now.
	Now func() time.Time
	// OmnipackVersion is recorded in the provenance.
	OmnipackVersion string
	// Warn, if set, is told about what the build did but the user may not
	// expect, such as an install.sh with no release URL.
	Warn func(msg string)
}

// InputError marks a failure caused by the user's input (exit code 2)
// rather than by the build itself.
type InputError struct{ Err error }

func (e InputError) Error() string { return e.Err.Error() }
func (e InputError) Unwrap() error { return e.Err }

// Run builds every configured package into opts.DistDir and returns the
// release manifest. On failure the previous DistDir is left untouched.
func Run(ctx context.Context, opts Options) (*manifest.Release, error) {
	cfg := opts.Config
	progress := opts.Progress
	if progress == nil {
		progress = func(string) {}
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	started := now()
	validity, err := config.ParseValidity(cfg.Signing.Expires)
	if err != nil {
		return nil, InputError{err}
	}
	version, err := cfg.ResolveVersion()
	if err != nil {
		return nil, InputError{err}
	}
	if err := checkResolvedVersion(cfg, version); err != nil {
		return nil, InputError{err}
	}
	epoch, err := sourceDateEpoch(cfg)
	if err != nil {
		return nil, InputError{err}
	}
	// One read of the source commit serves the ldflags variables and the
	// provenance, so the binary names the commit the provenance records.
	src := readSource(cfg)
	dist, err := filepath.Abs(opts.DistDir)
	if err != nil {
		return nil, err
	}
	if err := checkReplaceable(dist); err != nil {
		return nil, InputError{err}
	}

	work, err := os.MkdirTemp("", "omnipack-work-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	if err := os.MkdirAll(filepath.Dir(dist), 0o755); err != nil {
		return nil, err
	}
	// The new dist/ is assembled beside the old one, so the final rename
	// stays on one filesystem and is atomic.
	staging, err := os.MkdirTemp(filepath.Dir(dist), "."+filepath.Base(dist)+".tmp-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(staging) // a no-op once it has been renamed into place
	if err := os.Chmod(staging, 0o755); err != nil {
		return nil, err
	}

	scratchDir := filepath.Join(work, "scratch")
	if err := os.MkdirAll(scratchDir, 0o755); err != nil {
		return nil, err
	}
	stages, err := stageFormats(cfg, filepath.Join(work, "stage"))
	if err != nil {
		return nil, err
	}

	mtime := time.Unix(epoch, 0).UTC()
	rel := &manifest.Release{
		Schema:          manifest.SchemaVersion,
		Name:            cfg.Project.Name,
		Version:         version.String(),
		Release:         cfg.Project.Release,
		SourceDateEpoch: epoch,
		Inits:           append([]string(nil), cfg.Targets.Inits...),
		HealthCommand:   cfg.HealthArgv(),
	}
	var specs []*packaging.Spec
	for _, archName := range cfg.Targets.Archs {
		arch, _ := config.LookupArch(archName)
		progress("binary " + archName)
		bin, err := binary(ctx, cfg, arch, ldflagsVars(version, src, epoch), work)
		if err != nil {
			return nil, err
		}
		specs = append(specs, &packaging.Spec{
			Name: cfg.Project.Name, Version: version, Release: cfg.Project.Release, Arch: arch,
			Summary: cfg.Project.Summary, Description: cfg.Project.Description,
			Maintainer: cfg.Project.Maintainer, Vendor: cfg.Project.Vendor,
			License: cfg.Project.License, Homepage: cfg.Project.Homepage, MTime: mtime,
			Binary: bin, ScratchDir: scratchDir,
			Configs: configFiles(cfg), Files: extraFiles(cfg), Sign: opts.Keys.packageSigner(),
			Packages: packages(cfg),
		})
	}

	artifacts, err := packageAll(specs, stages, cfg, version, staging, opts.Jobs, progress)
	if err != nil {
		return nil, err
	}
	rel.Artifacts = artifacts
	if cfg.WantsImage(config.OCITarget) {
		progress("oci image")
		arts, err := buildImage(cfg, specs, version.String(), src.SourceRef, mtime, opts.Keys, staging)
		if err != nil {
			return nil, err
		}
		rel.Artifacts = append(rel.Artifacts, arts...)
	}
	if src.Commit != "" {
		progress("source archive")
		a, err := writeSourceArchive(ctx, cfg, src.Commit, version.String(), staging)
		if err != nil {
			return nil, err
		}
		rel.Artifacts = append(rel.Artifacts, *a)
	}
	if opts.Keys == nil {
		progress("manifest")
		data, err := rel.Marshal()
		if err != nil {
			return nil, err
		}
		if err := writeFiles(staging, map[string][]byte{manifest.FileName: data, manifest.SumsFileName: rel.SHA256SUMS()}); err != nil {
			return nil, err
		}
	} else {
		progress("provenance")
		prov, err := writeProvenance(ctx, cfg, rel, &src.SourceRef, opts, started, now(), staging)
		if err != nil {
			return nil, err
		}
		rel.Artifacts = append(rel.Artifacts, prov)
		progress("sign release")
		if err := SignRelease(staging, rel, opts.Keys, previousReleaseVersion(dist), now(), validity); err != nil {
			return nil, err
		}
	}
	if err := writeInstaller(staging, cfg, opts.Keys, version.String()); err != nil {
		return nil, err
	}
	if opts.Keys != nil && cfg.Installer.BaseURL == "" && opts.Warn != nil {
		opts.Warn(NoBaseURLWarning)
	}
	if err := replaceDir(staging, dist); err != nil {
		return nil, err
	}
	return rel, nil
}

// checkResolvedVersion applies the format rules to a version derived from
// git, which the config validator could not see.
func checkResolvedVersion(cfg *config.Config, v config.Version) error {
	if cfg.Project.Version != "git" {
		return nil
	}
	var ps config.Problems
	for _, name := range cfg.Targets.Formats {
		f, _ := formats.Lookup(name)
		if why, fix := f.Rule().CheckVersion(v.Base); why != "" {
			ps = append(ps, config.Problem{File: cfg.Path, Field: "project.version",
				Msg: fmt.Sprintf("the git tag gives version %q, invalid for %s: %s", v.Base, name, why), Fix: fix})
		}
	}
	if len(ps) > 0 {
		return ps
	}
	return nil
}

// sourceDateEpoch takes the build time from SOURCE_DATE_EPOCH, else from the
// last commit, so two builds of one input give identical bytes.
func sourceDateEpoch(cfg *config.Config) (int64, error) {
	if s, ok := os.LookupEnv("SOURCE_DATE_EPOCH"); ok {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil || v < 0 {
			return 0, fmt.Errorf("SOURCE_DATE_EPOCH=%q is not a non-negative integer of seconds since 1970", s)
		}
		return v, nil
	}
	if t, ok := cfg.CommitTime(); ok {
		return t, nil
	}
	return 0, fmt.Errorf("%s is not in a git checkout and SOURCE_DATE_EPOCH is unset; "+
		"set SOURCE_DATE_EPOCH (e.g. export SOURCE_DATE_EPOCH=$(date +%%s)) so the build time is fixed", cfg.Dir)
}

// checkReplaceable refuses to replace a directory omnipack did not make, so
// a mistyped --dist cannot wipe unrelated files.
func checkReplaceable(dist string) error {
	entries, err := os.ReadDir(dist)
	if errors.Is(err, os.ErrNotExist) || (err == nil && len(entries) == 0) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("output directory %s: %w", dist, err)
	}
	if _, err := os.Stat(filepath.Join(dist, manifest.FileName)); err != nil {
		return fmt.Errorf("refusing to replace %s: it is not empty and holds no %s, so omnipack did not make it; "+
			"choose another --dist or empty it", dist, manifest.FileName)
	}
	return nil
}

// replaceDir moves staging into place at dist, keeping the old dist until
// the new one is there.
func replaceDir(staging, dist string) error {
	old := ""
	if _, err := os.Stat(dist); err == nil {
		old = staging + ".old"
		if err := os.Rename(dist, old); err != nil {
			return err
		}
	}
	if err := os.Rename(staging, dist); err != nil {
		if old != "" {
			_ = os.Rename(old, dist)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// binary returns the daemon binary for arch: built from Go, or prebuilt.
func binary(ctx context.Context, cfg *config.Config, arch config.Arch, vars config.LdflagsVars, work string) (string, error) {
	if cfg.Binary.GoPackage == "" {
		return cfg.Resolve(cfg.Binary.Prebuilt[arch.Name]), nil
	}
	ldflags, err := expandLdflags(cfg.Binary.Ldflags, vars)
	if err != nil {
		// config.Load has checked the template; this is the backstop.
		return "", InputError{config.Problems{{File: cfg.Path, Field: "binary.ldflags", Msg: err.Error(),
			Fix: "use the variables " + strings.Join(config.LdflagsVarNames(), ", ")}}}
	}
	out := filepath.Join(work, "bin", arch.Name, cfg.Project.Name)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", ldflags, "-o", out, cfg.Binary.GoPackage)
	cmd.Dir = cfg.Dir
	cmd.Env = goEnv(arch)
	var stderr bytes.Buffer
	cmd.Stdout = &stderr
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build %s for %s: %v\n%s", cfg.Binary.GoPackage, arch.Name, err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// goEnv is the environment for a reproducible cross build: everything that
// changes the output is set here and not inherited.
func goEnv(arch config.Arch) []string {
	drop := map[string]bool{"GOFLAGS": true, "CGO_ENABLED": true, "GOOS": true, "GOARCH": true,
		"GOARM": true, "GOAMD64": true, "GOARM64": true, "GO386": true, "GOPPC64": true, "GORISCV64": true,
		"GOEXPERIMENT": true, "GOTOOLCHAIN": true}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if !drop[k] {
			env = append(env, kv)
		}
	}
	env = append(env, "GOFLAGS=-mod=readonly", "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch.GOARCH, "GOTOOLCHAIN=local")
	if arch.GOARM != "" {
		env = append(env, "GOARM="+arch.GOARM)
	}
	return env
}

// expandLdflags expands [binary] ldflags. config.ExpandLdflags runs the
// template (with missingkey=error), so validate checks it with the same code.
func expandLdflags(tmpl string, vars config.LdflagsVars) (string, error) {
	return config.ExpandLdflags(tmpl, vars)
}

// source is the commit a build is made from.
type source struct {
	provenance.SourceRef
	Branch string // "" outside git and on a detached HEAD
}

func readSource(cfg *config.Config) source {
	s := source{SourceRef: provenance.ReadSource(cfg.Dir)}
	if s.Commit != "" {
		cmd := exec.Command("git", "symbolic-ref", "--short", "-q", "HEAD")
		cmd.Dir = cfg.Dir
		if out, err := cmd.Output(); err == nil {
			s.Branch = strings.TrimSpace(string(out))
		}
	}
	return s
}

// ldflagsVars are the values of the ldflags variables: the resolved version,
// the source commit, and the build's source date (SOURCE_DATE_EPOCH, else
// the commit time, as every packaged file's mtime), never the wall clock.
func ldflagsVars(v config.Version, src source, epoch int64) config.LdflagsVars {
	vars := config.LdflagsVars{
		Version: v.String(),
		Commit:  src.Commit,
		Date:    time.Unix(epoch, 0).UTC().Format(time.RFC3339),
		Branch:  src.Branch,
	}
	if len(src.Commit) >= 7 {
		vars.ShortCommit = src.Commit[:7]
	}
	return vars
}

// packages gives each target format's package name and relations.
func packages(cfg *config.Config) map[string]packaging.Relations {
	out := map[string]packaging.Relations{}
	for _, f := range cfg.Targets.Formats {
		p := cfg.PackageFor(f)
		out[f] = packaging.Relations{Name: p.Name, Replaces: p.Replaces, Conflicts: p.Conflicts, Provides: p.Provides}
	}
	return out
}

func configFiles(cfg *config.Config) []packaging.File {
	var out []packaging.File
	for _, f := range cfg.Configs {
		mode, _ := config.ParseMode(f.Mode)
		out = append(out, packaging.File{Source: cfg.Resolve(f.Source), Dest: cfg.ConfigDest(f),
			Mode: mode, Owner: f.Owner, Group: f.Group})
	}
	return out
}

func extraFiles(cfg *config.Config) []packaging.File {
	var out []packaging.File
	for _, f := range cfg.Files {
		mode, _ := config.ParseMode(f.Mode)
		out = append(out, packaging.File{Source: cfg.Resolve(f.Source), Dest: f.Dest, Mode: mode})
	}
	return out
}

// packageAll writes every format × architecture package, a bounded number
// at a time, each with its detached signature (where the format has one)
// and its SBOMs, and returns them all as manifest artifacts. nfpm streams
// each package to its file.
// formatStage is what differs between one arch's packages of different
// formats: the service (its environment file's path), the init files
// rendered for it, and the environment file itself.
type formatStage struct {
	service   initsys.Service
	inits     []initsys.Renderer
	initFiles map[string][]initsys.File
	dir       string
	envFile   *packaging.File
	logrotate *packaging.File
}

// stageFormats renders the init files for each format's service under
// dir/FORMAT, and its environment file where [service] environment_file
// asks for one.
func stageFormats(cfg *config.Config, dir string) (map[string]formatStage, error) {
	stages := map[string]formatStage{}
	for _, f := range cfg.Targets.Formats {
		st := formatStage{service: cfg.ServiceModel(f), dir: filepath.Join(dir, f)}
		var err error
		if st.inits, st.initFiles, err = packaging.StageInits(st.service, cfg.Targets.Inits, st.dir); err != nil {
			return nil, err
		}
		if p := st.service.EnvironmentFile; p != "" {
			src := filepath.Join(st.dir, "environment")
			if err := os.WriteFile(src, initsys.EnvFileDefaults(st.service), 0o644); err != nil {
				return nil, err
			}
			// It may hold credentials: readable by the service's group only.
			st.envFile = &packaging.File{Source: src, Dest: p, Mode: 0o640, Owner: "root", Group: st.service.Group}
		}
		if initsys.LogsToFile(st.inits) {
			src := filepath.Join(st.dir, "logrotate")
			if err := os.WriteFile(src, initsys.Logrotate(st.service), 0o644); err != nil {
				return nil, err
			}
			st.logrotate = &packaging.File{Source: src, Dest: initsys.LogrotateFile(st.service.Name), Mode: 0o644}
		}
		stages[f] = st
	}
	return stages, nil
}

func packageAll(specs []*packaging.Spec, stages map[string]formatStage, cfg *config.Config, v config.Version, dir string, jobs int, progress func(string)) ([]manifest.Artifact, error) {
	if jobs <= 0 {
		jobs = runtime.NumCPU()
	}
	type job struct {
		spec   *packaging.Spec
		format string
	}
	var all []job
	for _, s := range specs {
		for _, f := range cfg.Targets.Formats {
			st := stages[f]
			spec := *s
			spec.Service, spec.Inits, spec.InitFiles, spec.StageDir = st.service, st.inits, st.initFiles, st.dir
			if st.envFile != nil {
				spec.Configs = append(slices.Clip(spec.Configs), *st.envFile)
			}
			if st.logrotate != nil {
				spec.SystemConfigs = append(slices.Clip(spec.SystemConfigs), *st.logrotate)
			}
			all = append(all, job{&spec, f})
		}
	}
	results := make([][]manifest.Artifact, len(all))
	errs := make([]error, len(all))
	sem := make(chan struct{}, jobs)
	var wg sync.WaitGroup
	var mu sync.Mutex
	for i, j := range all {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			mu.Lock()
			progress(fmt.Sprintf("package %s %s", j.format, j.spec.Arch.Name))
			mu.Unlock()
			results[i], errs[i] = packageOne(j.spec, j.format, cfg, v, dir)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []manifest.Artifact
	for _, r := range results {
		out = append(out, r...)
	}
	return out, nil
}

// packageOne builds one package and describes it, its signature and its
// SBOMs as artifacts.
func packageOne(spec *packaging.Spec, format string, cfg *config.Config, v config.Version, dir string) ([]manifest.Artifact, error) {
	res, err := formats.Build(spec, format, dir)
	if err != nil {
		return nil, err
	}
	pkg, err := artifact(res.Path, format, res.Arch, res.Version)
	if err != nil {
		return nil, err
	}
	pkg.Package = spec.Package(format).Name
	// The installers write --set env.NAME=VALUE here: the path the
	// format's package ships, not one they guess.
	pkg.EnvironmentFile = spec.Service.EnvironmentFile
	out := []manifest.Artifact{pkg}
	if res.SigPath != "" {
		sig, err := artifact(res.SigPath, FormatSignature, res.Arch, res.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, sig)
	}
	in := sbom.Input{
		PackagePath: res.Path, Artifact: pkg, Name: pkg.Package, Version: v.String(),
		License: cfg.Project.License, Supplier: cfg.Project.Vendor, Homepage: cfg.Project.Homepage,
		BinaryPath: layout.Bin(cfg.Project.Name), Created: spec.MTime,
	}
	spdxName, cdxName := sbom.FileNames(pkg.Name)
	for _, doc := range []struct {
		name, format string
		make         func(sbom.Input) ([]byte, error)
	}{{spdxName, FormatSPDX, sbom.SPDX}, {cdxName, FormatCycloneDX, sbom.CycloneDX}} {
		data, err := doc.make(in)
		if err != nil {
			return nil, fmt.Errorf("%s SBOM of %s: %w", doc.format, pkg.Name, err)
		}
		p := filepath.Join(dir, doc.name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return nil, err
		}
		a, err := artifact(p, doc.format, res.Arch, res.Version)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// Artifact formats other than the package formats: manifest's, named
// here for the build's callers.
const (
	FormatSignature  = manifest.FormatSignature
	FormatSPDX       = manifest.FormatSPDX
	FormatCycloneDX  = manifest.FormatCycloneDX
	FormatProvenance = manifest.FormatProvenance
)

func artifact(path, format, arch, version string) (manifest.Artifact, error) {
	size, sum, err := manifest.Digest(path)
	if err != nil {
		return manifest.Artifact{}, err
	}
	return manifest.Artifact{Name: filepath.Base(path), Format: format, Arch: arch, OS: "linux",
		Version: version, Size: size, SHA256: sum}, nil
}
