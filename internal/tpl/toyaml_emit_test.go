package tpl

import (
	"math"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/node"
)

// emitCases are documents of the shapes values take, with the scalars yaml.v2 quotes, folds or sorts in
// its own way.
var emitCases = []any{
	map[string]any{},
	[]any{},
	map[string]any{"b": 1.0, "a": []any{"x", map[string]any{"k": "v", "e": []any{}}}, "A": nil, "10": "n", "9": true},
	[]any{[]any{"a", "b"}, map[string]any{"z": "1"}, "s", []any{}, map[string]any{}, nil, []any{[]any{"deep"}}},
	map[string]any{"m": map[string]any(nil), "l": []any(nil), "e": "", "q": "'q'", "dq": "\"dq\"", "colon": "a: b", "colonend": "a:", "hash": "a #b", "hash2": "a#b"},
	map[string]any{"words": []any{"yes", "no", "on", "off", "y", "n", "true", "null", "~", "Yes", "NULL", "yesterday", "nothing", "onion"}},
	map[string]any{"numbers": []any{"1", "0x1F", "1e3", "1:20", "4.18", "1.0.*", "0.9.*", "2001-12-14", ".inf", "-", "- x", "+1", "012", int64(7), float64(42), 1.5, 1e21, 1e-7, int64(math.MaxInt64), -0.0}},
	map[string]any{"odd": []any{"trailing space ", " lead", "tab\tin", "\u2028", "<&>", "日本", "é", "a\u00a0b", "{{ .Values.x }}", "x.{{ $.Values.global.localClusterDomain }}", "[x]", "a,b", "*", "&a", "!t", "%p", "@a", "`b", "|", ">", "?", "? x", ":x", "---", "...", "a\\b"}},
	map[string]any{"multi": "line one\nline two\n"},
	map[string]any{"long": "very long text that goes on and on past eighty columns so that yaml.v2 may decide to fold it somewhere along the way"},
	map[string]any{"longnospace": strings.Repeat("x", 200)},
	map[string]any{strings.Repeat("k", 130): "long key"},
	map[string]any{"deep": map[string]any{"deeper": map[string]any{"deepest": map[string]any{"k": "a value that is long enough to cross the eighty column line here"}}}},
	map[string]any{"a1": 1.0, "a01": 1.0, "a001": 1.0, "a10": 1.0, "a2": 1.0, "a-": 1.0, "a.": 1.0, "a_": 1.0, "aB": 1.0, "ab": 1.0, "a": 1.0, "": 1.0, "ä": 1.0, "a٣": 1.0, "0": 1.0, "00": 1.0, "1a": 1.0, "-1": 1.0},
	map[string]any{"bad": "\xff"},
	map[string]any{"k": []string{"typed"}},
}

func TestToYAMLEmitMatchesYAMLv2(t *testing.T) {
	handled := 0
	for _, v := range emitCases {
		got, ok := toYAMLEmit(v)
		if !ok {
			continue
		}
		handled++
		if want := viaJSON(t, v); got != want {
			t.Errorf("%#v:\n got %q\nwant %q", v, got, want)
		}
	}
	if handled < len(emitCases)/2 {
		t.Errorf("the emitter handled %d of %d cases: it should handle the common shapes", handled, len(emitCases))
	}
}

