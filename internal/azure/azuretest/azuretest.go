// Package azuretest serves a made-up compute resource-SKU list through the Azure SDK's own fake server
// (armcompute/fake with azcore/fake), so that tests of the Azure checks never touch the network. Only tests
// import it.
package azuretest

import (
	"fmt"
	"net/http"
	"regexp"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	azfake "github.com/Azure/azure-sdk-for-go/sdk/azcore/fake"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/to"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8/fake"
)

// Subscription is the subscription the fake serves.
const Subscription = "6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a34"

// VM builds a virtual-machine SKU as the resource-SKU API describes it. tee is the ConfidentialComputingType
// capability ("" for none).
func VM(name, family, location, tee string, vcpus, memoryGB int) *armcompute.ResourceSKU {
	caps := []*armcompute.ResourceSKUCapabilities{
		{Name: to.Ptr("vCPUs"), Value: to.Ptr(fmt.Sprint(vcpus))},
		{Name: to.Ptr("MemoryGB"), Value: to.Ptr(fmt.Sprint(memoryGB))},
		{Name: to.Ptr("HyperVGenerations"), Value: to.Ptr("V2")},
		{Name: to.Ptr("CpuArchitectureType"), Value: to.Ptr("x64")},
	}
	if tee != "" {
		caps = append(caps, &armcompute.ResourceSKUCapabilities{Name: to.Ptr("ConfidentialComputingType"), Value: to.Ptr(tee)})
	}
	return &armcompute.ResourceSKU{
		ResourceType: to.Ptr("virtualMachines"),
		Name:         to.Ptr(name),
		Tier:         to.Ptr("Standard"),
		Size:         to.Ptr(name[len("Standard_"):]),
		Family:       to.Ptr(family),
		Locations:    []*string{to.Ptr(location)},
		LocationInfo: []*armcompute.ResourceSKULocationInfo{{Location: to.Ptr(location), Zones: []*string{to.Ptr("1"), to.Ptr("2"), to.Ptr("3")}}},
		Capabilities: caps,
		Restrictions: []*armcompute.ResourceSKURestrictions{},
	}
}

// RestrictLocation marks the SKU as not usable by the subscription in its location.
func RestrictLocation(s *armcompute.ResourceSKU, reason armcompute.ResourceSKURestrictionsReasonCode) *armcompute.ResourceSKU {
	loc := s.Locations[0]
	s.Restrictions = append(s.Restrictions, &armcompute.ResourceSKURestrictions{
		Type:            to.Ptr(armcompute.ResourceSKURestrictionsTypeLocation),
		Values:          []*string{loc},
		RestrictionInfo: &armcompute.ResourceSKURestrictionInfo{Locations: []*string{loc}},
		ReasonCode:      to.Ptr(reason),
	})
	return s
}

// RestrictZones marks the SKU as not usable by the subscription in some zones of its location.
func RestrictZones(s *armcompute.ResourceSKU, zones ...string) *armcompute.ResourceSKU {
	var zs []*string
	for _, z := range zones {
		zs = append(zs, to.Ptr(z))
	}
	s.Restrictions = append(s.Restrictions, &armcompute.ResourceSKURestrictions{
		Type:            to.Ptr(armcompute.ResourceSKURestrictionsTypeZone),
		Values:          []*string{s.Locations[0]},
		RestrictionInfo: &armcompute.ResourceSKURestrictionInfo{Locations: []*string{s.Locations[0]}, Zones: zs},
		ReasonCode:      to.Ptr(armcompute.ResourceSKURestrictionsReasonCodeNotAvailableForSubscription),
	})
	return s
}

// EastUS is a small, realistic SKU list of eastus, served in two pages: SNP and TDX sizes, a general-purpose
// size, an SGX size (confidential enclaves, but no confidential VM), a size the subscription may not use, one
// restricted in a zone, and a disk SKU that the VM listing must skip.
func EastUS() [][]*armcompute.ResourceSKU {
	const loc = "eastus"
	return [][]*armcompute.ResourceSKU{
		{
			VM("Standard_DC2as_v5", "standardDCASv5Family", loc, "SNP", 2, 8),
			VM("Standard_DC4as_v5", "standardDCASv5Family", loc, "SNP", 4, 16),
			RestrictLocation(VM("Standard_DC8as_v5", "standardDCASv5Family", loc, "SNP", 8, 32), armcompute.ResourceSKURestrictionsReasonCodeNotAvailableForSubscription),
			VM("Standard_D2s_v5", "standardDSv5Family", loc, "", 2, 8),
			{ResourceType: to.Ptr("disks"), Name: to.Ptr("Premium_LRS"), Locations: []*string{to.Ptr(loc)}},
		},
		{
			VM("Standard_DC4es_v5", "standardDCESv5Family", loc, "TDX", 4, 16),
			RestrictZones(VM("Standard_EC2as_v5", "standardECASv5Family", loc, "SNP", 2, 16), "2"),
			VM("Standard_DC2s_v3", "standardDCSv3Family", loc, "", 2, 16),
		},
	}
}

var filterRe = regexp.MustCompile(`^location eq '([a-z0-9]+)'$`)

// Server returns client options whose transport is the SDK's fake resource-SKU server, serving pages for the
// location the request filters on (nothing for other locations). status, when not 200, makes the server fail
// with that HTTP status instead.
func Server(pages map[string][][]*armcompute.ResourceSKU, status int) *arm.ClientOptions {
	srv := &fake.ResourceSKUsServer{
		NewListPager: func(options *armcompute.ResourceSKUsClientListOptions) (resp azfake.PagerResponder[armcompute.ResourceSKUsClientListResponse]) {
			if status != http.StatusOK {
				resp.AddResponseError(status, http.StatusText(status))
				return resp
			}
			loc := ""
			if options != nil && options.Filter != nil {
				if m := filterRe.FindStringSubmatch(*options.Filter); m != nil {
					loc = m[1]
				}
			}
			if loc == "" {
				resp.AddResponseError(http.StatusBadRequest, "the test server needs a location filter")
				return resp
			}
			ps := pages[loc]
			if len(ps) == 0 {
				ps = [][]*armcompute.ResourceSKU{{}}
			}
			for _, p := range ps {
				resp.AddPage(http.StatusOK, armcompute.ResourceSKUsClientListResponse{ResourceSKUsResult: armcompute.ResourceSKUsResult{Value: p}}, nil)
			}
			return resp
		},
	}
	return &arm.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: fake.NewResourceSKUsServerTransport(srv)}}
}

// Credential is the SDK's fake token credential.
func Credential() azcore.TokenCredential { return &azfake.TokenCredential{} }
