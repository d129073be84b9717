package trusteepolicy

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// Appraisal is what Trustee 0.21's attestation service makes of one TEE's evidence under an attestation
// policy: the AR4SI trust vector, the status it implies and the extensions, assembled into the EAR submod the
// token carries (attestation-service/src/ear_token/broker.rs, issue).
type Appraisal struct {
	// TrustVector has a value for each of ClaimNames.
	TrustVector map[string]int64
	// Status is the worst tier of the vector: none, affirming, warning or contraindicated.
	Status string
	// Extensions are the policy's {name, key, value} list.
	Extensions []Extension
	// Submod is the token's submod for the TEE: ear.status, ear.trustworthiness-vector,
	// ear.appraisal-policy-id, ear.veraison.annotated-evidence and each extension by name.
	Submod map[string]any
}

// Extension is one claim the attestation policy adds to the token.
type Extension struct {
	Name  string `json:"name"`
	Key   int64  `json:"key"`
	Value any    `json:"value"`
}

// Tier names the AR4SI tier of a claim value (veraison rust-ear src/trust/claim.rs, TrustClaim::tier):
// -1 to 1 none, -32 to 31 affirming, -96 to 95 warning, otherwise contraindicated.
func Tier(v int64) string {
	switch {
	case v >= -1 && v <= 1:
		return "none"
	case v >= -32 && v < 32:
		return "affirming"
	case v >= -96 && v < 96:
		return "warning"
	}
	return "contraindicated"
}

var tierOrder = []string{"none", "affirming", "warning", "contraindicated"}

// policyID is the policy id the KBS asks the attestation service for; the token's submods name it.
const policyID = "default"

// Attest runs the attestation policy src (as Trustee loads it: package policy) for input, the attestation
// service's input for one TEE (see GuestEvidence), with refs as the reference values query_reference_value
// answers from. It fails as the attestation service would: on an evaluation error, a trust_claims that is
// not an object of AR4SI claims with integer values, no claim set, or extensions it cannot register.
func Attest(ctx context.Context, name string, src []byte, input map[string]any, refs map[string]any) (*Appraisal, error) {
	c, err := compileTrustee(name, src)
	if err != nil {
		return nil, err
	}
	value, defined, err := evalRule(ctx, c, TrustClaimsRule, input, map[string]any{}, refs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TrustClaimsRule, err)
	}
	claims, ok := value.(map[string]any)
	if !defined || !ok {
		return nil, fmt.Errorf("%s is %s, not an object of AR4SI claims: the attestation service fails the attestation", TrustClaimsRule, jsonText(value))
	}
	a := &Appraisal{TrustVector: map[string]int64{}, Status: "none"}
	anySet := false
	for _, k := range sortedKeys(claims) {
		if !slices.Contains(ClaimNames, k) {
			return nil, fmt.Errorf("%s has the key %q, which is not an AR4SI claim: the attestation service fails the attestation", TrustClaimsRule, k)
		}
		n, ok := claimValue(claims[k])
		if !ok {
			return nil, fmt.Errorf("%s[%q] is %s, not an integer from 0 to %d", TrustClaimsRule, k, jsonText(claims[k]), MaxClaimValue)
		}
		a.TrustVector[k] = n
		anySet = anySet || n != 0
		if t := Tier(n); slices.Index(tierOrder, t) > slices.Index(tierOrder, a.Status) {
			a.Status = t
		}
	}
	if !anySet {
		return nil, fmt.Errorf("every claim of %s is 0: the attestation service fails the attestation", TrustClaimsRule)
	}
	ext, defined, err := evalRule(ctx, c, ExtensionsRule, input, map[string]any{}, refs)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ExtensionsRule, err)
	}
	if defined {
		raw, _ := json.Marshal(ext)
		dec := json.NewDecoder(strings.NewReader(string(raw)))
		dec.UseNumber()
		if err := dec.Decode(&a.Extensions); err != nil {
			return nil, fmt.Errorf("%s is %s, not a list of {name, key, value}: the attestation service fails the attestation", ExtensionsRule, jsonText(ext))
		}
	}
	vector := map[string]any{}
	for k, v := range a.TrustVector {
		vector[k] = v
	}
	a.Submod = map[string]any{
		"ear.status":                      a.Status,
		"ear.trustworthiness-vector":      vector,
		"ear.appraisal-policy-id":         policyID,
		"ear.veraison.annotated-evidence": input,
	}
	seen := map[string]bool{}
	for _, e := range a.Extensions {
		if e.Name == "" || seen[e.Name] || e.Value == nil {
			return nil, fmt.Errorf("%s: extension %q is unnamed, repeated or null: the attestation service fails the attestation", ExtensionsRule, e.Name)
		}
		seen[e.Name] = true
		a.Submod[e.Name] = e.Value
	}
	return a, nil
}

