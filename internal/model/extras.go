package model

import (
	"cmp"
	"slices"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// IndexImage is a clusterGroup.indexImages entry: a CatalogSource.
type IndexImage struct {
	Pos   srcpos.Pos
	Name  string
	Image string
}

// NodeEntry is a clusterGroup.nodes entry: labels and annotations for one Node.
type NodeEntry struct {
	Pos         srcpos.Pos
	Name        string
	Labels      *node.Node
	Annotations *node.Node
}

// ExtraObject is a clusterGroup.extraObjects entry: a raw object rendered as it is.
type ExtraObject struct {
	Key    string
	Pos    srcpos.Pos
	Object *node.Node // without the disabled key
}

// SequenceJob is a subscription's sequenceJob: a hook Job that waits for a resource.
type SequenceJob struct {
	Pos               srcpos.Pos
	SyncWave          *node.Node
	ResourceType      string
	ResourceName      string
	ResourceNamespace string
	HookType          string
	Image             string
	Command           *node.Node
}

// RBAC is the vp-rbac subchart's values: extra ServiceAccounts, Roles and ClusterRoles.
type RBAC struct {
	ServiceAccounts []RBACServiceAccount
	Roles           []RBACRole
	ClusterRoles    []RBACRole
}

// RBACRole is a Role (with a namespace) or a ClusterRole.
type RBACRole struct {
	Pos       srcpos.Pos
	Name      string
	Namespace string
	Rules     *node.Node
}

// RBACServiceAccount is a ServiceAccount with its bindings.
type RBACServiceAccount struct {
	Pos          srcpos.Pos
	Name         string
	Namespace    string
	Roles        []string
	ClusterRoles []string
}

var (
	indexImageKeys  = []string{"name", "image"}
	nodeOptionKeys  = []string{"labels", "annotations"}
	sequenceJobKeys = []string{"syncWave", "resourceType", "resourceName", "resourceNamespace", "hookType", "image", "command", "disabled"}
	rbacKeys        = []string{"serviceAccounts", "roles", "clusterRoles", "global"}
	rbacRoleKeys    = []string{"disabled", "namespace", "rules"}
	rbacSAKeys      = []string{"disabled", "namespace", "roleBindings"}
)

func (dc decoder) indexImages(n *node.Node, cg *ClusterGroup) {
	const path = "clusterGroup.indexImages"
	if !dc.listOrMap(n, path) {
		return
	}
	each(n, func(key string, keyPos srcpos.Pos, v *node.Node, isMap bool) {
		p := entryPath(path, key, isMap)
		if v.IsNull() || !dc.c.Map(v, p, false, indexImageKeys...) {
			return
		}
		img := IndexImage{Pos: v.Pos, Name: dc.str(v, p, "name"), Image: dc.str(v, p, "image")}
		if img.Image == "" {
			dc.errorf(v, p, "image is required")
			return
		}
		cg.IndexImages = append(cg.IndexImages, img)
	})
}

func (dc decoder) nodes(n *node.Node, cg *ClusterGroup) {
	const path = "clusterGroup.nodes"
	if n.IsNull() {
		return
	}
	if n.Kind != node.List {
		dc.errorf(n, path, "must be a list of {<node name>: {labels, annotations}}, not a %s", n.Kind)
		return
	}
	for i, it := range n.Items() {
		p := schema.Index(path, i)
		if it.IsNull() {
			continue
		}
		if it.Kind != node.Map || it.Len() != 1 {
			dc.errorf(it, p, "each entry is a map with exactly one key, the node name: {<node name>: {labels, annotations}}")
			continue
		}
		e := it.Entries()[0]
		ne := NodeEntry{Pos: e.KeyPos, Name: e.Key}
		if dc.c.Map(e.Value, schema.Join(p, e.Key), true, nodeOptionKeys...) {
			if l := e.Value.Get("labels"); dc.c.Map(l, schema.Join(schema.Join(p, e.Key), "labels"), true) {
				ne.Labels = l
			}
			if a := e.Value.Get("annotations"); dc.c.Map(a, schema.Join(schema.Join(p, e.Key), "annotations"), true) {
				ne.Annotations = a
			}
		}
		cg.Nodes = append(cg.Nodes, ne)
	}
}

func (dc decoder) extraObjects(n *node.Node, cg *ClusterGroup) {
	const path = "clusterGroup.extraObjects"
	if n.IsNull() {
		return
	}
	if n.Kind != node.Map {
		dc.errorf(n, path, "must be a map of names to Kubernetes objects, not a %s", n.Kind)
		return
	}
	entries := slices.Clone(n.Entries())
	slices.SortFunc(entries, func(a, b node.Entry) int { return cmp.Compare(a.Key, b.Key) })
	for _, e := range entries {
		p := schema.Join(path, e.Key)
		obj := e.Value
		if obj.IsNull() {
			continue
		}
		if obj.Kind != node.Map {
			dc.errorf(obj, p, "must be a Kubernetes object, not a %s", obj.Kind)
			continue
		}
		if d := obj.Get("disabled"); d.Truthy() {
			continue
		}
		clean := node.NewMapCap(obj.Len())
		for _, oe := range obj.Entries() {
			if oe.Key != "disabled" {
				clean.SetAt(oe.Key, oe.KeyPos, oe.Value)
			}
		}
		if clean.Get("apiVersion").Scalar() == "" || clean.Get("kind").Scalar() == "" || clean.Path("metadata", "name").Scalar() == "" {
			dc.errorf(obj, p, "needs apiVersion, kind and metadata.name to be a Kubernetes object")
			continue
		}
		cg.ExtraObjects = append(cg.ExtraObjects, ExtraObject{Key: e.Key, Pos: e.KeyPos, Object: clean})
	}
}

func (dc decoder) sequenceJob(n *node.Node, path string) *SequenceJob {
	if n.IsNull() || !dc.c.Map(n, path, false, sequenceJobKeys...) {
		return nil
	}
	if dc.boolean(n, path, "disabled") {
		return nil
	}
	sj := &SequenceJob{
		Pos:               n.Pos,
		SyncWave:          n.Get("syncWave"),
		ResourceType:      dc.str(n, path, "resourceType"),
		ResourceName:      dc.str(n, path, "resourceName"),
		ResourceNamespace: dc.str(n, path, "resourceNamespace"),
		HookType:          dc.str(n, path, "hookType"),
		Image:             dc.str(n, path, "image"),
		Command:           dc.list(n, path, "command", "a list of strings"),
	}
	if sj.Command == nil && (sj.ResourceType == "" || sj.ResourceName == "") {
		dc.errorf(n, path, "needs resourceType and resourceName (the resource to wait for), or a command")
	}
	return sj
}

// rbac reads the vp-rbac subchart's values (top-level key vp-rbac).
func (dc decoder) rbac(n *node.Node, out *RBAC) {
	const path = "vp-rbac"
	if !dc.c.Map(n, path, true, rbacKeys...) {
		return
	}
	roles := func(key string, namespaced bool) []RBACRole {
		var list []RBACRole
		m := n.Get(key)
		p := schema.Join(path, key)
		if !dc.c.Map(m, p, true) {
			return nil
		}
		for _, e := range sortedByKey(m) {
			ep := schema.Join(p, e.Key)
			if e.Value.IsNull() {
				list = append(list, RBACRole{Pos: e.KeyPos, Name: e.Key})
				continue
			}
			if !dc.c.Map(e.Value, ep, false, rbacRoleKeys...) || dc.boolean(e.Value, ep, "disabled") {
				continue
			}
			r := RBACRole{Pos: e.KeyPos, Name: e.Key, Rules: dc.list(e.Value, ep, "rules", "a list of RBAC rules")}
			for i, it := range r.Rules.Items() {
				dc.c.Map(it, schema.Index(schema.Join(ep, "rules"), i), false, rbacRuleKeys...)
			}
			if namespaced {
				r.Namespace = dc.str(e.Value, ep, "namespace")
			}
			list = append(list, r)
		}
		return list
	}
	out.ClusterRoles = roles("clusterRoles", false)
	out.Roles = roles("roles", true)
	sas := n.Get("serviceAccounts")
	p := schema.Join(path, "serviceAccounts")
	if !dc.c.Map(sas, p, true) {
		return
	}
	for _, e := range sortedByKey(sas) {
		ep := schema.Join(p, e.Key)
		sa := RBACServiceAccount{Pos: e.KeyPos, Name: e.Key}
		if !e.Value.IsNull() {
			if !dc.c.Map(e.Value, ep, false, rbacSAKeys...) || dc.boolean(e.Value, ep, "disabled") {
				continue
			}
			sa.Namespace = dc.str(e.Value, ep, "namespace")
			if rb := e.Value.Get("roleBindings"); dc.c.Map(rb, schema.Join(ep, "roleBindings"), true, "roles", "clusterRoles") {
				sa.Roles = dc.strings(rb, schema.Join(ep, "roleBindings"), "roles")
				sa.ClusterRoles = dc.strings(rb, schema.Join(ep, "roleBindings"), "clusterRoles")
			}
		}
		out.ServiceAccounts = append(out.ServiceAccounts, sa)
	}
}

func sortedByKey(m *node.Node) []node.Entry {
	entries := slices.Clone(m.Entries())
	slices.SortFunc(entries, func(a, b node.Entry) int { return cmp.Compare(a.Key, b.Key) })
	return entries
}
