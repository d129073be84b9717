package pipeline

import (
	"errors"
	"fmt"
	"path"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// managedRender is the render of one cluster of a cluster group that the hub manages, as that cluster's Argo
// CD renders it: the same repository and revision, the group's values, the cluster's metadata file and the
// group's helmOverrides.
type managedRender struct {
	group, cluster string
	groupPos       srcpos.Pos
	res            *Result
}

// renderManaged renders every cluster of every managed cluster group that has a metadata file
// (clusters/<group>/<cluster>.yaml), so that the hub's trustee application registers the reference values of
// the init-data that the spokes really run, computed from the same sources: the hub cannot be told about a
// spoke's agent policy any other way than by reading it. The load phase has read their sources
// (loadManaged); this runs their generators.
func renderManaged(c appContext, req Request, d *diag.List) ([]managedRender, error) {
	if req.nested != nil || len(c.v.ClusterGroup.ManagedGroups) == 0 || !hasTrustee(c.v) {
		return nil, nil
	}
	var out []managedRender
	for gi, g := range c.v.ClusterGroup.ManagedGroups {
		if g.Name == "" || g.Name == c.v.ClusterGroup.Name {
			continue
		}
		p := "clusterGroup.managedClusterGroups." + g.Key
		mg := c.src.managed[gi]
		names, err := mg.names, mg.err
		if err != nil {
			d.Errorf(g.Pos, p, "%v", err)
			continue
		}
		if len(names) == 0 {
			dir := path.Join(c.valuesDir, ClustersDir, g.Name)
			d.Warnf(g.Pos, p, "no cluster of managed cluster group %s has a metadata file in %s/: the hub registers no reference values for its init-data, so its pods cannot attest; add one per cluster, named by its ACM ManagedCluster name (cocogen metadata collect --fact cluster.name=NAME --fact cluster.hubAppsDomain=<this hub's apps domain> --output %s/NAME.yaml)", g.Name, dir, dir)
			continue
		}
		for ci, name := range names {
			res, err := mg.loads[ci].res()
			var de *diag.Diagnostics
			switch {
			case errors.As(err, &de):
				for _, it := range de.Items {
					if it.Severity == diag.Error {
						it.Msg = fmt.Sprintf("cluster group %s (cluster %s, managed by cluster group %s): %s", g.Name, name, c.v.ClusterGroup.Name, it.Msg)
						d.Add(it)
					}
				}
				continue
			case err != nil:
				return nil, fmt.Errorf("render cluster %s of managed cluster group %s: %w", name, g.Name, err)
			}
			out = append(out, managedRender{group: g.Name, cluster: name, groupPos: g.Pos, res: res})
		}
	}
	return out, nil
}

// res runs the generators of a managed cluster's render on what its load phase read.
func (ml *managedLoad) res() (*Result, error) {
	if ml.err != nil {
		return nil, ml.err
	}
	return generate(ml.req, ml.src, ml.clock, ml.d)
}

// checkManaged checks what the hub and the clusters it manages must agree on: their init-data sends pods to
// this hub's KBS and trusts its certificate.
func checkManaged(c appContext, d *diag.List) {
	host := kbsRouteHost(c)
	for _, m := range c.managed {
		meta := m.res.meta
		if meta == nil {
			continue
		}
		if host != "" && meta.KBSURL() != "https://"+host {
			pos := meta.KBS.URL.Pos
			key := "kbs.url"
			if !meta.KBS.URL.Set {
				pos, key = posOr(meta.Cluster.HubAppsDomain.Pos, srcpos.Pos{File: meta.Source, Line: 1, Col: 1}), "cluster.hubAppsDomain"
			}
			d.Errorf(pos, key, "cluster %s of cluster group %s sends its pods to the KBS at %s, but its hub (cluster group %s) serves it at https://%s: set cluster.hubAppsDomain to the hub's apps domain (%s)", m.cluster, m.group, meta.KBSURL(), c.v.ClusterGroup.Name, host, host[len("kbs."):])
		}
		if m.res.anchor != c.anchor {
			d.Errorf(posOr(meta.KBS.TrustAnchor.Certificate.Pos, srcpos.Pos{File: meta.Source, Line: 1, Col: 1}), "kbs.trustAnchor", "cluster %s of cluster group %s trusts another KBS certificate than its hub (cluster group %s, %s): name the hub's trust anchor", m.cluster, m.group, c.v.ClusterGroup.Name, c.meta.Source)
		}
	}
}

// managedLabel names a managed cluster's render in messages.
func managedLabel(m managedRender) string {
	return fmt.Sprintf("cluster group %s (cluster %s)", m.group, m.cluster)
}

// hasTrustee reports whether the cluster group runs a trustee application.
func hasTrustee(v *model.Values) bool {
	for _, a := range v.ClusterGroup.Applications {
		if a.CoCoGen == model.GenTrustee && !a.Disabled {
			return true
		}
	}
	return false
}
