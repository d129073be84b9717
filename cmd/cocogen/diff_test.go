package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// gitRepo makes a temporary git repository holding the pattern (values, policies, overlays), with one commit,
// and changes to it. Tests that use it skip when git is not installed.
func gitRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	dir := copyTree(t)
	if err := os.WriteFile(filepath.Join(dir, "README.md"), []byte("# pattern\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	gitRun(t, dir, "init", "-q", "-b", "main")
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "-q", "-m", "pattern")
	return dir
}

func gitRun(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=test", "-c", "user.email=test@example.com", "-c", "commit.gpgsign=false"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

// TestDiffOfAPolicyLine: one line of the default agent policy changes the Rego line, the digests and exactly
// the objects that carry them: the pods that run the default profile, peer-pods-cm, the reference values,
// and the cloud-api-adaptor restart job, which takes the new digest's name.
func TestDiffOfAPolicyLine(t *testing.T) {
	dir := gitRepo(t)
	edit(t, filepath.Join(dir, "policies/agent/default.rego"), "default ReadStreamRequest := false", "default ReadStreamRequest := true")
	gitRun(t, dir, "commit", "-q", "-am", "allow log streaming")
	t.Chdir(dir)

	code, out, errOut := cli(t, "", "diff", "--cluster-group", "azure", "--base", "HEAD~1", "--head", "HEAD", "--exit-code", "--color", "never")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (differences)\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"4 changed, 1 added, 1 removed",
		"-    default ReadStreamRequest := false",
		"+    default ReadStreamRequest := true",
		"init-data profile default: sha256 ",
		"reference values updated: yes",
		"~ apps/v1 Deployment hello-openshift/hello-openshift-secure (changed)",
		"~ v1 ConfigMap openshift-sandboxed-containers-operator/peer-pods-cm (changed)",
		"~ v1 ConfigMap trustee-operator-system/rvps-reference-values (changed)",
		"~ apps/v1 Deployment kbs-access/kbs-access (changed)",
		"+ batch/v1 Job openshift-sandboxed-containers-operator/cocogen-caa-restart-",
		"- batch/v1 Job openshift-sandboxed-containers-operator/cocogen-caa-restart-c9f873bbf8bbe44f (removed)",
		// Pods started with the previous init-data lose their secrets unless it is kept.
		"not kept: pods of profile default started before this change (init-data sha256:c9f873bbf8bbe44fbf6f4d19928dab5e5edd19f43cedf285c83f45153643ab78)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the diff lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^[~+-] \S+ \S+ \S+ \((changed|added|removed)\)$`).FindAllString(out, -1)); n != 6 {
		t.Errorf("%d objects changed, want 6:\n%s", n, out)
	}
	if strings.Contains(out, "init-data profile debug") || strings.Contains(out, "H4sI") {
		t.Errorf("the debug profile or base64 shows up:\n%s", out)
	}
	// The working tree against the base gives the same report, and JSON says the same.
	code, js, _ := cli(t, "", "diff", "--cluster-group", "azure", "--base", "HEAD~1", "-o", "json")
	if code != 0 || !strings.Contains(js, `"referenceValuesUpdated": "yes"`) || !strings.Contains(js, `"name": "default"`) ||
		!strings.Contains(js, `"keepCommand": "cocogen initdata keep --base HEAD~1 --cluster-group azure"`) {
		t.Errorf("json: exit %d\n%s", code, js)
	}
}

