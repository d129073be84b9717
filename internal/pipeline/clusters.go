package pipeline

import (
	"errors"
	"io/fs"
	"path"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// ClustersDir is the directory of the values directory that holds the metadata of the clusters of each
// cluster group that a hub manages: clusters/<group>/<cluster>.yaml, one ClusterMetadata file per cluster,
// named by its ACM ManagedCluster name (`cocogen metadata collect` writes it). The hub's ACM policy tells each
// spoke's root Application its own name (COCOGEN_CLUSTER), so one Git revision renders every spoke with its
// own facts, and the hub reads the same files to compute the spokes' init-data reference values.
const ClustersDir = "clusters"

// ClusterFile is the repository path of the metadata of cluster name of group, relDir being the values
// directory.
func ClusterFile(relDir, group, name string) string {
	return path.Join(relDir, ClustersDir, group, name+".yaml")
}

// clusterNameRe is an ACM ManagedCluster name: a DNS label (metadata.name of a cluster-scoped object that
// ACM also uses as a namespace name).
var clusterNameRe = lazyre.New(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)

// groupNameRe is a cluster group name as values.Load accepts it.
var groupNameRe = lazyre.New(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

// groupClusters lists the clusters with a metadata file for group, sorted by name.
func groupClusters(root *repo.Root, relDir, group string) ([]string, error) {
	names, err := root.ReadDir(path.Join(relDir, ClustersDir, group))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if c, ok := strings.CutSuffix(n, ".yaml"); ok && clusterNameRe.MatchString(c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// metadataFile chooses the metadata file when the request gives none: the named cluster's file of the
// cluster group (--cluster, COCOGEN_CLUSTER); else, for a cluster group named with --cluster-group, its only
// cluster's file when clusters/<group>/ holds exactly one; else cluster-metadata.yaml of the values directory.
// It returns the file's repository path and the cluster's name ("" for cluster-metadata.yaml); ok is false
// after an error.
func metadataFile(root *repo.Root, relDir string, req Request, d *diag.List) (rel, cluster string, ok bool) {
	def := path.Join(relDir, metadata.DefaultFile)
	switch {
	case req.ClusterGroup != "" && !groupNameRe.MatchString(req.ClusterGroup):
		return def, "", true // values.Load reports the name
	case req.Cluster != "":
		if req.ClusterGroup == "" {
			d.Errorf(srcpos.Pos{File: "--cluster"}, "", "a cluster is one of a cluster group: name the group too (--cluster-group, COCOGEN_CLUSTER_GROUP)")
			return "", "", false
		}
		if !clusterNameRe.MatchString(req.Cluster) || len(req.Cluster) > 63 {
			d.Errorf(srcpos.Pos{File: "--cluster"}, "", "%q is not a cluster name (the ACM ManagedCluster name: lowercase letters, digits and -)", req.Cluster)
			return "", "", false
		}
		rel = ClusterFile(relDir, req.ClusterGroup, req.Cluster)
		if !root.Exists(rel) {
			d.Errorf(srcpos.Pos{File: root.Display(rel)}, "", "cluster %s of cluster group %s has no metadata file: add %s to the repository (cocogen metadata collect --kubeconfig <the cluster's> --fact cluster.name=%s --fact cluster.hubAppsDomain=<the hub's apps domain> --output %s) and push it", req.Cluster, req.ClusterGroup, rel, req.Cluster, rel)
			return "", "", false
		}
		return rel, req.Cluster, true
	case req.ClusterGroup != "":
		names, err := groupClusters(root, relDir, req.ClusterGroup)
		if err != nil {
			d.Errorf(srcpos.Pos{File: root.Display(path.Join(relDir, ClustersDir, req.ClusterGroup))}, "", "%v", err)
			return "", "", false
		}
		switch len(names) {
		case 0:
			// A group that runs on one cluster may keep its facts beside its values file:
			// cluster-metadata-<group>.yaml, else the values directory's cluster-metadata.yaml.
			if own := path.Join(relDir, groupMetadataFile(req.ClusterGroup)); root.Exists(own) {
				return own, "", true
			}
			return def, "", true
		case 1:
			return ClusterFile(relDir, req.ClusterGroup, names[0]), names[0], true
		}
		d.Errorf(srcpos.Pos{File: "--cluster-group"}, "", "cluster group %s runs on %d clusters (%s): name one with --cluster, or pass its metadata with -m", req.ClusterGroup, len(names), strings.Join(names, ", "))
		return "", "", false
	}
	return def, "", true
}

// checkClusterName checks that a cluster's metadata file names the cluster it is the file of.
func checkClusterName(meta *metadata.Metadata, cluster string, d *diag.List) {
	n := meta.Cluster.Name
	switch {
	case !n.Set:
		d.Errorf(srcpos.Pos{File: meta.Source, Line: 1, Col: 1}, "cluster.name", "the metadata of cluster %s must say cluster.name: %s (the ACM ManagedCluster name, which selects this file)", cluster, cluster)
	case n.Value != cluster:
		d.Errorf(n.Pos, "cluster.name", "is %q, but this is the metadata file of cluster %s: a cluster's file is named by its ACM ManagedCluster name", n.Value, cluster)
	}
}

// readMetadataFile reads the chosen metadata file; a missing cluster-metadata.yaml is no metadata.
func readMetadataFile(root *repo.Root, rel string, d *diag.List) ([]byte, bool) {
	data, err := root.ReadFile(rel)
	switch {
	case err == nil:
		return data, true
	case errors.Is(err, fs.ErrNotExist):
		return nil, true
	}
	d.Errorf(srcpos.Pos{File: root.Display(rel)}, "", "%v", err)
	return nil, false
}

// groupMetadataFile is the metadata file of the values directory that a render of a named cluster group reads
// before cluster-metadata.yaml: cluster-metadata-<group>.yaml. A repository then keeps the facts of a group that
// runs on one cluster beside the values that render it.
func groupMetadataFile(group string) string {
	return strings.TrimSuffix(metadata.DefaultFile, ".yaml") + "-" + group + ".yaml"
}

// MetadataFile reads the metadata file a render of req would read when req carries none: the cluster's file
// under clusters/<group>/, cluster-metadata-<group>.yaml or cluster-metadata.yaml. data is nil when there is
// none; problems are in d. cocogen secrets init reads the trust anchor's path from it.
func MetadataFile(root *repo.Root, relDir string, req Request, d *diag.List) (data []byte, name string, ok bool) {
	rel, _, ok := metadataFile(root, relDir, req, d)
	if !ok {
		return nil, "", false
	}
	data, ok = readMetadataFile(root, rel, d)
	if !ok || data == nil {
		return nil, "", ok
	}
	return data, root.Display(rel), true
}
