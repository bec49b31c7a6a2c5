package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/signing"
)

func newKeygenCmd(g *globals) *cobra.Command {
	var dir string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen",
		Short: "Generate the release, OpenPGP and apk signing keys",
		Long: `Generate the three signing keys omnipack uses, in one key directory:

  release.key, release.pub    ECDSA P-256: release files, checked with cosign or openssl
  pgp.key, pgp.pub.asc        OpenPGP: deb, rpm, Arch and repository signatures
  apk.rsa, apk.rsa.pub        RSA: apk packages and indexes

Private keys are encrypted with one password, read from ` + signing.PasswordEnv + `
or asked for on the terminal, and written with mode 0600. Back them up:
packages signed with lost keys cannot be updated under the same keys.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !force {
				if err := signing.CheckNoKeys(dir); err != nil {
					return usageError{err}
				}
			}
			pw, err := signing.Password(signing.PasswordEnv, true)
			if err != nil {
				return usageError{err}
			}
			info, err := signing.Generate(dir, pw, force)
			if errors.Is(err, signing.ErrKeyExists) || errors.Is(err, signing.ErrNoPassword) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			if g.json {
				g.printJSON(map[string]any{"ok": true, "keys": info})
				return nil
			}
			fmt.Fprintf(g.stdout, "release key  %-*s  sha256 %s\n", width(info), info.Release.Public, info.Release.Fingerprint)
			fmt.Fprintf(g.stdout, "OpenPGP key  %-*s  %s\n", width(info), info.PGP.Public, info.PGP.Fingerprint)
			fmt.Fprintf(g.stdout, "apk key      %-*s  sha256 %s\n", width(info), info.APK.Public, info.APK.Fingerprint)
			fmt.Fprintf(g.stdout, "private keys %s %s %s: mode 0600, encrypted with the password; back them up\n",
				info.Release.Private, info.PGP.Private, info.APK.Private)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", signing.DefaultKeyDir, "key directory")
	cmd.Flags().BoolVar(&force, "force", false, "replace existing keys")
	return cmd
}

// width aligns the public key paths into a column.
func width(info *signing.PublicInfo) int {
	return max(len(info.Release.Public), len(info.PGP.Public), len(info.APK.Public))
}
