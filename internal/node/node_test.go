package node

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/srcpos"
)

func mustParse(t *testing.T, src string) *Node {
	t.Helper()
	n, err := Parse("test.yaml", []byte(src), DefaultLimits)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return n
}

func yamlOf(n *Node) string {
	var b bytes.Buffer
	EncodeYAML(&b, n)
	return b.String()
}

func TestParseTypesAndPositions(t *testing.T) {
	n := mustParse(t, "a: 1\nb: 4.10\nc: \"4.10\"\nd: true\ne:\nf: [x, 2]\ng: 0x10\nh: 1_000\n")
	cases := []struct {
		key  string
		kind Kind
		text string
		line int
	}{
		{"a", Int, "1", 1},
		{"b", Float, "4.1", 2},
		{"c", String, "4.10", 3},
		{"d", Bool, "true", 4},
		{"e", Null, "", 5},
		{"g", Int, "16", 7},
		{"h", Int, "1000", 8}, // as YAML 1.1 (and Helm) read it
	}
	for _, c := range cases {
		t.Run(c.key, func(t *testing.T) {
			v, ok := n.Lookup(c.key)
			if !ok {
				t.Fatalf("key %s missing", c.key)
			}
			if v.Kind != c.kind || v.Text != c.text {
				t.Errorf("got %s %q, want %s %q", v.Kind, v.Text, c.kind, c.text)
			}
			if kp := n.KeyPos(c.key); kp.Line != c.line || kp.Col != 1 || kp.File != "test.yaml" {
				t.Errorf("key position %v, want line %d col 1", kp, c.line)
			}
		})
	}
	if f := n.Get("f"); f.Len() != 2 || f.Items()[1].Kind != Int || f.Items()[1].Pos.Col != 8 {
		t.Errorf("list f = %+v", f.Items())
	}
}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"duplicate key", "a: 1\na: 2\n", "test.yaml:2"},
		{"syntax", "a: [1, 2\n", "test.yaml:"},
		{"two documents", "a: 1\n---\nb: 2\n", "test.yaml:2:1: more than one YAML document"},
		{"tag", "a: !vault x\n", "test.yaml:1:4: unsupported YAML tag !vault"},
		{"bad merge", "a: &x 1\nb:\n  <<: *x\n", "merge key <<: needs a map"},
		{"complex key", "? [a]\n: 1\n", "map keys must be scalars"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("test.yaml", []byte(c.src), DefaultLimits)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	// A billion-laughs document: each level doubles the expansion.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x]\n")
	for i := 1; i < 40; i++ {
		b.WriteString("a")
		b.WriteString(itoa(i))
		b.WriteString(": &a")
		b.WriteString(itoa(i))
		b.WriteString(" [*a")
		b.WriteString(itoa(i - 1))
		b.WriteString(", *a")
		b.WriteString(itoa(i - 1))
		b.WriteString("]\n")
	}
	_, err := Parse("bomb.yaml", []byte(b.String()), DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), "budget yaml-nodes") {
		t.Fatalf("alias bomb: err = %v", err)
	}
	deep := strings.Repeat("[", 300) + strings.Repeat("]", 300)
	_, err = Parse("deep.yaml", []byte(deep), DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), "budget yaml-depth") {
		t.Fatalf("deep nesting: err = %v", err)
	}
	_, err = Parse("big.yaml", make([]byte, 100), Limits{MaxBytes: 10})
	if err == nil || !strings.Contains(err.Error(), "budget file-bytes") {
		t.Fatalf("size limit: err = %v", err)
	}
}

// A merge key copies the merged map into every map that names it: a small document of merges must count
// what it expands to, or it slips under the value budget and explodes downstream.
func TestParseLimitsCountMergeKeys(t *testing.T) {
	var b strings.Builder
	b.WriteString("l0: &l0 {a: x, b: x, c: x, d: x, e: x, f: x, g: x, h: x}\n")
	for i := 1; i < 9; i++ {
		b.WriteString("l" + itoa(i) + ": &l" + itoa(i) + " {<<: [")
		for j := 0; j < 8; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*l" + itoa(i-1))
		}
		b.WriteString("], k" + itoa(i) + ": {<<: *l" + itoa(i-1) + "}}\n")
	}
	_, err := Parse("merge-bomb.yaml", []byte(b.String()), Limits{MaxNodes: 10_000, MaxDepth: 64})
	var pe *srcpos.Error
	if !errors.As(err, &pe) || !strings.Contains(pe.Msg, "budget yaml-nodes (10000)") || pe.Pos.Line == 0 {
		t.Fatalf("merge bomb: err = %v", err)
	}
}

