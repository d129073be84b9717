// Package appofapps renders a cluster group's app-of-apps tree as the Validated Patterns clustergroup chart
// (0.9.x) does: Namespaces, OperatorGroups, Subscriptions, AppProjects and one Argo CD Application per
// clusterGroup.applications entry, with the chart's value-file layering and helm parameters.
//
// Render is a pure function of the typed values: it reads no files.
package appofapps

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/parallel"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
	"github.com/cocogen/cocogen/internal/tpl"
)

// Options configure the render.
type Options struct {
	// ValuesDir is the values directory relative to the repository root ("." for a Validated Patterns
	// repository). Child applications name their value files with it: /values-global.yaml for ".",
	// /values/values-global.yaml for "values".
	ValuesDir string
	// PluginEnv are the plugin env entries that every application rendered by cocogen gets after COCOGEN_APP,
	// so that the plugin renders it from the same cluster group, values and facts as this tree.
	PluginEnv []EnvVar
	// Templates is the render's template budget, which every template in the values spends (nil: the
	// default budget).
	Templates *tpl.Budget
}

// EnvVar is one spec.source.plugin.env entry.
type EnvVar struct{ Name, Value string }

// PluginName is the name Applications give the cocogen config management plugin.
const PluginName = "cocogen"

// EnvApp is the plugin env entry that names the application to render.
const EnvApp = "COCOGEN_APP"

// Render returns the objects of the tree and diagnostics about templates in values.
func Render(v *model.Values, o Options) ([]manifest.Object, *diag.List) {
	if o.Templates == nil {
		o.Templates = tpl.NewBudget(budget.Defaults())
	}
	r := &renderer{v: v, o: o, d: &diag.List{}, eng: tpl.New(v.Tree, o.Templates), argoNS: v.ArgoNamespace(), plainCache: map[string]*node.Node{}}
	// Room for the objects of a large cluster group at once: a Namespace and an OperatorGroup per namespace, a
	// Subscription, AppProject and Application each, and a few more for the imperative and plumbing objects.
	cg := &v.ClusterGroup
	r.objs = make([]manifest.Object, 0, 2*len(cg.Namespaces)+len(cg.Subscriptions)+len(cg.Projects)+len(cg.Applications)+len(cg.ExtraObjects)+32)
	r.kinds = map[string]*[2]*node.Node{}
	r.managedBy = node.Share(node.NewMap().Set("argocd.argoproj.io/managed-by", str(r.argoNS)))
	r.null = node.NewNull()
	r.prefix = "/"
	if dir := strings.Trim(o.ValuesDir, "/"); dir != "" && dir != "." {
		r.prefix = "/" + dir + "/"
	}
	// The imperative values ConfigMap is all of the values as YAML, evaluated as a template: the largest single
	// piece of work of a render. It reads the values only, so it runs beside the other objects, with its own
	// template engine, and is picked up where the chart renders it.
	var values valuesText
	wait := parallel.Start(func() {
		eng := tpl.New(v.Tree, o.Templates)
		text, err := eng.Render(eng.ValuesYAML())
		values = valuesText{text: text, err: err}
		if err != nil {
			// Find the value that fails on its own (with a fresh budget of the same size, and an engine of
			// its own, so that what a value changes in .Values stays there), so that the problem names the
			// value's file and line rather than the ConfigMap's.
			if n, path, verr := firstBadTemplate(tpl.New(v.Tree, tpl.NewBudget(o.Templates.Limits())), v.Tree, ""); verr != nil {
				values = valuesText{err: verr, pos: n.Pos, path: path}
			}
		}
	})
	r.valuesText = func() valuesText { wait(); return values }
	defer wait() // also when the imperative objects are skipped: nothing outlives Render
	r.namespaces()
	r.operatorGroups()
	r.subscriptions()
	r.projects()
	// The imperative objects come next in the chart, but they wait for the values text: they are built last,
	// while the values text runs beside the rest, and then put back in their place, with their diagnostics.
	// Nothing else reads what the imperative objects compute, and the order of the texts the renderer's own
	// engine evaluates (plugin configurations, then applications) stays the chart's.
	head, rest, imp := r.d, &diag.List{}, &diag.List{}
	at := len(r.objs)
	r.d = rest
	r.plumbing()
	r.core()
	if v.Global.DeletePattern != "DeleteChildApps" {
		r.applications()
	}
	impAt := len(r.objs)
	r.d = imp
	r.imperative()
	moveToFront(r.objs[at:], len(r.objs)-impAt)
	head.Append(imp)
	head.Append(rest)
	r.d = head
	return r.objs, r.d
}

