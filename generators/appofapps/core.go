package appofapps

import (
	"strings"

	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/tpl"
)

// The rest of the chart's core objects: catalog sources, raw extra objects, node labels, the cluster scheduler,
// OLMv1 cluster extensions and subscription sequencing jobs, and the vp-rbac subchart's RBAC objects.

func (r *renderer) core() {
	cg := &r.v.ClusterGroup
	for _, img := range cg.IndexImages {
		name := img.Name
		if name == "" {
			name = catalogName(img.Image)
		}
		r.emit(object("operators.coreos.com/v1alpha1", "CatalogSource").
			Set("metadata", node.NewMap().Set("name", str(name)).Set("namespace", str("openshift-marketplace"))).
			Set("spec", node.NewMap().Set("sourceType", str("grpc")).Set("image", r.plain(img.Image))), img.Pos, "clusterGroup.indexImages")
	}
	for _, e := range cg.ExtraObjects {
		r.emit(node.Sorted(e.Object), e.Pos, schema.Join("clusterGroup.extraObjects", e.Key))
	}
	if r.v.Enabled != "plumbing" {
		for _, n := range cg.Nodes {
			labels := node.NewMap().Set("argocd.argoproj.io/managed-by", str(r.argoNS))
			for _, e := range stringMap(n.Labels).Entries() {
				labels.Set(e.Key, e.Value)
			}
			meta := node.NewMap().Set("name", str(n.Name)).Set("labels", labels)
			if n.Annotations.Truthy() {
				meta.Set("annotations", stringMap(n.Annotations))
			}
			r.emit(object("v1", "Node").Set("metadata", meta), n.Pos, schema.Join("clusterGroup.nodes", n.Name))
		}
		if cg.HasScheduler {
			spec := node.NewNull()
			if !cg.Scheduler.IsNull() {
				spec = node.Sorted(cg.Scheduler)
			}
			r.emit(object("config.openshift.io/v1", "Scheduler").
				Set("metadata", node.NewMap().Set("name", str("cluster")).
					Set("annotations", node.NewMap().Set("argocd.argoproj.io/sync-options", str("Prune=false,Delete=false")))).
				Set("spec", spec), r.v.Tree.Path("clusterGroup", "scheduler").PosOr(r.v.Tree.Pos), "clusterGroup.scheduler")
		}
	}
	r.rbac()
}

// catalogName derives a CatalogSource name from an index image as the chart does: registry/org/name:tag
// becomes org-name.
var catalogImageRe = lazyre.New(`[^/]*/(.*):.*`)

func catalogName(image string) string {
	return strings.ReplaceAll(catalogImageRe.ReplaceAllString(image, "${1}"), "/", "-")
}

// clusterExtension is an OLMv1 install of an operator package.
func (r *renderer) clusterExtension(s *model.Subscription) *node.Node {
	meta := node.NewMap().Set("name", str(s.Name))
	if s.Annotations.Truthy() {
		meta.Set("annotations", stringMap(s.Annotations))
	}
	ns := s.Namespace
	if ns == "" {
		ns = "openshift-operators"
	}
	spec := node.NewMap().Set("namespace", str(ns))
	if s.ServiceAccountName != "" {
		spec.Set("serviceAccount", node.NewMap().Set("name", str(s.ServiceAccountName)))
	}
	catalog := node.NewMap().Set("packageName", str(s.Name))
	if len(s.Channels) > 0 {
		catalog.Set("channels", strList(s.Channels...))
	}
	if s.Version != "" {
		catalog.Set("version", str(s.Version))
	}
	policy := s.UpgradeConstraintPolicy
	if policy == "" {
		policy = "CatalogProvided"
	}
	catalog.Set("upgradeConstraintPolicy", str(policy))
	spec.Set("source", node.NewMap().Set("sourceType", str("Catalog")).Set("catalog", catalog))
	return object("olm.operatorframework.io/v1", "ClusterExtension").Set("metadata", meta).Set("spec", spec)
}

