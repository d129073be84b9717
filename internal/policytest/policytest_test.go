package policytest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/regolimit"
)

// TestRegoSuites runs the repository's Rego unit tests (policies/**/*_test.rego) inside go test, with the same
// runner as `cocogen policy test`, and checks every agent policy.
func TestRegoSuites(t *testing.T) {
	files, err := LoadFiles([]string{"../../policies"})
	if err != nil {
		t.Fatal(err)
	}
	// The suite checks outcomes, not speed: the time budget is raised so that a busy machine cannot fail it
	// (the step budget still bounds the work).
	limits := budget.Defaults()
	limits.RegoTime = time.Hour
	var o TestOptions
	o.Meter = regolimit.NewMeter(limits)
	rep := RunTests(context.Background(), files, o)
	for _, r := range rep.Results {
		if r.Outcome != Pass {
			t.Errorf("%s: %s %s %s", r.Pos(), r.Outcome, r.FullName(), r.Message)
		}
	}
	for _, d := range rep.Diagnostics {
		t.Errorf("%s", d)
	}
	perFile := map[string]int{}
	for _, r := range rep.Results {
		perFile[filepath.Base(r.File)]++
	}
	for _, f := range []string{"default_test.rego", "debug_test.rego"} {
		if perFile[f] == 0 {
			t.Errorf("no test of %s ran", f)
		}
	}
	for _, p := range []string{"../../policies/agent/debug.rego", "../../policies/agent/default.rego"} {
		if !slices.Contains(rep.Checked, p) {
			t.Errorf("%s was not checked as an agent policy (checked: %v)", p, rep.Checked)
		}
	}
	if !rep.OK() {
		t.Error("the report is not OK")
	}
}

const brokenPolicy = `package agent_policy

default ExecProcessRequest := false
`

const brokenTests = `package p_test

import rego.v1

import data.agent_policy

test_exec_denied if {
	agent_policy.ExecProcessRequest == false
}

test_exec_allowed if {
	print("asking for sh")
	agent_policy.ExecProcessRequest
}

todo_test_later if {
	false
}

test_error if {
	x := to_number("not a number")
	x > 1
}
`

func brokenSuite() []File {
	return []File{
		{Name: "policies/agent/p.rego", Data: []byte(brokenPolicy)},
		{Name: "policies/agent/p_test.rego", Data: []byte(brokenTests)},
	}
}

func TestRunTestsReportsEveryOutcome(t *testing.T) {
	rep := RunTests(context.Background(), brokenSuite(), TestOptions{})
	got := map[string]Outcome{}
	for _, r := range rep.Results {
		got[r.Name] = r.Outcome
		if r.File != "policies/agent/p_test.rego" || r.Line == 0 || r.Package != "data.p_test" {
			t.Errorf("result without its place: %+v", r)
		}
	}
	want := map[string]Outcome{"test_exec_denied": Pass, "test_exec_allowed": Fail, "todo_test_later": Skip}
	for name, o := range want {
		if got[name] != o {
			t.Errorf("%s: %s, want %s", name, got[name], o)
		}
	}
	if o := got["test_error"]; o != Fail && o != Error {
		t.Errorf("test_error: %s", o)
	}
	if rep.OK() {
		t.Error("a failed test and an invalid agent policy make a report that is not OK")
	}
	// p.rego lies in policies/agent, so it is an agent policy, and it defines only one entry point.
	if !slices.Equal(rep.Checked, []string{"policies/agent/p.rego"}) {
		t.Errorf("checked %v", rep.Checked)
	}
	if len(rep.Diagnostics) == 0 || !strings.Contains(rep.Diagnostics[0].String(), "policies/agent/p.rego:1:1: error: AddARPNeighborsRequest is not defined") {
		t.Errorf("diagnostics: %v", rep.Diagnostics)
	}
}

