package crdschema

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Error is an object that does not match its CRD.
type Error struct {
	// Object is "apiVersion kind namespace/name".
	Object string
	// CRD is the file of the CRD the object was checked against.
	CRD string
	// Violations are sorted by path.
	Violations []Violation
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s does not match its CRD (%s):", e.Object, e.CRD)
	for _, v := range e.Violations {
		b.WriteString("\n  ")
		b.WriteString(v.String())
	}
	return b.String()
}

// Violation is one way an object breaks its schema.
type Violation struct {
	// Path is the field in the object: spec.source.helm.parameters[0].name.
	Path helmvalues.Path
	// Pos is where the offending value came from (a values file), when the rendered tree knows it.
	Pos srcpos.Pos
	Msg string
}

// String renders the violation as "file:line:col: path: message", leaving out what is unknown.
func (v Violation) String() string {
	var b strings.Builder
	if p := v.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	if len(v.Path) > 0 {
		b.WriteString(v.Path.String())
		b.WriteString(": ")
	}
	b.WriteString(v.Msg)
	return b.String()
}

// instance converts a rendered object into the plain data the validator reads, leaving out null map values
// (see Validate). Integers stay exact as json.Number.
func instance(n *node.Node) any {
	switch n.Kind {
	case node.Map:
		m := make(map[string]any, n.Len())
		for _, e := range n.Entries() {
			if !e.Value.IsNull() {
				m[e.Key] = instance(e.Value)
			}
		}
		return m
	case node.List:
		l := make([]any, n.Len())
		for i, it := range n.Items() {
			if !it.IsNull() {
				l[i] = instance(it)
			}
		}
		return l
	case node.Int:
		return json.Number(n.Text)
	case node.Float, node.Bool, node.String:
		return helmvalues.Plain(n)
	}
	return nil
}

var printer = message.NewPrinter(language.English)

