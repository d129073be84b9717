package pipeline

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cocogen/cocogen/generators/baremetal"
	"github.com/cocogen/cocogen/generators/peerpods"
	"github.com/cocogen/cocogen/generators/workloads"
	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/overlay"
	"github.com/cocogen/cocogen/internal/parallel"
	"github.com/cocogen/cocogen/internal/regolimit"
	"github.com/cocogen/cocogen/internal/release"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
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
	// Dir and Pods are a workloads application's overlay directory and its pod templates as the manifests
	// declare them.
	Dir  string
	Pods []workloads.Pod
	// bound are, for a trustee application, the registered Azure PCR8 of every init-data profile its
	// reference values bind, by profile: what the checks compare (checkApps).
	bound map[string]string
}

// appContext is what every application generator reads: the loaded sources and what the render derived from
// them before the applications.
type appContext struct {
	src  *Sources
	v    *model.Values
	meta *metadata.Metadata
	// rel are the Trustee and Kata releases the objects are written for (resolveReleases).
	rel      releases
	profiles map[string]*Profile
	// anchor is the KBS trust anchor certificate (PEM) that init-data embeds; "" in the public mode.
	anchor string
	// meter spends the render's Rego budgets.
	meter *regolimit.Meter
	// now is the render's time (its one reading of Request.Now); it only decides warnings, never what is
	// rendered.
	now time.Time
	// valuesDir is the values directory, relative to the root.
	valuesDir string
	// managed are the renders of the clusters of the managed cluster groups (managedProfiles), for the
	// trustee application's reference values and the checks across cluster groups.
	managed []managedRender
	// kbsReaders, in the render of a managed cluster, are the KBS resources of its hub and the profiles that
	// may read each.
	kbsReaders map[string][]string
	// policies are the trustee application's policies, validated beside the overlay builds (renderApps sets
	// them before it renders the trustee application).
	policies *trusteePolicies
}

