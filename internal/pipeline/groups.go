package pipeline

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Target is one render of a repository: a cluster group, and the cluster whose metadata file
// clusters/<group>/<cluster>.yaml it reads ("" for the values directory's cluster-metadata.yaml).
type Target struct{ Group, Cluster string }

// String names the target in messages: "spoke (cluster spoke-1)".
func (t Target) String() string {
	if t.Cluster == "" {
		return t.Group
	}
	return t.Group + " (cluster " + t.Cluster + ")"
}

// groupValuesFileRe is a cluster group's values file: values-<group>.yaml.
var groupValuesFileRe = lazyre.New(`^values-([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)\.yaml$`)

// Targets lists every cluster group of the values directory of req, each once per cluster with a metadata
// file in clusters/<group>/, or once when it has none, sorted. A cluster group is a values-<group>.yaml whose
// clusterGroup.name is <group> (so platform, version and per-cluster value files, which layer over a group,
// are not taken for groups).
func Targets(req Request) ([]Target, error) {
	root, relDir, err := openValuesDir(req)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	names, err := root.ReadDir(relDir)
	if err != nil {
		return nil, err
	}
	var out []Target
	for _, n := range names {
		m := groupValuesFileRe.FindStringSubmatch(n)
		if m == nil || m[1] == "global" {
			continue
		}
		data, err := root.ReadFile(relDir + "/" + n)
		if err != nil {
			return nil, err
		}
		doc, err := node.Parse(root.Display(relDir+"/"+n), data, node.DefaultLimits)
		if err != nil {
			return nil, &diag.Diagnostics{Items: []diag.Diagnostic{{Severity: diag.Error, Pos: srcpos.Pos{File: root.Display(relDir + "/" + n)}, Msg: err.Error()}}}
		}
		if doc.Path("clusterGroup", "name").Scalar() != m[1] {
			continue
		}
		clusters, err := groupClusters(root, relDir, m[1])
		if err != nil {
			return nil, err
		}
		if len(clusters) == 0 {
			out = append(out, Target{Group: m[1]})
		}
		for _, c := range clusters {
			out = append(out, Target{Group: m[1], Cluster: c})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no cluster group in %s: a cluster group is a values-<group>.yaml whose clusterGroup.name is <group>", root.Display(relDir))
	}
	slices.SortFunc(out, func(a, b Target) int { return strings.Compare(a.Group+"\x00"+a.Cluster, b.Group+"\x00"+b.Cluster) })
	return out, nil
}

// openValuesDir opens the repository of a request (Request.FS) and returns the values directory relative to
// its root.
func openValuesDir(req Request) (*repo.Root, string, error) {
	if req.FS == nil {
		return nil, "", errors.New("the request names no repository (Request.FS)")
	}
	root := repo.New(req.FS, req.RootName, req.RootDir)
	relDir, err := repo.Clean(cmp.Or(req.ValuesDir, "values"))
	if err != nil {
		return nil, "", err
	}
	if st, err := root.Stat(relDir); err != nil || !st.IsDir() {
		return nil, "", fmt.Errorf("values directory %s does not exist (--values-dir)", root.Display(relDir))
	}
	return root, relDir, nil
}

// GroupResult is the render of one target.
type GroupResult struct {
	Target Target
	Result *Result
}

// RenderGroups renders every target of the repository (Targets) with the other settings of req, each
// object marked with its cluster group and cluster. A problem in any of them fails the whole: the diagnostics
// of every target are returned together (each once, when several targets report the same).
func RenderGroups(req Request) ([]GroupResult, []diag.Diagnostic, error) {
	if req.ClusterGroup != "" || req.Cluster != "" || req.Metadata != nil || req.App != "" {
		return nil, nil, errors.New("a render of every cluster group takes no cluster group, cluster, metadata file or application")
	}
	targets, err := Targets(req)
	if err != nil {
		return nil, nil, err
	}
	var out []GroupResult
	var diags []diag.Diagnostic
	failed := false
	for _, t := range targets {
		r := req
		r.ClusterGroup, r.Cluster = t.Group, t.Cluster
		res, err := Render(r)
		var de *diag.Diagnostics
		switch {
		case errors.As(err, &de):
			diags = appendNew(diags, de.Items)
			failed = true
			continue
		case err != nil:
			return nil, nil, fmt.Errorf("cluster group %s: %w", t, err)
		}
		diags = appendNew(diags, res.Diagnostics)
		for i := range res.Objects {
			res.Objects[i].Group, res.Objects[i].Cluster = t.Group, t.Cluster
		}
		out = append(out, GroupResult{Target: t, Result: res})
	}
	if failed {
		return nil, nil, &diag.Diagnostics{Items: diags}
	}
	return out, diags, nil
}

// appendNew appends the diagnostics that are not already there.
func appendNew(to, items []diag.Diagnostic) []diag.Diagnostic {
	for _, it := range items {
		if !slices.Contains(to, it) {
			to = append(to, it)
		}
	}
	return to
}
