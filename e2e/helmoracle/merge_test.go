package helmoracle

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	helmcli "helm.sh/helm/v3/pkg/cli/values"
	"helm.sh/helm/v3/pkg/getter"

	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/values"
)

// helmMerge is what `helm template -f f1 -f f2 ... --set s1 --set s2 ...` of the clustergroup chart hands its
// templates as .Values: Helm's CLI merges the value files and the --set values (pkg/cli/values), then
// chartutil coalesces them with the chart's defaults (cocogen's copy of the clustergroup chart's values.yaml).
func helmMerge(t *testing.T, files []string, sets []string) (map[string]any, error) {
	dir := t.TempDir()
	var paths []string
	for i, f := range files {
		p := filepath.Join(dir, fmt.Sprintf("values-%d.yaml", i))
		if err := os.WriteFile(p, []byte(f), 0o644); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, p)
	}
	opts := helmcli.Options{ValueFiles: paths, Values: sets}
	vals, err := opts.MergeValues(getter.Providers{})
	if err != nil {
		return nil, err
	}
	defaults, _ := helmvalues.Plain(values.Defaults()).(map[string]any)
	ch := &chart.Chart{
		Metadata: &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "clustergroup", Version: "0.9.55"},
		Values:   defaults,
	}
	out, err := chartutil.CoalesceValues(ch, vals)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// cocogenMerge is the same with cocogen's Helm value semantics: the files merged in order (helmvalues.Merge), the
// params set over them (helmvalues.SetParams) and the result coalesced with the chart defaults (helmvalues.Coalesce).
func cocogenMerge(files []string, sets []string) (any, error) {
	user := node.NewMap()
	for i, f := range files {
		n, err := node.Parse(fmt.Sprintf("values-%d.yaml", i), []byte(f), node.DefaultLimits)
		if err != nil {
			return nil, err
		}
		if n.IsNull() {
			continue
		}
		if n.Kind != node.Map {
			return nil, fmt.Errorf("values-%d.yaml holds a %s, not a map", i, n.Kind)
		}
		user = helmvalues.Merge(user, n)
	}
	var params []helmvalues.Param
	for _, s := range sets {
		ps, err := helmvalues.ParseSet(s, false)
		if err != nil {
			return nil, err
		}
		params = append(params, ps...)
	}
	user, err := helmvalues.SetParams(user, params)
	if err != nil {
		return nil, err
	}
	return helmvalues.Plain(helmvalues.Coalesce(values.Defaults(), user)), nil
}

func compareMerge(t *testing.T, files []string, sets []string) {
	t.Helper()
	want, herr := helmMerge(t, files, sets)
	got, cerr := cocogenMerge(files, sets)
	switch {
	case herr != nil && cerr != nil:
	case herr != nil && strings.Contains(herr.Error(), "interface {} is nil, not"):
		// Deliberate: a --set through a null of the value files fails in Helm ("unable to parse key"); cocogen
		// reads the null as absent (helmvalues.SetParams), as it reads a block written with all its children
		// commented out (internal/values/nulls.go).
	case herr != nil:
		t.Errorf("files %q, --set %q: Helm fails (%v), cocogen does not", files, sets, herr)
	case cerr != nil && slices.ContainsFunc(sets, func(s string) bool { return !utf8.ValidString(s) || !wellFormed.MatchString(s) }):
		// a malformed --set: cocogen is stricter on purpose (compareSet)
	case cerr != nil:
		t.Errorf("files %q, --set %q: cocogen fails (%v), Helm does not", files, sets, cerr)
	case !reflect.DeepEqual(got, any(want)):
		t.Errorf("files %q, --set %q: the values differ\n  Helm:    %#v\n  cocogen: %#v", files, sets, want, got)
	}
}

// mergeSeeds are two value files and a --set argument each: the layering cases the clustergroup chart meets.
var mergeSeeds = []struct{ a, b, set string }{
	{"global:\n  pattern: p\n", "clusterGroup:\n  name: hub\n", "global.clusterPlatform=Azure"},
	{"a:\n  b: 1\n  c: [1, 2]\n", "a:\n  c: [3]\n  d: x\n", ""},
	{"a:\n  b: 1\n", "a: null\n", ""},
	{"a: 1\n", "a:\n  b: 2\n", ""},
	{"a:\n  b: 2\n", "a: 1\n", ""},
	{"clusterGroup:\n  isHubCluster: null\n", "", ""},
	{"clusterGroup:\n  namespaces: null\n", "", ""},
	{"global:\n  options:\n    useCSV: null\n", "", ""},
	{"clusterGroup:\n  applications:\n    acm:\n      name: acm\n", "clusterGroup:\n  applications:\n    acm: null\n", ""},
	{"a: {}\n", "", "a.b=1"},
	{"a: 1\n", "", "a.b=1"},
	{"a: [x]\n", "", "a[1]=y"},
	{"a: [x]\n", "", "a.b=y"},
	{"x: 1.5\ny: 10\nz: 1e3\nw: 0x10\nv: 010\n", "", "y=11"},
	{"s: yes\nt: on\nu: ~\nv: 'true'\n", "", ""},
	{"k: &a {x: 1}\nl: *a\n", "", ""},
	{"global:\n  extraValueFiles: [/o/x.yaml]\n", "global:\n  extraValueFiles: []\n", ""},
	{"", "", "clusterGroup.name=x"},
}

func TestMergeAgainstHelm(t *testing.T) {
	for _, s := range mergeSeeds {
		var sets []string
		if s.set != "" {
			sets = []string{s.set}
		}
		compareMerge(t, []string{s.a, s.b}, sets)
	}
}

func FuzzMerge(f *testing.F) {
	for _, s := range mergeSeeds {
		f.Add(s.a, s.b, s.set)
	}
	f.Fuzz(func(t *testing.T, a, b, set string) {
		if len(a)+len(b)+len(set) > 1024 {
			return
		}
		var sets []string
		if set != "" {
			sets = []string{set}
		}
		compareMerge(t, []string{a, b}, sets)
	})
}