// violations flattens the validator's error tree into one violation per problem, with paths into obj.
func violations(root *jsonschema.Schema, obj *node.Node, verr *jsonschema.ValidationError) []Violation {
	var out []Violation
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		switch k := e.ErrorKind.(type) {
		case *kind.AnyOf, *kind.OneOf:
			if len(e.Causes) > 0 {
				path, n := locate(obj, e.InstanceLocation)
				out = append(out, Violation{Path: path, Pos: posOf(n), Msg: alternatives(e)})
				return
			}
		case *kind.AdditionalProperties:
			path, n := locate(obj, e.InstanceLocation)
			known := knownFields(root, e.SchemaURL)
			for _, p := range k.Properties {
				out = append(out, Violation{Path: appendKey(path, p), Pos: n.KeyPos(p), Msg: unknownField(p, known)})
			}
			return
		case *kind.Required:
			path, n := locate(obj, e.InstanceLocation)
			for _, p := range k.Missing {
				out = append(out, Violation{Path: appendKey(path, p), Pos: posOf(n), Msg: "required field is missing"})
			}
			return
		}
		if len(e.Causes) == 0 {
			path, n := locate(obj, e.InstanceLocation)
			out = append(out, Violation{Path: path, Pos: posOf(n), Msg: describe(e.ErrorKind)})
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(verr)
	slices.SortFunc(out, func(a, b Violation) int {
		return cmp.Or(cmp.Compare(a.Path.String(), b.Path.String()), cmp.Compare(a.Msg, b.Msg))
	})
	return slices.CompactFunc(out, func(a, b Violation) bool {
		return a.Path.String() == b.Path.String() && a.Msg == b.Msg
	})
}

// describe says what a failed keyword wants, in words for the bounds that the library prints as
// "keyword: got X, want Y".
func describe(k jsonschema.ErrorKind) string {
	switch k := k.(type) {
	case *kind.Minimum:
		return fmt.Sprintf("must be >= %s, got %s", k.Want.RatString(), k.Got.RatString())
	case *kind.Maximum:
		return fmt.Sprintf("must be <= %s, got %s", k.Want.RatString(), k.Got.RatString())
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("must be > %s, got %s", k.Want.RatString(), k.Got.RatString())
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("must be < %s, got %s", k.Want.RatString(), k.Got.RatString())
	case *kind.MultipleOf:
		return fmt.Sprintf("must be a multiple of %s, got %s", k.Want.RatString(), k.Got.RatString())
	case *kind.MinLength:
		return fmt.Sprintf("must be at least %d characters long, got %d", k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("must be at most %d characters long, got %d", k.Want, k.Got)
	case *kind.MinItems:
		return fmt.Sprintf("must have at least %d items, got %d", k.Want, k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("must have at most %d items, got %d", k.Want, k.Got)
	case *kind.MinProperties:
		return fmt.Sprintf("must have at least %d fields, got %d", k.Want, k.Got)
	case *kind.MaxProperties:
		return fmt.Sprintf("must have at most %d fields, got %d", k.Want, k.Got)
	}
	return k.LocalizedString(printer)
}

// alternatives describes a failed anyOf or oneOf by what each branch wanted.
func alternatives(e *jsonschema.ValidationError) string {
	var branches []string
	for _, c := range e.Causes {
		var msgs []string
		var leaves func(e *jsonschema.ValidationError)
		leaves = func(e *jsonschema.ValidationError) {
			if len(e.Causes) == 0 {
				msg := describe(e.ErrorKind)
				if len(e.InstanceLocation) > len(c.InstanceLocation) {
					msg = strings.Join(e.InstanceLocation[len(c.InstanceLocation):], ".") + ": " + msg
				}
				msgs = append(msgs, msg)
			}
			for _, cc := range e.Causes {
				leaves(cc)
			}
		}
		leaves(c)
		branches = append(branches, strings.Join(msgs, ", "))
	}
	word := "any"
	if _, ok := e.ErrorKind.(*kind.OneOf); ok {
		word = "exactly one"
	}
	return fmt.Sprintf("must match %s of %d alternatives: (%s)", word, len(branches), strings.Join(branches, ") or ("))
}

// locate follows a JSON pointer's tokens through obj and returns the path in cocogen's notation and the node
// it ends at (nil when the tree does not hold it).
func locate(obj *node.Node, tokens []string) (helmvalues.Path, *node.Node) {
	var path helmvalues.Path
	n := obj
	for _, t := range tokens {
		if i, err := strconv.Atoi(t); err == nil && n != nil && n.Kind == node.List {
			path = append(path, helmvalues.Step{Index: i, IsIndex: true})
			if i < n.Len() {
				n = n.Items()[i]
			} else {
				n = nil
			}
			continue
		}
		path = appendKey(path, t)
		n = n.Get(t)
	}
	return path, n
}

func posOf(n *node.Node) srcpos.Pos {
	if n == nil {
		return srcpos.Pos{}
	}
	return n.Pos
}

func appendKey(p helmvalues.Path, key string) helmvalues.Path {
	return append(slices.Clip(p), helmvalues.Step{Key: key})
}

// unknownField says that a field is not in the schema and what the field might have been meant to be.
func unknownField(name string, known []string) string {
	best := schema.Suggest(name, known)
	switch {
	case best != "":
		return fmt.Sprintf("unknown field %q (did you mean %q?)", name, best)
	case len(known) > 0:
		return fmt.Sprintf("unknown field %q (known fields: %s)", name, strings.Join(known, ", "))
	}
	return fmt.Sprintf("unknown field %q", name)
}

// knownFields returns the sorted property names of the schema at schemaURL (a location inside root).
func knownFields(root *jsonschema.Schema, schemaURL string) []string {
	_, frag, _ := strings.Cut(schemaURL, "#")
	s := root
	toks := strings.Split(strings.TrimPrefix(frag, "/"), "/")
	if frag == "" || frag == "/" {
		toks = nil
	}
	for i := 0; i < len(toks) && s != nil; i++ {
		switch toks[i] {
		case "properties":
			if i++; i < len(toks) {
				s = s.Properties[unescapeToken(toks[i])]
			}
		case "items":
			s = s.Items2020
		case "additionalProperties":
			s, _ = s.AdditionalProperties.(*jsonschema.Schema)
		case "not":
			s = s.Not
		case "allOf", "anyOf", "oneOf":
			list := map[string][]*jsonschema.Schema{"allOf": s.AllOf, "anyOf": s.AnyOf, "oneOf": s.OneOf}[toks[i]]
			j := -1
			if i++; i < len(toks) {
				j, _ = strconv.Atoi(toks[i])
			}
			if j < 0 || j >= len(list) {
				return nil
			}
			s = list[j]
		default:
			return nil
		}
	}
	if s == nil {
		return nil
	}
	var names []string
	for k := range s.Properties {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func unescapeToken(t string) string {
	if u, err := url.PathUnescape(t); err == nil {
		t = u
	}
	return strings.NewReplacer("~1", "/", "~0", "~").Replace(t)
}
