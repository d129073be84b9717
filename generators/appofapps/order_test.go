package appofapps

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cocogen/cocogen/internal/manifest"
)

func TestMoveToFront(t *testing.T) {
	objs := func(names ...string) []manifest.Object {
		out := make([]manifest.Object, len(names))
		for i, n := range names {
			out[i] = manifest.Object{Source: n}
		}
		return out
	}
	sources := func(objs []manifest.Object) []string {
		out := make([]string, len(objs))
		for i, o := range objs {
			out[i] = o.Source
		}
		return out
	}
	for _, tc := range []struct {
		in   []string
		n    int
		want []string
	}{
		{[]string{"a", "b", "c", "d", "e"}, 2, []string{"d", "e", "a", "b", "c"}},
		{[]string{"a", "b", "c", "d", "e"}, 4, []string{"b", "c", "d", "e", "a"}},
		{[]string{"a", "b", "c"}, 0, []string{"a", "b", "c"}},
		{[]string{"a", "b", "c"}, 3, []string{"a", "b", "c"}},
		{nil, 0, nil},
	} {
		t.Run(fmt.Sprint(tc.in, tc.n), func(t *testing.T) {
			o := objs(tc.in...)
			moveToFront(o, tc.n)
			if got := sources(o); !slices.Equal(got, tc.want) {
				t.Fatalf("moveToFront(%v, %d) = %v, want %v", tc.in, tc.n, got, tc.want)
			}
		})
	}
}
