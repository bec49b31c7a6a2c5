package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/install"
)

// bundleReport is the --json form of a bundle made.
type bundleReport struct {
	OK bool `json:"ok"`
	*install.BundleResult
}

func newBundleCmd(g *globals) *cobra.Command {
	var o install.BundleOptions
	cmd := &cobra.Command{
		Use:   "bundle --out DIR",
		Short: "Make an air-gapped bundle of a signed release for offline installs",
		Long: `Copy a signed release (dist/) into a new directory DIR that omnipack install
and install.sh --offline install from without a network: install.sh (when the
dist has one), release.json with its .sig, .sigstore.json and .asc, keys/, a
SHA256SUMS of what the bundle holds, and the packages and tarballs (with
--format and --arch, only those, with their SBOMs and signatures).

release.json's signature is checked against dist/keys/release.pub (or --key)
first, and every artifact's size and sha256 against the manifest while it is
copied. The bundle is written beside DIR and renamed to DIR only when every
check passed: DIR is complete or absent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.Out == "" {
				return usageError{errors.New("pass --out DIR, a new directory for the bundle")}
			}
			if fi, err := os.Stat(o.Dist); err != nil || !fi.IsDir() {
				return usageError{fmt.Errorf("--dist %s is not a directory (fix: run omnipack build, or pass --dist)", o.Dist)}
			}
			if _, err := os.Lstat(o.Out); err == nil {
				return usageError{fmt.Errorf("%s exists (fix: pass a new --out directory)", o.Out)}
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			res, err := install.Bundle(ctx, o)
			if err != nil {
				return err
			}
			if g.json {
				g.printJSON(bundleReport{OK: true, BundleResult: res})
				return nil
			}
			fmt.Fprintf(g.stdout, "bundle %s: %s %s, %d packages, %d files; release.json verified with key sha256:%s, every artifact's sha256 checked\n",
				res.Dir, res.Name, res.Version, len(res.Packages), len(res.Files), res.KeySHA256)
			for _, p := range res.Packages {
				fmt.Fprintf(g.stdout, "  %s\n", p)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.Dist, "dist", "dist", "the signed release `DIR` to bundle")
	f.StringVar(&o.Out, "out", "", "the bundle `DIR` to create (must not exist)")
	f.StringVar(&o.Key, "key", "", "release public key `PUB` (default DIST/keys/release.pub)")
	f.StringSliceVar(&o.Formats, "format", nil, "keep only packages of these formats (deb, rpm, apk, archlinux, tarball)")
	f.StringSliceVar(&o.Archs, "arch", nil, "keep only packages for these architectures (amd64, arm64, ...)")
	return cmd
}
