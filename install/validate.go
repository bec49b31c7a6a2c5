package install

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"
)

// configKeyRe is a config key --set may set, as [installer] keys are.
var configKeyRe = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// Setting is one --set key=value. Value is a secret: it is never printed.
type Setting struct {
	Key   string
	Value string
}

// String shows the key only.
func (s Setting) String() string { return s.Key + "=<set>" }

// MaxValueLen bounds a --set value.
const MaxValueLen = 4096

// CheckSetting refuses a key that is neither a bare TOML key nor env.NAME
// with NAME an environment variable name, and a value with a newline or
// another control character (almost always a paste mistake, and never
// printable in a one-line config entry or environment file line). Quotes,
// backslashes and $ are allowed: SetTOML and SetEnvFile escape them. The
// error never quotes the value.
func CheckSetting(s Setting) error {
	if name, ok := s.EnvName(); ok {
		if !envNameRe.MatchString(name) {
			return fmt.Errorf("--set: %q is not env.NAME with NAME an environment variable name (letters, digits and _, not starting with a digit)", s.Key)
		}
	} else if !configKeyRe.MatchString(s.Key) {
		return fmt.Errorf("--set: %q is not a config key (use letters, digits, _ and -) or env.NAME for the environment file", s.Key)
	}
	if len(s.Value) > MaxValueLen {
		return fmt.Errorf("--set %s: the value is longer than %d bytes", s.Key, MaxValueLen)
	}
	if !utf8.ValidString(s.Value) {
		return fmt.Errorf("--set %s: the value is not valid UTF-8", s.Key)
	}
	for _, r := range s.Value {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("--set %s: the value contains a newline or another control character, which is not allowed", s.Key)
		}
	}
	return nil
}

// ParseSetting splits "key=value".
func ParseSetting(arg string) (Setting, error) {
	k, v, ok := strings.Cut(arg, "=")
	if !ok {
		// Never echo arg: it may be a secret typed without its key.
		return Setting{}, fmt.Errorf("--set takes key=value")
	}
	s := Setting{Key: k, Value: v}
	return s, CheckSetting(s)
}

// Refusals of the install itself, which callers and tests tell apart with
// errors.Is (the release's own are in package release).
var (
	ErrRollback    = errors.New("rollback refused")
	ErrUnsupported = errors.New("this host is not supported")
	ErrNotRoot     = errors.New("not running as root")
)
