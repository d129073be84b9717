package trusteepolicy

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/regocheck"
)

const (
	resourcePolicy    = "../../policies/trustee/resource.rego"
	attestationPolicy = "../../policies/trustee/attestation.rego"
)

func readPolicy(t *testing.T, name string) []byte {
	t.Helper()
	src, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// TestValidateRepositoryPolicies checks the policies cocogen ships: not a single diagnostic, warnings
// included.
func TestValidateRepositoryPolicies(t *testing.T) {
	for _, p := range []struct {
		name string
		kind Kind
	}{{resourcePolicy, Resource}, {attestationPolicy, Attestation}} {
		t.Run(p.kind.String(), func(t *testing.T) {
			for _, d := range Validate(p.name, readPolicy(t, p.name), p.kind).Sorted() {
				t.Errorf("%s", d)
			}
		})
	}
}

// TestValidateRenderedPolicies checks the policies as Trustee receives them, with package policy.
func TestValidateRenderedPolicies(t *testing.T) {
	for _, p := range []struct {
		name string
		kind Kind
	}{{resourcePolicy, Resource}, {attestationPolicy, Attestation}} {
		out, err := Render(readPolicy(t, p.name))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(out), "\npackage policy\n") {
			t.Errorf("%s: rendered without `package policy`", p.name)
		}
		for _, d := range Validate("rendered.rego", out, p.kind).Sorted() {
			t.Errorf("%s", d)
		}
	}
}

// TestRepositoryPolicyVerdicts evaluates the repository policies for the validator's samples, with the Go
// implementation of query_reference_value that Validate uses.
func TestRepositoryPolicyVerdicts(t *testing.T) {
	ctx := context.Background()
	compile := func(name string) *ast.Compiler {
		t.Helper()
		src, err := Render(readPolicy(t, name))
		if err != nil {
			t.Fatal(err)
		}
		return compileSource(t, name, src)
	}

	att := compile(attestationPolicy)
	want := []map[string]int64{
		{"hardware": 2, "configuration": 2, "executables": 3},    // Azure SNP, everything registered
		{"hardware": 97, "configuration": 36, "executables": 33}, // Azure TDX, nothing registered (no TCB status accepted)
		{"hardware": 2, "configuration": 2, "executables": 3},    // SNP, registered
		{"hardware": 2, "configuration": 96, "executables": 33},  // TDX, other values registered
		{"hardware": 97, "configuration": 36, "executables": 33}, // the sample TEE
		{"hardware": 97, "configuration": 2, "executables": 0},   // Azure SNP with debugging on, unpinned pod VM
		{"hardware": 2, "configuration": 2, "executables": 3},    // a GPU whose versions and measurements are registered
		{"hardware": 2, "configuration": 36, "executables": 0},   // a GPU with nothing registered
		{"hardware": 2, "configuration": 2, "executables": 3},    // a GPU that NRAS attested, versions registered
	}
	wantProfile := []string{"default", "", "default", "", "", "default", "", "", ""}
	samples := attestationSamples()
	if len(samples) != len(want) {
		t.Fatalf("%d samples, %d expectations", len(samples), len(want))
	}
	for i, s := range samples {
		value, defined, err := evalRule(ctx, att, TrustClaimsRule, s.input, map[string]any{}, s.refs)
		if err != nil || !defined {
			t.Fatalf("%s: %v (defined %v)", s.what, err, defined)
		}
		claims := value.(map[string]any)
		if got := sortedKeys(claims); !slices.Equal(got, slices.Sorted(slices.Values(ClaimNames))) {
			t.Errorf("%s: keys %v, want %v", s.what, got, ClaimNames)
		}
		for k, w := range want[i] {
			if n, err := claims[k].(json.Number).Int64(); err != nil || n != w {
				t.Errorf("%s: %s = %v, want %d", s.what, k, claims[k], w)
			}
		}
		ext, _, err := evalRule(ctx, att, ExtensionsRule, s.input, map[string]any{}, s.refs)
		got, _ := json.Marshal(ext)
		want := `[]`
		if wantProfile[i] != "" {
			want = `[{"key":-70100,"name":"cocogen.initdata-profile","value":"` + wantProfile[i] + `"}]`
		}
		if err != nil || string(got) != want {
			t.Errorf("%s: extensions %s (%v), want %s", s.what, got, err, want)
		}
	}

	// The source releases nothing (its resource_readers is empty); rendered with readers, it releases
	// default/kbsres1/key1 to the default profile only.
	for _, tc := range []struct {
		readers map[string][]string
		token   map[string]any
		data    map[string]any
		want    bool
	}{
		{nil, withProfile(earToken([2]string{"cpu0", "affirming"}), "default"), resourceRequest, false},
		{kbsres1Readers, withProfile(earToken([2]string{"cpu0", "affirming"}), "default"), resourceRequest, true},
		{kbsres1Readers, withProfile(earToken([2]string{"cpu0", "affirming"}), "debug"), resourceRequest, false},
		{kbsres1Readers, earToken([2]string{"cpu0", "affirming"}), resourceRequest, false},
		{kbsres1Readers, withProfile(earToken([2]string{"cpu0", "affirming"}, [2]string{"gpu0", "warning"}), "default"), resourceRequest, false},
		{kbsres1Readers, earToken(), resourceRequest, false},
		{kbsres1Readers, withProfile(earToken([2]string{"cpu0", "affirming"}), "default"), map[string]any{"plugin": "sample"}, false},
		{kbsres1Readers, withProfile(earToken([2]string{"cpu0", "affirming"}), "default"), map[string]any{"plugin": "resource", "resource-path": []any{"default", "kbsres1", "key2"}}, false},
		{kbsres1Readers, withProfile(earToken([2]string{"cpu0", "affirming"}), "default"), map[string]any{"plugin": "resource", "resource-path": []any{"default/kbsres1", "key1"}}, false},
	} {
		src, _, err := RenderResource(readPolicy(t, resourcePolicy), tc.readers, nil)
		if err != nil {
			t.Fatal(err)
		}
		res := compileSource(t, resourcePolicy, src)
		value, defined, err := evalRule(ctx, res, AllowRule, tc.token, tc.data, nil)
		if err != nil || !defined || value != tc.want {
			t.Errorf("allow for %v with %v = %v (defined %v, %v), want %v", tc.token["submods"], tc.data, value, defined, err, tc.want)
		}
	}
}