// TestToYAMLEmitHandlesValues: the emitter must take the values of a real pattern (else the render falls back
// to yaml.v2, correct but slow): block maps, lists of maps, templated strings, versions.
func TestToYAMLEmitHandlesValues(t *testing.T) {
	src := "clusterGroup:\n  name: hub\n  sharedValueFiles:\n  - /overrides/values-{{ $.Values.global.clusterPlatform }}.yaml\n" +
		"  applications:\n    app-0000:\n      name: app-0000\n      chartVersion: 1.0.*\n      overrides:\n      - name: route.host\n        value: app-0000.{{ $.Values.global.localClusterDomain }}\n" +
		"global:\n  clusterVersion: \"4.18\"\n  options:\n    useCSV: false\n    retries: 3\n"
	n, err := node.Parse("v.yaml", []byte(src), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	v := helmvalues.Plain(n)
	got, ok := toYAMLEmit(v)
	if !ok {
		t.Fatal("the emitter left a common values document to yaml.v2")
	}
	if want := viaJSON(t, v); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// wellOrdered reports whether yaml.v2's key comparison is a strict total order on the keys of every map in v;
// where it is not, yaml.v2's own order depends on Go's map iteration and there is nothing to compare with.
func wellOrdered(v any) bool {
	switch x := v.(type) {
	case map[string]any:
		for a, va := range x {
			for b := range x {
				if a != b && yamlv2Less(a, b) == yamlv2Less(b, a) {
					return false
				}
				for c := range x {
					if yamlv2Less(a, b) && yamlv2Less(b, c) && !yamlv2Less(a, c) {
						return false
					}
				}
			}
			if !wellOrdered(va) {
				return false
			}
		}
	case []any:
		for _, it := range x {
			if !wellOrdered(it) {
				return false
			}
		}
	}
	return true
}

// TestToYAMLEmitIsDeterministicOnCyclicKeys: where yaml.v2's key order has a cycle (k12 < k1A < k9 < k12) and
// yaml.v2's output changes from run to run, the emitter gives the same bytes every time.
func TestToYAMLEmitIsDeterministicOnCyclicKeys(t *testing.T) {
	if !yamlv2Less("k12", "k1A") || !yamlv2Less("k1A", "k9") || !yamlv2Less("k9", "k12") {
		t.Fatal("expected a cycle in yaml.v2's order")
	}
	v := map[string]any{"k12": 1.0, "k1A": 2.0, "k9": 3.0, "k0": 4.0, "kB": 5.0}
	first, ok := toYAMLEmit(v)
	if !ok {
		t.Fatal("not handled")
	}
	for range 50 {
		if got, _ := toYAMLEmit(v); got != first {
			t.Fatalf("order changed between runs:\n%s\n%s", first, got)
		}
	}
}

func TestYAMLv2LessIsStrictOnDistinctKeys(t *testing.T) {
	keys := []string{"a", "a1", "a01", "a10", "a2", "B", "b", "_x", "-", "0", "00", "10", "9", "é", "日本"}
	for _, a := range keys {
		if yamlv2Less(a, a) {
			t.Errorf("%q < itself", a)
		}
		for _, b := range keys {
			if a != b && yamlv2Less(a, b) == yamlv2Less(b, a) {
				t.Errorf("%q and %q are not ordered", a, b)
			}
		}
	}
}

// FuzzToYAMLEmit: for any values document the emitter takes, its bytes equal sigs.k8s.io/yaml's.
func FuzzToYAMLEmit(f *testing.F) {
	f.Add("a: 1\nb: [x, 'y: z', 1.5, null, true]\nc: {d: \"multi\\nline\", e: ''}\n")
	f.Add("- 1e3\n- 0o17\n- .inf\n- 2001-12-14\n- [a, [b, {c: d}]]\n")
	f.Add("k10: a\nk9: b\nk09: c\nK: d\n_: e\n'': f\nz: {y: [x, {w: v}]}\n")
	f.Add("a: x.{{ $.Values.global.localClusterDomain }}\nb: 'on'\nc: a #b\nd: \"a: b\"\ne: '  lead'\n")
	f.Fuzz(func(t *testing.T, src string) {
		n, err := node.Parse("f.yaml", []byte(src), node.Limits{MaxBytes: 1 << 16, MaxNodes: 5000, MaxDepth: 30})
		if err != nil {
			return
		}
		v := helmvalues.Plain(n)
		got, ok := toYAMLEmit(v)
		if !ok || !wellOrdered(v) {
			return
		}
		want, err := yaml.Marshal(v)
		if err != nil {
			t.Fatalf("%q: the emitter took a document yaml.Marshal refuses: %v", src, err)
		}
		if got != string(want) {
			t.Fatalf("%q:\n got %q\nwant %q", src, got, want)
		}
	})
}
