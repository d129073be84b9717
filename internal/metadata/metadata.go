// Package metadata holds the facts about one target cluster that a render depends on: the pattern's Git
// source, the cluster's apps domain, platform and version, and the GitOps settings that the Validated Patterns
// operator would otherwise inject, the Azure network facts that peer pods need, the KBS endpoint and its trust
// anchor, and the kata version. Values are choices and are reviewed in pull requests; metadata are facts and
// are collected from the cluster (`cocogen metadata collect`).
//
// Facts are layered: the metadata file in Git, then overrides (Argo CD plugin env COCOGEN_FACT_*, --fact
// flags), later winning; --set global.* flags then win over the values that Params derives.
package metadata

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// APIVersion and Kind identify a metadata file.
const (
	APIVersion = "cocogen.io/v1alpha1"
	Kind       = "ClusterMetadata"
)

// DefaultFile is the metadata file that a render reads from the values directory when no other is given.
const DefaultFile = "cluster-metadata.yaml"

// Field is one fact with the position it was read from.
type Field struct {
	Value string
	Pos   srcpos.Pos
	Set   bool
}

// BoolField is a boolean fact.
type BoolField struct {
	Value bool
	Pos   srcpos.Pos
	Set   bool
}

// Metadata is the typed content of a metadata file.
type Metadata struct {
	Source string // the file it was read from, for messages

	Pattern struct {
		Name      Field // global.pattern: the Pattern CR name
		Namespace Field // global.namespace: the Pattern CR namespace
	}
	Git struct {
		RepoURL        Field // global.repoURL
		TargetRevision Field // global.targetRevision
		OriginURL      Field // global.originURL: the upstream repository when a mirror is used
		PrivateRepo    BoolField
	}
	Cluster struct {
		Name          Field // global.localClusterName; default: the second label of AppsDomain
		AppsDomain    Field // Ingress cluster .spec.domain, e.g. apps.coco.example.com
		HubAppsDomain Field // the hub's apps domain; default: AppsDomain (this cluster is the hub)
		Platform      Field // Infrastructure cluster .spec.platformSpec.type
		Version       Field // OpenShift Major.Minor
	}
	// Azure holds the cloud-controller's cloud.conf facts (ConfigMap openshift-cloud-controller-manager/cloud-conf,
	// key cloud.conf) that peer-pods-cm is built from.
	Azure struct {
		Pos               srcpos.Pos // the azure section, for diagnostics about missing facts
		Cloud             Field      // AzurePublicCloud (default), AzureUSGovernmentCloud, AzureChinaCloud, AzureStackCloud
		SubscriptionID    Field      // subscriptionId, a GUID
		TenantID          Field      // tenantId, a GUID
		Location          Field      // location: the region name, e.g. eastus (AZURE_REGION)
		ResourceGroup     Field      // resourceGroup: the cluster's resource group (AZURE_RESOURCE_GROUP, the NSG ID)
		VNetResourceGroup Field      // vnetResourceGroup: the virtual network's resource group (the subnet ID)
		VNetName          Field      // vnetName
		SubnetName        Field      // subnetName: the worker subnet
		SecurityGroupName Field      // securityGroupName: the network security group of the workers
	}
	// BareMetal says which worker nodes of a bare-metal cluster run which TEE (the hosts' firmware decides it;
	// Node Feature Discovery shows it): comma-separated node names.
	BareMetal BareMetalNodes
	// KBS is where the guest finds Trustee's key broker and how it trusts its TLS certificate.
	KBS struct {
		// URL is the KBS endpoint; default https://kbs.<hub apps domain> (the kbs Route).
		URL         Field
		TrustAnchor struct {
			// Mode is ca (a CA certificate in Git signs the KBS leaf; the default), public (a public CA:
			// nothing embedded) or leaf (the leaf certificate itself is pinned).
			Mode Field
			// Certificate is the repository path of the PEM certificate for the ca and leaf modes.
			Certificate Field
		}
	}
	// Kata is the Kata Containers runtime the cluster runs (it decides annotation names and the Rego dialect).
	Kata struct {
		Version Field // e.g. 3.21.0
	}
	GitOps struct {
		ArgoNamespace            Field // global.vpArgoNamespace
		OperatorNamespace        Field // global.gitOpsSubNamespace
		ExperimentalCapabilities Field
		MultiSource              struct {
			Enabled                  BoolField // global.multiSourceSupport
			HelmRepoURL              Field     // global.multiSourceRepoUrl
			ClusterGroupChartVersion Field     // global.multiSourceTargetRevision
		}
	}
}