var kbsres1Readers = map[string][]string{"default/kbsres1/key1": {"default"}, "default/kbsres1/key2": {"debug"}}

// withProfile is token with the init-data profile claim the attestation policy adds to cpu0.
func withProfile(token map[string]any, profile string) map[string]any {
	token["submods"].(map[string]any)["cpu0"].(map[string]any)[ProfileClaim] = profile
	return token
}

func compileSource(t *testing.T, name string, src []byte) *ast.Compiler {
	t.Helper()
	mod, err := ast.ParseModuleWithOpts(name, string(src), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	caps, err := Capabilities()
	if err != nil {
		t.Fatal(err)
	}
	c := ast.NewCompiler().WithCapabilities(caps)
	if c.Compile(map[string]*ast.Module{name: mod}); c.Failed() {
		t.Fatal(c.Errors)
	}
	return c
}

// TestAttestationPolicyReferenceValueIDs keeps ReferenceValueIDs, which the reference value generator
// registers, equal to the ids the attestation policy asks for.
func TestAttestationPolicyReferenceValueIDs(t *testing.T) {
	mod, err := ast.ParseModuleWithOpts(attestationPolicy, string(readPolicy(t, attestationPolicy)), ast.ParserOptions{RegoVersion: ast.RegoV1})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	ast.WalkTerms(mod, func(term *ast.Term) bool {
		if call, ok := term.Value.(ast.Call); ok && call[0].String() == QueryReferenceValue.Name {
			if s, ok := call[1].Value.(ast.String); ok {
				ids = append(ids, string(s))
			}
		}
		return false
	})
	// reference_list(id) and reference_object(id) pass their argument on; the ids reach them as literals.
	ast.WalkTerms(mod, func(term *ast.Term) bool {
		if call, ok := term.Value.(ast.Call); ok && (call[0].String() == "reference_list" || call[0].String() == "reference_object") {
			if s, ok := call[1].Value.(ast.String); ok {
				ids = append(ids, string(s))
			}
		}
		return false
	})
	slices.Sort(ids)
	ids = slices.Compact(ids)
	if !slices.Equal(ids, ReferenceValueIDs) {
		t.Errorf("the attestation policy asks for %v; ReferenceValueIDs is %v", ids, ReferenceValueIDs)
	}
	if !slices.IsSorted(ReferenceValueIDs) {
		t.Errorf("ReferenceValueIDs is not sorted: %v", ReferenceValueIDs)
	}
}

// errorsOf returns the error diagnostics of l as strings.
func errorsOf(l *diag.List) []string {
	var out []string
	for _, d := range l.Sorted() {
		if d.Severity == diag.Error {
			out = append(out, d.String())
		}
	}
	return out
}

// TestValidateBroken checks that each broken policy gets exactly the expected errors, each a prefix of one
// diagnostic, in order.
func TestValidateBroken(t *testing.T) {
	tests := []struct {
		name string
		kind Kind
		src  string
		want []string
	}{
		{
			name: "empty",
			kind: Resource,
			src:  "\n\n",
			want: []string{"p.rego:1:1: error: the policy is empty: the resource policy needs `package policy` and a rule allow"},
		},
		{
			name: "wrong package",
			kind: Resource,
			src:  "# KBS\npackage kbs\n\ndefault allow := false\n",
			want: []string{"p.rego:2:1: error: the package must be policy (or policy.<name> in the source, which cocogen renders as policy): Trustee queries data.policy.allow; this policy declares package kbs"},
		},
		{
			name: "agent policy package",
			kind: Attestation,
			src:  "package agent_policy\n\ndefault trust_claims := {}\n",
			want: []string{"p.rego:1:1: error: the package must be policy (or policy.<name> in the source, which cocogen renders as policy): Trustee queries data.policy.trust_claims; this policy declares package agent_policy"},
		},
		{
			name: "sub-package two levels deep",
			kind: Resource,
			src:  "package policy.kbs.resource\n\ndefault allow := false\n",
			want: []string{"p.rego:1:1: error: the package must be policy"},
		},
		{
			name: "sub-package in brackets",
			kind: Resource,
			src:  "package policy[\"resource\"]\n\ndefault allow := false\n",
			want: []string{"p.rego:1:1: error: line 1: \"package policy[\\\"resource\\\"]\": the package must be `package policy` or `package policy.<name>`, on one line"},
		},
		{
			name: "parse error",
			kind: Resource,
			src:  "package policy\n\nallow if {\n\tinput.x ==\n}\n",
			want: []string{"p.rego:5:1: error: unexpected } token"},
		},
		{
			name: "allow not defined",
			kind: Resource,
			src:  "package policy.resource\n\ndefault deny := true\n",
			want: []string{"p.rego:1:1: error: allow is not defined: KBS would deny every request"},
		},
		{
			name: "allow not a boolean",
			kind: Resource,
			src:  "package policy\n\ndefault allow := false\n\nallow := \"yes\" if input.submods\n",
			want: []string{
				"p.rego:5:1: error: allow must be a boolean, but for a resource request with a token whose every submod is affirming it is \"yes\"",
				"p.rego:5:1: error: allow must be a boolean, but for a resource request with a token whose gpu0 submod is only warning it is \"yes\"",
			},
		},
		{
			name: "allow true for a warning token",
			kind: Resource,
			src:  "package policy\n\ndefault allow := false\n\nallow if {\n\tsome s in input.submods\n\ts[\"ear.status\"] == \"affirming\"\n}\n",
			want: []string{"p.rego:5:1: error: allow is true for a resource request with a token whose gpu0 submod is only warning: KBS would release secrets"},
		},
		{
			name: "allow undefined",
			kind: Resource,
			src:  "package policy\n\nallow if input.nothing\n",
			want: []string{
				"p.rego:3:1: error: allow is undefined for a resource request with a token whose every submod is affirming: add `default allow := false`",
				"p.rego:3:1: error: allow is undefined for a resource request with a token whose gpu0 submod is only warning",
			},
		},
		{
			name: "builtin regorus lacks",
			kind: Resource,
			src:  "package policy\n\ndefault allow := false\n\nallow if {\n\thttp.send({\"method\": \"get\", \"url\": \"https://example.com\"}).status_code == 200\n}\n",
			want: []string{"p.rego:6:2: error: builtin http.send is not available to Trustee: its Rego engine (regorus) does not implement it"},
		},
		{
			name: "undefined function",
			kind: Attestation,
			src:  "package policy\n\ndefault hardware := 97\n\nhardware := 2 if input.snp.measurement in reference_value(\"cocogen_snp_launch_measurements\")\n\ntrust_claims := {\"hardware\": hardware}\n",
			want: []string{"p.rego:5:43: error: undefined function reference_value: define it in the policy, or call a regorus builtin or query_reference_value(id)"},
		},
		{
			name: "query_reference_value with two arguments",
			kind: Attestation,
			src:  "package policy\n\ndefault hardware := 97\n\nhardware := 2 if input.snp.measurement in query_reference_value(\"a\", \"b\")\n\ntrust_claims := {\"hardware\": hardware}\n",
			want: []string{"p.rego:5:43: error: query_reference_value: arity mismatch"},
		},
		{
			name: "trust_claims not defined",
			kind: Attestation,
			src:  "package policy.attestation\n\ndefault hardware := 97\n",
			want: []string{"p.rego:1:1: error: trust_claims is not defined: the attestation service fails every attestation"},
		},
		{
			name: "unknown claim key",
			kind: Attestation,
			src:  "package policy\n\ntrust_claims := {\n\t\"hardware\": 97,\n\t\"executable\": 33,\n}\n",
			want: []string{"p.rego:5:2: error: trust_claims has the key \"executable\", which is not an AR4SI claim: the attestation service fails every attestation; use only executables, hardware,"},
		},
		{
			name: "claim not an integer",
			kind: Attestation,
			src:  "package policy\n\ndefault hardware := 97\n\nhardware := \"2\" if input.snp\n\ntrust_claims := {\n\t\"executables\": 33,\n\t\"hardware\": hardware,\n}\n",
			want: []string{"p.rego:9:2: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for a bare-metal SEV-SNP pod VM whose HOST_DATA and launch measurement are registered it is \"2\""},
		},
		{
			name: "claim out of range",
			kind: Attestation,
			src:  "package policy\n\ntrust_claims := {\"hardware\": 128}\n",
			want: []string{
				"p.rego:3:18: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for a bare-metal SEV-SNP",
				"p.rego:3:18: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for a bare-metal TDX",
				"p.rego:3:18: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for an Azure SEV-SNP",
				"p.rego:3:18: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for an Azure SEV-SNP",
				"p.rego:3:18: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for an Azure TDX",
				"p.rego:3:18: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for an NVIDIA GPU",
				"p.rego:3:18: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for an NVIDIA GPU",
				"p.rego:3:18: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for an NVIDIA GPU",
				"p.rego:3:18: error: trust_claims[\"hardware\"] must be an integer from 0 to 127, but for evidence from the sample TEE",
			},
		},
		{
			name: "every claim 0",
			kind: Attestation,
			src:  "package policy\n\ntrust_claims := {\"hardware\": 0, \"executables\": 0}\n",
			want: []string{
				"p.rego:3:1: error: every claim of trust_claims is 0 for a bare-metal SEV-SNP",
				"p.rego:3:1: error: every claim of trust_claims is 0 for a bare-metal TDX",
				"p.rego:3:1: error: every claim of trust_claims is 0 for an Azure SEV-SNP",
				"p.rego:3:1: error: every claim of trust_claims is 0 for an Azure SEV-SNP",
				"p.rego:3:1: error: every claim of trust_claims is 0 for an Azure TDX",
				"p.rego:3:1: error: every claim of trust_claims is 0 for an NVIDIA GPU",
				"p.rego:3:1: error: every claim of trust_claims is 0 for an NVIDIA GPU",
				"p.rego:3:1: error: every claim of trust_claims is 0 for an NVIDIA GPU",
				"p.rego:3:1: error: every claim of trust_claims is 0 for evidence from the sample TEE",
			},
		},
		{
			name: "trust_claims not an object",
			kind: Attestation,
			src:  "package policy\n\ntrust_claims := [2, 2]\n",
			want: []string{
				"p.rego:3:1: error: trust_claims must be an object of AR4SI claims",
				"p.rego:3:1: error: trust_claims must be an object of AR4SI claims",
				"p.rego:3:1: error: trust_claims must be an object of AR4SI claims",
				"p.rego:3:1: error: trust_claims must be an object of AR4SI claims",
				"p.rego:3:1: error: trust_claims must be an object of AR4SI claims",
				"p.rego:3:1: error: trust_claims must be an object of AR4SI claims",
				"p.rego:3:1: error: trust_claims must be an object of AR4SI claims",
				"p.rego:3:1: error: trust_claims must be an object of AR4SI claims",
				"p.rego:3:1: error: trust_claims must be an object of AR4SI claims",
			},
		},
		{
			name: "trust_claims undefined without TEE",
			kind: Attestation,
			src:  "package policy\n\ntrust_claims := {\"hardware\": 2} if input.snp\n",
			want: []string{
				"p.rego:3:1: error: trust_claims is undefined for a bare-metal TDX",
				"p.rego:3:1: error: trust_claims is undefined for an Azure SEV-SNP",
				"p.rego:3:1: error: trust_claims is undefined for an Azure SEV-SNP",
				"p.rego:3:1: error: trust_claims is undefined for an Azure TDX",
				"p.rego:3:1: error: trust_claims is undefined for an NVIDIA GPU",
				"p.rego:3:1: error: trust_claims is undefined for an NVIDIA GPU",
				"p.rego:3:1: error: trust_claims is undefined for an NVIDIA GPU",
				"p.rego:3:1: error: trust_claims is undefined for evidence from the sample TEE",
			},
		},
		{
			name: "conflicting complete rules",
			kind: Attestation,
			src:  "package policy\n\ndefault hardware := 97\n\nhardware := 2 if input.snp\n\nhardware := 3 if input.snp.measurement\n\ntrust_claims := {\"hardware\": hardware}\n",
			want: []string{"p.rego:7:1: error: trust_claims: evaluating it for a bare-metal SEV-SNP pod VM whose HOST_DATA and launch measurement are registered fails: rule data.policy.hardware produced conflicting values: 2 at p.rego:5 3 at p.rego:7; make the conditions of those rules exclude each other (or chain them with else)"},
		},
		{
			name: "extensions not a list",
			kind: Attestation,
			src:  "package policy\n\ntrust_claims := {\"hardware\": 97}\n\nextensions := {}\n",
			want: []string{
				"p.rego:5:1: error: extensions must be a list",
				"p.rego:5:1: error: extensions must be a list",
				"p.rego:5:1: error: extensions must be a list",
				"p.rego:5:1: error: extensions must be a list",
				"p.rego:5:1: error: extensions must be a list",
				"p.rego:5:1: error: extensions must be a list",
				"p.rego:5:1: error: extensions must be a list",
				"p.rego:5:1: error: extensions must be a list",
				"p.rego:5:1: error: extensions must be a list",
			},
		},
		{
			name: "extension without a name",
			kind: Attestation,
			src:  "package policy\n\ntrust_claims := {\"hardware\": 97}\n\nextensions := [{\"key\": -1, \"value\": \"x\"}] if input.snp\n",
			want: []string{"p.rego:5:1: error: extensions[0] must be {\"name\": string, \"key\": integer, \"value\": JSON other than null}, but for a bare-metal SEV-SNP"},
		},
		{
			name: "extension name twice",
			kind: Attestation,
			src:  "package policy\n\ntrust_claims := {\"hardware\": 97}\n\nextensions := [{\"name\": \"a\", \"key\": -1, \"value\": 1}, {\"name\": \"a\", \"key\": -2, \"value\": 2}] if input.tdx\n",
			want: []string{"p.rego:5:1: error: extensions[1] repeats the name \"a\" or the key -2: the attestation service fails the attestation"},
		},
		{
			name: "wrong kind",
			kind: Kind(7),
			src:  "package policy\n",
			want: []string{"p.rego: error: unknown Trustee policy kind Kind(7) (valid: resource, attestation)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := errorsOf(Validate("p.rego", []byte(tt.src), tt.kind))
			if len(got) != len(tt.want) {
				t.Fatalf("got %d errors, want %d:\n%s", len(got), len(tt.want), strings.Join(got, "\n"))
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tt.want[i]) {
					t.Errorf("error %d:\n got %s\nwant %s…", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestValidateWarnsAboutUnknownReferenceValue(t *testing.T) {
	src := "package policy\n\ndefault executables := 33\n\nexecutables := 3 if {\n\tinput.snp.measurement in query_reference_value(\"snp_measurement\")\n}\n\ntrust_claims := {\"executables\": executables}\n"
	l := Validate("p.rego", []byte(src), Attestation)
	ds := l.Sorted()
	if len(ds) != 1 || ds[0].Severity != diag.Warning || !strings.HasPrefix(ds[0].String(), `p.rego:6:49: warning: cocogen registers no reference value "snp_measurement"`) {
		t.Errorf("diagnostics: %v", ds)
	}
}

func TestKindOf(t *testing.T) {
	parse := func(src string) *ast.Module {
		t.Helper()
		mod, err := ast.ParseModuleWithOpts("x.rego", src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		return mod
	}
	allow := parse("package policy\ndefault allow := false\n")
	claims := parse("package policy\ntrust_claims := {}\n")
	both := parse("package policy\nallow := true\ntrust_claims := {}\n")
	for _, tt := range []struct {
		name string
		mod  *ast.Module
		want Kind
		err  string
	}{
		{"policies/trustee/resource.rego", claims, Resource, ""},
		{"policies/trustee/attestation.rego", allow, Attestation, ""},
		{"/etc/kbs/resource-policy.rego", nil, Resource, ""},
		{"policies/default_cpu.rego", nil, Attestation, ""},
		{"policies/trustee/kbs.rego", allow, Resource, ""},
		{"policies/trustee/as.rego", claims, Attestation, ""},
		{"policies/trustee/both.rego", both, 0, "defines both allow and trust_claims"},
		{"policies/trustee/lib.rego", parse("package policy.lib\nx := 1\n"), 0, "defines neither allow nor trust_claims"},
	} {
		got, err := KindOf(tt.name, tt.mod)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("KindOf(%s) = %v, %v; want %v, %q", tt.name, got, err, tt.want, tt.err)
		}
	}
}

func TestIsPolicy(t *testing.T) {
	for _, tt := range []struct {
		name, src string
		want      bool
	}{
		{"x/p.rego", "package policy\n", true},
		{"x/p.rego", "package policy.resource\n", true},
		{"policies/trustee/p.rego", "package other\n", true},
		{`policies\trustee\p.rego`, "package other\n", true},
		{"x/p.rego", "package policy.a.b\n", false},
		{"x/p.rego", "package policyx\n", false},
		{"policies/agent/p.rego", "package agent_policy\n", false},
	} {
		mod, err := ast.ParseModuleWithOpts(tt.name, tt.src, ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			t.Fatal(err)
		}
		if got := IsPolicy(tt.name, mod); got != tt.want {
			t.Errorf("IsPolicy(%s, %q) = %v, want %v", tt.name, tt.src, got, tt.want)
		}
	}
}

func TestCapabilities(t *testing.T) {
	caps, err := Capabilities()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, b := range caps.Builtins {
		names[b.Name] = true
	}
	if !names[QueryReferenceValue.Name] || !names["count"] || names["http.send"] {
		t.Errorf("capabilities: query_reference_value %v, count %v, http.send %v", names[QueryReferenceValue.Name], names["count"], names["http.send"])
	}
	again, err := Capabilities()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(again.Builtins); n != len(caps.Builtins) {
		t.Errorf("a second call has %d builtins, the first %d: query_reference_value was added twice", n, len(caps.Builtins))
	}
}

// FuzzValidate checks that Validate never panics and that every diagnostic names the file.
func FuzzValidate(f *testing.F) {
	f.Add([]byte("package policy\n\ndefault allow := false\n\nallow if input.submods\n"), true)
	f.Add([]byte("package policy\n\ntrust_claims := {\"hardware\": input.snp.x}\n\nextensions := input.e\n"), false)
	f.Add([]byte("package policy.x\n\nallow(x) := x\n\ntrust_claims[k] := 1 if some k in input\n"), false)
	f.Fuzz(func(t *testing.T, src []byte, resource bool) {
		kind := Attestation
		if resource {
			kind = Resource
		}
		for _, d := range Validate("f.rego", src, kind).Sorted() {
			if d.Pos.File != "f.rego" {
				t.Fatalf("diagnostic without the file: %s", d)
			}
		}
	})
}

// TestTimeBuiltinsAreTrusteesOnly: Trustee's regorus has its time builtins (the attestation policy ends the
// window of previous init-data with them); the kata agent's does not.
func TestTimeBuiltinsAreTrusteesOnly(t *testing.T) {
	src := []byte("package policy\n\ndefault allow := false\n\nallow if {\n\ttime.now_ns() < time.parse_rfc3339_ns(\"2027-01-01T00:00:00Z\")\n\tevery s in input.submods { s[\"ear.status\"] == \"affirming\" }\n\tcount(input.submods) > 0\n}\n")
	for _, x := range Validate("p.rego", src, Resource).Sorted() {
		if strings.Contains(x.Msg, "not available") {
			t.Errorf("Trustee: %s", x)
		}
	}
	agent, err := regocheck.Regorus()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range agent.Builtins {
		if strings.HasPrefix(b.Name, "time.") {
			t.Errorf("the kata agent's regorus has %s", b.Name)
		}
	}
}
