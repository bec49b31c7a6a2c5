package config

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a config file, located as precisely as the
// file allows, with what to do about it.
// Its JSON form is part of every command's --json failure report.
type Problem struct {
	File  string `json:"file"`            // path of the config file
	Line  int    `json:"line,omitempty"`  // 1-based; 0 (left out of JSON) when unknown, e.g. a missing key
	Field string `json:"field,omitempty"` // dotted key path, e.g. service.profile or config[1].source
	Msg   string `json:"message"`
	Fix   string `json:"fix,omitempty"` // what the user should do; may be empty
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Field != "" {
		b.WriteString(p.Field)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	if p.Fix != "" {
		b.WriteString(" (fix: ")
		b.WriteString(p.Fix)
		b.WriteString(")")
	}
	return b.String()
}

// Problems is every problem found in one config file. It is the error type
// Load returns for bad input, so callers can tell bad input (exit 2) from
// other failures.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}
