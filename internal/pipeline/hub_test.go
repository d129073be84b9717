package pipeline

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/rvps"
	"github.com/cocogen/cocogen/internal/trusteepolicy"
)

func renderGroup(t *testing.T, root, group, cluster string) (*Result, error) {
	t.Helper()
	return Render(disk(t, root, filepath.Join(root, "values"), Request{ClusterGroup: group, Cluster: cluster, All: true}))
}

func find(objs []manifest.Object, kind, name string) *manifest.Object {
	for i := range objs {
		if objs[i].Kind() == kind && (name == "" || objs[i].Name() == name) {
			return &objs[i]
		}
	}
	return nil
}

// registeredPCR8 reads the Azure PCR8 of every profile the rvps-reference-values ConfigMap registers.
func registeredPCR8(t *testing.T, objs []manifest.Object) map[string]string {
	t.Helper()
	cm := find(objs, "ConfigMap", trustee.ConfigMapRefValues)
	if cm == nil {
		t.Fatal("no rvps-reference-values")
	}
	stored, err := rvps.Decode([]byte(cm.Node.Path("data", "reference_value").Scalar()))
	if err != nil {
		t.Fatal(err)
	}
	var rv struct{ Value map[string]map[string]string }
	if err := json.Unmarshal(stored[trusteepolicy.RVInitDataProfiles], &rv); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for name, b := range rv.Value {
		out[name] = b[trusteepolicy.BindingAzurePCR8]
	}
	return out
}

