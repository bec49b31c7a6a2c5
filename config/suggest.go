package config

import (
	"reflect"
	"strconv"
	"strings"
)

// suggest returns the candidate got was most likely meant to be: equal but
// for case, or within a small edit distance of it. ok is false when nothing
// is close, or when two candidates are equally close, since a guess between
// them would mislead.
func suggest(got string, candidates []string) (best string, ok bool) {
	g := strings.ToLower(got)
	limit := 1
	if len(g) > 4 {
		limit = 2
	}
	bestDist := limit + 1
	for _, c := range candidates {
		d := editDistance(g, strings.ToLower(c))
		switch {
		case d < bestDist:
			best, bestDist, ok = c, d, true
		case d == bestDist && c != best:
			ok = false
		}
	}
	return best, ok
}

// editDistance is the optimal string alignment distance: insertions,
// deletions, substitutions and swaps of adjacent bytes each cost one, so
// "licnese" is one edit from "license".
func editDistance(a, b string) int {
	// Three rows suffice: the swap looks two rows back.
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// suggestValue finds the known value got stands for: an alias (x86_64 for
// amd64), the same word in another case, or a near miss.
func suggestValue(got string, known []string, aliases map[string]string) (string, bool) {
	if v, ok := aliases[strings.ToLower(got)]; ok {
		return v, true
	}
	return suggest(got, known)
}

// oneOfFix is the fix for a value that is not one of known: a suggestion
// when one fits, and the list.
func oneOfFix(got string, known []string, aliases map[string]string) string {
	list := "use one of " + strings.Join(known, ", ")
	if s, ok := suggestValue(got, known, aliases); ok {
		return didYouMean(s) + " U" + list[1:]
	}
	return list
}

func didYouMean(s string) string { return "did you mean " + strconv.Quote(s) + "?" }

// reloadSignalAliases accepts the SIG-prefixed spelling of each signal.
func reloadSignalAliases() map[string]string {
	m := map[string]string{}
	for _, s := range ReloadSignals {
		m["sig"+strings.ToLower(s)] = s
	}
	return m
}

// unknownKeyFix says what to do about a key omnipack.toml does not have:
// the key of that table it is closest to, or the table it belongs in.
func unknownKeyFix(key []string) string {
	table, name := key[:len(key)-1], key[len(key)-1]
	known, ok := tableKeys(reflect.TypeFor[Config](), table)
	if ok {
		s, near := suggest(name, known)
		where := tablesWithKey(reflect.TypeFor[Config](), nil, name)
		switch {
		case near && len(where) == 1:
			return didYouMean(s) + " If not, move it to [" + where[0] + "]"
		case near:
			return didYouMean(s)
		case len(where) > 0:
			return "move it to [" + strings.Join(where, "] or [") + "]"
		}
	}
	return "remove it or check its spelling against `omnipack init` output"
}

// tableKeys returns the keys the table at path has in omnipack.toml, read
// from the toml tags of Config. ok is false where the keys are free (a map
// such as service.environment) or the path is no table.
func tableKeys(t reflect.Type, path []string) (keys []string, ok bool) {
	t = tableType(t)
	if t.Kind() != reflect.Struct {
		return nil, false
	}
	if len(path) == 0 {
		for i := range t.NumField() {
			if k := tomlKey(t.Field(i)); k != "" {
				keys = append(keys, k)
			}
		}
		return keys, true
	}
	for i := range t.NumField() {
		if tomlKey(t.Field(i)) == path[0] {
			return tableKeys(t.Field(i).Type, path[1:])
		}
	}
	return nil, false
}

// tablesWithKey lists the dotted tables under t that have key.
func tablesWithKey(t reflect.Type, prefix []string, key string) []string {
	t = tableType(t)
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := range t.NumField() {
		k := tomlKey(t.Field(i))
		if k == "" {
			continue
		}
		if k == key && len(prefix) > 0 {
			out = append(out, strings.Join(prefix, "."))
		}
		out = append(out, tablesWithKey(t.Field(i).Type, append(prefix[:len(prefix):len(prefix)], k), key)...)
	}
	return out
}

// tableType looks through arrays of tables to the table.
func tableType(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func tomlKey(f reflect.StructField) string {
	k, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if k == "-" {
		return ""
	}
	return k
}
