package azure_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"

	"github.com/cocogen/cocogen/internal/azure"
	"github.com/cocogen/cocogen/internal/azure/azuretest"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/srcpos"
)

func client(t *testing.T, status int) *azure.Client {
	t.Helper()
	c, err := azure.NewClient(azuretest.Subscription, azuretest.Credential(),
		azuretest.Server(map[string][][]*armcompute.ResourceSKU{"eastus": azuretest.EastUS()}, status))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestVMSizes(t *testing.T) {
	skus, err := client(t, http.StatusOK).VMSizes(context.Background(), "eastus")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range skus {
		names = append(names, s.Name)
	}
	// Both pages, VMs only, sorted.
	want := []string{"Standard_D2s_v5", "Standard_DC2as_v5", "Standard_DC2s_v3", "Standard_DC4as_v5", "Standard_DC4es_v5", "Standard_DC8as_v5", "Standard_EC2as_v5"}
	if !slices.Equal(names, want) {
		t.Errorf("sizes %q, want %q", names, want)
	}
	var conf []string
	for _, s := range azure.Confidential(skus) {
		conf = append(conf, s.Name+"/"+s.TEE+"/"+s.Reason+"/"+s.Zones)
	}
	wantConf := []string{
		"Standard_DC2as_v5/SNP//", "Standard_DC4as_v5/SNP//", "Standard_DC8as_v5/SNP/NotAvailableForSubscription/",
		"Standard_EC2as_v5/SNP//2", "Standard_DC4es_v5/TDX//",
	}
	if !slices.Equal(conf, wantConf) {
		t.Errorf("confidential %q, want %q", conf, wantConf)
	}
	other, err := client(t, http.StatusOK).VMSizes(context.Background(), "westeurope")
	if err != nil || len(other) != 0 {
		t.Errorf("a region without sizes: %v, %v", other, err)
	}
}

func TestVMSizesError(t *testing.T) {
	_, err := client(t, http.StatusForbidden).VMSizes(context.Background(), "eastus")
	if err == nil || !strings.Contains(err.Error(), "list the resource SKUs of eastus") || !strings.Contains(err.Error(), "403") {
		t.Errorf("err = %v", err)
	}
}

// TestCheck gives each kind of problem its own, distinct message, at the position the size was configured.
func TestCheck(t *testing.T) {
	skus, err := client(t, http.StatusOK).VMSizes(context.Background(), "eastus")
	if err != nil {
		t.Fatal(err)
	}
	at := func(line int) srcpos.Pos { return srcpos.Pos{File: "values-global.yaml", Line: line, Col: 7} }
	sizes := []metadata.VMSize{
		{Name: "Standard_DC2as_v5", Pos: at(1)},
		{Name: "Standard_DC4es_v5", Pos: at(2)},
		{Name: "Standard_DC2ads_v6", Pos: at(3)}, // not in the region
		{Name: "Standard_DC8as_v5", Pos: at(4)},  // restricted for the subscription
		{Name: "Standard_D2s_v5", Pos: at(5)},    // not confidential
		{Name: "Standard_DC2s_v3", Pos: at(6)},   // SGX: not a confidential VM
		{Name: "Standard_EC2as_v5", Pos: at(7)},  // restricted in one zone only
		{Name: "standard_dc4as_v5", Pos: at(8)},  // Azure's spelling differs
	}
	d := &diag.List{}
	res := azure.Check(sizes, skus, "eastus", azuretest.Subscription, d)
	var statuses []string
	for _, r := range res {
		statuses = append(statuses, r.Name+"="+string(r.Status))
	}
	wantStatus := []string{"Standard_DC2as_v5=ok", "Standard_DC4es_v5=ok", "Standard_DC2ads_v6=missing", "Standard_DC8as_v5=restricted",
		"Standard_D2s_v5=not-confidential", "Standard_DC2s_v3=not-confidential", "Standard_EC2as_v5=ok", "standard_dc4as_v5=missing"}
	if !slices.Equal(statuses, wantStatus) {
		t.Errorf("statuses %q, want %q", statuses, wantStatus)
	}
	var got []string
	for _, x := range d.Sorted() {
		got = append(got, x.String())
	}
	want := []string{
		"values-global.yaml:3:7: error: Standard_DC2ads_v6 is not offered in region eastus: choose a confidential size the region offers (cocogen metadata check --azure lists them), or another region",
		"values-global.yaml:4:7: error: Standard_DC8as_v5 is restricted in region eastus for subscription " + azuretest.Subscription + " (NotAvailableForSubscription: the subscription may not create it there): request access through an Azure support request, or choose another size or region",
		"values-global.yaml:5:7: error: Standard_D2s_v5 is not a confidential VM size (it has no ConfidentialComputingType capability): peer pods need an AMD SEV-SNP or Intel TDX size to be attested, such as Standard_DC2as_v5 in eastus",
		"values-global.yaml:6:7: error: Standard_DC2s_v3 is not a confidential VM size (it has no ConfidentialComputingType capability): peer pods need an AMD SEV-SNP or Intel TDX size to be attested, such as Standard_DC2as_v5 in eastus",
		"values-global.yaml:7:7: warning: Standard_EC2as_v5 is restricted for this subscription in zone(s) 2 of eastus",
		"values-global.yaml:8:7: error: standard_dc4as_v5 is not offered in region eastus under that name; Azure spells it Standard_DC4as_v5",
	}
	if !slices.Equal(got, want) {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestQuotaIDRestriction(t *testing.T) {
	sku := azuretest.RestrictLocation(azuretest.VM("Standard_DC2as_v5", "standardDCASv5Family", "eastus", "SNP", 2, 8), armcompute.ResourceSKURestrictionsReasonCodeQuotaID)
	c, err := azure.NewClient(azuretest.Subscription, azuretest.Credential(),
		azuretest.Server(map[string][][]*armcompute.ResourceSKU{"eastus": {{sku}}}, http.StatusOK))
	if err != nil {
		t.Fatal(err)
	}
	skus, err := c.VMSizes(context.Background(), "eastus")
	if err != nil {
		t.Fatal(err)
	}
	d := &diag.List{}
	azure.Check([]metadata.VMSize{{Name: "Standard_DC2as_v5", Pos: srcpos.Pos{File: "--size"}}}, skus, "eastus", "sub", d)
	if err := d.Err(); err == nil || !strings.Contains(err.Error(), "(QuotaId: the subscription's offer type does not allow it)") {
		t.Errorf("err = %v", err)
	}
}

func TestCloudConfiguration(t *testing.T) {
	for _, name := range []string{"", "AzurePublicCloud", "AzureUSGovernmentCloud", "AzureChinaCloud"} {
		if _, err := azure.CloudConfiguration(name); err != nil {
			t.Errorf("%q: %v", name, err)
		}
	}
	if _, err := azure.CloudConfiguration("AzureStackCloud"); err == nil {
		t.Errorf("Azure Stack Hub has no public resource manager endpoint to ask")
	}
}
