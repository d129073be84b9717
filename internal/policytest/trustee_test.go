package policytest

import (
	"context"
	"slices"
	"strings"
	"testing"
)

// TestRepositorySuites runs the Rego tests of policies/trustee the way `cocogen policy test` does, and checks
// that both policies were validated as Trustee policies.
func TestRepositorySuites(t *testing.T) {
	files, err := LoadFiles([]string{"../../policies/trustee"})
	if err != nil {
		t.Fatal(err)
	}
	rep := RunTests(context.Background(), files, TestOptions{})
	perFile := map[string]int{}
	for _, r := range rep.Results {
		perFile[r.File]++
		if r.Outcome != Pass {
			t.Errorf("%s: %s %s %s", r.Pos(), r.Outcome, r.FullName(), r.Message)
		}
	}
	for _, f := range []string{"../../policies/trustee/attestation_test.rego", "../../policies/trustee/resource_test.rego"} {
		if perFile[f] < 5 {
			t.Errorf("%d tests of %s ran", perFile[f], f)
		}
	}
	for _, d := range rep.Diagnostics {
		t.Errorf("%s", d)
	}
	want := []string{"../../policies/trustee/attestation.rego", "../../policies/trustee/resource.rego"}
	if !slices.Equal(rep.Checked, want) {
		t.Errorf("checked %v, want %v", rep.Checked, want)
	}
}

const mockTest = `package p_test

import data.policy.attestation

rv(id) := ["abc"] if id == "cocogen_snp_launch_measurements"

rv(id) := null if id != "cocogen_snp_launch_measurements"

test_measurement_registered if {
	attestation.trust_claims.executables == 3 with input as {"snp": {"measurement": "abc"}}
		with query_reference_value as rv
}

test_fails if {
	attestation.trust_claims.executables == 3 with input as {"snp": {"measurement": "def"}}
		with query_reference_value as rv
}
`

const wrongClaimPolicy = `package policy.attestation

default executables := 33

executables := 3 if input.snp.measurement in query_reference_value("cocogen_snp_launch_measurements")

trust_claims := {
	"executables": executables,
	"hardware": 2,
	"integrity": 2,
}
`

// TestRunTestsChecksTrusteePolicies runs a suite whose test mocks query_reference_value and whose policy has a
// claim Trustee does not know: the tests run, and the policy's problem is a diagnostic at the key.
func TestRunTestsChecksTrusteePolicies(t *testing.T) {
	files := []File{
		{Name: "policies/trustee/attestation.rego", Data: []byte(wrongClaimPolicy)},
		{Name: "policies/trustee/attestation_test.rego", Data: []byte(mockTest)},
		{Name: "policies/trustee/helpers.rego", Data: []byte("package policy.helpers\n\nx := 1\n")},
	}
	rep := RunTests(context.Background(), files, TestOptions{})
	got := map[string]Outcome{}
	for _, r := range rep.Results {
		got[r.Name] = r.Outcome
	}
	if got["test_measurement_registered"] != Pass || got["test_fails"] != Fail {
		t.Errorf("outcomes %v: query_reference_value is not mocked as the test says", got)
	}
	if want := []string{"policies/trustee/attestation.rego", "policies/trustee/helpers.rego"}; !slices.Equal(rep.Checked, want) {
		t.Errorf("checked %v, want %v", rep.Checked, want)
	}
	var msgs []string
	for _, d := range rep.Diagnostics {
		msgs = append(msgs, d.String())
	}
	wantPrefixes := []string{
		"policies/trustee/attestation.rego:10:2: error: trust_claims has the key \"integrity\", which is not an AR4SI claim",
		"policies/trustee/helpers.rego:1:1: error: cannot tell whether this is the KBS resource policy or the attestation policy: it defines neither allow nor trust_claims",
	}
	if len(msgs) != len(wantPrefixes) {
		t.Fatalf("diagnostics:\n%s", strings.Join(msgs, "\n"))
	}
	for i, w := range wantPrefixes {
		if !strings.HasPrefix(msgs[i], w) {
			t.Errorf("diagnostic %d:\n got %s\nwant %s…", i, msgs[i], w)
		}
	}
	if rep.OK() {
		t.Error("a failed test and an invalid policy make a report that is not OK")
	}
}
