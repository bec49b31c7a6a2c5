// Package install installs, upgrades and removes a release made by
// `omnipack build` on this host, natively in Go: the same flow as the
// generated install.sh, for hosts where a shell pipe is not wanted
// (`omnipack install`), plus the air-gapped bundle it installs from
// (`omnipack bundle`).
//
// # Flow
//
//  1. Trust: release.json and release.json.sig are fetched from the source
//     (a dist or bundle directory, or an http(s) URL of one) and the
//     signature is checked against the pinned release key before the
//     manifest is even parsed. Then: the schema, the signed release version
//     and expiry, the key the manifest names, and every artifact entry
//     (plain file names, sizes, sha256 hex) are checked. See LoadRelease.
//  2. Plan: the host's detector.Facts, the verified manifest and what is
//     installed already (State) decide, purely, the artifact and every step
//     (NewPlan, NewUninstallPlan). Nothing in planning touches the host, so
//     the decisions are unit-tested without root; --dry-run prints the plan.
//  3. Execute: the Executor downloads the artifact into a private 0700
//     directory, capped at its signed size and with time and speed limits,
//     checks its sha256, installs it through the package manager from the
//     local file (or unpacks the release tarball and runs its maintainer
//     scripts), records the release, edits the config, restarts the service
//     after a config change and checks its health through the init.
//
// # The release record
//
// /var/lib/omnipack/NAME.release records the release installed on the host,
// for the rollback check; install.sh reads and writes the same file, as
// key=value lines:
//
//	release_version=1700000000  the manifest's release version
//	version=1.2.3               the manifest's version
//	release=1                   the packaging revision
//	format=deb                  how it was installed (deb, rpm, apk,
//	package_manager=apt         archlinux, tarball), with which tool,
//	artifact=NAME_1.2.3-1_amd64.deb
//	sha256=…                    and which file.
//
// ParseRecord refuses a file whose release
// version or version is unreadable: a damaged record must not silently
// allow a rollback. Unknown keys are ignored. The file is mode 0644,
// written atomically, kept by --uninstall (so that installing an older
// release afterwards is still a rollback) and deleted by --purge.
//
// # Secrets
//
// No --set value is ever printed, logged or passed in a process argument:
// the config is edited in Go, and output shows `key=<set>`. omnipack does
// not read omnipack.toml at install time, so it cannot know which keys are
// secret and treats every value as one. --set-env KEY=VAR reads a value
// from the environment, keeping it out of omnipack's own arguments too.
//
// # Trust in the key
//
// The Go binary embeds no release key: --key PUB is required. Passing
// --key-from-release instead uses the source's own keys/release.pub, which
// proves that the files are intact and consistent with each other but not
// who made them; omnipack says so loudly.
package install
