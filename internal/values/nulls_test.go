package values

import (
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
)

// TestLoadNullOverChartDefaults checks what a null does where the clustergroup chart has a default: a key the
// chart requires is a positioned error saying what to write; a block the chart's templates read key by key
// is read as an empty block (the defaults apply) with a warning; an empty values-global.yaml says what it
// needs.
func TestLoadNullOverChartDefaults(t *testing.T) {
	const global = "main:\n  clusterGroupName: hub\n"
	const hub = "clusterGroup:\n  name: hub\n  namespaces: [a]\n  applications: {}\n"
	cases := []struct {
		name    string
		global  string
		hub     string
		params  []string
		want    []string // diagnostics (warnings and errors)
		check   func(t *testing.T, ld *Loaded)
		failing bool
	}{
		{
			name:    "empty values-global.yaml",
			global:  "",
			hub:     hub,
			failing: true,
			want:    []string{"values-global.yaml: error: main.clusterGroupName: no cluster group: values-global.yaml is empty; set main.clusterGroupName in it (main: {clusterGroupName: <group>}) or pass --cluster-group"},
		},
		{
			name:    "comment-only values-global.yaml",
			global:  "# main:\n#   clusterGroupName: hub\n",
			hub:     hub,
			failing: true,
			want:    []string{"values-global.yaml: error: main.clusterGroupName: no cluster group: values-global.yaml is empty; set main.clusterGroupName in it (main: {clusterGroupName: <group>}) or pass --cluster-group"},
		},
		{
			name:    "main.clusterGroupName of the wrong type",
			global:  "main:\n  clusterGroupName: [hub]\n",
			hub:     hub,
			failing: true,
			want:    []string{"values-global.yaml:2:21: error: main.clusterGroupName: must be the name of a cluster group (a string), not a list"},
		},
		{
			name:   "null imperative block: the chart defaults apply",
			global: global,
			hub:    hub + "  imperative:\n    # jobs: []\n",
			want:   []string{"values-hub.yaml:5:14: warning: clusterGroup.imperative: is null: read as an empty block, so that the chart's defaults apply (Helm would delete them and fail); remove the key or write imperative: {}"},
			check: func(t *testing.T, ld *Loaded) {
				if got := ld.Values.Path("clusterGroup", "imperative", "namespace").Scalar(); got != "imperative" {
					t.Errorf("clusterGroup.imperative.namespace = %q, want the chart default imperative", got)
				}
			},
		},
		{
			name:   "null argoCD block by --set",
			global: global,
			hub:    hub,
			params: []string{"clusterGroup.argoCD=null"},
			want:   []string{"--set clusterGroup.argoCD: warning: clusterGroup.argoCD: is null: read as an empty block, so that the chart's defaults apply (Helm would delete them and fail); remove the key or write argoCD: {}"},
			check: func(t *testing.T, ld *Loaded) {
				if got := ld.Values.Path("clusterGroup", "argoCD", "resourceTrackingMethod").Scalar(); got != "annotation" {
					t.Errorf("clusterGroup.argoCD.resourceTrackingMethod = %q, want the chart default", got)
				}
			},
		},
		{
			name:   "global: null in the group file",
			global: global + "global:\n  pattern: mine\n",
			hub:    hub + "global: null\n",
			want:   []string{"values-hub.yaml:5:9: warning: global: is null: read as an empty block, so that the chart's defaults apply (Helm would delete them and fail); remove the key or write global: {}"},
			check: func(t *testing.T, ld *Loaded) {
				// The null replaces what values-global.yaml set (Helm's merge), then the defaults apply.
				if got := ld.Values.Path("global", "pattern").Scalar(); got != "common" {
					t.Errorf("global.pattern = %q, want the chart default common", got)
				}
				if g := ld.Values.Path("vp-rbac", "global"); g.IsNull() {
					t.Error("the vp-rbac subchart did not get a copy of global")
				}
			},
		},
		{
			name:    "global=null by --set",
			global:  global,
			hub:     hub,
			params:  []string{"global=null"},
			want:    []string{"--set global: warning: global: is null: read as an empty block, so that the chart's defaults apply (Helm would delete them and fail); remove the key or write global: {}"},
			check:   func(t *testing.T, ld *Loaded) {},
			failing: false,
		},
		{
			name:    "a required key",
			global:  global,
			hub:     "clusterGroup:\n  name: hub\n  namespaces: [a]\n  applications:\n",
			failing: true,
			want:    []string{"values-hub.yaml:4:16: error: clusterGroup.applications: is null, which deletes it, but the clustergroup chart requires it: write applications: {} for none"},
		},
		{
			name:    "a required key by --set",
			global:  global,
			hub:     hub,
			params:  []string{"global.options.useCSV=null", "clusterGroup=null"},
			failing: true,
			want: []string{
				"--set clusterGroup: error: clusterGroup: is null, which deletes it, but the clustergroup chart requires it: define the cluster group in values-<group>.yaml (clusterGroup: {name, namespaces, applications})",
				"--set global.options.useCSV: error: global.options.useCSV: is null, which deletes it, but the clustergroup chart requires it: write true or false, or remove the key for the default (true)",
			},
		},
		{
			name:   "other nulls delete, as Helm does",
			global: global,
			hub:    hub + "  subscriptions:\n  imperative:\n    namespace:\n",
			check: func(t *testing.T, ld *Loaded) {
				for _, p := range [][]string{{"clusterGroup", "subscriptions"}, {"clusterGroup", "imperative", "namespace"}} {
					if _, ok := ld.Values.Path(p[:len(p)-1]...).Lookup(p[len(p)-1]); ok {
						t.Errorf("%s is present, want it deleted", strings.Join(p, "."))
					}
				}
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := openRepo(t, map[string]string{"values-global.yaml": c.global, "values-hub.yaml": c.hub})
			ld, d := Load(Options{Root: r, Dir: ".", Params: sets(t, c.params...)})
			if got := lines(d, diag.Warning); !slices.Equal(got, c.want) {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if c.failing {
				if ld != nil {
					t.Error("Load succeeded, want errors")
				}
				return
			}
			if ld == nil {
				t.Fatal("Load failed")
			}
			if c.check != nil {
				c.check(t, ld)
			}
		})
	}
}
