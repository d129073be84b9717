package helmvalues

import (
	"testing"

	"github.com/cocogen/cocogen/internal/node"
)

// TestSetPathNilValue: a nil value (a key that is absent, copied with SetPath) sets null instead of
// dereferencing nil; this took the loader down when global was null (issue 11).
func TestSetPathNilValue(t *testing.T) {
	root := node.NewMap().Set("a", node.NewMap().Set("b", node.NewString("x")))
	for _, p := range []Path{{{Key: "a"}, {Key: "b"}}, {{Key: "c"}, {Key: "d"}}, {{Key: "l"}, {Index: 2, IsIndex: true}}, nil} {
		got := SetPath(root, p, nil)
		v := got
		for _, s := range p {
			if s.IsIndex {
				v = v.Items()[s.Index]
			} else {
				v = v.Get(s.Key)
			}
		}
		if v == nil || v.Kind != node.Null {
			t.Errorf("SetPath(%s, nil) left %v, want null", p, v)
		}
	}
	if root.Path("a", "b").Scalar() != "x" {
		t.Error("SetPath changed its input")
	}
}
