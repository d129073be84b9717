package tpl

import (
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/Masterminds/sprig/v3"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/node"
)

// Every non-hermetic function is an error that names it, even in a branch that never runs: a render must not
// depend on when, where or how often it runs.
func TestNonHermeticFunctionsAreErrors(t *testing.T) {
	names := []string{"now", "date", "dateInZone", "ago", "unixEpoch", "htmlDate", "randAlphaNum", "randAlpha",
		"randNumeric", "randAscii", "randBytes", "randInt", "shuffle", "uuidv4", "genPrivateKey", "genCA",
		"genSelfSignedCert", "genSignedCert", "encryptAES", "htpasswd", "getHostByName", "env", "expandenv", "lookup"}
	for _, name := range names {
		for _, text := range []string{"{{ " + name + " }}", "{{ if false }}{{ " + name + " \"x\" }}{{ end }}", "{{ define \"d\" }}{{ " + name + " }}{{ end }}x"} {
			_, err := New(node.NewMap(), nil).Render(text)
			if err == nil || !strings.Contains(err.Error(), "template function "+name+" ") {
				t.Errorf("Render(%q) error = %v, want one naming %s", text, err, name)
			}
			if err := New(node.NewMap(), nil).Check(text); err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("Check(%q) error = %v, want one naming %s", text, err, name)
			}
		}
	}
}

// deterministic lists every Sprig and Helm function that values may use: reviewed to depend on its arguments
// only. A new Sprig release that adds a function fails this test until the function is reviewed and put
// here or in nonHermetic.
var deterministic = strings.Fields(`
abbrev abbrevboth add add1 add1f addf adler32sum all any append atoi b32dec b32enc b64dec b64enc base 
biggest buildCustomCert camelcase cat ceil chunk clean coalesce compact concat contains deepCopy deepEqual
default derivePassword dict dig dir div divf empty ternary kebabcase
decryptAES duration
ext fail first float64 floor fromJson fromYaml get has hasKey hasPrefix hasSuffix hello 
indent initial initials int int64 isAbs join kindIs kindOf keys last list lower max maxf merge
mergeOverwrite min minf mod mul mulf mustAppend mustChunk mustCompact mustDeepCopy mustFirst
mustFromJson mustHas mustInitial mustLast mustMerge mustMergeOverwrite mustPrepend mustPush mustRegexFind
mustRegexFindAll mustRegexMatch mustRegexReplaceAll mustRegexReplaceAllLiteral mustRegexSplit mustRest
mustReverse mustSlice mustToDate mustToJson mustToPrettyJson mustToRawJson mustUniq mustWithout 
nindent nospace omit osBase osClean osDir osExt osIsAbs pick pluck plural prepend push quote 
regexFind regexFindAll regexMatch regexQuoteMeta regexReplaceAll regexReplaceAllLiteral regexSplit
repeat replace required rest reverse round semver semverCompare seq set sha1sum sha256sum sha512sum slice
snakecase sortAlpha split splitList splitn squote sub subf substr swapcase title toDate toDecimal toJson
toPrettyJson toRawJson toString toStrings toYaml trim trimAll trimPrefix trimSuffix trimall trunc tuple typeIs
typeIsLike typeOf uniq unset until untilStep untitle upper urlJoin urlParse values without wrap wrapWith
include tpl print printf println html js urlquery fromJsonArray fromYamlArray toToml mustToToml fromToml toYamlPretty`)

func TestEveryTemplateFunctionIsReviewed(t *testing.T) {
	funcs := plainFuncs()
	for name := range sprig.TxtFuncMap() {
		if _, ok := funcs[name]; !ok {
			t.Errorf("sprig function %s is missing from the engine", name)
		}
	}
	for name := range funcs {
		if name == stepFunc || NonHermetic(name) != "" {
			continue
		}
		if !slices.Contains(deterministic, name) {
			t.Errorf("template function %s is neither reviewed as deterministic nor refused as non-hermetic", name)
		}
	}
}

// Two engines over the same values give the same bytes for texts that use every kind of deterministic
// function (the ones that look at the clock or random sources are refused above).
func TestRenderIsDeterministic(t *testing.T) {
	text := `{{ .Values.global.pattern | sha256sum }} {{ list 3 1 2 | sortAlpha }} {{ dict "b" 1 "a" 2 | toJson }}` +
		` {{ keys (dict "b" 1 "a" 2 "c" 3) | sortAlpha }} {{ toDate "2006-01-02" "2017-12-31" | toString }}` +
		` {{ .Values | toYaml | b64enc | sha1sum }}`
	first, err := New(parse(t, testValues), nil).Render(text)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		again, err := New(parse(t, testValues), nil).Render(text)
		if err != nil || again != first {
			t.Fatalf("second render %q, %v; first %q", again, err, first)
		}
	}
}

