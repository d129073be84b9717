package helmvalues

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Param is a value set from outside the values files: an injected fact or a --set flag. Later params win.
type Param struct {
	Path  Path
	Value *node.Node
}

// ParseSet parses one --set (or, with asString, --set-string) argument in Helm's syntax: comma-separated
// key=value pairs, keys with dots and [N] indexes, {a,b} lists, and a backslash escaping the character after it.
// Values are typed as Helm types them (true/false, null, integers; everything else is a string).
//
// The grammar is Helm's (helm.sh/helm/v3 v3.22.1, pkg/strvals/parser.go, as `helm template --set` reads it),
// checked against it by the differential tests in e2e/helmoracle: a value that starts with { is a list that
// ends at the first unescaped } (the next pair may follow at once, or after a comma); any other value runs to
// the next unescaped comma; a backslash at the very end is dropped; an empty pair is an error except a
// trailing one. Unlike Helm, an argument that is not UTF-8 is an error, and a key with an empty segment (=v, .a=v, a..b=v) is an error rather than silently
// dropped.
func ParseSet(arg string, asString bool) ([]Param, error) {
	flag := "--set"
	if asString {
		flag = "--set-string"
	}
	if !utf8.ValidString(arg) {
		// Helm would replace each invalid byte with U+FFFD; a value that is not what was typed is refused.
		return nil, fmt.Errorf("%s %q: not valid UTF-8", flag, arg)
	}
	var out []Param
	for i := 0; i < len(arg); {
		key, stop, next := scanUntil(arg, i, "=,")
		if stop != '=' {
			if key == "" && stop == 0 {
				break // after a trailing comma
			}
			return nil, fmt.Errorf("%s %q: expected key=value", flag, key)
		}
		pos := srcpos.Pos{File: flag + " " + key}
		var v *node.Node
		end := next // where the pair's text ends
		if next < len(arg) && arg[next] == '{' {
			list := node.NewList()
			for j := next + 1; ; {
				item, stop, after := scanUntil(arg, j, ",}")
				if stop == 0 {
					return nil, fmt.Errorf("%s %q: a list must end with }", flag, arg[i:])
				}
				list.Append(scalar(unescape(item), asString, pos))
				j = after
				if stop == '}' {
					end = j
					break
				}
			}
			list.Origin, list.Pos = node.FromFlag, pos
			v, next = list, end
			if next < len(arg) && arg[next] == ',' {
				next++
			}
		} else {
			raw, stop, after := scanUntil(arg, next, ",")
			v, end, next = scalar(unescape(raw), asString, pos), after, after
			if stop == ',' {
				end--
			}
		}
		p, err := ParsePath(key)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flag, arg[i:end], err)
		}
		out = append(out, Param{Path: p, Value: v})
		i = next
	}
	return out, nil
}

func scalar(s string, asString bool, pos srcpos.Pos) *node.Node {
	if asString {
		return StringFromFlag(s, pos)
	}
	return ScalarFromFlag(s, pos)
}

// scanUntil reads s from i up to the first unescaped byte of stops. It returns what it read (escapes kept),
// the stop byte (0 at the end of s) and the index after the stop.
func scanUntil(s string, i int, stops string) (text string, stop byte, next int) {
	start := i
	for i < len(s) {
		switch c := s[i]; {
		case c == '\\':
			i += 2
		case strings.IndexByte(stops, c) >= 0:
			return s[start:i], c, i + 1
		default:
			i++
		}
	}
	return s[start:min(i, len(s))], 0, len(s)
}

// unescape removes the backslashes that escape the next character, and a backslash at the very end, as Helm
// does.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			if i == len(s) {
				break
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// EscapeSetValue escapes the characters Helm's --set syntax gives a meaning to, so that the value is taken
// literally.
func EscapeSetValue(v string) string {
	var b strings.Builder
	for i, r := range v {
		switch r {
		case '\\', ',':
			b.WriteByte('\\')
		case '{':
			if i == 0 {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ScalarFromFlag types a --set value as Helm does: true/false (any case) are bools, null is null, base-10
// integers without a leading zero are integers, and everything else (4.18 included) is a string.
func ScalarFromFlag(s string, pos srcpos.Pos) *node.Node {
	n := &node.Node{Src: s, Pos: pos, Origin: node.FromFlag}
	switch {
	case strings.EqualFold(s, "true"), strings.EqualFold(s, "false"):
		n.Kind, n.Text = node.Bool, strings.ToLower(s)
	case strings.EqualFold(s, "null"):
		n.Kind = node.Null
	case s == "0":
		n.Kind, n.Text = node.Int, "0"
	default:
		if s != "" && s[0] != '0' {
			if i, err := strconv.ParseInt(s, 10, 64); err == nil {
				n.Kind, n.Text = node.Int, strconv.FormatInt(i, 10)
				return n
			}
		}
		n.Kind, n.Text = node.String, s
	}
	return n
}

// StringFromFlag is a --set-string value: always a string.
func StringFromFlag(s string, pos srcpos.Pos) *node.Node {
	return &node.Node{Kind: node.String, Text: s, Src: s, Pos: pos, Origin: node.FromFlag}
}

// SetParams sets params into root in order, as Helm applies --set values over the merged value files. Helm
// refuses a param whose path runs through a value of the wrong kind (a key inside a scalar or a list, an index
// inside a scalar or a map: "unable to parse key"), except inside a list item, which it replaces; so does SetParams, with an error that names the param and
// the value in the way. A null on the way is read as absent (see nulls.go for how cocogen treats such nulls).
// root is not modified.
func SetParams(root *node.Node, params []Param) (*node.Node, error) {
	for _, p := range params {
		if err := pathConflict(root, p.Path); err != nil {
			return nil, &ParamError{Param: p, Err: err}
		}
		root = SetPath(root, p.Path, p.Value)
	}
	return root, nil
}

// ParamError is a param that cannot be set.
type ParamError struct {
	Param Param
	Err   error
}

func (e *ParamError) Error() string { return e.Err.Error() }

// pathConflict explains why Helm cannot set p in root, or returns nil.
func pathConflict(root *node.Node, p Path) error {
	cur := root
	for i, step := range p {
		if cur.IsNull() {
			return nil
		}
		wrong := step.IsIndex && cur.Kind != node.List || !step.IsIndex && cur.Kind != node.Map
		if wrong && i > 0 && p[i-1].IsIndex {
			return nil // Helm replaces a list item of the wrong kind, as SetPath does
		}
		switch {
		case wrong:
			want := "a map"
			if step.IsIndex {
				want = "a list"
			}
			where := "the values"
			if i > 0 {
				where = p[:i].String()
			}
			article := "a"
			if cur.Kind == node.Int {
				article = "an"
			}
			return fmt.Errorf("cannot set %s: %s holds %s %s (from %s), not %s; Helm's --set refuses to set a value inside it", p, where, article, cur.Kind, cur.PosOr(srcpos.Pos{File: "the values"}), want)
		case step.IsIndex:
			if step.Index >= cur.Len() {
				return nil
			}
			cur = cur.Items()[step.Index]
		default:
			next, ok := cur.Lookup(step.Key)
			if !ok {
				return nil
			}
			cur = next
		}
	}
	return nil
}
