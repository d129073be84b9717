package pipeline

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/generators/peerpods"
	"github.com/cocogen/cocogen/generators/workloads"
	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/overlay"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/schema"
)

// App is the rendered objects of one application that cocogen renders (an application with a cocogen key).
type App struct {
	Name      string
	Generator string // sandbox, trustee or workloads
	Objects   []manifest.Object
	// Uses are the init-data profiles that the application's pod templates name.
	Uses []workloads.Use
	// Refs are the KBS resources that the application's objects name.
	Refs []workloads.ResourceRef
}

// appContext is what every application generator reads.
type appContext struct {
	root     *repo.Root
	v        *model.Values
	meta     *metadata.Metadata
	profiles map[string]*Profile
	// anchor is the KBS trust anchor certificate (PEM) that init-data embeds; "" in the public mode.
	anchor string
}

// renderApps renders every application of the cluster group that cocogen renders, in values order. All of
// them are rendered even when one is asked for, so that the checks across applications see the whole
// cluster and a render of one application fails exactly when a render of all would.
func renderApps(c appContext, d *diag.List) []App {
	var out []App
	var trustees []*model.Application
	for i := range c.v.ClusterGroup.Applications {
		a := &c.v.ClusterGroup.Applications[i]
		if a.Disabled || a.CoCoGen == "" {
			continue
		}
		// Trustee binds the profiles that the other applications use: it is rendered after them.
		if a.CoCoGen == model.GenTrustee {
			trustees = append(trustees, a)
			continue
		}
		app, ok := renderApp(c, a, nil, d)
		if ok {
			out = append(out, app)
		}
	}
	if len(trustees) > 1 {
		d.Errorf(trustees[1].CoCoGenPos, "clusterGroup.applications."+trustees[1].Key+".cocogen", "a second trustee application: one cluster runs one KBS (the first is %s)", trustees[0].Name)
		return out
	}
	for _, a := range trustees {
		if app, ok := renderApp(c, a, out, d); ok {
			out = append(out, app)
		}
	}
	if !d.HasErrors() {
		checkApps(c, out, d)
	}
	// Back to values order.
	order := map[string]int{}
	for i, a := range c.v.ClusterGroup.Applications {
		order[a.Name] = i
	}
	slices.SortStableFunc(out, func(x, y App) int { return order[x.Name] - order[y.Name] })
	return out
}

func appSource(a *model.Application) string {
	src := "clusterGroup.applications." + a.Key
	if p := a.CoCoGenPos.String(); p != "" {
		src = p + " " + src + ".cocogen"
	}
	return src
}

func renderApp(c appContext, a *model.Application, others []App, d *diag.List) (App, bool) {
	app := App{Name: a.Name, Generator: a.CoCoGen}
	var objs []manifest.Object
	var gd *diag.List
	switch a.CoCoGen {
	case model.GenSandbox:
		objs, gd = renderSandbox(c, a)
	case model.GenWorkloads:
		var res workloads.Result
		res, gd = renderWorkloads(c, a)
		objs, app.Uses, app.Refs = res.Objects, res.Uses, res.Refs
	case model.GenTrustee:
		objs, gd = renderTrustee(c, a, others)
	}
	d.Append(gd)
	if gd.HasErrors() {
		return app, false
	}
	for i := range objs {
		objs[i].App = a.Name
	}
	manifest.Sort(objs)
	app.Objects = objs
	return app, true
}

// needMetadata reports an error when an application generator runs without cluster metadata.
func needMetadata(c appContext, a *model.Application, d *diag.List) bool {
	if c.meta != nil {
		return true
	}
	d.Errorf(a.CoCoGenPos, "clusterGroup.applications."+a.Key, "application %s (cocogen: %s) needs cluster metadata: pass -m FILE or add %s to the values directory", a.Name, a.CoCoGen, metadata.DefaultFile)
	return false
}

