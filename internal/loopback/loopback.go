// Package loopback tells the host names that omnipack lets plain http
// reach: the ones install.sh's is_loopback accepts, so that every stage
// (the config check, the rendered installer, omnipack install) draws the
// line in the same place.
package loopback

import "regexp"

var ipv4 = regexp.MustCompile(`^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$`)

// Host reports whether host (as url.URL.Hostname gives it, without
// brackets) is localhost, ::1 or a dotted 127.x.y.z address.
func Host(host string) bool {
	return host == "localhost" || host == "::1" || ipv4.MatchString(host)
}
