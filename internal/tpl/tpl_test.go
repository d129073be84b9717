package tpl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

func parse(t testing.TB, src string) *node.Node {
	t.Helper()
	n, err := node.Parse("values.yaml", []byte(src), node.DefaultLimits)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return n
}

const testValues = `global:
  clusterPlatform: Azure
  clusterDomain: coco.example.com
  pattern: cocogen
  replicas: 1000000
  version: 4.10
  empty: ""
  list: [a, b]
  nothing: null
clusterGroup:
  name: hub
  indirect: '{{ .Values.global.clusterPlatform }}-{{ .Values.clusterGroup.name }}'
  twice: '{{ tpl .Values.clusterGroup.indirect . }}'
  loop: '{{ tpl .Values.clusterGroup.loop . }}'
`

func TestRender(t *testing.T) {
	t.Setenv("COCOGEN_TEST_SECRET", "leaked")
	cases := []struct {
		name, text, want, err string
	}{
		{name: "no template is returned unchanged", text: "/overrides/values-}}{ .Values.x }.yaml", want: "/overrides/values-}}{ .Values.x }.yaml"},
		{name: "single braces are not a template", text: "{ .Values.x } }}", want: "{ .Values.x } }}"},
		{name: "values", text: "/overrides/values-{{ $.Values.global.clusterPlatform }}.yaml", want: "/overrides/values-Azure.yaml"},
		{name: "dot values", text: "{{ .Values.clusterGroup.name }}", want: "hub"},
		{name: "float from a file prints as Helm", text: "{{ .Values.global.replicas }}", want: "1e+06"},
		{name: "version from a file loses its zero", text: "{{ .Values.global.version }}", want: "4.1"},
		{name: "sprig functions", text: `{{ .Values.global.pattern | upper }}-{{ default "x" .Values.global.empty }}-{{ join "," .Values.global.list }}`, want: "COCOGEN-x-a,b"},
		{name: "sprig printf and quote", text: `{{ printf "%s.%s" "apps" .Values.global.clusterDomain | quote }}`, want: `"apps.coco.example.com"`},
		{name: "missing key prints empty", text: "a{{ .Values.global.nope }}b", want: "ab"},
		{name: "null prints empty", text: "a{{ .Values.global.nothing }}b", want: "ab"},
		{name: "missing section prints empty", text: "a{{ .Values.nope }}b", want: "ab"},
		{name: "release name", text: "{{ .Release.Name }}", want: "clustergroup"},
		{name: "tpl", text: "{{ tpl .Values.clusterGroup.indirect . }}", want: "Azure-hub"},
		{name: "nested tpl", text: "{{ tpl .Values.clusterGroup.twice . }}", want: "Azure-hub"},
		{name: "tpl of a literal", text: `{{ tpl "{{ .Values.clusterGroup.name }}" $ }}`, want: "hub"},
		{name: "endless tpl", text: "{{ tpl .Values.clusterGroup.loop . }}", err: "tpl nested too deeply"},
		{name: "toYaml", text: "{{ toYaml .Values.global.list }}", want: "- a\n- b"},
		{name: "toJson", text: "{{ toJson .Values.global.list }}", want: `["a","b"]`},
		{name: "fromYaml", text: `{{ (fromYaml "a: 1").a }}`, want: "1"},
		{name: "fromYamlArray", text: `{{ index (fromYamlArray "[x, z]") 1 }}`, want: "z"},
		{name: "fromYamlArray of a map", text: `{{ len (fromYamlArray "a: 1") }}`, want: "1"},
		{name: "fromJsonArray", text: `{{ index (fromJsonArray "[1, 2]") 0 }}`, want: "1"},
		{name: "toYamlPretty indents lists", text: `{{ toYamlPretty (dict "l" .Values.global.list) }}`, want: "l:\n  - a\n  - b"},
		{name: "toToml", text: `{{ toToml (dict "b" 1 "a" "x") }}`, want: "a = \"x\"\nb = 1\n"},
		{name: "fromToml", text: `{{ (fromToml "a = 'x'").a }}`, want: "x"},
		{name: "fromToml error", text: `{{ hasKey (fromToml "a = ") "Error" }}`, want: "true"},
		{name: "lookup is not available", text: `{{ lookup "v1" "Secret" "ns" "name" | len }}`, err: "template function lookup reads a cluster"},
		{name: "env is not available", text: `{{ env "COCOGEN_TEST_SECRET" }}`, err: "template function env reads the environment"},
		{name: "expandenv is not available", text: `{{ expandenv "$COCOGEN_TEST_SECRET" }}`, err: "template function expandenv reads the environment"},
		{name: "include is not available", text: `{{ include "x" . }}`, err: `include "x": named templates of the chart are not available in values`},
		{name: "required", text: `{{ required "set global.hubClusterDomain" .Values.global.hubClusterDomain }}`, err: "set global.hubClusterDomain"},
		{name: "required of an empty string", text: `{{ required "empty!" .Values.global.empty }}`, err: "empty!"},
		{name: "fail", text: `{{ fail "stop here" }}`, err: "stop here"},
		{name: "syntax error", text: "{{ .Values.x ", err: "unclosed action"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := New(parse(t, testValues), nil)
			got, err := e.Render(c.text)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("Render(%q) = %q, %v; want error containing %q", c.text, got, err, c.err)
				}
				if strings.Contains(err.Error(), "tpl#") || strings.HasPrefix(err.Error(), "template:") {
					t.Errorf("error %q names cocogen's internal template", err)
				}
				if strings.Contains(got+err.Error(), "leaked") {
					t.Errorf("the environment reached the render: %q %v", got, err)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("Render(%q) = %q, %v; want %q", c.text, got, err, c.want)
			}
		})
	}
}

