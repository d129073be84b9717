package node

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sameTree compares two trees including positions, origins and key order; it returns the first difference.
func sameTree(path string, a, b *Node) string {
	if a == nil || b == nil {
		if a != b {
			return path + ": one side is missing"
		}
		return ""
	}
	if a.Kind != b.Kind || a.Text != b.Text || a.Src != b.Src || a.Pos != b.Pos || a.Origin != b.Origin {
		return fmt.Sprintf("%s: fast %s %q (src %q) at %v origin %d, full %s %q (src %q) at %v origin %d",
			path, a.Kind, a.Text, a.Src, a.Pos, a.Origin, b.Kind, b.Text, b.Src, b.Pos, b.Origin)
	}
	if len(a.entries) != len(b.entries) || len(a.items) != len(b.items) {
		return path + ": different sizes"
	}
	for i := range a.entries {
		ea, eb := a.entries[i], b.entries[i]
		if ea.Key != eb.Key || ea.KeyPos != eb.KeyPos {
			return fmt.Sprintf("%s: key %q at %v vs %q at %v", path, ea.Key, ea.KeyPos, eb.Key, eb.KeyPos)
		}
		if d := sameTree(path+"."+ea.Key, ea.Value, eb.Value); d != "" {
			return d
		}
	}
	for i := range a.items {
		if d := sameTree(fmt.Sprintf("%s[%d]", path, i), a.items[i], b.items[i]); d != "" {
			return d
		}
	}
	return ""
}

var fuzzLimits = Limits{MaxBytes: 1 << 16, MaxNodes: 10000, MaxDepth: 50}

// checkFast parses src with the fast path and, when it accepts, checks that the full parser agrees exactly.
func checkFast(t *testing.T, name, src string) bool {
	t.Helper()
	fast, ok := parseSimple(&converter{file: name, lim: fuzzLimits}, []byte(src))
	if !ok {
		return false
	}
	full, err := parseFull(name, []byte(src), fuzzLimits)
	if err != nil {
		t.Fatalf("the fast path accepted a document the full parser rejects (%v):\n%s", err, src)
	}
	if d := sameTree("", fast, full); d != "" {
		t.Fatalf("fast and full parsers disagree: %s\n%s", d, src)
	}
	return true
}

func TestFastParseAgreesOnRealValuesFiles(t *testing.T) {
	var files []string
	for _, pattern := range []string{"../../values/*.yaml", "../pipeline/testdata/render/*/repo/*.yaml", "../pipeline/testdata/render/*/repo/*/*.yaml"} {
		m, _ := filepath.Glob(pattern)
		files = append(files, m...)
	}
	if len(files) < 20 {
		t.Fatalf("found only %d values files", len(files))
	}
	accepted := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if checkFast(t, f, string(data)) {
			accepted++
		}
	}
	// Most values files are in the simple subset; if the fast path stopped accepting them, it would
	// silently stop paying for itself.
	if accepted*10 < len(files)*7 {
		t.Errorf("the fast path accepted only %d of %d values files", accepted, len(files))
	}
}

func TestFastParseCases(t *testing.T) {
	accept := []string{
		"a: 1\nb: two\n",
		"---\n# c\nk: 'it''s' # c\n\"q\": \"x y\"\nl: []\nm: {}\n",
		"a:\nb:\n- x\n-\n- w: 1\n  z:\n",
		"key:\n- a\n- b\nother: 1\n",
		"a:\n    b:\n        c: deep\n",
		"é: ü\nx: é2 # c\n",
		"neg: -1\nf: -.5\nv: 4.10\no: 0777\nb: yes\nt: True\nnull-ish: ~\n",
		"list:\n  - name: a\n    value: 1\n  - name: b\n",
		"key: # only a comment\nnext: 1\n",
		"url: https://example.com/a#frag\nlabel: a:b\n",
		"q: ''''\nr: 'a''b''''c'\ns: ''\nt: \"\"\nu: 'x''' # c\n",
	}
	for _, src := range accept {
		if !checkFast(t, "t.yaml", src) {
			t.Errorf("fast path declined a simple document:\n%s", src)
		}
	}
	decline := []string{
		"a: |\n  block\n", "a: >\n  folded\n", "a: &x 1\nb: *x\n", "a: !!str 1\n", "a: [1, 2]\n", "a: {b: 1}\n",
		"a: \"esc\\n\"\n", "a: multi\n  line\n", "- - a\n", "a:\tb\n", "a: 1\r\n", "a: 1\n---\nb: 2\n",
		"<<: {a: 1}\n", "? a\n: b\n", "a: b: c\n", "a: 1\n a: 2\n", "a: 1\na: 2\n", "plain\n", "",
		"%YAML 1.2\n---\na: 1\n", "a: -x\n", "a: 'unterminated\n", "- \u0085", "a: b\u2028c\n", "a: \u2029\n",
	}
	for _, src := range decline {
		if checkFast(t, "t.yaml", src) {
			t.Errorf("fast path accepted a document outside its subset:\n%s", src)
		}
	}
}

