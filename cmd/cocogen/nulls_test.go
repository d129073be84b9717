package main

import (
	"regexp"
	"strings"
	"testing"
)

// diagLine is a diagnostic with a position: file:line:col, a file, or the flag that set the value.
var diagLine = regexp.MustCompile(`^(\S+\.yaml(:\d+:\d+)?|--set \S+): (error|warning): `)

// TestNullsNeverPanic runs the inputs of issue 11 through the CLI and the plugin: a null, an empty file or a
// null from --set, COCOGEN_SET or the set parameter either renders as Helm would make of it (exit 0) or fails
// with positioned diagnostics (exit 1, nothing on stdout); never a panic (which exits 2).
func TestNullsNeverPanic(t *testing.T) {
	const group = "clusterGroup:\n  name: hub\n  namespaces: [a]\n  applications: {}\n"
	const global = "main:\n  clusterGroupName: hub\n"
	cases := []struct {
		name        string
		global, hub string // a small Validated Patterns repository; both empty: the built-in pattern
		args        []string
		env         map[string]string // run generate with this plugin env instead of render
		code        int
		stderr      string // a line stderr must hold
	}{
		{name: "empty values-global.yaml", global: "", hub: group, code: 1,
			stderr: "values-global.yaml: error: main.clusterGroupName: no cluster group: values-global.yaml is empty"},
		{name: "comment-only values-global.yaml", global: "# main:\n#   clusterGroupName: hub\n", hub: group, code: 1,
			stderr: "values-global.yaml: error: main.clusterGroupName: no cluster group: values-global.yaml is empty"},
		{name: "imperative with its children commented out", global: global, hub: group + "  imperative:\n    # jobs: []\n", code: 0,
			stderr: "values-hub.yaml:5:14: warning: clusterGroup.imperative: is null: read as an empty block"},
		{name: "argoCD with its children commented out", global: global, hub: group + "  argoCD:\n    # configManagementPlugins: []\n", code: 0,
			stderr: "values-hub.yaml:5:10: warning: clusterGroup.argoCD: is null: read as an empty block"},
		{name: "global: null", global: global, hub: group + "global: null\n", code: 0,
			stderr: "values-hub.yaml:5:9: warning: global: is null: read as an empty block"},
		{name: "--set global=null", global: global, hub: group, args: []string{"--set", "global=null"}, code: 0,
			stderr: "--set global: warning: global: is null: read as an empty block"},
		{name: "applications: null", global: global, hub: "clusterGroup:\n  name: hub\n  namespaces: [a]\n  applications:\n", code: 1,
			stderr: "values-hub.yaml:4:16: error: clusterGroup.applications: is null, which deletes it, but the clustergroup chart requires it: write applications: {} for none"},
		{name: "built-in --all --set global=null", args: []string{"--all", "--set", "global=null"}, code: 1,
			stderr: "--set global: warning: global: is null: read as an empty block"},
		{name: "built-in --all --set clusterGroup=null", args: []string{"--all", "--set", "clusterGroup=null"}, code: 1,
			stderr: "--set clusterGroup: error: clusterGroup: is null, which deletes it, but the clustergroup chart requires it"},
		{name: "built-in --all --set global.coco=null", args: []string{"--all", "--set", "global.coco=null"}, code: 1,
			stderr: "--set global.coco: error: global.coco.initdata.default: is not set, and peer pods (application sandbox) need a default init-data profile"},
		{name: "built-in --all --set clusterGroup.applications.sandbox=null", args: []string{"--all", "--set", "clusterGroup.applications.sandbox=null"}, code: 0},
		{name: "built-in --set clusterGroup.imperative=null", args: []string{"--set", "clusterGroup.imperative=null"}, code: 0,
			stderr: "--set clusterGroup.imperative: warning: clusterGroup.imperative: is null: read as an empty block"},
		{name: "plugin COCOGEN_SET global=null", env: map[string]string{"ARGOCD_ENV_COCOGEN_SET": "global=null"}, code: 1,
			stderr: "--set global: warning: global: is null: read as an empty block"},
		{name: "plugin COCOGEN_SET clusterGroup.argoCD=null", env: map[string]string{"ARGOCD_ENV_COCOGEN_SET": "clusterGroup.argoCD=null"}, code: 0},
		{name: "plugin set parameter global=null", env: map[string]string{"ARGOCD_APP_PARAMETERS": `[{"name":"set","array":["global=null"]}]`}, code: 1,
			stderr: "--set global: warning: global: is null: read as an empty block"},
		{name: "plugin set parameter for the trustee application", env: map[string]string{"ARGOCD_ENV_COCOGEN_APP": "trustee",
			"ARGOCD_APP_PARAMETERS": `[{"name":"set","array":["global.coco.trustee=null"]}]`}, code: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var code int
			var out, errOut string
			switch {
			case c.env != nil:
				atRoot(t)
				argoEnv(t, rootApp(c.env))
				code, out, errOut = cli(t, "", "generate")
			case c.global == "" && c.hub == "":
				atRoot(t)
				code, out, errOut = cli(t, "", append([]string{"render"}, c.args...)...)
			default:
				dir := writeRepo(t, map[string]string{"values-global.yaml": c.global, "values-hub.yaml": c.hub})
				code, out, errOut = cli(t, "", append([]string{"render", "--repo-root", dir, "--values-dir", dir}, c.args...)...)
			}
			if code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", code, c.code, errOut)
			}
			if c.code != 0 && out != "" {
				t.Errorf("stdout must be empty on failure, got %.200q", out)
			}
			if c.code == 0 && !strings.Contains(out, "\nkind: ") {
				t.Errorf("no objects on stdout:\n%.300s", out)
			}
			if c.stderr != "" && !strings.Contains(errOut, c.stderr) {
				t.Errorf("stderr lacks %q:\n%s", c.stderr, errOut)
			}
			for _, l := range strings.Split(strings.TrimRight(errOut, "\n"), "\n") {
				if strings.Contains(l, ": error: ") && !diagLine.MatchString(strings.TrimPrefix(l, dirPrefix(l))) {
					t.Errorf("an error without a position: %s", l)
				}
			}
			if strings.Contains(errOut, "panic") || strings.Contains(errOut, "goroutine ") {
				t.Errorf("a panic reached the user:\n%s", errOut)
			}
		})
	}
}

// dirPrefix is the directory part of a diagnostic's file name (temporary directories hold spaces on some
// systems); the position check looks at what follows.
func dirPrefix(line string) string {
	if i := strings.Index(line, ".yaml"); i >= 0 {
		if j := strings.LastIndex(line[:i], "/"); j >= 0 {
			return line[:j+1]
		}
	}
	return ""
}
