// Package model is the typed form of a cluster group's values: what the clustergroup chart reads from
// clusterGroup.* and global.*, decoded strictly from the merged value tree. Every field keeps the position of
// the value that set it, so generators can say where an object came from and diagnostics can point at it.
package model

import (
	"github.com/cocogen/cocogen/internal/node"
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
	// cluster-wide Argo CD namespace).
	Enabled string
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
	NamePos               node.Pos
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
	// ImperativeNamespace is clusterGroup.imperative.namespace, which the chart always creates.
	ImperativeNamespace string
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
	Pos  node.Pos
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
	Pos                 node.Pos
	Name                string
	Namespace           string
	Namespaces          []string
	Source              string
	SourceNamespace     string
	Channel             string
	CSV                 string
	InstallPlanApproval string
	Config              *node.Node
	Annotations         *node.Node
	Disabled            bool
}

// Project is one AppProject name.
type Project struct {
	Name string
	Pos  node.Pos
}

// Application is one clusterGroup.applications entry.
type Application struct {
	Key            string // map key, or list index as text
	Pos            node.Pos
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
}

// MultiSource reports whether the application renders as a multi-source Application (chartVersion is set).
func (a *Application) MultiSource() bool { return a.ChartVersion != "" }

// Override is a helm parameter of an application.
type Override struct {
	Name        string
	Value       *node.Node
	ForceString bool
	Pos         node.Pos
}

// FileParameter is a helm file parameter of an application.
type FileParameter struct {
	Name string
	Path string
}

// ArgoNamespace is where the cluster group's Applications and AppProjects live: the cluster-wide Argo CD
// namespace with a single Argo CD, else <pattern>-<group>.
func (v *Values) ArgoNamespace() string {
	if v.Global.SingleArgoCD {
		return v.Global.VPArgoNamespace
	}
	return v.Global.Pattern + "-" + v.ClusterGroup.Name
}
