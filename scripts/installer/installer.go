// Package installer holds the POSIX sh sources that are concatenated into
// install.sh, the `curl | sh` installer, so Go code (the release build, the
// tests) can embed them.
package installer

import _ "embed"

// DetectSh is detect.sh: the functions that detect the host.
//
//go:embed detect.sh
var DetectSh string

// DetectOnlySh is detect-only.sh, which runs detect.sh's --detect-only mode
// from the directory holding both; a test driver until install.sh exists.
//
//go:embed detect-only.sh
var DetectOnlySh string
