package e2e

import (
	"testing"

	"github.com/omnipack/omnipack/e2e/host"
	"github.com/omnipack/omnipack/pipeline"
)

// TestRepoChannelsAndProducts: two products share one repository tree
// (the example and net_probe, signed with the same keys) and the example
// has a second channel. Publishing the example's third version to stable
// with --keep 1 prunes only the example's older versions in stable: apt,
// dnf, pacman and go-apk, each fresh with every signature check on, then
// get the example's newest from stable and no longer its older one,
// net_probe from stable, and the example from beta, where it was
// published alone.
func TestRepoChannelsAndProducts(t *testing.T) {
	host.RequireRoot(t)
	fx := newRepoFixture(t)
	keys, err := pipeline.LoadKeys(fx.keyDir, "omnipack", []byte(keyPassword))
	if err != nil {
		t.Fatal(err)
	}
	probeRel, err := buildProbeRelease(t.TempDir(), "1.0.0", keys)
	if err != nil {
		t.Fatalf("building signed net_probe: %v", err)
	}
	fx.mustPublish(t, "--dist", fx.rel[v1].dir)
	fx.mustPublish(t, "--dist", probeRel.dir)
	fx.mustPublish(t, "--dist", fx.rel[v2].dir)
	fx.mustPublish(t, "--dist", fx.rel[v2].dir, "--channel", "beta")
	c := newRepoClients(t, fx)
	out := fx.mustPublish(t, "--dist", fx.rel[v3].dir, "--keep", "1")
	t.Logf("publish %s --keep 1:\n%s", v3, out)

	for _, client := range []string{clientApt, clientDNF, clientPacman, clientAPK} {
		for _, tc := range []struct {
			q    query
			want string // "" for a refusal
		}{
			{query{}, v3},
			{query{Pin: v2}, ""},
			{query{Name: probePackage}, "1.0.0"},
			{query{Channel: "beta"}, v2},
		} {
			got, out, err := c.check(t, client, tc.q)
			switch {
			case tc.want == "" && err == nil:
				t.Errorf("%s %+v: got %s, want it pruned\n%s", client, tc.q, got, out)
			case tc.want != "" && (err != nil || got != tc.want):
				t.Errorf("%s %+v: %q, %v, want %s\n%s", client, tc.q, got, err, tc.want, out)
			}
		}
	}
}
