package diag

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/srcpos"
)

func pos(file string, line, col int) srcpos.Pos { return srcpos.Pos{File: file, Line: line, Col: col} }

func strs(ds []Diagnostic) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

func TestDiagnosticString(t *testing.T) {
	cases := []struct {
		name string
		d    Diagnostic
		want string
	}{
		{name: "full", d: Diagnostic{Severity: Error, Pos: pos("values/values-azure.yaml", 12, 5), Path: "clusterGroup.applications.trustee", Msg: `unknown key "nmespace"`},
			want: `values/values-azure.yaml:12:5: error: clusterGroup.applications.trustee: unknown key "nmespace"`},
		{name: "no path", d: Diagnostic{Severity: Warning, Pos: pos("a.yaml", 3, 0), Msg: "m"}, want: "a.yaml:3: warning: m"},
		{name: "file only", d: Diagnostic{Severity: Info, Pos: pos("a.yaml", 0, 0), Msg: "m"}, want: "a.yaml: info: m"},
		{name: "no position", d: Diagnostic{Severity: Error, Path: "p", Msg: "m"}, want: "error: p: m"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.d.String(); got != c.want {
				t.Errorf("String() = %q, want %q", got, c.want)
			}
		})
	}
}

func TestSorted(t *testing.T) {
	l := &List{}
	l.Warnf(pos("b.yaml", 1, 1), "", "w")
	l.Errorf(pos("a.yaml", 10, 1), "", "line 10")
	l.Errorf(pos("a.yaml", 2, 7), "", "col 7")
	l.Errorf(pos("a.yaml", 2, 3), "z", "col 3")
	l.Infof(pos("a.yaml", 2, 3), "", "note")
	l.Warnf(pos("a.yaml", 2, 3), "", "warn")
	l.Errorf(pos("a.yaml", 2, 3), "a", "col 3")
	l.Errorf(pos("a.yaml", 2, 3), "a", "col 3") // duplicate
	l.Errorf(pos("a.yaml", 2, 3), "a", "another")
	l.Errorf(srcpos.Pos{}, "", "no position")
	l.Errorf(pos("b.yaml", 1, 1), "", "w") // same place and text as the warning, but an error
	l.Warnf(pos("b.yaml", 1, 1), "", "w")  // duplicate, not adjacent when added

	want := []string{
		"error: no position",
		"a.yaml:2:3: error: a: another",
		"a.yaml:2:3: error: a: col 3",
		"a.yaml:2:3: error: z: col 3",
		"a.yaml:2:3: warning: warn",
		"a.yaml:2:3: info: note",
		"a.yaml:2:7: error: col 7",
		"a.yaml:10:1: error: line 10",
		"b.yaml:1:1: error: w",
		"b.yaml:1:1: warning: w",
	}
	got := strs(l.Sorted())
	if !slices.Equal(got, want) {
		t.Errorf("Sorted():\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Sorting does not change the list, and sorting again gives the same result.
	if again := strs(l.Sorted()); !slices.Equal(again, want) {
		t.Errorf("second Sorted() differs: %q", again)
	}
}

func TestErr(t *testing.T) {
	cases := []struct {
		name  string
		build func(l *List)
		want  string // "" means no error
	}{
		{name: "empty", build: func(*List) {}},
		{name: "warnings and notes only", build: func(l *List) {
			l.Warnf(pos("a.yaml", 1, 1), "", "w")
			l.Infof(pos("a.yaml", 1, 1), "", "i")
		}},
		{name: "errors sorted, deduplicated, warnings left out", build: func(l *List) {
			l.Errorf(pos("b.yaml", 1, 1), "", "second")
			l.Warnf(pos("a.yaml", 1, 1), "", "w")
			l.Errorf(pos("a.yaml", 5, 1), "x", "first")
			l.Errorf(pos("b.yaml", 1, 1), "", "second")
		}, want: "a.yaml:5:1: error: x: first\nb.yaml:1:1: error: second"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &List{}
			c.build(l)
			err := l.Err()
			if c.want == "" {
				if err != nil || l.HasErrors() {
					t.Fatalf("Err() = %v, HasErrors %v; want no error", err, l.HasErrors())
				}
				return
			}
			if err == nil || err.Error() != c.want || !l.HasErrors() {
				t.Fatalf("Err() = %v, want %q", err, c.want)
			}
			var ds *Diagnostics
			if !errors.As(err, &ds) || len(ds.Items) != strings.Count(c.want, "\n")+1 {
				t.Fatalf("Err() is not *Diagnostics with one item per error: %#v", err)
			}
		})
	}
}

func TestAddError(t *testing.T) {
	inner := &List{}
	inner.Errorf(pos("x.yaml", 3, 4), "p", "from a list")
	cases := []struct {
		name string
		err  error
		want []string
	}{
		{name: "node error keeps its position", err: fmt.Errorf("load: %w", &srcpos.Error{Pos: pos("v.yaml", 2, 1), Msg: `key "a" is defined twice in this map`}),
			want: []string{`v.yaml:2:1: error: key "a" is defined twice in this map`}},
		{name: "diagnostics keep theirs", err: inner.Err(), want: []string{"x.yaml:3:4: error: p: from a list"}},
		{name: "plain error", err: errors.New("boom"), want: []string{"error: boom"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := &List{}
			l.AddError(c.err)
			if got := strs(l.Sorted()); !slices.Equal(got, c.want) {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestAppend(t *testing.T) {
	a, b := &List{}, &List{}
	a.Warnf(pos("a.yaml", 1, 1), "", "w")
	b.Errorf(pos("b.yaml", 1, 1), "", "e")
	a.Append(b)
	if !a.HasErrors() || len(a.Sorted()) != 2 {
		t.Fatalf("Append: %q", strs(a.Sorted()))
	}
}

// sample has one diagnostic of each severity and awkward characters for every format.
func sample() []Diagnostic {
	l := &List{}
	l.Errorf(pos("values/values-hub.yaml", 12, 5), "clusterGroup.applications.trustee", `unknown key "nmespace"; did you mean "namespace"?`)
	l.Warnf(pos("dir,x/a:b%.yaml", 3, 0), "", "%s", "100% sure\nsecond line")
	l.Infof(pos("values/values-Azure.yaml", 0, 0), "", "optional platform value file not present")
	l.Errorf(srcpos.Pos{}, "", "no cluster group <&>")
	return l.Sorted()
}

func TestWriteText(t *testing.T) {
	cases := []struct {
		name    string
		verbose bool
		want    string
	}{
		{name: "quiet", want: "error: no cluster group <&>\n" +
			"dir,x/a:b%.yaml:3: warning: 100% sure\nsecond line\n" +
			`values/values-hub.yaml:12:5: error: clusterGroup.applications.trustee: unknown key "nmespace"; did you mean "namespace"?` + "\n"},
		{name: "verbose shows notes", verbose: true, want: "error: no cluster group <&>\n" +
			"dir,x/a:b%.yaml:3: warning: 100% sure\nsecond line\n" +
			"values/values-Azure.yaml: info: optional platform value file not present\n" +
			`values/values-hub.yaml:12:5: error: clusterGroup.applications.trustee: unknown key "nmespace"; did you mean "namespace"?` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, "text", sample(), c.verbose); err != nil {
				t.Fatal(err)
			}
			if b.String() != c.want {
				t.Errorf("got:\n%s\nwant:\n%s", b.String(), c.want)
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	want := `[
  {
    "severity": "error",
    "message": "no cluster group \u003c\u0026\u003e"
  },
  {
    "severity": "warning",
    "file": "dir,x/a:b%.yaml",
    "line": 3,
    "message": "100% sure\nsecond line"
  },
  {
    "severity": "error",
    "file": "values/values-hub.yaml",
    "line": 12,
    "column": 5,
    "path": "clusterGroup.applications.trustee",
    "message": "unknown key \"nmespace\"; did you mean \"namespace\"?"
  }
]
`
	var b bytes.Buffer
	if err := Write(&b, "json", sample(), false); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	var back []map[string]any
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back) != 3 {
		t.Errorf("output does not read back as a JSON list of 3: %v", err)
	}

	// No diagnostics is an empty list, not null, so that consumers can always iterate.
	b.Reset()
	if err := Write(&b, "json", nil, false); err != nil || b.String() != "[]\n" {
		t.Errorf("empty JSON = %q, %v; want []", b.String(), err)
	}
}

func TestWriteGitHub(t *testing.T) {
	want := "::error::no cluster group <&>\n" +
		"::warning file=dir%2Cx/a%3Ab%25.yaml,line=3::100%25 sure%0Asecond line\n" +
		"::notice file=values/values-Azure.yaml::optional platform value file not present\n" +
		`::error file=values/values-hub.yaml,line=12,col=5::clusterGroup.applications.trustee: unknown key "nmespace"; did you mean "namespace"?` + "\n"
	var b bytes.Buffer
	if err := Write(&b, "github", sample(), true); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
	// One workflow command per diagnostic: escaped newlines never start a new command.
	if n := strings.Count(b.String(), "\n"); n != 4 {
		t.Errorf("%d lines, want 4", n)
	}
}

// junit mirrors the JUnit XML that CI systems read.
type junit struct {
	XMLName xml.Name `xml:"testsuites"`
	Suites  []struct {
		Name     string `xml:"name,attr"`
		Tests    int    `xml:"tests,attr"`
		Failures int    `xml:"failures,attr"`
		Cases    []struct {
			Name      string `xml:"name,attr"`
			ClassName string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
				Type    string `xml:"type,attr"`
				Text    string `xml:",chardata"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func TestWriteJUnit(t *testing.T) {
	type wantCase struct{ name, class, failure string }
	cases := []struct {
		name     string
		ds       []Diagnostic
		verbose  bool
		failures int
		want     []wantCase
	}{
		{
			name: "one failure per error, warnings pass, notes left out", ds: sample(), verbose: true, failures: 2,
			want: []wantCase{
				{"cocogen", "error", "error: no cluster group <&>"},
				{"dir,x/a:b%.yaml:3", "warning", ""},
				{"values/values-hub.yaml:12:5", "error", `values/values-hub.yaml:12:5: error: clusterGroup.applications.trustee: unknown key "nmespace"; did you mean "namespace"?`},
			},
		},
		{name: "no problems", want: []wantCase{{"render", "ok", ""}}},
		{
			name: "only notes", ds: []Diagnostic{{Severity: Info, Pos: pos("a.yaml", 1, 1), Msg: "n"}}, verbose: true,
			want: []wantCase{{"render", "ok", ""}},
		},
		{
			name: "control characters stay valid XML", ds: []Diagnostic{{Severity: Error, Pos: pos("a.yaml", 1, 1), Msg: "bad \x1b[31mred\x1b[0m \"q\" ]]>"}}, failures: 1,
			want: []wantCase{{"a.yaml:1:1", "error", "a.yaml:1:1: error: bad \uFFFD[31mred\uFFFD[0m \"q\" ]]>"}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, "junit", c.ds, c.verbose); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(b.String(), xml.Header) {
				t.Errorf("no XML header: %q", b.String())
			}
			var got junit
			if err := xml.Unmarshal(b.Bytes(), &got); err != nil {
				t.Fatalf("output is not valid XML: %v\n%s", err, b.String())
			}
			if len(got.Suites) != 1 {
				t.Fatalf("%d test suites, want 1", len(got.Suites))
			}
			s := got.Suites[0]
			if s.Name != "cocogen" || s.Tests != len(c.want) || s.Failures != c.failures || len(s.Cases) != len(c.want) {
				t.Fatalf("suite %q tests=%d failures=%d cases=%d; want cocogen, %d tests, %d failures\n%s",
					s.Name, s.Tests, s.Failures, len(s.Cases), len(c.want), c.failures, b.String())
			}
			for i, w := range c.want {
				gc := s.Cases[i]
				failure := ""
				if gc.Failure != nil {
					failure = gc.Failure.Text
					if gc.Failure.Type != "error" {
						t.Errorf("case %d failure type %q, want error", i, gc.Failure.Type)
					}
				}
				if gc.Name != w.name || gc.ClassName != w.class || failure != w.failure {
					t.Errorf("case %d = {%q %q %q}, want {%q %q %q}", i, gc.Name, gc.ClassName, failure, w.name, w.class, w.failure)
				}
			}
		})
	}
}

func TestWriteJUnitGolden(t *testing.T) {
	l := &List{}
	l.Errorf(pos("v.yaml", 2, 3), "a", `x < "y"`)
	want := xml.Header + `<testsuites>
  <testsuite name="cocogen" tests="1" failures="1">
    <testcase name="v.yaml:2:3" classname="error">
      <failure message="x &lt; &#34;y&#34;" type="error">v.yaml:2:3: error: a: x &lt; &#34;y&#34;</failure>
    </testcase>
  </testsuite>
</testsuites>
`
	var b bytes.Buffer
	if err := Write(&b, "junit", l.Sorted(), false); err != nil {
		t.Fatal(err)
	}
	if b.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", b.String(), want)
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	var b bytes.Buffer
	err := Write(&b, "sarif", sample(), false)
	want := `unknown diagnostics format "sarif" (valid: text, json, github, junit)`
	if err == nil || err.Error() != want || b.Len() != 0 {
		t.Fatalf("Write(sarif) = %v (wrote %q), want %q", err, b.String(), want)
	}
}
