package overlay

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/repo"
)

func TestBuildRepositoryOverlays(t *testing.T) {
	root, err := repo.Open("../..")
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	cases := []struct {
		dir   string
		kinds map[string]int
	}{
		{"overlays/hello-openshift", map[string]int{"Deployment": 3, "Service": 3, "Route": 3}},
		{"overlays/kbs-access", map[string]int{"Deployment": 1, "Service": 1, "Route": 1}},
	}
	for _, c := range cases {
		t.Run(c.dir, func(t *testing.T) {
			res, err := buildErr(root, c.dir, Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, o := range res.Resources {
				got[o.Node.Get("kind").Text]++
				if o.File == "" || !strings.HasPrefix(o.File, c.dir+"/") {
					t.Errorf("%s: origin file %q is not under %s", o.Node.Path("metadata", "name").Text, o.File, c.dir)
				}
				if o.Node.Path("metadata", "annotations", "config.kubernetes.io/origin") != nil {
					t.Errorf("origin annotation left in the output")
				}
				if o.Node.Path("kind").Text == "Route" {
					// The Route must point at the Service of its own variant.
					if to, name := o.Node.Path("spec", "to", "name").Text, o.Node.Path("metadata", "name").Text; to != name {
						t.Errorf("Route %s points at Service %s", name, to)
					}
				}
			}
			for k, n := range c.kinds {
				if got[k] != n {
					t.Errorf("%s: got %d, want %d (all: %v)", k, got[k], n, got)
				}
			}
			// The build read its kustomizations and the files they name, nothing else of overlays/.
			for _, f := range res.Files {
				if !strings.HasPrefix(f.Path, c.dir+"/") {
					t.Errorf("read %s, outside %s", f.Path, c.dir)
				}
			}
		})
	}
}
