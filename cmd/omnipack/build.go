package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/pipeline"
	"github.com/omnipack/omnipack/signing"
)

// defaultDist is where build writes the release and resign finds it.
const defaultDist = "dist"

func newBuildCmd(g *globals) *cobra.Command {
	var dist, keyDir string
	var jobs int
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build every package into dist/ and write release.json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(g.config)
			if err != nil {
				return err
			}
			for _, n := range cfg.Notes {
				fmt.Fprintf(g.stderr, "%s: note: %s\n", cfg.Path, n)
			}
			printWarnings(g, cfg)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts := pipeline.Options{Config: cfg, DistDir: dist, Jobs: jobs, OmnipackVersion: version}
			if keyDir == "" && cfg.Signing.KeyDir != "" {
				keyDir = cfg.Resolve(cfg.Signing.KeyDir)
			}
			if keyDir != "" {
				if opts.Keys, err = loadKeys(keyDir, cfg); err != nil {
					return err
				}
			}
			var warnings []string
			opts.Warn = func(msg string) { warnings = append(warnings, msg) }
			if g.showProgress() {
				opts.Progress = func(step string) { fmt.Fprintf(g.stderr, "\r\033[K… %s", step) }
				defer fmt.Fprint(g.stderr, "\r\033[K")
			}
			rel, err := pipeline.Run(ctx, opts)
			if err != nil {
				return err
			}
			// On stderr even with --json, whose stdout is the report alone.
			for _, w := range warnings {
				if opts.Progress != nil {
					fmt.Fprint(g.stderr, "\r\033[K")
				}
				fmt.Fprintln(g.stderr, "omnipack: warning: "+w)
			}
			if g.json {
				g.printJSON(map[string]any{"ok": true, "dist": dist, "release": rel})
				return nil
			}
			for _, a := range rel.Artifacts {
				fmt.Fprintf(g.stdout, "%-10s %-8s %s\n", a.Format, a.Arch, a.Name)
			}
			fmt.Fprintf(g.stdout, "%s %s: %d files in %s\n", rel.Name, rel.Version, len(rel.Artifacts), dist)
			return nil
		},
	}
	cmd.Flags().StringVar(&dist, "dist", defaultDist, "output directory, replaced only when the build succeeds")
	cmd.Flags().IntVar(&jobs, "jobs", 0, "packages written at once (0: one per CPU)")
	cmd.Flags().StringVar(&keyDir, "keys", "", "key directory from omnipack keygen (default: [signing] key_dir); signs the release")
	return cmd
}

// loadKeys reads the key password (environment or terminal, never a flag)
// and loads the release's keys. A wrong password or an unsafe key file is
// bad input.
func loadKeys(dir string, cfg *config.Config) (*pipeline.Keys, error) {
	password, err := signing.Password(cfg.Signing.PasswordEnv, false)
	if err != nil {
		return nil, usageError{err}
	}
	owner := cfg.Project.Vendor
	if owner == "" {
		owner = cfg.Project.Name
	}
	keys, err := pipeline.LoadKeys(dir, owner, password)
	if err != nil {
		if errors.Is(err, signing.ErrWrongPassword) || errors.Is(err, signing.ErrInsecureMode) || errors.Is(err, os.ErrNotExist) {
			return nil, usageError{err}
		}
		return nil, err
	}
	return keys, nil
}

func newResignCmd(g *globals) *cobra.Command {
	var dist, keyDir string
	cmd := &cobra.Command{
		Use:   "resign",
		Short: "Renew the signature and expiry of a built release without rebuilding",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(g.config)
			if err != nil {
				return err
			}
			if keyDir == "" {
				if cfg.Signing.KeyDir == "" {
					return usageError{errors.New("no keys: pass --keys DIR or set [signing] key_dir")}
				}
				keyDir = cfg.Resolve(cfg.Signing.KeyDir)
			}
			keys, err := loadKeys(keyDir, cfg)
			if err != nil {
				return err
			}
			validity, err := config.ParseValidity(cfg.Signing.Expires)
			if err != nil {
				return usageError{err}
			}
			rel, err := pipeline.Resign(dist, keys, time.Now(), validity)
			if err != nil {
				return err
			}
			if g.json {
				g.printJSON(map[string]any{"ok": true, "dist": dist, "release_version": rel.ReleaseVersion, "expires": rel.Expires})
				return nil
			}
			fmt.Fprintf(g.stdout, "%s: release version %d, expires %s\n", dist, rel.ReleaseVersion, rel.Expires.Format(time.RFC3339))
			return nil
		},
	}
	cmd.Flags().StringVar(&dist, "dist", defaultDist, "release directory to re-sign")
	cmd.Flags().StringVar(&keyDir, "keys", "", "key directory (default: [signing] key_dir)")
	return cmd
}