// TestDiffEveryGroup: without --cluster-group, diff compares every cluster group and says which groups and
// clusters a change touches. A spoke's agent policy touches the spoke and its hub, whose reference values
// register the spoke's init-data; a spoke's Azure fact touches that spoke alone.
func TestDiffEveryGroup(t *testing.T) {
	dir := gitRepo(t)
	t.Chdir(dir)
	values, err := os.ReadFile("values/values-spoke.yaml")
	if err != nil {
		t.Fatal(err)
	}
	values = append(values, "global:\n  coco:\n    initdata:\n      profiles:\n        default:\n          agentPolicy: spoke\n"...)
	if err := os.WriteFile("values/values-spoke.yaml", values, 0o644); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("policies/agent/default.rego")
	if err != nil {
		t.Fatal(err)
	}
	spoke := strings.Replace(string(src), "default ReadStreamRequest := false", "default ReadStreamRequest := true", 1)
	if err := os.WriteFile("policies/agent/spoke.rego", []byte(spoke), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := cli(t, "", "diff", "--base", "HEAD", "--color", "never", "--exit-code")
	if code != 1 || !strings.Contains(out, "touches 2 of 5 cluster groups: spoke (cluster spoke-1), trusted-hub\n") {
		t.Fatalf("agent policy of the spoke: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"=== cluster group spoke (cluster spoke-1) ===",
		"~ v1 ConfigMap openshift-sandboxed-containers-operator/peer-pods-cm (changed)",
		"=== cluster group trusted-hub ===",
		"~ v1 ConfigMap trustee-operator-system/rvps-reference-values (changed)",
		"+    default ReadStreamRequest := true",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the diff lacks %q", want)
		}
	}
	if strings.Contains(out, "=== cluster group azure") {
		t.Errorf("the diff says the spoke's policy touches group azure:\n%s", out)
	}
	gitRun(t, dir, "add", "-A")
	gitRun(t, dir, "commit", "-q", "-m", "spoke policy")
	edit(t, "values/clusters/spoke/spoke-1.yaml", "location: westeurope", "location: northeurope")
	code, out, errOut = cli(t, "", "diff", "--base", "HEAD", "-o", "json")
	if code != 0 || !strings.Contains(out, "\"touched\": [\n    \"spoke (cluster spoke-1)\"\n  ]") {
		t.Errorf("a spoke's fact: exit %d\n%s%s", code, out, errOut)
	}
}

// TestDiffOfNothingRendered: a README edit renders the same objects.
func TestDiffOfNothingRendered(t *testing.T) {
	dir := gitRepo(t)
	edit(t, filepath.Join(dir, "README.md"), "# pattern", "# the pattern")
	gitRun(t, dir, "commit", "-q", "-am", "docs")
	t.Chdir(dir)
	code, out, errOut := cli(t, "", "diff", "--base", "HEAD~1", "--head", "HEAD", "--exit-code", "-o", "markdown")
	if code != 0 || !strings.Contains(out, "No differences") {
		t.Errorf("exit %d\n%s%s", code, out, errOut)
	}
	// The same with two directories.
	other := t.TempDir()
	gitRun(t, dir, "worktree", "add", "-q", filepath.Join(other, "wt"), "HEAD~1")
	code, out, _ = cli(t, "", "diff", filepath.Join(other, "wt"), ".", "--exit-code")
	if code != 0 || !strings.Contains(out, "no differences") {
		t.Errorf("two directories: exit %d\n%s", code, out)
	}
}

func TestDiffErrors(t *testing.T) {
	dir := gitRepo(t)
	t.Chdir(dir)
	cases := map[string]struct {
		args []string
		code int
		want string
	}{
		"no states":    {[]string{"diff"}, 2, "nothing to compare"},
		"bad revision": {[]string{"diff", "--base", "nope"}, 2, `"nope" is not a commit`},
		"bad format":   {[]string{"diff", "--base", "HEAD", "-o", "html"}, 2, "invalid --output"},
		"one dir":      {[]string{"diff", "."}, 2, "give two directories"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := cli(t, "", c.args...)
			if code != c.code || !strings.Contains(errOut, c.want) || out != "" {
				t.Errorf("exit %d, stdout %q, stderr %q; want exit %d and %q", code, out, errOut, c.code, c.want)
			}
		})
	}
	// A base that does not render: its diagnostics, and exit 1.
	edit(t, filepath.Join(dir, "values/values-azure.yaml"), "  name: azure", "  name: azure\n  bogus: 1")
	gitRun(t, dir, "commit", "-q", "-am", "break")
	edit(t, filepath.Join(dir, "values/values-azure.yaml"), "\n  bogus: 1", "")
	code, _, errOut := cli(t, "", "diff", "--base", "HEAD")
	if code != 1 || !strings.Contains(errOut, `unknown key "bogus"`) || !strings.Contains(errOut, "the HEAD (") {
		t.Errorf("broken base: exit %d\n%s", code, errOut)
	}
}

