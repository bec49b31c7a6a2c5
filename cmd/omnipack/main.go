// Command omnipack turns one omnipack.toml into signed, reproducible
// packages for every Linux host. Each subcommand is a thin layer over the
// pipeline packages.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/pipeline"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitInput   = 2
)

// version is set at release time with -ldflags.
var version = "dev"

type globals struct {
	json   bool
	config string
	stdout io.Writer
	stderr io.Writer
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	g := &globals{stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "omnipack",
		Short:         "Package one daemon for every Linux host",
		Version:       version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print machine-readable JSON on stdout")
	root.PersistentFlags().StringVarP(&g.config, "config", "c", config.DefaultFile, "path of omnipack.toml")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(newInitCmd(g), newValidateCmd(g), newBuildCmd(g), newKeygenCmd(g), newDetectCmd(g), newResignCmd(g), newVerifyCmd(g), newInstallCmd(g), newBundleCmd(g), newPublishCmd(g), newServeCmd(g))
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if g.json {
		g.printJSON(errorReport(err))
	} else {
		fmt.Fprintln(stderr, "omnipack: "+indentLines(err.Error()))
	}
	return code
}

// usageError marks bad command-line input.
type usageError struct{ error }

func exitCode(err error) int {
	var ps config.Problems
	var ie pipeline.InputError
	var ue usageError
	switch {
	case errors.As(err, &ps), errors.As(err, &ie), errors.As(err, &ue):
		return exitInput
	default:
		return exitFailure
	}
}

// errorReport is the --json form of a failure.
type errorReportJSON struct {
	OK       bool             `json:"ok"`
	Error    string           `json:"error"`
	Problems []config.Problem `json:"problems,omitempty"`
}

func errorReport(err error) errorReportJSON {
	r := errorReportJSON{Error: err.Error()}
	var ps config.Problems
	if errors.As(err, &ps) {
		r.Problems = ps
	}
	return r
}

func (g *globals) printJSON(v any) {
	enc := json.NewEncoder(g.stdout)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// showProgress is true on an interactive terminal outside CI.
func (g *globals) showProgress() bool {
	if g.json || os.Getenv("CI") != "" {
		return false
	}
	f, ok := g.stderr.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

func indentLines(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		out = append(out, s[i])
		if s[i] == '\n' {
			out = append(out, "  "...)
		}
	}
	return string(out)
}
