package e2e

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/argoproj/argo-cd/v2/pkg/apis/application/v1alpha1"
	"github.com/argoproj/gitops-engine/pkg/utils/kube"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// managedClusterName is the ACM hub template that the hub's policy leaves in the spoke's root Application;
// ACM's policy propagator replaces it with the ManagedCluster's name as it copies the policy into the
// cluster's namespace (open-cluster-management.io, "Template processing": hub templates). This test does the
// same replacement: it is the one thing ACM changes in the Application on its way to the spoke.
const managedClusterName = "{{hub .ManagedClusterName hub}}"

// deliveredRootApplication is the spoke's root Application as the trusted hub's ACM policy delivers it to the
// managed cluster named cluster: taken from the object templates of the hub's rendered Policy
// spoke-clustergroup-policy, with the hub template filled in.
func deliveredRootApplication(t *testing.T, cluster string) *v1alpha1.Application {
	t.Helper()
	out, stderr, code := cocogen(t, repoCopy, "render", "--repo-root", ".", "--cluster-group", "trusted-hub", "--app", "acm")
	if code != 0 {
		t.Fatalf("cocogen render --cluster-group trusted-hub --app acm: exit %d\n%s", code, stderr)
	}
	objs, err := kube.SplitYAML([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		if o.GetKind() != "Policy" || o.GetName() != "spoke-clustergroup-policy" {
			continue
		}
		templates, _, _ := unstructured.NestedSlice(o.Object, "spec", "policy-templates")
		for _, pt := range templates {
			objTemplates, _, _ := unstructured.NestedSlice(pt.(map[string]any), "objectDefinition", "spec", "object-templates")
			for _, ot := range objTemplates {
				def, _, _ := unstructured.NestedMap(ot.(map[string]any), "objectDefinition")
				if def["kind"] != "Application" {
					continue
				}
				data, err := json.Marshal(def)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(string(data), managedClusterName) {
					t.Fatalf("the delivered root Application does not name the managed cluster with %s:\n%s", managedClusterName, data)
				}
				var filled map[string]any
				if err := json.Unmarshal([]byte(strings.ReplaceAll(string(data), managedClusterName, cluster)), &filled); err != nil {
					t.Fatalf("the delivered root Application does not parse after ACM's replacement: %v", err)
				}
				var app v1alpha1.Application
				decodeStrict(t, &unstructured.Unstructured{Object: filled}, &app)
				return &app
			}
		}
	}
	t.Fatal("the trusted-hub render has no Policy spoke-clustergroup-policy delivering a root Application")
	return nil
}

// TestSpokeDeliveredByACM renders the spoke's root Application, as the hub's ACM policy delivers it to
// cluster spoke-1, through the cmp-server, and compares it with `cocogen render --cluster-group spoke` run on
// a fresh checkout (which reads the group's only cluster file, values/clusters/spoke/spoke-1.yaml); then every
// child Application of the spoke, through the cmp-server against `cocogen render --app`.
func TestSpokeDeliveredByACM(t *testing.T) {
	app := deliveredRootApplication(t, "spoke-1")
	got, err := generate(t.Context(), t, repoCopy, app)
	if err != nil {
		t.Fatalf("generate the spoke's root Application through argocd-cmp-server: %v", err)
	}
	out, stderr, code := cocogen(t, repoCopy, "render", "--repo-root", ".", "--cluster-group", "spoke")
	if code != 0 {
		t.Fatalf("cocogen render --cluster-group spoke: exit %d\n%s", code, stderr)
	}
	want, err := kube.SplitYAML([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) == 0 {
		t.Fatal("the cmp-server returned no objects for the spoke")
	}
	sameObjects(t, "spoke root application", got, want)

	children := 0
	for _, o := range got {
		if o.GetKind() != "Application" {
			continue
		}
		var child v1alpha1.Application
		decodeStrict(t, o, &child)
		src := child.Spec.GetSource()
		if src.Plugin == nil || src.Plugin.Name != pluginName {
			continue
		}
		children++
		t.Run(child.Name, func(t *testing.T) {
			cg, err := generate(t.Context(), t, repoCopy, &child)
			if err != nil {
				t.Fatalf("generate %s through argocd-cmp-server: %v", child.Name, err)
			}
			cw, diags, ok := render(t, repoCopy, &child)
			if !ok {
				t.Fatalf("cocogen render of %s fails: %v", child.Name, diags)
			}
			sameObjects(t, child.Name, cg, cw)
			for _, o := range cg {
				if o.GetKind() == "ConfigMap" && o.GetName() == "peer-pods-cm" {
					if r, _, _ := unstructured.NestedString(o.Object, "data", "AZURE_REGION"); r != "westeurope" {
						t.Errorf("peer-pods-cm AZURE_REGION %q: the spoke does not render its own facts", r)
					}
				}
			}
		})
	}
	if children == 0 {
		t.Fatal("the spoke's tree has no Application rendered by the cocogen plugin")
	}
	t.Logf("spoke root application as ACM delivers it: %d objects equal to cocogen render --cluster-group spoke; %d children through the plugin", len(got), children)
}

// TestSpokeWithoutMetadata: a managed cluster whose metadata file is not in Git gets an error in its Argo CD
// that names the file to add, and no manifests.
func TestSpokeWithoutMetadata(t *testing.T) {
	app := deliveredRootApplication(t, "spoke-9")
	got, err := generate(t.Context(), t, repoCopy, app)
	if err == nil {
		t.Fatalf("the plugin rendered %d objects for a cluster without a metadata file", len(got))
	}
	if !strings.Contains(err.Error(), "values/clusters/spoke/spoke-9.yaml") || !strings.Contains(err.Error(), "cluster spoke-9 of cluster group spoke has no metadata file") {
		t.Errorf("the plugin error does not name the file to add:\n%v", err)
	}
}
