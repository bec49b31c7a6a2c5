package archlinux

import "strings"

// Vercmp orders two pacman versions ([epoch:]pkgver[-pkgrel]) as libalpm's
// alpm_pkg_vercmp does: -1, 0 or 1. A pacman database holds one entry per
// package name, so the index keeps the newest by this order.
func Vercmp(a, b string) int {
	if a == b {
		return 0
	}
	ea, va, ra := splitEVR(a)
	eb, vb, rb := splitEVR(b)
	if c := rpmvercmp(ea, eb); c != 0 {
		return c
	}
	if c := rpmvercmp(va, vb); c != 0 {
		return c
	}
	if ra != "" && rb != "" {
		return rpmvercmp(ra, rb)
	}
	return 0
}

// splitEVR splits [epoch:]version[-release]; the epoch defaults to 0.
func splitEVR(s string) (epoch, version, release string) {
	epoch = "0"
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == ':' {
		if i > 0 {
			epoch = s[:i]
		}
		s = s[i+1:]
	}
	if j := strings.LastIndexByte(s, '-'); j >= 0 {
		return epoch, s[:j], s[j+1:]
	}
	return epoch, s, ""
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isAlnum(c byte) bool { return isDigit(c) || isAlpha(c) }

// rpmvercmp is libalpm's segment comparison: runs of digits compare as
// numbers, runs of letters as strings, a number beats letters, and a
// remaining letter run is older than nothing (1.0rc1 < 1.0).
func rpmvercmp(a, b string) int {
	if a == b {
		return 0
	}
	one, two := 0, 0 // positions in a and b
	for one < len(a) && two < len(b) {
		start1, start2 := one, two
		for one < len(a) && !isAlnum(a[one]) {
			one++
		}
		for two < len(b) && !isAlnum(b[two]) {
			two++
		}
		if one == len(a) || two == len(b) {
			break
		}
		// Separators of different lengths decide.
		if one-start1 != two-start2 {
			if one-start1 < two-start2 {
				return -1
			}
			return 1
		}
		end1, end2 := one, two
		numeric := isDigit(a[one])
		class := isAlpha
		if numeric {
			class = isDigit
		}
		for end1 < len(a) && class(a[end1]) {
			end1++
		}
		for end2 < len(b) && class(b[end2]) {
			end2++
		}
		if end2 == two { // b's segment is of the other kind
			if numeric {
				return 1
			}
			return -1
		}
		s1, s2 := a[one:end1], b[two:end2]
		if numeric {
			s1, s2 = strings.TrimLeft(s1, "0"), strings.TrimLeft(s2, "0")
			if len(s1) != len(s2) {
				if len(s1) > len(s2) {
					return 1
				}
				return -1
			}
		}
		if c := strings.Compare(s1, s2); c != 0 {
			return c
		}
		one, two = end1, end2
	}
	if one == len(a) && two == len(b) {
		return 0
	}
	if (one == len(a) && !(two < len(b) && isAlpha(b[two]))) || (one < len(a) && isAlpha(a[one])) {
		return -1
	}
	return 1
}
