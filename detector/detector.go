// Package detector tells what omnipack's installer needs to know about a
// host, or about a file system tree that is to become one: architecture,
// libc, distribution, package manager and package format, running init,
// container and privilege.
//
// scripts/installer/detect.sh implements the same rules in POSIX sh for
// install.sh, which cannot run Go. The tests run both on the same trees and
// require the same answers, so a rule changed here must be changed there.
//
// A tree other than / is examined as a tree, never mixed with the running
// system: symlinks inside it are followed as if it were /, its tools are not
// run, the architecture comes from its package tool files or the ELF header
// of its /bin/sh, and what a tree cannot show (the running init, privilege)
// is Unknown.
package detector

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Unknown is the value of a fact that could not be told.
const Unknown = "unknown"

// None is the value of a fact that was told to be absent: no container, no
// running init, no package manager.
const None = "none"

// Facts is what Detect found. Every string value is a plain identifier
// (lower-case letters, digits, "._-"), so it can be printed without quoting.
type Facts struct {
	// Root is the directory examined, absolute and with symlinks resolved.
	Root string `json:"root"`
	// Arch is omnipack's name: amd64 arm64 armv7 386 ppc64le s390x riscv64,
	// or Unknown.
	Arch string `json:"arch"`
	// Libc is glibc, musl or Unknown.
	Libc string `json:"libc"`
	// DistroID, DistroLike and DistroVersion are os-release's ID, ID_LIKE
	// and VERSION_ID. An ID that is missing or rejected is Unknown; a
	// rejected ID_LIKE or VERSION_ID is empty.
	DistroID      string   `json:"distro_id"`
	DistroLike    []string `json:"distro_like"`
	DistroVersion string   `json:"distro_version"`
	// PackageManager is apt, dpkg, dnf, yum, tdnf, zypper, rpm, apk, pacman
	// or None.
	PackageManager string `json:"package_manager"`
	// PackageFormat is deb, rpm, apk, archlinux, tarball (no package of ours
	// fits: install the release tarball) or None (install nothing: NixOS).
	PackageFormat string `json:"package_format"`
	// Init is the init system running as PID 1 (systemd, openrc, upstart,
	// runit, sysvinit), None in a chroot or a container without one, and
	// Unknown for a tree.
	Init string `json:"init"`
	// Container is None or the kind, named as systemd-detect-virt -c does
	// (docker, podman, lxc, ...; container-other when unnamed).
	Container string `json:"container"`
	// Privilege is root, sudo or doas (a way to become root), None, or
	// Unknown for a tree.
	Privilege string `json:"privilege"`
}

// Text returns the facts as detect.sh prints them: the package line first,
// then one key=value a line.
func (f Facts) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "package_format=%s package_manager=%s\n", f.PackageFormat, f.PackageManager)
	fmt.Fprintf(&b, "arch=%s\n", f.Arch)
	fmt.Fprintf(&b, "libc=%s\n", f.Libc)
	fmt.Fprintf(&b, "distro_id=%s\n", f.DistroID)
	fmt.Fprintf(&b, "distro_like=%s\n", strings.Join(f.DistroLike, " "))
	fmt.Fprintf(&b, "distro_version=%s\n", f.DistroVersion)
	fmt.Fprintf(&b, "init=%s\n", f.Init)
	fmt.Fprintf(&b, "container=%s\n", f.Container)
	fmt.Fprintf(&b, "privilege=%s\n", f.Privilege)
	return b.String()
}

