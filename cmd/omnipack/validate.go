package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/config"
	_ "github.com/omnipack/omnipack/packaging" // registers the package formats' rules
)

func newValidateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "validate",
		Short: "Check omnipack.toml and print every problem",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := config.Load(g.config)
			if err != nil {
				return err
			}
			if g.json {
				g.printJSON(map[string]any{"ok": true, "config": cfg.Path})
				return nil
			}
			fmt.Fprintf(g.stdout, "%s: ok\n", cfg.Path)
			return nil
		},
	}
}