// moveToFront moves the last n objects of objs to its front, keeping the order of both parts.
func moveToFront(objs []manifest.Object, n int) {
	if n == 0 || n == len(objs) {
		return
	}
	tail := slices.Clone(objs[len(objs)-n:])
	copy(objs[n:], objs[:len(objs)-n])
	copy(objs, tail)
}

// valuesText is the evaluated YAML of the values, for the imperative values ConfigMap.
type valuesText struct {
	text string
	err  error
	// pos and path name the value whose template failed, when it is known.
	pos  srcpos.Pos
	path string
}

// firstBadTemplate evaluates every string of the values tree that holds a template, in document order, and
// returns the first that fails with its path.
func firstBadTemplate(eng *tpl.Engine, n *node.Node, path string) (*node.Node, string, error) {
	switch n.Kind {
	case node.String:
		if tpl.HasTemplate(n.Text) {
			if _, err := eng.Render(n.Text); err != nil {
				return n, path, err
			}
		}
	case node.Map:
		for _, e := range n.Entries() {
			if bad, p, err := firstBadTemplate(eng, e.Value, schema.Join(path, e.Key)); err != nil {
				return bad, p, err
			}
		}
	case node.List:
		for i, it := range n.Items() {
			if bad, p, err := firstBadTemplate(eng, it, schema.Index(path, i)); err != nil {
				return bad, p, err
			}
		}
	}
	return nil, "", nil
}

type renderer struct {
	// valuesText waits for the values ConfigMap's text, computed concurrently, and returns it.
	valuesText func() valuesText
	v          *model.Values
	o          Options
	d          *diag.List
	eng        *tpl.Engine
	argoNS     string
	prefix     string
	objs       []manifest.Object

	// Computed once, shared by every Application (nodes are immutable once built).
	globalParams []*node.Node
	valueFiles   []*node.Node // single-source list before app.extraValueFiles
	valueFilesMS []*node.Node // multi-source list before app.extraValueFiles
	// valueFilesList, valueFilesListMS and globalParamList are the lists above (and globalParams) as shared
	// nodes, for applications that add nothing to them; yes is a shared true.
	valueFilesList, valueFilesListMS, globalParamList, yes *node.Node
	valuesSingle                                           *node.Node
	valuesMulti                                            *node.Node
	pattern                                                *node.Node // global.pattern as the chart prints it unquoted
	repoURL                                                *node.Node // global.repoURL, likewise
	revision                                               *node.Node // global.targetRevision, likewise
	plainCache                                             map[string]*node.Node
	automatic                                              *node.Node // the sync policy "Automatic" expands to
	// appLabels and appFinalizers are every Application's metadata.labels and metadata.finalizers, one shared
	// node each; managedBy the labels of a namespace without labels of its own; null a null.
	appLabels, appFinalizers, managedBy, null *node.Node
	// kinds are the apiVersion and kind nodes of object, by kind.
	kinds map[string]*[2]*node.Node
}

// plain is tpl.PlainText, memoized: the same repository URLs, revisions and paths recur in every Application.
func (r *renderer) plain(s string) *node.Node {
	if n, ok := r.plainCache[s]; ok {
		return n
	}
	n := tpl.PlainText(s)
	r.plainCache[s] = n
	return n
}

func (r *renderer) emit(obj *node.Node, pos srcpos.Pos, path string) {
	src := path
	// Positions inside cocogen's own embedded files (<clustergroup chart defaults>) mean nothing to users.
	if p := pos.String(); p != "" && !strings.HasPrefix(p, "<") {
		src = p + " " + path
	}
	r.objs = append(r.objs, manifest.Object{Node: obj, Source: src})
}

func str(s string) *node.Node { return node.NewString(s) }