// sequenceJob is an Argo CD hook Job that waits until a resource exists, so that what depends on an operator
// syncs after it.
func (r *renderer) sequenceJob(s *model.Subscription) *node.Node {
	sj := s.SequenceJob
	hook := sj.HookType
	if hook == "" {
		hook = "Sync"
	}
	wave := tpl.Quote(tpl.Coalesce(sj.SyncWave, s.Annotations.Get("argocd.argoproj.io/sync-wave")))
	image := sj.Image
	if image == "" {
		image = "quay.io/validatedpatterns/imperative-container:v1"
	}
	var command *node.Node
	if sj.Command.Truthy() {
		command = node.Sorted(sj.Command)
	} else {
		target := sj.ResourceType + " " + sj.ResourceName
		get := "oc get " + sj.ResourceType + " " + sj.ResourceName
		if sj.ResourceNamespace != "" {
			get += " -n " + sj.ResourceNamespace
			target += " in " + sj.ResourceNamespace
		}
		command = strList("/bin/bash", "-c", "until "+get+"; do\n  echo \""+target+" not found yet, waiting...\"\n  sleep 5\ndone\necho \""+target+" found\"\n")
	}
	container := node.NewMap().Set("name", str(s.Name+"-sequencejob")).Set("image", str(image)).Set("command", command)
	return object("batch/v1", "Job").
		Set("metadata", node.NewMap().Set("name", str(s.Name+"-sequencejob")).
			Set("annotations", node.NewMap().Set("argocd.argoproj.io/hook", str(hook)).Set("argocd.argoproj.io/sync-wave", wave))).
		Set("spec", node.NewMap().Set("parallelism", node.NewInt(1)).Set("completions", node.NewInt(1)).
			Set("template", node.NewMap().Set("spec", node.NewMap().
				Set("restartPolicy", str("OnFailure")).
				Set("containers", node.NewList(container)))))
}

// rbac renders the vp-rbac subchart: ClusterRoles, Roles, ServiceAccounts and their bindings.
func (r *renderer) rbac() {
	rb := &r.v.RBAC
	for _, cr := range rb.ClusterRoles {
		r.emit(object("rbac.authorization.k8s.io/v1", "ClusterRole").
			Set("metadata", node.NewMap().Set("name", str(cr.Name))).
			Set("rules", rbacRules(cr.Rules)), cr.Pos, "vp-rbac.clusterRoles."+cr.Name)
	}
	for _, role := range rb.Roles {
		r.emit(object("rbac.authorization.k8s.io/v1", "Role").
			Set("metadata", node.NewMap().Set("name", str(role.Name)).Set("namespace", r.plain(role.Namespace))).
			Set("rules", rbacRules(role.Rules)), role.Pos, "vp-rbac.roles."+role.Name)
	}
	for _, sa := range rb.ServiceAccounts {
		src := "vp-rbac.serviceAccounts." + sa.Name
		r.emit(object("v1", "ServiceAccount").
			Set("metadata", node.NewMap().Set("name", str(sa.Name)).Set("namespace", r.plain(sa.Namespace))), sa.Pos, src)
		subject := node.NewList(node.NewMap().Set("kind", str("ServiceAccount")).Set("name", str(sa.Name)).Set("namespace", r.plain(sa.Namespace)))
		for _, role := range sa.Roles {
			r.emit(object("rbac.authorization.k8s.io/v1", "RoleBinding").
				Set("metadata", node.NewMap().Set("name", str(sa.Name+"-"+role+"-rb")).Set("namespace", r.plain(sa.Namespace))).
				Set("subjects", subject).
				Set("roleRef", node.NewMap().Set("kind", str("Role")).Set("name", str(role)).Set("apiGroup", str("rbac.authorization.k8s.io"))), sa.Pos, src)
		}
		for _, cr := range sa.ClusterRoles {
			r.emit(object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding").
				Set("metadata", node.NewMap().Set("name", str(sa.Name+"-"+cr+"-crb"))).
				Set("subjects", subject).
				Set("roleRef", node.NewMap().Set("kind", str("ClusterRole")).Set("name", str(cr)).Set("apiGroup", str("rbac.authorization.k8s.io"))), sa.Pos, src)
		}
	}
}

// rbacRules fills missing apiGroups and resources with "*" and missing verbs with read-only verbs; no rules at
// all give one read-only rule over everything.
func rbacRules(rules *node.Node) *node.Node {
	readOnly := func() *node.Node { return strList("get", "list", "watch") }
	if rules.Len() == 0 {
		return node.NewList(node.NewMap().Set("apiGroups", strList("*")).Set("resources", strList("*")).Set("verbs", readOnly()))
	}
	out := node.NewList()
	for _, rule := range rules.Items() {
		m := node.NewMap()
		for _, k := range []string{"apiGroups", "resources"} {
			if v, ok := rule.Lookup(k); ok {
				m.Set(k, node.Sorted(v))
			} else {
				m.Set(k, strList("*"))
			}
		}
		if v, ok := rule.Lookup("verbs"); ok {
			m.Set("verbs", node.Sorted(v))
		} else {
			m.Set("verbs", readOnly())
		}
		for _, k := range []string{"resourceNames", "nonResourceURLs"} {
			if v, ok := rule.Lookup(k); ok {
				m.Set(k, node.Sorted(v))
			}
		}
		out.Append(m)
	}
	return out
}
