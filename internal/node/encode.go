package node

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// This file holds cocogen's one YAML and JSON encoder configuration. Block style, two-space indentation, list
// items at the indentation of their parent key (the kubectl style), strings plain when that is unambiguous in
// both YAML 1.1 and 1.2, single-quoted otherwise, double-quoted when they hold control characters, and
// multi-line strings as literal blocks. Map keys keep their order.

// EncodeYAML appends the YAML form of n (a block document without the leading "---") to buf.
func EncodeYAML(buf *bytes.Buffer, n *Node) {
	e := yamlEncoder{buf: buf}
	e.encode(n)
}

// YAMLEncoder encodes several documents, encoding each shared node (see Share) once per indentation and
// copying the bytes afterwards.
type YAMLEncoder struct{ e yamlEncoder }

// NewYAMLEncoder returns an encoder that appends to buf.
func NewYAMLEncoder(buf *bytes.Buffer) *YAMLEncoder {
	return &YAMLEncoder{e: yamlEncoder{buf: buf, memo: map[memoKey][]byte{}}}
}

// Encode appends one document (without the leading "---").
func (y *YAMLEncoder) Encode(n *Node) { y.e.encode(n) }

func (e *yamlEncoder) encode(n *Node) {
	buf := e.buf
	switch {
	case n.IsNull():
		buf.WriteString("null\n")
	case n.Kind == Map && len(n.entries) > 0:
		e.mapBody(n, 0)
	case n.Kind == List && len(n.items) > 0:
		e.listBody(n, 0)
	default:
		e.inline(n, 0)
		buf.WriteByte('\n')
	}
}

type yamlEncoder struct {
	buf  *bytes.Buffer
	memo map[memoKey][]byte // nil: no memoization
}

type memoKey struct {
	n      *Node
	indent int
	inList bool
}

func (e *yamlEncoder) indent(n int) {
	for range n {
		e.buf.WriteByte(' ')
	}
}

// mapBody writes the entries of a non-empty map, each on its own line at indent; the first line's indentation
// is assumed written when firstInline is set (after "- ").
func (e *yamlEncoder) mapBody(n *Node, indent int) { e.mapEntries(n, indent, false) }

func (e *yamlEncoder) mapEntries(n *Node, indent int, firstInline bool) {
	for i, ent := range n.entries {
		if i > 0 || !firstInline {
			e.indent(indent)
		}
		e.key(ent.Key)
		e.buf.WriteByte(':')
		e.value(ent.Value, indent, false)
	}
}

// value writes what follows "key:" or "-": a space and an inline value, or a newline and a nested block.
func (e *yamlEncoder) value(v *Node, indent int, inList bool) {
	if e.memo != nil && v != nil && v.shared {
		k := memoKey{v, indent, inList}
		if b, ok := e.memo[k]; ok {
			e.buf.Write(b)
			return
		}
		start := e.buf.Len()
		e.valueUncached(v, indent, inList)
		e.memo[k] = bytes.Clone(e.buf.Bytes()[start:])
		return
	}
	e.valueUncached(v, indent, inList)
}

func (e *yamlEncoder) valueUncached(v *Node, indent int, inList bool) {
	switch {
	case v != nil && v.Kind == Map && len(v.entries) > 0:
		if inList {
			e.buf.WriteByte(' ')
			e.mapEntries(v, indent+2, true)
			return
		}
		e.buf.WriteByte('\n')
		e.mapEntries(v, indent+2, false)
	case v != nil && v.Kind == List && len(v.items) > 0:
		if inList {
			e.buf.WriteByte(' ')
			e.listItems(v, indent+2, true)
			return
		}
		e.buf.WriteByte('\n')
		e.listItems(v, indent, false)
	case v != nil && v.Kind == String && useLiteral(v):
		e.buf.WriteByte(' ')
		e.literal(v.Text, indent+2)
	default:
		e.buf.WriteByte(' ')
		e.inline(v, indent)
		e.buf.WriteByte('\n')
	}
}

func (e *yamlEncoder) listBody(n *Node, indent int) { e.listItems(n, indent, false) }

func (e *yamlEncoder) listItems(n *Node, indent int, firstInline bool) {
	for i, it := range n.items {
		if i > 0 || !firstInline {
			e.indent(indent)
		}
		e.buf.WriteByte('-')
		e.value(it, indent, true)
	}
}

