package install

import (
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
)

const sample = `# agent configuration.

# Secret key. Required.
auth_key = ""

# Name of this host.
# node_id = "web-01"

# Read from the start.
# from_start = false

  retries = 3

[limits]
node_id = "not-this-one"
`

func set(t *testing.T, doc string, sets ...Setting) string {
	t.Helper()
	out, _, err := SetTOML([]byte(doc), sets)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

func decode(t *testing.T, doc string) map[string]any {
	t.Helper()
	var m map[string]any
	if _, err := toml.Decode(doc, &m); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	return m
}

func TestSetTOMLReplacesActiveLine(t *testing.T) {
	out := set(t, sample, Setting{"auth_key", "k-123 with spaces & $ymbols 'quoted' #hash"})
	if !strings.Contains(out, "\nauth_key = \"k-123 with spaces & $ymbols 'quoted' #hash\"\n") {
		t.Errorf("not replaced in place:\n%s", out)
	}
	if strings.Count(out, "auth_key =") != 1 {
		t.Errorf("auth_key written more than once:\n%s", out)
	}
	if decode(t, out)["auth_key"] != "k-123 with spaces & $ymbols 'quoted' #hash" {
		t.Error("value does not read back")
	}
	// Everything else is untouched.
	if strings.Replace(out, `auth_key = "k-123 with spaces & $ymbols 'quoted' #hash"`, `auth_key = ""`, 1) != sample {
		t.Errorf("other lines changed:\n%s", out)
	}
}

func TestSetTOMLUncommentsExample(t *testing.T) {
	out := set(t, sample, Setting{"node_id", "db-7"})
	if !strings.Contains(out, "\n# Name of this host.\nnode_id = \"db-7\"\n") {
		t.Errorf("commented example not replaced:\n%s", out)
	}
	m := decode(t, out)
	if m["node_id"] != "db-7" || m["limits"].(map[string]any)["node_id"] != "not-this-one" {
		t.Errorf("wrong table edited: %v", m)
	}
	// Typed by the example: a boolean stays a boolean.
	out = set(t, sample, Setting{"from_start", "true"})
	if !strings.Contains(out, "\nfrom_start = true\n") || decode(t, out)["from_start"] != true {
		t.Errorf("boolean:\n%s", out)
	}
	if _, _, err := SetTOML([]byte(sample), []Setting{{"from_start", "yes-please"}}); err == nil || strings.Contains(err.Error(), "yes-please") {
		t.Errorf("a non-boolean for a boolean: %v", err)
	}
	// An active integer keeps its indentation and type.
	out = set(t, sample, Setting{"retries", "5"})
	if !strings.Contains(out, "\n  retries = 5\n") || decode(t, out)["retries"] != int64(5) {
		t.Errorf("integer:\n%s", out)
	}
}

func TestSetTOMLAppends(t *testing.T) {
	// Before the first table, so the key stays top-level.
	out := set(t, sample, Setting{"region", "eu-1"})
	m := decode(t, out)
	if m["region"] != "eu-1" {
		t.Errorf("not top-level:\n%s", out)
	}
	if i, j := strings.Index(out, "region"), strings.Index(out, "[limits]"); i < 0 || i > j {
		t.Errorf("appended after the table:\n%s", out)
	}
	// Without tables, and without a final newline.
	out = set(t, "a = 1", Setting{"b", "two"})
	if out != "a = 1\nb = \"two\"\n" {
		t.Errorf("%q", out)
	}
	out = set(t, "", Setting{"b", "two"})
	if out != "b = \"two\"\n" {
		t.Errorf("%q", out)
	}
	// A table header right after the last key.
	out = set(t, "a = 1\n[t]\nb = 2\n", Setting{"c", "x"})
	if m := decode(t, out); m["c"] != "x" {
		t.Errorf("%q", out)
	}
}

// TestSetTOMLEscapes: quotes and backslashes are escaped, so that the
// value reads back exactly and cannot end the string early.
func TestSetTOMLEscapes(t *testing.T) {
	for _, v := range []string{`pa"ss`, `back\slash`, `\"`, `"; evil = "1`, `\n is not a newline`, `ends with \`, `'single'`, `""" triple`} {
		out := set(t, sample, Setting{"auth_key", v}, Setting{"region", v})
		m := decode(t, out)
		if m["auth_key"] != v || m["region"] != v {
			t.Errorf("%q read back as %q / %q:\n%s", v, m["auth_key"], m["region"], out)
		}
		if _, ok := m["evil"]; ok {
			t.Errorf("%q injected a key", v)
		}
	}
	if got := set(t, "k = \"\"\n", Setting{"k", `a"b\c`}); got != "k = \"a\\\"b\\\\c\"\n" {
		t.Errorf("%q", got)
	}
}

func TestSetTOMLIdempotent(t *testing.T) {
	s := []Setting{{"auth_key", "abc"}, {"node_id", "n1"}}
	once, changed, err := SetTOML([]byte(sample), s)
	if err != nil || !changed {
		t.Fatal(err, changed)
	}
	twice, changed, err := SetTOML(once, s)
	if err != nil || changed || string(twice) != string(once) {
		t.Errorf("second edit changed the file: %v\n%s", err, twice)
	}
}

func TestSetTOMLRejects(t *testing.T) {
	for _, c := range []struct {
		name string
		doc  string
		s    Setting
		want string
	}{
		{"newline", sample, Setting{"auth_key", "a\nnode_id = \"x\""}, "newline"},
		{"quote in a boolean", sample, Setting{"from_start", `"true"`}, "not one"},
		{"carriage return", sample, Setting{"auth_key", "a\rb"}, "control"},
		{"tab", sample, Setting{"auth_key", "a\tb"}, "control"},
		{"not utf-8", sample, Setting{"auth_key", "a\xffb"}, "UTF-8"},
		{"bad key", sample, Setting{"auth key", "x"}, "not a config key"},
		{"dotted key", sample, Setting{"limits.x", "x"}, "not a config key"},
		{"multi-line value", "auth_key = \"\"\"\nold\n\"\"\"\n", Setting{"auth_key", "x"}, "by hand"},
		{"array", "peers = [\"a\"]\n", Setting{"peers", "x"}, "by hand"},
		{"invalid file", "auth_key = \n", Setting{"auth_key", "x"}, "not valid TOML"},
		{"set twice", "a = 1\na = 2\n", Setting{"a", "3"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := SetTOML([]byte(c.doc), []Setting{c.s})
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q lacks %q", err, c.want)
			}
			if len(c.s.Value) > 2 && strings.Contains(err.Error(), c.s.Value) {
				t.Errorf("the error shows the value: %v", err)
			}
		})
	}
}

func TestParseSetting(t *testing.T) {
	if s, err := ParseSetting("auth_key=a=b"); err != nil || s.Key != "auth_key" || s.Value != "a=b" {
		t.Errorf("%+v %v", s, err)
	}
	if s, err := ParseSetting("k="); err != nil || s.Value != "" {
		t.Errorf("empty value: %+v %v", s, err)
	}
	if _, err := ParseSetting("justasecret"); err == nil || strings.Contains(err.Error(), "justasecret") {
		t.Errorf("no '=': %v", err)
	}
	if got := (Setting{"auth_key", "secret"}).String(); got != "auth_key=<set>" {
		t.Error(got)
	}
}
