package main

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

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
packages signed with lost keys cannot be updated under the same keys.

The default directory, keys/, is one omnipack init adds to .gitignore. In a
git checkout that does not ignore the directory, keygen warns.`,
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
			if w := trackedKeysWarning(dir); w != "" {
				fmt.Fprintln(g.stderr, "omnipack: warning: "+w)
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

// trackedKeysWarning says so when the key directory is inside a git
// checkout that does not ignore it: the private keys would be one
// "git add ." away from being committed. Outside git it returns "".
func trackedKeysWarning(dir string) string {
	check := exec.Command("git", "check-ignore", "-q", signing.ReleaseKeyFile)
	check.Dir = dir
	var exit *exec.ExitError
	// Exit status 1 is "not ignored"; 0 is ignored, 128 not a checkout.
	if err := check.Run(); !errors.As(err, &exit) || exit.ExitCode() != 1 {
		return ""
	}
	pattern := dir
	top := exec.Command("git", "rev-parse", "--show-toplevel")
	top.Dir = dir
	if out, err := top.Output(); err == nil {
		abs, _ := filepath.Abs(dir)
		root := strings.TrimSpace(string(out))
		if real, err := filepath.EvalSymlinks(abs); err == nil {
			abs = real
		}
		if rel, err := filepath.Rel(root, abs); err == nil {
			pattern = "/" + filepath.ToSlash(rel) + "/"
		}
	}
	return fmt.Sprintf("the key directory %s is inside a git checkout that does not ignore it: "+
		"add %s to .gitignore so the private keys are never committed", dir, pattern)
}

// width aligns the public key paths into a column.
func width(info *signing.PublicInfo) int {
	return max(len(info.Release.Public), len(info.PGP.Public), len(info.APK.Public))
}