func TestRenderNoValues(t *testing.T) {
	for name, values := range map[string]*node.Node{"nil": nil, "null": node.NewNull(), "list": node.NewList(node.NewString("x"))} {
		t.Run(name, func(t *testing.T) {
			got, err := New(values, nil).Render("[{{ .Values.global.pattern }}]")
			if err != nil || got != "[]" {
				t.Fatalf("Render = %q, %v; want []", got, err)
			}
		})
	}
}

func TestRenderCache(t *testing.T) {
	e := New(parse(t, testValues), nil)
	texts := []string{
		"{{ .Values.clusterGroup.name | lower }}",
		"plain",
		"{{ .Values.global.pattern | lower }}",
		"{{ .Values.clusterGroup.name | lower }}",
		"plain",
	}
	want := []string{"hub", "plain", "cocogen", "hub", "plain"}
	for i, text := range texts {
		got, err := e.Render(text)
		if err != nil || got != want[i] {
			t.Fatalf("render %d of %q = %q, %v; want %q", i, text, got, err, want[i])
		}
	}
	if len(e.cache) != 2 {
		t.Errorf("%d parsed texts cached, want 2 (one per distinct template, none for plain text)", len(e.cache))
	}
	// A failed parse is reported every time, not cached as a success.
	for range 2 {
		if _, err := e.Render("{{ .Values.x "); err == nil {
			t.Fatal("syntax error not reported")
		}
	}
}

func TestRenderTextsAreIndependent(t *testing.T) {
	// Helm's tpl parses each text on its own: a template defined in one value is not visible to another,
	// and rendering one text never changes what another renders.
	e := New(parse(t, testValues), nil)
	a := `{{ define "name" }}A{{ end }}{{ template "name" }}`
	b := `{{ define "name" }}B{{ end }}{{ template "name" }}`
	steps := []struct{ text, want string }{{a, "A"}, {b, "B"}, {a, "A"}, {b, "B"}}
	for i, s := range steps {
		got, err := e.Render(s.text)
		if err != nil || got != s.want {
			t.Fatalf("step %d: Render(%q) = %q, %v; want %q", i, s.text, got, err, s.want)
		}
	}
	if got, err := e.Render(`{{ template "name" }}`); err == nil {
		t.Errorf("a template defined in another text was found: %q", got)
	}
	// Nor can a text run another text by the engine's internal names.
	if _, err := e.Render("{{ .Values.clusterGroup.name }}"); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		if got, err := e.Render(fmt.Sprintf(`{{ template "tpl#%d" . }}`, i)); err == nil {
			t.Errorf("template tpl#%d of another text ran: %q", i, got)
		}
	}
}