func object(apiVersion, kind string) *node.Node {
	return node.NewMapCap(5).Set("apiVersion", str(apiVersion)).Set("kind", str(kind))
}

// object is the package's object for the kinds a cluster group has thousands of: their apiVersion and kind
// are one node each, which every such object reuses (nothing changes them once built).
func (r *renderer) object(apiVersion, kind string) *node.Node {
	k := r.kinds[kind]
	if k == nil {
		k = &[2]*node.Node{str(apiVersion), str(kind)}
		r.kinds[kind] = k
	}
	return node.NewMapCap(5).Set("apiVersion", k[0]).Set("kind", k[1])
}

// stringMap renders labels or annotations as the chart does: keys sorted, values `default "" | quote`.
func stringMap(m *node.Node) *node.Node {
	out := node.NewMap()
	for _, e := range sortedEntries(m) {
		if e.Value.Truthy() {
			out.Set(e.Key, str(tpl.HelmString(e.Value)))
		} else {
			out.Set(e.Key, str(""))
		}
	}
	return out
}

func sortedEntries(m *node.Node) []node.Entry {
	entries := slices.Clone(m.Entries())
	slices.SortFunc(entries, func(a, b node.Entry) int { return cmp.Compare(a.Key, b.Key) })
	return entries
}

func (r *renderer) namespaces() {
	for _, ns := range r.v.ClusterGroup.Namespaces {
		if ns.Disabled {
			continue
		}
		// A namespace without labels of its own has the managed-by label only: one node, shared.
		labels := r.managedBy
		if ns.Labels.Len() > 0 {
			labels = node.NewMap().Set("argocd.argoproj.io/managed-by", str(r.argoNS))
			for _, e := range stringMap(ns.Labels).Entries() {
				labels.Set(e.Key, e.Value)
			}
		}
		meta := node.NewMapCap(3).Set("name", str(ns.Name)).Set("labels", labels)
		if ns.Annotations.Truthy() && ns.Form != model.ListString {
			meta.Set("annotations", stringMap(ns.Annotations))
		}
		obj := r.object("v1", "Namespace").Set("metadata", meta).Set("spec", r.null)
		r.emit(obj, ns.Pos, schema.Join("clusterGroup.namespaces", ns.Name))
	}
}

func (r *renderer) operatorGroups() {
	excluded := map[string]bool{}
	for _, e := range r.v.ClusterGroup.OperatorgroupExcludes {
		excluded[e] = true
	}
	for _, ns := range r.v.ClusterGroup.Namespaces {
		if ns.Disabled || excluded[ns.Name] {
			continue
		}
		if ns.OperatorGroup != nil && !*ns.OperatorGroup {
			continue
		}
		meta := node.NewMap().Set("name", str(ns.Name+"-operator-group")).Set("namespace", str(ns.Name))
		if ns.Form == model.ListMap {
			// Only list-form entries copy their labels and annotations onto the OperatorGroup.
			if ns.Labels != nil {
				meta.Set("labels", stringMap(ns.Labels))
			}
			if ns.Annotations.Truthy() {
				meta.Set("annotations", stringMap(ns.Annotations))
			}
		}
		obj := r.object("operators.coreos.com/v1", "OperatorGroup").Set("metadata", meta)
		targets := []string{ns.Name}
		if ns.HasTargetNamespaces {
			targets = ns.TargetNamespaces
		}
		if len(targets) > 0 {
			list := node.NewList()
			for _, t := range targets {
				list.Append(tpl.PlainText(t))
			}
			obj.Set("spec", node.NewMap().Set("targetNamespaces", list))
		}
		r.emit(obj, ns.Pos, schema.Join("clusterGroup.namespaces", ns.Name))
	}
}

