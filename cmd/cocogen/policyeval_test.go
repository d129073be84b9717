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

// TestPolicyEvalMatrixMatchesTheREADME runs `cocogen policy eval trustee` for every profile and every resource
// of the built-in pattern and compares the decisions with the README's table, which must list them all; the
// debug profile (where oc exec works) must not get kbsres1 or passphrase.
func TestPolicyEvalMatrixMatchesTheREADME(t *testing.T) {
	atRoot(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "<!-- policy-eval-matrix -->\n")
	table, _, ok2 := strings.Cut(table, "<!-- /policy-eval-matrix -->")
	if !ok || !ok2 {
		t.Fatal("README has no policy-eval-matrix table")
	}
	rows := strings.Split(strings.TrimSpace(table), "\n")
	cells := func(row string) []string {
		var out []string
		for _, c := range strings.Split(strings.Trim(row, "|"), "|") {
			out = append(out, strings.Trim(strings.TrimSpace(c), "`"))
		}
		return out
	}
	header := cells(rows[0])
	profiles := header[1:]
	if strings.Join(profiles, ",") != "default,debug" {
		t.Fatalf("the table's profiles are %v", profiles)
	}
	want := map[string]map[string]string{}
	for _, row := range rows[2:] {
		c := cells(row)
		want[c[0]] = map[string]string{}
		for i, p := range profiles {
			want[c[0]][p] = c[1+i]
		}
	}
	var resources []string
	for _, r := range []string{"attestation-status/random", "attestation-status/status", "kbsres1/key1", "kbsres1/key2", "kbsres1/key3", "passphrase/passphrase", "security-policy/insecure", "security-policy/reject", "security-policy/signed"} {
		resources = append(resources, "default/"+r)
	}
	if len(want) != len(resources) {
		t.Errorf("the table has %d resources, the built-in pattern serves %d", len(want), len(resources))
	}
	for _, resource := range resources {
		for _, profile := range profiles {
			code, out, errOut := cli(t, "", "policy", "eval", "trustee", "--profile", profile, "--resource", resource, "-o", "json")
			var r struct {
				Decision string `json:"decision"`
				Reason   string `json:"reason"`
			}
			if err := json.Unmarshal([]byte(out), &r); code != 0 || err != nil {
				t.Fatalf("%s %s: exit %d, %v\n%s", profile, resource, code, err, errOut)
			}
			if r.Decision != want[resource][profile] {
				t.Errorf("%s for profile %s: %s (%s), the README says %q", resource, profile, r.Decision, r.Reason, want[resource][profile])
			}
			secret := strings.Contains(resource, "/kbsres1/") || strings.Contains(resource, "/passphrase/")
			if profile == "debug" && secret && r.Decision != "denied" {
				t.Errorf("the debug profile gets %s", resource)
			}
		}
	}
}

// TestPolicyEvalExamplesInTheREADME runs the commands of the README's `cocogen policy eval` examples and
// compares their output with the lines the README shows.
func TestPolicyEvalExamplesInTheREADME(t *testing.T) {
	atRoot(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, _ := strings.Cut(string(readme), "### Asking the policies: `cocogen policy eval`")
	section, _, _ = strings.Cut(section, "\n### ")
	n := 0
	for _, block := range strings.Split(section, "```console\n")[1:] {
		block, _, _ = strings.Cut(block, "```")
		block = strings.ReplaceAll(block, " |\n    ", " | ")
		var cmd string
		var shown []string
		flush := func() {
			if cmd == "" {
				return
			}
			n++
			stdin := ""
			if head, rest, ok := strings.Cut(cmd, " | cocogen "); ok && strings.HasPrefix(head, "echo '") {
				stdin = strings.TrimSuffix(strings.TrimPrefix(head, "echo '"), "'")
				cmd = "cocogen " + rest
			}
			filter := ""
			if c, f, ok := strings.Cut(cmd, " | "); ok {
				cmd, filter = c, f
			}
			code, out, errOut := cli(t, stdin, strings.Fields(strings.TrimPrefix(cmd, "cocogen "))...)
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			switch filter {
			case "":
			case "head -7":
				lines = lines[:min(7, len(lines))]
			case "sed -n 3p":
				lines = lines[2:3]
			default:
				t.Fatalf("the README pipes into %q, which this test does not know", filter)
			}
			if code != 0 || strings.Join(lines, "\n") != strings.Join(shown, "\n") {
				t.Errorf("%s: exit %d\n%s\nthe README shows\n%s\n%s", cmd, code, strings.Join(lines, "\n"), strings.Join(shown, "\n"), errOut)
			}
			cmd, shown = "", nil
		}
		for _, line := range strings.Split(strings.TrimSuffix(block, "\n"), "\n") {
			if c, ok := strings.CutPrefix(line, "$ "); ok {
				flush()
				cmd = c
				continue
			}
			shown = append(shown, line)
		}
		flush()
	}
	if n != 4 {
		t.Errorf("ran %d examples, want 4", n)
	}
}
