package e2e

import (
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func requireTool(t *testing.T, name string) {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed; run .ci/prereqs (as root) to install the test tools", name)
	}
}

func runTool(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	requireTool(t, name)
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// TestPackageMetadata reads every package with its own format's tool.
func TestPackageMetadata(t *testing.T) {
	deb := releaseV1.artifact(t, "deb")
	out, err := runTool(t, "dpkg-deb", "-I", deb)
	if err != nil {
		t.Fatalf("dpkg-deb -I: %v\n%s", err, out)
	}
	for _, want := range []string{"Package: " + agent, "Version: " + v1 + "-1", "Architecture: amd64", "conffiles", "postinst", "prerm", "postrm", "preinst"} {
		if !strings.Contains(out, want) {
			t.Errorf("dpkg-deb -I lacks %q:\n%s", want, out)
		}
	}

	rpmFile := releaseV1.artifact(t, "rpm")
	out, err = runTool(t, "rpm", "-qip", rpmFile)
	if err != nil {
		t.Fatalf("rpm -qip: %v\n%s", err, out)
	}
	for _, re := range []string{`Name\s*: ` + agent, `Version\s*: ` + v1, `Release\s*: 1`, `Build Host\s*: omnipack`, `Architecture\s*: x86_64`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("rpm -qip lacks %s:\n%s", re, out)
		}
	}
	out, err = runTool(t, "rpm", "-qp", "--scripts", rpmFile)
	if err != nil || !strings.Contains(out, "postinstall scriptlet") || !strings.Contains(out, "preuninstall scriptlet") {
		t.Errorf("rpm scriptlets missing (%v):\n%s", err, out)
	}
	out, err = runTool(t, "rpm", "-qpc", rpmFile)
	if err != nil || !strings.Contains(out, "/etc/"+agent+"/"+agent+".toml") {
		t.Errorf("rpm does not mark the config file as %%config (%v):\n%s", err, out)
	}

	arch := releaseV1.artifact(t, "archlinux")
	out, err = runTool(t, "pacman", "-Qip", arch)
	if err != nil {
		t.Fatalf("pacman -Qip: %v\n%s", err, out)
	}
	for _, re := range []string{`Name\s*: ` + agent, `Version\s*: ` + v1 + `-1`, `Architecture\s*: x86_64`} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("pacman -Qip lacks %s:\n%s", re, out)
		}
	}
}

// TestArchBackup checks that pacman will keep the config across upgrades:
// .PKGINFO lists it as a backup file (pacman -Qip shows backups only for
// installed packages).
func TestArchBackup(t *testing.T) {
	out, err := runTool(t, "tar", "--zstd", "-xOf", releaseV1.artifact(t, "archlinux"), ".PKGINFO")
	if err != nil {
		t.Fatalf("tar: %v\n%s", err, out)
	}
	if !strings.Contains(out, "\nbackup = etc/"+agent+"/"+agent+".toml\n") {
		t.Errorf(".PKGINFO does not list the config as backup:\n%s", out)
	}
}

// TestLintian requires lintian to report no errors on the .deb, the
// signed one users ship and the unsigned one. Warnings are allowed only
// where the README explains them.
func TestLintian(t *testing.T) {
	signed, _ := signedReleases(t)
	for kind, deb := range map[string]string{"unsigned": releaseV1.artifact(t, "deb"), "signed": signed.file(t, "deb"), probe: probeV1.artifact(t, "deb")} {
		t.Run(kind, func(t *testing.T) {
			out, _ := runTool(t, "lintian", "--no-cfg", "--fail-on", "none", deb)
			t.Logf("lintian:\n%s", out)
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "E: ") {
					t.Errorf("lintian error: %s", line)
				}
				if strings.HasPrefix(line, "W: ") && !allowedLintianWarning(line) {
					t.Errorf("lintian warning not explained in the README: %s", line)
				}
			}
		})
	}
}

// allowedLintianWarning lists the warnings the README explains.
func allowedLintianWarning(line string) bool {
	for _, tag := range lintianWarnings {
		if strings.Contains(line, " "+tag) {
			return true
		}
	}
	return false
}

var lintianWarnings = []string{
	"maintainer-script-calls-systemctl",
	"maintainer-script-ignores-errors",
	"maintainer-script-needs-depends-on-adduser",
	"maintainer-script-should-not-parse-etc-passwd-or-group",
	"command-with-path-in-maintainer-script",
	"unusual-interpreter",
	"non-standard-file-perm",
	"no-manual-page",
	"initial-upload-closes-no-bugs",
}

