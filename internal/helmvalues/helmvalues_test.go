package helmvalues

import (
	"bytes"
	"testing"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

func mustParse(t *testing.T, src string) *node.Node {
	t.Helper()
	n, err := node.Parse("test.yaml", []byte(src), node.DefaultLimits)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return n
}

func yamlOf(n *node.Node) string {
	var b bytes.Buffer
	node.EncodeYAML(&b, n)
	return b.String()
}

func TestMergeHelmRules(t *testing.T) {
	base := mustParse(t, "a: {x: 1, w: [1, 2]}\nb: keep\nc: {z: 1}\n")
	over := mustParse(t, "a: {w: [3]}\nc: null\nd: new\n")
	got := yamlOf(Merge(base, over))
	want := "a:\n  x: 1\n  w:\n  - 3\nb: keep\nc: null\nd: new\n"
	if got != want {
		t.Errorf("merge:\n%s\nwant:\n%s", got, want)
	}
	// Inputs are unchanged.
	if yamlOf(base) != "a:\n  x: 1\n  w:\n  - 1\n  - 2\nb: keep\nc:\n  z: 1\n" {
		t.Errorf("base was modified: %s", yamlOf(base))
	}
}

func TestCoalesceDefaults(t *testing.T) {
	defaults := mustParse(t, "opts: {a: 1, b: 2}\nlist: []\nkeep: 1\ngone: 1\n")
	user := mustParse(t, "opts: {b: 3}\nlist: {m: 1}\ngone: null\nextra: null\n")
	got := yamlOf(Coalesce(defaults, user))
	want := "opts:\n  b: 3\n  a: 1\nlist:\n  m: 1\nextra: null\nkeep: 1\n"
	if got != want {
		t.Errorf("coalesce:\n%s\nwant:\n%s", got, want)
	}
}

func TestSetPath(t *testing.T) {
	root := mustParse(t, "clusterGroup:\n  imperative:\n    jobs:\n    - name: a\n      playbook: p\n")
	cases := []struct {
		path, value, want string
	}{
		{"clusterGroup.imperative.jobs[0].name", "test", "test"},
		{"global.clusterVersion", "4.18", "4.18"},
		{`labels.a\.b/c`, "x", "x"},
	}
	for _, c := range cases {
		p, err := ParsePath(c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		out := SetPath(root, p, ScalarFromFlag(c.value, srcpos.Pos{File: "--set"}))
		cur := out
		for _, s := range p {
			if s.IsIndex {
				cur = cur.Items()[s.Index]
			} else {
				cur = cur.Get(s.Key)
			}
		}
		if cur.Text != c.want {
			t.Errorf("%s: got %q", c.path, cur.Text)
		}
		if p.String() != c.path {
			t.Errorf("path round trip: %q != %q", p.String(), c.path)
		}
	}
	if job := SetPath(root, mustPath(t, "clusterGroup.imperative.jobs[0].name"), node.NewString("x")).Path("clusterGroup", "imperative", "jobs").Items()[0]; job.Get("playbook").Text != "p" {
		t.Errorf("--set on a list item must keep its other keys")
	}
	if root.Path("clusterGroup", "imperative", "jobs").Items()[0].Get("name").Text != "a" {
		t.Errorf("SetPath modified its input")
	}
	for _, bad := range []string{"", "a..b", "[0]", "a[x]", "a[1", "a[99999999]", "a[0]b", `a\`} {
		if _, err := ParsePath(bad); err == nil {
			t.Errorf("ParsePath(%q) accepted", bad)
		}
	}
}

func mustPath(t *testing.T, s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestScalarFromFlagTyping(t *testing.T) {
	cases := map[string]node.Kind{"true": node.Bool, "False": node.Bool, "null": node.Null, "0": node.Int, "42": node.Int, "042": node.String, "4.18": node.String, "": node.String, "abc": node.String}
	for in, want := range cases {
		if got := ScalarFromFlag(in, srcpos.Pos{}).Kind; got != want {
			t.Errorf("ScalarFromFlag(%q) = %s, want %s", in, got, want)
		}
	}
	// Integers from flags stay integers for templates; from files they become float64 as in Helm.
	if v := Plain(ScalarFromFlag("42", srcpos.Pos{})); v != int64(42) {
		t.Errorf("flag int = %#v", v)
	}
	if v := Plain(mustParse(t, "a: 42").Get("a")); v != float64(42) {
		t.Errorf("file int = %#v", v)
	}
}
