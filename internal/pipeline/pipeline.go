// Package pipeline is cocogen's one render path: load the values and metadata of a repository, decode them
// into the typed model, run the generators and return sorted objects. `cocogen render` and the Argo CD plugin
// build a Request and call Render; their output for the same inputs is the same bytes.
package pipeline

import (
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/cocogen/cocogen/generators/appofapps"
	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/regolimit"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
	"github.com/cocogen/cocogen/internal/tpl"
	"github.com/cocogen/cocogen/internal/values"
)

// Request says what to render.
type Request struct {
	// RepoRoot is the repository root; empty means: found from ValuesDir (see repo.FindRoot).
	RepoRoot string
	// ValuesDir is the values directory (absolute or relative to the working directory); default "values".
	ValuesDir string
	// ClusterGroup overrides main.clusterGroupName.
	ClusterGroup string
	// Metadata is the content of a metadata file and MetadataName how to show it; nil means the values
	// directory's cluster-metadata.yaml when there is one, else no metadata.
	Metadata     []byte
	MetadataName string
	// Sets and SetStrings are --set and --set-string arguments, applied in order after the metadata.
	Sets       []string
	SetStrings []string
	// MetadataPath is the file system path Metadata was read from ("" for stdin or no file). Child
	// applications that cocogen renders are told to read the same file when it lies in the repository.
	MetadataPath string
	// Facts override facts of the metadata (plugin env COCOGEN_FACT_*), later winning.
	Facts []metadata.Override
	// Cluster names the cluster (its ACM ManagedCluster name) whose metadata file clusters/<group>/<name>.yaml of
	// the values directory the render reads; it needs ClusterGroup and excludes Metadata.
	Cluster string
	// App selects one application of the cluster group whose objects cocogen renders itself (an application
	// with a cocogen key); empty means the cluster group's app-of-apps tree.
	App string
	// All renders the tree and, after it, every application that cocogen renders, all in Result.Objects.
	All bool
	// Budget are the resource budgets of the render (zero: budget.Defaults()).
	Budget budget.Limits
	// nested is set on the renders of a hub's managed clusters (renderManaged).
	nested *hubView
	// Now is the clock of the render's warnings about dates in the values (nil: time.Now). No date changes
	// what is rendered: the same commit renders the same bytes at any time.
	Now func() time.Time
}

// Result is a successful render.
type Result struct {
	Objects     []manifest.Object
	Diagnostics []diag.Diagnostic
	Group       string
	// Cluster is the cluster whose metadata file (clusters/<group>/<name>.yaml) was read, if any.
	Cluster string
	Files   []values.File
	// Root is the repository root that was read.
	Root string
	// Profiles are the rendered init-data profiles of global.coco.initdata, by name, and their names in order.
	Profiles     map[string]*Profile
	ProfileNames []string
	// DefaultProfile is global.coco.initdata.default.
	DefaultProfile string
	// Usage is what the render spent of its budgets.
	Usage Usage
	// Apps are the applications that cocogen renders, each with its objects. Objects holds the tree, the
	// tree followed by every application's objects (Request.All), or the one application's (Request.App).
	Apps []App
	// UsedProfiles are the init-data profiles the applications run (those the reference values bind), sorted.
	UsedProfiles []string
	// Previous is global.coco.trustee.referenceValues.previous: the init-data kept for pods started before
	// a change.
	Previous []model.PreviousInitData
	// Azure are the Azure peer-pod choices of the values (global.coco.azure), as the render read them:
	// `cocogen metadata check` checks their VM sizes against Azure.
	Azure model.CoCoAzure
	// PeerPods says whether the render writes peer-pods-cm (a sandbox application on Azure); BareMetalTEEs
	// are the TEEs of a bare-metal cluster's hosts (snp, tdx) when its platform is BareMetal or None.
	PeerPods      bool
	BareMetalTEEs []string
	// Managed are the clusters of the managed cluster groups whose init-data the trustee application
	// registers, as "group/cluster", sorted.
	Managed []string
	// meta and anchor are the cluster metadata and the KBS trust anchor (PEM) the render read.
	meta   *metadata.Metadata
	anchor string
}

// Usage is what a render spent of the budgets that count work (cocogen render --verbose prints it).
type Usage struct {
	InputBytes    int64
	YAMLNodes     int
	TemplateSteps int64
	TemplateBytes int64
	RegoSteps     int64
}

