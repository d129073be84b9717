package tpl

import (
	"math"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/node"
)

func viaJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestToYAMLDirectMatchesJSONRoundTrip(t *testing.T) {
	values := []any{
		nil, true, "", "plain", "yes", "no", "on", "~", "null", "1", "0x1F", "1e3", "1:20", "-", "- x", "a: b", "a #b",
		"#x", "'q'", "\"dq\"", "multi\nline\n", "trailing space ", " lead", "tab\tin", "\u2028", "<&>", "日本",
		"very long text that goes on and on past eighty columns so that yaml.v2 may decide to fold it somewhere along the way",
		int64(0), int64(-7), int64(1 << 53), float64(1), float64(1.5), float64(1e21), float64(-0.0), 1e-7, math.MaxInt64,
		[]any{}, []any(nil), map[string]any{}, map[string]any(nil),
		map[string]any{"b": 1.0, "a": []any{"x", map[string]any{"k": "v", "e": []any{}}}, "A": nil, "10": "n", "9": true},
		[]any{[]any{"a", "b"}, map[string]any{"z": "1"}, "s"},
	}
	for _, v := range values {
		got, ok := toYAMLDirect(v)
		if !ok {
			t.Errorf("%#v: not handled", v)
			continue
		}
		if want := viaJSON(t, v); got != want {
			t.Errorf("%#v:\n got %q\nwant %q", v, got, want)
		}
	}
	// Types it leaves to the slow path.
	for _, v := range []any{[]string{"a"}, map[string]string{"a": "b"}, int32(1), "\xff"} {
		if _, ok := toYAMLDirect(v); ok {
			t.Errorf("%#v: should take the slow path", v)
		}
	}
}

// FuzzToYAMLDirect: for any values document, the direct encoding equals sigs.k8s.io/yaml's.
func FuzzToYAMLDirect(f *testing.F) {
	f.Add("a: 1\nb: [x, 'y: z', 1.5, null, true]\nc: {d: \"multi\\nline\", e: ''}\n")
	f.Add("k: |\n  text\n   more\n")
	f.Add("- 1e3\n- 0o17\n- .inf\n- 2001-12-14\n")
	f.Fuzz(func(t *testing.T, src string) {
		n, err := node.Parse("f.yaml", []byte(src), node.Limits{MaxBytes: 1 << 16, MaxNodes: 5000, MaxDepth: 30})
		if err != nil {
			return
		}
		v := helmvalues.Plain(n)
		got, ok := toYAMLDirect(v)
		if !ok {
			return
		}
		want, err := yaml.Marshal(v)
		if err != nil {
			return
		}
		if got != string(want) {
			t.Fatalf("%q:\n got %q\nwant %q", src, got, want)
		}
	})
}
