package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/lazyre"
)

var update = flag.Bool("update", false, "rewrite testdata/render-builtin.yaml")

// cli runs the root command in-process with stdin, stdout and stderr as buffers.
func cli(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := newRootCommand(streams{in: strings.NewReader(stdin), out: &out, err: &errb})
	code = run(cmd, args)
	return code, out.String(), errb.String()
}

// builtin renders the repository's own pattern; tests that use it run at the repository root (atRoot), as a
// user would, so that paths in the output are the ones the README shows.
var builtin = []string{"render"}

// atRoot changes to the repository root for the rest of the test; testdata paths must then be prefixed
// with pkgDir.
func atRoot(t *testing.T) {
	t.Helper()
	t.Chdir("../..")
}

const pkgDir = "cmd/cocogen/"

func TestRenderBuiltinPattern(t *testing.T) {
	atRoot(t)
	code, out, errOut := cli(t, "", builtin...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	checkBuiltinWarnings(t, errOut)
	for _, kind := range []string{"Namespace", "OperatorGroup", "Subscription", "AppProject", "Application"} {
		if !strings.Contains(out, "\nkind: "+kind+"\n") {
			t.Errorf("output has no %s", kind)
		}
	}
	_, again, _ := cli(t, "", builtin...)
	if again != out {
		t.Errorf("two renders differ")
	}
	golden := filepath.Join(pkgDir, "testdata", "render-builtin.yaml")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != out {
		t.Errorf("output differs from %s (go test ./cmd/cocogen -update rewrites it)", golden)
	}
}

// builtinWarnings are the only diagnostics of a render of the built-in pattern, one regular expression per
// line: its sample images are named by tag, which the agent policy can only bind by digest, and it runs on
// any pod VM image until the measurements of one are pinned.
var builtinWarnings = []string{
	`^overlays/hello-openshift/base/deployment\.yaml:19:18: warning: container hello-openshift of Deployment hello-openshift/hello-openshift-secure: image quay\.io/openshifttest/hello-openshift:1\.2\.0 is named by tag: `,
	`^overlays/kbs-access/deployment\.yaml:24:18: warning: container fetch-secret of Deployment kbs-access/kbs-access: image registry\.access\.redhat\.com/ubi9/ubi-minimal:9\.6 is named by tag: `,
	`^overlays/kbs-access/deployment\.yaml:41:18: warning: container web of Deployment kbs-access/kbs-access: image registry\.access\.redhat\.com/ubi9/python-312:9\.6 is named by tag: `,
	`^values/values-global\.yaml:45:30: warning: global\.coco\.trustee\.referenceValues\.acceptUnpinnedPodVM: pods attest on any pod VM image the host boots `,
}

// checkBuiltinWarnings checks that stderr holds exactly the builtinWarnings, in order.
func checkBuiltinWarnings(t *testing.T, stderr string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(stderr, "\n"), "\n")
	if stderr == "" {
		lines = nil
	}
	if len(lines) != len(builtinWarnings) {
		t.Fatalf("the built-in pattern renders with %d diagnostics, want %d:\n%s", len(lines), len(builtinWarnings), stderr)
	}
	for i, re := range builtinWarnings {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("diagnostic %d:\n%s\nwant a match of %s", i, lines[i], re)
		}
	}
}

