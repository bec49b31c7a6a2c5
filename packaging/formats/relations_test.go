package formats

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/packaging"
)

// TestPackageRelations builds every package format with its own package
// name and relations and reads them back with each format's real tool.
func TestPackageRelations(t *testing.T) {
	rel := packaging.Relations{Replaces: []string{"old-probe"}, Conflicts: []string{"rival-probe"}, Provides: []string{"monitoring-agent"}}
	named := map[string]string{"deb": "probe-agent", "rpm": "Probe-Agent", "apk": "probe-agent", "archlinux": "probe-agent"}
	pkgs, _ := buildAllWith(t, func(s *packaging.Spec) {
		s.Packages = map[string]packaging.Relations{}
		for format, name := range named {
			r := rel
			r.Name = name
			s.Packages[format] = r
		}
	})
	for format, name := range named {
		t.Run(format, func(t *testing.T) {
			var got map[string][]string
			switch format {
			case "deb":
				got = fields(lines(t, "dpkg-deb", "-f", pkgs[format], "Package", "Replaces", "Conflicts", "Provides"), ": ")
				got = map[string][]string{"name": got["Package"], "replaces": got["Replaces"], "conflicts": got["Conflicts"], "provides": got["Provides"]}
			case "rpm":
				got = map[string][]string{
					"name":      lines(t, "rpm", "-qp", "--qf", "%{NAME}\n", pkgs[format]),
					"replaces":  lines(t, "rpm", "-qp", "--obsoletes", pkgs[format]),
					"conflicts": lines(t, "rpm", "-qp", "--conflicts", pkgs[format]),
					// rpm adds the package's own name and arch-qualified name.
					"provides": slices.DeleteFunc(lines(t, "rpm", "-qp", "--provides", pkgs[format]), func(p string) bool { return strings.HasPrefix(p, name) }),
				}
			case "apk":
				// GNU tar reads the apk's concatenated gzip streams as one
				// archive with --ignore-zeros.
				out, err := exec.Command("sh", "-c", `gzip -dc "$1" | tar -xO --ignore-zeros .PKGINFO`, "sh", pkgs[format]).Output()
				if err != nil {
					t.Fatalf("reading .PKGINFO with tar: %v", err)
				}
				info := fields(strings.Split(string(out), "\n"), " = ")
				var conflicts []string
				for _, d := range info["depend"] {
					if c, ok := strings.CutPrefix(d, "!"); ok {
						conflicts = append(conflicts, c)
					}
				}
				got = map[string][]string{"name": info["pkgname"], "replaces": info["replaces"], "conflicts": conflicts, "provides": info["provides"]}
			case "archlinux":
				info := fields(lines(t, "pacman", "-Qip", pkgs[format]), " : ")
				got = map[string][]string{"name": info["Name"], "replaces": info["Replaces"], "conflicts": info["Conflicts With"], "provides": info["Provides"]}
			}
			want := map[string][]string{"name": {name}, "replaces": rel.Replaces, "conflicts": rel.Conflicts, "provides": rel.Provides}
			for k, w := range want {
				if !slices.Equal(got[k], w) {
					t.Errorf("%s: %s is %q, want %q", pkgs[format], k, got[k], w)
				}
			}
		})
	}
}

// fields reads "key SEP value" lines, each value trimmed and split at
// ", " and runs of spaces as dpkg and pacman list them; a key may repeat.
func fields(lines []string, sep string) map[string][]string {
	out := map[string][]string{}
	for _, line := range lines {
		k, v, ok := strings.Cut(line, sep)
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		for _, item := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			if item != "None" {
				out[k] = append(out[k], item)
			}
		}
	}
	return out
}

// TestDebPreDependsOnPasswd: a deb whose preinst creates accounts with
// useradd Pre-Depends on passwd, which ships it (Debian policy for a
// non-essential package a preinst needs); a root service's does not.
func TestDebPreDependsOnPasswd(t *testing.T) {
	for _, c := range []struct {
		user string
		want string
	}{{"probe", "passwd"}, {"root", ""}} {
		t.Run(c.user, func(t *testing.T) {
			pkgs, _ := buildAllWith(t, func(s *packaging.Spec) { s.Service.User, s.Service.Group = c.user, c.user })
			out, err := exec.Command("dpkg-deb", "-f", pkgs["deb"], "Pre-Depends").Output()
			if err != nil {
				t.Fatalf("dpkg-deb -f: %v", err)
			}
			if got := strings.TrimSpace(string(out)); got != c.want {
				t.Errorf("Pre-Depends is %q, want %q", got, c.want)
			}
		})
	}
}