// Profile returns a rendered init-data profile by name.
func (r *Result) Profile(name string) (*Profile, error) {
	if p, ok := r.Profiles[name]; ok {
		return p, nil
	}
	return nil, profileError(r.ProfileNames, name)
}

// Render runs the pipeline. A problem with the input is returned as *diag.Diagnostics (exit code 1); any
// other error is a usage or internal error.
func Render(req Request) (*Result, error) {
	d := &diag.List{}
	valuesDir := req.ValuesDir
	if valuesDir == "" {
		valuesDir = "values"
	}
	if st, err := os.Stat(valuesDir); err != nil || !st.IsDir() {
		// Invalid input (exit code 1), as when a values file is missing.
		return nil, &diag.Diagnostics{Items: []diag.Diagnostic{{Severity: diag.Error, Pos: srcpos.Pos{File: "--values-dir"}, Msg: fmt.Sprintf("values directory %s does not exist (a Validated Patterns repository keeps its values at its root: --values-dir .)", valuesDir)}}}
	}
	limits := req.Budget
	if limits == (budget.Limits{}) {
		limits = budget.Defaults()
	}
	rootDir := req.RepoRoot
	if rootDir == "" {
		var found bool
		var err error
		if rootDir, found, err = repo.FindRoot(valuesDir); err != nil {
			return nil, err
		}
		if !found {
			d.Warnf(srcpos.Pos{File: "--values-dir"}, "", "no .git at or above %s: the repository root is the values directory itself, so files outside it cannot be read (pass --repo-root DIR to name the root)", valuesDir)
		}
	}
	root, err := repo.Open(rootDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	root.SetBudget(limits)
	templates := tpl.NewBudget(limits)
	meter := regolimit.NewMeter(limits)
	relDir, err := root.RelDir(valuesDir)
	if err != nil {
		return nil, &diag.Diagnostics{Items: []diag.Diagnostic{{Severity: diag.Error, Pos: srcpos.Pos{File: "--values-dir"}, Msg: err.Error()}}}
	}
	if st, err := root.Stat(relDir); err != nil || !st.IsDir() {
		return nil, &diag.Diagnostics{Items: []diag.Diagnostic{{Severity: diag.Error, Pos: srcpos.Pos{File: "--values-dir"}, Msg: fmt.Sprintf("values directory %s does not exist (use --values-dir DIR; a Validated Patterns repository keeps its values at the root: --values-dir .)", valuesDir)}}}
	}

	// Metadata first, then flags: later params win.
	md, mdName := req.Metadata, req.MetadataName
	cluster := ""
	switch {
	case md != nil && req.Cluster != "":
		d.Errorf(srcpos.Pos{File: "--cluster"}, "", "--cluster reads the cluster's file under %s/: do not pass a metadata file too", path.Join(relDir, ClustersDir))
		return nil, finish(d)
	case md == nil:
		rel, name, ok := metadataFile(root, relDir, req, d)
		if !ok {
			return nil, finish(d)
		}
		data, ok := readMetadataFile(root, rel, d)
		if !ok {
			return nil, finish(d)
		}
		if data != nil {
			md, mdName, cluster = data, root.Display(rel), name
		}
	}
	var params []helmvalues.Param
	var meta *metadata.Metadata
	if md != nil || len(req.Facts) > 0 {
		if md == nil {
			mdName = "<facts>"
		}
		var mdDiags *diag.List
		meta, mdDiags = metadata.Load(mdName, md, req.Facts)
		d.Append(mdDiags)
		if meta == nil {
			return nil, finish(d)
		}
		if cluster != "" {
			checkClusterName(meta, cluster, d)
		}
		for _, p := range meta.Params() {
			pp, err := helmvalues.ParsePath(p.Path)
			if err != nil {
				return nil, err
			}
			params = append(params, helmvalues.Param{Path: pp, Value: p.Value})
		}
	}
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
					return nil, finish(d)
				}
			}
			if sets > limits.SetCount {
				d.Errorf(srcpos.Pos{File: "--set"}, "", "%v", limits.Exceed("set-count", "--set, --set-string and the plugin's sets give more values"))
				return nil, finish(d)
			}
			params = append(params, ps...)
		}
	}
	if d.HasErrors() {
		return nil, finish(d)
	}

	yamlTally := &node.Tally{Max: limits.YAMLTotalNodes}
	loaded, ld := values.Load(values.Options{Root: root, Dir: relDir, ClusterGroup: req.ClusterGroup, Params: params,
		YAML: node.FromBudget(limits, yamlTally), Templates: templates})
	d.Append(ld)
	if loaded == nil {
		return nil, finish(d)
	}
	v, md2 := model.Decode(loaded.Values)
	d.Append(md2)
	if v == nil {
		return nil, finish(d)
	}
	if v.ClusterGroup.Name != loaded.Group {
		d.Warnf(v.ClusterGroup.NamePos, "clusterGroup.name", "is %q but the cluster group being rendered is %q: child applications will read values-%s.yaml", v.ClusterGroup.Name, loaded.Group, v.ClusterGroup.Name)
	}
	checkAppValueFiles(root, v, templates, d)
	rel := resolveReleases(v, meta, d)
	var anchor string
	var profiles map[string]*Profile
	switch {
	case !needsTrustAnchor(v):
	case meta == nil:
		// The trustee application reports its own need (needMetadata).
		if len(v.CoCo.InitData.Profiles) > 0 {
			d.Errorf(v.CoCo.InitData.DefaultPos, "global.coco.initdata", "init-data profiles need cluster metadata (the KBS endpoint and its trust anchor): pass -m FILE or add cluster-metadata.yaml to the values directory")
		}
	default:
		if pem, ok := readTrustAnchor(root, meta, d); ok {
			anchor = pem
			profiles = buildProfiles(root, v, meta, anchor, rel.kata.agent(), meter, d)
		}
	}
	if d.HasErrors() {
		return nil, finish(d)
	}
	var want *model.Application
	if req.App != "" {
		a, dg := findApp(v, req.App)
		if dg != nil {
			d.Add(*dg)
			return nil, finish(d)
		}
		want = a
	}
	ac := appContext{root: root, v: v, meta: meta, rel: rel, profiles: profiles, anchor: anchor, meter: meter, overlay: kustomizeOptions(limits), now: req.Now, valuesDir: relDir}
	if req.nested != nil {
		ac.kbsReaders = req.nested.readers
	}
	managed, err := renderManaged(ac, req, Usage{InputBytes: root.BytesRead(), YAMLNodes: yamlTally.Used, TemplateSteps: templates.Steps(), TemplateBytes: templates.Bytes(), RegoSteps: meter.Steps()}, d)
	if err != nil {
		return nil, err
	}
	if d.HasErrors() {
		return nil, finish(d)
	}
	ac.managed = managed
	apps := renderApps(ac, d)
	for _, a := range apps {
		checkNames(a.Objects, d)
	}
	if d.HasErrors() {
		return nil, finish(d)
	}
	usage := func() Usage {
		return Usage{InputBytes: root.BytesRead(), YAMLNodes: yamlTally.Used, TemplateSteps: templates.Steps(), TemplateBytes: templates.Bytes(), RegoSteps: meter.Steps()}
	}
	res := &Result{Group: loaded.Group, Cluster: cluster, Files: loaded.Files, Root: root.Dir(), Profiles: profiles, ProfileNames: v.CoCo.ProfileNames(), DefaultProfile: v.CoCo.InitData.Default, Apps: apps,
		UsedProfiles: usedProfiles(ac, apps), Previous: v.CoCo.Trustee.Previous, PeerPods: rendersPeerPods(ac), meta: meta, anchor: anchor, Azure: v.CoCo.Azure}
	if meta != nil && isBareMetal(v.Global.Tree.Get("clusterPlatform").Scalar()) {
		res.BareMetalTEEs = meta.BareMetal.TEEs()
	}
	for _, m := range managed {
		res.Managed = append(res.Managed, m.group+"/"+m.cluster)
	}
	if want != nil {
		for _, a := range apps {
			if a.Name == want.Name {
				res.Objects = a.Objects
			}
		}
		res.Diagnostics = d.Sorted()
		res.Usage = usage()
		return res, nil
	}
	env := childEnv(root, req, relDir, loaded.Group, cluster, v, d)
	checkRepoURL(v, d)
	objs, gd := appofapps.Render(v, appofapps.Options{ValuesDir: relDir, PluginEnv: env, Templates: templates})
	d.Append(gd)
	checkNames(objs, d)
	if d.HasErrors() {
		return nil, finish(d)
	}
	manifest.Sort(objs)
	all := objs
	if req.All {
		for _, a := range apps {
			all = append(all[:len(all):len(all)], a.Objects...)
		}
	}
	all = dedupe(all, d)
	if d.HasErrors() {
		return nil, finish(d)
	}
	res.Objects = all
	res.Diagnostics = d.Sorted()
	res.Usage = usage()
	return res, nil
}

