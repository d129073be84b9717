package model

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
)

// TestApplicationsInPartsReadAsOneDecode: a cluster group large enough to be decoded in parts side by side
// gives the applications and diagnostics of a decode in one part, with problems in every part.
func TestApplicationsInPartsReadAsOneDecode(t *testing.T) {
	var b strings.Builder
	b.WriteString("clusterGroup:\n  name: hub\n  applications:\n")
	for i := range 3 * minParallelApps {
		fmt.Fprintf(&b, "    app-%04d:\n      name: app-%04d\n      namespace: ns\n", i, i)
		switch i % 6 {
		case 0:
			b.WriteString("      path: x\n      project: p\n      argoProject: q\n") // a warning
		case 1: // neither path nor chart: an error
		case 2:
			b.WriteString("      path: x\n      disabled: true\n") // left out
		case 3:
			b.WriteString("      path: x\n      nmespace: typo\n") // an unknown key: an error
		case 4:
			fmt.Fprintf(&b, "      path: x\n    gap-%04d: ~\n", i) // and a null entry: left out
		default:
			b.WriteString("      path: x\n      chart: c\n") // a warning
		}
	}
	tree, err := node.Parse("values-hub.yaml", []byte(b.String()), node.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	apps := tree.Path("clusterGroup", "applications")
	decode := func(min int) ([]Application, []diag.Diagnostic) {
		saved := minParallelApps
		minParallelApps = min
		defer func() { minParallelApps = saved }()
		d := &diag.List{}
		var cg ClusterGroup
		decoder{c: schema.Checker{Diags: d}, now: time.Unix(0, 0)}.applications(apps, &cg)
		return cg.Applications, d.Sorted()
	}
	oneApps, oneDiags := decode(1 << 30)
	partApps, partDiags := decode(1)
	if len(oneApps) == 0 || len(oneDiags) < minParallelApps {
		t.Fatalf("the input decodes to %d applications and %d diagnostics; want many of both", len(oneApps), len(oneDiags))
	}
	if !reflect.DeepEqual(oneApps, partApps) {
		t.Errorf("applications decoded in parts differ from one decode (%d and %d applications)", len(partApps), len(oneApps))
	}
	if !reflect.DeepEqual(oneDiags, partDiags) {
		t.Errorf("diagnostics of the decode in parts differ from one decode (%d and %d)", len(partDiags), len(oneDiags))
	}
}
