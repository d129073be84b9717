package trusteepolicy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"

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
			v.errorf(v.firstRule(AllowRule).Location, "allow is undefined for %s: add `default allow := false`", s.what)
		default:
			b, ok := value.(bool)
			switch {
			case !ok:
				v.errorf(v.ruleWithValue(AllowRule, value).Location, "allow must be a boolean, but for %s it is %s: KBS denies every request whose allow is not the boolean true", s.what, jsonText(value))
			case b && !s.release:
				v.errorf(v.ruleWithValue(AllowRule, value).Location, "allow is true for %s: KBS would release secrets to a pod VM that did not fully attest; require every submod's \"ear.status\" to be \"affirming\"", s.what)
			}
		}
	}
}

// hexOf is a hex string of n bytes, each b: sample evidence and reference values.
func hexOf(b byte, n int) string { return strings.Repeat(fmt.Sprintf("%02x", b), n) }

// vtpmPCRs are the PCRs of a sample Azure confidential VM, pcr00 to pcr23; PCR8 binds init-data.
func vtpmPCRs() map[string]any {
	pcrs := map[string]any{}
	for i := range 24 {
		pcrs[fmt.Sprintf("pcr%02d", i)] = hexOf(byte(i), 32)
	}
	return pcrs
}

// attestationSample is evidence the attestation policy is evaluated for, with the reference values Trustee
// holds at the time.
type attestationSample struct {
	what  string
	input map[string]any
	refs  map[string]any
}

func attestationSamples() []attestationSample {
	pcrs := vtpmPCRs()
	// evidence is the input of one TEE: its claims under its name, and the init-data and runtime-data
	// claims beside them.
	evidence := func(tee string, claims map[string]any, initData string) map[string]any {
		return map[string]any{
			tee:                   claims,
			"init_data":           initData,
			"init_data_claims":    map[string]any{},
			"report_data":         hexOf(0xaa, 64),
			"runtime_data_claims": map[string]any{},
		}
	}
	return []attestationSample{
		{
			what:  "an Azure SEV-SNP confidential VM whose PCR8 and pod VM PCRs are registered",
			input: evidence("az-snp-vtpm", map[string]any{"tpm": pcrs, "report_data": hexOf(0xaa, 64)}, ""),
			refs: map[string]any{
				RVInitDataAzurePCR8: []any{pcrs["pcr08"]},
				RVPodVMPCRs:         map[string]any{"pcr03": []any{pcrs["pcr03"]}, "pcr11": []any{pcrs["pcr11"]}},
			},
		},
		{
			what:  "an Azure TDX confidential VM with no reference values registered",
			input: evidence("az-tdx-vtpm", map[string]any{"tpm": pcrs, "quote": map[string]any{"body": map[string]any{"mr_td": hexOf(0x5d, 48)}}}, ""),
			refs:  map[string]any{},
		},
		{
			what:  "a bare-metal SEV-SNP pod VM whose HOST_DATA and launch measurement are registered",
			input: evidence("snp", map[string]any{"measurement": hexOf(0x6b, 48), "reported_tcb_snp": 24}, hexOf(0x9a, 32)),
			refs: map[string]any{
				RVInitDataSNPHostData:   []any{hexOf(0x9a, 32)},
				RVSNPLaunchMeasurements: []any{hexOf(0x6b, 48)},
			},
		},
		{
			what:  "a bare-metal TDX pod VM whose MRCONFIGID and MR_TD are not registered",
			input: evidence("tdx", map[string]any{"quote": map[string]any{"body": map[string]any{"mr_td": hexOf(0x7e, 48), "mr_config_id": hexOf(0x5c, 48)}}}, hexOf(0x5c, 48)),
			refs: map[string]any{
				RVInitDataTDXMRConfigID: []any{hexOf(0x01, 48)},
				RVTDXMRTD:               []any{hexOf(0x02, 48)},
			},
		},
		{
			what:  "evidence from the sample TEE (no hardware)",
			input: evidence("sample", map[string]any{"svn": "1", "report_data": hexOf(0xaa, 64)}, ""),
			refs:  map[string]any{RVInitDataAzurePCR8: []any{pcrs["pcr08"]}},
		},
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
			v.errorf(rule.Location, "trust_claims is undefined for %s: the attestation service fails the attestation; give every claim a default (`default hardware := 97`, ...)", s.what)
			continue
		}
		claims, ok := value.(map[string]any)
		if !ok {
			v.errorf(rule.Location, "trust_claims must be an object of AR4SI claims (%s), but for %s it is %s", strings.Join(ClaimNames, ", "), s.what, jsonText(value))
			continue
		}
		nonZero := false
		for _, key := range sortedKeys(claims) {
			if !slices.Contains(ClaimNames, key) {
				v.errorf(keyLoc(key), "trust_claims has the key %q, which is not an AR4SI claim: the attestation service fails every attestation; use only %s", key, strings.Join(ClaimNames, ", "))
				continue
			}
			n, ok := claimValue(claims[key])
			if !ok {
				v.errorf(keyLoc(key), "trust_claims[%q] must be an integer from 0 to %d, but for %s it is %s", key, MaxClaimValue, s.what, jsonText(claims[key]))
				nonZero = true // not a valid claim, but not a missing one either
				continue
			}
			nonZero = nonZero || n != 0
		}
		if !nonZero {
			v.errorf(rule.Location, "every claim of trust_claims is 0 for %s: the attestation service needs at least one claim that is not 0", s.what)
		}
		v.checkExtensions(ctx, c, s)
	}
}

// checkExtensions evaluates extensions, when the policy defines it, for one sample: it must be a list.
func (v *validator) checkExtensions(ctx context.Context, c *ast.Compiler, s attestationSample) {
	rule := v.firstRule(ExtensionsRule)
	if rule == nil {
		return
	}
	value, defined, err := evalRule(ctx, c, ExtensionsRule, s.input, map[string]any{}, s.refs)
	switch {
	case err != nil:
		v.evalError(rule, s.what, err)
	case !defined:
	default:
		if _, ok := value.([]any); !ok {
			v.errorf(v.ruleWithValue(ExtensionsRule, value).Location, "extensions must be a list of {\"name\", \"key\", \"value\"} objects (or `extensions := []`), but for %s it is %s", s.what, jsonText(value))
		}
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
		if ruleName(r) != TrustClaimsRule || r.Head.Value == nil {
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
