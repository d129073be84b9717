package overlay

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// kustomize decodes a kustomization (and the configuration of a builtin plugin) by turning its YAML into JSON
// and decoding that into a Go struct with encoding/json, which matches keys to fields without regard to case
// and keeps the last of two keys that match one field. The schema walk below reads the same YAML, as
// cocogen's positioned tree, against the same struct: a key given twice under any spelling is an error at the
// second one, a value of the wrong shape is an error at the value, and every value's position is recorded
// under its field path (resources[2], patches[0].path) so that later checks of the decoded struct can point
// at the line that wrote it.

// jsonField is a field of a struct as encoding/json sees it.
type jsonField struct {
	name string
	typ  reflect.Type
}

// jsonFields lists the fields of struct type t by their JSON names, with the fields of embedded structs that
// have no JSON name of their own promoted (a name already taken at a shallower level wins).
func jsonFields(t reflect.Type) []jsonField {
	var out []jsonField
	seen := map[string]bool{}
	var embedded []reflect.Type
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if tag == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				embedded = append(embedded, ft)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out = append(out, jsonField{name: name, typ: f.Type})
		seen[name] = true
	}
	for _, et := range embedded {
		for _, f := range jsonFields(et) {
			if !seen[f.name] {
				out = append(out, f)
				seen[f.name] = true
			}
		}
	}
	return out
}

// matchField finds the field a key decodes into: the field of that exact name, else one whose name equals the
// key without regard to case (encoding/json's rule).
func matchField(fields []jsonField, key string) (jsonField, bool) {
	for _, f := range fields {
		if f.name == key {
			return f, true
		}
	}
	for _, f := range fields {
		if strings.EqualFold(f.name, key) {
			return f, true
		}
	}
	return jsonField{}, false
}

// schemaWalk checks a YAML tree against a struct type.
type schemaWalk struct {
	d *diag.List
	// strict refuses keys that match no field (kustomize decodes kustomizations strictly, plugin
	// configurations not).
	strict bool
	// what names the document in messages ("kustomization", "plugin configuration").
	what string
	// pos and keyPos hold the position of each value and of its key, by field path.
	pos, keyPos map[string]srcpos.Pos
	fields      map[reflect.Type][]jsonField
}

func newSchemaWalk(d *diag.List, what string, strict bool) *schemaWalk {
	return &schemaWalk{d: d, what: what, strict: strict, pos: map[string]srcpos.Pos{}, keyPos: map[string]srcpos.Pos{}, fields: map[reflect.Type][]jsonField{}}
}

func joinField(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func (s *schemaWalk) errorf(pos srcpos.Pos, path, format string, args ...any) {
	s.d.Errorf(pos, path, format, args...)
}

// walk checks n against t; path is n's field path.
func (s *schemaWalk) walk(n *node.Node, t reflect.Type, path string) {
	if n == nil || n.Kind == node.Null {
		return // JSON null leaves the field at its zero value
	}
	s.pos[path] = n.Pos
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != node.Map {
			s.errorf(n.Pos, path, "is a %s; the %s wants a map here", n.Kind, s.what)
			return
		}
		fields, ok := s.fields[t]
		if !ok {
			fields = jsonFields(t)
			s.fields[t] = fields
		}
		seen := map[string]node.Entry{}
		for _, e := range n.Entries() {
			f, ok := matchField(fields, e.Key)
			if !ok {
				if s.strict {
					s.errorf(e.KeyPos, joinField(path, e.Key), "unknown field %q of a %s (kustomize refuses it)", e.Key, s.what)
				}
				continue
			}
			fp := joinField(path, f.name)
			if first, dup := seen[f.name]; dup {
				s.errorf(e.KeyPos, fp, "is given twice (as %q on line %d and as %q here): kustomize reads keys without regard to case and would silently keep one; remove one of them", first.Key, first.KeyPos.Line, e.Key)
				continue
			}
			seen[f.name] = e
			s.keyPos[fp] = e.KeyPos
			s.walk(e.Value, f.typ, fp)
		}
	case reflect.Slice:
		if n.Kind != node.List {
			s.errorf(n.Pos, path, "is a %s; the %s wants a list here", n.Kind, s.what)
			return
		}
		for i, it := range n.Items() {
			s.walk(it, t.Elem(), path+"["+strconv.Itoa(i)+"]")
		}
	case reflect.Map:
		if n.Kind != node.Map {
			s.errorf(n.Pos, path, "is a %s; the %s wants a map here", n.Kind, s.what)
			return
		}
		for _, e := range n.Entries() {
			s.walk(e.Value, t.Elem(), joinField(path, e.Key))
		}
	case reflect.String:
		if n.Kind != node.String {
			s.errorf(n.Pos, path, "is a %s; the %s wants a string here (quote it)", n.Kind, s.what)
		}
	case reflect.Bool:
		if n.Kind != node.Bool {
			s.errorf(n.Pos, path, "is a %s; the %s wants true or false here", n.Kind, s.what)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if n.Kind != node.Int {
			s.errorf(n.Pos, path, "is a %s; the %s wants an integer here", n.Kind, s.what)
		}
	case reflect.Interface:
		// Free-form data: nothing to check.
	default:
		s.errorf(n.Pos, path, "cocogen cannot check a value of Go type %s here", t)
	}
}

// at returns the position of the value at path, else of the nearest enclosing value that has one, else def.
func (s *schemaWalk) at(path string, def srcpos.Pos) srcpos.Pos {
	for p := path; p != ""; {
		if pos, ok := s.pos[p]; ok {
			return pos
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return def
}

// key returns the position of the key of path, else def.
func (s *schemaWalk) key(path string, def srcpos.Pos) srcpos.Pos {
	if pos, ok := s.keyPos[path]; ok {
		return pos
	}
	return def
}

// fieldName formats a field path for messages.
func fieldName(path string, i int) string {
	return fmt.Sprintf("%s[%d]", path, i)
}