func (r *renderer) subscriptions() {
	opts := r.v.Global.Options
	for i := range r.v.ClusterGroup.Subscriptions {
		s := &r.v.ClusterGroup.Subscriptions[i]
		if s.Disabled {
			continue
		}
		src := schema.Join("clusterGroup.subscriptions", s.Key)
		if s.SequenceJob != nil {
			r.emit(r.sequenceJob(s), s.SequenceJob.Pos, src+".sequenceJob")
		}
		if len(s.Namespaces) == 0 && s.OLMv1() {
			r.emit(r.clusterExtension(s), s.Pos, src)
			continue
		}
		namespaces := s.Namespaces
		if len(namespaces) == 0 {
			namespaces = []string{cmp.Or(s.Namespace, "openshift-operators")}
		}
		for _, ns := range namespaces {
			meta := node.NewMap().Set("name", str(s.Name)).Set("namespace", str(ns))
			if s.Annotations.Truthy() {
				meta.Set("annotations", stringMap(s.Annotations))
			}
			spec := node.NewMap().
				Set("name", str(s.Name)).
				Set("source", str(cmp.Or(s.Source, "redhat-operators"))).
				Set("sourceNamespace", str(cmp.Or(s.SourceNamespace, "openshift-marketplace")))
			if s.Channel != "" {
				spec.Set("channel", tpl.PlainText(s.Channel))
			}
			if ipa := cmp.Or(s.InstallPlanApproval, opts.InstallPlanApproval); ipa != "" {
				spec.Set("installPlanApproval", str(ipa))
			} else {
				spec.Set("installPlanApproval", node.NewNull())
			}
			if s.Config.Truthy() {
				spec.Set("config", node.Sorted(s.Config))
			}
			switch {
			case s.CSV != "":
				spec.Set("startingCSV", str(s.CSV))
			case opts.UseCSV:
				// The chart writes startingCSV whenever global.options.useCSV is true, empty or not.
				spec.Set("startingCSV", node.NewNull())
			}
			obj := object("operators.coreos.com/v1alpha1", "Subscription").Set("metadata", meta).Set("spec", spec)
			r.emit(obj, s.Pos, src)
		}
	}
}

func (r *renderer) projects() {
	cg := r.v.ClusterGroup
	ns := r.argoNS
	if cg.ProjectsAsMap && r.v.Enabled == "plumbing" {
		ns = r.v.Global.VPArgoNamespace
	}
	var projectsNode *node.Node
	if cg.ProjectsAsMap {
		projectsNode = r.v.Tree.Path("clusterGroup", "projects")
		if !projectsNode.Truthy() {
			projectsNode = r.v.Tree.Path("clusterGroup", "argoProjects")
		}
	}
	for _, p := range cg.Projects {
		desc := "Pattern " + p.Name
		if cg.ProjectsAsMap {
			// The chart's map form prints the entry's value, not its name, into the description.
			desc = "Pattern " + tpl.HelmString(projectsNode.Get(p.Name))
		}
		star := func(k1, k2 string) *node.Node {
			return node.NewList(node.NewMap().Set(k1, str("*")).Set(k2, str("*")))
		}
		spec := node.NewMap().
			Set("description", str(desc)).
			Set("destinations", star("namespace", "server")).
			Set("clusterResourceWhitelist", star("group", "kind")).
			Set("namespaceResourceWhitelist", star("group", "kind")).
			Set("sourceRepos", node.NewList(str("*")))
		obj := object("argoproj.io/v1alpha1", "AppProject").
			Set("metadata", node.NewMap().Set("name", str(p.Name)).Set("namespace", str(ns))).
			Set("spec", spec).
			Set("status", node.NewMap())
		r.emit(obj, p.Pos, "clusterGroup.argoProjects."+p.Name)
	}
}

// global returns global.<key>.
func (r *renderer) global(key string) *node.Node { return r.v.Global.Tree.Get(key) }

// param is one helm parameter. Where the clustergroup chart writes `value: null` (a global the values leave
// unset), cocogen writes the empty string: Argo CD decodes the field into a Go string (HelmParameter.Value,
// argo-cd v2.14.21 pkg/apis/application/v1alpha1/types.go), so both reach Helm as the same empty --set, but
// the API server's schema for the field is a string and refuses null under server-side apply, which Argo CD's
// ServerSideApply=true sync option uses.
func param(name string, value *node.Node) *node.Node {
	if value == nil || value.IsNull() {
		value = str("")
	}
	return node.NewMapCap(2).Set("name", str(name)).Set("value", value)
}

