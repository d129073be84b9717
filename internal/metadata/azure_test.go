package metadata

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
)

const head = "apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\n"

// azureFacts is a complete, valid azure section.
const azureFacts = "azure:\n" +
	"  cloud: AzurePublicCloud\n" +
	"  subscriptionId: 6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a34\n" +
	"  tenantId: 0c9a7b4e-5d2f-4a1c-8e6b-3f7d9a2c1b58\n" +
	"  location: westeurope\n" +
	"  resourceGroup: prod-abcde-rg\n" +
	"  vnetResourceGroup: network-rg\n" +
	"  vnetName: prod-abcde-vnet\n" +
	"  subnetName: prod-abcde-worker-subnet\n" +
	"  securityGroupName: prod-abcde-nsg\n"

func TestAzureIDs(t *testing.T) {
	m, d := Parse("m.yaml", []byte(head+azureFacts))
	if m == nil {
		t.Fatalf("rejected: %q", diagLines(d))
	}
	subnet, ok := m.AzureSubnetID()
	// The subnet lives in the virtual network's resource group, the NSG in the cluster's (upstream's policy).
	if want := "/subscriptions/6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a34/resourceGroups/network-rg/providers/Microsoft.Network/virtualNetworks/prod-abcde-vnet/subnets/prod-abcde-worker-subnet"; !ok || subnet != want {
		t.Errorf("AzureSubnetID() = %q, %v; want %q", subnet, ok, want)
	}
	nsg, ok := m.AzureNSGID()
	if want := "/subscriptions/6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a34/resourceGroups/prod-abcde-rg/providers/Microsoft.Network/networkSecurityGroups/prod-abcde-nsg"; !ok || nsg != want {
		t.Errorf("AzureNSGID() = %q, %v; want %q", nsg, ok, want)
	}
	var pd diag.List
	pp, ok := m.PeerPods(&pd)
	if !ok || pp.Region != "westeurope" || pp.ResourceGroup != "prod-abcde-rg" || pp.SubnetID != subnet || pp.NSGID != nsg {
		t.Errorf("PeerPods() = %+v, %v (%q)", pp, ok, diagLines(&pd))
	}
	if pp.Pos.String() != "m.yaml:4:3" {
		t.Errorf("PeerPods().Pos = %s, want the azure section", pp.Pos)
	}
	for _, p := range m.Params() {
		if strings.Contains(p.Path, "azure") {
			t.Errorf("Azure facts are read by generators, not injected as values: %s", p.Path)
		}
	}
}

func TestPeerPodsNamesMissingFacts(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{
			name: "no azure section",
			src:  head,
			want: "m.yaml: error: azure: peer pods on Azure need azure.subscriptionId, azure.location, azure.resourceGroup, azure.vnetResourceGroup, azure.vnetName, azure.subnetName, azure.securityGroupName:",
		},
		{
			name: "a partial section",
			src:  head + "azure:\n  location: eastus\n  subscriptionId: 6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a34\n  resourceGroup: rg\n  vnetResourceGroup: rg\n  vnetName: v1\n",
			want: "m.yaml:4:3: error: azure: peer pods on Azure need azure.subnetName, azure.securityGroupName:",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, d := Parse("m.yaml", []byte(c.src))
			if m == nil {
				t.Fatalf("rejected: %q", diagLines(d))
			}
			if _, ok := m.AzureSubnetID(); ok && strings.Contains(c.want, "subnetName") {
				t.Errorf("AzureSubnetID() ok without a subnet name")
			}
			var pd diag.List
			if _, ok := m.PeerPods(&pd); ok {
				t.Fatal("PeerPods() ok with missing facts")
			}
			got := diagLines(&pd)
			if len(got) != 1 || !strings.HasPrefix(got[0], c.want) || !strings.Contains(got[0], "cocogen metadata collect") {
				t.Errorf("got %q, want one error starting %q that says how to collect the facts", got, c.want)
			}
		})
	}
}

