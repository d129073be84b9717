package model

import (
	"strings"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// ArgoCD is clusterGroup.argoCD: settings of the per-cluster-group Argo CD instance (rendered when
// global.singleArgoCD is false) and the config management plugin sidecars.
type ArgoCD struct {
	InitContainers          *node.Node // lists, raw
	Env                     *node.Node
	Volumes                 *node.Node
	VolumeMounts            *node.Node
	RBAC                    *node.Node // map, raw
	ConfigManagementPlugins []CMP
	ResourceTrackingMethod  string
	ResourceHealthChecks    *node.Node
	ResourceActions         *node.Node
	ResourceExclusions      string
}

// CMP is one config management plugin sidecar.
type CMP struct {
	Pos             srcpos.Pos
	Name            string
	Image           string
	ImagePullPolicy string
	Env             *node.Node
	VolumeMounts    *node.Node
	PluginConfig    string
	PluginArgs      *node.Node
}

var (
	argoCDKeys = []string{"initContainers", "env", "rbac", "volumes", "volumeMounts", "configManagementPlugins",
		"resourceTrackingMethod", "resourceHealthChecks", "resourceActions", "resourceExclusions"}
	cmpKeys             = []string{"name", "image", "imagePullPolicy", "env", "volumeMounts", "pluginConfig", "pluginArgs"}
	healthCheckKeys     = []string{"kind", "group", "check"}
	resourceActionKeys  = []string{"kind", "group", "action"}
	trackingMethods     = []string{"annotation", "label", "annotation+label"}
	argoCDRBACKeys      = []string{"defaultPolicy", "policy", "policyMatcherMode", "scopes"}
	containerKeysHint   = "a list of Kubernetes containers"
	volumeKeysHint      = "a list of Kubernetes volumes"
	volumeMountKeysHint = "a list of Kubernetes volume mounts"
)

func (dc decoder) argoCD(n *node.Node, out *ArgoCD) {
	const path = "clusterGroup.argoCD"
	if !dc.c.Map(n, path, true, argoCDKeys...) {
		return
	}
	out.InitContainers = dc.list(n, path, "initContainers", containerKeysHint)
	out.Env = dc.list(n, path, "env", "a list of {name, value}")
	out.Volumes = dc.list(n, path, "volumes", volumeKeysHint)
	out.VolumeMounts = dc.list(n, path, "volumeMounts", volumeMountKeysHint)
	if r := n.Get("rbac"); dc.c.Map(r, schema.Join(path, "rbac"), true, argoCDRBACKeys...) {
		out.RBAC = r
	}
	out.ResourceTrackingMethod = dc.str(n, path, "resourceTrackingMethod")
	if out.ResourceTrackingMethod != "" {
		dc.c.Enum(n.Get("resourceTrackingMethod"), schema.Join(path, "resourceTrackingMethod"), out.ResourceTrackingMethod, trackingMethods...)
	}
	out.ResourceHealthChecks = dc.listOfMaps(n, path, "resourceHealthChecks", healthCheckKeys)
	out.ResourceActions = dc.listOfMaps(n, path, "resourceActions", resourceActionKeys)
	out.ResourceExclusions = dc.str(n, path, "resourceExclusions")
	cmps := n.Get("configManagementPlugins")
	if cmps.IsNull() {
		return
	}
	if cmps.Kind != node.List {
		dc.errorf(cmps, schema.Join(path, "configManagementPlugins"), "must be a list of plugins, not a %s", cmps.Kind)
		return
	}
	for i, it := range cmps.Items() {
		p := schema.Index(schema.Join(path, "configManagementPlugins"), i)
		if !dc.c.Map(it, p, false, cmpKeys...) {
			continue
		}
		c := CMP{
			Pos:             it.Pos,
			Name:            dc.str(it, p, "name"),
			Image:           dc.str(it, p, "image"),
			ImagePullPolicy: dc.str(it, p, "imagePullPolicy"),
			Env:             dc.list(it, p, "env", "a list of {name, value}"),
			VolumeMounts:    dc.list(it, p, "volumeMounts", volumeMountKeysHint),
			PluginConfig:    dc.str(it, p, "pluginConfig"),
			PluginArgs:      dc.list(it, p, "pluginArgs", "a list of arguments"),
		}
		if c.Name == "" || c.Image == "" {
			dc.errorf(it, p, "name and image are required")
		}
		if c.Name != "" && (!dns1123.MatchString(c.Name) || strings.Contains(c.Name, ".")) {
			dc.errorf(it.Get("name"), schema.Join(p, "name"), "%q is not a valid container name", c.Name)
		}
		if c.ImagePullPolicy != "" {
			dc.c.Enum(it.Get("imagePullPolicy"), schema.Join(p, "imagePullPolicy"), c.ImagePullPolicy, pullPolicies...)
		}
		out.ConfigManagementPlugins = append(out.ConfigManagementPlugins, c)
	}
}

// list reads an optional list kept raw.
func (dc decoder) list(m *node.Node, path, key, what string) *node.Node {
	n := m.Get(key)
	if n.IsNull() {
		return nil
	}
	if n.Kind != node.List {
		dc.errorf(n, schema.Join(path, key), "must be %s, not a %s", what, n.Kind)
		return nil
	}
	return n
}

// listOfMaps reads an optional list of maps with known keys, kept raw.
func (dc decoder) listOfMaps(m *node.Node, path, key string, known []string) *node.Node {
	n := dc.list(m, path, key, "a list")
	for i, it := range n.Items() {
		dc.c.Map(it, schema.Index(schema.Join(path, key), i), false, known...)
	}
	return n
}