// shared marks nodes that every Application reuses, so the encoder writes them once.
func shared(ns []*node.Node) []*node.Node {
	for _, n := range ns {
		node.Share(n)
	}
	return ns
}

// prepare computes what every Application shares: the global helm parameters, the value-file lists and the
// values block.
func (r *renderer) prepare() {
	g := r.global
	defaultEmpty := func(n *node.Node) *node.Node {
		if !n.Truthy() {
			return node.NewNull()
		}
		return tpl.Unquoted(n)
	}
	r.automatic = r.automaticSyncPolicy()
	r.pattern = tpl.Unquoted(g("pattern"))
	r.appLabels = node.Share(node.NewMap().Set("validatedpatterns.io/pattern", r.pattern))
	r.appFinalizers = node.Share(node.NewList(str("resources-finalizer.argocd.argoproj.io/foreground")))
	r.repoURL = tpl.Unquoted(g("repoURL"))
	r.revision = tpl.Unquoted(g("targetRevision"))
	r.globalParams = []*node.Node{
		param("global.repoURL", r.repoURL),
		param("global.originURL", tpl.Unquoted(g("originURL"))),
		param("global.targetRevision", r.revision),
		param("global.namespace", str("$ARGOCD_APP_NAMESPACE")),
		param("global.pattern", r.pattern),
		param("global.clusterDomain", tpl.Unquoted(g("clusterDomain"))),
		param("global.localClusterName", tpl.Unquoted(g("localClusterName"))),
		param("global.clusterVersion", tpl.InQuotes(g("clusterVersion"))),
		param("global.clusterPlatform", tpl.InQuotes(g("clusterPlatform"))),
		param("global.hubClusterDomain", tpl.Unquoted(g("hubClusterDomain"))),
		param("global.multiSourceSupport", tpl.Quote(g("multiSourceSupport"))),
		param("global.multiSourceRepoUrl", tpl.Unquoted(g("multiSourceRepoUrl"))),
		param("global.multiSourceTargetRevision", tpl.Unquoted(g("multiSourceTargetRevision"))),
		param("global.localClusterDomain", tpl.Unquoted(tpl.Coalesce(g("localClusterDomain"), g("hubClusterDomain")))),
		param("global.privateRepo", tpl.Quote(g("privateRepo"))),
		param("global.experimentalCapabilities", defaultEmpty(g("experimentalCapabilities"))),
		param("global.deletePattern", tpl.Unquoted(g("deletePattern"))),
		param("global.gitOpsSubNamespace", defaultEmpty(g("gitOpsSubNamespace"))),
		param("global.vpArgoNamespace", tpl.Unquoted(g("vpArgoNamespace"))),
	}

	group := tpl.HelmString(r.v.Tree.Path("clusterGroup", "name"))
	platform := g("clusterPlatform")
	version := g("clusterVersion")
	cluster := g("localClusterName")
	var names []string
	names = append(names, "values-global.yaml", "values-"+group+".yaml")
	if platform.Truthy() {
		names = append(names, "values-"+tpl.HelmString(platform)+".yaml")
		if version.Truthy() {
			names = append(names, "values-"+tpl.HelmString(platform)+"-"+tpl.HelmString(version)+".yaml")
		}
		names = append(names, "values-"+tpl.HelmString(platform)+"-"+group+".yaml")
	}
	if version.Truthy() {
		names = append(names, "values-"+tpl.HelmString(version)+"-"+group+".yaml")
	}
	if cluster.Truthy() {
		names = append(names, "values-"+tpl.HelmString(cluster)+".yaml")
	}
	for i, n := range names {
		// In the variants layout every file but values-global.yaml lives in variants/<group>/.
		if i > 0 && g("vpNewFolderDir").Truthy() {
			n = "variants/" + group + "/" + n
		}
		r.valueFiles = append(r.valueFiles, str(r.prefix+n))
		r.valueFilesMS = append(r.valueFilesMS, str("$patternref"+r.prefix+n))
	}
	for _, f := range r.v.Global.ExtraValueFiles {
		s := tpl.HelmString(f)
		r.valueFiles = append(r.valueFiles, str(s))
		r.valueFilesMS = append(r.valueFilesMS, str("$patternref/"+s))
	}
	for i, f := range r.v.ClusterGroup.SharedValueFiles {
		s, err := r.eng.Render(tpl.HelmString(f))
		if err != nil {
			r.d.Errorf(f.Pos, schema.Index("clusterGroup.sharedValueFiles", i), "template: %v", err)
			continue
		}
		r.valueFiles = append(r.valueFiles, str(s))
		r.valueFilesMS = append(r.valueFilesMS, str(patternRef(s)))
	}

	// The inline values block, as the chart indents it in each of its two branches.
	var single, multi strings.Builder
	single.WriteString("extraParametersNested:")
	multi.WriteString("extraParametersNested:")
	for _, e := range r.v.ExtraParametersNested {
		q := fmt.Sprintf("%q", tpl.PrintfS(e.Value))
		single.WriteString("\n    " + e.Name + ": " + q)
		multi.WriteString("\n  " + e.Name + ": " + q)
	}
	single.WriteString("\n")
	multi.WriteString("\n")
	r.valuesSingle = str(single.String())
	r.valuesMulti = str(multi.String())
	shared(r.globalParams)
	// What an application without extra value files, extra fields or overrides gets: one node each, shared.
	r.valueFilesList = node.Share(node.NewList(slices.Clone(r.valueFiles)...))
	r.valueFilesListMS = node.Share(node.NewList(slices.Clone(r.valueFilesMS)...))
	r.globalParamList = node.Share(node.NewList(slices.Clone(r.globalParams)...))
	r.yes = node.Share(node.NewBool(true))
}

