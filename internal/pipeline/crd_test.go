package pipeline

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/crdschema"
	"github.com/cocogen/cocogen/internal/crdschema/crdschematest"
)

// TestRenderedObjectsMatchCRDs validates what every golden case and the repository's own pattern render against
// the upstream CRDs (see crdschema.Dir): a field the API server would reject fails the test. Objects whose kind
// has no CRD in the folder are skipped: the core kinds (v1 Namespace) silently, any other kind with a log line.
func TestRenderedObjectsMatchCRDs(t *testing.T) {
	s := crdschematest.Load(t)
	dirs, err := filepath.Glob("testdata/render/*")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no golden cases found")
	}
	type renderCase struct {
		name string
		req  Request
	}
	var cases []renderCase
	for _, dir := range dirs {
		req, _ := readCase(t, dir)
		cases = append(cases, renderCase{filepath.Base(dir), req})
	}
	cases = append(cases, renderCase{"repository-pattern", disk(t, "../..", "../../values", Request{All: true})},
		renderCase{"repository-pattern-baremetal", disk(t, "../..", "../../values", Request{ClusterGroup: "baremetal", All: true})},
		renderCase{"repository-pattern-baremetal-gpu", disk(t, "../..", "../../values", Request{ClusterGroup: "baremetal-gpu", All: true})},
		renderCase{"repository-pattern-trusted-hub", disk(t, "../..", "../../values", Request{ClusterGroup: "trusted-hub", All: true})},
		renderCase{"repository-pattern-spoke", disk(t, "../..", "../../values", Request{ClusterGroup: "spoke", All: true})})
	// Kinds that the bare-metal group renders and that must have met their CRD (a CRD missing from the folder
	// would otherwise skip them silently).
	mustValidate := map[string]bool{"KataConfig": false, "NodeFeatureDiscovery": false, "NodeFeatureRule": false,
		"MachineConfig": false, "SgxDevicePlugin": false, "LVMCluster": false, "KbsConfig": false, "ClusterPolicy": false}

	validated := 0
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := Render(c.req)
			if err != nil {
				if strings.HasPrefix(c.name, "repository-pattern") {
					t.Fatalf("the repository's own pattern does not render: %v", err)
				}
				t.Skip("error case: the render fails, so there is nothing to validate")
			}
			kinds := map[string]bool{}
			for _, o := range res.Objects {
				kinds[o.Kind()] = true
				if !s.Has(o.APIVersion(), o.Kind()) {
					if strings.Contains(o.APIVersion(), "/") {
						t.Logf("%s: not checked, the CRD folder has no CRD for it", o.ID())
					}
					continue
				}
				validated++
				if _, ok := mustValidate[o.Kind()]; ok && strings.HasPrefix(c.name, "repository-pattern") {
					mustValidate[o.Kind()] = true
				}
				err := s.Validate(o.Node)
				var verr *crdschema.Error
				switch {
				case errors.As(err, &verr): // names the object and lists the violations
					t.Errorf("%v\n  rendered from %s", err, o.Source)
				case err != nil:
					t.Errorf("%s (rendered from %s): %v", o.ID(), o.Source, err)
				}
			}
			if c.name == "repository-pattern-trusted-hub" {
				for _, k := range []string{"Policy", "Placement", "PlacementBinding", "ManagedClusterSetBinding", "MultiClusterHub", "KbsConfig"} {
					if !kinds[k] {
						t.Errorf("the trusted-hub render has no %s", k)
					}
				}
			}
		})
	}
	for kind, seen := range mustValidate {
		if !seen {
			t.Errorf("no %s of the built-in pattern was validated against its CRD", kind)
		}
	}
	if validated == 0 {
		t.Fatal("no rendered object had a CRD to be validated against")
	}
}