// rpmlintErrors are the rpmlint errors the README explains, each with the
// only file it may name. Any other error fails the test.
var rpmlintErrors = map[string]*regexp.Regexp{
	// The config holds the agent's secret key: 0640, root and the service group.
	// So do net_probe's labels and environment file, which may hold credentials.
	"non-readable": regexp.MustCompile(`: E: non-readable (/etc/` + agent + `/` + agent + `\.toml|/etc/` + probe + `/labels\.prom|/etc/sysconfig/` + probe + `) 640$`),
	// nfpm records no file classes (FILECLASS), so rpmlint cannot see
	// that /usr/bin/NAME is ELF; TestRpmBinaryIsELF checks that it is.
	"no-binary": regexp.MustCompile(`: E: no-binary$`),
	// The logrotate snippet of OpenRC's and sysvinit's log file: it
	// applies where logrotate is installed, which the package does not
	// require; it is named after the program, like /var/log/NAME, not
	// after the package; and rpmlint looks for it in its extraction
	// directory, where nfpm's absolute payload names never land.
	"logrotate": regexp.MustCompile(`: E: (missing-dependency-to-logrotate for logrotate script|logrotate-exception|incoherent-logrotate-file) /etc/logrotate\.d/(` + agent + `|` + probe + `)( |$)`),
}

// rpmlintOutside runs rpmlint on rpm and removes what it put outside its
// extraction directory: it unpacks with cpio -id, which keeps nfpm's
// absolute payload names, so as root it writes the package's files into
// this machine's own tree.
func rpmlintOutside(t *testing.T, rpm string) string {
	t.Helper()
	list, err := runTool(t, "rpm", "-qlp", rpm)
	if err != nil {
		t.Fatalf("rpm -qlp: %v\n%s", err, list)
	}
	var added []string
	for _, p := range strings.Fields(list) {
		if _, err := os.Lstat(p); errors.Is(err, fs.ErrNotExist) {
			added = append(added, p)
		}
	}
	out, _ := runTool(t, "rpmlint", rpm)
	// Deepest first, so that directories are empty when their turn comes.
	slices.Sort(added)
	for _, p := range slices.Backward(added) {
		if fi, err := os.Lstat(p); err == nil && (!fi.IsDir() || isEmptyDir(p)) {
			os.Remove(p)
		}
	}
	return out
}

func isEmptyDir(p string) bool {
	entries, err := os.ReadDir(p)
	return err == nil && len(entries) == 0
}

// TestRpmlint requires rpmlint to report no errors on the .rpm, the
// signed one users ship and the unsigned one, but those the README
// explains; only the unsigned one may lack a signature.
func TestRpmlint(t *testing.T) {
	signed, _ := signedReleases(t)
	for kind, rpm := range map[string]string{"unsigned": releaseV1.artifact(t, "rpm"), "signed": signed.file(t, "rpm"), probe: probeV1.artifact(t, "rpm")} {
		t.Run(kind, func(t *testing.T) {
			out := rpmlintOutside(t, rpm)
			t.Logf("rpmlint:\n%s", out)
			for _, line := range strings.Split(out, "\n") {
				if !strings.Contains(line, ": E: ") {
					continue
				}
				// rpmlint checks the signature against the machine's rpm
				// keyring, which does not trust the vendor's key;
				// TestSignRpmKeys checks it with the key imported.
				keyID := strings.ToLower(signed.m.Keys.OpenPGP[len(signed.m.Keys.OpenPGP)-8:])
				explained := kind != "signed" && strings.HasSuffix(line, ": E: no-signature") ||
					kind == "signed" && strings.HasSuffix(line, ": E: unknown-key "+keyID)
				for _, re := range rpmlintErrors {
					explained = explained || re.MatchString(line)
				}
				if !explained {
					t.Errorf("rpmlint error not explained in the README: %s", line)
				}
			}
		})
	}
}

// TestRpmBinaryIsELF backs the no-binary exception: the packaged binary is
// an ELF executable for the package's architecture.
func TestRpmBinaryIsELF(t *testing.T) {
	dir := t.TempDir()
	// nfpm's cpio payload holds absolute paths: without
	// --no-absolute-filenames, cpio would write into the real /.
	cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet --no-absolute-filenames -D "$2"`,
		"sh", releaseV1.artifact(t, "rpm"), dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("rpm2cpio: %v\n%s", err, out)
	}
	out, err := runTool(t, "file", "-b", dir+"/usr/bin/"+agent)
	if err != nil || !strings.HasPrefix(out, "ELF 64-bit LSB executable, x86-64") {
		t.Errorf("packaged binary is not an x86-64 ELF executable (%v): %s", err, out)
	}
}
