package pipeline

import (
	"cmp"
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/cocogen/cocogen/generators/profiles"
	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/overlay"
	"github.com/cocogen/cocogen/internal/regolimit"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
	"github.com/cocogen/cocogen/internal/tpl"
	"github.com/cocogen/cocogen/internal/values"
)

// Sources is everything a render reads from the repository, loaded before any generator runs: the layered
// values and their typed model, the cluster metadata, the KBS trust anchor, the sources of the init-data
// profiles (agent policies, aa.toml and cdh.toml templates), the Trustee policies and the files of every
// workloads application's kustomize overlay. Every value carries its position. Nothing changes a Sources after
// load returns, and nothing after load reads the repository: the generators and checks see only this.
//
// A file that cannot be read is kept with its error, which the generator that needs the file reports (a
// render that does not need it does not fail on it).
type Sources struct {
	// valuesDir is the values directory relative to the root.
	valuesDir string
	loaded    *values.Loaded
	values    *model.Values
	meta      *metadata.Metadata
	// anchor is the KBS trust anchor certificate the metadata names, when init-data or the trustee
	// application needs it (needsTrustAnchor) and the mode embeds one.
	anchor profiles.Source
	// profileFiles are the sources of the init-data profiles by the repository path the values write.
	profileFiles map[string]profiles.Source
	// overlays are the kustomize overlays of the enabled workloads applications, by application name.
	overlays map[string]*loadedOverlay
	// policies are the Trustee policy sources by repository path, when a trustee application is enabled.
	policies map[string]profiles.Source
	// cluster is the cluster whose metadata file was read (clusters/<group>/<cluster>.yaml), "" for none.
	cluster string
	// managed are the managed cluster groups of a hub's render with the load phases of their clusters'
	// renders (loadManaged), indexed like ManagedGroups.
	managed []managedGroup
	// The budgets that the generators go on spending, and what the load spent.
	templates *tpl.Budget
	meter     *regolimit.Meter
	yamlTally *node.Tally
	bytesRead int64
}

// loadedOverlay is a workloads application's overlay as load found it: its files (overlay.Load), or the
// diagnostics that say why it cannot be built: about the application's path (diags) or from overlay.Load
// (load).
type loadedOverlay struct {
	dir   string
	src   *overlay.Sources
	diags *diag.List
	load  *diag.List
}

