package acm

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cocogen/cocogen"
	"github.com/cocogen/cocogen/internal/bootstrap"
	"github.com/cocogen/cocogen/internal/crdschema"
	"github.com/cocogen/cocogen/internal/crdschema/crdschematest"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

func input() Input {
	return Input{
		Namespace: "open-cluster-management", Pattern: "cocogen",
		RepoURL: "https://github.com/me/cocogen.git", Revision: "main",
		ArgoNamespace: "vp-gitops", GitOpsNamespace: "openshift-gitops-operator", Channel: "gitops-1.21",
		Image: "quay.io/me/cocogen:v0.1.0", PluginYAML: cocogen.PluginYAML,
		Groups: []Group{
			{Name: "spoke", Labels: []Label{{"clusterGroup", "spoke"}}},
			{Name: "edge", Labels: []Label{{"zone", "b"}, {"tier", "edge"}}, Env: []bootstrap.EnvVar{{Name: "COCOGEN_SET", Value: "clusterGroup.isHubCluster=false"}}},
		},
	}
}

// policyObjects are the objects a Policy's ConfigurationPolicies enforce on the managed clusters.
func policyObjects(p *node.Node) []*node.Node {
	var out []*node.Node
	for _, t := range p.Path("spec", "policy-templates").Items() {
		for _, ot := range t.Path("objectDefinition", "spec", "object-templates").Items() {
			out = append(out, ot.Get("objectDefinition"))
		}
	}
	return out
}

// TestObjectsValidateAgainstCRDs validates every object, and every object a Policy delivers, against the
// upstream CRDs: a Policy the hub's API server rejects, or an Argo CD object the spoke's rejects, fails here.
func TestObjectsValidateAgainstCRDs(t *testing.T) {
	s := crdschematest.Load(t)
	objs, d := Render(input())
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	validated := map[string]bool{}
	check := func(n *node.Node, where string) {
		o := manifest.Object{Node: n}
		if !s.Has(o.APIVersion(), o.Kind()) {
			return
		}
		validated[o.Kind()] = true
		if err := s.Validate(n); err != nil {
			var verr *crdschema.Error
			if errors.As(err, &verr) {
				t.Errorf("%s: %v", where, err)
			} else {
				t.Errorf("%s %s: %v", where, o.ID(), err)
			}
		}
	}
	for _, o := range objs {
		check(o.Node, "hub")
		if o.Kind() == "Policy" {
			for _, n := range policyObjects(o.Node) {
				check(n, "delivered by "+o.Name())
			}
		}
	}
	for _, k := range []string{"Policy", "Placement", "PlacementBinding", "ManagedClusterSetBinding", "MultiClusterHub", "ArgoCD", "Application", "Subscription", "OperatorGroup"} {
		if !validated[k] {
			t.Errorf("no %s was validated against its CRD", k)
		}
	}
}

