package pipeline

import (
	"fmt"
	"os"
	"path"
	"path/filepath"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/scripts/installer"
	"github.com/omnipack/omnipack/signing"
)

// NoBaseURLWarning is the build's warning for a signed release whose
// install.sh has no URL to fetch the release from.
const NoBaseURLWarning = "install.sh has no release URL built in, since [installer] base_url is unset: " +
	"it will need --base-url URL or --offline DIR; set base_url in omnipack.toml to where dist/ is published"

// writeInstaller writes dir/install.sh, the `curl | sh` installer of a
// signed release, with the release's public keys built in. An unsigned
// release gets none: the installer verifies a signature before anything
// else, and an unsigned release has nothing to verify against.
//
// install.sh is not listed in release.json: it carries the key that checks
// release.json, so it cannot be vouched for by it. Publish it over https,
// or pin its sha256 where you document the install command.
func writeInstaller(dir string, cfg *config.Config, k *Keys, version string) error {
	if k == nil {
		return nil
	}
	p, err := installerParams(cfg, k, version)
	if err != nil {
		return err
	}
	data, err := installer.Render(p)
	if err != nil {
		return err
	}
	return writeFiles(dir, map[string][]byte{installer.FileName: data})
}

// installerParams gathers what install.sh embeds from the config and the
// key directory.
func installerParams(cfg *config.Config, k *Keys, version string) (installer.Params, error) {
	read := func(name string) ([]byte, error) {
		data, err := os.ReadFile(filepath.Join(k.Dir, name))
		if err != nil {
			return nil, fmt.Errorf("install.sh: %w", err)
		}
		return data, nil
	}
	p := installer.Params{
		Name:          cfg.Project.Name,
		Version:       version,
		BaseURL:       cfg.Installer.BaseURL,
		RepoURL:       cfg.Installer.RepoURL,
		HealthCommand: cfg.HealthArgv(),
		Positional:    cfg.Installer.Positional,
		Secrets:       cfg.Installer.Secrets,
		HealthSeconds: cfg.Installer.HealthSeconds,
		ExecName:      path.Base(cfg.Service.Exec),
		APKKeyName:    k.APKKeyName,
		Generator:     "omnipack build",
	}
	if cfg.Service.EnvironmentFile {
		p.EnvGroup = cfg.Service.Group
	}
	for _, f := range cfg.Configs {
		if f.Dest == cfg.Installer.Config {
			p.ConfigPath = cfg.ConfigDest(f)
			p.ConfigGroup = f.Group
		}
	}
	var err error
	if p.ReleasePub, err = read(signing.ReleasePubFile); err != nil {
		return p, err
	}
	if p.PGPPub, err = read(signing.PGPPubFile); err != nil {
		return p, err
	}
	if p.APKPub, err = read(signing.APKPubFile); err != nil {
		return p, err
	}
	p.Inits = installer.InitsFor(cfg.ServiceModel(""), cfg.Targets.Inits)
	packages := map[string]string{}
	for _, f := range cfg.Targets.Formats {
		packages[f] = cfg.PackageFor(f).Name
	}
	p.Formats = installer.FormatsFor(cfg.Project.Name, packages, k.APKKeyName)
	for i := range p.Formats {
		p.Formats[i].EnvFile = cfg.EnvironmentFileFor(p.Formats[i].Name)
	}
	return p, nil
}
