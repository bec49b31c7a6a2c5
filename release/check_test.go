package release_test

import (
	"strings"
	"testing"

	"github.com/omnipack/omnipack/release"
)

// TestCheckName: the installers refuse a name no system user could have,
// whoever signed the manifest that carries it.
func TestCheckName(t *testing.T) {
	for name, ok := range map[string]bool{
		"crashwatch": true, strings.Repeat("a", 32): true, strings.Repeat("a", 33): false,
		strings.Repeat("a", 300): false, "../x": false, "a b": false, "": false, "node_exporter": true, "Agent": true,
	} {
		if err := release.CheckName(name); (err == nil) != ok {
			t.Errorf("CheckName(%q): %v", name, err)
		}
	}
}
