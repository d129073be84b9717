package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPolicyEvalAgentAcceptance: the decisions the issue asks for, exit 0 with the decision on stdout, and
// -o json that parses.
func TestPolicyEvalAgentAcceptance(t *testing.T) {
	atRoot(t)
	for _, tc := range []struct {
		profile, request string
		allowed          bool
	}{
		{"default", "SetPolicyRequest", false},
		{"default", "ExecProcessRequest", false},
		{"debug", "ExecProcessRequest", true},
		{"default", "CreateContainerRequest", false},
		{"default", "GetDiagnosticDataRequest", false},
		{"default", "ReadStreamRequest", false},
		{"default", "WriteStreamRequest", false},
		{"default", "CopyFileRequest", false},
	} {
		args := []string{"policy", "eval", "agent", "--profile", tc.profile, "--request", tc.request}
		code, out, errOut := cli(t, "", args...)
		want := tc.request + ": denied\n"
		if tc.allowed {
			want = tc.request + ": allowed\n"
		}
		if code != 0 || !strings.HasPrefix(out, want) {
			t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
		}
		code, out, _ = cli(t, "", append(args, "-o", "json")...)
		var r struct {
			Allowed  bool   `json:"allowed"`
			Decision string `json:"decision"`
			Rule     struct {
				Text string `json:"text"`
			} `json:"rule"`
		}
		if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r.Allowed != tc.allowed || r.Rule.Text == "" {
			t.Errorf("%v -o json: exit %d, %v: %s", args, code, err, out)
		}
	}
}

func TestPolicyEvalAgentInput(t *testing.T) {
	atRoot(t)
	dir := t.TempDir()
	probe := filepath.Join(dir, "exec.json")
	if err := os.WriteFile(probe, []byte(`{"container_id": "c", "exec_id": "e", "process": {"Args": ["curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/random"]}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "", "policy", "eval", "agent", "--profile", "default", "--request", "ExecProcessRequest", "--input", probe)
	if code != 0 || !strings.HasPrefix(out, "ExecProcessRequest: allowed\n") || !strings.Contains(out, "decided by the rule at policies/agent/default.rego:") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = cli(t, `{"process": {"Args": ["sh"]}}`, "policy", "eval", "agent", "--profile", "default", "--request", "ExecProcessRequest", "--input", "-")
	if code != 0 || !strings.HasPrefix(out, "ExecProcessRequest: denied\n") {
		t.Errorf("stdin: exit %d\n%s", code, out)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte("{\n  \"process\": {\"Args\": [\"sh\",]}\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = cli(t, "", "policy", "eval", "agent", "--profile", "default", "--request", "ExecProcessRequest", "--input", bad)
	if code != 1 || out != "" || !strings.Contains(errOut, bad+":2:29: error: not JSON: invalid character ']'") {
		t.Errorf("bad input: exit %d\nstdout %q\n%s", code, out, errOut)
	}
}

func TestPolicyEvalTrusteeAcceptance(t *testing.T) {
	atRoot(t)
	for profile, want := range map[string]string{"default": "released", "debug": "denied"} {
		code, out, errOut := cli(t, "", "policy", "eval", "trustee", "--profile", profile, "--resource", "default/kbsres1/key1")
		if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: "+want+"\n") {
			t.Errorf("%s: exit %d\n%s%s", profile, code, out, errOut)
		}
		code, out, _ = cli(t, "", "policy", "eval", "trustee", "--profile", profile, "--resource", "default/kbsres1/key1", "-o", "json")
		var r struct {
			Decision    string           `json:"decision"`
			TrustVector map[string]int64 `json:"trustVector"`
			Token       struct {
				Submods map[string]map[string]any `json:"submods"`
			} `json:"token"`
		}
		if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil || r.Decision != want || r.Token.Submods["cpu0"]["cocogen.initdata-profile"] != profile || r.TrustVector["hardware"] != 2 {
			t.Errorf("%s -o json: exit %d, %v\n%s", profile, code, err, out)
		}
	}
	code, out, _ := cli(t, `{"az-snp-vtpm": {"policy_debug_allowed": "true"}}`, "policy", "eval", "trustee", "--profile", "default", "--resource", "default/kbsres1/key1", "--claims", "-")
	if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: denied\n") || !strings.Contains(out, "hardware 97 (contraindicated)") {
		t.Errorf("a guest that allows debugging: exit %d\n%s", code, out)
	}
}

func TestPolicyEvalUsage(t *testing.T) {
	atRoot(t)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"policy", "eval", "agent", "--request", "ExecProcessRequest"}, 2, "--profile is required"},
		{[]string{"policy", "eval", "agent", "--profile", "default"}, 2, "--request is required"},
		{[]string{"policy", "eval", "agent", "--profile", "default", "--request", "Exec"}, 2, `invalid --request "Exec" (valid: AddARPNeighborsRequest,`},
		{[]string{"policy", "eval", "agent", "--profile", "default", "--request", "ExecProcessRequest", "-o", "yaml"}, 2, `invalid --output "yaml" (valid: text, json)`},
		{[]string{"policy", "eval", "agent", "--profile", "prod", "--request", "ExecProcessRequest"}, 1, `no init-data profile "prod"`},
		{[]string{"policy", "eval", "agent", "--profile", "default", "--request", "ExecProcessRequest", "--input", "nonexistent.json"}, 1, "nonexistent.json"},
		{[]string{"policy", "eval", "trustee", "--profile", "default"}, 2, "--resource is required"},
		{[]string{"policy", "eval", "trustee", "--profile", "default", "--resource", "kbsres1/key1"}, 2, `invalid --resource "kbsres1/key1"`},
		{[]string{"policy", "eval", "trustee", "--profile", "default", "--resource", "default/kbsres1/key1", "--tee", "sgx"}, 2, `invalid --tee "sgx" (valid: az-snp-vtpm, az-tdx-vtpm, snp, tdx)`},
	} {
		code, out, errOut := cli(t, "", tc.args...)
		if code != tc.code || out != "" || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, want %d\nstdout %q\n%s", tc.args, code, tc.code, out, errOut)
		}
	}
}
