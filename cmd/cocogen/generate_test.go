package main

import (
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/plugin"
)

// argoEnv sets the variables Argo CD's cmp-server passes to generate, clearing the plugin's others, so that a
// case sees exactly its own environment.
func argoEnv(t *testing.T, vars map[string]string) {
	t.Helper()
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "ARGOCD_") || strings.HasPrefix(k, "PARAM_") || k == "KUBE_VERSION" {
			t.Setenv(k, "")
		}
	}
	for k, v := range vars {
		t.Setenv(k, v)
	}
}

// rootApp is the environment Argo CD gives generate for the built-in pattern's root Application.
func rootApp(extra map[string]string) map[string]string {
	env := map[string]string{
		"ARGOCD_APP_NAME":                   "cocogen",
		"ARGOCD_APP_NAMESPACE":              "vp-gitops",
		"ARGOCD_APP_REVISION":               "0123456789abcdef0123456789abcdef01234567",
		"ARGOCD_APP_REVISION_SHORT":         "0123456",
		"ARGOCD_APP_SOURCE_PATH":            ".",
		"ARGOCD_APP_SOURCE_REPO_URL":        "https://github.com/cocogen/cocogen.git",
		"ARGOCD_APP_SOURCE_TARGET_REVISION": "main",
		"KUBE_VERSION":                      "1.32.0",
		"KUBE_API_VERSIONS":                 "v1,apps/v1,argoproj.io/v1alpha1",
		"ARGOCD_APP_PARAMETERS":             "null",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestGenerateEqualsRender proves the promise of the plugin: generate with an environment writes the same
// bytes as render with the equivalent flags, written out by hand here (not derived by the code under test).
func TestGenerateEqualsRender(t *testing.T) {
	// The Application's source, which generate passes on as global.repoURL and global.targetRevision.
	source := []string{"--set-string", "global.repoURL=https://github.com/cocogen/cocogen.git", "--set-string", "global.targetRevision=main"}
	cases := []struct {
		name   string
		env    map[string]string
		subdir string
		render []string
	}{
		{
			name:   "root application as Argo CD runs it",
			env:    rootApp(nil),
			render: append([]string{"render"}, source...),
		},
		{
			name: "a fork and a branch: child applications follow them",
			env: rootApp(map[string]string{"ARGOCD_APP_SOURCE_REPO_URL": "https://git.example.com/me/cocogen.git",
				"ARGOCD_APP_SOURCE_TARGET_REVISION": "coco-test"}),
			render: []string{"render", "--set-string", "global.repoURL=https://git.example.com/me/cocogen.git", "--set-string", "global.targetRevision=coco-test"},
		},
		{
			name: "plugin env and parameters",
			env: rootApp(map[string]string{
				"ARGOCD_ENV_COCOGEN_CLUSTER_GROUP": "azure",
				"ARGOCD_ENV_COCOGEN_VALUES_DIR":    "values",
				"ARGOCD_ENV_COCOGEN_SET":           "clusterGroup.subscriptions.trustee.channel=env\nglobal.options.installPlanApproval=Automatic",
				"ARGOCD_APP_PARAMETERS": `[{"name":"metadata","string":"values/cluster-metadata.yaml"},` +
					`{"name":"set","array":["clusterGroup.subscriptions.trustee.channel=stable-v2"]},{"name":"set-string","array":["global.clusterVersion=4.20"]}]`,
			}),
			render: []string{"render", "--cluster-group", "azure", "--values-dir", "values", "-m", "values/cluster-metadata.yaml",
				"--set-string", "global.repoURL=https://github.com/cocogen/cocogen.git", "--set-string", "global.targetRevision=main",
				"--set", "clusterGroup.subscriptions.trustee.channel=env", "--set", "global.options.installPlanApproval=Automatic",
				"--set", "clusterGroup.subscriptions.trustee.channel=stable-v2", "--set-string", "global.clusterVersion=4.20"},
		},
		{
			name:   "started in the Application's path below the root",
			env:    rootApp(map[string]string{"ARGOCD_APP_SOURCE_PATH": "values"}),
			subdir: "values",
			render: append([]string{"render"}, source...),
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			atRoot(t)
			want := func() string {
				argoEnv(t, nil)
				code, out, errOut := cli(t, "", c.render...)
				if code != 0 {
					t.Fatalf("render exit %d: %s", code, errOut)
				}
				return out
			}()
			argoEnv(t, c.env)
			if c.subdir != "" {
				t.Chdir(c.subdir)
			}
			code, out, errOut := cli(t, "", "generate")
			if code != 0 {
				t.Fatalf("generate exit %d: %s", code, errOut)
			}
			if out != want {
				t.Errorf("generate and render %q differ", c.render)
			}
			if !strings.HasPrefix(out, "---\n") || !strings.Contains(out, "\nkind: Application\n") {
				t.Errorf("generate printed no manifests:\n%.300s", out)
			}
			if strings.Contains(out, "cocogen: rendered") {
				t.Errorf("the summary line reached stdout")
			}
			if !regexp.MustCompile(`cocogen: rendered \d+ objects of cluster group azure for application cocogen at revision 0123456789`).MatchString(errOut) {
				t.Errorf("stderr lacks the summary: %q", errOut)
			}
		})
	}
}

// TestGenerateChildApplications runs generate for every child Application of the built-in pattern that names
// the plugin, with the env its Application gives: the bytes equal `cocogen render --app`, or, while render
// cannot render an application, both fail with the same diagnostics.
func TestGenerateChildApplications(t *testing.T) {
	atRoot(t)
	argoEnv(t, nil)
	code, tree, errOut := cli(t, "", "render")
	if code != 0 {
		t.Fatalf("render: exit %d: %s", code, errOut)
	}
	var apps []string
	for doc := range strings.SplitSeq(strings.TrimPrefix(tree, "---\n"), "\n---\n") {
		var obj struct {
			Spec struct {
				Source *struct {
					Plugin *struct {
						Name string `json:"name"`
						Env  []struct{ Name, Value string }
					} `json:"plugin"`
				} `json:"source"`
			} `json:"spec"`
		}
		var meta struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &meta); err != nil {
			t.Fatal(err)
		}
		if meta.Kind != "Application" {
			continue
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatal(err)
		}
		if obj.Spec.Source == nil || obj.Spec.Source.Plugin == nil || obj.Spec.Source.Plugin.Name != "cocogen" {
			continue
		}
		for _, e := range obj.Spec.Source.Plugin.Env {
			if e.Name == "COCOGEN_APP" {
				apps = append(apps, e.Value)
			}
		}
	}
	if len(apps) == 0 {
		t.Fatal("the built-in pattern has no child Application that names the cocogen plugin")
	}
	source := []string{"--set-string", "global.repoURL=https://github.com/cocogen/cocogen.git", "--set-string", "global.targetRevision=main"}
	for _, app := range apps {
		t.Run(app, func(t *testing.T) {
			argoEnv(t, nil)
			wantCode, want, wantErr := cli(t, "", append([]string{"render", "--app", app}, source...)...)
			argoEnv(t, rootApp(map[string]string{"ARGOCD_APP_NAME": app, "ARGOCD_ENV_COCOGEN_APP": app}))
			code, out, errOut := cli(t, "", "generate")
			if wantCode == 0 {
				if code != 0 || out != want {
					t.Errorf("render --app %s renders; generate: exit %d, same bytes %v\n%s", app, code, out == want, errOut)
				}
				return
			}
			if code == 0 || out != "" {
				t.Fatalf("render --app %s fails, generate: exit %d with %d bytes of output", app, code, len(out))
			}
			for l := range strings.SplitSeq(strings.TrimSpace(wantErr), "\n") {
				if !strings.Contains(errOut, l) {
					t.Errorf("generate's stderr lacks render's %q:\n%s", l, errOut)
				}
			}
		})
	}
}