func TestAzureRejects(t *testing.T) {
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown key with a suggestion",
			src:  "azure:\n  subnetNmae: a\n",
			want: []string{`m.yaml:4:3: error: azure: unknown key "subnetNmae"; did you mean "subnetName"?`},
		},
		{
			name: "subscription that is not a GUID",
			src:  "azure:\n  subscriptionId: 6d3f0e2a-1b4c-4e8f-9a7d\n",
			want: []string{`m.yaml:4:19: error: azure.subscriptionId: "6d3f0e2a-1b4c-4e8f-9a7d" is not a subscription ID: a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`},
		},
		{
			name: "tenant with braces",
			src:  "azure:\n  tenantId: \"{0c9a7b4e-5d2f-4a1c-8e6b-3f7d9a2c1b58}\"\n",
			want: []string{`m.yaml:4:13: error: azure.tenantId: "{0c9a7b4e-5d2f-4a1c-8e6b-3f7d9a2c1b58}" is not a tenant ID: a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`},
		},
		{
			name: "a typo in the location",
			src:  "azure:\n  location: eastsu\n",
			want: []string{`m.yaml:4:13: error: azure.location: "eastsu" is not an Azure region name; did you mean "eastus"?`},
		},
		{
			name: "the display name of a region",
			src:  "azure:\n  location: West Europe\n",
			want: []string{`m.yaml:4:13: error: azure.location: "West Europe" is not an Azure region name; did you mean "westeurope"? (the region name, not its display name)`},
		},
		{
			name: "no close region",
			src:  "azure:\n  location: atlantis\n",
			want: []string{`m.yaml:4:13: error: azure.location: "atlantis" is not an Azure region name (az account list-locations -o table lists them; cocogen knows the regions in internal/metadata/regions.txt)`},
		},
		{
			name: "a region of another cloud",
			src:  "azure:\n  cloud: AzurePublicCloud\n  location: usgovvirginia\n",
			want: []string{`m.yaml:5:13: error: azure.location: "usgovvirginia" is a region of AzureUSGovernmentCloud, but azure.cloud is AzurePublicCloud`},
		},
		{
			name: "an unknown cloud",
			src:  "azure:\n  cloud: AzurePubicCloud\n",
			want: []string{`m.yaml:4:10: error: azure.cloud: invalid value "AzurePubicCloud" (valid: AzurePublicCloud, AzureUSGovernmentCloud, AzureChinaCloud, AzureStackCloud); did you mean "AzurePublicCloud"?`},
		},
		{
			name: "resource group ending in a period",
			src:  "azure:\n  resourceGroup: prod-rg.\n",
			want: []string{`m.yaml:4:18: error: azure.resourceGroup: "prod-rg." is not ` + resourceGroupRule},
		},
		{
			name: "resource group with a slash",
			src:  "azure:\n  vnetResourceGroup: a/b\n",
			want: []string{`m.yaml:4:22: error: azure.vnetResourceGroup: "a/b" is not ` + resourceGroupRule},
		},
		{
			name: "virtual network of one character",
			src:  "azure:\n  vnetName: v\n",
			want: []string{`m.yaml:4:13: error: azure.vnetName: "v" is not ` + vnetRule},
		},
		{
			name: "subnet ending with a hyphen",
			src:  "azure:\n  subnetName: worker-\n",
			want: []string{`m.yaml:4:15: error: azure.subnetName: "worker-" is not ` + subnetRule},
		},
		{
			name: "security group with a space",
			src:  "azure:\n  securityGroupName: my nsg\n",
			want: []string{`m.yaml:4:22: error: azure.securityGroupName: "my nsg" is not ` + nsgRule},
		},
		{
			name: "an unquoted number",
			src:  "azure:\n  vnetName: 1234\n",
			want: []string{"m.yaml:4:13: error: azure.vnetName: must be a quoted string, not a int (1234)"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, d := Parse("m.yaml", []byte(head+c.src))
			if m != nil {
				t.Errorf("Parse accepted the file")
			}
			if got := diagLines(d); !slices.Equal(got, c.want) {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestAzureAccepts(t *testing.T) {
	for _, src := range []string{
		"azure:\n  resourceGroup: Prod_RG.(eu)-1\n", // every character Azure allows
		"azure:\n  resourceGroup: rg-münchen\n",     // Unicode letters
		"azure:\n  vnetName: a_\n  subnetName: s\n", // shortest names
		"azure:\n  cloud: AzureChinaCloud\n  location: chinanorth3\n",
		"azure:\n  cloud: AzureStackCloud\n  location: local\n", // Azure Stack Hub regions are the operator's
		"azure:\n  location: usgovvirginia\n",                   // no cloud given: any known region
		"azure:\n  subscriptionId: 6D3F0E2A-1B4C-4E8F-9A7D-2C5B8E1F0A34\n",
	} {
		if m, d := Parse("m.yaml", []byte(head+src)); m == nil {
			t.Errorf("rejected %q: %q", src, diagLines(d))
		}
	}
}

func TestRegionsData(t *testing.T) {
	for _, cloud := range []string{"AzurePublicCloud", "AzureUSGovernmentCloud", "AzureChinaCloud"} {
		rs := Regions(cloud)
		if len(rs) == 0 {
			t.Errorf("no regions for %s", cloud)
		}
		if !slices.IsSorted(rs) || len(slices.Compact(slices.Clone(rs))) != len(rs) {
			t.Errorf("%s: regions.txt must list each region once, sorted", cloud)
		}
		for _, r := range rs {
			if !regionRe.MatchString(r) {
				t.Errorf("%s: %q is not a region name", cloud, r)
			}
		}
	}
	for _, r := range []string{"eastus", "westeurope", "swedencentral", "northeurope", "centralindia"} {
		if !slices.Contains(Regions("AzurePublicCloud"), r) {
			t.Errorf("%s is missing: the confidential VM regions must be known", r)
		}
	}
	if len(Regions("")) != len(Regions("AzurePublicCloud"))+len(Regions("AzureUSGovernmentCloud"))+len(Regions("AzureChinaCloud")) {
		t.Errorf("Regions(\"\") is not the union of the clouds")
	}
	if Regions("AzureStackCloud") != nil {
		t.Errorf("Azure Stack Hub regions are not known in advance")
	}
}

func TestExampleHasEveryAzureFact(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	m, d := Parse("values/cluster-metadata.yaml", data)
	if m == nil {
		t.Fatalf("rejected: %q", diagLines(d))
	}
	var pd diag.List
	pp, ok := m.PeerPods(&pd)
	if !ok {
		t.Fatalf("the example must give peer pods everything: %q", diagLines(&pd))
	}
	if pp.Region != "eastus" || !strings.HasSuffix(pp.SubnetID, "/subnets/coco-x7k2p-worker-subnet") {
		t.Errorf("PeerPods() = %+v", pp)
	}
}
