package formats_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/omnipack/omnipack/detector"
	"github.com/omnipack/omnipack/install"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/manifest"
	"github.com/omnipack/omnipack/packaging"
	"github.com/omnipack/omnipack/packaging/formats"
	"github.com/omnipack/omnipack/pkgfile"
	"github.com/omnipack/omnipack/repo"
	"github.com/omnipack/omnipack/sbom"
	"github.com/omnipack/omnipack/scripts/installer"
	"github.com/omnipack/omnipack/verify"
	"github.com/omnipack/omnipack/verify/verifytest"
)

// TestEveryFormatIsWired builds the example project, signed, in every
// registered format, and proves that each format takes part in every
// stage it declares, through the stage itself, not through the plug-in
// alone: build (an artifact in release.json), read (the file list omnipack
// verify and the SBOMs use), native verify (omnipack verify checks its
// signature, and refuses it tampered), purl (its SBOMs carry the purl),
// the package-manager commands (omnipack install plans them and install.sh
// renders them), and unpacking (omnipack install stages it itself). A
// format that does not declare a stage must not reach it either.
func TestEveryFormatIsWired(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	keys, err := verifytest.NewKeySet(filepath.Join(dir, "keys"), "omnipack")
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src")
	if err := verifytest.CopyTree(filepath.Join("..", "..", verifytest.Example), src); err != nil {
		t.Fatal(err)
	}
	all := `"` + strings.Join(formats.Names(), `", "`) + `"`
	if err := verifytest.EditConfig(src,
		[2]string{`formats = ["deb", "rpm", "apk", "archlinux", "tarball", "oci"]`, "formats = [" + all + `, "oci"]`},
		[2]string{`archs = ["amd64", "arm64"]`, `archs = ["amd64"]`}); err != nil {
		t.Fatal(err)
	}
	dist := filepath.Join(dir, "dist")
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	rel, err := verifytest.BuildExample(ctx, src, dist, keys, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Release(ctx, dist, verify.Options{PublicKey: keys.ReleasePub()})
	if err != nil || !rep.OK {
		t.Fatalf("the release does not verify: %v %+v", err, rep.FirstFailure())
	}
	sigChecked := map[string]bool{}
	for _, c := range rep.Checks {
		if c.Name == verify.CheckPackageSig && c.OK {
			sigChecked[c.File] = true
		}
	}
	rendered := installer.FormatsFor(rel.Name, nil, rel.Keys.APKKeyName)
	repoDir := filepath.Join(dir, "repo")
	if _, err := repo.Publish(ctx, repo.Options{Repo: repoDir, Dist: dist, KeyDir: keys.Dir, Password: []byte(verifytest.Password)}); err != nil {
		t.Fatalf("omnipack publish: %v", err)
	}

	unpacked := 0
	for _, f := range formats.All() {
		t.Run(f.Name(), func(t *testing.T) {
			has := func(s packaging.Stage) bool { return slices.Contains(f.Stages(), s) }
			// build
			i := slices.IndexFunc(rel.Artifacts, func(a manifest.Artifact) bool { return a.Format == f.Name() })
			if i < 0 {
				t.Fatalf("the build wrote no %s artifact", f.Name())
			}
			a := rel.Artifacts[i]
			pkg := filepath.Join(dist, a.Name)

			// read
			files, err := formats.Files(pkg, f.Name())
			switch {
			case has(packaging.StageRead) && err != nil:
				t.Errorf("read: %v", err)
			case has(packaging.StageRead) && !slices.ContainsFunc(files, func(p pkgfile.File) bool { return p.Path == layout.Bin(rel.Name) }):
				t.Errorf("read: %s is not in its file list", layout.Bin(rel.Name))
			case !has(packaging.StageRead) && err == nil:
				t.Errorf("read: the file list of a format without the read stage was read")
			}

			// native verify
			signed := a.Name
			if c, ok := f.(packaging.SignatureChecker); ok && c.Detached() {
				signed += ".sig"
			}
			if has(packaging.StageVerify) != sigChecked[signed] {
				t.Errorf("verify: stage declared %v, omnipack verify checked %s's signature %v", has(packaging.StageVerify), signed, sigChecked[signed])
			}
			if has(packaging.StageVerify) {
				tamperedVerifies(t, dist, a, keys)
			}

			// purl
			purl, err := sbom.PackageURL(a, rel.Name, "omnipack")
			if has(packaging.StagePURL) != (err == nil) {
				t.Errorf("purl: stage declared %v, PackageURL gives %q, %v", has(packaging.StagePURL), purl, err)
			}
			if err == nil {
				spdx, _ := sbom.FileNames(a.Name)
				doc, err := os.ReadFile(filepath.Join(dist, spdx))
				if err != nil || !strings.Contains(string(doc), purl) {
					t.Errorf("purl: the SBOM %s does not carry %s (%v)", spdx, purl, err)
				}
			}

			// package-manager commands
			r := slices.IndexFunc(rendered, func(rf installer.Format) bool { return rf.Name == f.Name() })
			if has(packaging.StageInstall) {
				managers := f.(packaging.PackageManaged).Managers()
				if len(managers) == 0 {
					t.Fatal("install: no package manager")
				}
				if r < 0 || len(rendered[r].Managers) != len(managers) {
					t.Errorf("install: install.sh renders no commands for it")
				}
				for _, pm := range managers {
					facts := detector.Facts{DistroID: "test", Arch: "amd64", PackageManager: pm, PackageFormat: f.Name(), Init: "systemd"}
					p, err := install.NewPlan(facts, rel, install.State{}, install.PlanOptions{})
					if err != nil {
						t.Errorf("install with %s: %v", pm, err)
						continue
					}
					want, err := install.PackageCommand(f.Name(), pm, packaging.OpInstall, install.ArtifactToken, rel.Name)
					if err != nil || !slices.ContainsFunc(p.Steps, func(s install.Step) bool { return s.Cmd != nil && s.Cmd.String() == want.String() }) {
						t.Errorf("install with %s: the plan does not run %s (%v)", pm, want, err)
					}
					for _, op := range packaging.Ops {
						if _, err := install.PackageCommand(f.Name(), pm, op, "/x", rel.Name); err != nil {
							t.Errorf("install: %s cannot %s: %v", pm, op, err)
						}
						if r >= 0 && rendered[r].Managers[slices.IndexFunc(rendered[r].Managers, func(m installer.Manager) bool { return m.Name == pm })].Commands[op] == "" {
							t.Errorf("install: install.sh has no %s command for %s", op, pm)
						}
					}
				}
			} else if _, err := install.PackageCommand(f.Name(), "apt", packaging.OpInstall, "/x", rel.Name); err == nil {
				t.Errorf("install: a package manager installs a format without the install stage")
			}

			// repository: omnipack publish put the package at its pool path
			pool := ""
			if ix, ok := f.(packaging.Indexer); ok {
				pool = ix.PoolPath(repo.DefaultChannel, packaging.RepoPackage{
					Name: a.Package, Program: rel.Name, Version: a.Version, Arch: a.Arch})
			}
			if size, sum, err := manifest.Digest(filepath.Join(repoDir, filepath.FromSlash(pool))); has(packaging.StageRepo) &&
				(err != nil || size != a.Size || sum != a.SHA256) {
				t.Errorf("repo: omnipack publish did not put the package at its pool path %s: %v", pool, err)
			}
			if !has(packaging.StageRepo) && pool != "" {
				t.Errorf("repo: not declared, but it has a pool path")
			}
			// install.sh --method repo: a format whose package manager
			// installs from the repository has it rendered into install.sh.
			if h, ok := f.(packaging.RepoHost); ok {
				if !has(packaging.StageRepo) || !has(packaging.StageInstall) {
					t.Errorf("repo host: the package manager installs from a repository the format does not publish or install")
				}
				hr := h.HostRepo(packaging.RepoClient{URL: packaging.URLArg, Channel: packaging.ChannelArg, Name: rel.Name})
				if !slices.Contains(f.(packaging.PackageManaged).Managers(), hr.Manager) {
					t.Errorf("repo host: %s is not one of the format's package managers", hr.Manager)
				}
				if r < 0 || rendered[r].Repo == nil || !strings.Contains(rendered[r].Repo.PrintSource, `"$repo_url"`) {
					t.Errorf("repo host: install.sh renders no --method repo for it")
				}
			}

			// unpacking
			if has(packaging.StageUnpack) {
				unpacked++
				facts := detector.Facts{DistroID: "test", Arch: "amd64", PackageManager: detector.None, PackageFormat: f.Name(), Init: "systemd"}
				p, err := install.NewPlan(facts, rel, install.State{}, install.PlanOptions{})
				if err != nil || !slices.ContainsFunc(p.Steps, func(s install.Step) bool { return s.Kind == install.StepStage }) {
					t.Errorf("unpack: omnipack install does not unpack it itself: %v", err)
				}
				if r < 0 || !rendered[r].Unpacked {
					t.Errorf("unpack: install.sh does not know it unpacks it")
				}
			}
		})
	}
	if unpacked != 1 {
		t.Errorf("%d formats are unpacked by the installers, want exactly one", unpacked)
	}
}

// tamperedVerifies re-signs the release around a package with its middle byte
// (inside its payload) changed, so that its digest passes and only its native signature can
// catch it; omnipack verify must.
func tamperedVerifies(t *testing.T, dist string, a manifest.Artifact, keys *verifytest.KeySet) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "dist")
	if err := verifytest.Copy(dist, dir); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, a.Name)
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 0xff
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := verifytest.Refresh(dir, keys, time.Now(), a.Name); err != nil {
		t.Fatal(err)
	}
	rep, err := verify.Release(context.Background(), dir, verify.Options{PublicKey: keys.ReleasePub()})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.Name == verify.CheckPackageSig && !c.OK && strings.HasPrefix(c.File, a.Name) {
			return
		}
	}
	t.Errorf("verify: %s with a changed byte passes its native signature check", a.Name)
}
