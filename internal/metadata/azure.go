package metadata

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Clouds are the values of cloud.conf's "cloud" key (also Infrastructure .status.platformStatus.azure.cloudName).
var Clouds = []string{"AzurePublicCloud", "AzureUSGovernmentCloud", "AzureChinaCloud", "AzureStackCloud"}

//go:embed regions.txt
var regionsData string

// regionsByCloud holds regions.txt: region names by cloud, read on first use.
var regionsByCloud = sync.OnceValue(func() map[string][]string { return parseRegions(regionsData) })

func parseRegions(data string) map[string][]string {
	out := map[string][]string{}
	cloud := ""
	for line := range strings.SplitSeq(data, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			cloud = line[1 : len(line)-1]
		default:
			out[cloud] = append(out[cloud], line)
		}
	}
	return out
}

// Regions returns the region names cocogen knows for a cloud (see Clouds), or for every cloud when cloud is
// "". Azure Stack Hub regions are chosen by their operator, so that cloud has none.
func Regions(cloud string) []string {
	if cloud != "" {
		return slices.Clone(regionsByCloud()[cloud])
	}
	var out []string
	for _, c := range Clouds {
		out = append(out, regionsByCloud()[c]...)
	}
	return out
}

// Azure naming rules (learn.microsoft.com, "Naming rules and restrictions for Azure resources",
// Microsoft.Resources and Microsoft.Network).
var (
	guidRe = lazyre.New(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	// virtual networks: 2-64; subnets and network security groups: 1-80. Letters, digits, underscores,
	// periods and hyphens; starting with a letter or digit, ending with a letter, digit or underscore.
	vnetRe   = lazyre.New(`^[A-Za-z0-9][A-Za-z0-9_.\-]{0,62}[A-Za-z0-9_]$`)
	subnetRe = lazyre.New(`^[A-Za-z0-9]([A-Za-z0-9_.\-]{0,78}[A-Za-z0-9_])?$`)
	regionRe = lazyre.New(`^[a-z][a-z0-9]*$`)
)

const (
	guidRule          = "a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)"
	resourceGroupRule = "an Azure resource group name (1-90 letters, digits, _ - . ( ), not ending in a period)"
	vnetRule          = "an Azure virtual network name (2-64 letters, digits, _ . -, starting with a letter or digit, ending with a letter, digit or _)"
	subnetRule        = "an Azure subnet name (1-80 letters, digits, _ . -, starting with a letter or digit, ending with a letter, digit or _)"
	nsgRule           = "an Azure network security group name (1-80 letters, digits, _ . -, starting with a letter or digit, ending with a letter, digit or _)"
)

func (r reader) azure(m *Metadata, a *node.Node) {
	const p = "azure"
	m.Azure.Pos = a.Pos
	m.Azure.Cloud = r.str(a, p, "cloud", nil, "")
	if m.Azure.Cloud.Set && !r.c.Enum(a.Get("cloud"), "azure.cloud", m.Azure.Cloud.Value, Clouds...) {
		m.Azure.Cloud = Field{}
	}
	m.Azure.SubscriptionID = r.str(a, p, "subscriptionId", guidRe, "a subscription ID: "+guidRule)
	m.Azure.TenantID = r.str(a, p, "tenantId", guidRe, "a tenant ID: "+guidRule)
	m.Azure.Location = r.location(a, m.Azure.Cloud.Value)
	m.Azure.ResourceGroup = r.resourceGroup(a, "resourceGroup")
	m.Azure.VNetResourceGroup = r.resourceGroup(a, "vnetResourceGroup")
	m.Azure.VNetName = r.str(a, p, "vnetName", vnetRe, vnetRule)
	m.Azure.SubnetName = r.str(a, p, "subnetName", subnetRe, subnetRule)
	m.Azure.SecurityGroupName = r.str(a, p, "securityGroupName", subnetRe, nsgRule)
}

// resourceGroup reads a resource group name: 1-90 letters (any script), digits, underscores, hyphens, periods
// and parentheses, not ending in a period.
func (r reader) resourceGroup(a *node.Node, key string) Field {
	f := r.str(a, "azure", key, nil, "")
	if !f.Set {
		return f
	}
	ok := utf8.RuneCountInString(f.Value) <= 90 && !strings.HasSuffix(f.Value, ".")
	for _, c := range f.Value {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) && !strings.ContainsRune("_-.()", c) {
			ok = false
		}
	}
	if !ok {
		r.c.Diags.Errorf(f.Pos, "azure."+key, "%q is not %s", f.Value, resourceGroupRule)
		return Field{}
	}
	return f
}

