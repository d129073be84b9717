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
	dir := t.TempDir()
	for _, sub := range []string{"values", "policies", "overlays"} {
		src := filepath.Join("..", "..", sub)
		err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(filepath.Join("..", ".."), p)
			if d.IsDir() {
				return os.MkdirAll(filepath.Join(dir, rel), 0o755)
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, rel), data, 0o644)
		})
		if err != nil {
			t.Fatal(err)
		}
	}
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

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		t.Fatalf("%s lacks %q", path, old)
	}
	if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestDiffOfAPolicyLine: one line of the default agent policy changes the Rego line, the digests and exactly
// three objects.
func TestDiffOfAPolicyLine(t *testing.T) {
	dir := gitRepo(t)
	editFile(t, filepath.Join(dir, "policies/agent/default.rego"), "default ReadStreamRequest := false", "default ReadStreamRequest := true")
	gitRun(t, dir, "commit", "-q", "-am", "allow log streaming")
	t.Chdir(dir)

	code, out, errOut := cli(t, "", "diff", "--base", "HEAD~1", "--head", "HEAD", "--exit-code", "--color", "never")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (differences)\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"3 changed, 0 added, 0 removed",
		"-    default ReadStreamRequest := false",
		"+    default ReadStreamRequest := true",
		"init-data profile default: sha256 ",
		"reference values updated: yes",
		"~ apps/v1 Deployment hello-openshift/hello-openshift-secure (changed)",
		"~ v1 ConfigMap openshift-sandboxed-containers-operator/peer-pods-cm (changed)",
		"~ v1 ConfigMap trustee-operator-system/rvps-reference-values (changed)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the diff lacks %q", want)
		}
	}
	if n := len(regexp.MustCompile(`(?m)^[~+-] \S+ \S+ \S+ \((changed|added|removed)\)$`).FindAllString(out, -1)); n != 3 {
		t.Errorf("more than the three objects changed:\n%s", out)
	}
	if strings.Contains(out, "init-data profile debug") || strings.Contains(out, "H4sI") {
		t.Errorf("the debug profile or base64 shows up:\n%s", out)
	}
	// The working tree against the base gives the same report, and JSON says the same.
	code, js, _ := cli(t, "", "diff", "--base", "HEAD~1", "-o", "json")
	if code != 0 || !strings.Contains(js, `"referenceValuesUpdated": "yes"`) || !strings.Contains(js, `"name": "default"`) {
		t.Errorf("json: exit %d\n%s", code, js)
	}
}

// TestDiffOfNothingRendered: a README edit renders the same objects.
func TestDiffOfNothingRendered(t *testing.T) {
	dir := gitRepo(t)
	editFile(t, filepath.Join(dir, "README.md"), "# pattern", "# the pattern")
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
	editFile(t, filepath.Join(dir, "values/values-azure.yaml"), "  name: azure", "  name: azure\n  bogus: 1")
	gitRun(t, dir, "commit", "-q", "-am", "break")
	editFile(t, filepath.Join(dir, "values/values-azure.yaml"), "\n  bogus: 1", "")
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
