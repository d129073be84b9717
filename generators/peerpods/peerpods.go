// Package peerpods renders the objects of the sandbox application: the peer-pods-cm ConfigMap that the
// OpenShift sandboxed containers operator and cloud-api-adaptor read (Azure network facts, VM sizes, the default
// init-data), the KataConfig that enables peer pods, the operator's feature gates, and the Job that restarts
// the cloud-api-adaptor when the default init-data changes.
//
// Render is a pure function: the facts and the rendered init-data come in, objects go out. The values it
// receives are checked where they are read, with their positions: VM sizes (no spaces, default among them,
// root volume size) in the model, Azure facts in the metadata; Render itself checks what only the joined
// peer-pods-cm values show (TAGS).
package peerpods

import (
	"sort"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Namespace is where the operator reads peer-pods-cm.
const Namespace = "openshift-sandboxed-containers-operator"

// The readable twins of what peer-pods-cm encodes, so that `oc get cm peer-pods-cm -o yaml` says which
// init-data a cluster runs.
const (
	AnnotationProfile = "cocogen.io/initdata-profile"
	AnnotationDigest  = "cocogen.io/initdata-digest"
	AnnotationPCR8    = "cocogen.io/initdata-azure-pcr8"
)

// InitData is the default init-data profile, already rendered and encoded.
type InitData struct {
	Profile   string
	Algorithm string
	Encoded   string
	Digest    string
	AzurePCR8 string
}

// Input is what the sandbox application is rendered from.
type Input struct {
	// Platform is the cluster's platform (Azure renders peer pods; others are refused).
	Platform string
	// Azure facts (from the metadata).
	Region, ResourceGroup, SubnetID, NSGID string
	FactsPos                               srcpos.Pos
	// VM size choices (from the values).
	DefaultSize string
	Sizes       []string
	SizesPos    srcpos.Pos
	// Tags are Azure resource tags of the peer-pod VMs (a map of scalars), RootVolumeSize the root disk in GiB.
	Tags           *node.Node
	RootVolumeSize *node.Node
	InitData       InitData
	// CAADaemonSet is the cloud-api-adaptor DaemonSet of the cluster's sandboxed containers release and
	// JobImage the image that restarts it when INITDATA changes; no restart is rendered when CAADaemonSet is "".
	CAADaemonSet string
	JobImage     string
	// Source names where the objects come from (for the # Source: comment).
	Source string
}

// Settings of cloud-api-adaptor that the pattern fixes (a Go duration and a port, as cloud-api-adaptor
// parses them).
const (
	vxlanPort    = "9000"
	proxyTimeout = "5m"
)

// Render returns peer-pods-cm, the KataConfig and the feature gates.
func Render(in Input) ([]manifest.Object, *diag.List) {
	d := &diag.List{}
	if in.Platform != "Azure" {
		d.Errorf(in.FactsPos, "cluster.platform", "peer pods are rendered for Azure only; the cluster's platform is %q", in.Platform)
		return nil, d
	}
	if in.DefaultSize == "" {
		d.Errorf(in.SizesPos, "global.coco.azure.defaultVMFlavour", "is required: the confidential VM size of a peer pod that asks for none")
	}
	if in.InitData.Encoded == "" {
		d.Errorf(in.FactsPos, "global.coco.initdata.default", "peer pods need a default init-data profile")
	}
	sizes := in.Sizes
	if len(sizes) == 0 && in.DefaultSize != "" {
		sizes = []string{in.DefaultSize}
	}
	data := node.NewMap().
		Set("CLOUD_PROVIDER", str("azure")).
		Set("VXLAN_PORT", str(vxlanPort)).
		Set("AZURE_INSTANCE_SIZE", str(in.DefaultSize)).
		Set("AZURE_INSTANCE_SIZES", str(strings.Join(sizes, ","))).
		Set("AZURE_REGION", str(in.Region)).
		Set("AZURE_RESOURCE_GROUP", str(in.ResourceGroup)).
		Set("AZURE_SUBNET_ID", str(in.SubnetID)).
		Set("AZURE_NSG_ID", str(in.NSGID)).
		Set("DISABLECVM", str("false")).
		Set("PROXY_TIMEOUT", str(proxyTimeout)).
		Set("INITDATA", str(in.InitData.Encoded))
	if tags := tagList(in.Tags, d); tags != "" {
		data.Set("TAGS", str(tags))
	}
	if in.RootVolumeSize != nil {
		data.Set("ROOT_VOLUME_SIZE", str(in.RootVolumeSize.Text))
	}
	if d.HasErrors() {
		return nil, d
	}
	cm := node.NewMap().
		Set("apiVersion", str("v1")).
		Set("kind", str("ConfigMap")).
		Set("metadata", node.NewMap().
			Set("name", str("peer-pods-cm")).
			Set("namespace", str(Namespace)).
			Set("annotations", node.NewMap().
				Set(AnnotationProfile, str(in.InitData.Profile)).
				Set(AnnotationDigest, str(in.InitData.Algorithm+":"+in.InitData.Digest)).
				Set(AnnotationPCR8, str(in.InitData.AzurePCR8)))).
		Set("data", data)
	kata := node.NewMap().
		Set("apiVersion", str("kataconfiguration.openshift.io/v1")).
		Set("kind", str("KataConfig")).
		Set("metadata", node.NewMap().
			Set("name", str("default-kata-config")).
			// After peer-pods-cm: the operator builds the pod VM image and the runtime class from it.
			Set("annotations", node.NewMap().Set("argocd.argoproj.io/sync-wave", str("100")))).
		Set("spec", node.NewMap().
			Set("checkNodeEligibility", node.NewBool(false)).
			Set("enablePeerPods", node.NewBool(true)))
	gates := node.NewMap().
		Set("apiVersion", str("v1")).
		Set("kind", str("ConfigMap")).
		Set("metadata", node.NewMap().
			Set("name", str("osc-feature-gates")).
			Set("namespace", str(Namespace)).
			Set("annotations", node.NewMap().Set("argocd.argoproj.io/sync-wave", str("1")))).
		Set("data", node.NewMap().Set("confidential", str("true")))
	out := []manifest.Object{
		{Node: cm, Source: in.Source},
		{Node: kata, Source: in.Source},
		{Node: gates, Source: in.Source},
	}
	if in.CAADaemonSet != "" {
		for _, n := range restartObjects(in) {
			out = append(out, manifest.Object{Node: n, Source: in.Source})
		}
	}
	return out, d
}

func str(s string) *node.Node { return node.NewString(s) }

// tagList renders the Azure tags as cloud-api-adaptor reads TAGS: k=v pairs joined by commas, keys sorted.
func tagList(tags *node.Node, d *diag.List) string {
	if tags == nil || tags.Len() == 0 {
		return ""
	}
	var pairs []string
	for _, e := range tags.Entries() {
		v := e.Value.Scalar()
		if strings.ContainsAny(e.Key, ",=") || strings.Contains(v, ",") {
			d.Errorf(e.KeyPos, "global.coco.azure.tags."+e.Key, "TAGS is a comma-separated list of key=value: a tag may not contain a comma (or = in its key)")
			continue
		}
		pairs = append(pairs, e.Key+"="+v)
	}
	sort.Strings(pairs)
	return strings.Join(pairs, ",")
}
