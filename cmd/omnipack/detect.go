package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/detector"
)

// detectReport is the --json form: the facts plus ok, like every other
// command's JSON.
type detectReport struct {
	OK bool `json:"ok"`
	detector.Facts
}

func newDetectCmd(g *globals) *cobra.Command {
	var root string
	cmd := &cobra.Command{
		Use:   "detect",
		Short: "Print what the installer detects about this host or a root file system",
		Long: "Print what install.sh detects: architecture, libc, distribution, package manager\n" +
			"and format, running init, container and privilege. With --root, the tree at DIR\n" +
			"is examined instead of this host, and what a tree cannot show is \"unknown\".",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			facts, err := detector.Detect(root)
			if err != nil {
				// Detect fails only on a root that is not a directory.
				return usageError{fmt.Errorf("%w (fix: pass --root the directory of a root file system)", err)}
			}
			if g.json {
				g.printJSON(detectReport{OK: true, Facts: facts})
				return nil
			}
			fmt.Fprint(g.stdout, facts.Text())
			return nil
		},
	}
	cmd.Flags().StringVar(&root, "root", "/", "examine the root file system at `DIR` instead of this host")
	return cmd
}