// Platforms are the values of Infrastructure .spec.platformSpec.type (config.openshift.io/v1).
var Platforms = []string{"AWS", "Azure", "BareMetal", "GCP", "Libvirt", "OpenStack", "None", "VSphere", "oVirt",
	"IBMCloud", "KubeVirt", "EquinixMetal", "PowerVS", "AlibabaCloud", "Nutanix", "External"}

var (
	dnsLabel   = lazyre.New(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	versionRe  = lazyre.New(`^[0-9]+\.[0-9]+$`)
	urlRe      = lazyre.New(`^(https?|ssh|git)://[^\s]+$|^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^\s]+$`)
	nsRe       = lazyre.New(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
	revisionRe = lazyre.New(`^[^\s~^:?*\[\\]+$`)
)

// Parse reads and validates a metadata file. name is how the file is shown in diagnostics.
func Parse(name string, data []byte) (*Metadata, *diag.List) {
	return Load(name, data, nil)
}

// Load reads a metadata file, sets the overrides over it (in order, later winning) and validates the result. A
// nil data means there is no file: the facts are the overrides alone. Problems in an override are reported at
// the override's Pos.
func Load(name string, data []byte, overrides []Override) (*Metadata, *diag.List) {
	d := &diag.List{}
	var root *node.Node
	if data == nil {
		root = node.NewMap()
		root.Set("apiVersion", node.NewString(APIVersion))
		root.Set("kind", node.NewString(Kind))
	} else {
		var err error
		if root, err = node.Parse(name, data, node.DefaultLimits); err != nil {
			d.AddError(err)
			return nil, d
		}
	}
	m := &Metadata{Source: name}
	c := schema.Checker{Diags: d}
	// nullOK: an empty file gets the one error below, not also "must be a map, not null".
	if !c.Map(root, "", true, append([]string{"apiVersion", "kind"}, sections...)...) {
		if root.IsNull() {
			d.Errorf(root.Pos, "", "the metadata file is empty")
		}
		return nil, d
	}
	root = apply(root, overrides, c)
	if v := root.Get("apiVersion"); v == nil || v.Text != APIVersion {
		d.Errorf(root.KeyPos("apiVersion"), "apiVersion", "must be %s", APIVersion)
	}
	if v := root.Get("kind"); v == nil || v.Text != Kind {
		d.Errorf(root.KeyPos("kind"), "kind", "must be %s", Kind)
	}
	r := reader{c: c}
	if p := root.Get("pattern"); c.Map(p, "pattern", true, childKeys("pattern")...) {
		m.Pattern.Name = r.str(p, "pattern", "name", dnsLabel, "a DNS label (lowercase letters, digits and -)")
		m.Pattern.Namespace = r.str(p, "pattern", "namespace", nsRe, "a namespace name")
	}
	if g := root.Get("git"); c.Map(g, "git", true, childKeys("git")...) {
		m.Git.RepoURL = r.str(g, "git", "repoURL", urlRe, "a Git URL (https://…, ssh://… or git@host:path)")
		m.Git.TargetRevision = r.str(g, "git", "targetRevision", revisionRe, "a branch, tag or commit")
		m.Git.OriginURL = r.str(g, "git", "originURL", urlRe, "a Git URL")
		m.Git.PrivateRepo = r.boolean(g, "git", "privateRepo")
	}
	if cl := root.Get("cluster"); c.Map(cl, "cluster", true, childKeys("cluster")...) {
		m.Cluster.Name = r.str(cl, "cluster", "name", dnsLabel, "a DNS label")
		m.Cluster.AppsDomain = r.domain(cl, "cluster", "appsDomain")
		m.Cluster.HubAppsDomain = r.domain(cl, "cluster", "hubAppsDomain")
		m.Cluster.Platform = r.str(cl, "cluster", "platform", nil, "")
		if m.Cluster.Platform.Set {
			c.Enum(cl.Get("platform"), "cluster.platform", m.Cluster.Platform.Value, Platforms...)
		}
		m.Cluster.Version = r.str(cl, "cluster", "version", versionRe, `the OpenShift version as Major.Minor in quotes (e.g. "4.19")`)
	}
	if a := root.Get("azure"); c.Map(a, "azure", true, childKeys("azure")...) {
		r.azure(m, a)
	}
	if b := root.Get("baremetal"); c.Map(b, "baremetal", true, childKeys("baremetal")...) {
		m.BareMetal.Pos = b.Pos
		m.BareMetal.TDXNodes = r.str(b, "baremetal", "tdxNodes", nodeListRe, "node names separated by commas (worker-0,worker-1)")
		m.BareMetal.SNPNodes = r.str(b, "baremetal", "snpNodes", nodeListRe, "node names separated by commas (worker-0,worker-1)")
		m.BareMetal.GPUNodes = r.str(b, "baremetal", "gpuNodes", nodeListRe, "node names separated by commas (worker-0,worker-1)")
		for _, n := range m.BareMetal.Nodes("gpu") {
			if !slices.Contains(m.BareMetal.Nodes("tdx"), n) && !slices.Contains(m.BareMetal.Nodes("snp"), n) {
				d.Errorf(m.BareMetal.GPUNodes.Pos, "baremetal.gpuNodes", "node %s is not a TEE host (tdxNodes, snpNodes): a confidential GPU needs a confidential VM", n)
			}
		}
		for _, n := range m.BareMetal.Nodes("tdx") {
			if slices.Contains(m.BareMetal.Nodes("snp"), n) {
				d.Errorf(m.BareMetal.SNPNodes.Pos, "baremetal.snpNodes", "node %s is listed under tdxNodes too: a host runs one TEE", n)
			}
		}
	}
	if g := root.Get("gitops"); c.Map(g, "gitops", true, childKeys("gitops")...) {
		m.GitOps.ArgoNamespace = r.str(g, "gitops", "argoNamespace", nsRe, "a namespace name")
		m.GitOps.OperatorNamespace = r.str(g, "gitops", "operatorNamespace", nsRe, "a namespace name")
		m.GitOps.ExperimentalCapabilities = r.str(g, "gitops", "experimentalCapabilities", nil, "")
		if ms := g.Get("multiSource"); c.Map(ms, "gitops.multiSource", true, childKeys("gitops.multiSource")...) {
			m.GitOps.MultiSource.Enabled = r.boolean(ms, "gitops.multiSource", "enabled")
			m.GitOps.MultiSource.HelmRepoURL = r.str(ms, "gitops.multiSource", "helmRepoURL", urlRe, "an https:// URL")
			m.GitOps.MultiSource.ClusterGroupChartVersion = r.str(ms, "gitops.multiSource", "clusterGroupChartVersion", nil, "")
		}
	}
	if k := root.Get("kbs"); c.Map(k, "kbs", true, childKeys("kbs")...) {
		m.KBS.URL = r.str(k, "kbs", "url", httpsURLRe, "an https:// URL")
		if ta := k.Get("trustAnchor"); c.Map(ta, "kbs.trustAnchor", true, childKeys("kbs.trustAnchor")...) {
			m.KBS.TrustAnchor.Mode = r.str(ta, "kbs.trustAnchor", "mode", nil, "")
			if m.KBS.TrustAnchor.Mode.Set {
				c.Enum(ta.Get("mode"), "kbs.trustAnchor.mode", m.KBS.TrustAnchor.Mode.Value, TrustAnchorModes...)
			}
			m.KBS.TrustAnchor.Certificate = r.str(ta, "kbs.trustAnchor", "certificate", nil, "")
			mode := m.TrustAnchorMode()
			switch {
			case mode == "public" && m.KBS.TrustAnchor.Certificate.Set:
				d.Errorf(m.KBS.TrustAnchor.Certificate.Pos, "kbs.trustAnchor.certificate", "the public mode embeds no certificate: remove it, or use mode ca or leaf")
			case mode != "public" && !m.KBS.TrustAnchor.Certificate.Set:
				d.Errorf(ta.Pos, "kbs.trustAnchor", "mode %s needs certificate: the repository path of the PEM file", mode)
			}
		}
	}
	if k := root.Get("kata"); c.Map(k, "kata", true, childKeys("kata")...) {
		m.Kata.Version = r.str(k, "kata", "version", kataVersionRe, `a Kata Containers version in quotes (e.g. "3.21.0")`)
	}
	if d.HasErrors() {
		return nil, d
	}
	return m, d
}

// nodeListRe is a comma-separated list of Kubernetes node names (DNS subdomains).
var nodeListRe = lazyre.New(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?(,[a-z0-9]([-a-z0-9.]*[a-z0-9])?)*$`)

// TEEs are the bare-metal TEEs a node can run, in the order cocogen renders them.
var TEEs = []string{"snp", "tdx"}

// BareMetalNodes are the metadata's baremetal section.
type BareMetalNodes struct {
	Pos      srcpos.Pos
	TDXNodes Field
	SNPNodes Field
	// GPUNodes are the TEE hosts whose NVIDIA GPUs run in confidential computing mode.
	GPUNodes Field
}

// Nodes returns the nodes of a TEE (snp or tdx), or the GPU hosts (gpu), in the file's order.
func (b *BareMetalNodes) Nodes(tee string) []string {
	f := b.SNPNodes
	switch tee {
	case "tdx":
		f = b.TDXNodes
	case "gpu":
		f = b.GPUNodes
	}
	if !f.Set {
		return nil
	}
	return strings.Split(f.Value, ",")
}

// TEEs returns the bare-metal TEEs that have nodes, sorted.
func (b *BareMetalNodes) TEEs() []string {
	var out []string
	for _, t := range TEEs {
		if len(b.Nodes(t)) > 0 {
			out = append(out, t)
		}
	}
	return out
}

// TrustAnchorModes are the ways the guest can trust the KBS certificate.
var TrustAnchorModes = []string{"ca", "public", "leaf"}

var (
	httpsURLRe    = lazyre.New(`^https://[^\s/]+(/[^\s]*)?$`)
	kataVersionRe = lazyre.New(`^[0-9]+\.[0-9]+(\.[0-9]+)?$`)
)

// KBSURL returns the KBS endpoint: kbs.url, else https://kbs.<hub apps domain>, else "" when neither is known.
func (m *Metadata) KBSURL() string {
	if m.KBS.URL.Set {
		return m.KBS.URL.Value
	}
	hub := m.Cluster.HubAppsDomain
	if !hub.Set {
		hub = m.Cluster.AppsDomain
	}
	if !hub.Set {
		return ""
	}
	return "https://kbs." + hub.Value
}

// TrustAnchorMode returns kbs.trustAnchor.mode, ca by default.
func (m *Metadata) TrustAnchorMode() string {
	if m.KBS.TrustAnchor.Mode.Set {
		return m.KBS.TrustAnchor.Mode.Value
	}
	return "ca"
}

type reader struct{ c schema.Checker }

func (r reader) str(m *node.Node, path, key string, re *lazyre.Regexp, want string) Field {
	n, ok := m.Lookup(key)
	if !ok || n.IsNull() {
		return Field{}
	}
	p := schema.Join(path, key)
	if n.Kind != node.String {
		r.c.Diags.Errorf(n.Pos, p, "must be a quoted string, not a %s (%s)", n.Kind, n.Src)
		return Field{}
	}
	if n.Text == "" {
		return Field{} // an empty fact is an unknown fact
	}
	if re != nil && !re.MatchString(n.Text) {
		r.c.Diags.Errorf(n.Pos, p, "%q is not %s", n.Text, want)
		return Field{}
	}
	return Field{Value: n.Text, Pos: n.Pos, Set: true}
}

func (r reader) boolean(m *node.Node, path, key string) BoolField {
	n, ok := m.Lookup(key)
	if !ok || n.IsNull() {
		return BoolField{}
	}
	if n.Kind != node.Bool {
		r.c.Diags.Errorf(n.Pos, schema.Join(path, key), "must be true or false, not %q", n.Src)
		return BoolField{}
	}
	return BoolField{Value: n.Text == "true", Pos: n.Pos, Set: true}
}

// domain reads an apps domain: a DNS name of at least three labels, so that the cluster domain (without the
// first label) and the cluster name (the second label) can be derived as the Validated Patterns operator does.
func (r reader) domain(m *node.Node, path, key string) Field {
	f := r.str(m, path, key, nil, "")
	if !f.Set {
		return f
	}
	p := schema.Join(path, key)
	labels := strings.Split(f.Value, ".")
	if len(f.Value) > 253 || len(labels) < 3 {
		r.c.Diags.Errorf(f.Pos, p, "%q must be the cluster's apps domain with at least three labels (e.g. apps.mycluster.example.com)", f.Value)
		return Field{}
	}
	for _, l := range labels {
		if len(l) > 63 || !dnsLabel.MatchString(l) {
			r.c.Diags.Errorf(f.Pos, p, "%q is not a DNS name (label %q)", f.Value, l)
			return Field{}
		}
	}
	return f
}

// Param is one injected value: a values path (global.clusterDomain) and its value, typed as Helm types
// --set parameters, with the position of the fact it came from.
type Param struct {
	Path  string
	Value *node.Node
}

// Params returns the global.* values that the Validated Patterns operator would inject for this cluster, in
// the operator's order. Only facts that are set produce a parameter.
func (m *Metadata) Params() []Param {
	var out []Param
	add := func(path string, f Field) {
		if f.Set {
			out = append(out, Param{Path: path, Value: helmvalues.ScalarFromFlag(f.Value, f.Pos)})
		}
	}
	addBool := func(path string, f BoolField) {
		if f.Set {
			out = append(out, Param{Path: path, Value: helmvalues.ScalarFromFlag(fmt.Sprint(f.Value), f.Pos)})
		}
	}
	derived := func(f Field, value string) Field {
		if !f.Set {
			return f
		}
		return Field{Value: value, Pos: f.Pos, Set: true}
	}
	apps := m.Cluster.AppsDomain
	add("global.pattern", m.Pattern.Name)
	add("global.namespace", m.Pattern.Namespace)
	add("global.repoURL", m.Git.RepoURL)
	add("global.originURL", m.Git.OriginURL)
	add("global.targetRevision", m.Git.TargetRevision)
	hub := m.Cluster.HubAppsDomain
	if !hub.Set {
		hub = apps
	}
	add("global.hubClusterDomain", hub)
	add("global.localClusterDomain", apps)
	if apps.Set {
		labels := strings.Split(apps.Value, ".")
		add("global.clusterDomain", derived(apps, strings.Join(labels[1:], ".")))
	}
	add("global.clusterVersion", m.Cluster.Version)
	add("global.clusterPlatform", m.Cluster.Platform)
	name := m.Cluster.Name
	if !name.Set && apps.Set {
		name = derived(apps, strings.Split(apps.Value, ".")[1])
	}
	add("global.localClusterName", name)
	addBool("global.privateRepo", m.Git.PrivateRepo)
	addBool("global.multiSourceSupport", m.GitOps.MultiSource.Enabled)
	add("global.multiSourceRepoUrl", m.GitOps.MultiSource.HelmRepoURL)
	add("global.experimentalCapabilities", m.GitOps.ExperimentalCapabilities)
	add("global.gitOpsSubNamespace", m.GitOps.OperatorNamespace)
	add("global.vpArgoNamespace", m.GitOps.ArgoNamespace)
	add("global.multiSourceTargetRevision", m.GitOps.MultiSource.ClusterGroupChartVersion)
	return out
}