// renderSandbox renders peer-pods-cm, the KataConfig and the feature gates from the Azure facts, the VM size
// choices and the default init-data profile.
func renderSandbox(c appContext, a *model.Application) ([]manifest.Object, *diag.List) {
	d := &diag.List{}
	if !needMetadata(c, a, d) {
		return nil, d
	}
	platform := c.v.Global.Tree.Get("clusterPlatform").Scalar()
	if platform != "Azure" {
		d.Errorf(a.CoCoGenPos, "clusterGroup.applications."+a.Key+".cocogen", "cocogen renders peer pods for Azure; the cluster's platform (cluster.platform in the metadata, global.clusterPlatform) is %q", platform)
		return nil, d
	}
	pp, ok := c.meta.PeerPods(d)
	if !ok {
		return nil, d
	}
	az := c.v.CoCo.Azure
	in := peerpods.Input{
		Platform:       platform,
		Region:         pp.Region,
		ResourceGroup:  pp.ResourceGroup,
		SubnetID:       pp.SubnetID,
		NSGID:          pp.NSGID,
		FactsPos:       pp.Pos,
		DefaultSize:    az.DefaultVMFlavour,
		Sizes:          az.VMFlavours,
		SizesPos:       az.FlavoursPos,
		Tags:           az.Tags,
		RootVolumeSize: az.RootVolumeSize,
		Source:         appSource(a),
	}
	if az.FlavoursPos.IsZero() {
		in.SizesPos = az.DefaultPos
	}
	name := c.v.CoCo.InitData.Default
	switch p := c.profiles[name]; {
	case p != nil:
		in.InitData = peerpods.InitData{Profile: name, Algorithm: p.Algorithm, Encoded: p.Encoded, Digest: p.Digests.Digest, AzurePCR8: p.Digests.AzurePCR8}
	case name == "":
		d.Errorf(posOr(c.v.CoCo.InitData.DefaultPos, a.CoCoGenPos), "global.coco.initdata.default", "is not set, and peer pods (application %s) need a default init-data profile: set global.coco.initdata.default and global.coco.initdata.profiles", a.Name)
		return nil, d
	default:
		d.Errorf(posOr(c.v.CoCo.InitData.DefaultPos, a.CoCoGenPos), "global.coco.initdata.default", "peer pods need the default init-data profile, and %q is not among global.coco.initdata.profiles", name)
		return nil, d
	}
	objs, pd := peerpods.Render(in)
	d.Append(pd)
	return objs, d
}

// InitDataAnnotation returns the pod annotation that carries init-data for a Kata version: runtime.cc_init_data
// on Kata 3.16 to 3.19, hypervisor.cc_init_data from 3.20 on (and when the version is unknown), "" before 3.16.
func InitDataAnnotation(v agentpolicy.KataVersion) string {
	switch {
	case v.IsZero():
		return initdata.AnnotationInitData
	case v.Less(agentpolicy.KataVersion{Major: 3, Minor: 16}):
		return ""
	case v.Less(agentpolicy.KataVersion{Major: 3, Minor: 20}):
		return initdata.AnnotationInitDataRuntime
	}
	return initdata.AnnotationInitData
}

