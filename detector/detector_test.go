package detector

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	initsys "github.com/omnipack/omnipack/init"
	"github.com/omnipack/omnipack/init/inits"
	"github.com/omnipack/omnipack/scripts/installer"
)

// expectation is one row of testdata/os-release/EXPECTED.tsv.
type expectation struct {
	file, format, pm, note string
}

func readExpected(t *testing.T) []expectation {
	t.Helper()
	b, err := os.ReadFile("testdata/os-release/EXPECTED.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var rows []expectation
	for _, line := range strings.Split(string(b), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) < 3 {
			t.Fatalf("EXPECTED.tsv: short line %q", line)
		}
		e := expectation{file: f[0], format: f[1], pm: f[2]}
		if len(f) > 3 {
			e.note = f[3]
		}
		rows = append(rows, e)
	}
	return rows
}

// TestFixtures runs Detect and detect.sh (dash, BusyBox ash, bash) on a tree
// holding only each fixture as etc/os-release: the package format and
// manager must be EXPECTED.tsv's, and all answers equal.
func TestFixtures(t *testing.T) {
	rows := readExpected(t)
	listed := map[string]bool{}
	for _, e := range rows {
		listed[e.file] = true
	}
	entries, err := os.ReadDir("testdata/os-release")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "EXPECTED.tsv" && !listed[e.Name()] {
			t.Errorf("fixture %s has no row in EXPECTED.tsv", e.Name())
		}
	}
	shs := shells(t, false)
	_, script := scripts(t)
	for _, e := range rows {
		t.Run(e.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata/os-release", e.file))
			if err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			writeTree(t, root, map[string]string{"etc/os-release": string(body)})
			f := agree(t, root, shs, script)
			if f.PackageFormat != e.format || f.PackageManager != e.pm {
				t.Errorf("got %s/%s, EXPECTED.tsv says %s/%s (%s)", f.PackageFormat, f.PackageManager, e.format, e.pm, e.note)
			}
			want := "package_format=" + e.format + " package_manager=" + e.pm + "\n"
			if !strings.HasPrefix(f.Text(), want) {
				t.Errorf("output does not start with %q:\n%s", want, f.Text())
			}
			// A tree shows no running system: nothing may come from the host.
			if f.Init != Unknown || f.Privilege != Unknown || f.Arch != Unknown || f.Libc != Unknown || f.Container != None {
				t.Errorf("host facts leaked into a tree: %+v", f)
			}
			if f.DistroID == Unknown {
				t.Errorf("no distro id read from %s", e.file)
			}
		})
	}
}

// TestFixtureDistroFields pins the os-release fields of a few fixtures, so
// the parser is checked against known answers, not only against the shell.
func TestFixtureDistroFields(t *testing.T) {
	for _, c := range []struct {
		file, id, like, version string
	}{
		{"linuxmint-21.3", "linuxmint", "ubuntu debian", "21.3"},
		{"rocky-9.4", "rocky", "rhel centos fedora", "9.4"},
		{"centos-7", "centos", "rhel fedora", "7"},
		{"alpine-3.20", "alpine", "", "3.20.3"},
		{"arch", "arch", "", ""},
		{"fedora-41", "fedora", "", "41"},
		{"opensuse-leap-15.6", "opensuse-leap", "suse opensuse", "15.6"},
		{"nixos-24.05", "nixos", "", "24.05"},
	} {
		body, err := os.ReadFile(filepath.Join("testdata/os-release", c.file))
		if err != nil {
			t.Fatal(err)
		}
		root := t.TempDir()
		writeTree(t, root, map[string]string{"etc/os-release": string(body)})
		f, err := Detect(root)
		if err != nil {
			t.Fatal(err)
		}
		if f.DistroID != c.id || strings.Join(f.DistroLike, " ") != c.like || f.DistroVersion != c.version {
			t.Errorf("%s: got %q %q %q, want %q %q %q", c.file, f.DistroID, f.DistroLike, f.DistroVersion, c.id, c.like, c.version)
		}
	}
}

