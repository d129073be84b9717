package schema

import (
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

func parse(t *testing.T, src string) *node.Node {
	t.Helper()
	n, err := node.Parse("v.yaml", []byte(src), node.DefaultLimits)
	if err != nil {
		t.Fatalf("parse %q: %v", src, err)
	}
	return n
}

func diagLines(l *diag.List) []string {
	var out []string
	for _, d := range l.Sorted() {
		out = append(out, d.String())
	}
	return out
}

func checkDiags(t *testing.T, l *diag.List, want []string) {
	t.Helper()
	if got := diagLines(l); !slices.Equal(got, want) {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestSuggest(t *testing.T) {
	appKeys := []string{"name", "namespace", "project", "path", "chart", "chartVersion", "repoURL", "overrides"}
	cases := []struct {
		name  string
		word  string
		known []string
		want  string
	}{
		{name: "missing letter", word: "nmespace", known: appKeys, want: "namespace"},
		{name: "transposition", word: "porject", known: appKeys, want: "project"},
		{name: "case only", word: "REPOURL", known: appKeys, want: "repoURL"},
		{name: "extra letter", word: "chartt", known: appKeys, want: "chart"},
		{name: "two edits in a long word", word: "chartVrsoin", known: appKeys, want: "chartVersion"},
		{name: "platform case", word: "azure", known: []string{"AWS", "Azure", "GCP"}, want: "Azure"},
		{name: "nothing close", word: "kustomize", known: appKeys, want: ""},
		{name: "short word, three edits", word: "xyz", known: []string{"abc"}, want: ""},
		{name: "ties go to the smaller key", word: "pat", known: []string{"path", "part"}, want: "part"},
		{name: "no known words", word: "name", known: nil, want: ""},
		{name: "very long words only match exactly", word: strings.Repeat("a", 70) + "b", known: []string{strings.Repeat("a", 70) + "c"}, want: ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := Suggest(c.word, c.known); got != c.want {
				t.Errorf("Suggest(%q) = %q, want %q", c.word, got, c.want)
			}
		})
	}
}

func TestJoinAndIndex(t *testing.T) {
	cases := []struct{ path, key, want string }{
		{"", "global", "global"},
		{"clusterGroup", "applications", "clusterGroup.applications"},
		{"labels", "app.kubernetes.io/name", `labels["app.kubernetes.io/name"]`},
		{"m", "", `m[""]`},
		{"m", "a b", `m["a b"]`},
	}
	for _, c := range cases {
		if got := Join(c.path, c.key); got != c.want {
			t.Errorf("Join(%q, %q) = %q, want %q", c.path, c.key, got, c.want)
		}
	}
	if got := Index("global.extraValueFiles", 2); got != "global.extraValueFiles[2]" {
		t.Errorf("Index = %q", got)
	}
}

func TestMap(t *testing.T) {
	known := []string{"name", "namespace", "project"}
	cases := []struct {
		name   string
		src    string
		key    string // the value under test is root.Get(key); "" means the root
		nullOK bool
		known  []string
		wantOK bool
		want   []string
	}{
		{name: "known keys", src: "name: a\nnamespace: b\n", known: known, wantOK: true},
		{name: "no key list accepts anything", src: "whatever: 1\n", wantOK: true},
		{
			name: "typo with suggestion", src: "name: a\nnmespace: b\n", known: known, wantOK: true,
			want: []string{`v.yaml:2:1: error: app: unknown key "nmespace"; did you mean "namespace"?`},
		},
		{
			name: "unknown key lists the valid keys, sorted", src: "kustomize: true\n", known: []string{"project", "name", "namespace"}, wantOK: true,
			want: []string{`v.yaml:1:1: error: app: unknown key "kustomize" (valid keys: name, namespace, project)`},
		},
		{
			name: "every unknown key is reported", src: "nam: a\nprojet: b\n", known: known, wantOK: true,
			want: []string{
				`v.yaml:1:1: error: app: unknown key "nam"; did you mean "name"?`,
				`v.yaml:2:1: error: app: unknown key "projet"; did you mean "project"?`,
			},
		},
		{name: "null accepted", src: "app: null\n", key: "app", nullOK: true, wantOK: false},
		{
			name: "null refused", src: "app:\n", key: "app", wantOK: false,
			want: []string{"v.yaml:1:5: error: app: must be a map, not null"},
		},
		{name: "missing is not reported", src: "other: 1\n", key: "app", wantOK: false},
		{
			name: "list", src: "app:\n  - a\n", key: "app", nullOK: true, wantOK: false,
			want: []string{"v.yaml:2:3: error: app: must be a map, not a list"},
		},
		{
			name: "scalar", src: "app: x\n", key: "app", nullOK: true, wantOK: false,
			want: []string{"v.yaml:1:6: error: app: must be a map, not a string"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := parse(t, c.src)
			if c.key != "" {
				n = n.Get(c.key)
			}
			d := &diag.List{}
			if got := (Checker{Diags: d}).Map(n, "app", c.nullOK, c.known...); got != c.wantOK {
				t.Errorf("Map = %v, want %v", got, c.wantOK)
			}
			checkDiags(t, d, c.want)
		})
	}
}

func TestString(t *testing.T) {
	cases := []struct {
		name   string
		src    string // the value of key v
		want   string
		wantOK bool
		diags  []string
	}{
		{name: "string", src: "v: main", want: "main", wantOK: true},
		{name: "quoted version", src: `v: "1.10"`, want: "1.10", wantOK: true},
		{name: "null", src: "v: null", want: "", wantOK: true},
		{name: "integer prints the same", src: "v: 42", want: "42", wantOK: true},
		{
			name: "version with a trailing zero", src: "v: 1.10", want: "1.1", wantOK: true,
			diags: []string{`v.yaml:1:4: warning: x.chartVersion: 1.10 is read as a YAML number and printed as 1.1 (as Helm does); quote it to keep "1.10"`},
		},
		{
			name: "large integer prints in exponent form", src: "v: 1000000", want: "1e+06", wantOK: true,
			diags: []string{`v.yaml:1:4: warning: x.chartVersion: 1000000 is read as a YAML number and printed as 1e+06 (as Helm does); quote it to keep "1000000"`},
		},
		{
			name: "octal", src: "v: 0755", want: "493", wantOK: true,
			diags: []string{`v.yaml:1:4: warning: x.chartVersion: 0755 is read as a YAML number and printed as 493 (as Helm does); quote it to keep "0755"`},
		},
		{name: "float that prints the same", src: "v: 4.19", want: "4.19", wantOK: true},
		{name: "bool", src: "v: true", want: "true", wantOK: true},
		{
			name: "YAML 1.1 boolean word", src: "v: on", want: "true", wantOK: true,
			diags: []string{`v.yaml:1:4: warning: x.chartVersion: on is read as a YAML boolean and printed as true (as Helm does); quote it to keep "on"`},
		},
		{
			name: "map", src: "v: {a: 1}", want: "", wantOK: false,
			diags: []string{"v.yaml:1:4: error: x.chartVersion: must be a string, not a map"},
		},
		{
			name: "list", src: "v:\n  - a", want: "", wantOK: false,
			diags: []string{"v.yaml:2:3: error: x.chartVersion: must be a string, not a list"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &diag.List{}
			got, ok := Checker{Diags: d}.String(parse(t, c.src).Get("v"), "x.chartVersion")
			if got != c.want || ok != c.wantOK {
				t.Errorf("String = %q, %v; want %q, %v", got, ok, c.want, c.wantOK)
			}
			checkDiags(t, d, c.diags)
		})
	}
}

func TestStringFromFlagDoesNotWarn(t *testing.T) {
	d := &diag.List{}
	got, ok := Checker{Diags: d}.String(helmvalues.ScalarFromFlag("1000000", srcpos.Pos{File: "--set x"}), "x")
	if got != "1000000" || !ok {
		t.Errorf("String = %q, %v; want the integer as given", got, ok)
	}
	checkDiags(t, d, nil)
}

func TestBool(t *testing.T) {
	cases := []struct {
		name         string
		src          string
		want, wantOK bool
		diags        []string
	}{
		{name: "true", src: "v: true", want: true, wantOK: true},
		{name: "false", src: "v: false", want: false, wantOK: true},
		{name: "YAML 1.1 yes", src: "v: yes", want: true, wantOK: true},
		{name: "null", src: "v: ~", want: false, wantOK: true},
		{name: "quoted True", src: `v: "True"`, want: true, wantOK: true},
		{name: "quoted false", src: `v: "false"`, want: false, wantOK: true},
		{name: "empty string", src: `v: ""`, want: false, wantOK: true},
		{
			name: "integer", src: "v: 1", wantOK: false,
			diags: []string{`v.yaml:1:4: error: a.enabled: must be true or false, not int "1"`},
		},
		{
			name: "other string", src: "v: enabled", wantOK: false,
			diags: []string{`v.yaml:1:4: error: a.enabled: must be true or false, not string "enabled"`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &diag.List{}
			got, ok := Checker{Diags: d}.Bool(parse(t, c.src).Get("v"), "a.enabled")
			if got != c.want || ok != c.wantOK {
				t.Errorf("Bool = %v, %v; want %v, %v", got, ok, c.want, c.wantOK)
			}
			checkDiags(t, d, c.diags)
		})
	}
}

func TestStringList(t *testing.T) {
	cases := []struct {
		name   string
		src    string
		want   []string
		wantOK bool
		diags  []string
	}{
		{name: "strings", src: "v: [a, b]", want: []string{"a", "b"}, wantOK: true},
		{name: "scalars of any type", src: "v: [a, 1, true]", want: []string{"a", "1", "true"}, wantOK: true},
		{name: "null", src: "v:", wantOK: true},
		{name: "empty", src: "v: []", wantOK: true},
		{
			name: "a string instead of a list", src: "v: /a.yaml", wantOK: false,
			diags: []string{"v.yaml:1:4: error: global.extraValueFiles: must be a list, not a string"},
		},
		{
			name: "a map item", src: "v:\n  - a\n  - {b: 1}\n  - [c]\n", want: []string{"a", "", ""}, wantOK: false,
			diags: []string{
				"v.yaml:3:5: error: global.extraValueFiles[1]: must be a string, not a map",
				"v.yaml:4:5: error: global.extraValueFiles[2]: must be a string, not a list",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &diag.List{}
			items, ok := Checker{Diags: d}.StringList(parse(t, c.src).Get("v"), "global.extraValueFiles")
			var got []string
			for _, it := range items {
				got = append(got, it.Text)
			}
			if !slices.Equal(got, c.want) || ok != c.wantOK {
				t.Errorf("StringList = %q, %v; want %q, %v", got, ok, c.want, c.wantOK)
			}
			checkDiags(t, d, c.diags)
		})
	}
}

func TestEnum(t *testing.T) {
	valid := []string{"Automatic", "Manual"}
	cases := []struct {
		name  string
		value string
		want  bool
		diags []string
	}{
		{name: "valid", value: "Manual", want: true},
		{
			name: "case differs", value: "manual",
			diags: []string{`v.yaml:1:4: error: global.options.installPlanApproval: invalid value "manual" (valid: Automatic, Manual); did you mean "Manual"?`},
		},
		{
			name: "nothing close", value: "never",
			diags: []string{`v.yaml:1:4: error: global.options.installPlanApproval: invalid value "never" (valid: Automatic, Manual)`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := &diag.List{}
			n := parse(t, "v: "+c.value).Get("v")
			if got := (Checker{Diags: d}).Enum(n, "global.options.installPlanApproval", n.Text, valid...); got != c.want {
				t.Errorf("Enum = %v, want %v", got, c.want)
			}
			checkDiags(t, d, c.diags)
		})
	}
}
