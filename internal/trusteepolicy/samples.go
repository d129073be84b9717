package trusteepolicy

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/cocogen/cocogen/internal/regocheck"
	"github.com/cocogen/cocogen/internal/regolimit"
)

// resourceRequest is what KBS v0.21 passes as data with a request for a secret.
var resourceRequest = map[string]any{
	"plugin":        "resource",
	"resource-path": []any{"default", "kbsres1", "key1"},
	"query":         map[string]any{},
}

// earToken is the claims of a verified EAR token with one submod per entry of statuses (name, ear.status), as
// KBS passes them to the resource policy.
func earToken(statuses ...[2]string) map[string]any {
	submods := map[string]any{}
	for _, s := range statuses {
		submods[s[0]] = map[string]any{
			"ear.status":                      s[1],
			"ear.trustworthiness-vector":      map[string]any{"executables": 3, "hardware": 2, "configuration": 2},
			"ear.veraison.annotated-evidence": map[string]any{},
		}
	}
	return map[string]any{
		"eat_profile":     "tag:github.com,2023:veraison/ear",
		"iat":             1767225600,
		"ear.verifier-id": map[string]any{"build": "attestation-service", "developer": "https://confidentialcontainers.org"},
		"submods":         submods,
	}
}

// checkAllow evaluates allow for an all-affirming token and for one with a warning submod.
func (v *validator) checkAllow(c *ast.Compiler) {
	ctx := regolimit.With(context.Background(), v.meter)
	samples := []struct {
		what    string
		token   map[string]any
		release bool // may allow
	}{
		{"a resource request with a token whose every submod is affirming", earToken([2]string{"cpu0", "affirming"}, [2]string{"gpu0", "affirming"}), true},
		{"a resource request with a token whose gpu0 submod is only warning", earToken([2]string{"cpu0", "affirming"}, [2]string{"gpu0", "warning"}), false},
	}
	for _, s := range samples {
		value, defined, err := evalRule(ctx, c, AllowRule, s.token, resourceRequest, nil)
		switch {
		case err != nil:
			v.evalError(v.firstRule(AllowRule), s.what, err)
		case !defined:
			v.Errorf(v.firstRule(AllowRule).Location, "allow is undefined for %s: add `default allow := false`", s.what)
		default:
			b, ok := value.(bool)
			switch {
			case !ok:
				v.Errorf(v.ruleWithValue(AllowRule, value).Location, "allow must be a boolean, but for %s it is %s: KBS denies every request whose allow is not the boolean true", s.what, jsonText(value))
			case b && !s.release:
				v.Errorf(v.ruleWithValue(AllowRule, value).Location, "allow is true for %s: KBS would release secrets to a pod VM that did not fully attest; require every submod's \"ear.status\" to be \"affirming\"", s.what)
			}
		}
	}
}

// hexOf is a hex string of n bytes, each b: sample evidence and reference values.
func hexOf(b byte, n int) string { return strings.Repeat(fmt.Sprintf("%02x", b), n) }

// attestationSample is evidence the attestation policy is evaluated for, with the reference values Trustee
// holds at the time.
type attestationSample struct {
	what  string
	input map[string]any
	refs  map[string]any
}

// sampleBinding is the init-data binding of the samples' guest.
var sampleBinding = Binding{AzurePCR8: hexOf(0x08, 32), SNPHostData: hexOf(0x9a, 32), TDXMRConfigID: hexOf(0x5c, 48)}