// patternRef is the chart's rule for a shared or extra value file of a multi-source application.
func patternRef(s string) string {
	if strings.HasPrefix(s, "$patternref/") {
		return s
	}
	return "$patternref" + s
}

func (r *renderer) applications() {
	if len(r.v.ClusterGroup.Applications) == 0 {
		return
	}
	r.prepare()
	for i := range r.v.ClusterGroup.Applications {
		a := &r.v.ClusterGroup.Applications[i]
		obj := r.application(a)
		if obj != nil {
			r.emit(obj, a.Pos, schema.Join("clusterGroup.applications", a.Key))
		}
	}
}

func (r *renderer) application(a *model.Application) *node.Node {
	path := schema.Join("clusterGroup.applications", a.Key)
	meta := node.NewMapCap(5).
		Set("name", str(a.Name)).
		Set("namespace", str(r.argoNS)).
		Set("labels", r.appLabels)
	if a.Annotations.Truthy() {
		meta.Set("annotations", stringMap(a.Annotations))
	}
	meta.Set("finalizers", r.appFinalizers)

	spec := node.NewMapCap(6)
	spec.Set("destination", node.NewMapCap(2).
		Set("name", r.plain(r.v.ClusterGroup.TargetCluster)).
		Set("namespace", str(cmp.Or(a.Namespace, r.argoNS))))
	spec.Set("project", str(cmp.Or(a.Project, "default")))

	switch {
	case a.CoCoGen != "":
		r.cocogenSource(spec, a)
	case a.MultiSource():
		ref := node.NewMap().
			Set("repoURL", r.repoURL).
			Set("targetRevision", r.revision).
			Set("ref", str("patternref"))
		src := node.NewMap().Set("repoURL", r.plain(cmp.Or(a.RepoURL, r.v.Global.MultiSourceRepoURL)))
		r.chartOrPath(src, a)
		src.Set("targetRevision", str(a.ChartVersion))
		if a.Plugin.Truthy() {
			src.Set("plugin", node.Sorted(a.Plugin))
		} else {
			src.Set("helm", r.helm(a, path, true))
		}
		spec.Set("sources", node.NewList(ref, src))
	default:
		src := node.NewMap().
			Set("repoURL", r.plain(cmp.Or(a.RepoURL, r.v.Global.RepoURL))).
			Set("targetRevision", r.plain(cmp.Or(a.TargetRevision, r.v.Global.TargetRevision)))
		r.chartOrPath(src, a)
		switch {
		case a.Plugin.Truthy():
			src.Set("plugin", node.Sorted(a.Plugin))
		case !a.Kustomize:
			src.Set("helm", r.helm(a, path, false))
		}
		spec.Set("source", src)
	}
	ignore := node.NewList()
	if a.IgnoreDifferences.Truthy() {
		ignore = node.Sorted(a.IgnoreDifferences)
	}
	sp := r.syncPolicy(a)
	// Bare metal has no peer-pods-cm (Kata runs in the hosts' own TEEs): nothing to ignore.
	if platform := r.v.Global.Tree.Get("clusterPlatform").Scalar(); a.CoCoGen == model.GenSandbox && platform != "BareMetal" && platform != "None" {
		ignore, sp = ignoreImageID(ignore, sp)
	}
	if ignore.Len() > 0 {
		spec.Set("ignoreDifferences", ignore)
	}
	spec.Set("syncPolicy", sp)
	return r.object("argoproj.io/v1alpha1", "Application").Set("metadata", meta).Set("spec", spec)
}

