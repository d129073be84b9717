package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// copyPolicies copies the repository's policies/ into a temporary directory and returns its path.
func copyPolicies(t *testing.T) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "policies")
	err := filepath.WalkDir("../../policies", func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel("../../policies", p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if e.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// edit replaces old (which must occur once) in the file.
func edit(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), old) != 1 {
		t.Fatalf("%s: %q does not occur exactly once", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPolicyTestPassesOnTheRepository(t *testing.T) {
	atRoot(t)
	code, out, errOut := cli(t, "", "policy", "test")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	if !strings.HasPrefix(out, "ok: ") || !strings.Contains(out, "tests passed; 4 policies checked") {
		t.Errorf("stdout: %q", out)
	}
	code, out, _ = cli(t, "", "policy", "test", "-v", "policies/agent/default.rego")
	if code != 0 || !strings.Contains(out, "PASS data.default_policy_test.test_exec_shell_denied") ||
		strings.Contains(out, "debug_policy_test") || !strings.Contains(out, "1 policy checked") {
		t.Errorf("one policy, verbose: exit %d\n%s", code, out)
	}
}

// TestPolicyTestFailsOnABrokenTest breaks the default policy in a copy, so that a Rego test fails: the command
// exits 1 and names the test.
func TestPolicyTestFailsOnABrokenTest(t *testing.T) {
	dir := copyPolicies(t)
	edit(t, filepath.Join(dir, "agent", "default.rego"), "default ReadStreamRequest := false", "default ReadStreamRequest := true")

	code, out, errOut := cli(t, "", "policy", "test", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	if !strings.Contains(out, "FAIL data.default_policy_test.test_logs_denied") {
		t.Errorf("the failing test is not named:\n%s", out)
	}
	if !strings.Contains(out, "FAILED: ") || errOut != "" {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}

	code, out, _ = cli(t, "", "policy", "test", "-o", "json", dir)
	var rep struct {
		Summary struct {
			OK   bool
			Fail int
		}
		Tests []struct{ Name, Result string }
	}
	if err := json.Unmarshal([]byte(out), &rep); code != 1 || err != nil || rep.Summary.OK || rep.Summary.Fail == 0 {
		t.Fatalf("json: exit %d, %v\n%s", code, err, out)
	}
	failed := map[string]bool{}
	for _, tr := range rep.Tests {
		failed[tr.Name] = tr.Result == "fail"
	}
	if !failed["test_logs_denied"] || failed["test_exec_shell_denied"] {
		t.Errorf("json results: %v", failed)
	}

	code, out, _ = cli(t, "", "policy", "test", "-o", "junit", dir)
	var suites struct {
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal([]byte(out), &suites); code != 1 || err != nil || suites.Failures == 0 ||
		!strings.Contains(out, `<testcase name="test_logs_denied" classname="data.default_policy_test"`) {
		t.Errorf("junit: exit %d, %v\n%s", code, err, out)
	}
}

// TestPolicyTestFailsOnABadPolicy: a policy the agent cannot load fails the command even when its tests pass.
func TestPolicyTestFailsOnABadPolicy(t *testing.T) {
	dir := copyPolicies(t)
	debug := filepath.Join(dir, "agent", "debug.rego")
	edit(t, debug, "default GetMetricsRequest := true\n", "")
	edit(t, filepath.Join(dir, "agent", "debug_test.rego"), `"GetMetricsRequest", `, "")
	edit(t, filepath.Join(dir, "agent", "debug_test.rego"), "count(requests) == 41", "count(requests) == 40")

	code, out, errOut := cli(t, "", "policy", "test", dir)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	if m := regexp.MustCompile(`(\d+)/(\d+) tests passed`).FindStringSubmatch(out); m == nil || m[1] != m[2] || strings.Contains(out, "FAIL data.") {
		t.Errorf("the tests themselves pass:\n%s", out)
	}
	src, err := os.ReadFile(debug)
	if err != nil {
		t.Fatal(err)
	}
	pkgLine := 1 + strings.Count(string(src[:strings.Index(string(src), "\npackage ")+1]), "\n")
	want := fmt.Sprintf("%s:%d:1: error: GetMetricsRequest is not defined", filepath.ToSlash(debug), pkgLine)
	if !strings.Contains(errOut, want) {
		t.Errorf("stderr lacks %q:\n%s", want, errOut)
	}
}

func TestPolicyCheck(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.rego")
	src := "package agent_policy\n\nimport rego.v1\n\ndefault ExecProcessRequest := false\n\nExecProcessRequest if time.now_ns() > 0\n"
	if err := os.WriteFile(bad, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "", "policy", "check", bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1\n%s%s", code, out, errOut)
	}
	name := filepath.ToSlash(bad)
	for _, want := range []string{
		name + ":7:23: error: builtin time.now_ns is not available to the kata agent",
		name + ":1:1: error: GetMetricsRequest is not defined",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	if out != "FAILED: 1 of 1 agent policy checked for every kata release from 3.5.0 on has errors\n" {
		t.Errorf("stdout: %q", out)
	}

	code, _, errOut = cli(t, "", "policy", "check", bad, "--diagnostics-format", "github")
	if code != 1 || !strings.Contains(errOut, "::error file="+name+",line=7,col=23::builtin time.now_ns") {
		t.Errorf("github annotations: exit %d\n%s", code, errOut)
	}

	atRoot(t)
	code, out, errOut = cli(t, "", "policy", "check", "--kata-version", "3.21.0")
	if code != 0 || out != "ok: 2 agent policies checked for kata 3.21.0, 2 Trustee policies\n" || errOut != "" {
		t.Errorf("the repository's policies: exit %d\n%s%s", code, out, errOut)
	}
}

func TestPolicyUsageErrors(t *testing.T) {
	atRoot(t)
	for _, args := range [][]string{
		{"policy", "test", "-o", "yaml"},
		{"policy", "test", "--kata-version", "latest"},
		{"policy", "test", "--run", "("},
		{"policy", "test", "no/such/dir"},
		{"policy", "check", "--diagnostics-format", "xml"},
		{"policy", "check", "policies/agent/nope.rego"},
		{"policy", "check", "README.md"},
	} {
		code, out, errOut := cli(t, "", args...)
		if code != 2 || out != "" || !strings.Contains(errOut, "Run 'cocogen policy ") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}
