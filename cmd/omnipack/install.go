package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/install"
	"github.com/omnipack/omnipack/release"
)

// installReport is the --json form of a successful install run.
type installReport struct {
	OK      bool          `json:"ok"`
	DryRun  bool          `json:"dry_run"`
	Changed bool          `json:"changed"`
	Plan    *install.Plan `json:"plan"`
}

func newInstallCmd(g *globals) *cobra.Command {
	var (
		o                      install.Options
		sets, setEnvs          []string
		keyPath                string
		version, configFile    string
		dryRun, noStart, purge bool
		uninstall, downgrade   bool
		reinstall, fromRelease bool
		insecureHTTP           bool
		healthSeconds          int
		method, repoURL        string
		channel                string
	)
	cmd := &cobra.Command{
		Use:   "install [flags] SRC",
		Short: "Verify a signed release and install it on this host (what install.sh does, in Go)",
		Long: `Install, upgrade or remove the release at SRC (a dist or bundle directory, or an
https URL of one) on this host, as install.sh does:

  1. verify release.json's signature with --key before anything else, then its
     expiry and release version (no rollback without --allow-downgrade);
  2. choose the package for this host's package manager and architecture, or
     the release tarball where there is no supported package manager;
  3. download it into a private temporary directory, capped at its signed size,
     and check its sha256;
  4. install it with the package manager from the local file (or unpack the
     tarball and run its maintainer scripts);
  5. set --set key=value in the config file, and --set env.NAME=VALUE as
     NAME="VALUE" in the package's environment file (where the release
     ships one), and restart the service if either changed;
  6. check through the init system that the service runs and stays up.

With --method repo it adds the vendor's package repository (--repo-url, as
omnipack publish made it) to the host's package manager instead, trusting the
release's OpenPGP key (checked against the verified release.json) for that
repository alone, and installs the newest package from it, so that later
versions arrive with the host's own upgrades; the repository must verify
with that key, or the host's repository files are put back as they were.
--uninstall then removes the repository and its key too.

--set values are never printed. --dry-run prints the host, the chosen artifact
and every command, and changes nothing. The installed release is recorded in
/var/lib/omnipack/NAME.release (shared with install.sh).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				o.Source = args[0]
			}
			if o.Source == "" && !uninstall {
				return usageError{errors.New("pass SRC: a dist or bundle directory, or an https URL")}
			}
			if purge && !uninstall {
				return usageError{errors.New("--purge goes with --uninstall")}
			}
			if keyPath == "" && !fromRelease && o.Source != "" {
				return usageError{fmt.Errorf("pass --key PUB, the release public key (release.pub) obtained from a channel you trust; " +
					"or --key-from-release to use SRC's own keys/release.pub, which proves the files are intact but not who made them")}
			}
			for _, s := range sets {
				st, err := install.ParseSetting(s)
				if err != nil {
					return usageError{err}
				}
				o.Plan.Sets = append(o.Plan.Sets, st)
			}
			for _, s := range setEnvs {
				st, err := settingFromEnv(s)
				if err != nil {
					return usageError{err}
				}
				o.Plan.Sets = append(o.Plan.Sets, st)
			}
			if healthSeconds < 1 || healthSeconds > 600 {
				return usageError{errors.New("--health-seconds: use 1 to 600")}
			}
			switch method {
			case "package":
				if repoURL != "" || channel != "" {
					return usageError{errors.New("--repo-url and --channel go with --method repo")}
				}
			case install.MethodRepo:
				if !uninstall {
					ro := install.RepoOptions{URL: repoURL, Channel: channel, InsecureHTTP: insecureHTTP}
					if err := install.CheckRepoOptions(ro); err != nil {
						return usageError{err}
					}
					o.Plan.Repo = &ro
				}
			default:
				return usageError{fmt.Errorf("--method %q: use package (the release's package file) or repo (the vendor's package repository)", method)}
			}
			o.Key = release.KeySpec{Path: keyPath, FromRelease: fromRelease}
			o.InsecureHTTP = insecureHTTP
			o.DryRun = dryRun
			o.Uninstall = uninstall
			o.Plan.Version = version
			o.Plan.AllowDowngrade = downgrade
			o.Plan.Reinstall = reinstall
			o.Plan.NoStart = noStart
			o.Plan.Purge = purge
			o.Plan.ConfigFile = configFile
			o.Plan.HealthSeconds = healthSeconds
			o.Out, o.Log = g.stdout, g.stderr
			if g.json {
				// stdout carries the JSON report only.
				o.Out = g.stderr
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := install.Run(ctx, o)
			if errors.Is(err, install.ErrNoEnvironmentFile) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if g.json {
				g.printJSON(installReport{OK: true, DryRun: dryRun, Changed: res.Changed, Plan: res.Plan})
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&keyPath, "key", "", "release public key `PUB` (PEM, release.pub) to verify release.json with")
	f.BoolVar(&fromRelease, "key-from-release", false, "use SRC's own keys/release.pub when no --key is given (proves integrity, not authorship)")
	f.StringArrayVar(&sets, "set", nil, "set `key=value` in the service's config file, or env.NAME=VALUE in its environment file (repeatable; the value is never printed)")
	f.StringArrayVar(&setEnvs, "set-env", nil, "set `key=VAR` from environment variable VAR, keeping the value out of the process arguments")
	f.StringVar(&version, "version", "", "install only if the release is this `VERSION`")
	f.BoolVar(&dryRun, "dry-run", false, "print the host, the chosen artifact and every command; change nothing")
	f.BoolVar(&uninstall, "uninstall", false, "remove the installed release (SRC may be omitted with --name)")
	f.BoolVar(&purge, "purge", false, "with --uninstall: also delete the config, the state and the accounts the package created")
	f.StringVar(&o.Name, "name", "", "with --uninstall and no SRC: the project `NAME` to remove")
	f.BoolVar(&noStart, "no-start", false, "leave the service stopped: no start, restart or health check")
	f.BoolVar(&downgrade, "allow-downgrade", false, "allow installing a release older than the installed one")
	f.BoolVar(&reinstall, "reinstall", false, "install the package again even when this release is installed")
	f.StringVar(&o.Root, "root", "/", "install into the root file system at `DIR` (commands run through chroot)")
	f.BoolVar(&insecureHTTP, "insecure-http", false, "allow plain http from a host that is not loopback")
	f.StringVar(&configFile, "config-file", "", "config `FILE` that --set edits (relative to /etc/NAME; default /etc/NAME/NAME.toml or the only *.toml there)")
	f.IntVar(&healthSeconds, "health-seconds", 5, "how long the service must stay up after start")
	f.StringVar(&method, "method", "package", "install from the release's package file (`package`) or from the vendor's package repository (repo)")
	f.StringVar(&repoURL, "repo-url", "", "with --method repo: the repository's root `URL` (omnipack publish --url)")
	f.StringVar(&channel, "channel", "", "with --method repo: the repository's `CHANNEL` (default stable)")
	return cmd
}

// settingFromEnv reads "key=VAR": the value of environment variable VAR.
func settingFromEnv(arg string) (install.Setting, error) {
	key, env, ok := strings.Cut(arg, "=")
	if !ok || env == "" {
		return install.Setting{}, errors.New("--set-env takes key=VAR")
	}
	val, ok := os.LookupEnv(env)
	if !ok {
		return install.Setting{}, fmt.Errorf("--set-env %s: environment variable %s is not set", key, env)
	}
	s := install.Setting{Key: key, Value: val}
	return s, install.CheckSetting(s)
}