// TestDecodeCommand: a render stream decodes to text without base64, idempotently, and the live-versus-Git
// recipe of the help works.
func TestDecodeCommand(t *testing.T) {
	atRoot(t)
	code, rendered, errOut := cli(t, "", "render", "--all")
	if code != 0 {
		t.Fatal(errOut)
	}
	code, once, errOut := cli(t, rendered, "decode")
	if code != 0 {
		t.Fatalf("decode: exit %d: %s", code, errOut)
	}
	if strings.Contains(once, "H4sI") {
		t.Error("decoded render still holds gzip+base64 values")
	}
	code, twice, _ := cli(t, once, "decode", "-")
	if code != 0 || twice != once {
		t.Error("decode is not idempotent")
	}
	code, _, errOut = cli(t, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: peer-pods-cm}\ndata:\n  INITDATA: H4sIbroken\n", "decode")
	if code != 1 || !strings.Contains(errOut, "<stdin>: error: ConfigMap peer-pods-cm data.INITDATA") {
		t.Errorf("broken value: exit %d: %s", code, errOut)
	}
}

// TestInitDataKeep: after a policy change, initdata keep writes the base's digest of the changed profile into
// the values, which then render it into the reference values; diff reports it kept instead of lost; a second
// keep has nothing to do, and an entry whose time has passed is removed.
func TestInitDataKeep(t *testing.T) {
	dir := gitRepo(t)
	t.Chdir(dir)
	_, before, _ := cli(t, "", "initdata", "digest", "--profile", "default")
	old := regexp.MustCompile(`(?m)^sha256\s+([0-9a-f]{64})$`).FindStringSubmatch(before)
	if old == nil {
		t.Fatalf("no digest in:\n%s", before)
	}
	edit(t, "policies/agent/default.rego", "default ReadStreamRequest := false", "default ReadStreamRequest := true")

	code, out, errOut := cli(t, "", "initdata", "keep", "--base", "HEAD", "--until", "2030-01-01T00:00:00Z")
	if code != 0 || !strings.Contains(out, "keeping the init-data of profile default from HEAD") || !strings.Contains(out, "sha256:"+old[1]) {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	values, _ := os.ReadFile("values/values-global.yaml")
	entry := `          - {profile: default, digest: "sha256:` + old[1] + `", until: "2030-01-01T00:00:00Z"}` + "\n"
	if !strings.Contains(string(values), "        previous:\n"+entry) {
		t.Errorf("values:\n%s", values)
	}
	// The azure group: the bare-metal groups render other init-data (their own KBS), which keep does not
	// write unless asked with --cluster-group.
	code, out, errOut = cli(t, "", "diff", "--base", "HEAD", "--color", "never", "--cluster-group", "azure")
	if code != 0 || !strings.Contains(out, "previous init-data of profile default kept until 2030-01-01T00:00:00Z: sha256:"+old[1]+" (new)") || strings.Contains(out, "not kept") {
		t.Errorf("diff: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, _ := cli(t, "", "initdata", "keep", "--base", "HEAD", "--until", "2030-01-01T00:00:00Z"); code != 0 || !strings.Contains(out, "nothing to keep") {
		t.Errorf("again: exit %d\n%s", code, out)
	}
	// Its time has passed (by the render's clock): keep removes it.
	edit(t, "values/values-global.yaml", "2030-01-01T00:00:00Z", "2021-01-01T00:00:00Z")
	gitRun(t, dir, "commit", "-q", "-am", "policy and its previous init-data")
	code, out, errOut = cli(t, "", "initdata", "keep", "--base", "HEAD")
	if values, _ := os.ReadFile("values/values-global.yaml"); code != 0 || !strings.Contains(out, "removed the init-data of profile default") || strings.Contains(string(values), "previous:") {
		t.Errorf("prune: exit %d\n%s%s\n%s", code, out, errOut, values)
	}
	if code, _, errOut := cli(t, "", "initdata", "keep", "--base", "HEAD~1", "--head", "HEAD"); code != 2 || !strings.Contains(errOut, "keep cannot edit") {
		t.Errorf("--head: exit %d\n%s", code, errOut)
	}
	if code, _, errOut := cli(t, "", "initdata", "keep", "--base", "HEAD", "--until", "2020-01-01T00:00:00Z"); code != 2 || !strings.Contains(errOut, "has passed") {
		t.Errorf("--until in the past: exit %d\n%s", code, errOut)
	}
}
