package agentpolicy

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/srcpos"
)

func readPolicy(t *testing.T, name string) []byte {
	t.Helper()
	src, err := os.ReadFile("../../policies/agent/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

// execAllowed evaluates data.agent_policy.ExecProcessRequest of src for argv with OPA.
func execAllowed(t *testing.T, src []byte, argv []string) bool {
	t.Helper()
	mod, err := ast.ParseModule("p.rego", string(src))
	if err != nil {
		t.Fatal(err)
	}
	args := make([]any, len(argv))
	for i, a := range argv {
		args[i] = a
	}
	rs, err := rego.New(rego.ParsedModule(mod), rego.Query("data.agent_policy.ExecProcessRequest"),
		rego.Input(map[string]any{"process": map[string]any{"Args": args}})).Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("eval: %v %v", rs, err)
	}
	return rs[0].Expressions[0].Value == true
}

var valuesPos = srcpos.Pos{File: "values/values-global.yaml", Line: 40, Col: 9}

// TestFinalizeKeepsSourcesAsTheyAre: the shipped policies are in canonical form, so finalizing them without
// extra entries changes nothing but the package clause, which becomes the package the agent queries.
func TestFinalizeKeepsSourcesAsTheyAre(t *testing.T) {
	for _, name := range []string{"default.rego", "debug.rego"} {
		src := readPolicy(t, name)
		if !IsSubPackage(src) {
			t.Fatalf("%s: the shipped policies declare a sub-package of agent_policy", name)
		}
		out, d := Finalize(name, src, PolicyData{}, Options{})
		if len(d.Sorted()) > 0 {
			t.Fatalf("%s: %v", name, d.Sorted())
		}
		if !bytes.Equal(out, guestPackage(src)) || !bytes.Contains(out, []byte("\npackage agent_policy\n")) {
			t.Errorf("%s: Finalize without entries changed more than the package clause:\n%s", name, out)
		}
		if bytes.Count(out, []byte("\n")) != bytes.Count(src, []byte("\n")) {
			t.Errorf("%s: Finalize moved lines", name)
		}
	}
}

func TestFinalizeAppendsEntries(t *testing.T) {
	src := readPolicy(t, "default.rego")
	ls := []string{"ls", "-l", "/run/secrets"}
	id := []string{"id"}
	exec := []ExecCommand{{Args: ls, Pos: valuesPos}, {Args: id, Pos: valuesPos}}
	out, d := Finalize("default.rego", src, PolicyData{Exec: exec}, Options{Kata: KataVersion{3, 21, 0}})
	if d.HasErrors() || len(d.Sorted()) > 0 {
		t.Fatalf("diagnostics: %v", d.Sorted())
	}
	again, _ := Finalize("default.rego", src, PolicyData{Exec: exec}, Options{Kata: KataVersion{3, 21, 0}})
	if !bytes.Equal(out, again) {
		t.Error("two runs give different bytes")
	}
	head, _, _ := bytes.Cut(guestPackage(src), []byte(policyDataStart))
	if !bytes.HasPrefix(out, head) {
		t.Error("the rules before policy_data changed")
	}
	wantTail := `        [
          "curl",
          "http://127.0.0.1:8006/cdh/resource/default/attestation-status/random"
        ],
        [
          "ls",
          "-l",
          "/run/secrets"
        ],
        [
          "id"
        ]
      ]
    }
  }
}
`
	if !strings.HasSuffix(string(out), wantTail) {
		t.Errorf("the entries are not appended in order at the end of the allow-list:\n%s", out[len(head):])
	}
	for _, argv := range [][]string{ls, id, {"curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"}} {
		if !execAllowed(t, out, argv) {
			t.Errorf("%q is denied by the finalized policy", argv)
		}
	}
	for _, argv := range [][]string{{"ls"}, {"sh"}, {"id", "-u"}} {
		if execAllowed(t, out, argv) {
			t.Errorf("%q is allowed by the finalized policy", argv)
		}
	}
	if ds := Validate("default.rego", out, Options{}).Sorted(); len(ds) > 0 {
		t.Errorf("the finalized policy does not validate: %v", ds)
	}
}

func TestFinalizeDiagnostics(t *testing.T) {
	def := readPolicy(t, "default.rego")
	debug := readPolicy(t, "debug.rego")
	probe := []string{"curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"}
	tests := []struct {
		name     string
		src      []byte
		exec     []ExecCommand
		severity diag.Severity
		pos      srcpos.Pos
		want     string
		text     bool // the text is still produced
	}{
		{"empty argv", def, []ExecCommand{{Pos: valuesPos}}, diag.Error, valuesPos,
			"an exec allow-list entry needs at least the program to run", false},
		{"NUL in an argument", def, []ExecCommand{{Args: []string{"sh", "a\x00b"}, Pos: valuesPos}}, diag.Error, valuesPos,
			"argument 1 of the exec allow-list entry contains a NUL character, which no process argument can hold", false},
		{"already allowed", def, []ExecCommand{{Args: probe, Pos: valuesPos}}, diag.Warning, valuesPos,
			`"curl http://127.0.0.1:8006/cdh/resource/default/attestation-status/status" is already in the exec allow-list of p.rego`, true},
		{"policy without policy_data", debug, []ExecCommand{{Args: []string{"id"}, Pos: valuesPos}}, diag.Error, valuesPos,
			"policy p.rego has no `policy_data := {` block with an exec allow-list (policy_data.request_defaults.ExecProcessRequest.allowed_commands) to add this entry to", false},
		{"policy_data without an allow-list", []byte(policy("", "policy_data := {\"x\": 1}\n")), []ExecCommand{{Args: []string{"id"}, Pos: valuesPos}}, diag.Error, valuesPos,
			"policy p.rego has no exec allow-list (policy_data.request_defaults.ExecProcessRequest.allowed_commands) to add this entry to", false},
		{"allow-list of strings", []byte(policy("", "policy_data := {\"request_defaults\": {\"ExecProcessRequest\": {\"allowed_commands\": [\"id\"]}}}\n")), []ExecCommand{{Args: []string{"id"}, Pos: valuesPos}}, diag.Error, srcpos.Pos{File: "p.rego", Line: 43, Col: 1},
			"policy_data.request_defaults.ExecProcessRequest.allowed_commands[0] must be an array of strings (one argv)", false},
		{"policy_data that is not JSON", []byte(policy("", "policy_data := {\"a\": [1,],}\n")), nil, diag.Error, srcpos.Pos{File: "p.rego", Line: 43, Col: 25},
			"policy_data is not plain JSON: invalid character ']' looking for beginning of value", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, d := Finalize("p.rego", tt.src, PolicyData{Exec: tt.exec}, Options{})
			ds := d.Sorted()
			if len(ds) != 1 {
				t.Fatalf("want one diagnostic, got %v", ds)
			}
			if ds[0].Severity != tt.severity || ds[0].Pos != tt.pos || ds[0].Msg != tt.want {
				t.Errorf("got %s (%s)\nwant %s: %s: %s", ds[0], ds[0].Severity, tt.pos, tt.severity, tt.want)
			}
			if (out != nil) != tt.text {
				t.Errorf("text produced: %v, want %v", out != nil, tt.text)
			}
		})
	}
}

