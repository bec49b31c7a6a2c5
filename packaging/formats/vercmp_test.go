package formats

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

func dpkgLess(t *testing.T, a, b string) bool {
	t.Helper()
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Fatal("dpkg is not installed")
	}
	return exec.Command("dpkg", "--compare-versions", a, "lt", b).Run() == nil
}

// rpmCompare returns -1, 0 or 1 as rpm's own vercmp orders a and b.
func rpmCompare(t *testing.T, a, b string) int {
	t.Helper()
	out, err := exec.Command("rpm", "--eval", "%{lua: print(rpm.vercmp('"+a+"', '"+b+"'))}").Output()
	if err != nil {
		t.Fatalf("rpm --eval vercmp: %v (install rpm: run .ci/prereqs)", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("rpm vercmp printed %q", out)
	}
	return n
}