// renderApps renders every application of the cluster group that cocogen renders, in values order. All of
// them are rendered even when one is asked for, so that the checks across applications see the whole
// cluster and a render of one application fails exactly when a render of all would.
//
// The overlays of the workloads applications are built first: an agent policy admits the containers that the
// pod templates using its profile declare, so the profiles are finished from those pod templates
// (finishProfiles) before any init-data is injected or encoded into peer-pods-cm.
func renderApps(c appContext, d *diag.List) []App {
	var out []App
	var trustees []*model.Application
	// Kustomize builds of different overlays are independent, and so is the validation of the trustee
	// application's policies: they run side by side (each reports into a list of its own), and are reported
	// where a sequential render would report them: the overlays here in values order, the policies with the
	// trustee application.
	var build []*model.Application
	withTrustee := false
	for i := range c.v.ClusterGroup.Applications {
		a := &c.v.ClusterGroup.Applications[i]
		if !a.Disabled && a.CoCoGen == model.GenWorkloads {
			build = append(build, a)
		}
		withTrustee = withTrustee || !a.Disabled && a.CoCoGen == model.GenTrustee
	}
	built := make([]*builtOverlay, len(build))
	bds := make([]*diag.List, len(build))
	jobs := len(build)
	if withTrustee {
		jobs++
	}
	var policies *trusteePolicies
	parallel.Each(jobs, func(i int) {
		if i == len(build) {
			policies = validatePolicies(c)
			return
		}
		bds[i] = &diag.List{}
		built[i] = buildOverlay(c, build[i], bds[i])
	})
	c.policies = policies
	overlays := map[string]*builtOverlay{}
	for i, a := range build {
		d.Append(bds[i])
		if built[i] != nil {
			overlays[a.Name] = built[i]
		}
	}
	if !finishProfiles(c, overlays, d) {
		return nil
	}
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
		if a.CoCoGen == model.GenWorkloads && overlays[a.Name] == nil {
			continue // its overlay did not build; the error is reported
		}
		app, ok := renderApp(c, a, overlays[a.Name], nil, d)
		if ok {
			out = append(out, app)
		}
	}
	if len(trustees) > 1 {
		d.Errorf(trustees[1].CoCoGenPos, "clusterGroup.applications."+trustees[1].Key+".cocogen", "a second trustee application: one cluster runs one KBS (the first is %s)", trustees[0].Name)
		return out
	}
	for _, a := range trustees {
		if app, ok := renderApp(c, a, nil, out, d); ok {
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

func renderApp(c appContext, a *model.Application, overlay *builtOverlay, others []App, d *diag.List) (App, bool) {
	app := App{Name: a.Name, Generator: a.CoCoGen}
	var objs []manifest.Object
	var gd *diag.List
	switch a.CoCoGen {
	case model.GenSandbox:
		objs, gd = renderSandbox(c, a)
	case model.GenWorkloads:
		var res workloads.Result
		res, gd = renderWorkloads(c, a, overlay)
		objs, app.Uses, app.Refs = res.Objects, res.Uses, res.Refs
		app.Dir, app.Pods = overlay.dir, overlay.pods
	case model.GenTrustee:
		objs, app.bound, gd = renderTrustee(c, a, others)
	case model.GenACM:
		objs, gd = renderACM(c, a)
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
	if isBareMetal(platform) {
		return renderHosts(c, a)
	}
	if platform != "Azure" {
		d.Errorf(a.CoCoGenPos, "clusterGroup.applications."+a.Key+".cocogen", "cocogen renders peer pods for Azure and Kata on the hosts' own TEEs for BareMetal and None; the cluster's platform (cluster.platform in the metadata, global.clusterPlatform) is %q", platform)
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
		CAADaemonSet:   c.caaDaemonSet(),
		JobImage:       c.v.CoCo.Rollout.Image,
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

// isBareMetal reports whether confidential pods run on the cluster's own hosts (Kata in the host's TEE,
// runtime class kata-cc) rather than as peer pods.
func isBareMetal(platform string) bool {
	return workloads.RuntimeClassFor(platform) == workloads.LocalRuntimeClass
}

// rendersPeerPods reports whether the cluster group writes peer-pods-cm: a sandbox application on a peer-pods
// platform.
func rendersPeerPods(c appContext) bool {
	if isBareMetal(c.v.Global.Tree.Get("clusterPlatform").Scalar()) {
		return false
	}
	for _, a := range c.v.ClusterGroup.Applications {
		if a.CoCoGen == model.GenSandbox && !a.Disabled {
			return true
		}
	}
	return false
}

// renderHosts renders the sandbox application of a bare-metal cluster: NFD and its TEE rules, the TDX
// MachineConfigs, the SGX device plugin, storage, the feature gates and a KataConfig without peer pods. The
// TEE hosts are facts of the metadata.
func renderHosts(c appContext, a *model.Application) ([]manifest.Object, *diag.List) {
	d := &diag.List{}
	bm := c.v.CoCo.BareMetal
	md := c.meta.BareMetal
	pos := md.Pos
	if pos.IsZero() {
		pos = srcpos.Pos{File: c.meta.Source}
	}
	objs, bd := baremetal.Render(baremetal.Input{
		TDXNodes:           md.Nodes("tdx"),
		SNPNodes:           md.Nodes("snp"),
		GPUNodes:           md.Nodes("gpu"),
		FactsPos:           pos,
		OpenShiftVersion:   c.meta.Cluster.Version.Value,
		Storage:            bm.Storage,
		MachineConfigRoles: bm.MachineConfigRoles,
		Source:             appSource(a),
	})
	d.Append(bd)
	return objs, d
}

// InitDataAnnotation returns the pod annotation that carries init-data for a Kata release and where its pod VMs
// run (release.InitDataRules, read in kata-containers at each tag): runtime.cc_init_data on Kata 3.16 to 3.19,
// hypervisor.cc_init_data from 3.21 on (and when the release is unknown); on 3.20, hypervisor.cc_init_data on
// bare metal, and on peer pods runtime.cc_init_data, which that shim ignores (ignored: the pod VM boots with
// peer-pods-cm's INITDATA); "" before 3.16, which reads no gzip-compressed init-data.
func InitDataAnnotation(v agentpolicy.KataVersion, h release.Hypervisor) (name string, ignored bool) {
	if v.IsZero() {
		return release.AnnotationHypervisor, false
	}
	return release.InitDataAnnotation(release.V(v.Major, v.Minor, v.Patch), h)
}

// builtOverlay is a workloads application's kustomize overlay, built once per render: its objects, the
// overlay directory, and its pod templates as the manifests declare them (before init-data is injected).
type builtOverlay struct {
	dir  string
	objs []workloads.Object
	pods []workloads.Pod
}

// buildOverlay builds the kustomize overlay that load read for the application (overlay.Sources.Build, in
// memory). It returns nil, with the reason in d, when the overlay cannot be built.
func buildOverlay(c appContext, a *model.Application, d *diag.List) *builtOverlay {
	path := "clusterGroup.applications." + a.Key + ".path"
	pathPos := a.Pos
	lo := c.src.overlays[a.Name]
	if lo == nil {
		d.Errorf(pathPos, path, "the overlay of application %s was not loaded", a.Name)
		return nil
	}
	d.Append(lo.diags)
	if lo.diags.HasErrors() {
		return nil
	}
	od := lo.load
	var res *overlay.Result
	if lo.src != nil {
		res, od = lo.src.Build()
	}
	if od.HasErrors() {
		// A problem without a line (kustomize's own errors) is the application path's.
		for _, it := range od.Sorted() {
			if it.Pos.IsZero() {
				it.Pos, it.Path = pathPos, path
			}
			d.Add(it)
		}
		return nil
	}
	objs := make([]workloads.Object, len(res.Resources))
	for i, r := range res.Resources {
		objs[i] = workloads.Object{Node: r.Node, File: r.File}
	}
	return &builtOverlay{dir: lo.dir, objs: objs, pods: workloads.Pods(objs, podDefaults(c))}
}

// renderWorkloads injects init-data into the pod templates of the application's built overlay that name a
// profile, and marks every confidential pod template with the digest of the init-data it runs.
func renderWorkloads(c appContext, a *model.Application, o *builtOverlay) (workloads.Result, *diag.List) {
	d := &diag.List{}
	platform := c.v.Global.Tree.Get("clusterPlatform").Scalar()
	annotation, _ := c.rel.kata.initData(hypervisorFor(platform))
	profiles := map[string]workloads.Profile{}
	for name, p := range c.profiles {
		profiles[name] = workloads.Profile{Encoded: p.Encoded, Algorithm: p.Algorithm, Digest: p.Digests.Digest}
	}
	out, wd := workloads.Inject(o.objs, profiles, workloads.Options{
		InitDataAnnotation: annotation,
		RuntimeClass:       workloads.RuntimeClassFor(platform),
		Platform:           platform,
		App:                a.Name,
		Dir:                o.dir,
		Defaults:           podDefaults(c),
		DefaultMemory:      defaultMemory(c, platform),
	})
	d.Append(wd)
	if len(out.Uses) > 0 && !needMetadata(c, a, d) {
		return workloads.Result{}, d
	}
	checkInitDataIgnored(c, a, out.Uses, o, d)
	return out, d
}

// defaultMemory is the pod VM memory (MiB) that confidential pods on bare metal get when they ask for none:
// the guest holds the whole pod, image layers included, in its memory ("" on peer-pods platforms, where the
// VM size decides it).
func defaultMemory(c appContext, platform string) string {
	if !isBareMetal(platform) || c.v.CoCo.BareMetal.DefaultMemory == 0 {
		return ""
	}
	return strconv.FormatInt(c.v.CoCo.BareMetal.DefaultMemory, 10)
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