// TestHubAndSpoke is the acceptance of the built-in hub and spoke: the hub renders Trustee and the ACM objects
// that deliver the spoke group; the spoke renders peer pods and no Trustee, its init-data sends pods to the
// hub's KBS, and the hub registers the PCR8 of the spoke's default profile.
func TestHubAndSpoke(t *testing.T) {
	hub, err := Render(disk(t, "../..", "../../values", Request{ClusterGroup: "trusted-hub", All: true}))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []struct{ kind, name string }{
		{"KbsConfig", ""}, {"Policy", "spoke-clustergroup-policy"}, {"Placement", "spoke-placement"},
		{"PlacementBinding", "spoke-placement-binding"}, {"ManagedClusterSetBinding", "default"},
	} {
		if find(hub.Objects, want.kind, want.name) == nil {
			t.Errorf("the trusted-hub render has no %s %s", want.kind, want.name)
		}
	}
	if find(hub.Objects, "KataConfig", "") != nil || find(hub.Objects, "ConfigMap", "peer-pods-cm") != nil {
		t.Error("the trusted-hub render runs sandboxed containers")
	}
	if strings.Join(hub.Managed, ",") != "spoke/spoke-1" {
		t.Errorf("the hub registers the init-data of %v, want spoke/spoke-1", hub.Managed)
	}

	spoke, err := Render(disk(t, "../..", "../../values", Request{ClusterGroup: "spoke", All: true}))
	if err != nil {
		t.Fatal(err)
	}
	if spoke.Cluster != "spoke-1" {
		t.Errorf("the spoke render read the metadata of cluster %q, want spoke-1 (the group's only cluster file)", spoke.Cluster)
	}
	if find(spoke.Objects, "KbsConfig", "") != nil {
		t.Error("the spoke render has a KbsConfig")
	}
	ppcm := find(spoke.Objects, "ConfigMap", "peer-pods-cm")
	if ppcm == nil {
		t.Fatal("the spoke render has no peer-pods-cm")
	}
	if r := ppcm.Node.Path("data", "AZURE_REGION").Scalar(); r != "westeurope" {
		t.Errorf("peer-pods-cm AZURE_REGION %q: not the spoke's own facts", r)
	}
	doc, err := initdata.Decode([]byte(ppcm.Node.Path("data", "INITDATA").Scalar()))
	if err != nil {
		t.Fatal(err)
	}
	aa, _ := doc.Get("aa.toml")
	if !strings.Contains(aa, `url = "https://kbs.apps.coco.example.com"`) {
		t.Errorf("the spoke's aa.toml does not name the hub's KBS:\n%s", aa)
	}
	def, err := spoke.Profile(spoke.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	if doc.Digests.AzurePCR8 != def.Digests.AzurePCR8 {
		t.Errorf("peer-pods-cm INITDATA PCR8 %s, profile %s", doc.Digests.AzurePCR8, def.Digests.AzurePCR8)
	}
	if got := registeredPCR8(t, hub.Objects)[spoke.DefaultProfile]; got != def.Digests.AzurePCR8 {
		t.Errorf("the hub registers PCR8 %q for profile %s, the spoke runs %s", got, spoke.DefaultProfile, def.Digests.AzurePCR8)
	}
}

// TestHubSeesTheSpokesPolicy: a spoke's own agent policy (only the spoke group names it) reaches the hub's
// reference values with the spoke's bytes, because the hub renders the spoke from the same sources.
func TestHubSeesTheSpokesPolicy(t *testing.T) {
	root := repoCopy(t)
	src, err := os.ReadFile(filepath.Join(root, "policies/agent/default.rego"))
	if err != nil {
		t.Fatal(err)
	}
	spokePolicy := strings.Replace(string(src), "default ReadStreamRequest := false", "default ReadStreamRequest := true", 1)
	if err := os.WriteFile(filepath.Join(root, "policies/agent/spoke-default.rego"), []byte(spokePolicy), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(filepath.Join(root, "values/values-spoke.yaml"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("global:\n  coco:\n    initdata:\n      profiles:\n        default:\n          agentPolicy: spoke-default\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	spoke, err := renderGroup(t, root, "spoke", "")
	if err != nil {
		t.Fatal(err)
	}
	hub, err := renderGroup(t, root, "trusted-hub", "")
	if err != nil {
		t.Fatal(err)
	}
	azure, err := renderGroup(t, root, "azure", "")
	if err != nil {
		t.Fatal(err)
	}
	s, a := spoke.Profiles["default"].Digests.AzurePCR8, azure.Profiles["default"].Digests.AzurePCR8
	if s == a {
		t.Fatal("the spoke's own policy renders the same init-data as the default policy")
	}
	if got := registeredPCR8(t, hub.Objects)["default"]; got != s {
		t.Errorf("the hub registers %s for the spoke's default profile, the spoke runs %s", got, s)
	}
}

// TestHubAndSpokeErrors: what the hub and its spokes must agree on, and the spoke's metadata file, are errors
// that name the file and what to change.
func TestHubAndSpokeErrors(t *testing.T) {
	cases := []struct {
		name           string
		edit           func(t *testing.T, root string)
		group, cluster string
		want           []string
	}{
		{
			name: "spoke without its metadata file", group: "spoke", cluster: "spoke-2",
			want: []string{"values/clusters/spoke/spoke-2.yaml", "cluster spoke-2 of cluster group spoke has no metadata file: add values/clusters/spoke/spoke-2.yaml"},
		},
		{
			name: "cluster name differs from the file", group: "spoke",
			edit: func(t *testing.T, root string) {
				replaceIn(t, filepath.Join(root, "values/clusters/spoke/spoke-1.yaml"), "  name: spoke-1", "  name: spoke-9")
			},
			want: []string{"spoke-1.yaml", `cluster.name: is "spoke-9", but this is the metadata file of cluster spoke-1`},
		},
		{
			name: "two clusters need --cluster", group: "spoke",
			edit: func(t *testing.T, root string) {
				data, _ := os.ReadFile(filepath.Join(root, "values/clusters/spoke/spoke-1.yaml"))
				os.WriteFile(filepath.Join(root, "values/clusters/spoke/spoke-2.yaml"), []byte(strings.ReplaceAll(string(data), "spoke-1", "spoke-2")), 0o644)
			},
			want: []string{"cluster group spoke runs on 2 clusters (spoke-1, spoke-2): name one with --cluster"},
		},
		{
			name: "spoke attests to another KBS", group: "trusted-hub",
			edit: func(t *testing.T, root string) {
				replaceIn(t, filepath.Join(root, "values/clusters/spoke/spoke-1.yaml"), "hubAppsDomain: apps.coco.example.com", "hubAppsDomain: apps.other.example.com")
			},
			want: []string{"values/clusters/spoke/spoke-1.yaml:", "cluster spoke-1 of cluster group spoke sends its pods to the KBS at https://kbs.apps.other.example.com, but its hub (cluster group trusted-hub) serves it at https://kbs.apps.coco.example.com"},
		},
		{
			name: "a group the hub renders from another revision", group: "trusted-hub",
			edit: func(t *testing.T, root string) {
				replaceIn(t, filepath.Join(root, "values/values-trusted-hub.yaml"), "      name: spoke\n", "      name: spoke\n      targetRevision: v2\n")
			},
			want: []string{"values/values-trusted-hub.yaml:", "clusterGroup.managedClusterGroups.spoke.targetRevision: not supported by cocogen: every spoke renders the hub's revision"},
		},
		{
			name: "the same profile, other init-data on hub and spoke", group: "trusted-hub",
			edit: func(t *testing.T, root string) {
				// The hub runs the debug profile's pods itself, with its own init-data; the spoke's debug profile
				// differs (its cluster runs another Kata release's annotation, but here: another agent policy).
				src, _ := os.ReadFile(filepath.Join(root, "policies/agent/debug.rego"))
				os.WriteFile(filepath.Join(root, "policies/agent/spoke-debug.rego"), []byte(strings.Replace(string(src), "package agent_policy", "package agent_policy\n\n# spoke", 1)), 0o644)
				f, _ := os.OpenFile(filepath.Join(root, "values/values-spoke.yaml"), os.O_APPEND|os.O_WRONLY, 0)
				f.WriteString("global:\n  coco:\n    initdata:\n      profiles:\n        debug:\n          agentPolicy: spoke-debug\n")
				f.Close()
				replaceIn(t, filepath.Join(root, "values/values-trusted-hub.yaml"), "  applications:\n", "  applications:\n    sandbox:\n      name: sandbox\n      namespace: openshift-sandboxed-containers-operator\n      argoProject: hub\n      cocogen: sandbox\n")
				replaceIn(t, filepath.Join(root, "values/values-global.yaml"), "      default: default\n", "      default: debug\n")
			},
			want: []string{"init-data profile debug renders other init-data in cluster group spoke (cluster spoke-1)", "than in cluster group trusted-hub"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := repoCopy(t)
			if c.edit != nil {
				c.edit(t, root)
			}
			_, err := renderGroup(t, root, c.group, c.cluster)
			var de *diag.Diagnostics
			if !errors.As(err, &de) {
				t.Fatalf("render: %v, want diagnostics", err)
			}
			var text []string
			for _, it := range de.Items {
				if it.Severity == diag.Error {
					text = append(text, it.String())
				}
			}
			all := strings.Join(text, "\n")
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Errorf("the errors lack %q:\n%s", w, all)
				}
			}
		})
	}
}

// TestRenderGroups: every cluster group of the repository, the spoke once per cluster file, each object marked.
func TestRenderGroups(t *testing.T) {
	groups, _, err := RenderGroups(disk(t, "../..", "../../values", Request{}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, g := range groups {
		names = append(names, g.Target.String())
		for _, o := range g.Result.Objects {
			if o.Group != g.Target.Group || o.Cluster != g.Target.Cluster {
				t.Fatalf("%s of %s is marked %s/%s", o.ID(), g.Target, o.Group, o.Cluster)
			}
		}
	}
	if got := strings.Join(names, ", "); got != "azure, baremetal, baremetal-gpu, spoke (cluster spoke-1), trusted-hub" {
		t.Errorf("groups %s", got)
	}
}

// TestManagedRendersShareTheBudget: the renders of the managed clusters spend the hub's budgets with it (one
// count for the hub and every cluster it renders), so a repository with many cluster files cannot multiply
// the work of one render.
func TestManagedRendersShareTheBudget(t *testing.T) {
	hubReq := disk(t, "../..", "../../values", Request{ClusterGroup: "trusted-hub", All: true})
	hub, err := Render(hubReq)
	if err != nil {
		t.Fatal(err)
	}
	spoke, err := Render(disk(t, "../..", "../../values", Request{ClusterGroup: "spoke", Cluster: "spoke-1", All: true}))
	if err != nil {
		t.Fatal(err)
	}
	// The hub's count holds what its spoke's render reads, and the hub's own reads are at least half of that.
	own := hub.Usage.InputBytes - spoke.Usage.InputBytes
	if own <= spoke.Usage.InputBytes/2 {
		t.Fatalf("the hub reads %d bytes in all, its spoke alone %d: the hub's count does not hold its spoke's reads", hub.Usage.InputBytes, spoke.Usage.InputBytes)
	}
	// A budget that the hub's own reads and the spoke's reads each fit in, but not both: a render with a
	// budget of its own per cluster would pass.
	hubReq.Budget = budget.Defaults()
	hubReq.Budget.InputBytes = hub.Usage.InputBytes - spoke.Usage.InputBytes/2
	_, err = Render(hubReq)
	var de *diag.Diagnostics
	if !errors.As(err, &de) || !strings.Contains(de.Error(), "input-bytes") || !strings.Contains(de.Error(), "spoke") {
		t.Fatalf("render with a budget for the hub's reads and half of its spoke's: %v, want an input-bytes budget error in the spoke's render", err)
	}
	// The whole count is enough.
	hubReq.Budget.InputBytes = hub.Usage.InputBytes
	if _, err := Render(hubReq); err != nil {
		t.Fatalf("render with the hub's whole count as the budget: %v", err)
	}
}