// Detect examines the tree at root; "" and "/" (or any path that resolves
// to /) mean this host. It fails only when root is not a directory: a fact
// it cannot tell is Unknown instead.
func Detect(root string) (Facts, error) {
	if root == "" {
		root = "/"
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return Facts{}, err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return Facts{}, fmt.Errorf("root %s: %w", root, err)
	}
	if fi, err := os.Stat(real); err != nil {
		return Facts{}, fmt.Errorf("root %s: %w", root, err)
	} else if !fi.IsDir() {
		return Facts{}, fmt.Errorf("root %s: not a directory", root)
	}
	t := tree{prefix: strings.TrimSuffix(real, "/"), host: real == "/"}
	f := Facts{Root: real}
	f.DistroID, f.DistroLike, f.DistroVersion = t.osRelease()
	f.PackageManager, f.PackageFormat = t.packageManager(f.DistroID, f.DistroLike, f.DistroVersion)
	f.Arch = t.arch(f.PackageManager)
	f.Libc = t.libc()
	f.Init = t.init()
	f.Container = t.container()
	f.Privilege = t.privilege()
	return f, nil
}

// tree is the directory being examined.
type tree struct {
	prefix string // root without a trailing slash: "" for /
	host   bool   // the tree is this host's /, so the running system counts
}

// maxLinks bounds symlink resolution, as the kernel's 40 does.
const maxLinks = 40

// resolve returns where the absolute path p of the tree is on this machine,
// following symlinks inside the tree as if it were /: an absolute link
// restarts at the tree's root, ".." stops there. A missing path is not an
// error (the caller tests the file); a symlink loop is. detect_resolve in
// detect.sh is the same walk.
func (t tree) resolve(p string) (string, bool) {
	todo, done, links := p, "", 0
	for {
		todo = strings.TrimLeft(todo, "/")
		if todo == "" {
			break
		}
		c, rest, _ := strings.Cut(todo, "/")
		todo = rest
		switch c {
		case ".":
			continue
		case "..":
			if i := strings.LastIndexByte(done, '/'); i >= 0 {
				done = done[:i]
			}
			continue
		}
		full := t.prefix + done + "/" + c
		if fi, err := os.Lstat(full); err == nil && fi.Mode()&os.ModeSymlink != 0 {
			links++
			if links > maxLinks {
				return "", false
			}
			target, err := os.Readlink(full)
			if err != nil {
				return "", false
			}
			if strings.HasPrefix(target, "/") {
				done = ""
			}
			todo = target + "/" + todo
			continue
		}
		done += "/" + c
	}
	if t.prefix+done == "" {
		return "/", true
	}
	return t.prefix + done, true
}

// regular returns the resolved path of p when it is a regular file.
func (t tree) regular(p string) (string, bool) {
	real, ok := t.resolve(p)
	if !ok {
		return "", false
	}
	fi, err := os.Stat(real)
	if err != nil || !fi.Mode().IsRegular() {
		return "", false
	}
	return real, true
}

// present is true when p exists in the tree, even as a dangling symlink.
func (t tree) present(p string) bool {
	real, ok := t.resolve(p)
	if !ok {
		return false
	}
	_, err := os.Lstat(real)
	return err == nil
}

// readHead returns up to n bytes of the file. NUL bytes are dropped, as the
// shell drops them from what it reads, so both see the same text.
func readHead(path string, n int64) []byte {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	m, _ := f.Read(b)
	for m > 0 && int64(m) < n {
		k, err := f.Read(b[m:])
		if k == 0 || err != nil {
			break
		}
		m += k
	}
	return dropNUL(b[:m])
}

func dropNUL(b []byte) []byte {
	out := b[:0]
	for _, c := range b {
		if c != 0 {
			out = append(out, c)
		}
	}
	return out
}

// firstLine returns the first line of the regular file p in the tree, without
// surrounding blanks, and whether there is such a file.
func (t tree) firstLine(p string) (string, bool) {
	real, ok := t.regular(p)
	if !ok {
		return "", false
	}
	line, _, _ := strings.Cut(string(readHead(real, 4096)), "\n")
	return trimBlanks(line), true
}

// trimBlanks trims spaces and tabs only: what the shell's blank patterns
// trim, where strings.TrimSpace would also take \r and Unicode spaces.
func trimBlanks(s string) string { return strings.Trim(s, " \t") }

// valid is true for a non-empty os-release identifier: lower-case ASCII
// letters, digits, "._-" (os-release(5)).
func valid(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
