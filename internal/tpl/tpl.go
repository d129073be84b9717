// Package tpl evaluates the Helm template expressions that Validated Patterns values may contain (for example
// sharedValueFiles entries such as /overrides/values-{{ $.Values.global.clusterPlatform }}.yaml and application
// overrides), the way the clustergroup chart's `tpl` calls do: Go text/template with the Sprig functions and
// Helm's additions, against a root object whose .Values are the merged values.
//
// Functions that would make a render depend on more than Git and the metadata (the clock, randomness, DNS,
// the environment, a cluster) are errors that name the function; every evaluation spends the render's
// template budget (budget.go).
package tpl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/template"
	tparse "text/template/parse"

	"github.com/BurntSushi/toml"
	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"
	goyaml "sigs.k8s.io/yaml/goyaml.v3"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Engine renders template strings against one set of values. It is not safe for concurrent use; engines of one
// render share a Budget, which is.
type Engine struct {
	values *node.Node
	data   map[string]any // the template root, built from values on first use
	budget *Budget

	// root holds the function map once; every parsed text becomes a template of its set, so adding the
	// (large) Sprig function map is paid once per engine, not once per text.
	root *template.Template
	// own are the engine's own functions (tpl, the step counter); wrapped and wrappedFuncs the budgeted
	// versions of the base functions its texts call.
	own          template.FuncMap
	wrapped      map[string]bool
	wrappedFuncs template.FuncMap
	tick         tparse.Node
	cache        map[string]*template.Template
	depth        int
	// refTexts are the texts renderRefs evaluated, whose bytes it spent once, as parse does.
	refTexts map[string]bool
}

// New returns an engine for values (the final merged values tree) that spends b, the template budget of the
// render (nil: a budget of its own with the default limits).
func New(values *node.Node, b *Budget) *Engine {
	if b == nil {
		b = NewBudget(budget.Defaults())
	}
	return &Engine{values: values, budget: b, cache: map[string]*template.Template{}}
}

// setUp builds the engine's template set on first use: most engines of a render never see a template. The
// set starts with the plain functions, which the parser needs to know; parse then replaces the functions a
// text calls by budgeted ones (wrapUsed), so that only what is used pays for the wrapping.
func (e *Engine) setUp() {
	if e.root != nil {
		return
	}
	e.own = template.FuncMap{
		"tpl":    budgeted(func() *Budget { return e.budget }, "tpl", e.nested, nil),
		stepFunc: func() (string, error) { return "", e.budget.step(1) },
	}
	e.wrapped = map[string]bool{}
	e.root = e.newSet()
	tick, err := template.New("tick").Funcs(plainFuncs()).Funcs(e.own).Parse("{{" + stepFunc + "}}")
	if err != nil {
		panic(err) // a constant text
	}
	e.tick = tick.Tree.Root.Nodes[0]
}

// newSet returns an empty template set with the engine's functions: the budgeted ones made so far.
func (e *Engine) newSet() *template.Template {
	t := template.New("tpl#root").Option("missingkey=default").Funcs(plainFuncs()).Funcs(e.own)
	if len(e.wrappedFuncs) > 0 {
		t.Funcs(e.wrappedFuncs)
	}
	return t
}

// wrapUsed gives set budgeted versions of the functions that the parsed templates call.
func (e *Engine) wrapUsed(set *template.Template, parsed []*template.Template) {
	get := func() *Budget { return e.budget }
	added := template.FuncMap{}
	for _, tt := range parsed {
		if tt.Tree == nil {
			continue
		}
		walk(tt.Tree.Root, func(n tparse.Node) {
			id, ok := n.(*tparse.IdentifierNode)
			if !ok || e.wrapped[id.Ident] || nonHermetic[id.Ident] != "" {
				return
			}
			fn, ok := baseFuncs()[id.Ident]
			if !ok {
				return
			}
			if e.wrappedFuncs == nil {
				e.wrappedFuncs = template.FuncMap{}
			}
			w := budgeted(get, id.Ident, fn, estimates[id.Ident])
			e.wrapped[id.Ident] = true
			e.wrappedFuncs[id.Ident] = w
			added[id.Ident] = w
		})
	}
	if len(added) > 0 {
		e.root.Funcs(added)
	}
	if set != e.root {
		set.Funcs(e.wrappedFuncs)
	}
}

// plainFuncs are the functions as the parser sees them: the base functions and placeholders for the
// engine's own. Built on first use, as baseFuncs: a render whose templates only reference values never parses
// one.
var plainFuncs = sync.OnceValue(func() template.FuncMap {
	base := baseFuncs()
	f := make(template.FuncMap, len(base)+2)
	for k, v := range base {
		f[k] = v
	}
	f["tpl"] = func(string, any) (string, error) { return "", nil }
	f[stepFunc] = func() (string, error) { return "", nil }
	return f
})

