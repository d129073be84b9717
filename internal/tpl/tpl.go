// Package tpl evaluates the Helm template expressions that Validated Patterns values may contain (for example
// sharedValueFiles entries such as /overrides/values-{{ $.Values.global.clusterPlatform }}.yaml and application
// overrides), the way the clustergroup chart's `tpl` calls do: Go text/template with the Sprig functions and
// Helm's additions, against a root object whose .Values are the merged values.
//
// Functions that would reach outside the render (env, expandenv, lookup of live objects) are not available:
// a render depends on Git and metadata only.
package tpl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig/v3"
	"sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/internal/node"
)

// Engine renders template strings against one set of values. It is not safe for concurrent use.
type Engine struct {
	values *node.Node
	data   map[string]any // the template root, built from values on first use

	// root holds the function map once; every parsed text becomes a template of its set, so adding the
	// (large) Sprig function map is paid once per engine, not once per text.
	root  *template.Template
	funcs template.FuncMap
	cache map[string]*template.Template
	depth int
}

// New returns an engine for values (the final merged values tree).
func New(values *node.Node) *Engine {
	e := &Engine{values: values, cache: map[string]*template.Template{}}
	funcs := make(template.FuncMap, len(baseFuncs)+1)
	for k, v := range baseFuncs {
		funcs[k] = v
	}
	funcs["tpl"] = e.nested
	e.funcs = funcs
	e.root = template.New("tpl#root").Option("missingkey=default").Funcs(funcs)
	return e
}

// HasTemplate reports whether s contains template actions at all.
func HasTemplate(s string) bool { return strings.Contains(s, "{{") }

// Render evaluates text. Text without "{{" is returned unchanged without parsing.
func (e *Engine) Render(text string) (string, error) {
	if !HasTemplate(text) {
		return text, nil
	}
	return e.render(text)
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
	t, err := e.parse(text)
	if err != nil {
		return "", err
	}
	e.ensureData()
	var buf bytes.Buffer
	if err := t.Execute(&buf, e.data); err != nil {
		return "", cleanError(err)
	}
	// Helm prints missing values as "<no value>" and then removes that text.
	return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
}

// ensureData builds the template root from the values, once.
func (e *Engine) ensureData() {
	if e.data != nil {
		return
	}
	vals, _ := e.values.Helm().(map[string]any)
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
	set := e.root
	if strings.Contains(text, "define") || strings.Contains(text, "block") || strings.Contains(text, "template") {
		// A text that defines or calls named templates gets a set of its own, as each Helm tpl call parses
		// its text on its own: definitions must not leak into (or be replaced by) other texts.
		set = template.New("tpl#root").Option("missingkey=default").Funcs(e.funcs)
	}
	t, err := set.New("tpl#" + strconv.Itoa(len(e.cache))).Parse(text)
	if err != nil {
		return nil, cleanError(err)
	}
	e.cache[text] = t
	return t, nil
}

var baseFuncs = func() template.FuncMap {
	f := sprig.TxtFuncMap()
	// Helm removes these two so that renders do not depend on the machine's environment.
	delete(f, "env")
	delete(f, "expandenv")
	f["toYaml"] = ToYAML
	f["fromYaml"] = fromYAML
	f["toJson"] = toJSON
	f["fromJson"] = fromJSON
	f["required"] = required
	f["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	// helm template returns an empty result for lookups: there is no cluster at render time.
	f["lookup"] = func(string, string, string, string) (map[string]any, error) { return map[string]any{}, nil }
	f["include"] = func(name string, _ any) (string, error) {
		return "", fmt.Errorf("include %q: named templates of the chart are not available in values", name)
	}
	return f
}()

// ToYAML is Helm's toYaml: the value as YAML with sorted keys, without the final newline.
func ToYAML(v any) string {
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
	templateName = regexp.MustCompile(`^template: tpl#[a-z0-9]+:`)
	executing    = regexp.MustCompile(`executing "tpl#[a-z0-9]+" `)
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
	v := n.Helm()
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
	v.Origin, v.Pos = node.Generated, node.Pos{}
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
func PrintfS(n *node.Node) string { return fmt.Sprintf("%s", n.Helm()) }