// TestDeliversTheSpokeGroup checks what makes ACM deliver each group: a Placement that selects the group's
// clusters but never the hub, a PlacementBinding of the group's three Policies to it, and a root Application that
// names the cocogen plugin with the group and the managed cluster's name.
func TestDeliversTheSpokeGroup(t *testing.T) {
	objs, d := Render(input())
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	byID := map[string]*node.Node{}
	for _, o := range objs {
		byID[o.Kind()+"/"+o.Name()] = o.Node
		if ns := o.Node.Path("metadata", "namespace").Scalar(); ns != "open-cluster-management" {
			t.Errorf("%s is in namespace %q, want open-cluster-management", o.ID(), ns)
		}
	}
	if byID["ManagedClusterSetBinding/default"] == nil || byID["MultiClusterHub/multiclusterhub"] == nil {
		t.Fatalf("no ManagedClusterSetBinding default or MultiClusterHub: %v", keys(byID))
	}
	for _, g := range []struct {
		name   string
		labels string
	}{{"spoke", "clusterGroup=spoke"}, {"edge", "tier=edge,zone=b"}} {
		pl := byID["Placement/"+g.name+"-placement"]
		if pl == nil {
			t.Fatalf("no Placement for %s", g.name)
		}
		sel := pl.Path("spec", "predicates").Items()[0].Path("requiredClusterSelector", "labelSelector")
		var got []string
		for _, e := range sel.Get("matchLabels").Entries() {
			got = append(got, e.Key+"="+e.Value.Scalar())
		}
		if strings.Join(got, ",") != g.labels {
			t.Errorf("%s: matchLabels %v, want %s", g.name, got, g.labels)
		}
		if ex := sel.Get("matchExpressions").Items()[0]; ex.Get("key").Scalar() != "local-cluster" || ex.Get("operator").Scalar() != "NotIn" {
			t.Errorf("%s: the Placement may select the hub itself", g.name)
		}
		pb := byID["PlacementBinding/"+g.name+"-placement-binding"]
		if pb == nil || pb.Path("placementRef", "name").Scalar() != g.name+"-placement" {
			t.Fatalf("%s: no PlacementBinding to %s-placement", g.name, g.name)
		}
		var subjects []string
		for _, s := range pb.Get("subjects").Items() {
			subjects = append(subjects, s.Get("name").Scalar())
			if byID["Policy/"+s.Get("name").Scalar()] == nil {
				t.Errorf("%s: PlacementBinding binds Policy %s, which is not rendered", g.name, s.Get("name").Scalar())
			}
		}
		if len(subjects) != 3 {
			t.Errorf("%s: PlacementBinding subjects %v, want the three policies", g.name, subjects)
		}
		root := policyObjects(byID["Policy/"+g.name+"-clustergroup-policy"])
		if len(root) != 1 || root[0].Path("kind").Scalar() != "Application" {
			t.Fatalf("%s: the clustergroup policy delivers %d objects, want the root Application", g.name, len(root))
		}
		env := map[string]string{}
		for _, e := range root[0].Path("spec", "source", "plugin", "env").Items() {
			env[e.Get("name").Scalar()] = e.Get("value").Scalar()
		}
		if env["COCOGEN_CLUSTER_GROUP"] != g.name || env["COCOGEN_CLUSTER"] != ClusterNameTemplate {
			t.Errorf("%s: root Application env %v", g.name, env)
		}
		if name := root[0].Path("spec", "source", "plugin", "name").Scalar(); name != bootstrap.PluginName {
			t.Errorf("%s: root Application plugin %q", g.name, name)
		}
		argo := policyObjects(byID["Policy/"+g.name+"-gitops-policy-argocd"])
		var sidecar bool
		for _, n := range argo {
			if n.Path("kind").Scalar() == "ArgoCD" {
				for _, c := range n.Path("spec", "repo", "sidecarContainers").Items() {
					sidecar = sidecar || c.Get("image").Scalar() == "quay.io/me/cocogen:v0.1.0"
				}
			}
		}
		if !sidecar {
			t.Errorf("%s: the Argo CD instance delivered has no cocogen sidecar", g.name)
		}
	}
	if env := policyObjects(byID["Policy/edge-clustergroup-policy"])[0].Path("spec", "source", "plugin", "env").Items(); len(env) != 3 || env[2].Get("value").Scalar() != "clusterGroup.isHubCluster=false" {
		t.Errorf("edge: the helmOverrides do not reach the root Application's env")
	}
}

// TestSelectorReplacesLabels: a clusterSelector is the Placement's label selector as written.
func TestSelectorReplacesLabels(t *testing.T) {
	in := input()
	sel, err := node.Parse("sel", []byte("matchExpressions:\n- {key: cloud, operator: In, values: [Azure]}\n"), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	in.Groups = []Group{{Name: "spoke", Selector: sel, Labels: []Label{{"ignored", "x"}}}}
	objs, _ := Render(in)
	for _, o := range objs {
		if o.Kind() == "Placement" {
			var b bytes.Buffer
			if err := manifest.Encode(&b, "yaml", []manifest.Object{o}); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(b.String(), "key: cloud") || strings.Contains(b.String(), "ignored") || strings.Contains(b.String(), "local-cluster") {
				t.Errorf("Placement does not use the clusterSelector as written:\n%s", b.String())
			}
		}
	}
}

func TestRenderIsDeterministic(t *testing.T) {
	enc := func() string {
		objs, _ := Render(input())
		var b bytes.Buffer
		if err := manifest.Encode(&b, "yaml", objs); err != nil {
			t.Fatal(err)
		}
		return b.String()
	}
	if a, b := enc(), enc(); a != b {
		t.Error("two renders differ")
	}
}

func keys(m map[string]*node.Node) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