func TestGenerateFailsLoudly(t *testing.T) {
	broken := map[string]string{
		"values/values-global.yaml": globalValues,
		"values/values-hub.yaml":    "clusterGroup:\n  name: hub\n  namespaces: []\n  applications:\n    vault:\n      name: vault\n      nmespace: vault\n      chart: hashicorp-vault\n      chartVersion: 0.1.8\n",
	}
	cases := []struct {
		name    string
		files   map[string]string
		env     map[string]string
		wantErr []string
	}{
		{
			name:    "broken values: file:line:col and the command to reproduce",
			files:   broken,
			env:     rootApp(map[string]string{"ARGOCD_APP_SOURCE_REPO_URL": "https://bob:s3cr3t-t0ken@git.example.com/me/cocogen.git"}),
			wantErr: []string{`values/values-hub.yaml:7:7: error: clusterGroup.applications.vault: unknown key "nmespace"; did you mean "namespace"?`, "to reproduce at the repository root: cocogen render --repo-root . --set-string 'global.repoURL=https://***@git.example.com/me/cocogen.git'"},
		},
		{
			name:    "an application cocogen does not render",
			files:   map[string]string{"values/values-global.yaml": globalValues, "values/values-hub.yaml": "clusterGroup:\n  name: hub\n  namespaces: []\n  applications: {}\n"},
			env:     rootApp(map[string]string{"ARGOCD_ENV_COCOGEN_APP": "trustee"}),
			wantErr: []string{`no application "trustee"`, `in cluster group "hub"`, "values/values-hub.yaml:2:3: error: "},
		},
		{
			name:    "a typo in the plugin env",
			files:   broken,
			env:     rootApp(map[string]string{"ARGOCD_ENV_COCOGEN_CLUSTERGROUP": "hub"}),
			wantErr: []string{`error: ARGOCD_ENV_COCOGEN_CLUSTERGROUP: not a plugin env entry that cocogen reads`, `did you mean "COCOGEN_CLUSTER_GROUP"?`},
		},
		{
			name:    "a repository that is not complete",
			files:   broken,
			env:     rootApp(map[string]string{"ARGOCD_APP_SOURCE_PATH": "apps/coco"}),
			wantErr: []string{"does not end with ARGOCD_APP_SOURCE_PATH"},
		},
		{
			name:    "a metadata file that does not exist",
			files:   broken,
			env:     rootApp(map[string]string{"ARGOCD_ENV_COCOGEN_METADATA": "clusters/prod.yaml"}),
			wantErr: []string{"read the metadata file clusters/prod.yaml"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeRepo(t, c.files)
			t.Chdir(dir)
			argoEnv(t, c.env)
			t.Setenv("SIDECAR_SECRET", "do-not-print-me")
			code, out, errOut := cli(t, "", "generate")
			if code == 0 {
				t.Fatalf("exit 0, want a failure; stdout:\n%s", out)
			}
			if out != "" {
				t.Errorf("stdout must be empty on failure, got %q", out)
			}
			for _, w := range c.wantErr {
				if !strings.Contains(errOut, w) {
					t.Errorf("stderr lacks %q:\n%s", w, errOut)
				}
			}
			for _, secret := range []string{"s3cr3t", "do-not-print-me"} {
				if strings.Contains(errOut, secret) {
					t.Errorf("stderr shows a secret:\n%s", errOut)
				}
			}
			if strings.Contains(errOut, "Usage:") || strings.Contains(errOut, "--help") {
				t.Errorf("usage text in a plugin error (Argo CD shows and caches it):\n%s", errOut)
			}
		})
	}
}

