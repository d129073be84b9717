// Package trusteepolicy checks and renders the two Rego policies Trustee evaluates for Confidential
// Containers: the KBS resource policy, which decides whether the key broker releases a secret to an attested
// pod VM (data.policy.allow), and the attestation policy of Trustee's built-in attestation service, which
// turns verified evidence into the AR4SI trust claims of an EAR token (data.policy.trust_claims and
// data.policy.extensions).
//
// Both policies declare `package policy`. Their sources in Git declare a sub-package (`package
// policy.resource`, `package policy.attestation`) so that OPA can load them together for tests; Render sets
// the package clause back to `package policy`. Validate checks a source the way Trustee will use it:
// compiled against the builtins of regorus, Trustee's Rego engine, plus Trustee's query_reference_value, and
// evaluated for representative requests and evidence.
package trusteepolicy

import (
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/types"

	"github.com/cocogen/cocogen/internal/regocheck"
)

// Package is the package both Trustee policies declare once rendered: KBS queries data.policy.allow, the
// attestation service data.policy.trust_claims and data.policy.extensions.
const Package = "policy"

// Kind says which of the two Trustee policies a file is.
type Kind int

// Kinds of Trustee policy.
const (
	// Resource is the KBS resource policy (Trustee mounts it as resource-policy.rego): data.policy.allow
	// decides whether a secret is released.
	Resource Kind = iota + 1
	// Attestation is the attestation service's policy (mounted as default_cpu.rego):
	// data.policy.trust_claims gives the AR4SI trust claims of the EAR token.
	Attestation
)

// Kinds lists the valid kinds.
var Kinds = []Kind{Resource, Attestation}