// load reads the sources of a render from req.FS; the values' dates are checked against now, the render's
// clock. It returns nil when the render cannot go on; the reasons are in d.
func load(req Request, limits budget.Limits, now time.Time, d *diag.List) *Sources {
	root := repo.New(req.FS, req.RootName, req.RootDir)
	root.SetBudget(limits)
	var shared *hubView
	if h := req.nested; h != nil && h.root != nil {
		shared, root = h, h.root // a managed cluster's render spends its hub's budgets (hubView)
	}
	relDir, err := repo.Clean(cmp.Or(req.ValuesDir, "values"))
	if err != nil {
		d.Errorf(srcpos.Pos{File: "--values-dir"}, "", "%v", err)
		return nil
	}
	if st, err := root.Stat(relDir); err != nil || !st.IsDir() {
		d.Errorf(srcpos.Pos{File: "--values-dir"}, "", "values directory %s does not exist (use --values-dir DIR; a Validated Patterns repository keeps its values at the root: --values-dir .)", root.Display(relDir))
		return nil
	}
	src := &Sources{valuesDir: relDir, templates: tpl.NewBudget(limits), meter: regolimit.NewMeter(limits),
		yamlTally: &node.Tally{Max: limits.YAMLTotalNodes}}
	if shared != nil {
		src.templates, src.meter, src.yamlTally = shared.templates, shared.meter, shared.tally
	}

	// Metadata first, then flags: later params win.
	md, mdName := req.Metadata, req.MetadataName
	switch {
	case md != nil && req.Cluster != "":
		d.Errorf(srcpos.Pos{File: "--cluster"}, "", "--cluster reads the cluster's file under %s/: do not pass a metadata file too", path.Join(relDir, ClustersDir))
		return nil
	case md == nil:
		rel, name, ok := metadataFile(root, relDir, req, d)
		if !ok {
			return nil
		}
		data, ok := readMetadataFile(root, rel, d)
		if !ok {
			return nil
		}
		if data != nil {
			md, mdName, src.cluster = data, root.Display(rel), name
		}
	}
	var params []helmvalues.Param
	if md != nil || len(req.Facts) > 0 {
		if md == nil {
			mdName = "<facts>"
		}
		var mdDiags *diag.List
		src.meta, mdDiags = metadata.Load(mdName, md, req.Facts)
		d.Append(mdDiags)
		if src.meta == nil {
			return nil
		}
		if src.cluster != "" {
			checkClusterName(src.meta, src.cluster, d)
		}
		for _, p := range src.meta.Params() {
			pp, err := helmvalues.ParsePath(p.Path)
			if err != nil {
				d.Errorf(srcpos.Pos{File: mdName}, "", "%v", err)
				return nil
			}
			params = append(params, helmvalues.Param{Path: pp, Value: p.Value})
		}
	}
	sets, ok := setParams(req, limits, d)
	if !ok || d.HasErrors() {
		return nil
	}
	params = append(params, sets...)

	loaded, ld := values.Load(values.Options{Root: root, Dir: relDir, ClusterGroup: req.ClusterGroup, Params: params,
		YAML: node.FromBudget(limits, src.yamlTally), Templates: src.templates})
	d.Append(ld)
	if loaded == nil {
		return nil
	}
	v, md2 := model.DecodeAt(loaded.Values, now)
	d.Append(md2)
	if v == nil {
		return nil
	}
	src.loaded, src.values = loaded, v
	if v.ClusterGroup.Name != loaded.Group {
		d.Warnf(v.ClusterGroup.NamePos, "clusterGroup.name", "is %q but the cluster group being rendered is %q: child applications will read values-%s.yaml", v.ClusterGroup.Name, loaded.Group, v.ClusterGroup.Name)
	}
	checkAppValueFiles(root, v, src.templates, d)

	// What the generators read, in the order they use it.
	if needsTrustAnchor(v) && src.meta != nil {
		src.anchor = readTrustAnchor(root, src.meta)
		if len(v.CoCo.InitData.Profiles) > 0 && src.meta.KBSURL() != "" {
			src.profileFiles = map[string]profiles.Source{}
			for _, p := range v.CoCo.InitData.Profiles {
				for _, rel := range []string{profiles.PolicyPath(p), p.AA, p.CDH} {
					if _, done := src.profileFiles[rel]; !done {
						src.profileFiles[rel] = readSource(root, rel)
					}
				}
			}
		}
	}
	src.overlays = map[string]*loadedOverlay{}
	trustee := false
	for i := range v.ClusterGroup.Applications {
		a := &v.ClusterGroup.Applications[i]
		switch {
		case a.Disabled:
		case a.CoCoGen == model.GenWorkloads:
			src.overlays[a.Name] = loadOverlay(root, a, kustomizeOptions(limits))
		case a.CoCoGen == model.GenTrustee:
			trustee = true
		}
	}
	if trustee {
		src.policies = map[string]profiles.Source{}
		for _, rel := range []string{resourcePolicyPath, attestationPolicyPath} {
			data, err := root.ReadFile(rel)
			src.policies[rel] = profiles.Source{Name: root.Display(rel), Data: data, Err: err}
		}
	}
	// The clusters of the managed cluster groups, whose renders the hub's trustee application needs: their
	// load phases too.
	if req.nested == nil && hasTrustee(v) {
		src.managed = loadManaged(req, src, root, limits, now)
	}
	src.bytesRead = root.BytesRead()
	return src
}

// hubView is what a hub passes to the renders of its managed clusters: its KBS resources and the profiles
// that may read each (resourceReaders), and its budgets, which the renders of its managed clusters spend
// with it: one reader of the repository, one count of values, of template work and of Rego work for the hub
// and every cluster it renders, so that a repository with many cluster files cannot multiply the work of one
// render.
type hubView struct {
	readers   map[string][]string
	root      *repo.Root
	tally     *node.Tally
	templates *tpl.Budget
	meter     *regolimit.Meter
}

// managedLoad is the load phase of the render of one cluster of a managed cluster group (loadManaged): its
// request and what loadRequest returned for it.
type managedLoad struct {
	req   Request
	src   *Sources
	clock time.Time
	d     *diag.List
	err   error
}

// managedGroup is a managed cluster group of a hub's render as the load phase found it: its clusters that
// have a metadata file, or why they cannot be listed, and the load phase of each one's render.
type managedGroup struct {
	names []string
	err   error
	loads []*managedLoad // like names
}

// loadManaged lists the clusters of every managed cluster group of a hub's render (src) and runs the load phase
// of each one's render, as that cluster's Argo CD renders it: the same repository and revision, the group's
// values, the cluster's metadata file and the group's helmOverrides, at the hub's one reading of the clock,
// spending the hub's budgets. The result is indexed like ManagedGroups.
func loadManaged(req Request, src *Sources, root *repo.Root, limits budget.Limits, now time.Time) []managedGroup {
	v := src.values
	view := &hubView{readers: resourceReaders(appContext{v: v}), root: root, tally: src.yamlTally, templates: src.templates, meter: src.meter}
	out := make([]managedGroup, len(v.ClusterGroup.ManagedGroups))
	for gi, g := range v.ClusterGroup.ManagedGroups {
		if g.Name == "" || g.Name == v.ClusterGroup.Name {
			continue
		}
		mg := &out[gi]
		mg.names, mg.err = groupClusters(root, src.valuesDir, g.Name)
		for _, name := range mg.names {
			sub := Request{
				FS:           req.FS,
				RootName:     req.RootName,
				RootDir:      req.RootDir,
				ValuesDir:    src.valuesDir,
				ClusterGroup: g.Name,
				Cluster:      name,
				Sets:         helmOverrideSets(g),
				All:          true,
				Budget:       limits,
				Now:          func() time.Time { return now },
				nested:       view,
			}
			ml := &managedLoad{req: sub}
			ml.src, ml.clock, ml.d, ml.err = loadRequest(sub)
			mg.loads = append(mg.loads, ml)
		}
	}
	return out
}

