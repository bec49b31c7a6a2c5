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
	"github.com/omnipack/omnipack/repo"
	"github.com/omnipack/omnipack/signing"
	"github.com/omnipack/omnipack/verify"
)

func newPublishCmd(g *globals) *cobra.Command {
	opts := repo.Options{}
	var ociRepo string
	cmd := &cobra.Command{
		Use:   "publish --repo DIR [--dist DIR] [--keys DIR] [--channel NAME] [--keep N] [--valid-for DURATION] [--refresh] [--next-key DIR] [--retire-keys] | publish --oci REGISTRY/REPO [--dist DIR] [--keys DIR]",
		Short: "Add a verified release to a signed apt, dnf/zypper, pacman and apk repository tree, or re-sign its metadata",
		Long: `Verify the release in --dist as omnipack verify does, with the key directory's
release.pub, then add its packages to the static repository tree --repo:
earlier versions stay, --keep N keeps the N newest per package and channel,
and every index is re-signed with the key directory's OpenPGP key (apk's
with its RSA key) and, for apt, a Valid-Until --valid-for from now. --refresh re-signs without a release, for a
cron job that keeps Valid-Until in the future. Serve the tree with any web
server; --url is where clients reach it, named in the setup snippets.

Rotating the OpenPGP key: make the new key with omnipack keygen, then
  1. publish (or --refresh) with --next-key NEWDIR: the published keyrings
     (keys/NAME.asc, keys/NAME.gpg, pacman's NAME-trusted) carry both keys
     from now on, recorded in the repository; metadata is still signed by
     the current key, apt's InRelease and Release.gpg also by the new one
     on every run given --next-key. Clients set up now trust both.
  2. once clients have the new keyring, publish with --keys NEWDIR (its
     release key must have signed the release): the new key signs, alone;
     the old key stays in the keyrings.
  3. --retire-keys drops the old key from the keyrings.
A --keys whose key was not announced is refused.

With --oci REGISTRY/REPO, the verified release's image (its .oci.tar) is
pushed there instead: the index under the version's tag and its cosign
signature under sha256-DIGEST.sig (plain http only to a loopback
registry).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("channel") && opts.Refresh {
				opts.Channel = ""
			}
			passwordEnv := signing.PasswordEnv
			if _, err := os.Stat(g.config); err == nil || cmd.Flags().Changed("config") {
				cfg, err := config.Load(g.config)
				if err != nil {
					return err
				}
				passwordEnv = cfg.Signing.PasswordEnv
				if opts.KeyDir == "" && cfg.Signing.KeyDir != "" {
					opts.KeyDir = cfg.Resolve(cfg.Signing.KeyDir)
				}
			}
			if opts.KeyDir == "" {
				return usageError{errors.New("no keys: pass --keys DIR (omnipack keygen's directory) or set [signing] key_dir")}
			}
			if ociRepo != "" {
				if opts.Repo != "" {
					return usageError{errors.New("--oci pushes the image and --repo publishes the packages: run them as two publishes")}
				}
				digest, err := repo.PushImage(cmd.Context(), opts.Dist, opts.KeyDir, ociRepo, nil)
				if err != nil {
					return err
				}
				if g.json {
					g.printJSON(map[string]any{"ok": true, "oci": ociRepo, "index": digest})
					return nil
				}
				fmt.Fprintf(g.stdout, "pushed %s@%s with its signature and SBOM attestations\n", ociRepo, digest)
				return nil
			}
			if opts.Repo == "" {
				return usageError{errors.New("publish needs --repo DIR (the package repository) or --oci REGISTRY/REPO (the image)")}
			}
			password, err := signing.Password(passwordEnv, false)
			if err != nil {
				return usageError{err}
			}
			opts.Password = password
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := repo.Publish(ctx, opts)
			var ie *verify.InputError
			if errors.As(err, &ie) || errors.Is(err, signing.ErrWrongPassword) || errors.Is(err, signing.ErrInsecureMode) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if g.json {
				g.printJSON(map[string]any{"ok": true, "repo": opts.Repo, "result": res})
				return nil
			}
			for _, p := range res.Added {
				fmt.Fprintf(g.stdout, "added   %s\n", p)
			}
			for _, p := range res.Pruned {
				fmt.Fprintf(g.stdout, "pruned  %s\n", p)
			}
			if res.Switched {
				fmt.Fprintf(g.stdout, "switched to OpenPGP key %s\n", res.Keys[0])
			}
			fmt.Fprintf(g.stdout, "%s: repository %s, keys %v, channels %v: %d packages indexed, valid until %s\n",
				opts.Repo, res.Name, res.Keys, res.Channels, res.Indexed, res.ValidUntil.Format(time.RFC3339))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Repo, "repo", "", "repository tree to publish into (created if missing)")
	f.StringVar(&opts.Dist, "dist", defaultDist, "signed release directory to add")
	f.StringVar(&opts.KeyDir, "keys", "", "key directory from omnipack keygen (default: [signing] key_dir)")
	f.StringVar(&opts.Channel, "channel", repo.DefaultChannel, "channel (apt suite) to publish into; with --refresh, default every channel")
	f.StringVar(&opts.Name, "name", "", "repository name: apt Origin, key and setup file names (default: kept, or the keys' owner)")
	f.StringVar(&opts.URL, "url", "", "URL clients reach the repository at, for the setup snippets (default: kept)")
	f.IntVar(&opts.Keep, "keep", 0, "versions kept per package and channel, the newest (0: all)")
	f.DurationVar(&opts.ValidFor, "valid-for", repo.DefaultValidFor, "how long clients trust the metadata (apt Valid-Until)")
	f.BoolVar(&opts.Refresh, "refresh", false, "re-sign the metadata with a fresh Valid-Until; publish no release")
	f.StringVar(&opts.NextKeyDir, "next-key", "", "announce this keygen directory's OpenPGP key as the next signing key (kept in the repository)")
	f.BoolVar(&opts.RetireKeys, "retire-keys", false, "drop the keys that signed before the last switch from the published keyrings")
	f.StringVar(&ociRepo, "oci", "", "push the release's image with its signature and SBOM attestations to this registry repository instead")
	return cmd
}

func newServeCmd(g *globals) *cobra.Command {
	var addr string
	var public bool
	cmd := &cobra.Command{
		Use:   "serve DIR [--addr 127.0.0.1:PORT] [--public]",
		Short: "Serve a repository or a release directory over http, for trying it out",
		Long: `Serve DIR over plain http until interrupted, and print its URL once listening.
It binds only loopback addresses unless --public is given; a production
repository belongs behind a web server with https.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("serve takes one directory (omnipack serve DIR [--addr 127.0.0.1:PORT])")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			err := repo.Serve(ctx, args[0], addr, public, func(url string) {
				fmt.Fprintf(g.stdout, "serving %s at %s/\n", args[0], url)
			})
			if errors.Is(err, repo.ErrNotLoopback) {
				return usageError{err}
			}
			return err
		},
	}
	cmd.Flags().StringVar(&addr, "addr", repo.DefaultAddr, "HOST:PORT to listen on (port 0 picks a free one)")
	cmd.Flags().BoolVar(&public, "public", false, "allow an address other hosts can reach")
	return cmd
}
