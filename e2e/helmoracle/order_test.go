package helmoracle

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"helm.sh/helm/v3/pkg/releaseutil"

	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

// TestKindOrderAgainstHelm sorts one object of every kind in Helm's install order, and of kinds Helm does not
// know (cocogen's own, the operators'), with Helm's manifest sorter and with cocogen's: the kinds must come out
// in the same order (Helm's list first, then the others alphabetically).
func TestKindOrderAgainstHelm(t *testing.T) {
	kinds := slices.Concat([]string(releaseutil.InstallOrder), []string{
		"Application", "AppProject", "Subscription", "OperatorGroup", "KataConfig", "KbsConfig", "ExternalSecret",
		"Certificate", "Issuer", "Route", "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
	})
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 5 {
		shuffled := slices.Clone(kinds)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })

		files := map[string]string{}
		var objs []manifest.Object
		for i, k := range shuffled {
			files[fmt.Sprintf("templates/%03d.yaml", i)] = fmt.Sprintf("apiVersion: v1\nkind: %s\nmetadata:\n  name: x\n", k)
			n := node.NewMap().Set("apiVersion", node.NewString("v1")).Set("kind", node.NewString(k)).
				Set("metadata", node.NewMap().Set("name", node.NewString("x")))
			objs = append(objs, manifest.Object{Node: n})
		}
		_, sorted, err := releaseutil.SortManifests(files, nil, releaseutil.InstallOrder)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, m := range sorted {
			want = append(want, m.Head.Kind)
		}
		manifest.Sort(objs)
		var got []string
		for _, o := range objs {
			got = append(got, o.Kind())
		}
		if !slices.Equal(got, want) {
			t.Fatalf("round %d: kinds sorted\n  by Helm:    %v\n  by cocogen: %v", round, want, got)
		}
	}
}