func TestHasTemplate(t *testing.T) {
	cases := map[string]bool{"": false, "a}}": false, "{ {": false, "{{": true, "x{{ .y }}": true}
	for s, want := range cases {
		if got := HasTemplate(s); got != want {
			t.Errorf("HasTemplate(%q) = %v, want %v", s, got, want)
		}
	}
}

// values returns the values of a small file, by key: s (string), n (int 1000000 from a file), f (4.10),
// i (int 42), b (true), z (null), e (""), zero (0), m (map), l (list), em (empty map).
func values(t *testing.T) *node.Node {
	return parse(t, "s: hello\nnum: 1000000\nf: 4.10\ni: 42\nb: true\nz: null\ne: \"\"\nzero: 0\nm: {a: b}\nl: [x]\nem: {}\nv: \"4.19\"\n")
}

func TestHelmString(t *testing.T) {
	v := values(t)
	cases := []struct {
		name string
		n    *node.Node
		want string
	}{
		{name: "string", n: v.Get("s"), want: "hello"},
		{name: "integer from a file is a float64", n: v.Get("num"), want: "1e+06"},
		{name: "small integer from a file", n: v.Get("i"), want: "42"},
		{name: "float", n: v.Get("f"), want: "4.1"},
		{name: "integer from a flag stays an integer", n: helmvalues.ScalarFromFlag("1000000", srcpos.Pos{}), want: "1000000"},
		{name: "generated integer", n: node.NewInt(1000000), want: "1000000"},
		{name: "bool", n: v.Get("b"), want: "true"},
		{name: "null", n: v.Get("z"), want: ""},
		{name: "missing", n: nil, want: ""},
		{name: "map", n: v.Get("m"), want: "map[a:b]"},
		{name: "list", n: v.Get("l"), want: "[x]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := HelmString(c.n); got != c.want {
				t.Errorf("HelmString = %q, want %q", got, c.want)
			}
		})
	}
}

// describe renders a node as kind:text, for comparing YAML values.
func describe(n *node.Node) string {
	if n == nil {
		return "<nil>"
	}
	return n.Kind.String() + ":" + n.Text
}

func TestLineValues(t *testing.T) {
	v := values(t)
	cases := []struct {
		name                             string
		n                                *node.Node
		unquoted, inQuotes, quote, toStr string
		printfS                          string
	}{
		{name: "string", n: v.Get("s"), unquoted: "string:hello", inQuotes: "string:hello", quote: "string:hello", toStr: "hello", printfS: "hello"},
		{name: "quoted version reads back as a number", n: v.Get("v"), unquoted: "float:4.19", inQuotes: "string:4.19", quote: "string:4.19", toStr: "4.19", printfS: "4.19"},
		{name: "float64 from a file", n: v.Get("num"), unquoted: "float:1e+06", inQuotes: "string:1e+06", quote: "string:1e+06", toStr: "1e+06", printfS: "%!s(float64=1e+06)"},
		{name: "integer from a flag", n: helmvalues.ScalarFromFlag("42", srcpos.Pos{}), unquoted: "int:42", inQuotes: "string:42", quote: "string:42", toStr: "42", printfS: "%!s(int64=42)"},
		{name: "bool", n: v.Get("b"), unquoted: "bool:true", inQuotes: "string:true", quote: "string:true", toStr: "true", printfS: "%!s(bool=true)"},
		{name: "string true", n: node.NewString("true"), unquoted: "bool:true", inQuotes: "string:true", quote: "string:true", toStr: "true", printfS: "true"},
		{name: "string null", n: node.NewString("null"), unquoted: "null:", inQuotes: "string:null", quote: "string:null", toStr: "null", printfS: "null"},
		{name: "null", n: v.Get("z"), unquoted: "null:", inQuotes: "string:", quote: "null:", toStr: "<nil>", printfS: "%!s(<nil>)"},
		{name: "missing", n: nil, unquoted: "null:", inQuotes: "string:", quote: "null:", toStr: "<nil>", printfS: "%!s(<nil>)"},
		{name: "empty string", n: v.Get("e"), unquoted: "null:", inQuotes: "string:", quote: "string:", toStr: "", printfS: ""},
		{name: "text that is not a plain scalar", n: node.NewString("a: b"), unquoted: "string:a: b", inQuotes: "string:a: b", quote: "string:a: b", toStr: "a: b", printfS: "a: b"},
		{name: "map", n: v.Get("m"), unquoted: "string:map[a:b]", inQuotes: "string:map[a:b]", quote: "string:map[a:b]", toStr: "map[a:b]", printfS: "map[a:b]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := describe(Unquoted(c.n)); got != c.unquoted {
				t.Errorf("Unquoted = %s, want %s", got, c.unquoted)
			}
			if got := describe(InQuotes(c.n)); got != c.inQuotes {
				t.Errorf("InQuotes = %s, want %s", got, c.inQuotes)
			}
			if got := describe(Quote(c.n)); got != c.quote {
				t.Errorf("Quote = %s, want %s", got, c.quote)
			}
			if got := ToString(c.n); got != c.toStr {
				t.Errorf("ToString = %q, want %q", got, c.toStr)
			}
			if got := PrintfS(c.n); got != c.printfS {
				t.Errorf("PrintfS = %q, want %q", got, c.printfS)
			}
		})
	}
}