// String names the kind as cocogen's messages do: "resource" or "attestation".
func (k Kind) String() string {
	switch k {
	case Resource:
		return "resource"
	case Attestation:
		return "attestation"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Rules the two services query.
const (
	// AllowRule is the rule KBS evaluates for each request: true releases, anything else denies.
	AllowRule = "allow"
	// TrustClaimsRule is the rule the attestation service evaluates for the token's trustworthiness vector.
	TrustClaimsRule = "trust_claims"
	// ExtensionsRule is the optional rule the attestation service reads for extra token claims: a list of
	// {name, key, value} objects.
	ExtensionsRule = "extensions"
)

// ClaimNames are the keys trust_claims may have: the AR4SI trustworthiness claims. Trustee fails the
// attestation on any other key.
var ClaimNames = []string{
	"executables",
	"hardware",
	"configuration",
	"file-system",
	"instance-identity",
	"runtime-opaque",
	"storage-opaque",
	"sourced-data",
}

// MaxClaimValue is the largest AR4SI claim value; 0 means no claim, 2 and 3 affirming, 32 to 95 warning and
// 96 to 127 contraindicated.
const MaxClaimValue = 127

// Ids of the reference values the attestation policy asks Trustee for with query_reference_value.
const (
	// RVInitDataProfiles holds, for every init-data profile in use, how its init-data binds to the evidence:
	// {"<profile>": {"azure_pcr8": hex, "snp_host_data": hex, "tdx_mrconfigid": hex}} (see the Binding*
	// fields). The attestation policy recognises the profile a pod VM booted with by it.
	RVInitDataProfiles = "cocogen_initdata_profiles"
	// RVInitDataPrevious holds, for a profile whose init-data changed, the bindings of the init-data it
	// rendered before, each with the time until which pods started with it keep attesting as the profile:
	// {"<profile>": [{"azure_pcr8": hex, "snp_host_data": hex, "tdx_mrconfigid": hex, "until":
	// "YYYY-MM-DDTHH:MM:SSZ"}, ...]} (global.coco.trustee.referenceValues.previous). The attestation policy
	// compares until with the time of the attestation, so the window ends in Trustee, not when Git changes.
	RVInitDataPrevious = "cocogen_initdata_previous"
	// RVPodVMPCRs holds the vTPM PCRs of the pod VM image on Azure, as an object from PCR name to the
	// values it may hold: {"pcr03": ["<hex>", ...], "pcr11": [...]}. It is registered only when the values pin
	// PCRs.
	RVPodVMPCRs = "cocogen_pod_vm_pcrs"
	// RVPodVMUnpinned is true when the values accept any pod VM image (acceptUnpinnedPodVM).
	RVPodVMUnpinned = "cocogen_pod_vm_unpinned"
	// RVSNPLaunchMeasurements lists the SEV-SNP launch measurements of the pod VM on bare metal.
	RVSNPLaunchMeasurements = "cocogen_snp_launch_measurements"
	// RVSNPMinimumTCB holds the lowest SEV-SNP firmware levels: {"bootloader": n, "microcode": n, "snp": n,
	// "tee": n}.
	RVSNPMinimumTCB = "cocogen_snp_minimum_tcb"
	// RVTDXMinimumTCBDate is the oldest TDX TCB date accepted (YYYY-MM-DDTHH:MM:SSZ).
	RVTDXMinimumTCBDate = "cocogen_tdx_minimum_tcb_date"
	// RVTDXMRTD lists the TDX MR_TD values of the pod VM on bare metal.
	RVTDXMRTD = "cocogen_tdx_mr_td"
	// RVTDXRTMR1 and RVTDXRTMR2 list the TDX RTMR 1 (kernel, initrd) and RTMR 2 (kernel command line) values
	// of the pod VM on bare metal; each is checked only when it is registered.
	RVTDXRTMR1 = "cocogen_tdx_rtmr_1"
	RVTDXRTMR2 = "cocogen_tdx_rtmr_2"
	// RVTDXTCBStatuses lists the TDX TCB statuses accepted, e.g. ["UpToDate"].
	RVTDXTCBStatuses = "cocogen_tdx_tcb_statuses"
	// RVNVIDIADriverVersions and RVNVIDIAVBIOSVersions list the NVIDIA driver and VBIOS versions a GPU may
	// report (its evidence's config.driver_version and config.vbios_version).
	RVNVIDIADriverVersions = "cocogen_nvidia_driver_versions"
	RVNVIDIAVBIOSVersions  = "cocogen_nvidia_vbios_versions"
	// RVNVIDIAGPUMeasurements pins a GPU's measurements by SPDM measurement index: {"2": ["<hex>", ...], ...}.
	RVNVIDIAGPUMeasurements = "cocogen_nvidia_gpu_measurements"
)

// ReferenceValueIDs lists every reference value id the attestation policy queries, sorted.
var ReferenceValueIDs = []string{
	RVInitDataPrevious,
	RVInitDataProfiles,
	RVNVIDIADriverVersions,
	RVNVIDIAGPUMeasurements,
	RVNVIDIAVBIOSVersions,
	RVPodVMPCRs,
	RVPodVMUnpinned,
	RVSNPLaunchMeasurements,
	RVSNPMinimumTCB,
	RVTDXMinimumTCBDate,
	RVTDXMRTD,
	RVTDXRTMR1,
	RVTDXRTMR2,
	RVTDXTCBStatuses,
}

// The fields of a profile's entry in RVInitDataProfiles: the init-data binding in each TEE's evidence.
const (
	// BindingAzurePCR8 is PCR 8 of an Azure confidential VM's vTPM: sha256 of 32 zero bytes and the digest.
	BindingAzurePCR8 = "azure_pcr8"
	// BindingSNPHostData is the HOST_DATA of a bare-metal SEV-SNP report.
	BindingSNPHostData = "snp_host_data"
	// BindingTDXMRConfigID is the MRCONFIGID of a bare-metal TDX quote.
	BindingTDXMRConfigID = "tdx_mrconfigid"
	// PreviousUntil is the field of an RVInitDataPrevious entry that says until when it attests.
	PreviousUntil = "until"
)

// ProfileClaim is the claim the attestation policy adds to the token's cpu0 submod (an EAR extension) with the
// init-data profile the pod VM booted with; the resource policy compares it with the profiles a resource
// names.
const ProfileClaim = "cocogen.initdata-profile"

// QueryReferenceValue declares Trustee's custom function query_reference_value(id) for OPA: it takes a
// reference value id and returns the value registered under it (any JSON), or null when none is. Add it to
// the builtins of a compiler's capabilities to compile an attestation policy, or its tests, with OPA.
var QueryReferenceValue = &ast.Builtin{
	Name:        "query_reference_value",
	Description: "Returns the reference value Trustee's reference value provider holds under id, or null when it has none.",
	Decl: types.NewFunction(
		types.Args(types.Named("id", types.S).Description("reference value id")),
		types.Named("value", types.A).Description("the registered value, or null"),
	),
}

// Capabilities returns what a Trustee policy may use: the builtins, keywords and features of regorus (regocheck.RegorusJSON) plus QueryReferenceValue and TimeBuiltins. The result is the
// caller's own copy.
func Capabilities() (*ast.Capabilities, error) {
	c, err := regocheck.Regorus()
	if err != nil {
		return nil, err
	}
	c.Builtins = append(c.Builtins, QueryReferenceValue)
	c.Builtins = append(c.Builtins, TimeBuiltins...)
	return c, nil
}

// TimeBuiltins are the time builtins a Trustee policy may use beyond the kata agent's: Trustee builds regorus
// with its time feature (trustee v0.21.0 Cargo.toml: regorus 0.10.1, features regex, base64, time, std), which
// the kata agent's build leaves out; regorus 0.10.1 src/builtins/time.rs registers time.now_ns and
// time.parse_rfc3339_ns among others. The attestation policy ends the window of previous init-data with them.
var TimeBuiltins = []*ast.Builtin{ast.NowNanos, ast.ParseRFC3339Nanos}

// policiesDir is the directory name that marks Trustee policies (policies/trustee).
const policiesDir = "trustee"

// IsPolicy reports whether mod, read from the file name, is a Trustee policy: it declares package policy or
// a sub-package policy.<name>, or the file lies in a directory named trustee. Test files are the caller's to
// leave out.
func IsPolicy(name string, mod *ast.Module) bool {
	if mod != nil && mod.Package != nil && isPolicyPackage(mod.Package.Path) {
		return true
	}
	return path.Base(path.Dir(strings.ReplaceAll(name, `\`, "/"))) == policiesDir
}

// isPolicyPackage reports whether p is data.policy or data.policy.<name>.
func isPolicyPackage(p ast.Ref) bool {
	if len(p) < 2 || len(p) > 3 || !p[0].Equal(ast.DefaultRootDocument) || !p[1].Equal(ast.StringTerm(Package)) {
		return false
	}
	if len(p) == 3 {
		_, ok := p[2].Value.(ast.String)
		return ok
	}
	return true
}

// File names that say which policy a file is: cocogen's sources and the names Trustee mounts them under.
var kindByFile = map[string]Kind{
	"resource.rego":        Resource,
	"resource-policy.rego": Resource,
	"attestation.rego":     Attestation,
	"default_cpu.rego":     Attestation,
}

// KindOf tells which Trustee policy mod, read from the file name, is: by its file name (resource.rego,
// attestation.rego, or the names Trustee mounts them under, resource-policy.rego and default_cpu.rego), or
// else by the rule it defines (allow or trust_claims). The error says how to make it unambiguous.
func KindOf(name string, mod *ast.Module) (Kind, error) {
	if k, ok := kindByFile[path.Base(strings.ReplaceAll(name, `\`, "/"))]; ok {
		return k, nil
	}
	var kinds []Kind
	if mod != nil {
		if definesRule(mod, AllowRule) {
			kinds = append(kinds, Resource)
		}
		if definesRule(mod, TrustClaimsRule) {
			kinds = append(kinds, Attestation)
		}
	}
	if len(kinds) == 1 {
		return kinds[0], nil
	}
	why := "defines neither allow nor trust_claims"
	if len(kinds) > 1 {
		why = "defines both allow and trust_claims"
	}
	return 0, fmt.Errorf("cannot tell whether this is the KBS resource policy or the attestation policy: it %s; name it resource.rego or attestation.rego", why)
}

// definesRule reports whether mod has a rule whose name is name.
func definesRule(mod *ast.Module, name string) bool {
	return slices.ContainsFunc(mod.Rules, func(r *ast.Rule) bool { return regocheck.RuleName(r) == name })
}
