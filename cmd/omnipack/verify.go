package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/verify"
)

func newVerifyCmd(g *globals) *cobra.Command {
	var key string
	cmd := &cobra.Command{
		Use:   "verify [--key PUB] DIR|URL",
		Short: "Check a signed release: signatures, digests, SBOMs and provenance",
		Long: `Check a signed release directory, or an http(s) URL of one, in this order:

  manifest signature  release.json against release.json.sig and its sigstore bundle
  expiry              release.json's signed expiry time
  artifact            every file's size and sha256 against release.json, and SHA256SUMS
  key                 keys/ holds the keys release.json names
  package signature   deb _gpgorigin, rpm header signatures, apk .SIGN.RSA, Arch PKG.sig,
                      release.json.asc
  sbom                every SBOM lists its package's files and sha256
  provenance          the DSSE-signed provenance covers exactly the release's artifacts

Pass --key with the release.pub you trust. Without it the release's own
keys/release.pub is used, which proves the release is intact, not who made it.
A URL's files are downloaded to a private temporary directory, each capped at
the size the signed release.json states.`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{errors.New("verify takes one release directory or URL (omnipack verify [--key PUB] DIR|URL)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := verify.Release(cmd.Context(), args[0], verify.Options{PublicKey: key})
			var ie *verify.InputError
			if errors.As(err, &ie) {
				return usageError{err}
			}
			if err != nil {
				return err
			}
			verdict := rep.Err()
			if g.json {
				out := verifyReport{Report: &rep}
				if verdict != nil {
					out.Error = verdict.Error()
				}
				g.printJSON(out)
				// The report is the JSON answer; main must not print a
				// second document for the failure, only the message.
				g.json = false
			} else {
				printReport(g, &rep)
			}
			return verdict
		},
	}
	cmd.Flags().StringVar(&key, "key", "", "release public key to trust (PEM); default: the release's own keys/release.pub")
	return cmd
}

// verifyReport is the --json form: the report, and on failure the error
// every command's failure report carries.
type verifyReport struct {
	*verify.Report
	Error string `json:"error,omitempty"`
}

// printReport writes one line per check, then a verdict, with the warning
// both first and last so that it is seen.
func printReport(g *globals, rep *verify.Report) {
	if rep.Warning != "" {
		fmt.Fprintf(g.stdout, "WARNING: %s\n", rep.Warning)
	}
	nameW, fileW := 0, 0
	for _, c := range rep.Checks {
		nameW, fileW = max(nameW, len(c.Name)), max(fileW, len(c.File))
	}
	failed := 0
	for _, c := range rep.Checks {
		status := "ok"
		if !c.OK {
			status = "FAIL"
			failed++
		}
		fmt.Fprintf(g.stdout, "%-4s  %-*s  %-*s  %s\n", status, nameW, c.Name, fileW, c.File, c.Detail)
	}
	if failed > 0 {
		f := rep.FirstFailure()
		fmt.Fprintf(g.stdout, "FAIL: %d of %d checks failed; first: %s %s\n", failed, len(rep.Checks), f.Name, f.File)
		return
	}
	verdict := fmt.Sprintf("ok: %s %s (release version %d): all %d checks passed, release key sha256:%s",
		rep.Name, rep.Version, rep.ReleaseVersion, len(rep.Checks), rep.Key.SHA256)
	if rep.Key.FromRelease {
		verdict += "; integrity only, the key came from the release itself (see WARNING)"
	}
	fmt.Fprintln(g.stdout, verdict)
}