func TestRenderJSONIsAList(t *testing.T) {
	atRoot(t)
	code, out, errOut := cli(t, "", append(builtin, "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var list struct {
		APIVersion string           `json:"apiVersion"`
		Kind       string           `json:"kind"`
		Items      []map[string]any `json:"items"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("-o json is not valid JSON: %v", err)
	}
	_, yamlOut, _ := cli(t, "", builtin...)
	if list.Kind != "List" || list.APIVersion != "v1" || len(list.Items) != strings.Count(yamlOut, "\n---\n")+1 {
		t.Errorf("got %s %s with %d items, want a v1 List of every object", list.APIVersion, list.Kind, len(list.Items))
	}
}

// writeRepo writes files into a new temporary repository root.
func writeRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const globalValues = "global:\n  pattern: demo\n  singleArgoCD: true\n  options:\n    useCSV: false\n    syncPolicy: Automatic\n    installPlanApproval: Automatic\nmain:\n  clusterGroupName: hub\n"

func TestInvalidInputExitsOneWithNothingOnStdout(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"values-global.yaml": globalValues,
		"values-hub.yaml":    "clusterGroup:\n  name: hub\n  namespaces: []\n  applications:\n    vault:\n      name: vault\n      nmespace: vault\n      chart: hashicorp-vault\n      chartVersion: 0.1.8\n",
	})
	for _, format := range []string{"text", "json", "github", "junit"} {
		t.Run(format, func(t *testing.T) {
			code, out, errOut := cli(t, "", "render", "--repo-root", dir, "--values-dir", dir, "--diagnostics-format", format)
			if code != 1 {
				t.Fatalf("exit %d, want 1", code)
			}
			if out != "" {
				t.Errorf("stdout must be empty on invalid input, got %q", out)
			}
			for _, want := range []string{"values-hub.yaml", "nmespace", "did you mean"} {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
			if format == "text" && !regexp.MustCompile(`values-hub\.yaml:7:7: error: clusterGroup\.applications\.vault: unknown key "nmespace"; did you mean "namespace"\?`).MatchString(errOut) {
				t.Errorf("text diagnostic lacks file:line:col and the suggestion:\n%s", errOut)
			}
			if format == "github" && !strings.HasPrefix(errOut, "::error file=") {
				t.Errorf("github format: %s", errOut)
			}
		})
	}
}

// TestMissingInputsExitOne: an input named on the command line that does not exist is invalid input, exit code 1,
// whichever flag names it, as a missing values file is.
func TestMissingInputsExitOne(t *testing.T) {
	atRoot(t)
	cases := map[string][]string{
		"render -m":                 append(builtin, "-m", "/nonexistent/metadata.yaml"),
		"render --values-dir":       {"render", "--values-dir", "/nonexistent"},
		"render, no values file":    {"render", "--values-dir", "docs"},
		"metadata check -m":         {"metadata", "check", "-m", "/nonexistent/metadata.yaml"},
		"metadata collect -m":       {"metadata", "collect", "-m", "/nonexistent/metadata.yaml"},
		"metadata collect cloud":    {"metadata", "collect", "--cloud-conf", "/nonexistent/cloud.conf"},
		"initdata decode":           {"initdata", "decode", "/nonexistent/initdata.b64"},
		"decode":                    {"decode", "/nonexistent/pods.yaml"},
		"diff -m":                   {"diff", "-m", "/nonexistent/metadata.yaml", ".", "."},
		"policy eval agent --input": {"policy", "eval", "agent", "--profile", "default", "--request", "ExecProcessRequest", "--input", "/nonexistent/in.json"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := cli(t, "", args...)
			if code != 1 || out != "" || !strings.Contains(errOut, "nonexistent") && !strings.Contains(errOut, "values-global.yaml") {
				t.Errorf("exit %d (want 1), stdout %q, stderr %s", code, out, errOut)
			}
		})
	}
}

func TestUsageErrorsExitTwo(t *testing.T) {
	atRoot(t)
	cases := map[string][]string{
		"unknown flag":     {"render", "--no-such-flag"},
		"bad output":       append(builtin, "-o", "xml"),
		"bad diag format":  append(builtin, "--diagnostics-format", "sarif"),
		"extra argument":   append(builtin, "extra"),
		"unknown command":  {"rendr"},
		"version bad -o":   {"version", "-o", "yaml"},
		"diff bad --color": {"diff", "--color", "sometimes"},
	}
	for name, args := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := cli(t, "", args...)
			if code != 2 {
				t.Errorf("exit %d, want 2; stderr: %s", code, errOut)
			}
			if out != "" {
				t.Errorf("stdout must stay empty, got %q", out)
			}
			if errOut == "" {
				t.Errorf("no message on stderr")
			}
		})
	}
	_, _, errOut := cli(t, "", append(builtin, "-o", "xml")...)
	if !strings.Contains(errOut, "valid: yaml, json") {
		t.Errorf("an invalid enum must list the valid values: %s", errOut)
	}
	_, _, errOut = cli(t, "", "render", "--values-dir", "/nonexistent")
	if !strings.Contains(errOut, "values directory /nonexistent does not exist") {
		t.Errorf("a missing values directory needs a clear message: %s", errOut)
	}
}

func TestMetadataFromStdinWinsOverDefaultFile(t *testing.T) {
	atRoot(t)
	// The built-in metadata moved to another apps domain (the KBS URL moves with it).
	builtinMD, err := os.ReadFile("values/cluster-metadata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	md := strings.ReplaceAll(string(builtinMD), "apps.coco.example.com", "apps.other.example.org")
	code, out, errOut := cli(t, md, append(builtin, "-m", "-")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "value: apps.other.example.org") || strings.Contains(out, "apps.coco.example.com") {
		t.Errorf("metadata from stdin not used")
	}
	// --set wins over metadata.
	_, out, _ = cli(t, md, append(builtin, "-m", "-", "--set", "global.hubClusterDomain=apps.hub.example.net")...)
	if !strings.Contains(out, "name: global.hubClusterDomain\n        value: apps.hub.example.net") {
		t.Errorf("--set did not win over metadata")
	}
	code, _, errOut = cli(t, "kind: ClusterMetadata\napiVersion: cocogen.io/v1alpha1\nclustr: {}\n", append(builtin, "-m", "-")...)
	if code != 1 || !strings.Contains(errOut, `<stdin>:3:1: error: unknown key "clustr"; did you mean "cluster"?`) {
		t.Errorf("bad metadata: exit %d, %s", code, errOut)
	}
}

func TestOutputDir(t *testing.T) {
	atRoot(t)
	parent := t.TempDir()
	dir := filepath.Join(parent, "out")
	code, out, errOut := cli(t, "", append(builtin, "--output-dir", dir)...)
	if code != 0 || out != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	app, err := os.ReadFile(filepath.Join(dir, "vp-gitops", "application-trustee.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(app), "kind: Application\n") || !strings.Contains(string(app), "name: trustee\n") {
		t.Errorf("unexpected file content:\n%s", app)
	}
	if _, err := os.Stat(filepath.Join(dir, "_cluster", "namespace-trustee-operator-system.yaml")); err != nil {
		t.Errorf("cluster-scoped objects go to _cluster/: %v", err)
	}
	// A second run replaces the directory it wrote.
	if err := os.WriteFile(filepath.Join(dir, "stale.yaml"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := cli(t, "", append(builtin, "--output-dir", dir)...); code != 0 {
		t.Fatalf("second run: exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "stale.yaml")); !os.IsNotExist(err) {
		t.Errorf("files of the previous run must not survive")
	}
	// A directory cocogen did not write is never replaced.
	foreign := filepath.Join(parent, "foreign")
	if err := os.MkdirAll(foreign, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(foreign, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := cli(t, "", append(builtin, "--output-dir", foreign)...); code == 0 {
		t.Errorf("replaced a directory cocogen did not write")
	}
	if data, _ := os.ReadFile(filepath.Join(foreign, "keep.txt")); string(data) != "mine" {
		t.Errorf("foreign directory was modified")
	}
	// An invalid render writes nothing.
	bad := filepath.Join(parent, "bad")
	if code, _, _ := cli(t, "", "render", "--values-dir", "/nonexistent", "--output-dir", bad); code == 0 {
		t.Fatal("invalid render succeeded")
	}
	if _, err := os.Stat(bad); !os.IsNotExist(err) {
		t.Errorf("an invalid render created %s", bad)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := cli(t, "", "version")
	if code != 0 || !strings.HasPrefix(out, "cocogen ") || !strings.Contains(out, "clustergroup chart") {
		t.Errorf("version: exit %d, %q", code, out)
	}
	code, out, _ = cli(t, "", "version", "-o", "json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v.GoVersion == "" || len(v.Targets) == 0 {
		t.Errorf("version -o json: exit %d, %q", code, out)
	}
}

func TestHelpShowsExamples(t *testing.T) {
	code, out, _ := cli(t, "", "render", "--help")
	if code != 0 || !strings.Contains(out, "Examples:") || !strings.Contains(out, "cocogen render --values-dir") {
		t.Errorf("render --help: exit %d\n%s", code, out)
	}
}

func TestCLIReferenceIsCurrent(t *testing.T) {
	atRoot(t)
	code, _, errOut := cli(t, "", "docs", "--check", "docs/cli")
	if code != 0 {
		t.Errorf("docs/cli is stale: %s", errOut)
	}
}

// TestReadmeExampleMatchesOutput keeps the README's 30-second example honest: its YAML excerpt must be part of
// what `cocogen render` prints for the built-in pattern.
func TestReadmeExampleMatchesOutput(t *testing.T) {
	atRoot(t)
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(readme), "prints (excerpt):\n\n```yaml\n")
	if !ok {
		t.Fatal("README has no rendered excerpt")
	}
	excerpt, _, _ := strings.Cut(after, "```")
	_, out, _ := cli(t, "", builtin...)
	if !strings.Contains(out, excerpt) {
		t.Errorf("the README excerpt is not part of the render output:\n%s", excerpt)
	}
}

// TestEveryPatternCompiles compiles the regular expressions of every package of the binary, which compile on
// first use (internal/lazyre): a pattern that a test never reaches must still be valid.
func TestEveryPatternCompiles(t *testing.T) {
	if err := lazyre.CompileAll(); err != nil {
		t.Fatal(err)
	}
}
