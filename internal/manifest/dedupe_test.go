package manifest

import (
	"testing"

	"github.com/cocogen/cocogen/internal/node"
)

func parseObj(t *testing.T, src, text string) Object {
	t.Helper()
	n, err := node.Parse(src, []byte(text), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return Object{Node: n, Source: src}
}

func TestDedupe(t *testing.T) {
	const a = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: n}\ndata: {k: v, l: [1, 2]}\n"
	const reordered = "kind: ConfigMap\napiVersion: v1\ndata: {l: [1, 2], k: v}\nmetadata: {namespace: n, name: x}\n"
	const other = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: n}\ndata: {k: v, l: [1, 3]}\n"
	const extraKey = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: n, labels: {a: b}}\ndata: {k: v, l: [1, 2]}\n"
	const y = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: y, namespace: n}\n"
	tests := []struct {
		name     string
		objs     []string
		wantLen  int
		wantReps int
		wantSame bool
		wantDiff string
	}{
		{"no repeat", []string{a, y}, 2, 0, false, ""},
		{"identical in another key order", []string{a, reordered, y}, 2, 1, true, ""},
		{"list item differs", []string{a, other}, 2, 1, false, "data.l[1]"},
		{"key only in the second", []string{a, extraKey}, 2, 1, false, "metadata.labels"},
		{"three identical", []string{a, a, reordered}, 1, 2, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var objs []Object
			for i, s := range tc.objs {
				objs = append(objs, parseObj(t, "f"+string(rune('0'+i)), s))
			}
			Sort(objs)
			out, reps := Dedupe(objs)
			if len(out) != tc.wantLen || len(reps) != tc.wantReps {
				t.Fatalf("got %d objects and %d repeats, want %d and %d", len(out), len(reps), tc.wantLen, tc.wantReps)
			}
			for _, r := range reps {
				if r.Same != tc.wantSame || r.Diff != tc.wantDiff {
					t.Errorf("repeat %s: same=%v diff=%q, want %v %q", r.ID, r.Same, r.Diff, tc.wantSame, tc.wantDiff)
				}
				if r.First.Source != "f0" {
					t.Errorf("repeat %s: first source %s, want f0 (the object that is kept)", r.ID, r.First.Source)
				}
			}
		})
	}
}
