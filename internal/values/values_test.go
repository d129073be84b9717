package values

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
)

// openRepo writes files (slash-separated paths relative to a new root) and opens the root. It changes the
// working directory to the root so that diagnostics show root-relative paths.
func openRepo(t *testing.T, files map[string]string) *repo.Root {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	r, err := repo.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// sets turns --set arguments into params.
func sets(t *testing.T, args ...string) []helmvalues.Param {
	t.Helper()
	var out []helmvalues.Param
	for _, a := range args {
		ps, err := helmvalues.ParseSet(a, false)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ps...)
	}
	return out
}

// lines renders diagnostics of at least the given severity, sorted, one string each.
func lines(l *diag.List, min diag.Severity) []string {
	var out []string
	for _, d := range l.Sorted() {
		if d.Severity >= min {
			out = append(out, d.String())
		}
	}
	return out
}

func fileList(ld *Loaded) []string {
	var out []string
	for _, f := range ld.Files {
		out = append(out, fmt.Sprintf("%s (%s, found=%v)", f.Path, f.Role, f.Found))
	}
	return out
}

func mustLoad(t *testing.T, o Options) *Loaded {
	t.Helper()
	ld, d := Load(o)
	if ld == nil || d.HasErrors() {
		t.Fatalf("Load failed:\n%s", strings.Join(lines(d, diag.Info), "\n"))
	}
	return ld
}