// renderWorkloads builds the application's kustomize overlay and injects init-data into the pod templates
// that name a profile.
func renderWorkloads(c appContext, a *model.Application) (workloads.Result, *diag.List) {
	d := &diag.List{}
	path := "clusterGroup.applications." + a.Key + ".path"
	pathPos := a.Pos
	dir, err := repo.Clean(a.Path)
	if err != nil {
		d.Errorf(pathPos, path, "%v", err)
		return workloads.Result{}, d
	}
	if st, err := c.root.Stat(dir); err != nil || !st.IsDir() {
		d.Errorf(pathPos, path, "%s is not a directory of the repository", a.Path)
		return workloads.Result{}, d
	}
	res, err := overlay.Build(c.root, dir)
	if err != nil {
		d.Errorf(pathPos, path, "%v", err)
		return workloads.Result{}, d
	}
	objs := make([]workloads.Object, len(res))
	for i, r := range res {
		objs[i] = workloads.Object{Node: r.Node, File: r.File}
	}
	var kata agentpolicy.KataVersion
	platform := c.v.Global.Tree.Get("clusterPlatform").Scalar()
	if c.meta != nil {
		kata, _ = agentpolicy.ParseKataVersion(c.meta.Kata.Version.Value)
	}
	profiles := map[string]workloads.Profile{}
	for name, p := range c.profiles {
		profiles[name] = workloads.Profile{Encoded: p.Encoded, Algorithm: p.Algorithm, Digest: p.Digests.Digest}
	}
	out, wd := workloads.Inject(objs, profiles, workloads.Options{
		InitDataAnnotation: InitDataAnnotation(kata),
		RuntimeClass:       workloads.RuntimeClassFor(platform),
		Platform:           platform,
		App:                a.Name,
		Dir:                dir,
		Locate:             locator(c.root, dir),
	})
	d.Append(wd)
	if len(out.Uses) > 0 && !needMetadata(c, a, d) {
		return workloads.Result{}, d
	}
	return out, d
}

var profileLine = regexp.MustCompile(`(?m)` + regexp.QuoteMeta(workloads.AnnotationProfile) + `["']?\s*:\s*["']?([^"'\s#]+)`)

// locator finds the line of an overlay file that sets the profile annotation to a value: the object's own
// file first, then any file under the overlay's top-level directory (a patch in a kustomization).
func locator(root *repo.Root, dir string) func(file, value string) node.Pos {
	return func(file, value string) node.Pos {
		find := func(rel string, data []byte) node.Pos {
			for _, m := range profileLine.FindAllSubmatchIndex(data, -1) {
				if string(data[m[2]:m[3]]) != value {
					continue
				}
				line := 1 + strings.Count(string(data[:m[2]]), "\n")
				col := m[2] - strings.LastIndexByte(string(data[:m[2]]), '\n')
				return node.Pos{File: root.Display(rel), Line: line, Col: col}
			}
			return node.Pos{}
		}
		if file != "" {
			if data, err := root.ReadFile(file); err == nil {
				if p := find(file, data); !p.IsZero() {
					return p
				}
			}
		}
		var found node.Pos
		top := strings.SplitN(dir, "/", 2)[0]
		_ = root.WalkFiles(top, func(rel string, data []byte) error {
			if found.IsZero() && (path.Ext(rel) == ".yaml" || path.Ext(rel) == ".yml") {
				found = find(rel, data)
			}
			return nil
		})
		return found
	}
}

// findApp returns the enabled application named name, or an error diagnostic that names the ones there are.
func findApp(v *model.Values, name string) (*model.Application, *diag.Diagnostic) {
	var names []string
	for i := range v.ClusterGroup.Applications {
		a := &v.ClusterGroup.Applications[i]
		if a.Name == name && !a.Disabled {
			if a.CoCoGen == "" {
				return nil, &diag.Diagnostic{Severity: diag.Error, Pos: a.Pos, Path: "clusterGroup.applications." + a.Key,
					Msg: fmt.Sprintf("application %q is not rendered by cocogen (it has no cocogen key): Argo CD renders it from its source", name)}
			}
			return a, nil
		}
		if !a.Disabled && a.CoCoGen != "" {
			names = append(names, a.Name)
		}
	}
	msg := fmt.Sprintf("no application %q rendered by cocogen in cluster group %q", name, v.ClusterGroup.Name)
	if s := schema.Suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else if len(names) > 0 {
		msg += fmt.Sprintf(" (applications with a cocogen key: %s)", strings.Join(names, ", "))
	}
	return nil, &diag.Diagnostic{Severity: diag.Error, Pos: v.ClusterGroup.NamePos, Path: "clusterGroup.applications", Msg: msg}
}
