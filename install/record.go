package install

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"

	"github.com/omnipack/omnipack/layout"
	"github.com/omnipack/omnipack/release"
)

// RecordDir holds omnipack's per-project records on the host (the
// maintainer scripts keep NAME.init and NAME.accounts there too).
const RecordDir = layout.RecordDir

// RecordPath is where the installed release is recorded (see the package
// doc for the format).
func RecordPath(name string) string { return layout.ReleaseRecord(name) }

// InitRecordPath is the maintainer scripts' record of the init system the
// service was set up with; its first line names the init.
func InitRecordPath(name string) string { return layout.InitRecord(name) }

// AccountsPath is the maintainer scripts' list of the accounts a package
// created ("user NAME" / "group NAME" lines).
func AccountsPath(name string) string { return layout.Accounts(name) }

// Record is the installed release.
type Record struct {
	ReleaseVersion int64  `json:"release_version"`
	Version        string `json:"version"`
	// Release is the packaging revision (manifest release).
	Release int `json:"release,omitempty"`
	// Format is how it was installed (deb, rpm, apk, archlinux, tarball);
	// empty when the writer did not say.
	Format string `json:"format,omitempty"`
	// Package is the package's name as its package manager knows it.
	Package        string `json:"package,omitempty"`
	PackageManager string `json:"package_manager,omitempty"`
	Artifact       string `json:"artifact,omitempty"`
	SHA256         string `json:"sha256,omitempty"`
	// Method is MethodRepo for a package installed from the repository;
	// empty for one installed from its file.
	Method string `json:"method,omitempty"`
}

// Marshal renders the record file as key=value lines, the one form
// install.sh and omnipack install both read and write.
func (r Record) Marshal() []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "release_version=%d\nversion=%s\n", r.ReleaseVersion, r.Version)
	if r.Release > 0 {
		fmt.Fprintf(&b, "release=%d\n", r.Release)
	}
	for _, kv := range [][2]string{{"format", r.Format}, {"package_manager", r.PackageManager}, {"artifact", r.Artifact}, {"sha256", r.SHA256}, {"package", r.Package}, {"method", r.Method}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
		}
	}
	return []byte(b.String())
}

// ParseRecord reads a record file of key=value lines. It is strict about
// the release version and version (a damaged record must not silently
// allow a rollback) and lenient about the rest.
func ParseRecord(data []byte) (*Record, error) {
	lines := strings.Split(string(data), "\n")
	kv := map[string]string{}
	for _, l := range lines {
		if k, v, ok := strings.Cut(strings.TrimSpace(l), "="); ok {
			if _, dup := kv[k]; dup {
				return nil, fmt.Errorf("release record: %s appears twice", k)
			}
			kv[k] = v
		}
	}
	rvText, version := kv["release_version"], kv["version"]
	rv, err := strconv.ParseInt(rvText, 10, 64)
	if err != nil || rv < 0 {
		return nil, errors.New("release record: no valid release version")
	}
	if release.CheckVersion(version) != nil {
		return nil, errors.New("release record: no valid version")
	}
	r := &Record{ReleaseVersion: rv, Version: version}
	if n, err := strconv.Atoi(kv["release"]); err == nil && n > 0 {
		r.Release = n
	}
	if f := kv["format"]; release.IsPackage(f) {
		r.Format = f
	}
	if p := kv["package"]; r.Format != "" && release.CheckPackageName(r.Format, p) == nil {
		r.Package = p
	}
	if pm := kv["package_manager"]; release.IsIdent(pm) {
		r.PackageManager = pm
	}
	if a := kv["artifact"]; release.CheckFileName(a) == nil {
		r.Artifact = a
	}
	if sum := kv["sha256"]; release.CheckSHA256(sum) == nil {
		r.SHA256 = sum
	}
	if kv["method"] == MethodRepo {
		r.Method = MethodRepo
	}
	return r, nil
}

// readRecord returns nil, nil when there is no record.
func readRecord(h *hostFS, name string) (*Record, error) {
	data, err := h.ReadFile(RecordPath(name))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r, err := ParseRecord(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (delete it to install anyway, which disables the rollback check once)", h.Host(RecordPath(name)), err)
	}
	return r, nil
}

func writeRecord(h *hostFS, name string, r Record) error {
	if err := h.MkdirAll(RecordDir, 0o755); err != nil {
		return err
	}
	return h.WriteAtomic(RecordPath(name), r.Marshal(), 0o644, -1, -1)
}

// readInitRecord returns the init the maintainer scripts set the service
// up with, or "".
func readInitRecord(h *hostFS, name string) string {
	data, err := h.ReadFile(InitRecordPath(name))
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(data), "\n")
	first = strings.TrimSpace(first)
	if !release.IsIdent(first) {
		return ""
	}
	return first
}