func TestLoadLayeringOrder(t *testing.T) {
	// Each layer i writes order.s<j> = <its name> for every j >= i, so that s<j> ends up with the name of
	// layer j exactly when layer j is merged after every earlier layer. Every layer also writes "last",
	// which the params must override.
	layers := []struct{ name, path string }{
		{"global", "values-global.yaml"},
		{"group", "values-hub.yaml"},
		{"platform", "values-Azure.yaml"},
		{"platform-version", "values-Azure-4.19.yaml"},
		{"platform-group", "values-Azure-hub.yaml"},
		{"version-group", "values-4.19-hub.yaml"},
		{"cluster", "values-coco.yaml"},
		{"extra1", "extra/one.yaml"},
		{"extra2", "extra/two.yaml"},
		{"shared1", "overrides/values-Azure.yaml"},
		{"shared2", "overrides/shared.yaml"},
	}
	files := map[string]string{}
	for i, l := range layers {
		var b strings.Builder
		switch l.name {
		case "global":
			b.WriteString("main:\n  clusterGroupName: hub\nglobal:\n  extraValueFiles:\n    - /extra/one.yaml\n    - extra/two.yaml\n")
		case "group":
			b.WriteString("clusterGroup:\n  sharedValueFiles:\n    - '/overrides/values-{{ $.Values.global.clusterPlatform }}.yaml'\n    - $patternref/overrides/shared.yaml\n")
		}
		b.WriteString("order:\n")
		for j := i; j < len(layers); j++ {
			fmt.Fprintf(&b, "  s%02d: %s\n", j, l.name)
		}
		fmt.Fprintf(&b, "last: %s\n", l.name)
		files[l.path] = b.String()
	}
	r := openRepo(t, files)
	ld := mustLoad(t, Options{Root: r, Dir: ".", Params: sets(t,
		"global.clusterPlatform=Azure,global.clusterVersion=4.19,global.localClusterName=coco", "last=param")})

	order := ld.Values.Get("order")
	for j, l := range layers {
		key := fmt.Sprintf("s%02d", j)
		if got := order.Get(key).Scalar(); got != l.name {
			t.Errorf("order.%s = %q, want %q: layer %s is not merged after the ones before it", key, got, l.name, l.name)
		}
	}
	if got := ld.Values.Get("last").Scalar(); got != "param" {
		t.Errorf("last = %q, want the param to win over every file", got)
	}

	want := []string{
		"values-global.yaml (global, found=true)",
		"values-hub.yaml (cluster group, found=true)",
		"values-Azure.yaml (platform, found=true)",
		"values-Azure-4.19.yaml (platform and version, found=true)",
		"values-Azure-hub.yaml (platform and group, found=true)",
		"values-4.19-hub.yaml (version and group, found=true)",
		"values-coco.yaml (local cluster, found=true)",
		"extra/one.yaml (global.extraValueFiles, found=true)",
		"extra/two.yaml (global.extraValueFiles, found=true)",
		"overrides/values-Azure.yaml (clusterGroup.sharedValueFiles, found=true)",
		"overrides/shared.yaml (clusterGroup.sharedValueFiles, found=true)",
	}
	if got := fileList(ld); !slices.Equal(got, want) {
		t.Errorf("files:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	shared := ld.Files[9]
	if shared.Entry != "/overrides/values-{{ $.Values.global.clusterPlatform }}.yaml" || shared.EntryPos.String() != "values-hub.yaml:3:7" {
		t.Errorf("templated shared file entry %q at %s, want the template as written at values-hub.yaml:3:7", shared.Entry, shared.EntryPos)
	}
	if ld.Group != "hub" || ld.GroupPos.String() != "values-global.yaml:2:21" || ld.Dir != "." {
		t.Errorf("group %q at %s, dir %q; want hub at values-global.yaml:2:21 in .", ld.Group, ld.GroupPos, ld.Dir)
	}
	// Chart defaults fill what no file sets.
	if v := ld.Values.Path("global", "vpArgoNamespace"); v.Scalar() != "openshift-gitops" || !IsDefault(v) {
		t.Errorf("global.vpArgoNamespace = %v (default %v), want the chart default", v, IsDefault(v))
	}
	if IsDefault(ld.Values.Get("last")) {
		t.Error("a user value is reported as a chart default")
	}
}

func TestLoadMagicFiles(t *testing.T) {
	base := map[string]string{
		"values-global.yaml": "main:\n  clusterGroupName: hub\n",
		"values-hub.yaml":    "clusterGroup:\n  name: hub\n",
	}
	cases := []struct {
		name   string
		extra  map[string]string
		params []string
		want   []string // files after the global and group files
	}{
		{name: "no facts, no magic files", extra: map[string]string{"values-Azure.yaml": "x: 1\n", "values-coco.yaml": "x: 1\n"}},
		{
			name:   "platform only",
			params: []string{"global.clusterPlatform=Azure"},
			want:   []string{"values-Azure.yaml (platform, found=false)", "values-Azure-hub.yaml (platform and group, found=false)"},
		},
		{
			name:   "version only",
			params: []string{"global.clusterVersion=4.19"},
			want:   []string{"values-4.19-hub.yaml (version and group, found=false)"},
		},
		{
			name:   "cluster only",
			params: []string{"global.localClusterName=coco"},
			want:   []string{"values-coco.yaml (local cluster, found=false)"},
		},
		{
			name:  "facts from values-global.yaml",
			extra: map[string]string{"values-global.yaml": "main:\n  clusterGroupName: hub\nglobal:\n  clusterPlatform: AWS\n", "values-AWS.yaml": "x: 1\n"},
			want:  []string{"values-AWS.yaml (platform, found=true)", "values-AWS-hub.yaml (platform and group, found=false)"},
		},
		{
			name:  "a version from a file prints as Helm prints it",
			extra: map[string]string{"values-hub.yaml": "global:\n  clusterVersion: 4.10\n"},
			want:  []string{"values-4.1-hub.yaml (version and group, found=false)"},
		},
		{
			name:   "params win over files for facts",
			extra:  map[string]string{"values-global.yaml": "main:\n  clusterGroupName: hub\nglobal:\n  clusterPlatform: AWS\n"},
			params: []string{"global.clusterPlatform=GCP"},
			want:   []string{"values-GCP.yaml (platform, found=false)", "values-GCP-hub.yaml (platform and group, found=false)"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := map[string]string{}
			for k, v := range base {
				files[k] = v
			}
			for k, v := range c.extra {
				files[k] = v
			}
			r := openRepo(t, files)
			ld, d := Load(Options{Root: r, Dir: ".", Params: sets(t, c.params...)})
			if ld == nil {
				t.Fatalf("Load failed: %v", lines(d, diag.Info))
			}
			got := fileList(ld)[2:]
			if !slices.Equal(got, c.want) {
				t.Errorf("magic files %q, want %q", got, c.want)
			}
			// Each missing optional file is noted, nothing more.
			var infos int
			for _, f := range ld.Files {
				if !f.Found {
					infos++
				}
			}
			if n := len(lines(d, diag.Info)); n != infos || len(lines(d, diag.Warning)) != 0 {
				t.Errorf("diagnostics %q, want one note per missing optional file (%d)", lines(d, diag.Info), infos)
			}
		})
	}
}

func TestLoadValuesDir(t *testing.T) {
	r := openRepo(t, map[string]string{
		"values/values-global.yaml": "main:\n  clusterGroupName: hub\nglobal:\n  extraValueFiles: [/values/extra.yaml]\n",
		"values/values-hub.yaml":    "a: group\n",
		"values/values-coco.yaml":   "a: cluster\n",
		"values/extra.yaml":         "b: extra\n",
	})
	ld := mustLoad(t, Options{Root: r, Dir: "values", Params: sets(t, "global.localClusterName=coco")})
	want := []string{
		"values/values-global.yaml (global, found=true)",
		"values/values-hub.yaml (cluster group, found=true)",
		"values/values-coco.yaml (local cluster, found=true)",
		"values/extra.yaml (global.extraValueFiles, found=true)",
	}
	if got := fileList(ld); !slices.Equal(got, want) {
		t.Errorf("files %q, want %q", got, want)
	}
	if ld.Values.Get("a").Scalar() != "cluster" || ld.Values.Get("b").Scalar() != "extra" || ld.Dir != "values" {
		t.Errorf("a=%v b=%v dir=%q", ld.Values.Get("a"), ld.Values.Get("b"), ld.Dir)
	}
}

func TestLoadDiagnostics(t *testing.T) {
	const global = "main:\n  clusterGroupName: hub\n"
	cases := []struct {
		name   string
		files  map[string]string
		dir    string
		group  string
		params []string
		// errors and warnings expected, as printed, in sorted order; ok says Load must still succeed.
		want []string
		ok   bool
	}{
		{
			name: "missing explicit files are warnings at the list entry",
			files: map[string]string{
				"values-global.yaml": "main:\n  clusterGroupName: hub\nglobal:\n  extraValueFiles:\n    - /extra/missing.yaml\n",
				"values-hub.yaml":    "clusterGroup:\n  sharedValueFiles:\n    - /overrides/values-{{ $.Values.global.clusterPlatform }}.yaml\n",
			},
			params: []string{"global.clusterPlatform=Azure"},
			want: []string{
				"values-global.yaml:5:7: warning: global.extraValueFiles: value file /extra/missing.yaml does not exist; Validated Patterns skips missing value files, so a typo here goes unnoticed",
				`values-hub.yaml:3:7: warning: clusterGroup.sharedValueFiles: value file /overrides/values-Azure.yaml (from "/overrides/values-{{ $.Values.global.clusterPlatform }}.yaml") does not exist; Validated Patterns skips missing value files, so a typo here goes unnoticed`,
			},
			ok: true,
		},
		{
			name:  "missing values-global.yaml",
			files: map[string]string{"values-hub.yaml": "a: 1\n"},
			want:  []string{"values-global.yaml: error: values-global.yaml not found in the values directory ."},
		},
		{
			name:  "values kept at the root but --values-dir values",
			files: map[string]string{"values-global.yaml": global, "values/values-hub.yaml": "a: 1\n"},
			dir:   "values",
			want:  []string{"values/values-global.yaml: error: values-global.yaml not found in the values directory values; this repository keeps its values at the root: use --values-dir ."},
		},
		{
			name:  "missing group file",
			files: map[string]string{"values-global.yaml": global},
			want:  []string{`values-global.yaml:2:21: error: cluster group "hub" has no values file: values-hub.yaml does not exist`},
		},
		{
			name: "variant and clusterGroupName together",
			files: map[string]string{
				"values-global.yaml": "main:\n  clusterGroupName: hub\n  variant: spoke\n",
				"values-hub.yaml":    "a: 1\n",
			},
			want: []string{"values-global.yaml:3:12: error: main.variant: set either main.clusterGroupName or main.variant, not both"},
		},
		{
			name:  "no cluster group",
			files: map[string]string{"values-global.yaml": "global:\n  pattern: x\n"},
			want:  []string{"values-global.yaml: error: main.clusterGroupName: no cluster group: set main.clusterGroupName in values-global.yaml or pass --cluster-group"},
		},
		{
			name:  "group name with a slash in the file",
			files: map[string]string{"values-global.yaml": "main:\n  clusterGroupName: ../secrets/x\n"},
			want:  []string{`values-global.yaml:2:21: error: main.clusterGroupName: "../secrets/x" is not a valid cluster group name (letters, digits, -, _ and .)`},
		},
		{
			name:  "group name with a slash from --cluster-group",
			files: map[string]string{"values-global.yaml": global, "values-hub.yaml": "a: 1\n"},
			group: "a/b",
			want:  []string{`--cluster-group: error: "a/b" is not a valid cluster group name`},
		},
		{
			name:  "a values file that is not a map",
			files: map[string]string{"values-global.yaml": global, "values-hub.yaml": "- a\n- b\n"},
			want:  []string{"values-hub.yaml:1:1: error: a values file must hold a map of keys, not a list"},
		},
		{
			name:  "invalid YAML keeps its position",
			files: map[string]string{"values-global.yaml": global, "values-hub.yaml": "a: 1\na: 2\n"},
			want:  []string{`values-hub.yaml:2:1: error: key "a" is defined twice in this map`},
		},
		{
			name: "explicit file outside the repository",
			files: map[string]string{
				"values-global.yaml": "main:\n  clusterGroupName: hub\nglobal:\n  extraValueFiles: [../outside.yaml]\n",
				"values-hub.yaml":    "a: 1\n",
			},
			want: []string{`values-global.yaml:4:21: error: global.extraValueFiles: path "../outside.yaml" leaves the repository root`},
		},
		{
			name: "extraValueFiles that is not a list",
			files: map[string]string{
				"values-global.yaml": "main:\n  clusterGroupName: hub\nglobal:\n  extraValueFiles: /a.yaml\n",
				"values-hub.yaml":    "a: 1\n",
			},
			want: []string{"values-global.yaml:4:20: error: global.extraValueFiles: must be a list, not a string"},
		},
		{
			name: "a template that fails",
			files: map[string]string{
				"values-global.yaml": global,
				"values-hub.yaml":    "clusterGroup:\n  sharedValueFiles:\n    - /a.yaml\n    - '{{ env \"HOME\" }}'\n",
			},
			want: []string{
				`values-hub.yaml:3:7: warning: clusterGroup.sharedValueFiles: value file /a.yaml does not exist; Validated Patterns skips missing value files, so a typo here goes unnoticed`,
				`values-hub.yaml:4:7: error: clusterGroup.sharedValueFiles[1]: template: template function env reads the environment: values are evaluated without clock, randomness, network, environment or cluster, so that one commit always renders the same bytes`,
			},
		},
		{
			name:   "a fact that would name a file outside the values directory",
			files:  map[string]string{"values-global.yaml": global, "values-hub.yaml": "a: 1\n"},
			params: []string{"global.localClusterName=../../etc/passwd"},
			want:   []string{`error: value file name "values-../../etc/passwd.yaml" built from the cluster facts is not a plain file name`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := openRepo(t, c.files)
			dir := c.dir
			if dir == "" {
				dir = "."
			}
			ld, d := Load(Options{Root: r, Dir: dir, ClusterGroup: c.group, Params: sets(t, c.params...)})
			if got := lines(d, diag.Warning); !slices.Equal(got, c.want) {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if c.ok != (ld != nil) {
				t.Errorf("Load returned %v, want a result: %v", ld, c.ok)
			}
			if c.ok == d.HasErrors() {
				t.Errorf("HasErrors() = %v, want %v", d.HasErrors(), !c.ok)
			}
		})
	}
}

func TestLoadClusterGroupChoice(t *testing.T) {
	files := map[string]string{
		"values-global.yaml": "main:\n  clusterGroupName: hub\n",
		"values-hub.yaml":    "who: hub\n",
		"values-spoke.yaml":  "who: spoke\n",
		"values-edge.yaml":   "who: edge\n",
	}
	variant := map[string]string{
		"values-global.yaml": "main:\n  variant: edge\n",
		"values-edge.yaml":   "who: edge\n",
	}
	cases := []struct {
		name    string
		files   map[string]string
		group   string
		params  []string
		want    string
		wantPos string
	}{
		{name: "main.clusterGroupName", files: files, want: "hub", wantPos: "values-global.yaml:2:21"},
		{name: "--cluster-group overrides", files: files, group: "spoke", want: "spoke", wantPos: "--cluster-group"},
		{name: "--cluster-group beats --set", files: files, group: "spoke", params: []string{"main.clusterGroupName=edge"}, want: "spoke", wantPos: "--cluster-group"},
		{name: "--set main.clusterGroupName", files: files, params: []string{"main.clusterGroupName=edge"}, want: "edge", wantPos: "--set main.clusterGroupName"},
		{name: "main.variant", files: variant, want: "edge", wantPos: "values-global.yaml:2:12"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := openRepo(t, c.files)
			ld := mustLoad(t, Options{Root: r, Dir: ".", ClusterGroup: c.group, Params: sets(t, c.params...)})
			if ld.Group != c.want || ld.GroupPos.String() != c.wantPos {
				t.Errorf("group %q at %q, want %q at %q", ld.Group, ld.GroupPos, c.want, c.wantPos)
			}
			if got := ld.Values.Get("who").Scalar(); got != c.want {
				t.Errorf("values come from values-%s.yaml, want values-%s.yaml", got, c.want)
			}
			if ld.Files[1].Path != "values-"+c.want+".yaml" {
				t.Errorf("group file %s, want values-%s.yaml", ld.Files[1].Path, c.want)
			}
		})
	}
}

func TestLoadNullSemantics(t *testing.T) {
	r := openRepo(t, map[string]string{
		"values-global.yaml": "main:\n  clusterGroupName: hub\nglobal:\n  mine: set\n",
		"values-hub.yaml": "global:\n  pattern: null\n  mine: null\n  options:\n    applicationRetryLimit: ~\n" +
			"clusterGroup:\n  name: hub\n  targetCluster: null\n  extra: null\nsecretStore: null\n",
	})
	ld := mustLoad(t, Options{Root: r, Dir: "."})
	v := ld.Values
	cases := []struct {
		name    string
		path    []string
		present bool
		value   string // "null" for a present null
	}{
		{name: "null deletes a chart default", path: []string{"global", "pattern"}},
		{name: "null deletes a nested chart default", path: []string{"global", "options", "applicationRetryLimit"}},
		{name: "sibling defaults stay", path: []string{"global", "options", "syncPolicy"}, present: true, value: "Automatic"},
		{name: "null deletes a default map", path: []string{"secretStore"}},
		{name: "null over a default in clusterGroup", path: []string{"clusterGroup", "targetCluster"}},
		{name: "null without a default stays null", path: []string{"clusterGroup", "extra"}, present: true, value: "null"},
		{name: "null over an earlier file without a default stays null", path: []string{"global", "mine"}, present: true, value: "null"},
		{name: "untouched defaults are filled in", path: []string{"clusterGroup", "imperative", "namespace"}, present: true, value: "imperative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			parent := v.Path(c.path[:len(c.path)-1]...)
			got, ok := parent.Lookup(c.path[len(c.path)-1])
			if ok != c.present {
				t.Fatalf("%s present = %v (%v), want %v", strings.Join(c.path, "."), ok, got, c.present)
			}
			if !ok {
				return
			}
			if s := got.String(); s != c.value {
				t.Errorf("%s = %s, want %s", strings.Join(c.path, "."), s, c.value)
			}
		})
	}
	// The embedded defaults themselves are not changed by a load.
	if Defaults().Path("global", "pattern").Scalar() != "common" {
		t.Error("loading values changed the chart defaults")
	}
}

func TestRepoPath(t *testing.T) {
	cases := []struct {
		in, want, err string
	}{
		{in: "/overrides/values-Azure.yaml", want: "overrides/values-Azure.yaml"},
		{in: "$patternref/overrides/x.yaml", want: "overrides/x.yaml"},
		{in: "overrides/x.yaml", want: "overrides/x.yaml"},
		{in: "/", err: "names a directory"},
		{in: "$patternref", err: "empty path"},
		{in: "overrides/", err: `value file path "overrides/" names a directory`},
		{in: "/../x.yaml", err: "leaves the repository root"},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			got, err := RepoPath(c.in)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("RepoPath(%q) = %q, %v; want error containing %q", c.in, got, err, c.err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("RepoPath(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	d := Defaults()
	if d.Kind != node.Map || d.Path("global", "options", "applicationRetryLimit").Scalar() != "20" {
		t.Fatalf("chart defaults not loaded: %v", d)
	}
	if !IsDefault(d.Path("secretStore", "kind")) || IsDefault(nil) {
		t.Error("IsDefault does not recognise the chart defaults")
	}
}