// Hostile templates fail fast with the budget they spent, and without taking the memory they ask for.
func TestTemplateBudgets(t *testing.T) {
	// Steps and bytes, not the clock, decide these cases: the time budget is out of reach, so the outcome does
	// not depend on how busy the machine is.
	defaults := budget.Defaults()
	defaults.TemplateTime = time.Hour
	small := defaults
	small.TemplateSteps = 10_000
	small.TemplateBytes = 8 << 20
	cases := []struct {
		name, text, budget string
		limits             budget.Limits
	}{
		{"until loop", "{{ range until 2000000000 }}{{ end }}", "template-bytes", defaults},
		{"untilStep", "{{ range untilStep 0 2000000000 1 }}{{ end }}", "template-bytes", defaults},
		{"range over an integer", "{{ range 2000000000 }}{{ end }}", "template-steps", defaults},
		{"nested loops", "{{ range until 100000 }}{{ range until 100000 }}{{ end }}{{ end }}", "template-steps", defaults},
		{"repeat", `{{ repeat 2000000000 "x" }}`, "template-bytes", defaults},
		{"indent", `{{ indent 2000000000 "x" }}`, "template-bytes", defaults},
		{"replace", `{{ $s := repeat 5000 "x" }}{{ replace "x" $s $s }}`, "template-bytes", small},
		{"doubling string", `{{ $s := "xx" }}{{ range until 100 }}{{ $s = cat $s $s }}{{ end }}{{ len $s }}`, "template-bytes", defaults},
		{"doubling printf", `{{ $s := "xx" }}{{ range until 100 }}{{ $s = printf "%s%s" $s $s }}{{ end }}{{ len $s }}`, "template-bytes", defaults},
		{"printf reusing an argument", `{{ $s := repeat 100000 "x" }}{{ printf (repeat 200 "%[1]s") $s }}`, "template-bytes", small},
		{"list of big strings", `{{ $s := repeat 1000000 "x" }}{{ $l := list }}{{ range until 1000 }}{{ $l = append $l $s }}{{ end }}{{ len $l }}`, "template-bytes", defaults},
		{"cyclic map", `{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ $d }}`, "template-bytes", defaults},
		{"deep map", `{{ $d := dict }}{{ range until 100000 }}{{ $d = dict "x" $d }}{{ end }}{{ $d }}`, "template-bytes", defaults},
		{"recursive template", `{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}`, "template-steps", small},
		{"large output", `{{ range until 50000 }}{{ repeat 1000 "x" }}{{ end }}`, "template-bytes", small},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			_, err := New(parse(t, testValues), NewBudget(c.limits)).Render(c.text)
			runtime.ReadMemStats(&after)
			var ex *budget.Exceeded
			if !errors.As(err, &ex) || ex.Budget != c.budget {
				t.Fatalf("Render(%q) error = %v, want budget %s", c.text, err, c.budget)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 256<<20 {
				t.Errorf("allocated %d MiB before failing", grown>>20)
			}
		})
	}
}

// One budget spans the engines of a render: each text fits, together they do not.
func TestBudgetIsShared(t *testing.T) {
	l := budget.Defaults()
	l.TemplateSteps = 150
	b := NewBudget(l)
	text := "{{ range until 60 }}{{ end }}"
	for i := range 2 {
		if _, err := New(node.NewMap(), b).Render(text); err != nil {
			t.Fatalf("engine %d: %v", i, err)
		}
	}
	if _, err := New(node.NewMap(), b).Render(text); err == nil || !strings.Contains(err.Error(), "template-steps") {
		t.Fatalf("third engine: err = %v, want template-steps", err)
	}
}

// The functions text/template provides itself are overridden by budgeted ones; this test breaks if a Go
// release stops letting a function map override them.
func TestBuiltinPrintOverridden(t *testing.T) {
	tm, err := template.New("x").Funcs(template.FuncMap{"printf": func(string, ...any) string { return "mine" }}).Parse(`{{ printf "%s" "x" }}`)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tm.Execute(&b, nil); err != nil || b.String() != "mine" {
		t.Fatalf("printf override: %q, %v", b.String(), err)
	}
}

// FuzzTemplate renders arbitrary template text under small budgets: it must never panic or hang, every
// failure is an error, and a text that renders gives the same bytes twice (no clock, no randomness).
func FuzzTemplate(f *testing.F) {
	for _, seed := range []string{
		"{{ .Values.global.pattern }}",
		"{{ range until 5 }}{{ . }}{{ end }}",
		`{{ $s := "xx" }}{{ range until 40 }}{{ $s = cat $s $s }}{{ end }}{{ len $s }}`,
		`{{ define "r" }}{{ template "r" . }}{{ end }}{{ template "r" . }}`,
		`{{ $d := dict }}{{ $_ := set $d "self" $d }}{{ toJson $d }}`,
		`{{ printf "%[1]s%[1]s%[1]s" (repeat 1000 "x") | len }}`,
		`{{ tpl .Values.clusterGroup.indirect . }}`,
		`{{ toYaml .Values | fromYaml | toJson }}`,
		`{{ regexReplaceAll "(x)" (repeat 100 "x") "$1$1$1$1" | len }}`,
		`{{ range $i, $e := .Values.global.list }}{{ $i }}={{ $e }}{{ end }}`,
		`{{ now }}`,
	} {
		f.Add(seed)
	}
	l := budget.Defaults()
	l.TemplateSteps = 20_000
	l.TemplateBytes = 4 << 20
	l.TemplateTime = time.Hour // steps and bytes decide, so that a failure reproduces
	values := parse(f, testValues)
	f.Fuzz(func(t *testing.T, text string) {
		first, err := New(values, NewBudget(l)).Render(text)
		if err != nil {
			return
		}
		again, err := New(values, NewBudget(l)).Render(text)
		if err != nil || again != first {
			t.Fatalf("Render(%q) is not deterministic: %q then %q, %v", text, first, again, err)
		}
	})
}