// stepFunc is the function the engine calls at every range iteration and template entry.
const stepFunc = "cocogenTemplateStep"

// Budget returns the budget the engine spends.
func (e *Engine) Budget() *Budget { return e.budget }

// HasTemplate reports whether s contains template actions at all.
func HasTemplate(s string) bool { return strings.Contains(s, "{{") }

// Render evaluates text. Text without "{{" is returned unchanged without parsing.
func (e *Engine) Render(text string) (string, error) {
	if !HasTemplate(text) {
		return text, nil
	}
	return e.render(text)
}

// Check parses text as Render would, without evaluating it: syntax errors and non-hermetic functions.
func (e *Engine) Check(text string) error {
	if !HasTemplate(text) {
		return nil
	}
	_, err := e.parse(text)
	return err
}

// maxDepth bounds nested tpl calls.
const maxDepth = 16

// nested is the template function tpl.
func (e *Engine) nested(text string, _ any) (string, error) {
	e.depth++
	defer func() { e.depth-- }()
	if e.depth > maxDepth {
		return "", errors.New("tpl nested too deeply")
	}
	return e.render(text)
}

func (e *Engine) render(text string) (string, error) {
	if out, ok, err := e.renderRefs(text); ok {
		return out, err
	}
	return e.renderTemplate(text)
}

// refAction is an action that only references a value below .Values: {{ .Values.a.b }} or {{ $.Values.a.b }}.
var refAction = lazyre.New(`^ *\$?\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+) *$`)

// renderRefs evaluates, without text/template, a text whose actions all reference string values
// ({{ .Values.a.b }} or {{ $.Values.a.b }}): the common override "app.{{ $.Values.global.localClusterDomain }}",
// thousands of distinct texts in a large cluster group, each of which text/template would parse. It writes
// what the template would write and spends the budget as the template would: the text's bytes the first time
// it is seen, one step for the template's entry, and the bytes written. ok is false for any other text, and
// when a reference does not name a string that exists; renderTemplate then evaluates it (TestRenderRefs
// compares the two).
func (e *Engine) renderRefs(text string) (out string, ok bool, err error) {
	var b strings.Builder
	b.Grow(len(text))
	for rest := text; ; {
		i := strings.Index(rest, "{{")
		if i < 0 {
			b.WriteString(rest)
			break
		}
		end := strings.Index(rest[i:], "}}")
		if end < 0 {
			return "", false, nil
		}
		v, found := e.stringRef(rest[i+2 : i+end])
		if !found {
			return "", false, nil
		}
		b.WriteString(rest[:i])
		b.WriteString(v)
		rest = rest[i+end+2:]
	}
	if _, parsed := e.cache[text]; !parsed && !e.refTexts[text] {
		if err := e.budget.spend(int64(len(text))); err != nil {
			return "", true, err
		}
		if e.refTexts == nil {
			e.refTexts = map[string]bool{}
		}
		e.refTexts[text] = true
	}
	if err := e.budget.step(1); err != nil {
		return "", true, err
	}
	if err := e.budget.spend(int64(b.Len())); err != nil {
		return "", true, err
	}
	return strings.ReplaceAll(b.String(), "<no value>", ""), true, nil
}

// stringRef returns the string value an action references (refAction), found false when the action is not
// such a reference or the value is missing or not a string. Until a template has run, the template root is
// the values tree as it is, and the value is looked up there, without building the root (ensureData); after
// that, in the root, which a template may have changed (sprig's set).
func (e *Engine) stringRef(action string) (string, bool) {
	m := refAction.FindStringSubmatch(action)
	if m == nil {
		return "", false
	}
	keys := strings.Split(m[1][1:], ".")
	if e.data == nil {
		n := e.values
		for _, key := range keys {
			if n == nil || n.Kind != node.Map {
				return "", false
			}
			n = n.Get(key)
		}
		if n == nil || n.Kind != node.String {
			return "", false
		}
		return n.Text, true
	}
	cur := e.data["Values"]
	for _, key := range keys {
		mm, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = mm[key]; !ok {
			return "", false
		}
	}
	s, ok := cur.(string)
	return s, ok
}

