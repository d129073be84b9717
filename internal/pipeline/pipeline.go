// Package pipeline is cocogen's one render path, in one direction: load reads everything a render needs from
// the repository's file system into an immutable, positioned Sources (load.go, the only file of the package
// that reads); the generators run as pure functions of it; the checks compare their typed results; the
// objects come out sorted. `cocogen render` and the Argo CD plugin build a Request and call Render; their
// output for the same inputs is the same bytes.
package pipeline

import (
	"errors"
	"io/fs"
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
	"github.com/cocogen/cocogen/internal/parallel"
	"github.com/cocogen/cocogen/internal/values"
)

// Request says what to render.
type Request struct {
	// FS is the repository, rooted at its root: the render reads every input through it (repo.Root's rules:
	// no "..", no symbolic links out of the root, the file-bytes and input-bytes budgets) and nothing else.
	// repo.Locate opens one for a directory on disk; tests pass an fstest.MapFS.
	FS fs.FS
	// RootName is how the root is shown in messages: file names read RootName/path, or the repository path
	// alone when it is "" (the root is the working directory). RootDir is the root's directory on disk, for
	// messages (Result.Root); "" when FS is not a directory.
	RootName, RootDir string
	// ValuesDir is the values directory relative to the root; default "values".
	ValuesDir string
	// Notes are diagnostics about the request found before the render (repo.Locate: no .git above the values
	// directory, a values directory outside the root); an error among them fails the render.
	Notes []diag.Diagnostic
	// ClusterGroup overrides main.clusterGroupName.
	ClusterGroup string
	// Metadata is the content of a metadata file and MetadataName how to show it; nil means the values
	// directory's cluster-metadata.yaml when there is one, else no metadata.
	Metadata     []byte
	MetadataName string
	// Sets and SetStrings are --set and --set-string arguments, applied in order after the metadata.
	Sets       []string
	SetStrings []string
	// MetadataFile is the repository path (root-relative) of the file Metadata was read from, "" when it is
	// not a file of the repository (stdin, a file elsewhere). Child applications that cocogen renders are
	// told to read the same file when there is one.
	MetadataFile string
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
	// Now is the render's clock, read once per render (nil: time.Now). It decides the checks of dates (the
	// trust anchor's validity, the reference values' expiration, the end of previous init-data windows),
	// never what is rendered: the same commit renders the same bytes while its dates hold.
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

// Render runs the pipeline in one direction: load reads everything the render needs from Request.FS into an
// immutable Sources (load.go); the generators run as pure functions of it (generators/profiles, the
// application generators, generators/appofapps); the checks then compare their typed results across
// applications (checkApps, checkNames, duplicates). A problem with the input is returned as
// *diag.Diagnostics (exit code 1); any other error is a usage or internal error.
func Render(req Request) (*Result, error) {
	src, clock, d, err := loadRequest(req)
	if err != nil {
		return nil, err
	}
	return generate(req, src, clock, d)
}

// loadRequest runs the load phase of req: its notes first, then load with the render's one clock reading and
// its budgets. A problem with the input is returned as *diag.Diagnostics; d holds the warnings so far.
func loadRequest(req Request) (src *Sources, clock time.Time, d *diag.List, err error) {
	if req.FS == nil {
		return nil, clock, nil, errors.New("render: the request names no repository (Request.FS)")
	}
	d = &diag.List{}
	for _, n := range req.Notes {
		d.Add(n)
	}
	if d.HasErrors() {
		return nil, clock, nil, finish(d)
	}
	now := time.Now
	if req.Now != nil {
		now = req.Now
	}
	clock = now() // the one reading of the clock
	limits := req.Budget
	if limits == (budget.Limits{}) {
		limits = budget.Defaults()
	}
	if src = load(req, limits, clock, d); src == nil {
		return nil, clock, nil, finish(d)
	}
	return src, clock, d, nil
}

// Model is what the load phase of a render reads of the pattern's choices (the layered, typed values) and of
// the cluster's facts (the metadata; nil when the render has none), for commands that need them but render
// nothing: cocogen secrets init.
type Model struct {
	Values *model.Values
	Meta   *metadata.Metadata
	// Diagnostics are the load's warnings.
	Diagnostics []diag.Diagnostic
}

// LoadModel runs the load phase of a render of req (the same files, value-file order, --set and budgets) and
// returns its values and metadata; a problem with the input is returned as *diag.Diagnostics.
func LoadModel(req Request) (*Model, error) {
	src, _, d, err := loadRequest(req)
	if err != nil {
		return nil, err
	}
	if d.HasErrors() {
		return nil, finish(d)
	}
	return &Model{Values: src.values, Meta: src.meta, Diagnostics: d.Sorted()}, nil
}

// generate runs the generators on the loaded sources and checks their results.
func generate(req Request, src *Sources, now time.Time, d *diag.List) (*Result, error) {
	v, meta := src.values, src.meta
	rel := resolveReleases(v, meta, d)
	var anchor string
	var profs map[string]*Profile
	switch {
	case !needsTrustAnchor(v):
	case meta == nil:
		// The trustee application reports its own need (needMetadata).
		if len(v.CoCo.InitData.Profiles) > 0 {
			d.Errorf(v.CoCo.InitData.DefaultPos, "global.coco.initdata", "init-data profiles need cluster metadata (the KBS endpoint and its trust anchor): pass -m FILE or add cluster-metadata.yaml to the values directory")
		}
	default:
		if pem, ok := checkTrustAnchor(src, now, d); ok {
			anchor = pem
			profs = buildProfiles(src, anchor, rel.kata.agent(), d)
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
	ac := appContext{src: src, v: v, meta: meta, rel: rel, profiles: profs, anchor: anchor, meter: src.meter, now: now, valuesDir: src.valuesDir}
	if req.nested != nil {
		ac.kbsReaders = req.nested.readers
	}
	usage := func() Usage {
		return Usage{InputBytes: src.bytesRead, YAMLNodes: src.yamlTally.Used, TemplateSteps: src.templates.Steps(), TemplateBytes: src.templates.Bytes(), RegoSteps: src.meter.Steps()}
	}
	managed, err := renderManaged(ac, req, d)
	if err != nil {
		return nil, err
	}
	if d.HasErrors() {
		return nil, finish(d)
	}
	ac.managed = managed
	// The tree reads the values only, not what the applications cocogen renders give: it is built beside them
	// (renderApps) into lists of its own, which are reported after theirs, where a sequential render reports
	// them. Of the render's budgets it spends only the templates', which renderApps does not (the managed
	// clusters' renders above do: the tree starts after them, so a budget runs out at the same call every run).
	var tree renderedTree
	treeBuilt := func() {}
	if want == nil {
		treeBuilt = parallel.Start(func() { tree = renderTree(req, src, v) })
	}
	defer treeBuilt() // also on the early returns below: nothing outlives Render
	apps := renderApps(ac, d)
	for _, a := range apps {
		checkNames(a.Objects, d)
	}
	if d.HasErrors() {
		return nil, finish(d)
	}
	res := &Result{Group: src.loaded.Group, Cluster: src.cluster, Files: src.loaded.Files, Root: req.RootDir, Profiles: profs, ProfileNames: v.CoCo.ProfileNames(), DefaultProfile: v.CoCo.InitData.Default, Apps: apps,
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
	treeBuilt()
	d.Append(tree.d)
	// The names are checked while the objects are sorted into a new list (both only read the tree's list);
	// the check's problems come after the tree's, as in a sequential run.
	names := &diag.List{}
	checked := parallel.Start(func() { checkNames(tree.objs, names) })
	objs := manifest.Sorted(tree.objs)
	checked()
	d.Append(names)
	if d.HasErrors() {
		return nil, finish(d)
	}
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

// renderedTree is the app-of-apps tree of a render and the problems found building it.
type renderedTree struct {
	objs []manifest.Object
	d    *diag.List
}

// renderTree builds the app-of-apps tree: the plugin env of the applications cocogen renders, the repository
// URL's check and the tree's objects, with their problems in that order.
func renderTree(req Request, src *Sources, v *model.Values) renderedTree {
	d := &diag.List{}
	env := childEnv(req, src.valuesDir, src.loaded.Group, src.cluster, v, d)
	checkRepoURL(v, d)
	objs, gd := appofapps.Render(v, appofapps.Options{ValuesDir: src.valuesDir, PluginEnv: env, Templates: src.templates})
	d.Append(gd)
	return renderedTree{objs: objs, d: d}
}

// childEnv is the plugin env that the applications cocogen renders get after COCOGEN_APP, so that the
// plugin renders each from the same cluster group, values directory, metadata file, sets and facts as this
// tree.
func childEnv(req Request, relDir, group, cluster string, v *model.Values, d *diag.List) []appofapps.EnvVar {
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
		rel := req.MetadataFile
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

// IsUserError reports whether err is a problem with the input (exit code 1) rather than a usage or internal
// error (exit code 2).
func IsUserError(err error) bool {
	var de *diag.Diagnostics
	return errors.As(err, &de)
}
