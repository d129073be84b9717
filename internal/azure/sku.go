// Package azure asks Azure which VM sizes a subscription may use in a region (the compute resource-SKU list)
// and checks the confidential VM sizes that peer pods are allowed to use against it: each size must exist in
// the region, must not be restricted for the subscription, and must be confidential (AMD SEV-SNP or Intel TDX).
package azure

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/metadata"
)

// CapabilityConfidential is the resource-SKU capability that names a size's confidential computing
// technology; its value is SNP (AMD SEV-SNP: DCasv5, DCadsv5, ECasv5, …) or TDX (Intel TDX: DCesv5, ECesv5, …).
// Sizes without it are not confidential VMs (the SGX sizes DCsv2/DCsv3 have none).
const CapabilityConfidential = "ConfidentialComputingType"

// TEEs are the values of CapabilityConfidential that peer pods can attest.
var TEEs = []string{"SNP", "TDX"}

// SKU is one VM size of a region as the resource-SKU list describes it.
type SKU struct {
	Name     string `json:"name"`
	Family   string `json:"family,omitempty"`
	TEE      string `json:"tee,omitempty"`             // SNP, TDX, or another ConfidentialComputingType value
	VCPUs    int    `json:"vCPUs,omitempty"`           // capability vCPUs
	MemoryGB string `json:"memoryGB,omitempty"`        // capability MemoryGB (may be fractional)
	Reason   string `json:"restricted,omitempty"`      // the reason code when the subscription may not use it in the region
	Zones    string `json:"restrictedZones,omitempty"` // zones where the subscription may not use it, comma-separated
	Location string `json:"-"`                         // the region it was listed for
}

// Confidential reports whether the size is an SNP or TDX confidential VM.
func (s SKU) Confidential() bool { return slices.Contains(TEEs, s.TEE) }

// Client lists VM sizes through the compute resource-SKU API.
type Client struct {
	skus *armcompute.ResourceSKUsClient
}

// CloudConfiguration returns the SDK cloud of a cloud.conf cloud name ("" is the public cloud).
func CloudConfiguration(name string) (cloud.Configuration, error) {
	switch name {
	case "", "AzurePublicCloud":
		return cloud.AzurePublic, nil
	case "AzureUSGovernmentCloud":
		return cloud.AzureGovernment, nil
	case "AzureChinaCloud":
		return cloud.AzureChina, nil
	}
	return cloud.Configuration{}, fmt.Errorf("cocogen cannot query the resource SKUs of %s (only AzurePublicCloud, AzureUSGovernmentCloud and AzureChinaCloud)", name)
}

// NewClient returns a client for the subscription. opts may be nil; tests pass the SDK's fake transport.
func NewClient(subscriptionID string, cred azcore.TokenCredential, opts *arm.ClientOptions) (*Client, error) {
	c, err := armcompute.NewResourceSKUsClient(subscriptionID, cred, opts)
	if err != nil {
		return nil, err
	}
	return &Client{skus: c}, nil
}

// VMSizes lists the virtual-machine SKUs of a region, sorted by name.
func (c *Client) VMSizes(ctx context.Context, location string) ([]SKU, error) {
	filter := fmt.Sprintf("location eq '%s'", location)
	pager := c.skus.NewListPager(&armcompute.ResourceSKUsClientListOptions{Filter: &filter})
	var out []SKU
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, fmt.Errorf("list the resource SKUs of %s: %w", location, err)
		}
		for _, r := range page.Value {
			if r == nil || deref(r.ResourceType) != "virtualMachines" || r.Name == nil {
				continue
			}
			if !offeredIn(r, location) {
				continue
			}
			out = append(out, newSKU(r, location))
		}
	}
	slices.SortFunc(out, func(a, b SKU) int { return cmp.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b SKU) bool { return a.Name == b.Name }), nil
}

func offeredIn(r *armcompute.ResourceSKU, location string) bool {
	if len(r.Locations) == 0 && len(r.LocationInfo) == 0 {
		return true // the list was filtered by location already
	}
	for _, l := range r.Locations {
		if strings.EqualFold(deref(l), location) {
			return true
		}
	}
	for _, li := range r.LocationInfo {
		if li != nil && strings.EqualFold(deref(li.Location), location) {
			return true
		}
	}
	return false
}