func TestParameters(t *testing.T) {
	cases := []struct {
		name      string
		env       map[string]string
		wantGroup string
		wantWarn  string
	}{
		{"the repository's default group", map[string]string{"ARGOCD_APP_SOURCE_PATH": ".", "ARGOCD_APP_PARAMETERS": "null"}, "azure", ""},
		{"the group the plugin env names", map[string]string{"ARGOCD_ENV_COCOGEN_CLUSTER_GROUP": "hub"}, "hub", ""},
		{"the group the parameter names", map[string]string{"ARGOCD_ENV_COCOGEN_CLUSTER_GROUP": "hub", "ARGOCD_APP_PARAMETERS": `[{"name":"cluster-group","string":"edge"}]`}, "edge", ""},
		{"a broken environment still announces", map[string]string{"ARGOCD_ENV_BOGUS": "1"}, "azure", "warning: ARGOCD_ENV_BOGUS"},
		{"an unknown values directory still announces", map[string]string{"ARGOCD_ENV_COCOGEN_VALUES_DIR": "nowhere"}, "", "warning: "},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			atRoot(t)
			argoEnv(t, c.env)
			code, out, errOut := cli(t, "", "parameters")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			var list []plugin.Announcement
			if err := json.Unmarshal([]byte(out), &list); err != nil {
				t.Fatalf("not a JSON array of announcements (Argo CD rejects an object): %v\n%s", err, out)
			}
			if len(list) != 1 || list[0].Name != "cluster-group" || list[0].String != c.wantGroup {
				t.Errorf("got %+v, want cluster-group %q", list, c.wantGroup)
			}
			if c.wantWarn == "" && errOut != "" || !strings.Contains(errOut, c.wantWarn) {
				t.Errorf("stderr %q, want %q", errOut, c.wantWarn)
			}
		})
	}
}

