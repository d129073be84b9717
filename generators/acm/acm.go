// Package acm renders the objects of a hub's acm application: what makes Red Hat Advanced Cluster Management
// (ACM) deliver each cluster group of clusterGroup.managedClusterGroups to the clusters it selects. For every
// group that is three Policies, one Placement that selects the clusters and one PlacementBinding that binds
// the Policies to it; once per hub, the MultiClusterHub and the ManagedClusterSetBinding that lets the
// Placements schedule clusters of the default ManagedClusterSet.
//
// The shapes follow the Validated Patterns acm chart (validatedpatterns/acm-chart v0.2.8,
// templates/policies/application-policies.yaml, ocp-gitops-policy.yaml, managedclustersetbinding.yaml,
// multiclusterhub.yaml and the acm.app.clusterSelector template of templates/_helpers.tpl), with these
// differences: a spoke runs cocogen, not the clustergroup chart, so its Argo CD instance carries the cocogen
// sidecar (the objects of `cocogen bootstrap`) and its root Application names the cocogen plugin with the
// cluster group and the cluster's name (an ACM hub template, filled in as ACM copies the policy to the
// cluster); one Placement serves the three Policies of a group; and the hub CA policy is left out (nothing on
// a cocogen spoke reads the hub's CA: it reads Git directly, and init-data carries the KBS trust anchor).
//
// Render is a pure function of its Input.
package acm

