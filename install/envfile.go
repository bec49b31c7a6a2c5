package install

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	initsys "github.com/omnipack/omnipack/init"
)

// EnvKeyPrefix starts a --set key that names a variable of the service's
// environment file instead of a config key: env.NAME=VALUE.
const EnvKeyPrefix = "env."

// envNameRe is an environment variable name, as systemd and sh take it.
var envNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ErrNoEnvironmentFile: --set env.NAME for a package that ships no
// environment file. It is the user's mistake (exit status 2).
var ErrNoEnvironmentFile = errors.New("the package has no environment file")

// EnvName returns NAME for the setting env.NAME; false for a config key.
func (s Setting) EnvName() (string, bool) {
	return strings.CutPrefix(s.Key, EnvKeyPrefix)
}

// splitSets separates the config keys from the environment file's
// variables, each in the order given.
func splitSets(sets []Setting) (config, env []Setting) {
	for _, s := range sets {
		if _, ok := s.EnvName(); ok {
			env = append(env, s)
		} else {
			config = append(config, s)
		}
	}
	return config, env
}

// envNames are the variables sets name, sorted, each once: what a plan
// shows.
func envNames(sets []Setting) []string {
	var out []string
	for _, s := range sets {
		if n, ok := s.EnvName(); ok {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// quoteState is where a line of an environment file leaves sh's reading:
// outside quotes, or inside a double- or single-quoted string.
type quoteState int

const (
	unquoted quoteState = iota
	inDouble
	inSingle
)

// scanLine reads one line of an environment file as sh does, from the
// state the previous line left, and says whether the next line continues
// it (an open quote, or a backslash before the newline). A # that starts a
// word outside quotes ends the line.
func scanLine(st quoteState, line string) (quoteState, bool) {
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch st {
		case unquoted:
			switch {
			case c == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t'):
				return unquoted, false
			case c == '\\':
				if i == len(line)-1 {
					return unquoted, true
				}
				i++
			case c == '"':
				st = inDouble
			case c == '\'':
				st = inSingle
			}
		case inDouble:
			switch c {
			case '\\':
				if i == len(line)-1 {
					return inDouble, true
				}
				i++
			case '"':
				st = unquoted
			}
		case inSingle:
			if c == '\'' {
				st = unquoted
			}
		}
	}
	return st, st != unquoted
}

// SetEnvFile sets each variable of sets (keys env.NAME) in the environment
// file doc, editing the text so that comments and other lines stay: every
// active NAME=… line (one that starts a statement, not inside another's
// quoted value) becomes NAME="VALUE", else NAME="VALUE" is appended. Values
// are quoted by initsys.EnvFileQuote, the form systemd's EnvironmentFile=
// and sh's "." read alike. A NAME=… value that goes on over more lines, or
// a file that ends inside quotes, is refused: replacing one line of it
// would break the file. A last line without a newline gets one. changed is
// false when doc holds the values already. Errors never quote a value.
func SetEnvFile(doc []byte, sets []Setting) (out []byte, changed bool, err error) {
	text := string(doc)
	for _, s := range sets {
		name, ok := s.EnvName()
		if !ok {
			return nil, false, fmt.Errorf("%s is not an environment variable setting (env.NAME)", s.Key)
		}
		if err := CheckSetting(s); err != nil {
			return nil, false, err
		}
		if text, err = setEnvOne(text, name, s.Value); err != nil {
			return nil, false, err
		}
	}
	return []byte(text), text != string(doc), nil
}

func setEnvOne(text, name, value string) (string, error) {
	assign := regexp.MustCompile(`^([ \t]*)` + name + `=`)
	line := name + "=" + initsys.EnvFileQuote(value)
	lines := strings.Split(text, "\n")
	// The element after a final newline is no line.
	n := len(lines)
	if strings.HasSuffix(text, "\n") {
		n--
	}
	st, continued, found := unquoted, false, false
	for i, l := range lines[:n] {
		starts := !continued
		st, continued = scanLine(st, l)
		m := assign.FindStringSubmatch(l)
		if !starts || m == nil {
			continue
		}
		if continued {
			return "", fmt.Errorf("%s's value goes on over more than one line in the environment file; set it by hand", name)
		}
		lines[i] = m[1] + line
		found = true
	}
	if continued {
		// A line added after it would be read as part of it.
		return "", errors.New("the environment file ends inside a quoted value or with a backslash; fix it by hand first")
	}
	// Every line ends in a newline, as install.sh's awk writes them.
	out := strings.Join(lines, "\n")
	if out != "" && !strings.HasSuffix(out, "\n") {
		out += "\n"
	}
	if found {
		return out, nil
	}
	return out + line + "\n", nil
}
