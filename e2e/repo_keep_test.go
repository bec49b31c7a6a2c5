package e2e

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/omnipack/omnipack/e2e/host"
)

// TestRepoKeepEveryClient: three versions published, the third with
// --keep 2, leave exactly the two newest of every format in the tree and,
// as clients see it, no link to a removed file. Then apt, dnf, pacman and go-apk, each fresh
// on this machine in a root of its own with every signature check on,
// resolve and get the newest; each still gets the older kept version from
// the metadata (pacman, whose database names only the newest, by its file
// name), and none gets the pruned one.
func TestRepoKeepEveryClient(t *testing.T) {
	host.RequireRoot(t)
	fx := newRepoFixture(t)
	fx.mustPublish(t, "--dist", fx.rel[v1].dir)
	fx.mustPublish(t, "--dist", fx.rel[v2].dir)
	c := newRepoClients(t, fx)
	out := fx.mustPublish(t, "--dist", fx.rel[v3].dir, "--keep", "2")
	t.Logf("publish %s --keep 2:\n%s", v3, out)

	kept := map[string][]string{} // package suffix: the versions in the tree
	err := filepath.WalkDir(fx.repo, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		// A generation directory (.NAME.GEN) is seen through its link; the
		// one before, kept for clients that were mid-update, may still
		// name what this publish pruned.
		if d.IsDir() && strings.HasPrefix(d.Name(), ".") && p != fx.repo {
			return fs.SkipDir
		}
		if d.Type()&fs.ModeSymlink != 0 {
			st, err := os.Stat(p)
			if err != nil {
				t.Errorf("%s links to a file that is gone: %v", p, err)
				return nil
			}
			if st.IsDir() {
				entries, err := os.ReadDir(p)
				if err != nil {
					return err
				}
				for _, e := range entries {
					if _, err := os.Stat(filepath.Join(p, e.Name())); err != nil {
						t.Errorf("%s, as clients see it, names a file that is gone: %v", filepath.Join(p, e.Name()), err)
					}
				}
			}
			return nil
		}
		name := d.Name()
		if !d.Type().IsRegular() || !strings.HasPrefix(name, agent) {
			return nil
		}
		for _, suffix := range []string{".deb", ".rpm", ".apk", ".pkg.tar.zst"} {
			if strings.HasSuffix(name, suffix) {
				for _, v := range []string{v1, v2, v3} {
					if strings.Contains(name, v) {
						kept[suffix] = append(kept[suffix], v)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{".deb", ".rpm", ".apk", ".pkg.tar.zst"} {
		got := kept[suffix]
		slices.Sort(got)
		if strings.Join(got, " ") != v2+" "+v3 {
			t.Errorf("%s packages in the tree after --keep 2: %v, want %s and %s", suffix, got, v2, v3)
		}
	}

	for _, client := range []string{clientApt, clientDNF, clientPacman, clientAPK} {
		if got, out, err := c.check(t, client, query{}); err != nil || got != v3 {
			t.Errorf("%s after --keep 2: %s %q, %v, want %s\n%s", client, agent, got, err, v3, out)
		}
		if _, out, err := c.check(t, client, query{Pin: v2}); err != nil {
			t.Errorf("%s after --keep 2 does not get the kept %s %s: %v\n%s", client, agent, v2, err, out)
		}
		if _, out, err := c.check(t, client, query{Pin: v1}); err == nil {
			t.Errorf("%s after --keep 2 still gets the pruned %s %s:\n%s", client, agent, v1, out)
		}
	}
}
