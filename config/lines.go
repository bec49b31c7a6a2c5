package config

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// keyLines maps dotted key paths to the 1-based line where each key is set.
// BurntSushi/toml keeps key positions private, so this small scanner finds
// them for error messages. Arrays of tables are indexed: [[config]] blocks
// become config[0], config[1], and so on. It understands the subset of TOML
// that omnipack.toml uses; an unknown position is simply left out.
func keyLines(data []byte) map[string]int {
	lines := make(map[string]int)
	arrayCount := make(map[string]int)
	table := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	inMultiline := false
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if inMultiline {
			if strings.Contains(line, `"""`) || strings.Contains(line, `'''`) {
				inMultiline = false
			}
			continue
		}
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, "[["):
			name := strings.TrimSpace(strings.Trim(stripComment(line), "[]"))
			table = fmt.Sprintf("%s[%d]", name, arrayCount[name])
			arrayCount[name]++
			lines[table] = n
			continue
		case strings.HasPrefix(line, "["):
			table = strings.TrimSpace(strings.Trim(stripComment(line), "[]"))
			lines[table] = n
			continue
		}
		eq := strings.Index(line, "=")
		if eq <= 0 {
			continue
		}
		key := strings.Trim(strings.TrimSpace(line[:eq]), `"'`)
		full := key
		if table != "" {
			full = table + "." + key
		}
		if _, seen := lines[full]; !seen {
			lines[full] = n
		}
		rest := line[eq+1:]
		if strings.Count(rest, `"""`) == 1 || strings.Count(rest, `'''`) == 1 {
			inMultiline = true
		}
	}
	return lines
}

func stripComment(s string) string {
	if i := strings.Index(s, "#"); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// lineOf returns the line of the most specific known prefix of field, so
// that a problem with config[1].mode points at least at its [[config]].
func lineOf(lines map[string]int, field string) int {
	for f := field; f != ""; {
		if n, ok := lines[f]; ok {
			return n
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

// locateKey finds where a key from the TOML metadata is set. That metadata
// has no indexes for arrays of tables, so "config.mode" is matched against
// "config[1].mode" and the like, and the indexed field is returned.
func locateKey(lines map[string]int, field string) (string, int) {
	if n, ok := lines[field]; ok {
		return field, n
	}
	best, bestLine := field, 0
	for f, n := range lines {
		if indexRe.ReplaceAllString(f, "") == field && (bestLine == 0 || n < bestLine) {
			best, bestLine = f, n
		}
	}
	if bestLine == 0 {
		return field, lineOf(lines, field)
	}
	return best, bestLine
}

var indexRe = regexp.MustCompile(`\[\d+\]`)
