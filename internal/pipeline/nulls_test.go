package pipeline

import (
	"testing"
	"testing/fstest"

	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/values"
)

// TestEveryValueNull is the regression net for issue 11: it sets every value of the values files and the
// metadata of the built-in pattern and of a small Validated Patterns repository to null, one at a time, in
// the file; the small repository also gets --set PATH=null of its own values and of every key of the
// clustergroup chart's defaults. Each render must end as Helm would make of the null (a render) or with
// positioned diagnostics: never a panic, never an internal error (exit 2). The fuzz target FuzzRenderValues
// goes further (retyped values, dropped keys, several changes at once).
func TestEveryValueNull(t *testing.T) {
	for _, name := range []string{"builtin", "vp-small"} {
		tr := loadMutTree(t, name)
		base := newMutState(t, tr)
		t.Run(name, func(t *testing.T) {
			if !checkRender(t, base.write(t, t.TempDir()), "unchanged", true) {
				t.Fatal("the unchanged tree does not render")
			}
		})
		// One subtest per file, in parallel: the built-in pattern renders in about 60 ms.
		for i, file := range tr.valueFiles {
			t.Run(name+"/"+file, func(t *testing.T) {
				t.Parallel()
				for _, tg := range base.targets() {
					if tg.file != i {
						continue
					}
					s := newMutState(t, tr)
					s.apply(tg, mutNull)
					checkRender(t, s.write(t, t.TempDir()), s.ops[0], false)
					if name == "vp-small" && len(tg.path) > 0 {
						s := newMutState(t, tr)
						s.apply(tg, mutSetNull)
						checkRender(t, s.write(t, t.TempDir()), s.ops[0], false)
					}
				}
			})
		}
	}
	// The chart defaults are the same for every tree: the small one renders fastest.
	t.Run("vp-small/chart-defaults", func(t *testing.T) {
		t.Parallel()
		tr := loadMutTree(t, "vp-small")
		for _, p := range defaultPaths() {
			s := newMutState(t, tr)
			s.sets = append(s.sets, p.String()+"=null")
			checkRender(t, s.write(t, t.TempDir()), "--set "+p.String()+"=null", false)
		}
	})
}

// defaultPaths lists the path of every key of the chart defaults (not list items).
func defaultPaths() []helmvalues.Path {
	var out []helmvalues.Path
	var walk func(n *node.Node, p helmvalues.Path)
	walk = func(n *node.Node, p helmvalues.Path) {
		for _, e := range n.Entries() {
			q := append(p[:len(p):len(p)], helmvalues.Step{Key: e.Key})
			out = append(out, q)
			walk(e.Value, q)
		}
	}
	walk(values.Defaults(), nil)
	return out
}

// TestNullBlockRendersAsAbsent: a block of settings that the clustergroup chart's templates read key by key,
// written with all its children commented out (null), renders the same objects as when the key is absent:
// the chart's defaults.
func TestNullBlockRendersAsAbsent(t *testing.T) {
	const hub = "clusterGroup:\n  name: hub\n  namespaces: [a]\n  applications: {}\n"
	global := smallVPGlobal + "global:\n  pattern: small\n  hubClusterDomain: apps.hub.example.com\n"
	cases := []struct{ name, global, hub string }{
		{name: "clusterGroup.imperative", global: global, hub: hub + "  imperative:\n    # jobs: []\n"},
		{name: "clusterGroup.imperative.ansibleDevMode", global: global, hub: hub + "  imperative:\n    ansibleDevMode:\n"},
		{name: "clusterGroup.argoCD", global: global, hub: hub + "  argoCD:\n    # configManagementPlugins: []\n"},
		{name: "global.secretStore", global: global + "  secretStore:\n    # backend: vault\n", hub: hub},
	}
	render := func(t *testing.T, global, hub string) string {
		repo := fstest.MapFS{"values-global.yaml": {Data: []byte(global)}, "values-hub.yaml": {Data: []byte(hub)}}
		out, errOut := renderText(t, Request{FS: repo, ValuesDir: "."})
		if out == "" {
			t.Fatalf("render failed:\n%s", errOut)
		}
		return stripSources(out)
	}
	want := render(t, global, hub)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := render(t, c.global, c.hub); got != want {
				t.Errorf("a null %s renders differently from an absent one:\n%s", c.name, lineDiff(want, got))
			}
		})
	}
}