// inline writes a scalar or an empty collection without a trailing newline.
func (e *yamlEncoder) inline(v *Node, indent int) {
	if v == nil {
		e.buf.WriteString("null")
		return
	}
	switch v.Kind {
	case Null:
		e.buf.WriteString("null")
	case Map:
		e.buf.WriteString("{}")
	case List:
		e.buf.WriteString("[]")
	case Bool, Int, Float:
		e.buf.WriteString(v.Text)
	case String:
		e.str(v.Text)
	}
}

func (e *yamlEncoder) key(k string) {
	if plainSafe(k) {
		e.buf.WriteString(k)
		return
	}
	e.quoted(k)
}

func (e *yamlEncoder) str(s string) {
	if plainSafe(s) {
		e.buf.WriteString(s)
		return
	}
	e.quoted(s)
}

func (e *yamlEncoder) quoted(s string) {
	if printableLine(s) {
		e.buf.WriteByte('\'')
		e.buf.WriteString(strings.ReplaceAll(s, "'", "''"))
		e.buf.WriteByte('\'')
		return
	}
	writeDoubleQuoted(e.buf, s)
}

// literal writes a multi-line string as a literal block scalar.
func (e *yamlEncoder) literal(s string, indent int) {
	e.buf.WriteByte('|')
	switch {
	case !strings.HasSuffix(s, "\n"):
		e.buf.WriteByte('-')
	case strings.HasSuffix(s, "\n\n") || s == "\n":
		e.buf.WriteByte('+')
	}
	e.buf.WriteByte('\n')
	body := strings.TrimSuffix(s, "\n")
	for line := range strings.SplitSeq(body, "\n") {
		if line != "" {
			e.indent(indent)
			e.buf.WriteString(line)
		}
		e.buf.WriteByte('\n')
	}
}

// useLiteral decides whether a string is written as a literal block.
func useLiteral(v *Node) bool {
	s := v.Text
	// A first line that starts with a space or is empty would need an indentation indicator; such strings
	// are rare enough to be double-quoted instead.
	if !strings.Contains(s, "\n") || s[0] == ' ' || s[0] == '\n' {
		return false
	}
	for _, r := range s {
		if r == '\n' || r == '\t' {
			continue
		}
		if r == utf8.RuneError || !unicode.IsPrint(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
			return false
		}
	}
	// Trailing spaces on a line, and a line made only of spaces before content, survive a literal block, but a
	// string whose last line ends in spaces loses nothing either. A tab after the block's indentation is
	// content (Rego and Go sources indent with tabs), except on the first line, where parsers look for the
	// indentation and refuse a tab.
	if s[0] == '\t' {
		return false
	}
	for line := range strings.SplitSeq(s, "\n") {
		if strings.TrimRight(line, " ") == "" && line != "" {
			return false // a spaces-only line is ambiguous with indentation
		}
	}
	return true
}

// printableLine reports whether s can be single-quoted: printable, one line.
func printableLine(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
			return false
		}
	}
	return true
}

func writeDoubleQuoted(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for i, r := range s {
		switch r {
		case '"':
			buf.WriteString(`\"`)
		case '\\':
			buf.WriteString(`\\`)
		case '\n':
			buf.WriteString(`\n`)
		case '\t':
			buf.WriteString(`\t`)
		case '\r':
			buf.WriteString(`\r`)
		default:
			if r == utf8.RuneError {
				if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
					// Not UTF-8: YAML cannot carry raw bytes; write the byte as a code point.
					fmt.Fprintf(buf, `\x%02x`, s[i])
					continue
				}
			}
			if !unicode.IsPrint(r) || r == '\u2028' || r == '\u2029' || r == '\ufeff' {
				if r <= 0xffff {
					fmt.Fprintf(buf, `\u%04x`, r)
				} else {
					fmt.Fprintf(buf, `\U%08x`, r)
				}
				continue
			}
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}

// PlainSafe reports whether s can be written as a plain scalar that reads back as the same string.
func PlainSafe(s string) bool { return plainSafe(s) }

// plainSafe reports whether s can be written as a plain scalar and read back as the same string by YAML 1.1
// and YAML 1.2 parsers alike. It errs on the side of quoting.
func plainSafe(s string) bool {
	if s == "" || len(s) > 512 {
		return false
	}
	if reservedWord(s) || looksNumeric(s) || strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		return false
	}
	if charClass[s[0]]&firstOK == 0 {
		return false
	}
	last := s[len(s)-1]
	if last == ' ' || last == ':' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if charClass[c]&innerOK != 0 {
			continue
		}
		switch {
		case c == ':':
			if i+1 < len(s) && s[i+1] == ' ' {
				return false
			}
		case c == '#':
			if s[i-1] == ' ' {
				return false
			}
		case c == ' ':
			if i+1 < len(s) && (s[i+1] == '#' || s[i+1] == ' ') {
				return false
			}
		case c >= 0x80:
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError || !unicode.IsPrint(r) || unicode.IsSpace(r) || r == '\ufeff' {
				return false
			}
			i += size - 1
		default:
			return false
		}
	}
	return true
}

