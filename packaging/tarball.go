package packaging

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/omnipack/omnipack/config"
	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/scripts"
)

// The release tarball serves hosts with no package manager omnipack builds
// for (Void, Gentoo, ...). install.sh unpacks it and runs the maintainer
// scripts it carries; they are the argument-free ones apk uses. It holds
// the same files as the packages, with paths relative to /.
var (
	tarballNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)
	// Versions may also carry the "~" pre-release every format accepts.
	tarballVersionRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)
)

// TarballScriptsDir is where the tarball carries its maintainer scripts,
// and TarballFileList the list of files it installs, for uninstalling.
func TarballScriptsDir(name string) string { return "/usr/lib/" + name + "/scripts" }
func TarballFileList(name string) string   { return "/usr/lib/" + name + "/files" }

func init() {
	register(Format{
		Name: "tarball",
		Rule: config.FormatRule{
			CheckName:    checkNameByPattern(tarballNameRe, "use letters, digits and . _ + -"),
			CheckVersion: checkByPattern(func(v config.Version) string { return v.String() }, tarballVersionRe, "letters, digits and . _ + ~ only", versionFix),
		},
		Arch:    func(a config.Arch) string { return a.Name },
		Version: func(v config.Version) string { return v.String() },
		FullVersion: func(v config.Version, release int) string {
			return fmt.Sprintf("%s-%d", v.String(), release)
		},
		Write: writeTarball,
	})
}

type tarballEntry struct {
	dest string // absolute
	mode os.FileMode
	src  string // file on the build host; empty when body is set
	body []byte
}

// writeTarball writes NAME_VERSION-RELEASE_linux_ARCH.tar.gz: entries sorted,
// uid/gid 0 without names, mtime from the build, gzip without name or time.
func writeTarball(spec *Spec, dir string) (string, error) {
	set, err := scripts.APK(scripts.Input{Service: spec.Service, Inits: spec.Inits, Files: spec.InitFiles, ConfigFiles: dests(spec.Configs)})
	if err != nil {
		return "", err
	}
	entries := []tarballEntry{{dest: layout.Bin(spec.Name), mode: 0o755, src: spec.Binary}}
	for _, c := range append(append([]File(nil), spec.Configs...), spec.Files...) {
		entries = append(entries, tarballEntry{dest: c.Dest, mode: c.Mode, src: c.Source})
	}
	for _, r := range spec.Inits {
		for _, f := range spec.InitFiles[r.Name()] {
			staged := layout.Staged(spec.Name, r.Name(), f.Target)
			entries = append(entries, tarballEntry{dest: staged, mode: os.FileMode(f.Mode), src: filepath.Join(spec.StageDir, staged)})
		}
	}
	for name, body := range map[string]string{"preinstall": set.PreInstall, "postinstall": set.PostInstall, "preremove": set.PreRemove, "postremove": set.PostRemove} {
		if body != "" {
			entries = append(entries, tarballEntry{dest: path.Join(TarballScriptsDir(spec.Name), name), mode: 0o755, body: []byte(body)})
		}
	}
	var list []string
	for _, e := range entries {
		list = append(list, e.dest)
	}
	list = append(list, TarballFileList(spec.Name))
	sort.Strings(list)
	entries = append(entries, tarballEntry{dest: TarballFileList(spec.Name), mode: 0o644, body: []byte(strings.Join(list, "\n") + "\n")})
	sort.Slice(entries, func(i, j int) bool { return entries[i].dest < entries[j].dest })

	name := fmt.Sprintf("%s_%s-%d_linux_%s.tar.gz", spec.Name, spec.Version.String(), spec.Release, spec.Arch.Name)
	out := filepath.Join(dir, name)
	f, err := os.OpenFile(out, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		return "", err
	}
	tw := tar.NewWriter(zw)
	dirs := map[string]bool{}
	for _, e := range entries {
		if err := writeTarEntry(tw, e, spec, dirs); err != nil {
			return "", fmt.Errorf("tarball %s: %w", e.dest, err)
		}
	}
	if err := tw.Close(); err != nil {
		return "", err
	}
	if err := zw.Close(); err != nil {
		return "", err
	}
	return out, f.Close()
}

func dests(files []File) []string {
	var out []string
	for _, f := range files {
		out = append(out, f.Dest)
	}
	return out
}

// writeTarEntry writes the entry's parent directories (once) and the entry.
func writeTarEntry(tw *tar.Writer, e tarballEntry, spec *Spec, dirs map[string]bool) error {
	rel := strings.TrimPrefix(e.dest, "/")
	var parents []string
	for d := path.Dir(rel); d != "." && !dirs[d]; d = path.Dir(d) {
		parents = append(parents, d)
		dirs[d] = true
	}
	for i := len(parents) - 1; i >= 0; i-- {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: parents[i] + "/", Mode: 0o755,
			ModTime: spec.MTime, Format: tar.FormatPAX}); err != nil {
			return err
		}
	}
	body := e.body
	if e.src != "" {
		var err error
		if body, err = os.ReadFile(e.src); err != nil {
			return err
		}
	}
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: int64(e.mode.Perm()),
		Size: int64(len(body)), ModTime: spec.MTime, Format: tar.FormatPAX}); err != nil {
		return err
	}
	_, err := io.Copy(tw, strings.NewReader(string(body)))
	return err
}
