package scripts

import (
	"fmt"
	"strings"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/layout"
)

// initInfo is one enabled init system as the generator needs it.
type initInfo struct {
	name  string
	sh    initsys.Shell
	files []initsys.File
}

// How a fragment's output is handled.
const (
	silent  = iota // a condition: output discarded, an empty fragment is false
	capture        // output said with the prefix
	pass           // output passed on to stderr: a start command's output
	// cannot be captured, as a daemon that inherits the pipe would hang
	// the package manager
	value // stdout is the result, stderr discarded; an empty fragment fails
)

// fragment describes one generated dispatch function: it runs the named
// Shell fragment of the init given as $1.
type fragment struct {
	fn     string
	doc    string
	get    func(initsys.Shell) string
	output int
}

var fragments = []fragment{
	{"init_running", "true when init system INIT is PID 1 and running", func(s initsys.Shell) string { return s.Running }, silent},
	{"init_installed", "true when the root file system would boot INIT", func(s initsys.Shell) string { return s.Installed }, silent},
	{"init_enable", "makes INIT start the service at boot; works offline", func(s initsys.Shell) string { return s.Enable }, capture},
	{"init_disable", "undoes init_enable; works offline", func(s initsys.Shell) string { return s.Disable }, capture},
	{"init_start", "starts the service through INIT", func(s initsys.Shell) string { return s.Start }, pass},
	{"init_stop", "stops the service through INIT", func(s initsys.Shell) string { return s.Stop }, capture},
	{"init_restart", "restarts the service through INIT", func(s initsys.Shell) string { return s.Restart }, pass},
	{"init_start_check", "says what the service will go without here; false when it must not start", func(s initsys.Shell) string { return s.StartCheck }, pass},
	{"init_reload", "makes INIT re-read its service definitions", func(s initsys.Shell) string { return s.Reload }, capture},
	{"init_status", "true when the service runs, as INIT tells", func(s initsys.Shell) string { return s.Status }, silent},
	{"init_pid", "prints the daemon's pid as INIT knows it; false when none is alive, 2 when INIT cannot tell", func(s initsys.Shell) string { return s.PID }, value},
	{"init_log", "prints the service's last log lines from the log INIT keeps; false when there is none", func(s initsys.Shell) string { return s.Log }, value},
}

