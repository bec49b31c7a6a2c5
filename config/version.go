package config

import (
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
)

// Version is a resolved project version. A version derived from git carries
// the commits since the last tag and the short commit hash; each package
// format spells that in its own way (see package packaging).
type Version struct {
	Base    string // "1.2.3": the configured version, or the last tag without its "v"
	Commits int    // commits since the tag; 0 for a tagged or configured version
	Hash    string // abbreviated commit hash when Commits > 0
}

// String is the canonical form, used in release.json and ldflags.
func (v Version) String() string {
	if v.Commits == 0 {
		return v.Base
	}
	return fmt.Sprintf("%s+git%d.g%s", v.Base, v.Commits, v.Hash)
}

var describeRe = regexp.MustCompile(`^v?(.+)-([0-9]+)-g([0-9a-f]+)$`)

// ResolveVersion turns project.version into a Version, running
// `git describe` in the config's directory when it is "git".
func (c *Config) ResolveVersion() (Version, error) {
	if c.Project.Version != "git" {
		return Version{Base: c.Project.Version}, nil
	}
	out, err := describe(c.Dir)
	if err != nil {
		return Version{}, Problems{{File: c.Path, Field: "project.version",
			Msg: fmt.Sprintf(`"git" needs a tag like v1.2.3 reachable from HEAD: %v`, err),
			Fix: "tag a release (git tag v1.0.0), or set an explicit version"}}
	}
	return parseDescribe(out)
}

// DescribeGit derives a version as version = "git" does, from the checkout
// holding dir: the last tag like v1.2.3 reachable from HEAD, and the
// commits since it.
func DescribeGit(dir string) (Version, error) {
	out, err := describe(dir)
	if err != nil {
		return Version{}, err
	}
	return parseDescribe(out)
}

func describe(dir string) (string, error) {
	cmd := exec.Command("git", "describe", "--tags", "--long", "--match", "v[0-9]*", "--abbrev=7")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		if msg := strings.TrimSpace(string(out)); msg != "" {
			return "", fmt.Errorf("git describe: %s", msg)
		}
		return "", fmt.Errorf("git describe: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

func parseDescribe(s string) (Version, error) {
	m := describeRe.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("cannot parse git describe output %q", s)
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return Version{}, err
	}
	v := Version{Base: m[1], Commits: n}
	if n > 0 {
		v.Hash = m[3]
	}
	return v, nil
}

// CommitTime returns the committer time of HEAD in the config's directory,
// the fallback for SOURCE_DATE_EPOCH. ok is false outside a git checkout.
func (c *Config) CommitTime() (unix int64, ok bool) {
	cmd := exec.Command("git", "log", "-1", "--format=%ct")
	cmd.Dir = c.Dir
	out, err := cmd.Output()
	if err != nil {
		return 0, false
	}
	t, err := strconv.ParseInt(strings.TrimSpace(string(out)), 10, 64)
	return t, err == nil
}