func attestationSamples() []attestationSample {
	profiles := func(b Binding) map[string]any { return map[string]any{"default": b.Value()} }
	other := Binding{AzurePCR8: hexOf(0x01, 32), SNPHostData: hexOf(0x01, 32), TDXMRConfigID: hexOf(0x01, 48)}
	guest := func(tee string, refs map[string]any) map[string]any {
		in, err := GuestEvidence(tee, sampleBinding, refs)
		if err != nil {
			panic(err) // the TEEs are fixed
		}
		return in
	}
	azure := map[string]any{
		RVInitDataProfiles: profiles(sampleBinding),
		RVPodVMPCRs:        map[string]any{"pcr03": []any{hexOf(0x03, 32)}, "pcr11": []any{hexOf(0x0b, 32)}},
		RVSNPMinimumTCB:    map[string]any{"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115},
	}
	snp := map[string]any{
		RVInitDataProfiles:      profiles(sampleBinding),
		RVSNPLaunchMeasurements: []any{hexOf(0x6b, 48)},
	}
	tdx := map[string]any{
		RVInitDataProfiles: profiles(other),
		RVTDXMRTD:          []any{hexOf(0x02, 48)},
		RVTDXTCBStatuses:   []any{"UpToDate"},
	}
	gpu := map[string]any{
		RVNVIDIADriverVersions:  []any{"550.90.07"},
		RVNVIDIAVBIOSVersions:   []any{"96.00.9f.00.01"},
		RVNVIDIAGPUMeasurements: map[string]any{"2": []any{hexOf(0x02, 48)}},
	}
	debugging := guest("az-snp-vtpm", nil)
	debugging["az-snp-vtpm"].(map[string]any)["policy_debug_allowed"] = "true"
	return []attestationSample{
		{what: "an Azure SEV-SNP confidential VM whose init-data, pod VM PCRs and firmware are registered", input: guest("az-snp-vtpm", azure), refs: azure},
		{what: "an Azure TDX confidential VM with no reference values registered", input: guest("az-tdx-vtpm", nil), refs: map[string]any{}},
		{what: "a bare-metal SEV-SNP pod VM whose HOST_DATA and launch measurement are registered", input: guest("snp", snp), refs: snp},
		{what: "a bare-metal TDX pod VM whose MRCONFIGID and MR_TD are not registered", input: guest("tdx", nil), refs: tdx},
		{
			what:  "evidence from the sample TEE (no hardware)",
			input: map[string]any{"sample": map[string]any{"svn": "1"}, "init_data": "", "init_data_claims": nil, "report_data": hexOf(0xaa, 64), "runtime_data_claims": map[string]any{}},
			refs:  azure,
		},
		{what: "an Azure SEV-SNP confidential VM that allows debugging, on any pod VM image", input: debugging, refs: map[string]any{RVInitDataProfiles: profiles(sampleBinding), RVPodVMUnpinned: true}},
		// The attestation service evaluates the GPU policy (default_gpu) for each GPU's evidence; cocogen mounts
		// the attestation policy there too on clusters with GPUs.
		{what: "an NVIDIA GPU whose driver, VBIOS and measurements are registered", input: GPUEvidence(gpu, false), refs: gpu},
		{what: "an NVIDIA GPU with no reference values registered", input: GPUEvidence(nil, false), refs: map[string]any{}},
		{what: "an NVIDIA GPU attested by NVIDIA's remote service, whose driver and VBIOS are registered", input: GPUEvidence(gpu, true), refs: gpu},
	}
}

// checkTrustClaims evaluates trust_claims and extensions for every attestation sample.
func (v *validator) checkTrustClaims(c *ast.Compiler) {
	ctx := regolimit.With(context.Background(), v.meter)
	rule := v.firstRule(TrustClaimsRule)
	keys := v.claimKeyLocations()
	keyLoc := func(key string) *ast.Location {
		if loc, ok := keys[key]; ok {
			return loc
		}
		return rule.Location
	}
	for _, s := range attestationSamples() {
		value, defined, err := evalRule(ctx, c, TrustClaimsRule, s.input, map[string]any{}, s.refs)
		switch {
		case err != nil:
			v.evalError(rule, s.what, err)
			continue
		case !defined:
			v.Errorf(rule.Location, "trust_claims is undefined for %s: the attestation service fails the attestation; give every claim a default (`default hardware := 97`, ...)", s.what)
			continue
		}
		claims, ok := value.(map[string]any)
		if !ok {
			v.Errorf(rule.Location, "trust_claims must be an object of AR4SI claims (%s), but for %s it is %s", strings.Join(ClaimNames, ", "), s.what, jsonText(value))
			continue
		}
		nonZero := false
		for _, key := range sortedKeys(claims) {
			if !slices.Contains(ClaimNames, key) {
				v.Errorf(keyLoc(key), "trust_claims has the key %q, which is not an AR4SI claim: the attestation service fails every attestation; use only %s", key, strings.Join(ClaimNames, ", "))
				continue
			}
			n, ok := claimValue(claims[key])
			if !ok {
				v.Errorf(keyLoc(key), "trust_claims[%q] must be an integer from 0 to %d, but for %s it is %s", key, MaxClaimValue, s.what, jsonText(claims[key]))
				nonZero = true // not a valid claim, but not a missing one either
				continue
			}
			nonZero = nonZero || n != 0
		}
		if !nonZero {
			v.Errorf(rule.Location, "every claim of trust_claims is 0 for %s: the attestation service needs at least one claim that is not 0", s.what)
		}
		v.checkExtensions(ctx, c, s)
	}
}

// checkExtensions evaluates extensions, when the policy defines it, for one sample: it must be a list of
// {"name": string, "key": integer, "value": JSON}, with no name or key twice, which the attestation service
// registers as claims of the token's submod (trustee v0.21.0 ear_token/broker.rs TokenExtension; a repeated
// name or key fails the attestation: veraison rust-ear src/extension.rs, register).
func (v *validator) checkExtensions(ctx context.Context, c *ast.Compiler, s attestationSample) {
	rule := v.firstRule(ExtensionsRule)
	if rule == nil {
		return
	}
	value, defined, err := evalRule(ctx, c, ExtensionsRule, s.input, map[string]any{}, s.refs)
	switch {
	case err != nil:
		v.evalError(rule, s.what, err)
		return
	case !defined:
		return
	}
	list, ok := value.([]any)
	if !ok {
		v.Errorf(v.ruleWithValue(ExtensionsRule, value).Location, "extensions must be a list of {\"name\", \"key\", \"value\"} objects (or `extensions := []`), but for %s it is %s", s.what, jsonText(value))
		return
	}
	names, keys := map[string]bool{}, map[int64]bool{}
	for i, e := range list {
		ext, ok := e.(map[string]any)
		name, _ := ext["name"].(string)
		num, _ := ext["key"].(json.Number)
		k, err := num.Int64()
		if !ok || name == "" || err != nil || k < math.MinInt32 || k > math.MaxInt32 || ext["value"] == nil || len(ext) != 3 {
			v.Errorf(rule.Location, "extensions[%d] must be {\"name\": string, \"key\": integer, \"value\": JSON other than null}, but for %s it is %s", i, s.what, jsonText(e))
			continue
		}
		if names[name] || keys[k] {
			v.Errorf(rule.Location, "extensions[%d] repeats the name %q or the key %d: the attestation service fails the attestation", i, name, k)
		}
		names[name], keys[k] = true, true
	}
}

// claimValue reads an AR4SI claim: an integer from 0 to MaxClaimValue.
func claimValue(value any) (int64, bool) {
	num, ok := value.(json.Number)
	if !ok {
		return 0, false
	}
	n, err := num.Int64()
	if err != nil || n < 0 || n > MaxClaimValue {
		return 0, false
	}
	return n, true
}

// claimKeyLocations finds where each key of trust_claims is written, when a rule gives it as an object
// literal: problems with a claim are shown there.
func (v *validator) claimKeyLocations() map[string]*ast.Location {
	locs := map[string]*ast.Location{}
	for _, r := range v.mod.Rules {
		if regocheck.RuleName(r) != TrustClaimsRule || r.Head.Value == nil {
			continue
		}
		obj, ok := r.Head.Value.Value.(ast.Object)
		if !ok {
			continue
		}
		obj.Foreach(func(k, _ *ast.Term) {
			if s, ok := k.Value.(ast.String); ok {
				if _, seen := locs[string(s)]; !seen {
					locs[string(s)] = k.Location
				}
			}
		})
	}
	return locs
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