// cocogenSource makes the source of an application that cocogen renders: the pattern repository at the
// pattern's revision, through the cocogen plugin, which renders the application named in COCOGEN_APP.
func (r *renderer) cocogenSource(spec *node.Node, a *model.Application) {
	env := node.NewList(node.NewMap().Set("name", str(EnvApp)).Set("value", str(a.Name)))
	for _, e := range r.o.PluginEnv {
		env.Append(node.NewMap().Set("name", str(e.Name)).Set("value", str(e.Value)))
	}
	src := node.NewMap().
		Set("repoURL", r.repoURL).
		Set("targetRevision", r.revision).
		Set("path", str(cmp.Or(a.Path, "."))).
		Set("plugin", node.NewMap().Set("env", env).Set("name", str(PluginName)))
	spec.Set("source", src)
}

// The sandboxed containers operator writes AZURE_IMAGE_ID into peer-pods-cm after it builds the pod VM image.
// The sandbox application must not undo that: Argo CD ignores the key in diffs and, with
// RespectIgnoreDifferences, also when it syncs.
const (
	imageIDPointer          = "/data/AZURE_IMAGE_ID"
	respectIgnoreDifference = "RespectIgnoreDifferences=true"
)

// ignoreImageID adds the AZURE_IMAGE_ID rule to an application's ignoreDifferences and the sync option that
// makes syncs honour it. A manual sync policy (null) becomes one with only the sync option.
func ignoreImageID(ignore, sp *node.Node) (*node.Node, *node.Node) {
	rule := node.NewMap().
		Set("jsonPointers", node.NewList(str(imageIDPointer))).
		Set("kind", str("ConfigMap")).
		Set("name", str("peer-pods-cm")).
		Set("namespace", str("openshift-sandboxed-containers-operator"))
	out := node.NewList(ignore.Items()...)
	out.Append(rule)
	var spOut *node.Node
	if sp.IsNull() || sp.Kind != node.Map {
		spOut = node.NewMap()
	} else {
		spOut = node.NewMap()
		for _, e := range sp.Entries() {
			spOut.Set(e.Key, e.Value)
		}
	}
	opts := node.NewList()
	has := false
	if o := spOut.Get("syncOptions"); o != nil && o.Kind == node.List {
		for _, it := range o.Items() {
			has = has || it.Scalar() == respectIgnoreDifference
			opts.Append(it)
		}
	}
	if !has {
		opts.Append(str(respectIgnoreDifference))
	}
	spOut.Set("syncOptions", opts)
	return out, node.Sorted(spOut)
}

func (r *renderer) chartOrPath(src *node.Node, a *model.Application) {
	if a.Chart != "" {
		src.Set("chart", r.plain(a.Chart))
	} else {
		src.Set("path", r.plain(a.Path))
	}
}