func newSKU(r *armcompute.ResourceSKU, location string) SKU {
	s := SKU{Name: deref(r.Name), Family: deref(r.Family), Location: location}
	for _, c := range r.Capabilities {
		if c == nil {
			continue
		}
		switch deref(c.Name) {
		case CapabilityConfidential:
			s.TEE = deref(c.Value)
		case "vCPUs":
			s.VCPUs, _ = strconv.Atoi(deref(c.Value))
		case "MemoryGB":
			s.MemoryGB = deref(c.Value)
		}
	}
	var zones []string
	for _, res := range r.Restrictions {
		if res == nil || res.Type == nil {
			continue
		}
		switch *res.Type {
		case armcompute.ResourceSKURestrictionsTypeLocation:
			if restrictsLocation(res, location) {
				s.Reason = string(deref(res.ReasonCode))
				if s.Reason == "" {
					s.Reason = "restricted"
				}
			}
		case armcompute.ResourceSKURestrictionsTypeZone:
			if res.RestrictionInfo != nil {
				for _, z := range res.RestrictionInfo.Zones {
					zones = append(zones, deref(z))
				}
			}
		}
	}
	slices.Sort(zones)
	s.Zones = strings.Join(slices.Compact(zones), ",")
	return s
}

func restrictsLocation(res *armcompute.ResourceSKURestrictions, location string) bool {
	for _, v := range res.Values {
		if strings.EqualFold(deref(v), location) {
			return true
		}
	}
	if res.RestrictionInfo != nil {
		for _, l := range res.RestrictionInfo.Locations {
			if strings.EqualFold(deref(l), location) {
				return true
			}
		}
	}
	return false
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// Status is the verdict about one configured size.
type Status string

// The verdicts, one per kind of problem, so that each gets its own message.
const (
	OK              Status = "ok"
	Missing         Status = "missing"          // the region does not offer the size
	Restricted      Status = "restricted"       // the subscription may not use it in the region
	NotConfidential Status = "not-confidential" // it exists but is neither SNP nor TDX
)

// Result is the verdict about one configured size.
type Result struct {
	Name    string `json:"name"`
	Status  Status `json:"status"`
	TEE     string `json:"tee,omitempty"`
	Message string `json:"message,omitempty"`
}

// Check checks each configured size against the SKUs of the region and reports every problem into d at the
// position the size was configured. A size may have several problems; the result names the first that applies
// (missing, then restricted, then not confidential).
func Check(sizes []metadata.VMSize, skus []SKU, location, subscriptionID string, d *diag.List) []Result {
	byName := map[string]SKU{}
	for _, s := range skus {
		byName[s.Name] = s
	}
	var example string
	for _, s := range Confidential(skus) {
		if s.Reason == "" {
			example = s.Name
			break
		}
	}
	var out []Result
	for _, size := range sizes {
		sku, ok := byName[size.Name]
		r := Result{Name: size.Name, Status: OK, TEE: sku.TEE}
		switch {
		case !ok:
			r.Status = Missing
			r.Message = fmt.Sprintf("%s is not offered in region %s: choose a confidential size the region offers (cocogen metadata check --azure lists them), or another region", size.Name, location)
			for _, s := range skus {
				if strings.EqualFold(s.Name, size.Name) {
					r.Message = fmt.Sprintf("%s is not offered in region %s under that name; Azure spells it %s", size.Name, location, s.Name)
				}
			}
		case sku.Reason != "":
			r.Status = Restricted
			why := "the subscription may not create it there"
			if sku.Reason == string(armcompute.ResourceSKURestrictionsReasonCodeQuotaID) {
				why = "the subscription's offer type does not allow it"
			}
			r.Message = fmt.Sprintf("%s is restricted in region %s for subscription %s (%s: %s): request access through an Azure support request, or choose another size or region",
				size.Name, location, subscriptionID, sku.Reason, why)
		case !sku.Confidential():
			what := "it has no " + CapabilityConfidential + " capability"
			if sku.TEE != "" {
				what = fmt.Sprintf("its %s is %s", CapabilityConfidential, sku.TEE)
			}
			r.Status = NotConfidential
			r.Message = fmt.Sprintf("%s is not a confidential VM size (%s): peer pods need an AMD SEV-SNP or Intel TDX size to be attested", size.Name, what)
			if example != "" {
				r.Message += fmt.Sprintf(", such as %s in %s", example, location)
			}
		}
		if r.Status != OK {
			d.Errorf(size.Pos, "", "%s", r.Message)
		} else if sku.Zones != "" {
			d.Warnf(size.Pos, "", "%s is restricted for this subscription in zone(s) %s of %s", size.Name, sku.Zones, location)
		}
		out = append(out, r)
	}
	return out
}

// Confidential returns the SNP and TDX sizes among skus, ordered by TEE, family, vCPUs and name.
func Confidential(skus []SKU) []SKU {
	var out []SKU
	for _, s := range skus {
		if s.Confidential() {
			out = append(out, s)
		}
	}
	slices.SortFunc(out, func(a, b SKU) int {
		return cmp.Or(cmp.Compare(a.TEE, b.TEE), cmp.Compare(a.Family, b.Family), cmp.Compare(a.VCPUs, b.VCPUs), cmp.Compare(a.Name, b.Name))
	})
	return out
}
