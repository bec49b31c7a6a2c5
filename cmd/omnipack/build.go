package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/omnipack/omnipack/build"
	"github.com/omnipack/omnipack/config"
)

func newBuildCmd(g *globals) *cobra.Command {
	var dist string
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
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			opts := build.Options{Config: cfg, DistDir: dist, Jobs: jobs}
			if g.showProgress() {
				opts.Progress = func(step string) { fmt.Fprintf(g.stderr, "\r\033[K… %s", step) }
				defer fmt.Fprint(g.stderr, "\r\033[K")
			}
			rel, err := build.Run(ctx, opts)
			if err != nil {
				return err
			}
			if g.json {
				g.printJSON(map[string]any{"ok": true, "dist": dist, "release": rel})
				return nil
			}
			for _, a := range rel.Artifacts {
				fmt.Fprintf(g.stdout, "%-10s %-8s %s\n", a.Format, a.Arch, a.Name)
			}
			fmt.Fprintf(g.stdout, "%s %s: %d packages in %s\n", rel.Name, rel.Version, len(rel.Artifacts), dist)
			return nil
		},
	}
	cmd.Flags().StringVar(&dist, "dist", "dist", "output directory, replaced only when the build succeeds")
	cmd.Flags().IntVar(&jobs, "jobs", 0, "packages written at once (0: one per CPU)")
	return cmd
}