// TestFastParseBlocksAreNotShared checks that the maps and lists the fast path hands out from shared blocks
// stay apart: a key added to one map, or an item to one list, changes no other.
func TestFastParseBlocksAreNotShared(t *testing.T) {
	src := "a:\n  k1: 1\n  k2: 2\nb:\n  k3: 3\nl:\n- 1\nm:\n- 2\n"
	n, ok := parseSimple(&converter{file: "t.yaml"}, []byte(src))
	if !ok {
		t.Fatal("the fast path declined the document")
	}
	n.Get("a").Set("added", NewString("v"))
	if b := n.Get("b"); len(b.entries) != 1 || b.entries[0].Key != "k3" || b.Get("k3").Text != "3" {
		t.Fatalf("adding a key to a changed its neighbour b: %d entries", len(b.entries))
	}
	if a := n.Get("a"); len(a.entries) != 3 || a.entries[2].Key != "added" {
		t.Fatalf("a has %d entries after the addition", len(a.entries))
	}
	l := n.Get("l")
	l.items = append(l.items, NewString("appended"))
	if m := n.Get("m"); len(m.items) != 1 || m.items[0].Text != "2" {
		t.Fatalf("appending to l changed m: %d items", len(m.items))
	}
}

// FuzzFastParseMatchesFull is a differential test: whatever the fast path accepts, the full parser must
// accept with exactly the same values and positions.
func FuzzFastParseMatchesFull(f *testing.F) {
	for _, s := range []string{
		"a: 1\nb:\n  - x\n  - y: z\n    w: 2\n",
		"global:\n  pattern: demo\n  options:\n    useCSV: false\n",
		"k: 'a''b'\nq: \"c d\" # e\nl: []\n",
		"a:\n- 1\n-\n- b:\n  - c\n",
		"x: -3\ny: .5\nz: 1e3\nw: 0x1F\nv: 2001-12-14\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		if strings.Count(src, "\n") > 500 {
			return
		}
		checkFast(t, "fuzz.yaml", src)
	})
}

// bigValues is a values document shaped like a large cluster group's: n namespaces (null values), n
// applications with nested maps and lists whose items line up with their key, and a few small keys around.
func bigValues(n int) string {
	var b strings.Builder
	b.WriteString("clusterGroup:\n  name: hub\n  argoProjects:\n  - hub\n  namespaces:\n")
	for i := range n {
		fmt.Fprintf(&b, "    ns-%04d:\n", i)
	}
	b.WriteString("  applications:\n")
	for i := range n {
		fmt.Fprintf(&b, "    app-%04d:\n      name: app-%04d\n      namespace: ns-%04d\n      path: charts/app # c\n      overrides:\n      - name: a\n        value: '%d'\n      ignoreDifferences: []\n", i, i, i, i)
	}
	b.WriteString("global:\n  pattern: demo\n")
	return b.String()
}

// BenchmarkFastParse reads a values document of 2,000 applications and namespaces (bigValues) with the fast
// path.
func BenchmarkFastParse(b *testing.B) {
	src := []byte(bigValues(2000))
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := parseSimple(&converter{file: "big.yaml"}, src); !ok {
			b.Fatal("the fast path declined the document")
		}
	}
}

// TestFastParseStrKeepsToTheDocument checks str, which reads parts of the document without copying: an empty
// or foreign slice gives its own text, never a wrong part of the document or a panic.
func TestFastParseStrKeepsToTheDocument(t *testing.T) {
	data := make([]byte, 0, 64) // more capacity than length, as a buffer's bytes may have
	data = append(data, "key: value\n"...)
	p := &fastParser{data: data, doc: string(data)}
	for _, tc := range []struct {
		b    []byte
		want string
	}{
		{data[5:10], "value"},
		{data[0:3], "key"},
		{nil, ""},
		{data[4:4], ""},
		{[]byte("other"), "other"},
		{append(make([]byte, 0, 64-5), "vxxxx"...), "vxxxx"}, // a foreign slice whose capacity matches a part's
	} {
		if got := p.str(tc.b); got != tc.want {
			t.Errorf("str(%q) = %q, want %q", tc.b, got, tc.want)
		}
	}
}