import (
	"cmp"
	"slices"

	"github.com/cocogen/cocogen/internal/bootstrap"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// API versions of the objects (CRDs in open-cluster-management-io/api and stolostron/multiclusterhub-operator;
// the acm chart v0.2.8 writes the same).
const (
	PolicyAPI             = "policy.open-cluster-management.io/v1"
	PlacementAPI          = "cluster.open-cluster-management.io/v1beta1"
	ClusterSetBindingAPI  = "cluster.open-cluster-management.io/v1beta2"
	MultiClusterHubAPI    = "operator.open-cluster-management.io/v1"
	placementGroup        = "cluster.open-cluster-management.io"
	policyGroup           = "policy.open-cluster-management.io"
	defaultNamespace      = "open-cluster-management"
	skipDryRun            = "SkipDryRunOnMissingResource=true"
	syncOptionsAnnotation = "argocd.argoproj.io/sync-options"
)

// ClusterNameTemplate is the ACM hub template that ACM replaces with the name of the managed cluster when it
// copies a policy to that cluster (open-cluster-management.io docs, "Template processing": hub cluster
// templates, .ManagedClusterName).
const ClusterNameTemplate = "{{hub .ManagedClusterName hub}}"

// Group is one managed cluster group.
type Group struct {
	Name string
	// Labels select the clusters (acmlabels); Selector, when set, is a label selector that replaces them.
	Labels   []Label
	Selector *node.Node
	// Env are the plugin env entries of the spoke's root Application after COCOGEN_CLUSTER_GROUP and
	// COCOGEN_CLUSTER (the values directory, the helmOverrides as COCOGEN_SET).
	Env []bootstrap.EnvVar
	// Source names where the group is written (for the # Source: comment).
	Source string
}

// Label is one acmlabels entry.
type Label struct{ Name, Value string }

// Input is what the acm application is rendered from.
type Input struct {
	// Namespace is the acm application's namespace, where the Policies and Placements live.
	Namespace string
	// Pattern is global.pattern: the spoke's root Application is <pattern>-<group>.
	Pattern string
	// RepoURL and Revision are the Git source every spoke renders (the hub's own).
	RepoURL, Revision string
	// ArgoNamespace, GitOpsNamespace and Channel place the spoke's Argo CD and its operator.
	ArgoNamespace, GitOpsNamespace, Channel string
	// Image is the cocogen sidecar image, PluginYAML the sidecar's plugin.yaml.
	Image      string
	ImagePos   srcpos.Pos
	PluginYAML []byte
	Groups     []Group
	Pos        srcpos.Pos
	Source     string
}

// Render returns the objects of the acm application.
func Render(in Input) ([]manifest.Object, *diag.List) {
	d := &diag.List{}
	ns := cmp.Or(in.Namespace, defaultNamespace)
	out := []manifest.Object{{Node: multiClusterHub(), Source: in.Source}}
	if len(in.Groups) == 0 {
		return out, d
	}
	out = append(out, manifest.Object{Node: clusterSetBinding(ns), Source: in.Source})
	for _, g := range in.Groups {
		o := bootstrap.Options{
			RepoURL: in.RepoURL, Revision: in.Revision, ClusterGroup: g.Name, Image: in.Image,
			Name: in.Pattern + "-" + g.Name, ArgoNamespace: in.ArgoNamespace, GitOpsNamespace: in.GitOpsNamespace,
			Channel: in.Channel, PluginYAML: in.PluginYAML,
			Env: append([]bootstrap.EnvVar{{Name: "COCOGEN_CLUSTER", Value: ClusterNameTemplate}}, g.Env...),
		}
		operator, argo, root, err := bootstrap.Spoke(o)
		if err != nil {
			d.Errorf(in.ImagePos, "global.coco.sidecarImage", "managed cluster group %s: %v", g.Name, err)
			continue
		}
		policies := []struct {
			name, config string
			objects      []*node.Node
		}{
			{g.Name + "-gitops-policy", g.Name + "-gitops-config", operator},
			{g.Name + "-gitops-policy-argocd", g.Name + "-gitops-config-argocd", argo},
			{g.Name + "-clustergroup-policy", g.Name + "-clustergroup-config", root},
		}
		subjects := node.NewList()
		for _, p := range policies {
			out = append(out, manifest.Object{Node: policy(p.name, p.config, ns, p.objects), Source: g.Source})
			subjects.Append(node.NewMap().Set("name", str(p.name)).Set("kind", str("Policy")).Set("apiGroup", str(policyGroup)))
		}
		out = append(out,
			manifest.Object{Node: placement(g, ns), Source: g.Source},
			manifest.Object{Node: object(PolicyAPI, "PlacementBinding", g.Name+"-placement-binding", ns).
				Set("placementRef", node.NewMap().Set("name", str(g.Name+"-placement")).Set("kind", str("Placement")).Set("apiGroup", str(placementGroup))).
				Set("subjects", subjects), Source: g.Source},
		)
	}
	return out, d
}

func str(s string) *node.Node { return node.NewString(s) }

// object is a new object that Argo CD applies without a dry run (its kind may not exist yet).
func object(apiVersion, kind, name, ns string) *node.Node {
	o := manifest.NewObject(apiVersion, kind, name, ns)
	o.Get("metadata").Set("annotations", node.NewMap().Set(syncOptionsAnnotation, str(skipDryRun)))
	return o
}

// multiClusterHub starts ACM's hub once the operator is installed (acm chart multiclusterhub.yaml).
func multiClusterHub() *node.Node {
	n := object(MultiClusterHubAPI, "MultiClusterHub", "multiclusterhub", defaultNamespace)
	n.Path("metadata", "annotations").Set("installer.open-cluster-management.io/mce-subscription-spec", str(`{"source": "redhat-operators"}`))
	return n.Set("spec", node.NewMap())
}

// clusterSetBinding lets the Placements of ns choose among the clusters of the default ManagedClusterSet.
func clusterSetBinding(ns string) *node.Node {
	return object(ClusterSetBindingAPI, "ManagedClusterSetBinding", "default", ns).
		Set("spec", node.NewMap().Set("clusterSet", str("default")))
}

// policy enforces objects on the clusters the group's Placement selects: one ConfigurationPolicy whose
// object templates are the objects (namespaces: musthave, the rest: mustonlyhave, as the acm chart does).
func policy(name, config, ns string, objects []*node.Node) *node.Node {
	templates := node.NewList()
	for _, o := range objects {
		compliance := "mustonlyhave"
		if o.Path("kind").Scalar() == "Namespace" {
			compliance = "musthave"
		}
		templates.Append(node.NewMap().Set("complianceType", str(compliance)).Set("objectDefinition", o))
	}
	cp := node.NewMap().
		Set("apiVersion", str(PolicyAPI)).
		Set("kind", str("ConfigurationPolicy")).
		Set("metadata", node.NewMap().Set("name", str(config))).
		Set("spec", node.NewMap().
			Set("remediationAction", str("enforce")).
			Set("severity", str("medium")).
			Set("namespaceSelector", node.NewMap().Set("include", node.NewList().Append(str("default")))).
			Set("object-templates", templates))
	n := object(PolicyAPI, "Policy", name, ns)
	n.Path("metadata", "annotations").Set("argocd.argoproj.io/compare-options", str("IgnoreExtraneous"))
	return n.Set("spec", node.NewMap().
		Set("remediationAction", str("enforce")).
		Set("disabled", node.NewBool(false)).
		Set("policy-templates", node.NewList().Append(node.NewMap().Set("objectDefinition", cp))))
}

// placement selects the group's clusters: clusterSelector verbatim when set, else the acmlabels (clusterGroup:
// <name> when there are none) on every cluster but the hub itself (acm.app.clusterSelector).
func placement(g Group, ns string) *node.Node {
	var selector *node.Node
	if g.Selector != nil {
		selector = g.Selector
	} else {
		labels := slices.Clone(g.Labels)
		if len(labels) == 0 {
			labels = []Label{{Name: "clusterGroup", Value: g.Name}}
		}
		slices.SortStableFunc(labels, func(a, b Label) int { return cmp.Compare(a.Name, b.Name) })
		match := node.NewMap()
		for _, l := range labels {
			match.Set(l.Name, str(l.Value))
		}
		selector = node.NewMap().
			Set("matchExpressions", node.NewList().Append(node.NewMap().
				Set("key", str("local-cluster")).
				Set("operator", str("NotIn")).
				Set("values", node.NewList().Append(str("true"))))).
			Set("matchLabels", match)
	}
	return object(PlacementAPI, "Placement", g.Name+"-placement", ns).
		Set("spec", node.NewMap().Set("predicates", node.NewList().Append(
			node.NewMap().Set("requiredClusterSelector", node.NewMap().Set("labelSelector", selector)))))
}