func (r *renderer) helm(a *model.Application, path string, multi bool) *node.Node {
	h := node.NewMapCap(5).Set("ignoreMissingValueFiles", r.yes)
	base, files := r.valueFiles, r.valueFilesList
	if multi {
		h.Set("values", r.valuesMulti)
		base, files = r.valueFilesMS, r.valueFilesListMS
	} else {
		h.Set("values", r.valuesSingle)
	}
	if len(a.ExtraValueFiles) > 0 {
		files = node.NewList(append(make([]*node.Node, 0, len(base)+len(a.ExtraValueFiles)), base...)...)
	}
	for i, f := range a.ExtraValueFiles {
		s, err := r.eng.Render(tpl.HelmString(f))
		if err != nil {
			r.d.Errorf(f.Pos, schema.Index(schema.Join(path, "extraValueFiles"), i), "template: %v", err)
			continue
		}
		if multi {
			s = patternRef(s)
		}
		files.Append(str(s))
	}
	h.Set("valueFiles", files)

	extra := len(a.ExtraHubClusterDomainFields) + len(a.ExtraLocalClusterDomainFields) + len(a.ExtraRepoURLFields) +
		len(a.ExtraTargetRevisionFields) + len(a.ExtraNamespaceFields) + len(a.ExtraPatternNameFields) +
		len(r.v.ExtraParametersNested) + len(a.Overrides)
	params := r.globalParamList
	if extra > 0 {
		params = node.NewList(append(make([]*node.Node, 0, len(r.globalParams)+extra), r.globalParams...)...)
	}
	fields := func(names []string, value *node.Node) {
		for _, n := range names {
			params.Append(param(n, value))
		}
	}
	fields(a.ExtraHubClusterDomainFields, tpl.Unquoted(r.global("hubClusterDomain")))
	fields(a.ExtraLocalClusterDomainFields, tpl.Unquoted(r.global("localClusterDomain")))
	fields(a.ExtraRepoURLFields, str("$ARGOCD_APP_SOURCE_REPO_URL"))
	fields(a.ExtraTargetRevisionFields, str("$ARGOCD_APP_SOURCE_TARGET_REVISION"))
	fields(a.ExtraNamespaceFields, str("$ARGOCD_APP_NAMESPACE"))
	fields(a.ExtraPatternNameFields, r.pattern)
	for _, e := range r.v.ExtraParametersNested {
		params.Append(param(e.Name, str(tpl.PrintfS(e.Value))))
	}
	for i, o := range a.Overrides {
		if o.Value.IsNull() {
			r.d.Warnf(o.Pos, schema.Index(schema.Join(path, "overrides"), i), "value is null: the clustergroup chart passes the text \"<nil>\"; write value: \"null\" to unset a helm value")
		}
		s, err := r.eng.Render(tpl.ToString(o.Value))
		if err != nil {
			r.d.Errorf(o.Pos, schema.Index(schema.Join(path, "overrides"), i), "template: %v", err)
			continue
		}
		p := param(o.Name, str(s))
		if o.ForceString {
			p.Set("forceString", node.NewBool(true))
		}
		params.Append(p)
	}
	h.Set("parameters", params)
	if len(a.FileParameters) > 0 {
		fp := node.NewList()
		for _, f := range a.FileParameters {
			fp.Append(node.NewMap().Set("name", tpl.PlainText(f.Name)).Set("path", tpl.PlainText(f.Path)))
		}
		h.Set("fileParameters", fp)
	}
	return h
}

// syncPolicy follows the chart: the application's value, else global.options.syncPolicy; Manual gives null,
// Automatic gives automated sync with retries, an object is used as it is.
func (r *renderer) syncPolicy(a *model.Application) *node.Node {
	sp := tpl.Coalesce(a.SyncPolicy, r.v.Global.Options.SyncPolicy)
	switch {
	case sp == nil:
		return r.automatic
	case sp.Kind == node.String && strings.EqualFold(sp.Text, "manual"):
		return node.NewNull()
	case sp.Kind == node.String && strings.EqualFold(sp.Text, "automatic"):
		return r.automatic
	}
	return node.Sorted(a.SyncPolicy)
}

// automaticSyncPolicy is what "Automatic" expands to: automated sync, retried global.options.applicationRetryLimit
// times (20 when unset or 0).
func (r *renderer) automaticSyncPolicy() *node.Node {
	limit := node.NewInt(20)
	if l := r.v.Global.Options.ApplicationRetryLimit; l.Truthy() {
		limit = tpl.Unquoted(l)
	}
	return node.NewMap().Set("automated", node.NewMap()).Set("retry", node.NewMap().Set("limit", limit))
}
