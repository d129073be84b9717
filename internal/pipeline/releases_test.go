package pipeline

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/release"
)

func TestResolveReleases(t *testing.T) {
	const withApp = "clusterGroup:\n  name: hub\n  applications:\n    trustee:\n      name: trustee\n      namespace: trustee-operator-system\n      cocogen: trustee\n"
	for _, tc := range []struct {
		name, values string
		kata         string // the metadata's kata.version
		errs         []string
		trustee      string // the selected row's CSV ("" unpinned)
		annotated    bool
		kataFrom     string
	}{
		{
			name:      "no application cocogen renders: the CSVs are not checked",
			values:    "clusterGroup:\n  name: hub\n  subscriptions:\n    osc:\n      name: sandboxed-containers-operator\n      csv: sandboxed-containers-operator.v1.7.0\n",
			annotated: true,
		},
		{
			name:   "list form names the entry by index",
			values: withApp + "  subscriptions:\n    - name: sandboxed-containers-operator\n      csv: sandboxed-containers-operator.v1.7.0\n",
			errs:   []string{`v.yaml:10:12: error: clusterGroup.subscriptions[0].csv: unknown OpenShift sandboxed containers CSV "sandboxed-containers-operator.v1.7.0"`},
		},
		{
			name:      "a disabled subscription pins nothing",
			values:    withApp + "  subscriptions:\n    trustee:\n      name: trustee-operator\n      csv: trustee-operator.v9.9.9\n      disabled: true\n",
			annotated: true,
		},
		{
			name:    "the community operator, found by its catalog source",
			values:  withApp + "  subscriptions:\n    trustee:\n      name: trustee-operator\n      source: community-operators\n      csv: trustee-operator.v0.21.0\n",
			trustee: "trustee-operator.v0.21.0",
		},
		{
			name:   "a Red Hat CSV asked of the community catalog",
			values: withApp + "  subscriptions:\n    trustee:\n      name: trustee-operator\n      source: community-operators\n      csv: trustee-operator.v1.2.0\n",
			errs:   []string{`v.yaml:12:12: error: clusterGroup.subscriptions.trustee.csv: unknown trustee-operator CSV "trustee-operator.v1.2.0" from community-operators: the KBS configuration format changes between releases, and cocogen knows the releases of trustee-operator.v0.17.0, trustee-operator.v0.18.0, trustee-operator.v0.19.0, trustee-operator.v0.21.0 (internal/release/trustee.go)`},
		},
		{
			name:      "the subscription key does not matter, the package does",
			values:    withApp + "  subscriptions:\n    kbs:\n      name: trustee-operator\n      csv: trustee-operator.v1.2.1\n",
			trustee:   "trustee-operator.v1.2.1",
			annotated: true,
		},
		{
			name:     "a pinned OSC release gives the Kata releases when the metadata names none",
			values:   withApp + "  subscriptions:\n    osc:\n      name: sandboxed-containers-operator\n      csv: sandboxed-containers-operator.v1.10.2\n",
			kataFrom: "sandboxed-containers-operator.v1.10.2 at v.yaml:11:12", annotated: true,
		},
		{
			name:     "the metadata's kata.version within the pinned release",
			values:   withApp + "  subscriptions:\n    osc:\n      name: sandboxed-containers-operator\n      csv: sandboxed-containers-operator.v1.10.2\n",
			kata:     "3.19.1",
			kataFrom: `kata.version "3.19.1" at m.yaml:4:12`, annotated: true,
		},
		{
			name:   "the metadata's kata.version outside the pinned release",
			values: withApp + "  subscriptions:\n    osc:\n      name: sandboxed-containers-operator\n      csv: sandboxed-containers-operator.v1.10.2\n",
			kata:   "3.21.0",
			errs:   []string{`v.yaml:11:12: error: clusterGroup.subscriptions.osc.csv: sandboxed-containers-operator.v1.10.2 runs with Kata 3.16 to 3.19 (the Kata of the OpenShift releases it supports), but the cluster metadata says kata.version "3.21.0" at m.yaml:4:12`},
		},
		{
			name:   "an OSC release cocogen does not render for",
			values: withApp + "  subscriptions:\n    osc:\n      name: sandboxed-containers-operator\n      csv: sandboxed-containers-operator.v1.9.0\n",
			errs:   []string{`v.yaml:11:12: error: clusterGroup.subscriptions.osc.csv: sandboxed-containers-operator.v1.9.0: OSC 1.9 is the technology preview of confidential containers`},
		},
		{
			name:      "an OLMv1 ClusterExtension pins no CSV",
			values:    withApp + "  subscriptions:\n    trustee:\n      name: trustee-operator\n      channels: [stable]\n      csv: trustee-operator.v9.9.9\n",
			annotated: true,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tree, err := node.Parse("v.yaml", []byte(tc.values), node.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			v, md := model.Decode(tree)
			if md.HasErrors() {
				t.Fatal(md.Sorted())
			}
			var meta *metadata.Metadata
			if tc.kata != "" {
				var d *diag.List
				meta, d = metadata.Parse("m.yaml", []byte("apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\nkata:\n  version: \""+tc.kata+"\"\n"))
				if meta == nil {
					t.Fatal(d.Sorted())
				}
			}
			d := &diag.List{}
			r := resolveReleases(v, meta, d)
			var got []string
			for _, x := range d.Sorted() {
				got = append(got, x.String())
			}
			if len(got) != len(tc.errs) {
				t.Fatalf("diagnostics %q, want %q", got, tc.errs)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.errs[i]) {
					t.Errorf("diagnostic\n%s\nwant prefix\n%s", got[i], tc.errs[i])
				}
			}
			if len(tc.errs) > 0 {
				return
			}
			if r.trustee.CSV != tc.trustee || (len(r.trustee.ConfigMapAnnotations) > 0) != tc.annotated || !r.trustee.Writes() {
				t.Errorf("trustee row %+v", r.trustee)
			}
			if r.kata.from != tc.kataFrom {
				t.Errorf("kata from %q, want %q", r.kata.from, tc.kataFrom)
			}
		})
	}
}

// A pinned OSC release without an exact Kata release decides the annotation from its range, and the agent
// policy is then checked for any release.
func TestKataReleaseFromARange(t *testing.T) {
	row, _ := release.Sandboxed("sandboxed-containers-operator.v1.10.0")
	k := kataRelease{rng: row.Kata}
	if name, ignored := k.initData(release.Remote); name != release.AnnotationRuntime || ignored {
		t.Errorf("OSC 1.10: %s (ignored %v)", name, ignored)
	}
	if !k.agent().IsZero() {
		t.Errorf("agent release %v, want any", k.agent())
	}
	exact := kataRelease{exact: release.V(3, 20, 0)}
	if name, ignored := exact.initData(release.Remote); name != release.AnnotationRuntime || !ignored {
		t.Errorf("Kata 3.20 peer pods: %s (ignored %v)", name, ignored)
	}
	if a := exact.agent(); a.Major != 3 || a.Minor != 20 {
		t.Errorf("agent release %v", a)
	}
	if name, _ := (kataRelease{}).initData(release.Remote); name != release.AnnotationHypervisor {
		t.Errorf("unknown Kata: %s", name)
	}
}
