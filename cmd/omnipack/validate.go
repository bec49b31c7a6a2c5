package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/config"
	_ "github.com/omnipack/omnipack/packaging/formats" // registers the formats' rules with config
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
				printWarnings(g, cfg)
				g.printJSON(map[string]any{"ok": true, "config": cfg.Path, "notes": cfg.Notes, "warnings": cfg.Warnings})
				return nil
			}
			printWarnings(g, cfg)
			for _, n := range cfg.Notes {
				fmt.Fprintf(g.stdout, "%s: note: %s\n", cfg.Path, n)
			}
			fmt.Fprintf(g.stdout, "%s: ok\n", cfg.Path)
			return nil
		},
	}
}

// printWarnings prints the config's warnings on stderr, with --json too.
func printWarnings(g *globals, cfg *config.Config) {
	for _, w := range cfg.Warnings {
		fmt.Fprintf(g.stderr, "warning: %s\n", w.Error())
	}
}
