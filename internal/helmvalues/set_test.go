package helmvalues

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/node"
)

// want describes one expected parameter: its path as ParsePath reads it and its value in a compact form
// ("kind:text", or "list[...]" for lists).
type wantParam struct{ path, value string }

func describe(n *node.Node) string {
	if n == nil {
		return "<nil>"
	}
	if n.Kind == node.List {
		items := make([]string, 0, n.Len())
		for _, it := range n.Items() {
			items = append(items, describe(it))
		}
		return "list[" + strings.Join(items, " ") + "]"
	}
	return n.Kind.String() + ":" + n.Text
}

func TestParseSet(t *testing.T) {
	cases := []struct {
		name     string
		arg      string
		asString bool
		want     []wantParam
	}{
		{name: "two pairs", arg: "a=b,c=d", want: []wantParam{{"a", "string:b"}, {"c", "string:d"}}},
		{name: "nested path with index", arg: "a.b[0].c=x", want: []wantParam{{"a.b[0].c", "string:x"}}},
		{name: "list", arg: "global.extraValueFiles={/a.yaml,/b.yaml}", want: []wantParam{{"global.extraValueFiles", "list[string:/a.yaml string:/b.yaml]"}}},
		{name: "list items are typed", arg: "l={1,true,x,null}", want: []wantParam{{"l", "list[int:1 bool:true string:x null:]"}}},
		{name: "list then pair", arg: "l={x,y},n=1", want: []wantParam{{"l", "list[string:x string:y]"}, {"n", "int:1"}}},
		{name: "escaped comma", arg: `a=x\,y,b=z`, want: []wantParam{{"a", "string:x,y"}, {"b", "string:z"}}},
		{name: "escaped equals", arg: `a=x\=y`, want: []wantParam{{"a", "string:x=y"}}},
		{name: "escaped braces are not a list", arg: `a=\{x\,y\}`, want: []wantParam{{"a", "string:{x,y}"}}},
		{name: "escaped backslash", arg: `a=x\\y`, want: []wantParam{{"a", `string:x\y`}}},
		{name: "escaped dot in key", arg: `labels.app\.kubernetes\.io/name=x`, want: []wantParam{{`labels.app\.kubernetes\.io/name`, "string:x"}}},
		{name: "equals in the value", arg: "a=b=c", want: []wantParam{{"a", "string:b=c"}}},
		{name: "empty value", arg: "a=", want: []wantParam{{"a", "string:"}}},
		{name: "a trailing comma", arg: "a=1,", want: []wantParam{{"a", "int:1"}}},
		{name: "a list ends at its brace", arg: "l={x}n=1", want: []wantParam{{"l", "list[string:x]"}, {"n", "int:1"}}},
		{name: "empty list is one empty string", arg: "l={}", want: []wantParam{{"l", "list[string:]"}}},
		{name: "a trailing backslash is dropped", arg: `a=x\`, want: []wantParam{{"a", "string:x"}}},
		{name: "empty argument", arg: ""},
		{name: "true", arg: "a=true", want: []wantParam{{"a", "bool:true"}}},
		{name: "FALSE any case", arg: "a=FALSE", want: []wantParam{{"a", "bool:false"}}},
		{name: "null", arg: "a=null", want: []wantParam{{"a", "null:"}}},
		{name: "NULL any case", arg: "a=Null", want: []wantParam{{"a", "null:"}}},
		{name: "int", arg: "a=42", want: []wantParam{{"a", "int:42"}}},
		{name: "negative int", arg: "a=-7", want: []wantParam{{"a", "int:-7"}}},
		{name: "zero", arg: "a=0", want: []wantParam{{"a", "int:0"}}},
		{name: "large int stays exact", arg: "a=1000000", want: []wantParam{{"a", "int:1000000"}}},
		{name: "version stays a string", arg: "global.clusterVersion=4.18", want: []wantParam{{"global.clusterVersion", "string:4.18"}}},
		{name: "leading zero stays a string", arg: "a=0755", want: []wantParam{{"a", "string:0755"}}},
		{name: "too big for int64 stays a string", arg: "a=99999999999999999999", want: []wantParam{{"a", "string:99999999999999999999"}}},
		{name: "yes is a string", arg: "a=yes", want: []wantParam{{"a", "string:yes"}}},
		{name: "set-string keeps true", arg: "a=true,b=42,c=null", asString: true, want: []wantParam{{"a", "string:true"}, {"b", "string:42"}, {"c", "string:null"}}},
		{name: "set-string list", arg: "l={1,false}", asString: true, want: []wantParam{{"l", "list[string:1 string:false]"}}},
		// Helm only treats { as the start of a list right after the =; elsewhere it is a plain character and
		// the next comma still separates pairs.
		{name: "brace inside a value", arg: "a=x{y,b=2", want: []wantParam{{"a", "string:x{y"}, {"b", "int:2"}}},
		{name: "template in a value", arg: "f=/o/values-{{ .Values.x }}.yaml,g=1", want: []wantParam{{"f", "string:/o/values-{{ .Values.x }}.yaml"}, {"g", "int:1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps, err := ParseSet(c.arg, c.asString)
			if err != nil {
				t.Fatalf("ParseSet(%q): %v", c.arg, err)
			}
			var got []wantParam
			for _, p := range ps {
				got = append(got, wantParam{p.Path.String(), describe(p.Value)})
			}
			if len(got) != len(c.want) {
				t.Fatalf("ParseSet(%q) = %v, want %v", c.arg, got, c.want)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("ParseSet(%q)[%d] = %v, want %v", c.arg, i, got[i], c.want[i])
				}
			}
		})
	}
}

func TestParseSetOrigin(t *testing.T) {
	cases := []struct {
		name     string
		arg      string
		asString bool
		file     string
	}{
		{name: "set", arg: "global.clusterPlatform=Azure", file: "--set global.clusterPlatform"},
		{name: "set-string", arg: "a.b=1", asString: true, file: "--set-string a.b"},
		{name: "list", arg: "l={a}", file: "--set l"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps, err := ParseSet(c.arg, c.asString)
			if err != nil || len(ps) != 1 {
				t.Fatalf("ParseSet(%q) = %v, %v", c.arg, ps, err)
			}
			v := ps[0].Value
			if v.Pos.File != c.file || v.Origin != node.FromFlag {
				t.Errorf("value position %q origin %v, want %q from a flag", v.Pos.File, v.Origin, c.file)
			}
			for _, it := range v.Items() {
				if it.Origin != node.FromFlag {
					t.Errorf("list item origin %v, want from a flag", it.Origin)
				}
			}
		})
	}
}

func TestParseSetErrors(t *testing.T) {
	cases := []struct {
		name, arg string
		asString  bool
		want      string
	}{
		{name: "no value", arg: "novalue", want: `--set "novalue": expected key=value`},
		{name: "no value after a good pair", arg: "a=1,novalue", want: `--set "novalue": expected key=value`},
		{name: "set-string names its flag", arg: "novalue", asString: true, want: `--set-string "novalue": expected key=value`},
		{name: "only an escaped equals", arg: `a\=b`, want: "expected key=value"},
		{name: "empty segment", arg: "a..b=1", want: `--set "a..b=1": empty key segment`},
		{name: "empty key", arg: "=1", want: "empty key segment"},
		{name: "non-numeric index", arg: "a[x]=1", want: `--set "a[x]=1": invalid list index "x"`},
		{name: "negative index", arg: "a[-1]=1", want: "invalid list index"},
		{name: "huge index", arg: "a[100000000]=1", want: "larger than"},
		{name: "unclosed index", arg: "a[1=1", want: "unclosed ["},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps, err := ParseSet(c.arg, c.asString)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("ParseSet(%q) = %v, %v; want error containing %q", c.arg, ps, err, c.want)
			}
			if ps != nil {
				t.Errorf("ParseSet(%q) returned params with an error: %v", c.arg, ps)
			}
		})
	}
}

func FuzzParseSet(f *testing.F) {
	for _, s := range []string{
		"a=b,c=d",
		"a.b[0].c=x",
		"l={x,y},n=1",
		`a=x\,y\=z\{\}\\`,
		"a..b=1",
		"a[x]=1",
		"a={",
		`\`,
	} {
		f.Add(s, false)
	}
	f.Add("a=true,b={1,2}", true)
	f.Fuzz(func(t *testing.T, arg string, asString bool) {
		ps, err := ParseSet(arg, asString)
		if err != nil {
			return
		}
		for _, p := range ps {
			if len(p.Path) == 0 || p.Value == nil {
				t.Fatalf("ParseSet(%q) gave an empty path or a nil value: %+v", arg, p)
			}
			// Every accepted path must read back from its own printed form.
			back, err := ParsePath(p.Path.String())
			if err != nil || back.String() != p.Path.String() {
				t.Fatalf("path %q of ParseSet(%q) does not round-trip: %v", p.Path.String(), arg, err)
			}
			if asString && p.Value.Kind != node.String && p.Value.Kind != node.List {
				t.Fatalf("--set-string %q gave a %s", arg, p.Value.Kind)
			}
		}
	})
}

func TestParseSetBackslashEscapesAnyCharacter(t *testing.T) {
	ps, err := ParseSet(`a=x\ny\,z`, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Value.Text != "xny,z" {
		t.Fatalf("got %+v, want one value xny,z (Helm drops every escaping backslash)", ps)
	}
}

func TestSetParamsRefusesWhatHelmRefuses(t *testing.T) {
	mustSet := func(arg string) []Param {
		ps, err := ParseSet(arg, false)
		if err != nil {
			t.Fatal(err)
		}
		return ps
	}
	for _, tt := range []struct{ arg, err string }{
		{"a=1,a.b=2", "cannot set a.b: a holds an int"},
		{"a={x},a.b=2", "cannot set a.b: a holds a list"},
		{"a.b=1,a[0]=2", "cannot set a[0]: a holds a map"},
		{"a=null,a.b=2", ""},
		{"a.b=1,a.c=2", ""},
		{"a[0]=1,a[1].b=2", ""},
		{"a[0]=x,a[0].b=2", ""},
	} {
		_, err := SetParams(node.NewMap(), mustSet(tt.arg))
		if tt.err == "" && err != nil || tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)) {
			t.Errorf("SetParams(%s) = %v, want error %q", tt.arg, err, tt.err)
		}
	}
}