// Character classes for plainSafe: characters that may start a plain scalar, and characters that need no
// further look at their neighbours inside one.
const (
	firstOK uint8 = 1 << iota
	innerOK
)

var charClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if alnum || c == '/' || c == '.' || c == '_' || c == '$' || c >= 0x80 {
			t[c] |= firstOK
		}
		if alnum || strings.IndexByte("-_./$@%+=~^()<>;!?*&,[]{}|\\'\"`", byte(c)) >= 0 {
			t[c] |= innerOK
		}
	}
	return t
}()

// reservedWord matches the words YAML 1.1 or 1.2 read as null or bool, and the merge/value keys.
func reservedWord(s string) bool {
	if len(s) > 5 {
		return false
	}
	for _, w := range reservedWords {
		if strings.EqualFold(s, w) {
			return true
		}
	}
	return false
}

var reservedWords = []string{"~", "null", "true", "false", "yes", "no", "on", "off", "y", "n", "<<", "="}

// looksNumeric matches anything that a YAML 1.1 or 1.2 parser might read as a number, a date or a time
// (conservatively: anything starting with a digit, or a sign or dot followed by a digit, and the
// spellings of infinity and NaN).
func looksNumeric(s string) bool {
	i := 0
	if s[0] == '+' || s[0] == '-' {
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		rest := strings.ToLower(s[i:])
		if rest == "inf" || rest == "nan" {
			return true
		}
	}
	return i < len(s) && s[i] >= '0' && s[i] <= '9'
}

// EncodeJSON appends the JSON form of n to buf, indented by two spaces per level starting at indent.
func EncodeJSON(buf *bytes.Buffer, n *Node, indent int) error {
	if n == nil {
		buf.WriteString("null")
		return nil
	}
	switch n.Kind {
	case Null:
		buf.WriteString("null")
	case Bool, Int:
		buf.WriteString(n.Text)
	case Float:
		f, err := strconv.ParseFloat(n.Text, 64)
		if err != nil || f != f || f > 1.7976931348623157e308 || f < -1.7976931348623157e308 {
			return fmt.Errorf("%s: the number %s has no JSON form", n.Pos, n.Text)
		}
		buf.WriteString(n.Text)
	case String:
		writeJSONString(buf, n.Text)
	case Map:
		if len(n.entries) == 0 {
			buf.WriteString("{}")
			return nil
		}
		buf.WriteString("{\n")
		for i, e := range n.entries {
			jsonIndent(buf, indent+2)
			writeJSONString(buf, e.Key)
			buf.WriteString(": ")
			if err := EncodeJSON(buf, e.Value, indent+2); err != nil {
				return err
			}
			if i < len(n.entries)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		jsonIndent(buf, indent)
		buf.WriteByte('}')
	case List:
		if len(n.items) == 0 {
			buf.WriteString("[]")
			return nil
		}
		buf.WriteString("[\n")
		for i, it := range n.items {
			jsonIndent(buf, indent+2)
			if err := EncodeJSON(buf, it, indent+2); err != nil {
				return err
			}
			if i < len(n.items)-1 {
				buf.WriteByte(',')
			}
			buf.WriteByte('\n')
		}
		jsonIndent(buf, indent)
		buf.WriteByte(']')
	}
	return nil
}

func jsonIndent(buf *bytes.Buffer, n int) {
	for range n {
		buf.WriteByte(' ')
	}
}

const hexDigits = "0123456789abcdef"

func writeJSONString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				buf.WriteString(`\"`)
			case c == '\\':
				buf.WriteString(`\\`)
			case c == '\n':
				buf.WriteString(`\n`)
			case c == '\t':
				buf.WriteString(`\t`)
			case c == '\r':
				buf.WriteString(`\r`)
			case c < 0x20 || c == 0x7f:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			default:
				buf.WriteByte(c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			buf.WriteString(`\ufffd`)
		case r == '\u2028' || r == '\u2029':
			fmt.Fprintf(buf, `\u%04x`, r)
		default:
			buf.WriteString(s[i : i+size])
		}
		i += size
	}
	buf.WriteByte('"')
}