// TestOsReleaseLocation: /usr/lib/os-release is the fallback, and symlinks,
// absolute ones too, are followed inside the tree.
func TestOsReleaseLocation(t *testing.T) {
	body, err := os.ReadFile("testdata/os-release/ubuntu-24.04")
	if err != nil {
		t.Fatal(err)
	}
	shs := shells(t, false)
	_, script := scripts(t)
	for name, files := range map[string]map[string]string{
		"usr-lib only":      {"usr/lib/os-release": string(body)},
		"relative symlink":  {"usr/lib/os-release": string(body), "etc/os-release": "->../usr/lib/os-release"},
		"absolute symlink":  {"usr/lib/os-release": string(body), "etc/os-release": "->/usr/lib/os-release"},
		"etc is a dir":      {"usr/lib/os-release": string(body), "etc/os-release": "dir"},
		"dangling etc link": {"usr/lib/os-release": string(body), "etc/os-release": "->/nowhere"},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, files)
			f := agree(t, root, shs, script)
			if f.DistroID != "ubuntu" || f.PackageManager != "apt" {
				t.Errorf("got %s %s, want ubuntu apt", f.DistroID, f.PackageManager)
			}
		})
	}
	t.Run("none", func(t *testing.T) {
		f := agree(t, t.TempDir(), shs, script)
		if f.DistroID != Unknown || f.PackageFormat != "tarball" || f.PackageManager != None {
			t.Errorf("empty tree: %+v", f)
		}
	})
}