func TestFinalizeRevalidates(t *testing.T) {
	src := []byte(policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if time.now_ns() > 0\npolicy_data := {\"request_defaults\": {\"ExecProcessRequest\": {\"allowed_commands\": []}}}\n", "ExecProcessRequest"))
	out, d := Finalize("p.rego", src, PolicyData{Exec: []ExecCommand{{Args: []string{"id"}, Pos: valuesPos}}}, Options{})
	if out != nil || !d.HasErrors() || !strings.Contains(d.Err().Error(), "builtin time.now_ns is not available") {
		t.Errorf("Finalize accepted a policy the agent cannot load: %v", d.Sorted())
	}
}

// FuzzFinalize: Validate and Finalize never panic, and Finalize is deterministic and idempotent (finalizing its
// own output without entries gives the same bytes).
func FuzzFinalize(f *testing.F) {
	f.Add(string(readPolicyF(f, "default.rego")), "id")
	f.Add(string(readPolicyF(f, "debug.rego")), "")
	f.Add(policy("import rego.v1\n", "policy_data := {\"request_defaults\": {\"ExecProcessRequest\": {\"allowed_commands\": []}}}\n"), "ls -l")
	f.Add("package agent_policy\npolicy_data := {\"a\": 1} # x\n", "")
	f.Add("package agent_policy\npolicy_data := {", "sh")
	f.Fuzz(func(t *testing.T, src, argv string) {
		Validate("p.rego", []byte(src), Options{})
		var exec []ExecCommand
		if argv != "" {
			exec = []ExecCommand{{Args: strings.Fields(argv), Pos: valuesPos}}
		}
		out, d := Finalize("p.rego", []byte(src), PolicyData{Exec: exec}, Options{Kata: KataVersion{4, 1, 0}})
		if out == nil {
			if !d.HasErrors() {
				t.Fatal("no text and no error")
			}
			return
		}
		again, _ := Finalize("p.rego", []byte(src), PolicyData{Exec: exec}, Options{Kata: KataVersion{4, 1, 0}})
		if !bytes.Equal(out, again) {
			t.Fatal("Finalize is not deterministic")
		}
		twice, d2 := Finalize("p.rego", out, PolicyData{}, Options{Kata: KataVersion{4, 1, 0}})
		if d2.HasErrors() || !bytes.Equal(out, twice) {
			t.Fatalf("Finalize is not idempotent: %v\n%s\n---\n%s", d2.Sorted(), out, twice)
		}
	})
}

func readPolicyF(f *testing.F, name string) []byte {
	src, err := os.ReadFile("../../policies/agent/" + name)
	if err != nil {
		f.Fatal(err)
	}
	return src
}