// Token is the claims of the EAR token the attestation service issues for one CPU appraisal and the
// appraisals of the pod VM's GPUs, as KBS passes them to the resource policy after verifying the token
// (kbs/src/api_server.rs): the CPU's submod is cpu0, the GPUs' gpu0, gpu1, ..., each device class numbered
// from 0 (attestation-service/src/ear_token/broker.rs, issue). The times are fixed, so that the same inputs
// give the same claims.
func Token(a *Appraisal, gpus ...*Appraisal) map[string]any {
	submods := map[string]any{"cpu0": a.Submod}
	for i, g := range gpus {
		submods[fmt.Sprintf("gpu%d", i)] = g.Submod
	}
	return map[string]any{
		"eat_profile":     "tag:github.com,2023:veraison/ear",
		"iat":             json.Number("1767225600"),
		"exp":             json.Number("1767225900"),
		"iss":             "CoCo-Attestation-Service",
		"ear.verifier-id": map[string]any{"build": "attestation-service 0.21.0", "developer": "https://confidentialcontainers.org"},
		"submods":         submods,
	}
}

// Release is what the KBS resource policy decides for a resource request with a token, and what its
// explaining rules say: whether every submod is affirming, the profile the token names and the profiles
// that may fetch the resource. Those rules are the built-in policy's (resource.rego); a policy without them
// leaves them empty.
type Release struct {
	Released     bool
	AllAffirming bool
	Profile      string
	Readers      []string
	// Requires are the device classes whose evidence the resource needs besides the CPU's (required_classes).
	Requires []string
	// Served is false when the policy's resource_readers does not list the resource.
	Served bool
}

// Decide runs the resource policy src (as Trustee loads it) for a request of the resource plugin for path
// (repository, type, tag) with token as the verified token's claims.
func Decide(ctx context.Context, name string, src []byte, token map[string]any, path []string) (*Release, error) {
	c, err := compileTrustee(name, src)
	if err != nil {
		return nil, err
	}
	segments := make([]any, len(path))
	for i, s := range path {
		segments[i] = s
	}
	request := map[string]any{"plugin": "resource", "resource-path": segments, "query": map[string]any{}}
	value, defined, err := evalRule(ctx, c, AllowRule, token, request, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", AllowRule, err)
	}
	r := &Release{Released: defined && value == true}
	if v, ok, err := evalRule(ctx, c, "all_affirming", token, request, nil); err == nil && ok {
		r.AllAffirming = v == true
	}
	if v, ok, err := evalRule(ctx, c, "initdata_profile", token, request, nil); err == nil && ok {
		r.Profile, _ = v.(string)
	}
	if v, ok, err := evalRule(ctx, c, "required_classes", token, request, nil); err == nil && ok {
		if l, ok := v.([]any); ok {
			for _, x := range l {
				if s, ok := x.(string); ok {
					r.Requires = append(r.Requires, s)
				}
			}
		}
	}
	if v, ok, err := evalRule(ctx, c, "readers", token, request, nil); err == nil && ok {
		r.Served = true
		if l, ok := v.([]any); ok {
			for _, p := range l {
				if s, ok := p.(string); ok {
					r.Readers = append(r.Readers, s)
				}
			}
		}
	}
	return r, nil
}

// compileTrustee compiles a Trustee policy with what Trustee's engine accepts.
func compileTrustee(name string, src []byte) (*ast.Compiler, error) {
	caps, err := Capabilities()
	if err != nil {
		return nil, err
	}
	mod, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1, Capabilities: caps})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := ast.NewCompiler().WithCapabilities(caps)
	if c.Compile(map[string]*ast.Module{name: mod}); c.Failed() {
		return nil, fmt.Errorf("%s: %w", name, c.Errors)
	}
	return c, nil
}
