package metadata

import (
	"slices"
	"strings"
)

// fact describes one key of the metadata file. The table below is the one list of keys: the parser's strict
// key checks, overrides (--fact, ARGOCD_ENV_COCOGEN_FACT_*) and the file that `metadata collect` writes are
// all derived from it.
type fact struct {
	path    string // azure.vnetResourceGroup
	boolean bool   // true/false rather than a string
	doc     string // one line for the written file: what it becomes, or where to read it
	example string // shown commented out when the fact is unknown
}

var facts = []fact{
	{path: "pattern.name", doc: "global.pattern: the Pattern CR name", example: "cocogen"},
	{path: "pattern.namespace", doc: "global.namespace: the Pattern CR namespace", example: "openshift-operators"},
	{path: "git.repoURL", doc: "global.repoURL: the fork Argo CD follows", example: "https://github.com/<you>/cocogen.git"},
	{path: "git.targetRevision", doc: "global.targetRevision: its branch, tag or commit", example: "main"},
	{path: "git.originURL", doc: "global.originURL: the upstream repository when repoURL is a mirror", example: "https://github.com/cocogen/cocogen.git"},
	{path: "git.privateRepo", boolean: true, doc: "global.privateRepo", example: "false"},
	{path: "cluster.name", doc: "global.localClusterName (default: the second label of appsDomain)", example: "coco"},
	{path: "cluster.appsDomain", doc: "oc get ingresses.config.openshift.io cluster -o jsonpath='{.spec.domain}'", example: "apps.coco.example.com"},
	{path: "cluster.hubAppsDomain", doc: "the hub's apps domain (default: appsDomain, this cluster is the hub)", example: "apps.hub.example.com"},
	{path: "cluster.platform", doc: "oc get infrastructure cluster -o jsonpath='{.status.platformStatus.type}'", example: "Azure"},
	{path: "cluster.version", doc: "the OpenShift version as Major.Minor, quoted", example: `"4.19"`},
	{path: "azure.cloud", doc: "cloud.conf cloud: AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud or AzureStackCloud", example: "AzurePublicCloud"},
	{path: "azure.subscriptionId", doc: "cloud.conf subscriptionId", example: "00000000-0000-0000-0000-000000000000"},
	{path: "azure.tenantId", doc: "cloud.conf tenantId", example: "00000000-0000-0000-0000-000000000000"},
	{path: "azure.location", doc: "cloud.conf location: AZURE_REGION", example: "eastus"},
	{path: "azure.resourceGroup", doc: "cloud.conf resourceGroup: AZURE_RESOURCE_GROUP and the NSG ID", example: "coco-x7k2p-rg"},
	{path: "azure.vnetResourceGroup", doc: "cloud.conf vnetResourceGroup: the subnet ID", example: "coco-x7k2p-rg"},
	{path: "azure.vnetName", doc: "cloud.conf vnetName", example: "coco-x7k2p-vnet"},
	{path: "azure.subnetName", doc: "cloud.conf subnetName: the worker subnet the peer-pod VMs join", example: "coco-x7k2p-worker-subnet"},
	{path: "azure.securityGroupName", doc: "cloud.conf securityGroupName", example: "coco-x7k2p-nsg"},
	{path: "baremetal.tdxNodes", doc: "the worker nodes with Intel TDX enabled, comma-separated (oc get nodes -l intel.feature.node.kubernetes.io/tdx=true once NFD runs)", example: "worker-0,worker-1"},
	{path: "baremetal.snpNodes", doc: "the worker nodes with AMD SEV-SNP enabled, comma-separated (oc get nodes -l amd.feature.node.kubernetes.io/snp=true once NFD runs)", example: "worker-2"},
	{path: "baremetal.gpuNodes", doc: "the TEE hosts with NVIDIA GPUs in confidential computing mode, comma-separated (a subset of tdxNodes and snpNodes)", example: "worker-0"},
	{path: "gitops.argoNamespace", doc: "global.vpArgoNamespace", example: "vp-gitops"},
	{path: "gitops.operatorNamespace", doc: "global.gitOpsSubNamespace", example: "openshift-gitops-operator"},
	{path: "gitops.experimentalCapabilities", doc: "global.experimentalCapabilities", example: "initcontainers"},
	{path: "gitops.multiSource.enabled", boolean: true, doc: "global.multiSourceSupport", example: "true"},
	{path: "gitops.multiSource.helmRepoURL", doc: "global.multiSourceRepoUrl", example: "https://charts.validatedpatterns.io/"},
	{path: "gitops.multiSource.clusterGroupChartVersion", doc: "global.multiSourceTargetRevision", example: "0.9.*"},
	{path: "kbs.url", doc: "the KBS endpoint (default: https://kbs.<hub apps domain>)", example: "https://kbs.apps.coco.example.com"},
	{path: "kbs.trustAnchor.mode", doc: "ca (default), public or leaf", example: "ca"},
	{path: "kbs.trustAnchor.certificate", doc: "repository path of the PEM certificate (ca and leaf modes)", example: "values/kbs-ca.crt"},
	{path: "kata.version", doc: "the Kata Containers release of the cluster's nodes (checked against the pinned sandboxed containers CSV)", example: "3.21.0"},
}