// setParams parses the --set and --set-string arguments of the request within the set-depth and set-count
// budgets. ok is false when a budget is spent.
func setParams(req Request, limits budget.Limits, d *diag.List) (params []helmvalues.Param, ok bool) {
	sets := 0
	for _, group := range []struct {
		args     []string
		asString bool
	}{{req.Sets, false}, {req.SetStrings, true}} {
		for _, a := range group.args {
			ps, err := helmvalues.ParseSet(a, group.asString)
			if err != nil {
				d.Errorf(srcpos.Pos{File: "--set"}, "", "%v", err)
				continue
			}
			for _, p := range ps {
				sets += max(p.Value.Len(), 1)
				if len(p.Path) > limits.SetDepth {
					d.Errorf(srcpos.Pos{File: "--set"}, "", "%v", limits.Exceed("set-depth", fmt.Sprintf("a --set path has %d keys and indexes", len(p.Path))))
					return nil, false
				}
			}
			if sets > limits.SetCount {
				d.Errorf(srcpos.Pos{File: "--set"}, "", "%v", limits.Exceed("set-count", "--set, --set-string and the plugin's sets give more values"))
				return nil, false
			}
			params = append(params, ps...)
		}
	}
	return params, true
}

// readSource reads a repository file named in the values (a leading "/" means the root).
func readSource(root *repo.Root, p string) profiles.Source {
	rel, err := repo.Clean(p)
	if err != nil {
		return profiles.Source{Name: p, Err: err}
	}
	data, err := root.ReadFile(rel)
	return profiles.Source{Name: root.Display(rel), Data: data, Err: err}
}

// readTrustAnchor reads the PEM certificate that the metadata names as the KBS trust anchor (nothing in the
// public mode, which embeds none, or when no certificate is named: checkTrustAnchor reports that).
func readTrustAnchor(root *repo.Root, meta *metadata.Metadata) profiles.Source {
	cert := meta.KBS.TrustAnchor.Certificate
	if meta.TrustAnchorMode() == "public" || !cert.Set {
		return profiles.Source{}
	}
	return readSource(root, cert.Value)
}

// loadOverlay reads the kustomize overlay at a workloads application's path (overlay.Load).
func loadOverlay(root *repo.Root, a *model.Application, opt overlay.Options) *loadedOverlay {
	path := "clusterGroup.applications." + a.Key + ".path"
	pathPos := a.Pos
	out := &loadedOverlay{diags: &diag.List{}}
	dir, err := workloadDir(a.Path)
	if err != nil {
		out.diags.Errorf(pathPos, path, "%v", err)
		return out
	}
	out.dir = dir
	if st, err := root.Stat(dir); err != nil || !st.IsDir() {
		out.diags.Errorf(pathPos, path, "%s is not a directory of the repository", a.Path)
		return out
	}
	out.src, out.load = overlay.Load(root, dir, opt)
	return out
}

// checkAppValueFiles warns about per-application extraValueFiles that name a file of the pattern repository
// that does not exist (Argo CD would skip it silently).
func checkAppValueFiles(root *repo.Root, v *model.Values, templates *tpl.Budget, d *diag.List) {
	eng := tpl.New(v.Tree, templates)
	for _, a := range v.ClusterGroup.Applications {
		for _, f := range a.ExtraValueFiles {
			p, err := eng.Render(tpl.HelmString(f))
			if err != nil {
				continue // reported by the generator
			}
			// Paths relative to a remote chart live inside the chart package: nothing to check here.
			if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "$patternref/") {
				if a.Chart != "" {
					continue
				}
				p = a.Path + "/" + p
			}
			rel, err := values.RepoPath(p)
			if err != nil {
				d.Errorf(f.Pos, "clusterGroup.applications."+a.Key+".extraValueFiles", "%v", err)
				continue
			}
			if !root.Exists(rel) {
				d.Warnf(f.Pos, "clusterGroup.applications."+a.Key+".extraValueFiles", "value file %s does not exist in the repository; Argo CD skips missing value files silently", p)
			}
		}
	}
}

// workloadDir turns the path of a workloads application into a root-relative directory. Argo CD refuses an
// application path that is absolute or leaves the repository, and so does cocogen.
func workloadDir(p string) (string, error) {
	if strings.HasPrefix(p, "/") {
		return "", fmt.Errorf("path %q is absolute: Argo CD refuses absolute application paths; write the overlay's directory relative to the repository root (e.g. overlays/hello-openshift)", p)
	}
	dir, err := repo.Clean(p)
	if err != nil {
		return "", fmt.Errorf("%w: write the overlay's directory relative to the repository root (e.g. overlays/hello-openshift)", err)
	}
	return dir, nil
}
