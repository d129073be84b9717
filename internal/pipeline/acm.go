package pipeline

import (
	"cmp"
	"strings"

	"github.com/cocogen/cocogen"
	"github.com/cocogen/cocogen/generators/acm"
	"github.com/cocogen/cocogen/internal/bootstrap"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/tpl"
)

// unsupportedGroupKeys are managedClusterGroups keys of the acm chart that a cocogen hub refuses, each with
// the reason. A spoke renders the hub's own revision of the hub's repository: that is what lets the hub
// compute the spokes' init-data reference values from the same sources (see managedProfiles).
var unsupportedGroupKeys = []struct{ key, why string }{
	{"repoURL", "every spoke renders the hub's repository, so that the hub computes the spoke's reference values from the same sources"},
	{"targetRevision", "every spoke renders the hub's revision, so that the hub computes the spoke's reference values from the same sources"},
	{"path", "a spoke's root Application renders the whole repository with the cocogen plugin"},
	{"extraValueFiles", "a spoke's values are the cluster group's values files; put the values there"},
	{"fileParameters", "a spoke's values are the cluster group's values files; put the values there"},
	{"clusterPools", "cocogen does not provision clusters: import them into ACM and label them"},
	{"clusterDeployments", "cocogen does not provision clusters: import them into ACM and label them"},
}

// managedGroups checks the managed cluster groups and returns them as the acm generator takes them.
func managedGroups(c appContext, d *diag.List) []acm.Group {
	var out []acm.Group
	for _, g := range c.v.ClusterGroup.ManagedGroups {
		p := "clusterGroup.managedClusterGroups." + g.Key
		ok := true
		for _, k := range unsupportedGroupKeys {
			if n, set := g.Tree.Lookup(k.key); set && !n.IsNull() {
				// The same repository or revision, written out, is no difference.
				if (k.key == "repoURL" && n.Scalar() == c.v.Global.RepoURL) || (k.key == "targetRevision" && n.Scalar() == c.v.Global.TargetRevision) {
					continue
				}
				d.Errorf(g.Tree.KeyPos(k.key), schema.Join(p, k.key), "not supported by cocogen: %s", k.why)
				ok = false
			}
		}
		if !ok || g.Name == "" {
			continue
		}
		ag := acm.Group{Name: g.Name, Selector: g.ClusterSelector, Source: posText(g.Pos) + " " + p}
		for _, l := range g.Labels {
			ag.Labels = append(ag.Labels, acm.Label{Name: l.Name, Value: tpl.HelmString(l.Value)})
		}
		if c.valuesDir != "values" {
			ag.Env = append(ag.Env, bootstrap.EnvVar{Name: "COCOGEN_VALUES_DIR", Value: c.valuesDir})
		}
		if sets := helmOverrideSets(g); len(sets) > 0 {
			ag.Env = append(ag.Env, bootstrap.EnvVar{Name: "COCOGEN_SET", Value: strings.Join(sets, "\n")})
		}
		out = append(out, ag)
	}
	return out
}

// helmOverrideSets are a group's helmOverrides as --set arguments: Argo CD passes helm parameters with --set
// (the acm chart quotes each value, and Helm types it again), and so does the plugin with COCOGEN_SET.
func helmOverrideSets(g model.ManagedGroup) []string {
	var out []string
	for _, h := range g.HelmOverrides {
		out = append(out, h.Name+"="+helmvalues.EscapeSetValue(tpl.HelmString(h.Value)))
	}
	return out
}

// renderACM renders the acm application: the Policies, Placements and PlacementBindings that deliver every
// managed cluster group.
func renderACM(c appContext, a *model.Application) ([]manifest.Object, *diag.List) {
	d := &diag.List{}
	groups := managedGroups(c, d)
	if len(c.v.ClusterGroup.ManagedGroups) == 0 {
		d.Warnf(a.CoCoGenPos, "clusterGroup.applications."+a.Key, "this cluster group has no clusterGroup.managedClusterGroups: the acm application delivers no cluster group")
	}
	if len(groups) > 0 {
		if c.v.CoCo.SidecarImage == "" {
			d.Errorf(a.CoCoGenPos, "global.coco.sidecarImage", "the managed clusters' Argo CD runs the cocogen sidecar: set global.coco.sidecarImage to its image (the image of cocogen bootstrap --image)")
		}
		if c.v.Global.RepoURL == "" {
			d.Errorf(a.CoCoGenPos, "global.repoURL", "the managed clusters render the hub's repository: set git.repoURL in the metadata")
		}
	}
	if d.HasErrors() {
		return nil, d
	}
	g := c.v.Global.Tree
	in := acm.Input{
		Namespace:       cmp.Or(a.Namespace, "open-cluster-management"),
		Pattern:         c.v.Global.Pattern,
		RepoURL:         c.v.Global.RepoURL,
		Revision:        cmp.Or(c.v.Global.TargetRevision, bootstrap.DefaultRevision),
		ArgoNamespace:   cmp.Or(c.v.Global.VPArgoNamespace, bootstrap.DefaultArgoNamespace),
		GitOpsNamespace: cmp.Or(g.Get("gitOpsSubNamespace").Scalar(), bootstrap.DefaultGitOpsNamespace),
		Channel:         cmp.Or(c.v.Tree.Path("main", "gitops", "channel").Scalar(), bootstrap.DefaultChannel),
		Image:           c.v.CoCo.SidecarImage,
		ImagePos:        posOr(c.v.CoCo.SidecarImagePos, a.CoCoGenPos),
		PluginYAML:      cocogen.PluginYAML,
		Groups:          groups,
		Pos:             a.CoCoGenPos,
		Source:          appSource(a),
	}
	objs, gd := acm.Render(in)
	d.Append(gd)
	return objs, d
}