// dispatch generates the shell functions that hold the init-specific parts,
// keyed by function name. Each runs the fragment in a subshell, so a
// fragment can neither exit the script nor change its variables.
func dispatch(name string, inits []initInfo) map[string]string {
	out := map[string]string{}
	for _, f := range fragments {
		var b strings.Builder
		fmt.Fprintf(&b, "# %s INIT: %s.\n# The fragment runs in a subshell: it can neither exit the script nor\n# change its variables.\n", f.fn, f.doc)
		if f.output != capture {
			b.WriteString("# shellcheck disable=SC2234,SC2235\n")
		}
		fmt.Fprintf(&b, "%s() {\n\tcase \"$1\" in\n", f.fn)
		for _, in := range inits {
			code := strings.TrimSpace(f.get(in.sh))
			if code == "" {
				switch f.output {
				case silent:
					code = "false"
				case value:
					code = "exit 2"
				default:
					code = ":"
				}
			}
			fmt.Fprintf(&b, "\t%s)\n", quote(in.name))
			switch f.output {
			case silent:
				fmt.Fprintf(&b, "\t\t(\n%s\n\t\t) >/dev/null 2>&1\n", indent(code, "\t\t\t"))
			case pass:
				fmt.Fprintf(&b, "\t\t(\n%s\n\t\t) >&2\n", indent(code, "\t\t\t"))
			case capture:
				fmt.Fprintf(&b, "\t\tinit_out=$(\n\t\t\texec 2>&1\n%s\n\t\t)\n", indent(code, "\t\t\t"))
			case value:
				fmt.Fprintf(&b, "\t\t(\n%s\n\t\t) 2>/dev/null </dev/null\n", indent(code, "\t\t\t"))
			}
			b.WriteString("\t\t;;\n")
		}
		b.WriteString("\t*)\n\t\treturn 1\n\t\t;;\n\tesac\n")
		if f.output == capture {
			b.WriteString("\tinit_status=$?\n\tsay_lines \"$init_out\"\n\treturn \"$init_status\"\n")
		}
		b.WriteString("}\n")
		out[f.fn] = b.String()
	}

	var b strings.Builder
	b.WriteString("# init_known INIT: true when this package can drive INIT.\ninit_known() {\n\tcase \"$1\" in\n\t")
	for i, in := range inits {
		if i > 0 {
			b.WriteString(" | ")
		}
		b.WriteString(quote(in.name))
	}
	b.WriteString(")\n\t\treturn 0\n\t\t;;\n\tesac\n\treturn 1\n}\n")
	out["init_known"] = b.String()

	b.Reset()
	b.WriteString("# init_status_hint INIT: prints the command that shows the service's status.\ninit_status_hint() {\n\tcase \"$1\" in\n")
	for _, in := range inits {
		hint := in.sh.StatusHint
		if hint == "" {
			hint = "(" + in.name + " has no status command)"
		}
		fmt.Fprintf(&b, "\t%s)\n\t\tprintf '%%s\\n' %s\n\t\t;;\n", quote(in.name), quote(hint))
	}
	b.WriteString("\tesac\n}\n")
	out["init_status_hint"] = b.String()

	b.Reset()
	b.WriteString("# init_files INIT: installs INIT's files from the package's stage and records\n# them in the new record.\ninit_files() {\n\tcase \"$1\" in\n")
	for _, in := range inits {
		fmt.Fprintf(&b, "\t%s)\n", quote(in.name))
		for i, f := range in.files {
			cont := " &&"
			if i == len(in.files)-1 {
				cont = ""
			}
			lead := "\t\t"
			if i > 0 {
				lead = "\t\t\t"
			}
			fmt.Fprintf(&b, "%sinstall_file %04o %s %s%s\n", lead, f.Mode, quote(layout.Staged(name, in.name, f.Target)), quote(f.Target), cont)
		}
		b.WriteString("\t\t;;\n")
	}
	b.WriteString("\t*)\n\t\treturn 1\n\t\t;;\n\tesac\n}\n")
	out["init_files"] = b.String()

	b.Reset()
	b.WriteString("# detect_init: sets init to the init system to set the service up with and\n" +
		"# online to yes when it runs (the service can be started), or to no when\n" +
		"# only its files and enablement can be put in place. Detection order: the\n" +
		"# init that runs as PID 1 (never inside a chroot); else the init the root\n" +
		"# file system would boot; else the init the record names. init stays empty\n" +
		"# when none is found.\ndetect_init() {\n\tinit=\n\tonline=no\n\tif ! in_chroot; then\n")
	for _, in := range inits {
		fmt.Fprintf(&b, "\t\tif init_running %[1]s; then\n\t\t\tinit=%[1]s\n\t\t\tonline=yes\n\t\t\treturn 0\n\t\tfi\n", quote(in.name))
	}
	b.WriteString("\tfi\n")
	for _, in := range inits {
		fmt.Fprintf(&b, "\tif init_installed %[1]s; then\n\t\tinit=%[1]s\n\t\treturn 0\n\tfi\n", quote(in.name))
	}
	b.WriteString("\tif [ -n \"$old_init\" ] && init_known \"$old_init\"; then\n\t\tinit=$old_init\n\tfi\n\treturn 0\n}\n")
	out["detect_init"] = b.String()
	return out
}

// indent indents a one-line fragment. A fragment of several lines is kept
// verbatim: indenting could break a here-document in it.
func indent(code, prefix string) string {
	if strings.Contains(code, "\n") {
		return code
	}
	return prefix + code
}
