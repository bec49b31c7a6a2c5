// Package installer renders install.sh, the `curl | sh` installer of a
// signed release (Render), from the POSIX sh sources in this directory:
// install-head.sh.tmpl (the release's constants), detect.sh (host
// detection, shared with the Go package detector's tests) and
// install-main.sh (everything else).
package installer

import _ "embed"

// DetectSh is detect.sh: the functions that detect the host.
//
//go:embed detect.sh
var DetectSh string

// DetectOnlySh is detect-only.sh, which runs detect.sh's --detect-only mode
// from the directory holding both: the detector tests' driver, which needs
// no keys (install.sh --detect-only runs the same function).
//
//go:embed detect-only.sh
var DetectOnlySh string
