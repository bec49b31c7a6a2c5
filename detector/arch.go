package detector

import (
	"bytes"
	"os"
	"os/exec"
	"path"
	"strings"

	"golang.org/x/sys/unix"
)

// mapArch returns omnipack's name for an architecture as uname -m, dpkg,
// rpm, apk or pacman spell it, or Unknown. tool is the package manager that
// gave the name: apk's armhf is ARMv6, which omnipack does not build, while
// Debian's armhf is ARMv7.
func mapArch(name, tool string) string {
	switch name {
	case "x86_64", "amd64":
		return "amd64"
	case "aarch64", "arm64":
		return "arm64"
	case "armhf":
		if tool == "apk" {
			return Unknown
		}
		return "armv7"
	case "armv7", "armv7l", "armv7hl", "armv8l":
		return "armv7"
	case "i386", "i486", "i586", "i686", "x86":
		return "386"
	case "ppc64le", "ppc64el":
		return "ppc64le"
	case "s390x":
		return "s390x"
	case "riscv64":
		return "riscv64"
	}
	return Unknown
}

// ELF header values used by elfArch.
const (
	elfClass32, elfClass64 = 1, 2
	elfLittle, elfBig      = 1, 2
)

// elfArch returns omnipack's architecture for the ELF file at p from its
// class, byte order and e_machine, or Unknown. 32-bit ARM is taken as armv7.
func elfArch(p string) string {
	h := make([]byte, 20)
	f, err := os.Open(p)
	if err != nil {
		return Unknown
	}
	defer f.Close()
	if n, _ := f.ReadAt(h, 0); n < len(h) || string(h[:4]) != "\x7fELF" {
		return Unknown
	}
	var machine uint16
	switch h[5] {
	case elfLittle:
		machine = uint16(h[18]) | uint16(h[19])<<8
	case elfBig:
		machine = uint16(h[18])<<8 | uint16(h[19])
	default:
		return Unknown
	}
	type key struct {
		class, order byte
		machine      uint16
	}
	switch (key{h[4], h[5], machine}) {
	case key{elfClass64, elfLittle, 0x3e}:
		return "amd64"
	case key{elfClass64, elfLittle, 0xb7}:
		return "arm64"
	case key{elfClass32, elfLittle, 0x28}:
		return "armv7"
	case key{elfClass32, elfLittle, 0x03}:
		return "386"
	case key{elfClass64, elfLittle, 0x15}:
		return "ppc64le"
	case key{elfClass64, elfBig, 0x16}:
		return "s390x"
	case key{elfClass64, elfLittle, 0xf3}:
		return "riscv64"
	}
	return Unknown
}

// arch: on the host the package tool is asked first, because packages must
// match its architecture (an i386 userland on an amd64 kernel), then uname
// -m. In a tree: /etc/apk/arch, the native (first) line of
// /var/lib/dpkg/arch, then the ELF header of /bin/sh; the tree's own tools
// are never run, as they may not run here and are not to be trusted. A tool
// or file that answers is final, even with an architecture omnipack lacks.
func (t tree) arch(pm string) string {
	if t.host {
		var name string
		switch pm {
		case "apt", "dpkg":
			name = firstOutputLine("dpkg", "--print-architecture")
		case "dnf", "tdnf", "yum", "zypper", "rpm":
			name = firstOutputLine("rpm", "--eval", "%_arch")
		case "apk":
			name = firstOutputLine("apk", "--print-arch")
		case "pacman":
			name = firstOutputLine("pacman-conf", "Architecture")
		}
		if name == "" {
			var u unix.Utsname
			if unix.Uname(&u) == nil {
				name = trimBlanks(unix.ByteSliceToString(u.Machine[:]))
			}
		}
		return mapArch(name, pm)
	}
	if line, ok := t.firstLine("/etc/apk/arch"); ok && line != "" {
		return mapArch(line, "apk")
	}
	if line, ok := t.firstLine("/var/lib/dpkg/arch"); ok && line != "" {
		return mapArch(line, "dpkg")
	}
	if sh, ok := t.regular("/bin/sh"); ok {
		return elfArch(sh)
	}
	return Unknown
}

// firstOutputLine runs a command from PATH and returns the first line of its
// standard output without surrounding blanks, whatever its exit status.
func firstOutputLine(name string, args ...string) string {
	if _, err := exec.LookPath(name); err != nil {
		return ""
	}
	out, _ := exec.Command(name, args...).Output()
	line, _, _ := strings.Cut(string(dropNUL(out)), "\n")
	return trimBlanks(line)
}

// libDirs are where dynamic loaders live.
var libDirs = []string{"/lib", "/lib64", "/usr/lib", "/usr/lib64"}

// libc tells glibc from musl by the program interpreter named in the first
// 4 KiB of /bin/sh (the system's own libc, even where the other one is
// installed too), else by the dynamic loaders in libDirs, else, on the host
// only, by what ldd --version says.
func (t tree) libc() string {
	if sh, ok := t.regular("/bin/sh"); ok {
		head := readHead(sh, 4096)
		switch {
		case bytes.Contains(head, []byte("ld-musl-")):
			return "musl"
		case bytes.Contains(head, []byte("ld-linux")), bytes.Contains(head, []byte("ld64.so.")):
			return "glibc"
		}
	}
	if t.anyLib("ld-musl-*.so.1") {
		return "musl"
	}
	if t.anyLib("ld-linux*.so.*", "ld64.so.*") {
		return "glibc"
	}
	if !t.host {
		return Unknown
	}
	if _, err := exec.LookPath("ldd"); err != nil {
		return Unknown
	}
	out, _ := exec.Command("ldd", "--version").CombinedOutput()
	s := strings.ToLower(string(out))
	switch {
	case strings.Contains(s, "musl"):
		return "musl"
	case strings.Contains(s, "glibc"), strings.Contains(s, "gnu libc"):
		return "glibc"
	}
	return Unknown
}

// anyLib is true when a file matching one of the patterns is in one of
// libDirs, even as a dangling symlink. Names are matched one by one rather
// than with filepath.Glob, which would read the tree's path as a pattern.
func (t tree) anyLib(patterns ...string) bool {
	for _, dir := range libDirs {
		real, ok := t.resolve(dir)
		if !ok {
			continue
		}
		entries, err := os.ReadDir(real)
		if err != nil {
			continue
		}
		for _, e := range entries {
			for _, p := range patterns {
				if ok, _ := path.Match(p, e.Name()); ok && !strings.HasPrefix(e.Name(), ".") {
					return true
				}
			}
		}
	}
	return false
}
