package install

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// SetTOML sets each key of sets in the top-level table of the TOML
// document doc, editing the text in place so comments and layout stay:
//
//   - an active `key = …` line is replaced;
//   - else the first commented example `# key = …` is uncommented and
//     replaced;
//   - else `key = "value"` is added at the end of the top-level table
//     (before the first [table] header).
//
// Values are written as TOML basic strings (quotes and backslashes
// escaped), unless the line replaced shows a boolean, integer or float,
// in which case the value must be such a literal. Values with newlines or
// control characters are refused (CheckSetting).
// The result is parsed again and must hold exactly the values set;
// anything else is an error and doc is not to be written. Errors never
// quote a value. changed is false when the document already held them.
func SetTOML(doc []byte, sets []Setting) (out []byte, changed bool, err error) {
	var before map[string]any
	if _, err := toml.Decode(string(doc), &before); err != nil {
		return nil, false, fmt.Errorf("the config file is not valid TOML (%v); fix it by hand first", err)
	}
	text := string(doc)
	want := map[string]any{}
	for _, s := range sets {
		if err := CheckSetting(s); err != nil {
			return nil, false, err
		}
		var v any
		if text, v, err = setOne(text, s); err != nil {
			return nil, false, err
		}
		want[s.Key] = v
	}
	var after map[string]any
	if _, err := toml.Decode(text, &after); err != nil {
		return nil, false, fmt.Errorf("editing the config would leave invalid TOML (%v); set the keys by hand", err)
	}
	for k, v := range want {
		if !reflect.DeepEqual(after[k], v) {
			return nil, false, fmt.Errorf("editing the config did not set %s; set it by hand", k)
		}
	}
	return []byte(text), text != string(doc), nil
}

var headerRe = regexp.MustCompile(`^\s*\[`)

// setOne edits one key and returns the value as the TOML decoder will
// read it back.
func setOne(text string, s Setting) (string, any, error) {
	lines := strings.SplitAfter(text, "\n")
	active := regexp.MustCompile(`^([ \t]*)` + regexp.QuoteMeta(s.Key) + `[ \t]*=[ \t]*(.*?)[ \t\r]*\n?$`)
	commented := regexp.MustCompile(`^([ \t]*)#[ \t]*` + regexp.QuoteMeta(s.Key) + `[ \t]*=[ \t]*(.*?)[ \t\r]*\n?$`)
	end := len(lines) // first line of the first table
	activeAt, commentAt := -1, -1
	inMulti := ""
	for i, l := range lines {
		if inMulti != "" {
			if strings.Count(l, inMulti)%2 == 1 {
				inMulti = ""
			}
			continue
		}
		if headerRe.MatchString(l) {
			end = i
			break
		}
		if m := active.FindStringSubmatch(l); m != nil {
			if activeAt >= 0 {
				return "", nil, fmt.Errorf("%s is set twice in the config file", s.Key)
			}
			activeAt = i
		} else if commentAt < 0 && commented.MatchString(l) {
			commentAt = i
		}
		for _, q := range []string{`"""`, `'''`} {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") && strings.Count(l, q)%2 == 1 {
				inMulti = q
			}
		}
	}
	at, re := activeAt, active
	if at < 0 {
		at, re = commentAt, commented
	}
	if at < 0 {
		line := s.Key + " = " + tomlString(s.Value) + "\n"
		if end == len(lines) {
			if text != "" && !strings.HasSuffix(text, "\n") {
				line = "\n" + line
			}
			return text + line, s.Value, nil
		}
		// Before the first header, after the blank lines that end the
		// top-level table, so the key cannot fall into the table.
		ins := end
		for ins > 0 && strings.TrimSpace(lines[ins-1]) == "" {
			ins--
		}
		out := append(append(append([]string{}, lines[:ins]...), line), lines[ins:]...)
		if ins == end {
			out = append(append(append([]string{}, lines[:ins]...), line, "\n"), lines[ins:]...)
		}
		return strings.Join(out, ""), s.Value, nil
	}
	m := re.FindStringSubmatch(lines[at])
	indent, old := m[1], m[2]
	literal, value, err := literalFor(s, old, at == activeAt)
	if err != nil {
		return "", nil, err
	}
	nl := ""
	if strings.HasSuffix(lines[at], "\n") {
		nl = "\n"
	}
	lines[at] = indent + s.Key + " = " + literal + nl
	return strings.Join(lines, ""), value, nil
}

// literalFor writes the value as the old value's type: a string unless the
// old line held a boolean or number.
func literalFor(s Setting, old string, active bool) (string, any, error) {
	var probe map[string]any
	if _, err := toml.Decode("x = "+old, &probe); err != nil {
		if active {
			// A multi-line string or array, or an inline comment we do
			// not understand: do not guess.
			return "", nil, fmt.Errorf("%s in the config file has a value this editor does not replace (multi-line or unusual); set it by hand", s.Key)
		}
		return tomlString(s.Value), s.Value, nil
	}
	switch probe["x"].(type) {
	case string:
		return tomlString(s.Value), s.Value, nil
	case bool, int64, float64:
		var got map[string]any
		_, err := toml.Decode("x = "+s.Value, &got)
		if err == nil && reflect.TypeOf(got["x"]) == reflect.TypeOf(probe["x"]) {
			return s.Value, got["x"], nil
		}
		return "", nil, fmt.Errorf("%s is a %s in the config file; the value given is not one", s.Key, typeName(probe["x"]))
	default:
		if active {
			return "", nil, fmt.Errorf("%s in the config file is a %s, which --set does not write; set it by hand", s.Key, typeName(probe["x"]))
		}
		return tomlString(s.Value), s.Value, nil
	}
}

// tomlString is v as a TOML basic string. CheckSetting has refused control
// characters, so only backslashes and quotes need escaping.
func tomlString(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(v) + `"`
}

func typeName(v any) string {
	switch v.(type) {
	case bool:
		return "boolean"
	case int64:
		return "integer"
	case float64:
		return "float"
	case []any:
		return "array"
	case map[string]any:
		return "table"
	}
	return "value of another type"
}

var errNoConfig = errors.New("no config file")
