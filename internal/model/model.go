// Package model is the typed form of a cluster group's values: what the clustergroup chart reads from
// clusterGroup.* and global.*, decoded strictly from the merged value tree. Every field keeps the position of
// the value that set it, so generators can say where an object came from and diagnostics can point at it.
package model

import (
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Values is a decoded cluster group.
type Values struct {
	// Tree is the final merged value tree (for template evaluation and for generators that need raw values).
	Tree *node.Node

	Global       Global
	ClusterGroup ClusterGroup
	// ExtraParametersNested are the top-level extraParametersNested entries, sorted by key.
	ExtraParametersNested []NameValue
	// Enabled is the legacy top-level "enabled" switch ("plumbing" moves map-form AppProjects to the
	// cluster-wide Argo CD namespace and leaves out the imperative objects, Nodes and the Scheduler).
	Enabled string
	// RBAC is the vp-rbac subchart's values.
	RBAC RBAC
	// CoCo is global.coco: the Confidential Containers choices.
	CoCo CoCo
}

// NameValue is a name with a raw value.
type NameValue struct {
	Name  string
	Value *node.Node
}

// Global holds the global.* values the app-of-apps tree uses.
type Global struct {
	Tree            *node.Node
	Pattern         string
	RepoURL         string
	TargetRevision  string
	SingleArgoCD    bool
	VPArgoNamespace string
	// MultiSourceRepoURL is the default Helm repository of multi-source applications.
	MultiSourceRepoURL string
	ExtraValueFiles    []*node.Node
	DeletePattern      string
	Options            Options
	// SecretStoreBackend is global.secretStore.backend; HasSecretStoreBackend tells whether the key is set.
	SecretStoreBackend    string
	HasSecretStoreBackend bool
	// ExcludeESO adds ExternalSecret to the Argo CD instance's resource exclusions.
	ExcludeESO bool
}

// Options are global.options.
type Options struct {
	UseCSV              bool
	SyncPolicy          *node.Node // a string (Manual/Automatic)
	InstallPlanApproval string
	// ApplicationRetryLimit is the raw value (Helm prints it as given); nil means the default 20.
	ApplicationRetryLimit         *node.Node
	AutoApproveManualInstallPlans bool
}

// ClusterGroup holds clusterGroup.*.
type ClusterGroup struct {
	Name                  string
	NamePos               srcpos.Pos
	TargetCluster         string
	IsHubCluster          *bool
	SharedValueFiles      []*node.Node
	Namespaces            []Namespace
	OperatorgroupExcludes []string
	Subscriptions         []Subscription
	// Projects are the AppProject names (from projects, else argoProjects).
	Projects []Project
	// ProjectsAsMap is set when the projects were given as a map (its keys are the names).
	ProjectsAsMap bool
	Applications  []Application
	Imperative    Imperative
	ArgoCD        ArgoCD
	IndexImages   []IndexImage
	Nodes         []NodeEntry
	// Scheduler is the spec of the cluster Scheduler, rendered when the key is present (HasScheduler).
	Scheduler    *node.Node
	HasScheduler bool
	ExtraObjects []ExtraObject
	// ManagedGroups are clusterGroup.managedClusterGroups: the cluster groups a hub delivers to the clusters
	// ACM selects (list order, or map keys sorted).
	ManagedGroups []ManagedGroup
}

// ManagedGroup is one clusterGroup.managedClusterGroups entry.
type ManagedGroup struct {
	Key  string
	Pos  srcpos.Pos
	Name string
	// Labels are acmlabels (list {name, value} or map), in order; ClusterSelector, when set, replaces them.
	Labels          []NameValue
	ClusterSelector *node.Node
	// HelmOverrides are the helm parameters the spoke's root Application gets.
	HelmOverrides []NameValue
	// Tree is the entry as written, for the keys cocogen does not support.
	Tree *node.Node
}

// Form says how a list-or-map section entry was written.
type Form uint8

// The forms of namespace entries.
const (
	ListString Form = iota // - name
	ListMap                // - name: {labels: …}
	MapEntry               // name: {labels: …} or name: (null)
)

// Namespace is one clusterGroup.namespaces entry.
type Namespace struct {
	Name string
	Pos  srcpos.Pos
	Form Form
	// Null marks a map-form entry whose value is null (name:).
	Null        bool
	Labels      *node.Node // map
	Annotations *node.Node // map
	// OperatorGroup is nil when the key is absent (an OperatorGroup is made), else its value.
	OperatorGroup *bool
	// TargetNamespaces is present when HasTargetNamespaces; nil or empty means AllNamespaces (no spec).
	TargetNamespaces    []string
	HasTargetNamespaces bool
	Disabled            bool
}

// Subscription is one clusterGroup.subscriptions entry.
type Subscription struct {
	Key                 string // map key, or list index as text
	Pos                 srcpos.Pos
	Name                string
	Namespace           string
	Namespaces          []string
	Source              string
	SourceNamespace     string
	Channel             string
	CSV                 string
	CSVPos              srcpos.Pos // where csv is written (the entry's key when it is not)
	InstallPlanApproval string
	Config              *node.Node
	Annotations         *node.Node
	Disabled            bool
	// OLMv1 keys: any of them makes the entry an olm.operatorframework.io/v1 ClusterExtension.
	Channels                []string
	Version                 string
	UpgradeConstraintPolicy string
	ServiceAccountName      string
	SequenceJob             *SequenceJob
}

// OLMv1 reports whether the subscription renders as a ClusterExtension.
func (s *Subscription) OLMv1() bool {
	return len(s.Channels) > 0 || s.Version != "" || s.UpgradeConstraintPolicy != "" || s.ServiceAccountName != ""
}

// Project is one AppProject name.
type Project struct {
	Name string
	Pos  srcpos.Pos
}

// Application is one clusterGroup.applications entry.
type Application struct {
	Key            string // map key, or list index as text
	Pos            srcpos.Pos
	Name           string
	Namespace      string
	Project        string
	Path           string
	Chart          string
	RepoURL        string
	TargetRevision string
	ChartVersion   string
	Kustomize      bool
	Plugin         *node.Node
	Overrides      []Override
	// ExtraValueFiles are the raw entries (templated at render time).
	ExtraValueFiles []*node.Node
	FileParameters  []FileParameter
	// Extra*Fields name helm values that receive an injected fact.
	ExtraHubClusterDomainFields   []string
	ExtraLocalClusterDomainFields []string
	ExtraRepoURLFields            []string
	ExtraTargetRevisionFields     []string
	ExtraNamespaceFields          []string
	ExtraPatternNameFields        []string
	IgnoreDifferences             *node.Node
	SyncPolicy                    *node.Node
	Annotations                   *node.Node
	Disabled                      bool
	// CoCoGen names the cocogen generator that renders the application's objects (sandbox, trustee or
	// workloads); empty for an application that Argo CD renders from its own source. Such an application's
	// source is the cocogen plugin on the pattern repository; for workloads, Path is the kustomize overlay.
	CoCoGen    string
	CoCoGenPos srcpos.Pos
}

// Generators that an application can name in its cocogen key.
const (
	GenSandbox   = "sandbox"
	GenTrustee   = "trustee"
	GenWorkloads = "workloads"
	// GenACM renders, on a hub, what makes ACM deliver each clusterGroup.managedClusterGroups entry to the
	// clusters it selects.
	GenACM = "acm"
)

// Generators lists them.
var Generators = []string{GenSandbox, GenTrustee, GenWorkloads, GenACM}

// MultiSource reports whether the application renders as a multi-source Application (chartVersion is set).
func (a *Application) MultiSource() bool { return a.ChartVersion != "" }

// Override is a helm parameter of an application.
type Override struct {
	Name        string
	Value       *node.Node
	ForceString bool
	Pos         srcpos.Pos
}

// FileParameter is a helm file parameter of an application.
type FileParameter struct {
	Name string
	Path string
}

// IsHub tells whether the cluster is a hub, as the chart decides it: clusterGroup.isHubCluster when set, else
// whether the local cluster domain (defaulting to the hub's) equals the hub cluster domain.
func (v *Values) IsHub() bool {
	if v.ClusterGroup.IsHubCluster != nil {
		return *v.ClusterGroup.IsHubCluster
	}
	hub := v.Global.Tree.Get("hubClusterDomain")
	if !hub.Truthy() {
		return false
	}
	local := v.Global.Tree.Get("localClusterDomain")
	if !local.Truthy() {
		local = hub
	}
	return local.Text == hub.Text
}

// UsesVault tells whether the vault unseal job and exec role are rendered: the secret store backend is vault
// (or unset), the legacy plumbing switch is off, and the cluster is a hub or runs the hashicorp-vault chart.
func (v *Values) UsesVault() bool {
	if v.Global.HasSecretStoreBackend && v.Global.SecretStoreBackend != "vault" || v.Enabled == "plumbing" {
		return false
	}
	if v.IsHub() {
		return true
	}
	for _, a := range v.ClusterGroup.Applications {
		if a.Chart == "hashicorp-vault" {
			return true
		}
	}
	return false
}

// ArgoNamespace is where the cluster group's Applications and AppProjects live: the cluster-wide Argo CD
// namespace with a single Argo CD, else <pattern>-<group>.
func (v *Values) ArgoNamespace() string {
	if v.Global.SingleArgoCD {
		return v.Global.VPArgoNamespace
	}
	return v.Global.Pattern + "-" + v.ClusterGroup.Name
}