// sections are the top-level maps of a metadata file, in the order the written file has them.
var sections = []string{"pattern", "git", "cluster", "azure", "baremetal", "gitops", "kbs", "kata"}

// Keys returns the path of every fact a metadata file can hold (azure.location, kbs.trustAnchor.mode, …), in
// the order of the file.
func Keys() []string {
	out := make([]string, len(facts))
	for i, f := range facts {
		out[i] = f.path
	}
	return out
}

// childKeys returns the keys directly under prefix (a section or a nested map), in table order.
func childKeys(prefix string) []string {
	var out []string
	for _, f := range facts {
		rest, ok := strings.CutPrefix(f.path, prefix+".")
		if !ok {
			continue
		}
		k, _, _ := strings.Cut(rest, ".")
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

func lookupFact(path string) (fact, bool) {
	for _, f := range facts {
		if f.path == path {
			return f, true
		}
	}
	return fact{}, false
}

// Facts returns the value of every fact that is set, by path (booleans as "true"/"false"). Two metadata
// read from different files describe the same cluster when their Facts are equal.
func (m *Metadata) Facts() map[string]string {
	out := map[string]string{}
	for path, p := range m.fields() {
		switch f := p.(type) {
		case *Field:
			if f.Set {
				out[path] = f.Value
			}
		case *BoolField:
			if f.Set {
				out[path] = boolText(f.Value)
			}
		}
	}
	return out
}

func boolText(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// fields maps every fact path to the *Field or *BoolField that holds it.
func (m *Metadata) fields() map[string]any {
	return map[string]any{
		"pattern.name":                                &m.Pattern.Name,
		"pattern.namespace":                           &m.Pattern.Namespace,
		"git.repoURL":                                 &m.Git.RepoURL,
		"git.targetRevision":                          &m.Git.TargetRevision,
		"git.originURL":                               &m.Git.OriginURL,
		"git.privateRepo":                             &m.Git.PrivateRepo,
		"cluster.name":                                &m.Cluster.Name,
		"cluster.appsDomain":                          &m.Cluster.AppsDomain,
		"cluster.hubAppsDomain":                       &m.Cluster.HubAppsDomain,
		"cluster.platform":                            &m.Cluster.Platform,
		"cluster.version":                             &m.Cluster.Version,
		"azure.cloud":                                 &m.Azure.Cloud,
		"azure.subscriptionId":                        &m.Azure.SubscriptionID,
		"azure.tenantId":                              &m.Azure.TenantID,
		"azure.location":                              &m.Azure.Location,
		"azure.resourceGroup":                         &m.Azure.ResourceGroup,
		"azure.vnetResourceGroup":                     &m.Azure.VNetResourceGroup,
		"azure.vnetName":                              &m.Azure.VNetName,
		"azure.subnetName":                            &m.Azure.SubnetName,
		"azure.securityGroupName":                     &m.Azure.SecurityGroupName,
		"baremetal.tdxNodes":                          &m.BareMetal.TDXNodes,
		"baremetal.snpNodes":                          &m.BareMetal.SNPNodes,
		"baremetal.gpuNodes":                          &m.BareMetal.GPUNodes,
		"gitops.argoNamespace":                        &m.GitOps.ArgoNamespace,
		"gitops.operatorNamespace":                    &m.GitOps.OperatorNamespace,
		"gitops.experimentalCapabilities":             &m.GitOps.ExperimentalCapabilities,
		"gitops.multiSource.enabled":                  &m.GitOps.MultiSource.Enabled,
		"gitops.multiSource.helmRepoURL":              &m.GitOps.MultiSource.HelmRepoURL,
		"gitops.multiSource.clusterGroupChartVersion": &m.GitOps.MultiSource.ClusterGroupChartVersion,
		"kbs.url":                                     &m.KBS.URL,
		"kbs.trustAnchor.mode":                        &m.KBS.TrustAnchor.Mode,
		"kbs.trustAnchor.certificate":                 &m.KBS.TrustAnchor.Certificate,
		"kata.version":                                &m.Kata.Version,
	}
}