// location reads azure.location: a region name of the cloud (eastus, not the display name "East US").
func (r reader) location(a *node.Node, cloud string) Field {
	f := r.str(a, "azure", "location", nil, "")
	if !f.Set {
		return f
	}
	const path = "azure.location"
	if cloud == "AzureStackCloud" {
		if !regionRe.MatchString(f.Value) {
			r.c.Diags.Errorf(f.Pos, path, "%q is not an Azure Stack Hub region name (lowercase letters and digits)", f.Value)
			return Field{}
		}
		return f
	}
	known := Regions(cloud)
	if slices.Contains(known, f.Value) {
		return f
	}
	for _, other := range Clouds {
		if other != cloud && slices.Contains(regionsByCloud()[other], f.Value) {
			r.c.Diags.Errorf(f.Pos, path, "%q is a region of %s, but azure.cloud is %s", f.Value, other, cloud)
			return Field{}
		}
	}
	msg := fmt.Sprintf("%q is not an Azure region name", f.Value)
	if norm := strings.ToLower(strings.Join(strings.Fields(f.Value), "")); norm != f.Value && slices.Contains(known, norm) {
		msg += fmt.Sprintf("; did you mean %q? (the region name, not its display name)", norm)
	} else if s := schema.Suggest(f.Value, known); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	} else {
		msg += " (az account list-locations -o table lists them; cocogen knows the regions in internal/metadata/regions.txt)"
	}
	r.c.Diags.Errorf(f.Pos, path, "%s", msg)
	return Field{}
}

// AzureSubnetID returns the ID of the subnet the peer-pod VMs join (peer-pods-cm AZURE_SUBNET_ID):
// /subscriptions/{subscriptionId}/resourceGroups/{vnetResourceGroup}/providers/Microsoft.Network/virtualNetworks/{vnetName}/subnets/{subnetName}.
// ok is false when one of those facts is not set.
func (m *Metadata) AzureSubnetID() (id string, ok bool) {
	a := &m.Azure
	if !a.SubscriptionID.Set || !a.VNetResourceGroup.Set || !a.VNetName.Set || !a.SubnetName.Set {
		return "", false
	}
	return "/subscriptions/" + a.SubscriptionID.Value + "/resourceGroups/" + a.VNetResourceGroup.Value +
		"/providers/Microsoft.Network/virtualNetworks/" + a.VNetName.Value + "/subnets/" + a.SubnetName.Value, true
}

// AzureNSGID returns the ID of the network security group of the peer-pod VMs (peer-pods-cm AZURE_NSG_ID):
// /subscriptions/{subscriptionId}/resourceGroups/{resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/{securityGroupName}.
// ok is false when one of those facts is not set.
func (m *Metadata) AzureNSGID() (id string, ok bool) {
	a := &m.Azure
	if !a.SubscriptionID.Set || !a.ResourceGroup.Set || !a.SecurityGroupName.Set {
		return "", false
	}
	return "/subscriptions/" + a.SubscriptionID.Value + "/resourceGroups/" + a.ResourceGroup.Value +
		"/providers/Microsoft.Network/networkSecurityGroups/" + a.SecurityGroupName.Value, true
}

// PeerPodsAzure are the peer-pods-cm entries that come from cluster facts.
type PeerPodsAzure struct {
	Region        string // AZURE_REGION: azure.location
	ResourceGroup string // AZURE_RESOURCE_GROUP: azure.resourceGroup (not vnetResourceGroup)
	SubnetID      string // AZURE_SUBNET_ID
	NSGID         string // AZURE_NSG_ID
	// Pos is where the facts were read (the azure section), for diagnostics about the objects built from them.
	Pos srcpos.Pos
}

// peerPodsFacts are the facts PeerPods needs.
var peerPodsFacts = []string{"azure.subscriptionId", "azure.location", "azure.resourceGroup",
	"azure.vnetResourceGroup", "azure.vnetName", "azure.subnetName", "azure.securityGroupName"}

// PeerPods returns the peer-pods-cm entries derived from the Azure facts. When facts are missing it reports one
// error into d, naming them and how to get them, and returns ok false.
func (m *Metadata) PeerPods(d *diag.List) (PeerPodsAzure, bool) {
	set := m.Facts()
	var missing []string
	for _, p := range peerPodsFacts {
		if _, ok := set[p]; !ok {
			missing = append(missing, p)
		}
	}
	pos := m.Azure.Pos
	if pos.IsZero() {
		pos = srcpos.Pos{File: m.Source}
	}
	if len(missing) > 0 {
		d.Errorf(pos, "azure", "peer pods on Azure need %s: run `cocogen metadata collect --cloud-conf FILE` (or --kubeconfig) to read them from the cluster's cloud.conf, or set them as COCOGEN_FACT_* plugin env",
			strings.Join(missing, ", "))
		return PeerPodsAzure{}, false
	}
	subnet, _ := m.AzureSubnetID()
	nsg, _ := m.AzureNSGID()
	return PeerPodsAzure{
		Region:        m.Azure.Location.Value,
		ResourceGroup: m.Azure.ResourceGroup.Value,
		SubnetID:      subnet,
		NSGID:         nsg,
		Pos:           pos,
	}, true
}