// TestUnquote checks the os-release value parser on sh's quoting rules, in Go
// and in each shell's detect_unquote.
func TestUnquote(t *testing.T) {
	cases := []struct {
		raw, want string
		ok        bool
	}{
		{`debian`, "debian", true},
		{`"debian"`, "debian", true},
		{`'debian'`, "debian", true},
		{`"rhel fedora"`, "rhel fedora", true},
		{`'a b'"c d"e\ f`, "a bc de f", true},
		{`"a"'b'c`, "abc", true},
		{`'it''s'`, "its", true},
		{`"a\"b"`, `a"b`, true},
		{`"a\\b"`, `a\b`, true},
		{`"a\$b"`, `a$b`, true},
		{"\"a\\`b\"", "a`b", true},
		{`"a\nb"`, `a\nb`, true},
		{`'a\b'`, `a\b`, true},
		{`a\b`, `ab`, true},
		{`a\ b`, `a b`, true},
		{`""`, "", true},
		{``, "", true},
		{`"$(touch x)"`, "$(touch x)", true},
		{"`touch`", "`touch`", true},
		{"\"`touch x`\"", "`touch x`", true},
		{"`touch x`", "", false},
		{`${PATH}`, "${PATH}", true},
		{`debian;rm`, "debian;rm", true},
		{`a#b`, "a#b", true},
		{`"*"`, "*", true},
		{`[a-z]*`, "[a-z]*", true},
		{"\"tab\tin\"", "tab\tin", true},
		{`"é"`, "é", true},
		{`debian # comment`, "debian", true},
		{"debian \t ", "debian", true},
		{`"unterminated`, "", false},
		{`'unterminated`, "", false},
		{`"a\`, "", false},
		{`trailing\`, "", false},
		{`two words`, "", false},
		{`"a" b`, "", false},
		{`debian; touch x`, "", false},
	}
	for _, c := range cases {
		got, ok := unquote(c.raw)
		if ok != c.ok || (ok && got != c.want) {
			t.Errorf("unquote(%q) = %q, %v; want %q, %v", c.raw, got, ok, c.want, c.ok)
		}
	}
	detectSh, _ := scripts(t)
	probe := filepath.Join(t.TempDir(), "probe.sh")
	if err := os.WriteFile(probe, []byte(`. "$1"
if detect_unquote "$2"; then printf 'ok[%s]' "$detect_word"; else printf 'bad'; fi
`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sh := range shells(t, false) {
		for _, c := range cases {
			want := "bad"
			if c.ok {
				want = "ok[" + c.want + "]"
			}
			out, errOut, code := runShell(t, sh, probe, detectSh, c.raw)
			if out != want || errOut != "" || code != 0 {
				t.Errorf("%s detect_unquote %q: got %q (exit %d, stderr %q), want %q", sh.name, c.raw, out, code, errOut, want)
			}
		}
	}
}

// elf returns an ELF header of the given class, byte order and e_machine,
// followed by interp, which stands for the program interpreter's path.
func elf(class, order byte, machine uint16, interp string) string {
	h := make([]byte, 64)
	copy(h, "\x7fELF")
	h[4], h[5], h[6] = class, order, 1
	if order == elfLittle {
		h[18], h[19] = byte(machine), byte(machine>>8)
	} else {
		h[18], h[19] = byte(machine>>8), byte(machine)
	}
	return string(h) + interp + "\x00"
}

// TestTreeArchAndLibc: a tree's architecture comes from its package tool
// files or the ELF header of its /bin/sh, its libc from /bin/sh's
// interpreter or its loaders; never from the host.
func TestTreeArchAndLibc(t *testing.T) {
	cases := []struct {
		name       string
		files      map[string]string
		arch, libc string
	}{
		{"amd64 glibc, usrmerge", map[string]string{"bin": "->usr/bin", "usr/bin/dash": elf(2, 1, 0x3e, "/lib64/ld-linux-x86-64.so.2"), "usr/bin/sh": "->dash"}, "amd64", "glibc"},
		{"arm64 musl, absolute link", map[string]string{"bin/busybox": elf(2, 1, 0xb7, "/lib/ld-musl-aarch64.so.1"), "bin/sh": "->/bin/busybox"}, "arm64", "musl"},
		{"armv7", map[string]string{"bin/sh": elf(1, 1, 0x28, "/lib/ld-linux-armhf.so.3")}, "armv7", "glibc"},
		{"386", map[string]string{"bin/sh": elf(1, 1, 0x03, "/lib/ld-linux.so.2")}, "386", "glibc"},
		{"ppc64le", map[string]string{"bin/sh": elf(2, 1, 0x15, "/lib64/ld64.so.2")}, "ppc64le", "glibc"},
		{"s390x", map[string]string{"bin/sh": elf(2, 2, 0x16, "/lib/ld64.so.1")}, "s390x", "glibc"},
		{"riscv64", map[string]string{"bin/sh": elf(2, 1, 0xf3, "/lib/ld-linux-riscv64-lp64d.so.1")}, "riscv64", "glibc"},
		{"ppc64 big-endian is unsupported", map[string]string{"bin/sh": elf(2, 2, 0x15, "/lib64/ld64.so.1")}, Unknown, "glibc"},
		{"x32 is unsupported", map[string]string{"bin/sh": elf(1, 1, 0x3e, "/libx32/ld-linux-x32.so.2")}, Unknown, "glibc"},
		{"not ELF", map[string]string{"bin/sh": "#!/bin/false\n"}, Unknown, Unknown},
		{"static sh, musl loader", map[string]string{"bin/sh": elf(2, 1, 0x3e, ""), "lib/ld-musl-x86_64.so.1": ""}, "amd64", "musl"},
		{"static sh, dangling glibc loader", map[string]string{"bin/sh": elf(2, 1, 0x3e, ""), "lib64/ld-linux-x86-64.so.2": "->/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"}, "amd64", "glibc"},
		{"loader through lib link", map[string]string{"lib": "->usr/lib", "usr/lib/ld-linux-aarch64.so.1": ""}, Unknown, "glibc"},
		{"apk arch file wins", map[string]string{"etc/apk/arch": "aarch64\n", "bin/sh": elf(2, 1, 0x3e, "")}, "arm64", Unknown},
		{"apk armhf is ARMv6", map[string]string{"etc/apk/arch": "armhf\n"}, Unknown, Unknown},
		{"dpkg native arch", map[string]string{"var/lib/dpkg/arch": "armhf\ni386\n"}, "armv7", Unknown},
		{"dpkg arch with blanks", map[string]string{"var/lib/dpkg/arch": "  amd64 \n"}, "amd64", Unknown},
		{"empty apk arch falls through", map[string]string{"etc/apk/arch": "", "bin/sh": elf(2, 1, 0xb7, "")}, "arm64", Unknown},
		{"symlink loop", map[string]string{"bin/sh": "->/bin/sh"}, Unknown, Unknown},
		{"escape by ..", map[string]string{"bin/sh": "->../../../../../../../../bin/sh"}, Unknown, Unknown},
		{"escape by absolute link", map[string]string{"bin": "->/usr/bin"}, Unknown, Unknown},
	}
	shs := shells(t, false)
	_, script := scripts(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, c.files)
			f := agree(t, root, shs, script)
			if f.Arch != c.arch || f.Libc != c.libc {
				t.Errorf("got %s %s, want %s %s", f.Arch, f.Libc, c.arch, c.libc)
			}
		})
	}
}

// TestTreePackageTools: the package manager comes from os-release and the
// tools in the tree.
func TestTreePackageTools(t *testing.T) {
	const (
		centos7 = "ID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\"\n"
		debian  = "ID=debian\nVERSION_ID=\"12\"\n"
		foo     = "ID=foo\n"
	)
	cases := []struct {
		name       string
		files      map[string]string
		format, pm string
	}{
		{"centos 7 with dnf", map[string]string{"etc/os-release": centos7, "usr/bin/dnf": "", "usr/bin/rpm": ""}, "rpm", "dnf"},
		{"centos 7 with yum", map[string]string{"etc/os-release": centos7, "usr/bin/yum": "", "usr/bin/rpm": ""}, "rpm", "yum"},
		{"rocky, yum links to dnf", map[string]string{"etc/os-release": "ID=rocky\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=9.4\n", "usr/bin/dnf-3": "", "usr/bin/dnf": "->/usr/bin/dnf-3", "usr/bin/yum": "->/usr/bin/dnf-3"}, "rpm", "dnf"},
		{"debian, dpkg only", map[string]string{"etc/os-release": debian, "usr/bin/dpkg": ""}, "deb", "dpkg"},
		{"debian with rpm too", map[string]string{"etc/os-release": debian, "usr/bin/apt-get": "", "usr/bin/dpkg": "", "usr/bin/rpm": ""}, "deb", "apt"},
		{"unknown distro with apk", map[string]string{"etc/os-release": foo, "sbin/apk": ""}, "apk", "apk"},
		{"unknown distro, dpkg before rpm", map[string]string{"etc/os-release": foo, "usr/bin/rpm": "", "usr/bin/dpkg": ""}, "deb", "dpkg"},
		{"no os-release, pacman", map[string]string{"usr/bin/pacman": ""}, "archlinux", "pacman"},
		{"opensuse, rpm only", map[string]string{"etc/os-release": "ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\n", "usr/bin/rpm": ""}, "rpm", "rpm"},
		{"gentoo with rpm installed", map[string]string{"etc/os-release": "ID=gentoo\n", "usr/bin/rpm": ""}, "tarball", None},
		{"nixos with dpkg installed", map[string]string{"etc/os-release": "ID=nixos\n", "usr/bin/dpkg": ""}, None, None},
		{"usrmerge", map[string]string{"etc/os-release": foo, "bin": "->usr/bin", "usr/bin/zypper": ""}, "rpm", "zypper"},
		{"tool links out of the tree", map[string]string{"etc/os-release": foo, "usr/bin/apt-get": "->/usr/bin/apt-get"}, "tarball", None},
		{"tool not executable", map[string]string{"etc/os-release": foo, "usr/lib/apk": "", "sbin/apk": "->../usr/lib/apk"}, "tarball", None},
		{"tool is a directory", map[string]string{"etc/os-release": foo, "usr/bin/dnf": "dir"}, "tarball", None},
		{"amazon linux 2", map[string]string{"etc/os-release": "ID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\nVERSION_ID=\"2\"\n"}, "rpm", "yum"},
		{"photon", map[string]string{"etc/os-release": "ID=photon\nVERSION_ID=5.0\n"}, "rpm", "tdnf"},
		{"fedora-like with its own versions", map[string]string{"etc/os-release": "ID=nobara\nID_LIKE=fedora\nVERSION_ID=3\n"}, "rpm", "dnf"},
		{"huge version number", map[string]string{"etc/os-release": "ID=centos\nVERSION_ID=99999999999999999999\n"}, "rpm", "dnf"},
	}
	shs := shells(t, false)
	_, script := scripts(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, c.files)
			f := agree(t, root, shs, script)
			if f.PackageFormat != c.format || f.PackageManager != c.pm {
				t.Errorf("got %s/%s, want %s/%s", f.PackageFormat, f.PackageManager, c.format, c.pm)
			}
		})
	}
}

// TestTreeContainer: a tree's container markers count; the host's do not.
func TestTreeContainer(t *testing.T) {
	shs := shells(t, false)
	_, script := scripts(t)
	for name, c := range map[string]struct {
		files map[string]string
		want  string
	}{
		"docker": {map[string]string{".dockerenv": ""}, "docker"},
		"podman": {map[string]string{"run/.containerenv": "engine=\"podman-5.0\"\n"}, "podman"},
		"plain":  {map[string]string{"etc/os-release": "ID=debian\n"}, None},
	} {
		t.Run(name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, c.files)
			if f := agree(t, root, shs, script); f.Container != c.want {
				t.Errorf("container %s, want %s", f.Container, c.want)
			}
		})
	}
}

// TestHost: on this machine's / Go and every shell agree on every fact, with
// and without --root /, and through a symlink to /.
func TestHost(t *testing.T) {
	shs := shells(t, true)
	_, script := scripts(t)
	f, err := Detect("/")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("host facts:\n%s", f.Text())
	for _, sh := range shs {
		if got := detectOnly(t, sh, script); got != f.Text() {
			t.Errorf("%s and Go disagree on the host:\n--- %s\n%s--- Go\n%s", sh.name, sh.name, got, f.Text())
		}
	}
	link := filepath.Join(t.TempDir(), "slash")
	if err := os.Symlink("/", link); err != nil {
		t.Fatal(err)
	}
	if g := agree(t, link, shs, script); g.Root != "/" || g.Text() != f.Text() {
		t.Errorf("a symlink to / is not the host: %+v", g)
	}
	if f.Arch == Unknown || f.Libc == Unknown || f.DistroID == Unknown {
		t.Errorf("host arch, libc or distro not detected: %+v", f)
	}
	if os.Geteuid() == 0 && f.Privilege != "root" {
		t.Errorf("running as root, privilege %s", f.Privilege)
	}
	if f.Init == Unknown || f.Container == Unknown || f.Privilege == Unknown {
		t.Errorf("the host must not report tree-only unknowns: %+v", f)
	}
	// The host's arch as its package tool sees it, when it has dpkg.
	if f.PackageManager == "apt" {
		if out, err := exec.Command("dpkg", "--print-architecture").Output(); err == nil {
			if want := mapArch(strings.TrimSpace(string(out)), "dpkg"); f.Arch != want {
				t.Errorf("arch %s, dpkg says %s", f.Arch, want)
			}
		}
	}
}

// TestMaliciousOsRelease: values written to run commands are parsed, never
// run, and rejected; Go and the shells agree on what is left.
func TestMaliciousOsRelease(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "pwned")
	touch := "touch " + marker
	long := strings.Repeat("a", 200000)
	cases := []struct {
		name, body string
		id, like   string
		version    string
	}{
		{"command substitution", "ID=\"$(" + touch + ")\"\n", Unknown, "", ""},
		{"unquoted substitution", "ID=$(" + touch + ")\n", Unknown, "", ""},
		{"single-quoted substitution", "ID='$(" + touch + ")'\n", Unknown, "", ""},
		{"backticks", "ID=`" + touch + "`\n", Unknown, "", ""},
		{"semicolon", "ID=debian;" + touch + "\n", Unknown, "", ""},
		{"second command", "ID=debian; " + touch + "\n", Unknown, "", ""},
		{"quote break-out", "ID=\"debian\\\"; " + touch + "; \\\"\"\n", Unknown, "", ""},
		{"command line", "ID=debian\n" + touch + "\n$(" + touch + ")\n`" + touch + "`\n", "debian", "", ""},
		{"unterminated quote", "ID=\"debian\n$(" + touch + ")\"\n", Unknown, "", ""},
		{"in VERSION_ID", "ID=debian\nVERSION_ID='$(" + touch + ")'\n", "debian", "", ""},
		{"in ID_LIKE", "ID=mint\nID_LIKE=\"debian $(" + touch + ")\"\n", "mint", "", ""},
		{"in a key not read", "ID=debian\nPRETTY_NAME=\"$(" + touch + ")\"\n", "debian", "", ""},
		{"parameter expansion", "ID=${PATH}\nID_LIKE=*\n", Unknown, "", ""},
		{"last assignment wins", "ID=debian\nID=\"$(" + touch + ")\"\n", Unknown, "", ""},
		{"very long ID", "ID=" + long + "\n", Unknown, "", ""},
		{"very long other line", "ID=debian\nVERSION_ID=12\nPRETTY_NAME=\"" + long + "\"\n", "debian", "", "12"},
		{"very long unterminated", "ID=debian\nVERSION_ID=\"" + long + "\n", "debian", "", ""},
		{"carriage returns", "ID=debian\r\nVERSION_ID=12\r\n", Unknown, "", ""},
		{"NUL bytes", "ID=deb\x00ian\n", "debian", "", ""},
		{"upper case", "ID=Debian\n", Unknown, "", ""},
		{"newline in quotes", "ID=debian\nID_LIKE=\"ubuntu\ndebian\"\n", "debian", "", ""},
	}
	shs := shells(t, false)
	_, script := scripts(t)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := t.TempDir()
			writeTree(t, root, map[string]string{"etc/os-release": c.body})
			f := agree(t, root, shs, script)
			if f.DistroID != c.id || strings.Join(f.DistroLike, " ") != c.like || f.DistroVersion != c.version {
				t.Errorf("got %q %q %q, want %q %q %q", f.DistroID, f.DistroLike, f.DistroVersion, c.id, c.like, c.version)
			}
			if _, err := os.Stat(marker); err == nil {
				t.Fatalf("os-release was executed: %s exists", marker)
			}
		})
	}
}

// TestSetE: install.sh may call detect_all as a plain command under set -eu
// (detect_only_main calls it in an || list, where set -e is off), so no
// failing tool or unreadable file may end the script. bash also runs with
// pipefail.
func TestSetE(t *testing.T) {
	detectSh, _ := scripts(t)
	probe := filepath.Join(t.TempDir(), "probe.sh")
	if err := os.WriteFile(probe, []byte(`set -eu
[ -z "${BASH_VERSION-}" ] || set -o pipefail
. "$1"
detect_all "$2"
detect_print
`), 0o644); err != nil {
		t.Fatal(err)
	}
	tree := t.TempDir()
	writeTree(t, tree, map[string]string{
		"etc/os-release": "ID=centos\nVERSION_ID=7\n",
		"bin/sh":         elf(2, 1, 0x3e, ""),
		"usr/bin/rpm":    "",
	})
	for _, sh := range shells(t, true) {
		for _, root := range []string{"/", tree} {
			f, err := Detect(root)
			if err != nil {
				t.Fatal(err)
			}
			out, errOut, code := runShell(t, sh, probe, detectSh, root)
			if code != 0 || out != f.Text() {
				t.Errorf("%s, set -eu, %s: exit %d, stderr %q\n--- sh\n%s--- Go\n%s", sh.name, root, code, errOut, out, f.Text())
			}
		}
	}
}

// TestSetEHostPaths reaches the host-only fallbacks that this machine's /
// short-cuts (its /.dockerenv, the interpreter of its /bin/sh): host mode
// over an empty tree, so PID 1's environment, systemd-detect-virt, ldd and
// uname are asked, under set -eu, and compared with Go's.
func TestSetEHostPaths(t *testing.T) {
	detectSh, _ := scripts(t)
	probe := filepath.Join(t.TempDir(), "probe.sh")
	if err := os.WriteFile(probe, []byte(`set -eu
[ -z "${BASH_VERSION-}" ] || set -o pipefail
. "$1"
detect_prefix=$2
detect_host=yes
detect_package_manager=none
detect_arch_facts
detect_libc_facts
detect_container_facts
detect_privilege_facts
echo "$detect_arch $detect_libc $detect_container $detect_privilege"
`), 0o644); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	tr := tree{prefix: empty, host: true}
	want := strings.Join([]string{tr.arch(None), tr.libc(), tr.container(), tr.privilege()}, " ") + "\n"
	for _, sh := range shells(t, true) {
		out, errOut, code := runShell(t, sh, probe, detectSh, empty)
		if code != 0 || out != want {
			t.Errorf("%s: exit %d, stderr %q, got %q, want %q", sh.name, code, errOut, out, want)
		}
	}
}

// TestBadRoot: a root that is not a directory is an error in Go and exit 2
// in the shell, with a message.
func TestBadRoot(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	_, script := scripts(t)
	for _, root := range []string{filepath.Join(t.TempDir(), "missing"), file} {
		if _, err := Detect(root); err == nil {
			t.Errorf("Detect(%s): no error", root)
		}
		for _, sh := range shells(t, false) {
			_, errOut, code := runShell(t, sh, script, "--root", root)
			if code != 2 || !strings.Contains(errOut, "not a directory") {
				t.Errorf("%s --root %s: exit %d, stderr %q; want 2 and a message", sh.name, root, code, errOut)
			}
		}
	}
	for _, sh := range shells(t, false) {
		if _, _, code := runShell(t, sh, script, "--bogus"); code != 2 {
			t.Errorf("%s --bogus: exit %d, want 2", sh.name, code)
		}
		if _, _, code := runShell(t, sh, script, "--root"); code != 2 {
			t.Errorf("%s --root without a value: exit %d, want 2", sh.name, code)
		}
	}
}

// TestShellcheck: detect.sh and its driver are clean POSIX sh.
func TestShellcheck(t *testing.T) {
	need(t, "shellcheck", "apt-get install shellcheck")
	detectSh, detectOnly := scripts(t)
	out, err := exec.Command("shellcheck", "-s", "sh", "-S", "style", detectSh, detectOnly).CombinedOutput()
	if err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// TestInitConditionsMatchInitsys: detect.sh tests each init system with its
// Shell.Running condition, verbatim and in inits.All order, and each
// init's Go Running agrees with it on this host.
func TestInitConditionsMatchInitsys(t *testing.T) {
	all := inits.All()
	if len(all) == 0 {
		t.Fatal("no init systems registered")
	}
	last := -1
	for _, r := range all {
		cond := r.Shell(initsys.Service{Name: "probe"}).Running
		i := strings.Index(installer.DetectSh, cond)
		if i < 0 {
			t.Errorf("detect.sh lacks %s's Running condition %q", r.Name(), cond)
			continue
		}
		if i < last {
			t.Errorf("detect.sh tests %s out of initsys.All order", r.Name())
		}
		last = i
		if !strings.Contains(installer.DetectSh[i:], "detect_init="+r.Name()) {
			t.Errorf("detect.sh does not set detect_init=%s", r.Name())
		}
		// Go's Running and the shell condition must give one answer.
		sh := exec.Command("sh", "-c", "if "+cond+"; then echo true; else echo false; fi")
		out, err := sh.Output()
		if err != nil {
			t.Fatalf("%s Running condition: %v", r.Name(), err)
		}
		if got, want := strings.TrimSpace(string(out)), fmt.Sprint(r.Running()); got != want {
			t.Errorf("%s: the shell condition says %s on this host, Go's Running says %s", r.Name(), got, want)
		}
	}
}
