package model

import (
	"cmp"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/parallel"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Keys the clustergroup chart reads under clusterGroup, split by whether cocogen renders them yet.
var (
	clusterGroupKeys = []string{"name", "targetCluster", "isHubCluster", "sharedValueFiles", "namespaces",
		"operatorgroupExcludes", "operatorgroupExcludeTargetNS", "subscriptions", "projects", "argoProjects",
		"applications", "managedClusterGroups", "argoCD", "imperative", "indexImages", "nodes", "scheduler",
		"extraObjects"}

	applicationKeys = []string{"name", "namespace", "project", "argoProject", "path", "chart", "repoURL",
		"targetRevision", "chartVersion", "kustomize", "plugin", "overrides", "extraValueFiles", "fileParameters",
		"extraHubClusterDomainFields", "extraLocalClusterDomainFields", "extraRepoURLFields",
		"extraTargetRevisionFields", "extraNamespaceFields", "extraPatternNameFields", "ignoreDifferences",
		"syncPolicy", "annotations", "disabled", "cocogen"}

	subscriptionKeys = []string{"name", "namespace", "namespaces", "source", "sourceNamespace", "channel", "csv",
		"installPlanApproval", "config", "annotations", "disabled", "sequenceJob", "channels", "version",
		"upgradeConstraintPolicy", "serviceAccountName"}

	namespaceKeys = []string{"labels", "annotations", "operatorGroup", "targetNamespaces", "disabled"}

	optionsKeys       = []string{"useCSV", "syncPolicy", "installPlanApproval", "applicationRetryLimit", "autoApproveManualInstallPlans"}
	managedGroupKeys  = []string{"name", "acmlabels", "clusterSelector", "helmOverrides", "targetRevision", "repoURL", "path", "extraValueFiles", "fileParameters", "clusterPools", "clusterDeployments"}
	overrideKeys      = []string{"name", "value", "forceString"}
	fileParameterKeys = []string{"name", "path"}
	// The fields of Argo CD's SyncPolicy and ResourceIgnoreDifferences.
	syncPolicyKeys        = []string{"automated", "syncOptions", "retry", "managedNamespaceMetadata"}
	automatedKeys         = []string{"prune", "selfHeal", "allowEmpty", "enabled"}
	retryKeys             = []string{"limit", "backoff", "refresh"}
	ignoreDifferencesKeys = []string{"group", "kind", "name", "namespace", "jsonPointers", "jqPathExpressions", "managedFieldsManagers"}
)

// dns1123 is a Kubernetes object name (DNS subdomain).
var dns1123 = lazyre.New(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// Decode checks and types the merged values of a cluster group, with the dates in them checked against the
// time now (DecodeAt).
func Decode(tree *node.Node) (*Values, *diag.List) {
	return DecodeAt(tree, time.Now())
}

// DecodeAt checks and types the merged values of a cluster group; dates in them (the reference values'
// expiration) are checked against now, a render's one reading of its clock.
func DecodeAt(tree *node.Node, now time.Time) (*Values, *diag.List) {
	d := &diag.List{}
	dc := decoder{c: schema.Checker{Diags: d}, now: now}
	v := &Values{Tree: tree}
	dc.global(tree.Get("global"), &v.Global)
	dc.clusterGroup(tree.Get("clusterGroup"), v)
	v.ExtraParametersNested = dc.extraParametersNested(tree.Get("extraParametersNested"))
	if e := tree.Get("enabled"); !e.IsNull() {
		v.Enabled, _ = dc.c.String(e, "enabled")
	}
	dc.rbac(tree.Get("vp-rbac"), &v.RBAC)
	cocoPos := tree.Get("global").KeyPos("coco") // the key, or global's own position when it is absent
	if cocoPos.IsZero() {
		cocoPos = tree.Pos
	}
	dc.coco(tree.Path("global", "coco"), cocoPos, &v.CoCo)
	dc.crossCheck(v)
	if d.HasErrors() {
		return nil, d
	}
	return v, d
}

type decoder struct {
	c schema.Checker
	// now is the time the values' dates are checked against.
	now time.Time
}

func (dc decoder) errorf(n *node.Node, path, format string, args ...any) {
	var pos srcpos.Pos
	if n != nil {
		pos = n.Pos
	}
	dc.c.Diags.Errorf(pos, path, format, args...)
}

// str reads an optional string key.
// str reads an optional string key. The values path is only built when there is something to report.
func (dc decoder) str(m *node.Node, path, key string) string {
	n := m.Get(key)
	if n.IsNull() || n.Kind == node.String {
		return n.Scalar()
	}
	s, _ := dc.c.String(n, schema.Join(path, key))
	return s
}

func (dc decoder) boolean(m *node.Node, path, key string) bool {
	n := m.Get(key)
	if n.IsNull() {
		return false
	}
	if n.Kind == node.Bool {
		return n.Text == "true"
	}
	b, _ := dc.c.Bool(n, schema.Join(path, key))
	return b
}

func (dc decoder) strings(m *node.Node, path, key string) []string {
	n := m.Get(key)
	if n.IsNull() {
		return nil
	}
	items, ok := dc.c.StringList(n, schema.Join(path, key))
	if !ok {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		s, _ := dc.c.String(it, schema.Index(schema.Join(path, key), i))
		out = append(out, s)
	}
	return out
}

func (dc decoder) global(g *node.Node, out *Global) {
	if !dc.c.Map(g, "global", true) {
		return
	}
	out.Tree = g
	out.Pattern = dc.str(g, "global", "pattern")
	out.RepoURL = dc.str(g, "global", "repoURL")
	out.TargetRevision = dc.str(g, "global", "targetRevision")
	out.SingleArgoCD = dc.boolean(g, "global", "singleArgoCD")
	out.VPArgoNamespace = dc.str(g, "global", "vpArgoNamespace")
	out.MultiSourceRepoURL = dc.str(g, "global", "multiSourceRepoUrl")
	out.DeletePattern = dc.str(g, "global", "deletePattern")
	if items, ok := dc.c.StringList(g.Get("extraValueFiles"), "global.extraValueFiles"); ok {
		out.ExtraValueFiles = items
	}
	if out.Pattern == "" {
		dc.errorf(g, "global.pattern", "the pattern name is empty; set global.pattern in values-global.yaml or pattern.name in the metadata")
	}
	out.ExcludeESO = dc.boolean(g, "global", "excludeESO")
	if ss := g.Get("secretStore"); dc.c.Map(ss, "global.secretStore", true, "backend") {
		if b, ok := ss.Lookup("backend"); ok {
			out.HasSecretStoreBackend = true
			out.SecretStoreBackend, _ = dc.c.String(b, "global.secretStore.backend")
			if out.SecretStoreBackend != "" {
				dc.c.Enum(b, "global.secretStore.backend", out.SecretStoreBackend, "vault", "kubernetes", "none")
			}
		}
	}
	o := g.Get("options")
	if !dc.c.Map(o, "global.options", false, optionsKeys...) {
		if o.IsNull() {
			dc.c.Diags.Errorf(g.KeyPos("options"), "global.options", "is required (useCSV, syncPolicy, installPlanApproval)")
		}
		return
	}
	out.Options.UseCSV = dc.boolean(o, "global.options", "useCSV")
	if sp := o.Get("syncPolicy"); !sp.IsNull() {
		if s, ok := dc.c.String(sp, "global.options.syncPolicy"); ok {
			if sp.Kind != node.String || !slices.Contains([]string{"manual", "automatic"}, strings.ToLower(s)) {
				dc.errorf(sp, "global.options.syncPolicy", "must be Manual or Automatic (a sync policy object can be set per application)")
			}
		}
		out.Options.SyncPolicy = sp
	}
	if ipa := dc.str(o, "global.options", "installPlanApproval"); ipa != "" {
		dc.c.Enum(o.Get("installPlanApproval"), "global.options.installPlanApproval", ipa, "Manual", "Automatic")
		out.Options.InstallPlanApproval = ipa
	}
	if rl := o.Get("applicationRetryLimit"); !rl.IsNull() {
		if rl.Kind != node.Int {
			dc.errorf(rl, "global.options.applicationRetryLimit", "must be an integer, not %s %q", rl.Kind, rl.Src)
		}
		out.Options.ApplicationRetryLimit = rl
	}
	out.Options.AutoApproveManualInstallPlans = dc.boolean(o, "global.options", "autoApproveManualInstallPlans")
}

func (dc decoder) clusterGroup(cg *node.Node, v *Values) {
	out := &v.ClusterGroup
	if !dc.c.Map(cg, "clusterGroup", false, clusterGroupKeys...) {
		if cg == nil {
			dc.errorf(v.Tree, "clusterGroup", "is missing: values-<group>.yaml must define clusterGroup")
		}
		return
	}
	out.Name = dc.str(cg, "clusterGroup", "name")
	out.NamePos = cg.KeyPos("name")
	if out.Name == "" {
		dc.c.Diags.Errorf(cg.Pos, "clusterGroup.name", "is required")
	}
	out.TargetCluster = dc.str(cg, "clusterGroup", "targetCluster")
	if h, ok := cg.Lookup("isHubCluster"); ok && !h.IsNull() {
		b, _ := dc.c.Bool(h, "clusterGroup.isHubCluster")
		out.IsHubCluster = &b
	}
	if items, ok := dc.c.StringList(cg.Get("sharedValueFiles"), "clusterGroup.sharedValueFiles"); ok {
		out.SharedValueFiles = items
	}
	out.OperatorgroupExcludes = dc.strings(cg, "clusterGroup", "operatorgroupExcludes")
	if n, ok := cg.Lookup("operatorgroupExcludeTargetNS"); ok && n.Truthy() {
		dc.c.Diags.Warnf(cg.KeyPos("operatorgroupExcludeTargetNS"), "clusterGroup.operatorgroupExcludeTargetNS", "has no effect: the clustergroup chart does not read it")
	}
	dc.namespaces(cg.Get("namespaces"), out)
	dc.subscriptions(cg.Get("subscriptions"), out)
	dc.projects(cg, out)
	dc.applications(cg.Get("applications"), out)
	out.ManagedGroups = dc.managedClusterGroups(cg.Get("managedClusterGroups"))
	dc.imperative(cg.Get("imperative"), &out.Imperative)
	dc.argoCD(cg.Get("argoCD"), &out.ArgoCD)
	dc.indexImages(cg.Get("indexImages"), out)
	dc.nodes(cg.Get("nodes"), out)
	if sch, ok := cg.Lookup("scheduler"); ok {
		out.HasScheduler = true
		if !sch.IsNull() && sch.Kind != node.Map {
			dc.errorf(sch, "clusterGroup.scheduler", "must be a map: the spec of the cluster Scheduler")
		}
		out.Scheduler = sch
	}
	dc.extraObjects(cg.Get("extraObjects"), out)
}

// each walks a list-or-map section: map entries sorted by key (as Helm's range does), list items in order.
// Null entries are skipped, as the chart skips them.
func each(n *node.Node, fn func(key string, keyPos srcpos.Pos, v *node.Node, isMap bool)) {
	switch n.Kind {
	case node.Map:
		entries := slices.Clone(n.Entries())
		slices.SortFunc(entries, func(a, b node.Entry) int { return cmp.Compare(a.Key, b.Key) })
		for _, e := range entries {
			fn(e.Key, e.KeyPos, e.Value, true)
		}
	case node.List:
		for i, it := range n.Items() {
			fn(strconv.Itoa(i), it.Pos, it, false)
		}
	}
}

func (dc decoder) listOrMap(n *node.Node, path string) bool {
	if n.IsNull() {
		return false
	}
	if n.Kind != node.Map && n.Kind != node.List {
		dc.errorf(n, path, "must be a list or a map, not a %s", n.Kind)
		return false
	}
	return true
}

func entryPath(path, key string, isMap bool) string {
	if isMap {
		return schema.Join(path, key)
	}
	i, _ := strconv.Atoi(key)
	return schema.Index(path, i)
}

func (dc decoder) namespaces(n *node.Node, cg *ClusterGroup) {
	const path = "clusterGroup.namespaces"
	if !dc.listOrMap(n, path) {
		return
	}
	each(n, func(key string, keyPos srcpos.Pos, v *node.Node, isMap bool) {
		p := entryPath(path, key, isMap)
		if isMap {
			ns := Namespace{Name: key, Pos: keyPos, Form: MapEntry, Null: v.IsNull()}
			dc.namespaceOptions(v, p, &ns)
			cg.Namespaces = append(cg.Namespaces, ns)
			return
		}
		switch {
		case v.IsNull():
			return
		case v.Kind == node.String:
			cg.Namespaces = append(cg.Namespaces, Namespace{Name: v.Text, Pos: v.Pos, Form: ListString})
		case v.Kind == node.Map && v.Len() == 1:
			e := v.Entries()[0]
			if !e.Value.IsNull() && e.Value.Kind != node.Map {
				dc.errorf(e.Value, p, "a list entry is either a namespace name or {<name>: {labels, annotations, operatorGroup, targetNamespaces, disabled}}; %q maps to a %s", e.Key, e.Value.Kind)
				return
			}
			ns := Namespace{Name: e.Key, Pos: e.KeyPos, Form: ListMap}
			dc.namespaceOptions(e.Value, schema.Join(p, e.Key), &ns)
			cg.Namespaces = append(cg.Namespaces, ns)
		default:
			dc.errorf(v, p, "a list entry is either a namespace name or a map with exactly one key (the namespace name)")
		}
	})
	for _, ns := range cg.Namespaces {
		if !dns1123.MatchString(ns.Name) || len(ns.Name) > 63 || strings.Contains(ns.Name, ".") {
			dc.c.Diags.Errorf(ns.Pos, path, "%q is not a valid namespace name (lowercase letters, digits and -, at most 63)", ns.Name)
		}
	}
}

func (dc decoder) namespaceOptions(v *node.Node, path string, ns *Namespace) {
	if !dc.c.Map(v, path, true, namespaceKeys...) {
		return
	}
	if l := v.Get("labels"); dc.c.Map(l, schema.Join(path, "labels"), true) {
		ns.Labels = l
	}
	if a := v.Get("annotations"); dc.c.Map(a, schema.Join(path, "annotations"), true) {
		ns.Annotations = a
	}
	if og, ok := v.Lookup("operatorGroup"); ok {
		b, _ := dc.c.Bool(og, schema.Join(path, "operatorGroup"))
		if og.IsNull() {
			b = false
		}
		ns.OperatorGroup = &b
	}
	if _, ok := v.Lookup("targetNamespaces"); ok {
		ns.HasTargetNamespaces = true
		ns.TargetNamespaces = dc.strings(v, path, "targetNamespaces")
	}
	ns.Disabled = dc.boolean(v, path, "disabled")
}

func (dc decoder) subscriptions(n *node.Node, cg *ClusterGroup) {
	const path = "clusterGroup.subscriptions"
	if !dc.listOrMap(n, path) {
		return
	}
	each(n, func(key string, keyPos srcpos.Pos, v *node.Node, isMap bool) {
		p := entryPath(path, key, isMap)
		if v.IsNull() {
			return
		}
		if !dc.c.Map(v, p, false, subscriptionKeys...) {
			return
		}
		s := Subscription{Key: key, Pos: keyPos}
		s.Name = dc.str(v, p, "name")
		if s.Name == "" {
			dc.c.Diags.Errorf(keyPos, p, "name (the operator package name) is required")
		}
		s.Namespace = dc.str(v, p, "namespace")
		s.Namespaces = dc.strings(v, p, "namespaces")
		s.Source = dc.str(v, p, "source")
		s.SourceNamespace = dc.str(v, p, "sourceNamespace")
		s.Channel = dc.str(v, p, "channel")
		s.CSV = dc.str(v, p, "csv")
		s.CSVPos = v.Get("csv").PosOr(keyPos)
		if ipa := dc.str(v, p, "installPlanApproval"); ipa != "" {
			dc.c.Enum(v.Get("installPlanApproval"), schema.Join(p, "installPlanApproval"), ipa, "Manual", "Automatic")
			s.InstallPlanApproval = ipa
		}
		if c := v.Get("config"); dc.c.Map(c, schema.Join(p, "config"), true) {
			s.Config = c
		}
		if a := v.Get("annotations"); dc.c.Map(a, schema.Join(p, "annotations"), true) {
			s.Annotations = a
		}
		s.Disabled = dc.boolean(v, p, "disabled")
		s.Channels = dc.strings(v, p, "channels")
		s.Version = dc.str(v, p, "version")
		s.UpgradeConstraintPolicy = dc.str(v, p, "upgradeConstraintPolicy")
		if s.UpgradeConstraintPolicy != "" {
			dc.c.Enum(v.Get("upgradeConstraintPolicy"), schema.Join(p, "upgradeConstraintPolicy"), s.UpgradeConstraintPolicy, "CatalogProvided", "SelfCertified")
		}
		s.ServiceAccountName = dc.str(v, p, "serviceAccountName")
		if s.OLMv1() && len(s.Namespaces) > 0 {
			dc.c.Diags.Warnf(keyPos, p, "namespaces wins over the OLMv1 keys: the clustergroup chart renders one Subscription per namespace")
		}
		s.SequenceJob = dc.sequenceJob(v.Get("sequenceJob"), schema.Join(p, "sequenceJob"))
		cg.Subscriptions = append(cg.Subscriptions, s)
	})
}

func (dc decoder) projects(cg *node.Node, out *ClusterGroup) {
	key := "argoProjects"
	n := cg.Get("argoProjects")
	if p := cg.Get("projects"); p.Truthy() {
		key, n = "projects", p
		if cg.Get("argoProjects").Truthy() {
			dc.c.Diags.Errorf(cg.KeyPos("argoProjects"), "clusterGroup.argoProjects", "set either clusterGroup.projects or clusterGroup.argoProjects, not both (projects is deprecated; keep argoProjects)")
		}
	}
	path := schema.Join("clusterGroup", key)
	if !dc.listOrMap(n, path) {
		return
	}
	if n.Kind == node.Map {
		out.ProjectsAsMap = true
		each(n, func(k string, keyPos srcpos.Pos, v *node.Node, _ bool) {
			out.Projects = append(out.Projects, Project{Name: k, Pos: keyPos})
		})
	} else {
		for i, it := range n.Items() {
			s, ok := dc.c.String(it, schema.Index(path, i))
			if ok && it.IsScalar() {
				out.Projects = append(out.Projects, Project{Name: s, Pos: it.Pos})
			} else if ok {
				dc.errorf(it, schema.Index(path, i), "must be an AppProject name")
			}
		}
	}
	for _, p := range out.Projects {
		if !dns1123.MatchString(p.Name) {
			dc.c.Diags.Errorf(p.Pos, path, "%q is not a valid AppProject name", p.Name)
		}
	}
}

func (dc decoder) applications(n *node.Node, cg *ClusterGroup) {
	const path = "clusterGroup.applications"
	if !dc.listOrMap(n, path) {
		return
	}
	type item struct {
		key    string
		keyPos srcpos.Pos
		v      *node.Node
		isMap  bool
	}
	items := make([]item, 0, n.Len())
	each(n, func(key string, keyPos srcpos.Pos, v *node.Node, isMap bool) {
		items = append(items, item{key, keyPos, v, isMap})
	})
	// Each application is decoded on its own (the values are only read), so a large cluster group is decoded in
	// parts side by side, each part with its own diagnostics, joined in order: the result reads as a sequential
	// decode's.
	parts := 1
	if len(items) >= minParallelApps {
		parts = runtime.GOMAXPROCS(0)
	}
	apps := make([]Application, len(items))
	kept := make([]bool, len(items))
	diags := make([]diag.List, parts)
	parallel.Each(parts, func(i int) {
		pd := dc
		pd.c.Diags = &diags[i]
		for k := i * len(items) / parts; k < (i+1)*len(items)/parts; k++ {
			it := items[k]
			apps[k], kept[k] = pd.application(path, it.key, it.keyPos, it.v, it.isMap)
		}
	})
	for i := range diags {
		dc.c.Diags.Append(&diags[i])
	}
	// The kept applications, in order, in the one array (the struct is large: no second copy of thousands).
	m := 0
	for k := range apps {
		if kept[k] {
			apps[m] = apps[k]
			m++
		}
	}
	clear(apps[m:])
	if cg.Applications == nil {
		cg.Applications = apps[:m]
	} else {
		cg.Applications = append(cg.Applications, apps[:m]...)
	}
}

// minParallelApps is the number of applications from which they are decoded in parts side by side; below it
// the goroutines would cost more than they save.
var minParallelApps = 256

// application decodes one entry of clusterGroup.applications; ok is false for an entry that renders nothing
// (null or disabled).
func (dc decoder) application(path, key string, keyPos srcpos.Pos, v *node.Node, isMap bool) (_ Application, ok bool) {
	if v.IsNull() {
		return Application{}, false
	}
	p := entryPath(path, key, isMap)
	if !dc.c.Map(v, p, false, applicationKeys...) {
		return Application{}, false
	}
	a := Application{Key: key, Pos: keyPos}
	if !isMap {
		a.Pos = v.Pos
	}
	a.Name = dc.str(v, p, "name")
	a.Namespace = dc.str(v, p, "namespace")
	a.Project = dc.str(v, p, "argoProject")
	if proj := dc.str(v, p, "project"); proj != "" {
		if a.Project != "" {
			dc.c.Diags.Warnf(v.KeyPos("project"), schema.Join(p, "project"), "ignored: argoProject is set too and wins (project is deprecated)")
		} else {
			a.Project = proj
		}
	}
	a.Path = dc.str(v, p, "path")
	if msg := repoPathProblem(a.Path); a.Path != "" && msg != "" {
		dc.c.Diags.Errorf(v.Get("path").Pos, schema.Join(p, "path"), "%s", msg)
	}
	a.Chart = dc.str(v, p, "chart")
	a.RepoURL = dc.str(v, p, "repoURL")
	a.TargetRevision = dc.str(v, p, "targetRevision")
	a.ChartVersion = dc.str(v, p, "chartVersion")
	a.Kustomize = dc.boolean(v, p, "kustomize")
	if pl := v.Get("plugin"); dc.c.Map(pl, schema.Join(p, "plugin"), true) {
		a.Plugin = pl
	}
	a.Overrides = dc.overrides(v.Get("overrides"), schema.Join(p, "overrides"))
	if items, ok := dc.c.StringList(v.Get("extraValueFiles"), schema.Join(p, "extraValueFiles")); ok {
		a.ExtraValueFiles = items
	}
	a.FileParameters = dc.fileParameters(v.Get("fileParameters"), schema.Join(p, "fileParameters"))
	a.ExtraHubClusterDomainFields = dc.strings(v, p, "extraHubClusterDomainFields")
	a.ExtraLocalClusterDomainFields = dc.strings(v, p, "extraLocalClusterDomainFields")
	a.ExtraRepoURLFields = dc.strings(v, p, "extraRepoURLFields")
	a.ExtraTargetRevisionFields = dc.strings(v, p, "extraTargetRevisionFields")
	a.ExtraNamespaceFields = dc.strings(v, p, "extraNamespaceFields")
	a.ExtraPatternNameFields = dc.strings(v, p, "extraPatternNameFields")
	a.IgnoreDifferences = dc.ignoreDifferences(v.Get("ignoreDifferences"), schema.Join(p, "ignoreDifferences"))
	a.SyncPolicy = dc.syncPolicy(v.Get("syncPolicy"), schema.Join(p, "syncPolicy"))
	if an := v.Get("annotations"); dc.c.Map(an, schema.Join(p, "annotations"), true) {
		a.Annotations = an
	}
	a.Disabled = dc.boolean(v, p, "disabled")
	if a.Disabled {
		return Application{}, false
	}
	if g := v.Get("cocogen"); !g.IsNull() {
		dc.cocogenApp(v, p, &a)
	}
	switch {
	case a.Name == "":
		dc.c.Diags.Errorf(a.Pos, p, "name is required")
	case !dns1123.MatchString(a.Name) || len(a.Name) > 253:
		dc.c.Diags.Errorf(v.Get("name").Pos, schema.Join(p, "name"), "%q is not a valid Application name (lowercase letters, digits, - and .)", a.Name)
	}
	switch {
	case a.CoCoGen != "":
	case a.Path == "" && a.Chart == "":
		dc.c.Diags.Errorf(a.Pos, p, "set path (a directory in the pattern repository) or chart (a Helm chart)")
	case a.Path != "" && a.Chart != "":
		dc.c.Diags.Warnf(v.KeyPos("path"), schema.Join(p, "path"), "ignored: chart is set too and wins")
	}
	if a.Kustomize && a.MultiSource() {
		dc.c.Diags.Warnf(v.KeyPos("kustomize"), schema.Join(p, "kustomize"), "ignored for a multi-source application (chartVersion is set): the clustergroup chart renders it with Helm")
	}
	if a.Plugin != nil && a.Plugin.Len() > 0 && (a.Kustomize || len(a.Overrides) > 0) {
		dc.c.Diags.Warnf(v.KeyPos("plugin"), schema.Join(p, "plugin"), "a plugin application gets no helm block: kustomize and overrides have no effect")
	}
	return a, true
}

// cocogenKeysForbidden are application keys that say how Argo CD renders an application's source; an
// application rendered by cocogen has the plugin as its source, so they would be silently ignored.
var cocogenKeysForbidden = []string{"chart", "chartVersion", "repoURL", "targetRevision", "kustomize", "plugin",
	"overrides", "extraValueFiles", "fileParameters", "extraHubClusterDomainFields", "extraLocalClusterDomainFields",
	"extraRepoURLFields", "extraTargetRevisionFields", "extraNamespaceFields", "extraPatternNameFields"}

// cocogenApp reads the cocogen key of an application: which cocogen generator renders it.
func (dc decoder) cocogenApp(v *node.Node, p string, a *Application) {
	g := v.Get("cocogen")
	s, ok := dc.c.String(g, schema.Join(p, "cocogen"))
	if !ok || !dc.c.Enum(g, schema.Join(p, "cocogen"), s, Generators...) {
		return
	}
	a.CoCoGen, a.CoCoGenPos = s, g.Pos
	for _, k := range cocogenKeysForbidden {
		if v.Get(k) != nil {
			dc.c.Diags.Errorf(v.KeyPos(k), schema.Join(p, k), "an application rendered by cocogen (cocogen: %s) takes its source from the cocogen plugin on the pattern repository: remove %s", s, k)
		}
	}
	switch {
	case s == GenWorkloads && a.Path == "":
		dc.c.Diags.Errorf(a.Pos, p, "cocogen: workloads needs path: the repository directory of the kustomize overlay (e.g. overlays/%s)", cmp.Or(a.Name, a.Key))
	case s != GenWorkloads && a.Path != "":
		dc.c.Diags.Errorf(v.KeyPos("path"), schema.Join(p, "path"), "cocogen: %s renders from the values and metadata, not from a directory: remove path", s)
	}
}

func (dc decoder) overrides(n *node.Node, path string) []Override {
	if n.IsNull() {
		return nil
	}
	if n.Kind != node.List {
		dc.errorf(n, path, "must be a list of {name, value, forceString}, not a %s", n.Kind)
		return nil
	}
	var out []Override
	for i, it := range n.Items() {
		p := schema.Index(path, i)
		if !dc.c.Map(it, p, false, overrideKeys...) {
			continue
		}
		o := Override{Name: dc.str(it, p, "name"), Value: it.Get("value"), ForceString: dc.boolean(it, p, "forceString"), Pos: it.Pos}
		if o.Name == "" {
			dc.errorf(it, p, "name is required")
		}
		if o.Value != nil && !o.Value.IsScalar() && !o.Value.IsNull() {
			dc.errorf(o.Value, schema.Join(p, "value"), "must be a scalar (a helm parameter value), not a %s", o.Value.Kind)
		}
		out = append(out, o)
	}
	return out
}

func (dc decoder) fileParameters(n *node.Node, path string) []FileParameter {
	if n.IsNull() {
		return nil
	}
	if n.Kind != node.List {
		dc.errorf(n, path, "must be a list of {name, path}, not a %s", n.Kind)
		return nil
	}
	var out []FileParameter
	for i, it := range n.Items() {
		p := schema.Index(path, i)
		if dc.c.Map(it, p, false, fileParameterKeys...) {
			out = append(out, FileParameter{Name: dc.str(it, p, "name"), Path: dc.str(it, p, "path")})
		}
	}
	return out
}

func (dc decoder) ignoreDifferences(n *node.Node, path string) *node.Node {
	if n.IsNull() {
		return nil
	}
	if n.Kind != node.List {
		dc.errorf(n, path, "must be a list, not a %s", n.Kind)
		return nil
	}
	for i, it := range n.Items() {
		dc.c.Map(it, schema.Index(path, i), false, ignoreDifferencesKeys...)
	}
	return n
}

// syncPolicy accepts Manual, Automatic (any case) or an Argo CD SyncPolicy object, whose keys are checked.
func (dc decoder) syncPolicy(n *node.Node, path string) *node.Node {
	if n.IsNull() {
		return nil
	}
	switch n.Kind {
	case node.String:
		if l := strings.ToLower(n.Text); l != "manual" && l != "automatic" {
			dc.errorf(n, path, "must be Manual, Automatic or a sync policy object, not %q", n.Text)
		}
		return n
	case node.Map:
		dc.c.Keys(n, path, syncPolicyKeys...)
		if a := n.Get("automated"); !a.IsNull() {
			dc.c.Map(a, schema.Join(path, "automated"), true, automatedKeys...)
		}
		if r := n.Get("retry"); !r.IsNull() {
			dc.c.Map(r, schema.Join(path, "retry"), true, retryKeys...)
		}
		if so := n.Get("syncOptions"); !so.IsNull() {
			dc.c.StringList(so, schema.Join(path, "syncOptions"))
		}
		return n
	}
	dc.errorf(n, path, "must be Manual, Automatic or a sync policy object, not a %s", n.Kind)
	return nil
}

func (dc decoder) managedClusterGroups(n *node.Node) []ManagedGroup {
	const path = "clusterGroup.managedClusterGroups"
	if !dc.listOrMap(n, path) {
		return nil
	}
	var out []ManagedGroup
	each(n, func(key string, _ srcpos.Pos, v *node.Node, isMap bool) {
		if v.IsNull() {
			return
		}
		p := entryPath(path, key, isMap)
		if !dc.c.Map(v, p, false, managedGroupKeys...) {
			return
		}
		g := ManagedGroup{Key: key, Pos: v.Pos, Name: dc.str(v, p, "name"), Tree: v}
		if g.Name == "" {
			dc.errorf(v, p, "name is required")
		}
		if l := v.Get("acmlabels"); !l.IsNull() {
			switch l.Kind {
			case node.List:
				for i, it := range l.Items() {
					ip := schema.Index(schema.Join(p, "acmlabels"), i)
					if dc.c.Map(it, ip, false, "name", "value") && (it.Get("name").IsNull() || it.Get("value").IsNull()) {
						dc.errorf(it, ip, "needs name and value")
					} else if it.Kind == node.Map {
						g.Labels = append(g.Labels, NameValue{Name: it.Get("name").Scalar(), Value: it.Get("value")})
					}
				}
			case node.Map:
				for _, e := range l.Entries() {
					g.Labels = append(g.Labels, NameValue{Name: e.Key, Value: e.Value})
				}
			default:
				dc.errorf(l, schema.Join(p, "acmlabels"), "must be a list of {name, value} or a map")
			}
		}
		if s := v.Get("clusterSelector"); !s.IsNull() {
			if dc.c.Map(s, schema.Join(p, "clusterSelector"), true, "matchLabels", "matchExpressions") {
				g.ClusterSelector = s
			}
		}
		if h := v.Get("helmOverrides"); !h.IsNull() {
			if h.Kind != node.List {
				dc.errorf(h, schema.Join(p, "helmOverrides"), "must be a list of {name, value}")
			} else {
				for i, it := range h.Items() {
					ip := schema.Index(schema.Join(p, "helmOverrides"), i)
					if dc.c.Map(it, ip, false, "name", "value") && it.Get("name").IsNull() {
						dc.errorf(it, ip, "name is required")
					} else if it.Kind == node.Map {
						g.HelmOverrides = append(g.HelmOverrides, NameValue{Name: it.Get("name").Scalar(), Value: it.Get("value")})
					}
				}
			}
		}
		out = append(out, g)
	})
	return out
}

func (dc decoder) extraParametersNested(n *node.Node) []NameValue {
	if n.IsNull() {
		return nil
	}
	if n.Kind != node.Map {
		dc.errorf(n, "extraParametersNested", "must be a map of helm parameter names to values")
		return nil
	}
	var out []NameValue
	each(n, func(k string, _ srcpos.Pos, v *node.Node, _ bool) {
		out = append(out, NameValue{Name: k, Value: v})
	})
	return out
}

// crossCheck reports problems that span entries: duplicate object names, applications in undeclared projects.
func (dc decoder) crossCheck(v *Values) {
	d := dc.c.Diags
	projects := map[string]bool{"default": true}
	for _, p := range v.ClusterGroup.Projects {
		projects[p.Name] = true
	}
	seen := map[string]srcpos.Pos{}
	for _, a := range v.ClusterGroup.Applications {
		if prev, dup := seen[a.Name]; dup {
			d.Errorf(a.Pos, "clusterGroup.applications", "application name %q is already used at %s: the second would replace the first", a.Name, prev)
		}
		seen[a.Name] = a.Pos
		project := cmp.Or(a.Project, "default")
		if !projects[project] {
			d.Warnf(a.Pos, "clusterGroup.applications."+a.Key, "project %q is not among clusterGroup.argoProjects; Argo CD rejects the Application unless that AppProject exists", project)
		}
	}
	nsSeen := map[string]srcpos.Pos{}
	for _, ns := range v.ClusterGroup.Namespaces {
		if ns.Disabled {
			continue
		}
		if prev, dup := nsSeen[ns.Name]; dup {
			d.Errorf(ns.Pos, "clusterGroup.namespaces", "namespace %q is listed twice (first at %s)", ns.Name, prev)
		}
		nsSeen[ns.Name] = ns.Pos
	}
	excluded := map[string]bool{}
	for _, e := range v.ClusterGroup.OperatorgroupExcludes {
		excluded[e] = true
	}
	for _, ns := range v.ClusterGroup.Namespaces {
		if excluded[ns.Name] && ns.Form != ListString && !ns.Disabled {
			d.Warnf(ns.Pos, "clusterGroup.operatorgroupExcludes", "namespace %q is excluded: cocogen renders no OperatorGroup for it, whereas the clustergroup chart ignores excludes for entries written as maps (set operatorGroup: false to get the same result with both)", ns.Name)
		}
	}
}

// repoPathProblem says what is wrong with an application path, a directory of the pattern repository that
// Argo CD (or cocogen, for workloads) reads: it must stay inside the repository.
func repoPathProblem(p string) string {
	switch {
	case strings.ContainsAny(p, "\\\x00"):
		return fmt.Sprintf("%q contains a backslash or a NUL: write a slash-separated repository path", p)
	case strings.HasPrefix(p, "/"):
		return fmt.Sprintf("%q is absolute: write the directory relative to the repository root (%q)", p, strings.TrimLeft(p, "/"))
	case slices.Contains(strings.Split(p, "/"), ".."):
		return fmt.Sprintf("%q leaves the repository: an application's path is a directory inside the pattern repository", p)
	}
	return ""
}
