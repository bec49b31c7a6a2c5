package detector

import (
	"strings"
)

// os-release limits: only this much of the file is read, and a longer value
// is rejected unparsed. Real values are a few bytes; the limits keep the
// shell, which parses byte by byte, fast on a hostile file.
const (
	osReleaseMax = 65536
	valueMax     = 1024
)

// osRelease reads ID, ID_LIKE and VERSION_ID from the tree's /etc/os-release,
// or /usr/lib/os-release when that is missing. The file is untrusted input:
// it is parsed as sh would read each assignment, never run. As in sh, the
// last assignment of a key wins. A value sh would not read as one word,
// longer than valueMax, or outside os-release's character set is rejected:
// the ID becomes Unknown, ID_LIKE and VERSION_ID empty.
func (t tree) osRelease() (id string, like []string, version string) {
	id, like = Unknown, []string{}
	var path string
	for _, p := range []string{"/etc/os-release", "/usr/lib/os-release"} {
		if real, ok := t.regular(p); ok {
			path = real
			break
		}
	}
	if path == "" {
		return id, like, ""
	}
	var rawID, rawLike, rawVersion string
	for _, line := range strings.Split(string(readHead(path, osReleaseMax)), "\n") {
		line = strings.TrimLeft(line, " \t")
		key, raw, ok := strings.Cut(line, "=")
		if !ok || (key != "ID" && key != "ID_LIKE" && key != "VERSION_ID") {
			continue
		}
		value, ok := unquote(raw)
		if !ok || len(raw) > valueMax {
			value = "!" // outside the character set: rejected below
		}
		switch key {
		case "ID":
			rawID = value
		case "ID_LIKE":
			rawLike = value
		case "VERSION_ID":
			rawVersion = value
		}
	}
	if valid(rawID) {
		id = rawID
	}
	if valid(rawVersion) {
		version = rawVersion
	}
	// ID_LIKE is a list separated by blanks; one bad word rejects all.
	words := strings.FieldsFunc(rawLike, func(r rune) bool { return r == ' ' || r == '\t' })
	for _, w := range words {
		if !valid(w) {
			return id, like, version
		}
	}
	like = append(like, words...)
	return id, like, version
}

// unquote returns the value of the os-release assignment right-hand side
// raw, read as one shell word without expanding or running anything: '...'
// is literal, "..." takes a backslash before " \ $ ` only, a backslash
// outside quotes takes the next character. Blanks end the word and only a
// comment may follow. It reports false for what sh would not read as one
// word: an unterminated quote, a second word, a trailing backslash (a line
// continuation, which os-release values do not use).
func unquote(raw string) (string, bool) {
	var b strings.Builder
	s := raw
	for s != "" {
		switch c := s[0]; c {
		case '\'':
			end := strings.IndexByte(s[1:], '\'')
			if end < 0 {
				return "", false
			}
			b.WriteString(s[1 : 1+end])
			s = s[2+end:]
		case '"':
			s = s[1:]
			for {
				i := strings.IndexAny(s, "\"\\")
				if i < 0 {
					return "", false
				}
				b.WriteString(s[:i])
				if s[i] == '"' {
					s = s[i+1:]
					break
				}
				s = s[i+1:]
				if s == "" {
					return "", false
				}
				if strings.IndexByte("\"\\$`", s[0]) >= 0 {
					b.WriteByte(s[0])
					s = s[1:]
				} else {
					b.WriteByte('\\')
				}
			}
		case '\\':
			if len(s) < 2 {
				return "", false
			}
			b.WriteByte(s[1])
			s = s[2:]
		case ' ', '\t':
			s = strings.TrimLeft(s, " \t")
			if s == "" || s[0] == '#' {
				return b.String(), true
			}
			return "", false
		default:
			i := strings.IndexAny(s, "\"'\\ \t")
			if i < 0 {
				i = len(s)
			}
			b.WriteString(s[:i])
			s = s[i:]
		}
	}
	return b.String(), true
}