func TestBootstrap(t *testing.T) {
	code, out, errOut := cli(t, "", "bootstrap", "--repo-url", "https://github.com/me/cocogen.git", "--image", "quay.io/me/cocogen:v1", "--cluster-group", "azure")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var kinds []string
	for doc := range strings.SplitSeq(strings.TrimPrefix(out, "---\n"), "\n---\n") {
		var obj struct {
			Kind string `json:"kind"`
		}
		if err := yaml.Unmarshal([]byte(doc), &obj); err != nil {
			t.Fatalf("not YAML: %v\n%s", err, doc)
		}
		kinds = append(kinds, obj.Kind)
	}
	if got := strings.Join(kinds, " "); got != "Namespace Namespace ConfigMap ClusterRoleBinding Application ArgoCD OperatorGroup Subscription" {
		t.Errorf("kinds %s", got)
	}
	if !strings.Contains(out, "      - name: COCOGEN_CLUSTER_GROUP\n        value: azure\n") {
		t.Errorf("the root Application does not name the cluster group:\n%s", out)
	}
	_, again, _ := cli(t, "", "bootstrap", "--repo-url", "https://github.com/me/cocogen.git", "--image", "quay.io/me/cocogen:v1", "--cluster-group", "azure")
	if again != out {
		t.Errorf("two bootstraps differ")
	}
	code, out, errOut = cli(t, "", "bootstrap")
	if code != 2 || out != "" || !strings.Contains(errOut, "--repo-url") || !strings.Contains(errOut, "--image") {
		t.Errorf("missing flags: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// TestContractTableInREADME keeps the README's copy of the plugin contract equal to the one generate --help
// prints.
func TestContractTableInREADME(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), plugin.ContractTable()) {
		t.Errorf("README.md does not contain the plugin contract table; paste plugin.ContractTable():\n%s", plugin.ContractTable())
	}
	if !strings.Contains(string(readme), plugin.Precedence) {
		t.Errorf("README.md does not state the precedence: %s", plugin.Precedence)
	}
}

// TestGenerateHelpIsProse: the plugin contract reads as text in a terminal, not as a Markdown table (the README
// keeps the table); every input is in it.
func TestGenerateHelpIsProse(t *testing.T) {
	code, out, _ := cli(t, "", "generate", "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.Contains(out, "|---") || strings.Contains(out, "`") {
		t.Errorf("generate --help holds Markdown:\n%s", out)
	}
	for _, name := range []string{"COCOGEN_APP", "COCOGEN_CLUSTER_GROUP", "COCOGEN_SET_STRING", "COCOGEN_FACT_<KEY>", "ARGOCD_APP_SOURCE_PATH", "COCOGEN_BUDGET_<NAME>"} {
		if !strings.Contains(out, "\n  "+name) {
			t.Errorf("generate --help does not list %s", name)
		}
	}
}