func TestCoalesce(t *testing.T) {
	v := values(t)
	cases := []struct {
		name string
		in   []*node.Node
		want *node.Node
	}{
		{name: "first non-empty", in: []*node.Node{nil, v.Get("z"), v.Get("e"), v.Get("zero"), v.Get("em"), v.Get("s"), v.Get("i")}, want: v.Get("s")},
		{name: "first is set", in: []*node.Node{v.Get("i"), v.Get("s")}, want: v.Get("i")},
		{name: "false is empty", in: []*node.Node{node.NewBool(false), v.Get("l")}, want: v.Get("l")},
		{name: "all empty", in: []*node.Node{nil, v.Get("z"), v.Get("e"), node.NewList()}, want: nil},
		{name: "nothing", want: nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Coalesce(c.in...); got != c.want {
				t.Errorf("Coalesce = %v, want %v", got, c.want)
			}
		})
	}
}

// TestRenderRefs: a text whose actions only reference string values is evaluated without text/template, with
// the output and the budget spending of the template engine; anything else goes to the engine.
func TestRenderRefs(t *testing.T) {
	texts := []string{
		"{{ .Values.clusterGroup.name }}",
		"app-1.{{ $.Values.global.pattern }}.{{.Values.clusterGroup.name}}",
		"{{ .Values.clusterGroup.name }}", // seen before: its bytes are not spent again
		"x}} {{ .Values.global.pattern }} {{",
		"{{ .Values.missing }}",
		"{{ .Values.missing.deeper }}",
		"{{ .Values.global }}",
		"{{ .Values.clusterGroup.name | upper }}",
		"{{- .Values.clusterGroup.name -}}",
		"{{ .Values.global.pattern }}{{/* note */}}",
		"{{ .Values.clusterGroup.isHubCluster }}",
		"{{ .Values.clusterGroup.name.x }}",
		"{{\t.Values.clusterGroup.name }}",
	}
	fast, slow := New(parse(t, testValues), nil), New(parse(t, testValues), nil)
	refs := 0
	for _, text := range texts {
		got, gotErr := fast.Render(text)
		want, wantErr := slow.renderTemplate(text)
		if got != want || fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
			t.Errorf("%q: renderRefs path %q, %v; template %q, %v", text, got, gotErr, want, wantErr)
		}
		if fs, ss, fb, sb := fast.budget.Steps(), slow.budget.Steps(), fast.budget.Bytes(), slow.budget.Bytes(); fs != ss || fb != sb {
			t.Errorf("%q: spent %d steps and %d bytes, the template engine %d and %d", text, fs, fb, ss, sb)
		}
		if _, ok, _ := New(parse(t, testValues), nil).renderRefs(text); ok {
			refs++
		}
	}
	if refs != 3 {
		t.Errorf("%d texts evaluated without text/template, want 3", refs)
	}
}
