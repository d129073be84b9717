package helmvalues

import (
	"fmt"
	"strconv"
	"strings"

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
func ParseSet(arg string, asString bool) ([]Param, error) {
	flag := "--set"
	if asString {
		flag = "--set-string"
	}
	var out []Param
	for _, pair := range splitTop(arg, ',') {
		if pair == "" {
			continue
		}
		eq := indexUnescaped(pair, '=')
		if eq < 0 {
			return nil, fmt.Errorf("%s %q: expected key=value", flag, pair)
		}
		key, raw := pair[:eq], pair[eq+1:]
		p, err := ParsePath(key)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", flag, pair, err)
		}
		pos := srcpos.Pos{File: flag + " " + key}
		var v *node.Node
		if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") && !strings.HasSuffix(raw, `\}`) {
			list := node.NewList()
			for _, item := range splitTop(raw[1:len(raw)-1], ',') {
				list.Append(scalar(unescape(item), asString, pos))
			}
			list.Origin, list.Pos = node.FromFlag, pos
			v = list
		} else {
			v = scalar(unescape(raw), asString, pos)
		}
		out = append(out, Param{Path: p, Value: v})
	}
	return out, nil
}

func scalar(s string, asString bool, pos srcpos.Pos) *node.Node {
	if asString {
		return StringFromFlag(s, pos)
	}
	return ScalarFromFlag(s, pos)
}

// splitTop splits s at sep, ignoring escaped separators and separators inside a {…} list. As in Helm, only a
// { right after = opens a list; elsewhere it is a plain character.
func splitTop(s string, sep byte) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '{':
			if i > 0 && s[i-1] == '=' {
				depth++
			}
		case '}':
			if depth > 0 {
				depth--
			}
		case sep:
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

func indexUnescaped(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' {
			i++
			continue
		}
		if s[i] == c {
			return i
		}
	}
	return -1
}

// unescape removes the backslashes that escape the next character, as Helm does.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
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