// renderTemplate evaluates text with text/template.
func (e *Engine) renderTemplate(text string) (string, error) {
	t, err := e.parse(text)
	if err != nil {
		return "", err
	}
	e.ensureData()
	w := &writer{b: e.budget}
	// The output is about as long as the text (a large text is mostly literal YAML): room for it at once,
	// instead of doubling the buffer up to it.
	w.buf.Grow(len(text))
	if err := t.Execute(w, e.data); err != nil {
		// A failed text may have changed the values it sees (sprig's set and merge change maps in place):
		// the next text starts from the values again.
		e.data = nil
		if ex := e.budget.Exceeded(); ex != nil {
			return "", ex
		}
		return "", cleanError(err)
	}
	// Helm prints missing values as "<no value>" and then removes that text.
	return strings.ReplaceAll(w.buf.String(), "<no value>", ""), nil
}

// ValuesYAML is toYaml .Values: the engine's values as Helm's templates see them, as YAML. It is built from the
// template root the engine's texts then run on, so that a render of all values as a template (the chart's
// tpl (toYaml .Values)) holds one plain copy of the values, not two.
func (e *Engine) ValuesYAML() string {
	e.ensureData()
	return ToYAML(e.data["Values"])
}

// ensureData builds the template root from the values, once.
func (e *Engine) ensureData() {
	if e.data != nil {
		return
	}
	vals, _ := helmvalues.Plain(e.values).(map[string]any)
	if vals == nil {
		vals = map[string]any{}
	}
	e.data = map[string]any{
		"Values":       vals,
		"Release":      map[string]any{"Name": "clustergroup", "Namespace": "", "Service": "Helm", "IsInstall": false, "IsUpgrade": false},
		"Chart":        map[string]any{"Name": "clustergroup"},
		"Capabilities": map[string]any{},
		"Template":     map[string]any{"Name": "tpl", "BasePath": ""},
	}
}

func (e *Engine) parse(text string) (*template.Template, error) {
	if t, ok := e.cache[text]; ok {
		return t, nil
	}
	if err := e.budget.spend(int64(len(text))); err != nil {
		return nil, err
	}
	e.setUp()
	set := e.root
	if strings.Contains(text, "define") || strings.Contains(text, "block") || strings.Contains(text, "template") {
		// A text that defines or calls named templates gets a set of its own, as each Helm tpl call parses
		// its text on its own: definitions must not leak into (or be replaced by) other texts.
		set = e.newSet()
	}
	t, err := set.New("tpl#" + strconv.Itoa(len(e.cache))).Parse(text)
	if err != nil {
		return nil, cleanError(err)
	}
	// What the text parsed into: in the shared set, only its own template (the set's others were checked
	// when their texts were parsed); in a set of its own, every template it defines.
	parsed := []*template.Template{t}
	if set != e.root {
		parsed = t.Templates()
	}
	if err := checkHermetic(parsed); err != nil {
		return nil, err
	}
	e.wrapUsed(set, parsed)
	instrument(parsed, e.tick)
	e.cache[text] = t
	return t, nil
}

var baseFuncs = sync.OnceValue(func() template.FuncMap {
	f := sprig.TxtFuncMap()
	f["toYaml"] = ToYAML
	f["fromYaml"] = fromYAML
	f["toJson"] = toJSON
	f["fromJson"] = fromJSON
	// The rest of what Helm's engine adds to Sprig (helm.sh/helm/v3 v3.22.1, pkg/engine/funcs.go funcMap),
	// with its semantics: errors become the result ("Error" key, one-item list, or the text), not a failure.
	f["toYamlPretty"] = toYAMLPretty
	f["fromYamlArray"] = fromYAMLArray
	f["fromJsonArray"] = fromJSONArray
	f["toToml"] = toTOML
	f["fromToml"] = fromTOML
	f["required"] = required
	f["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	f["include"] = func(name string, _ any) (string, error) {
		return "", fmt.Errorf("include %q: named templates of the chart are not available in values", name)
	}
	// text/template's own printing functions, overridden so that they spend the budget too.
	f["print"] = fmt.Sprint
	f["printf"] = fmt.Sprintf
	f["println"] = fmt.Sprintln
	f["html"] = template.HTMLEscaper
	f["js"] = template.JSEscaper
	f["urlquery"] = template.URLQueryEscaper
	// Functions that would make a render depend on more than Git and the metadata stay known to the parser,
	// so that a template naming one gets an error that says why (checkHermetic), executed or not.
	for name := range nonHermetic {
		f[name] = func(...any) (string, error) { return "", nonHermeticError(name) }
	}
	return f
})