func TestReportFormats(t *testing.T) {
	rep := RunTests(context.Background(), brokenSuite(), TestOptions{Run: "test_exec"})
	if len(rep.Results) != 2 {
		t.Fatalf("--run selected %d tests, want 2", len(rep.Results))
	}

	var text bytes.Buffer
	if err := WriteReport(&text, "text", rep, false); err != nil {
		t.Fatal(err)
	}
	wantText := "policies/agent/p_test.rego:11:1: FAIL data.p_test.test_exec_allowed\n" +
		"    asking for sh\n" +
		"FAILED: 1/2 tests passed, 1 failed; 1 policy checked; 40 problems\n"
	if text.String() != wantText {
		t.Errorf("text:\n%s\nwant:\n%s", text.String(), wantText)
	}
	text.Reset()
	if err := WriteReport(&text, "text", rep, true); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "policies/agent/p_test.rego:7:1: PASS data.p_test.test_exec_denied\n") {
		t.Errorf("verbose text lacks the passing test:\n%s", text.String())
	}

	var js bytes.Buffer
	if err := WriteReport(&js, "json", rep, false); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Summary struct {
			OK                bool
			Pass, Fail, Error int
		}
		Tests []struct {
			File, Name, Result string
			Line               int
		}
		Checked     []string
		Diagnostics []struct{ Severity, File, Message string }
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatalf("json: %v\n%s", err, js.String())
	}
	if doc.Summary.OK || doc.Summary.Pass != 1 || doc.Summary.Fail != 1 || len(doc.Tests) != 2 ||
		doc.Tests[1].Name != "test_exec_allowed" || doc.Tests[1].Result != "fail" || doc.Tests[1].Line != 11 ||
		len(doc.Checked) != 1 || len(doc.Diagnostics) != 40 {
		t.Errorf("json report:\n%s", js.String())
	}

	var junit bytes.Buffer
	if err := WriteReport(&junit, "junit", rep, false); err != nil {
		t.Fatal(err)
	}
	var suites struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(junit.Bytes(), &suites); err != nil {
		t.Fatalf("junit: %v\n%s", err, junit.String())
	}
	if suites.Tests != 3 || suites.Failures != 2 || len(suites.Suites) != 2 ||
		suites.Suites[0].Name != "policies/agent/p_test.rego" || suites.Suites[1].Name != checkSuite ||
		suites.Suites[0].Cases[1].Name != "test_exec_allowed" || suites.Suites[0].Cases[1].Failure == nil ||
		suites.Suites[1].Cases[0].Failure == nil {
		t.Errorf("junit report:\n%s", junit.String())
	}

	for _, f := range ReportFormats {
		var a, b bytes.Buffer
		_ = WriteReport(&a, f, rep, true)
		_ = WriteReport(&b, f, RunTests(context.Background(), brokenSuite(), TestOptions{Run: "test_exec"}), true)
		if a.String() != b.String() {
			t.Errorf("%s reports of the same run differ", f)
		}
	}
	if err := WriteReport(&text, "yaml", rep, false); err == nil || !strings.Contains(err.Error(), "valid: text, json, junit") {
		t.Errorf("unknown format: %v", err)
	}
}

func TestRunTestsReportsParseErrorsWithPositions(t *testing.T) {
	files := []File{
		{Name: "x/q.rego", Data: []byte("package q\n\nallow if {\n")},
		{Name: "x/q_test.rego", Data: []byte("package q_test\n\ntest_x if { true }\n")},
	}
	rep := RunTests(context.Background(), files, TestOptions{})
	if rep.OK() || len(rep.Results) != 0 {
		t.Errorf("a suite that does not parse must not run: %+v", rep.Results)
	}
	if len(rep.Diagnostics) == 0 || rep.Diagnostics[0].Pos.File != "x/q.rego" || rep.Diagnostics[0].Pos.Line == 0 ||
		rep.Diagnostics[0].Severity != diag.Error {
		t.Errorf("diagnostics: %v", rep.Diagnostics)
	}
	if len(rep.Checked) != 0 {
		t.Errorf("package q outside an agent directory is not an agent policy: %v", rep.Checked)
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("agent/a.rego", "package agent_policy\n")
	write("agent/a_test.rego", "package a_test\n")
	write("agent/b.rego", "package agent_policy\n")
	write("agent/notes.txt", "not rego\n")
	write("trustee/r.rego", "package policy\n")

	names := func(fs []File) []string {
		var out []string
		for _, f := range fs {
			out = append(out, strings.TrimPrefix(f.Name, filepath.ToSlash(dir)+"/"))
		}
		return out
	}
	tests := []struct {
		paths []string
		want  []string
	}{
		{[]string{dir}, []string{"agent/a.rego", "agent/a_test.rego", "agent/b.rego", "trustee/r.rego"}},
		{[]string{filepath.Join(dir, "agent/a_test.rego")}, []string{"agent/a.rego", "agent/a_test.rego"}},
		{[]string{filepath.Join(dir, "agent/a.rego")}, []string{"agent/a.rego", "agent/a_test.rego"}},
		{[]string{filepath.Join(dir, "agent/b.rego"), filepath.Join(dir, "agent")}, []string{"agent/a.rego", "agent/a_test.rego", "agent/b.rego"}},
	}
	for _, tt := range tests {
		files, err := LoadFiles(tt.paths)
		if err != nil {
			t.Fatal(err)
		}
		if got := names(files); !slices.Equal(got, tt.want) {
			t.Errorf("LoadFiles(%v) = %v, want %v", tt.paths, got, tt.want)
		}
	}
	if _, err := LoadFiles([]string{filepath.Join(dir, "nope")}); err == nil {
		t.Error("a path that does not exist is an error")
	}
	if _, err := LoadFiles([]string{filepath.Join(dir, "agent/notes.txt")}); err == nil {
		t.Error("a named file that is not Rego is an error")
	}
}