// The total budget spans documents: each of these fits yaml-nodes, together they do not.
func TestParseLimitsTotal(t *testing.T) {
	tally := &Tally{Max: 25}
	lim := Limits{MaxNodes: 20, MaxDepth: 10, Total: tally}
	doc := []byte("a: 1\nb: 2\nc: [1, 2, 3]\n") // 7 values (flow list: full parser)
	simple := []byte("a: 1\nb: 2\nc: 3\n")      // 4 values (fast path)
	for i, d := range [][]byte{doc, simple, doc, simple} {
		if _, err := Parse("d.yaml", d, lim); err != nil {
			t.Fatalf("document %d: %v", i, err)
		}
	}
	if tally.Used != 22 {
		t.Fatalf("tally = %d, want 22", tally.Used)
	}
	_, err := Parse("d.yaml", doc, lim)
	if err == nil || !strings.Contains(err.Error(), "budget yaml-total-nodes (25)") {
		t.Fatalf("total: err = %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestMergeKeys(t *testing.T) {
	n := mustParse(t, "base: &b {a: 1, b: 2}\nuse:\n  <<: *b\n  b: 3\n")
	use := n.Get("use")
	if use.Get("a").Text != "1" || use.Get("b").Text != "3" {
		t.Fatalf("merge keys: %s", yamlOf(use))
	}
}

func TestEncodeYAMLStyle(t *testing.T) {
	n := NewMap().
		Set("apiVersion", NewString("v1")).
		Set("list", NewList(NewString("*"), NewMap().Set("a", NewString("yes")).Set("b", NewInt(2)), NewList(NewString("x"), NewString("y")))).
		Set("empty", NewMap()).
		Set("none", NewList()).
		Set("null", NewNull()).
		Set("script", NewString("line one\nline two\n")).
		Set("num", NewString("4.18")).
		Set("quote", NewString("it's")).
		Set("ctl", NewString("a\tb")).
		Set("key: x", NewString("v"))
	want := `apiVersion: v1
list:
- '*'
- a: 'yes'
  b: 2
- - x
  - 'y'
empty: {}
none: []
'null': null
script: |
  line one
  line two
num: '4.18'
quote: it's
ctl: "a\tb"
'key: x': v
`
	if got := yamlOf(n); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// roundTrip encodes n as YAML and JSON and checks that both read back to the same values.
func roundTrip(t *testing.T, n *Node) {
	t.Helper()
	y := yamlOf(n)
	back, err := Parse("rt.yaml", []byte(y), DefaultLimits)
	if err != nil {
		t.Fatalf("encoded YAML does not parse: %v\n%s", err, y)
	}
	if !Equal(n, back) {
		t.Fatalf("YAML round trip changed the value:\n%s\nread back as:\n%s", y, yamlOf(back))
	}
	var jb bytes.Buffer
	if err := EncodeJSON(&jb, n, 0); err != nil {
		return // numbers without a JSON form
	}
	var v any
	if err := json.Unmarshal(jb.Bytes(), &v); err != nil {
		t.Fatalf("encoded JSON is invalid: %v\n%s", err, jb.String())
	}
}

func TestRoundTripStrings(t *testing.T) {
	strs := []string{"", " ", "a b", "a: b", "a #b", "a#b", "-v", "- x", "--", "?", "? x", ":x", "x:", "@x", "`x", "!x", "&x", "*x",
		"|", ">", "%x", "'", "\"", "yes", "No", "ON", "~", "null", "Null", "0", "0777", "1e3", "+1", "-1", ".5", ".inf", "-.Inf",
		"2001-12-14", "1:20", "0x1F", "1_000", "true", "<<", "=", "a\nb", "a\n", "a\n\n", "\na", " a\nb", "a \nb", "a\n \nb",
		"a\tb\nc", "\tx\ny", "a\n\tb\n", "p {\n\tx := 1\n\t\ty\n}\n", "a\n\t\n\tb", "é", "日本", "\u2028", "a\u0000b", "x\r\ny", "{a}", "[a]", "a,b", "#x", "a\\b", "€ 5", "$patternref/values.yaml",
		"/values-{{ $.Values.global.clusterPlatform }}.yaml", "line\n  indented\n"}
	for _, s := range strs {
		roundTrip(t, NewMap().Set(s, NewString(s)).Set("l", NewList(NewString(s), NewMap().Set("k", NewString(s)))))
	}
}

func FuzzEncodeRoundTrip(f *testing.F) {
	f.Add("a: 1\nb: [x, 'y: z']\nc: {d: null}\n")
	f.Add("s: |\n  multi\n  line\n")
	f.Add("- - a\n  - b\n- {}\n")
	f.Fuzz(func(t *testing.T, src string) {
		n, err := Parse("fuzz.yaml", []byte(src), Limits{MaxBytes: 1 << 16, MaxNodes: 10000, MaxDepth: 50})
		if err != nil {
			return
		}
		roundTrip(t, n)
	})
}

func FuzzParse(f *testing.F) {
	f.Add("a: &x [1, 2]\nb: *x\n")
	f.Add("? a\n: b\n<<: {c: 1}\n")
	f.Fuzz(func(t *testing.T, src string) {
		// Must never panic or run away, whatever the input.
		_, _ = Parse("fuzz.yaml", []byte(src), Limits{MaxBytes: 1 << 16, MaxNodes: 10000, MaxDepth: 50})
	})
}

func TestParseErrorLines(t *testing.T) {
	cases := []struct{ src, want string }{
		{"a: 1\nb: [x\n", "t.yaml:2: invalid YAML: did not find expected ',' or ']'"},
		{"a:\n  - x\n - y\n", "t.yaml:3: invalid YAML: did not find expected key"},
		{"a: 1\n b: 2\n", "t.yaml:2: invalid YAML: mapping values are not allowed in this context"},
	}
	for _, c := range cases {
		_, err := Parse("t.yaml", []byte(c.src), DefaultLimits)
		if err == nil || err.Error() != c.want {
			t.Errorf("%q: got %v, want %s", c.src, err, c.want)
		}
	}
}

func TestKeysAsHelmSeesThem(t *testing.T) {
	n := mustParse(t, "on: 1\nn: 2\n0777: 3\n1.0: 4\nname: 5\n'on': 6\n")
	var keys []string
	for _, e := range n.Entries() {
		keys = append(keys, e.Key)
	}
	if got := strings.Join(keys, ","); got != "true,false,511,1,name,on" {
		t.Errorf("keys %s, want true,false,511,1,name,on (Helm reads keys as YAML 1.1 and prints them as JSON)", got)
	}
}