// ToYAML is Helm's toYaml: the value as YAML with sorted keys, without the final newline.
func ToYAML(v any) string {
	if out, ok := toYAMLEmit(v); ok {
		return strings.TrimSuffix(out, "\n")
	}
	if out, ok := toYAMLDirect(v); ok {
		return strings.TrimSuffix(out, "\n")
	}
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]any {
	m := map[string]any{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

// toYAMLPretty is Helm's toYamlPretty: YAML with sequences indented under their key.
func toYAMLPretty(v any) string {
	var buf bytes.Buffer
	enc := goyaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func fromYAMLArray(s string) []any {
	l := []any{}
	if err := yaml.Unmarshal([]byte(s), &l); err != nil {
		return []any{err.Error()}
	}
	return l
}

func fromJSONArray(s string) []any {
	l := []any{}
	if err := json.Unmarshal([]byte(s), &l); err != nil {
		return []any{err.Error()}
	}
	return l
}

func toTOML(v any) string {
	var buf bytes.Buffer
	if err := toml.NewEncoder(&buf).Encode(v); err != nil {
		return err.Error()
	}
	return buf.String()
}

func fromTOML(s string) map[string]any {
	m := map[string]any{}
	if err := toml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func toJSON(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]any {
	m := map[string]any{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func required(msg string, v any) (any, error) {
	if v == nil {
		return v, errors.New(msg)
	}
	if s, ok := v.(string); ok && s == "" {
		return v, errors.New(msg)
	}
	return v, nil
}

// templateName matches text/template's "template: tpl#3:1:5: " prefix, which names cocogen's internal template.
var (
	templateName = lazyre.New(`^template: tpl#[a-z0-9]+:`)
	executing    = lazyre.New(`executing "tpl#[a-z0-9]+" `)
)

// cleanError drops text/template's internal template name from messages, keeping line:col.
func cleanError(err error) error {
	msg := templateName.ReplaceAllString(err.Error(), "")
	msg = executing.ReplaceAllString(msg, "")
	return errors.New(strings.TrimSpace(msg))
}

// HelmString prints a value as Helm's templates print it with {{ . }}: strings as they are, numbers as Go
// prints float64 (1e+06) or int64, bools as true/false, null as an empty string.
func HelmString(n *node.Node) string {
	v := helmvalues.Plain(n)
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

// The functions below give the YAML value that a chart template line produces for a value, so that cocogen's
// output equals what Helm renders and Argo CD then parses.

// Unquoted is the value of `key: {{ v }}`: the printed text read back as a plain YAML scalar (empty text is null).
func Unquoted(n *node.Node) *node.Node {
	s := HelmString(n)
	return PlainText(s)
}

// PlainText reads s as an unquoted YAML scalar, as a template line `key: <s>` would.
func PlainText(s string) *node.Node {
	if s == "" {
		return node.NewNull()
	}
	if node.PlainSafe(s) {
		return node.NewString(s)
	}
	// Canonical integers and the YAML 1.2 words need no parser.
	if i, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(i, 10) == s {
		return node.NewInt(i)
	}
	switch s {
	case "true", "false":
		return node.NewBool(s == "true")
	case "null", "~":
		return node.NewNull()
	}
	parsed, err := node.Parse("", []byte("v: "+s), node.Limits{MaxBytes: 1 << 16, MaxNodes: 64, MaxDepth: 4})
	if err != nil || parsed.Kind != node.Map || parsed.Len() != 1 || !parsed.Get("v").IsScalar() && !parsed.Get("v").IsNull() {
		return node.NewString(s)
	}
	v := parsed.Get("v")
	v.Origin, v.Pos = node.Generated, srcpos.Pos{}
	return v
}

// InQuotes is the value of `key: "{{ v }}"`: always a string.
func InQuotes(n *node.Node) *node.Node { return node.NewString(HelmString(n)) }

// Quote is the value of `key: {{ v | quote }}`: null when v is null (Sprig's quote prints nothing for nil),
// else a string.
func Quote(n *node.Node) *node.Node {
	if n.IsNull() {
		return node.NewNull()
	}
	return node.NewString(HelmString(n))
}

// Coalesce returns the first value that Helm's coalesce would pick (the first non-empty one), or nil.
func Coalesce(ns ...*node.Node) *node.Node {
	for _, n := range ns {
		if n.Truthy() {
			return n
		}
	}
	return nil
}

// ToString is Sprig's toString: like HelmString, except that null prints as "<nil>".
func ToString(n *node.Node) string {
	if n.IsNull() {
		return "<nil>"
	}
	return HelmString(n)
}

// PrintfS is printf "%s" applied to a value, as the chart prints extraParametersNested.
func PrintfS(n *node.Node) string { return fmt.Sprintf("%s", helmvalues.Plain(n)) }

// FuncNames returns the names of the functions a values template may name, sorted: the ones it may call and
// the non-hermetic ones that are refused with an error that says why (NonHermetic). The differential tests
// in e2e/helmoracle compare it with the function map of Helm's engine.
func FuncNames() []string {
	funcs := plainFuncs()
	names := make([]string, 0, len(funcs))
	for name := range funcs {
		if name != stepFunc {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
