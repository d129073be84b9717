package appofapps

import (
	"strings"
	"testing"
)

// TestTitleIsSprigTitle compares Title with strings.Title, which sprig's title function is (sprig v3.2.3
// functions.go), on the cluster group names of the Validated Patterns and on the separators that matter.
func TestTitleIsSprigTitle(t *testing.T) {
	for _, name := range []string{"trusted-hub", "hub", "azure", "spoke", "my_group", "group.one", "a-b-c", "factory2", "2fast", "x--y", "Élan-été", "", "a b"} {
		//lint:ignore SA1019 strings.Title is the reference: sprig's title calls it.
		want := strings.Title(name) //nolint:staticcheck
		if got := Title(name); got != want {
			t.Errorf("Title(%q) = %q, want %q (strings.Title)", name, got, want)
		}
	}
	if got := Title("trusted-hub"); got != "Trusted-Hub" {
		t.Errorf("Title(trusted-hub) = %q, want Trusted-Hub", got)
	}
}