// childEnv is the plugin env that the applications cocogen renders get after COCOGEN_APP, so that the
// plugin renders each from the same cluster group, values directory, metadata file, sets and facts as this
// tree.
func childEnv(root *repo.Root, req Request, relDir, group, cluster string, v *model.Values, d *diag.List) []appofapps.EnvVar {
	first := -1
	for i, a := range v.ClusterGroup.Applications {
		if a.CoCoGen != "" && !a.Disabled {
			first = i
			break
		}
	}
	if first < 0 {
		return nil
	}
	env := []appofapps.EnvVar{{Name: "COCOGEN_CLUSTER_GROUP", Value: group}}
	if cluster != "" {
		env = append(env, appofapps.EnvVar{Name: "COCOGEN_CLUSTER", Value: cluster})
	}
	if relDir != "values" {
		env = append(env, appofapps.EnvVar{Name: "COCOGEN_VALUES_DIR", Value: relDir})
	}
	if req.Metadata != nil {
		rel := ""
		if req.MetadataPath != "" {
			if r, err := root.RelDir(req.MetadataPath); err == nil {
				rel = r
			}
		}
		switch {
		case rel == path.Join(relDir, metadata.DefaultFile), cluster == "" && rel == path.Join(relDir, groupMetadataFile(group)):
			// The child reads the same default: it renders the same cluster group.
		case rel != "":
			env = append(env, appofapps.EnvVar{Name: "COCOGEN_METADATA", Value: rel})
		default:
			a := v.ClusterGroup.Applications[first]
			d.Warnf(a.Pos, "clusterGroup.applications."+a.Key, "the metadata (%s) is not a file of the repository: in Argo CD, the applications that cocogen renders read %s instead, so they may differ from this render", req.MetadataName, path.Join(relDir, metadata.DefaultFile))
		}
	}
	if sets := propagated(req.Sets, false); len(sets) > 0 {
		env = append(env, appofapps.EnvVar{Name: "COCOGEN_SET", Value: strings.Join(sets, "\n")})
	}
	if sets := propagated(req.SetStrings, true); len(sets) > 0 {
		env = append(env, appofapps.EnvVar{Name: "COCOGEN_SET_STRING", Value: strings.Join(sets, "\n")})
	}
	for _, f := range req.Facts {
		env = append(env, appofapps.EnvVar{Name: metadata.EnvName(f.Path), Value: f.Value})
	}
	return env
}

// sourceKeys are the values a child application derives from its own source: the tree writes
// global.repoURL and global.targetRevision into each child Application's source, and the plugin reads them
// back from Argo CD (ARGOCD_APP_SOURCE_*). Passing them on as sets too would only repeat them.
var sourceKeys = []string{"global.repoURL", "global.targetRevision"}

// propagated returns the --set arguments that child applications need: all but those that set only the
// source keys.
func propagated(args []string, asString bool) []string {
	var out []string
	for _, a := range args {
		ps, err := helmvalues.ParseSet(a, asString)
		onlySource := err == nil && len(ps) > 0
		for _, p := range ps {
			onlySource = onlySource && slices.Contains(sourceKeys, p.Path.String())
		}
		if !onlySource {
			out = append(out, a)
		}
	}
	return out
}

// finish returns the collected errors together with the warnings, so the caller prints everything at once.
func finish(d *diag.List) error {
	return &diag.Diagnostics{Items: d.Sorted()}
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

// IsUserError reports whether err is a problem with the input (exit code 1) rather than a usage or internal
// error (exit code 2).
func IsUserError(err error) bool {
	var de *diag.Diagnostics
	return errors.As(err, &de)
}
