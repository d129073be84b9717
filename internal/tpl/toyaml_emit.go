package tpl

import (
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
)

// toYAMLEmit writes the bytes of sigs.k8s.io/yaml.Marshal(v) for a map or list of the shapes values take
// (map[string]any, []any, strings, bools, nil and numbers) without building yaml.v2's reflective encoder and
// event stream: the values ConfigMap of a large pattern (the chart's tpl (toYaml .Values)) is the largest
// single piece of a render, and yaml.v2 spends most of it on events and reflection.
//
// It copies yaml.v2's layout only where it is simple and leaves everything else to yaml.v2: keys sorted as
// yaml.v2's keyList sorts strings (go.yaml.in/yaml/v2 v2.4.x, sorter.go: letters after other characters, digit
// runs compared as numbers), block maps indented by 2, sequences inside a map not indented ("a:\n- x"), empty
// collections as {} and [], null for nil. A scalar is written as it is when it is plain-safe by yaml.v2's rules
// (emitterc.go, yaml_emitter_analyze_scalar; resolve.go, the words that read as bools or null); any other
// scalar is encoded by yaml.v2 itself, and must come out on one line or as a plain block literal, which is
// re-indented. ok is false (the caller takes the yaml.v2 path) for anything else: a scalar yaml.v2 writes on
// several lines otherwise (literals with hints, folded quotes),
// a scalar with a space on a line longer than yaml.v2's width of 80 (where it may fold it at a space), a key longer than 128 or
// holding a line break (not a simple key), a Go type outside the list, invalid UTF-8. A differential fuzz test keeps it equal to
// sigs.k8s.io/yaml.Marshal.
func toYAMLEmit(v any) (string, bool) {
	e := emitter{quoted: map[string]string{}}
	switch x := v.(type) {
	case map[string]any:
		if x == nil {
			return "", false
		}
		if len(x) == 0 {
			return "{}\n", true
		}
		e.buf.Grow(64 * len(x))
		if !e.mapping(x, 0, false) {
			return "", false
		}
	case []any:
		if x == nil {
			return "", false
		}
		if len(x) == 0 {
			return "[]\n", true
		}
		if !e.sequence(x, 0, false) {
			return "", false
		}
	default:
		return "", false
	}
	return e.buf.String(), true
}

// yamlWidth is yaml.v2's best width: a plain or quoted scalar may be folded at a space past this column.
const yamlWidth = 80

// lineBreaks are the characters YAML reads as line breaks; a key holding one is not a simple key.
const lineBreaks = "\r\n\u0085\u2028\u2029"

// maxSimpleKey is the longest key (in bytes, emitterc.go yaml_emitter_check_simple_key) yaml.v2 writes as a
// simple key ("k: v" rather than "? k").
const maxSimpleKey = 128

type emitter struct {
	buf       strings.Builder
	lineStart int
	keys      []string
	// quoted caches yaml.v2's encoding of scalars that are not plain-safe; one values tree repeats them.
	quoted map[string]string
}

func (e *emitter) indent(n int) {
	for range n {
		e.buf.WriteByte(' ')
	}
}

// newline ends a line.
func (e *emitter) newline() {
	e.buf.WriteByte('\n')
	e.lineStart = e.buf.Len()
}

// fits reports whether the line written so far stays within yaml.v2's width (counted in characters, as
// yaml.v2 counts columns), past which yaml.v2 may fold a scalar at a space.
func (e *emitter) fits() bool {
	line := e.buf.String()[e.lineStart:]
	return len(line) <= yamlWidth || utf8.RuneCountInString(line) <= yamlWidth
}

// mapping writes a non-empty map at indent; inline means the first key follows a "- " already written.
func (e *emitter) mapping(m map[string]any, indent int, inline bool) bool {
	start := len(e.keys)
	for k := range m {
		e.keys = append(e.keys, k)
	}
	keys := e.keys[start:]
	// yaml.v2 sorts the keys of a map in its random iteration order with a comparison that is not transitive
	// on some sets (k12 < k1A < k9 < k12), where its output is not even stable from run to run. Sorting a
	// deterministic order (bytes) stably gives the one order yaml.v2 gives wherever that is well defined, and
	// the same bytes every run where it is not.
	slices.Sort(keys)
	slices.SortStableFunc(keys, func(a, b string) int {
		switch {
		case yamlv2Less(a, b):
			return -1
		case yamlv2Less(b, a):
			return 1
		}
		return 0
	})
	defer func() { e.keys = e.keys[:start] }()
	for i, k := range keys {
		if i > 0 || !inline {
			e.indent(indent)
		}
		kt, ok := e.scalar(k)
		if !ok || len(k) > maxSimpleKey || len(kt) > maxSimpleKey || strings.ContainsAny(k, lineBreaks) {
			return false // not a simple key: yaml.v2 writes "? key"
		}
		e.buf.WriteString(kt)
		e.buf.WriteByte(':')
		if !e.value(m[k], indent, false) {
			return false
		}
	}
	return true
}

// sequence writes a non-empty list at indent; inline means the first item follows a "- " already written.
func (e *emitter) sequence(l []any, indent int, inline bool) bool {
	for i, it := range l {
		if i > 0 || !inline {
			e.indent(indent)
		}
		e.buf.WriteByte('-')
		if !e.value(it, indent, true) {
			return false
		}
	}
	return true
}

// value writes what follows "key:" or "-" (the separator is written here) and ends the line.
func (e *emitter) value(v any, indent int, inList bool) bool {
	switch x := v.(type) {
	case map[string]any:
		switch {
		case x == nil:
			e.buf.WriteString(" null")
		case len(x) == 0:
			e.buf.WriteString(" {}")
		case inList:
			e.buf.WriteByte(' ')
			return e.mapping(x, indent+2, true)
		default:
			e.newline()
			return e.mapping(x, indent+2, false)
		}
	case []any:
		switch {
		case x == nil:
			e.buf.WriteString(" null")
		case len(x) == 0:
			e.buf.WriteString(" []")
		case inList:
			e.buf.WriteByte(' ')
			return e.sequence(x, indent+2, true)
		default:
			e.newline()
			return e.sequence(x, indent, false)
		}
	default:
		t, ok := e.scalar(v)
		if !ok {
			return false
		}
		e.buf.WriteByte(' ')
		if t[0] == '|' {
			e.literal(t, indent)
			return true
		}
		e.buf.WriteString(t)
		// yaml.v2 folds a plain or quoted scalar only at a space past the width (keys, simple, never fold).
		if strings.IndexByte(t, ' ') >= 0 && !e.fits() {
			return false
		}
	}
	e.newline()
	return true
}

// literal writes a block literal as yaml.v2 wrote it for a document of its own ("|-\n  line\n…", the text
// indented by 2), its lines indented by 2 more than the key or dash it belongs to. yaml.v2 never folds a
// literal, and writes its empty lines without indentation.
func (e *emitter) literal(t string, indent int) {
	header, body, _ := strings.Cut(t, "\n")
	e.buf.WriteString(header)
	for line := range strings.SplitSeq(body, "\n") {
		e.buf.WriteByte('\n')
		if line != "" {
			e.indent(indent)
			e.buf.WriteString(line)
		}
	}
	e.buf.WriteByte('\n')
	e.lineStart = e.buf.Len()
}

// scalar returns the one-line text yaml.v2 writes for a scalar.
func (e *emitter) scalar(v any) (string, bool) {
	switch x := v.(type) {
	case nil:
		return "null", true
	case bool:
		if x {
			return "true", true
		}
		return "false", true
	case string:
		if plainSafe(x) {
			return x, true
		}
		if t, ok := e.quoted[x]; ok {
			return t, t != ""
		}
		t := ""
		if utf8.ValidString(x) {
			if out, err := yamlv2.Marshal(x); err == nil {
				t = oneLine(out)
				if t == "" {
					t = simpleLiteral(x, out)
				}
			}
		}
		e.quoted[x] = t
		return t, t != ""
	case int, int64, float64:
		conv, ok := jsonShape(x)
		if !ok {
			return "", false
		}
		out, err := yamlv2.Marshal(conv)
		if err != nil {
			return "", false
		}
		t := oneLine(out)
		return t, t != ""
	}
	return "", false
}

// oneLine returns yaml.v2's encoding of a scalar document without its final newline, or "" when it takes
// more than one line.
func oneLine(out []byte) string {
	s := strings.TrimSuffix(string(out), "\n")
	if s == "" || strings.ContainsAny(s, "\n\r") {
		return ""
	}
	return s
}

// simpleLiteral returns yaml.v2's encoding of a multi-line string, as a document of its own, without its final
// newline when it is a block literal the emitter can place: "|" or "|-" without an indentation hint (the text
// starts with neither a space nor a line break) or keep chomping (which may end the document with "..."), and
// only \n for line breaks. It returns "" for anything else.
func simpleLiteral(s string, out []byte) string {
	if strings.ContainsAny(s, "\r\u0085\u2028\u2029") {
		return ""
	}
	t := strings.TrimSuffix(string(out), "\n")
	if !strings.HasPrefix(t, "|\n") && !strings.HasPrefix(t, "|-\n") {
		return ""
	}
	return t
}

// yamlv2Words are the plain scalars yaml.v2 reads as something other than a string when they start with a
// letter (go.yaml.in/yaml/v2 v2.4.x, resolve.go, resolveMapList).
var yamlv2Words = map[string]bool{
	"y": true, "Y": true, "yes": true, "Yes": true, "YES": true, "true": true, "True": true, "TRUE": true,
	"on": true, "On": true, "ON": true, "n": true, "N": true, "no": true, "No": true, "NO": true,
	"false": true, "False": true, "FALSE": true, "off": true, "Off": true, "OFF": true,
	"null": true, "Null": true, "NULL": true,
}

// plainSafe reports, conservatively, that yaml.v2 writes s as a plain scalar in block context: it starts with
// an ASCII letter (so it cannot read as a number, timestamp, .inf or an indicator), is not a bool or null word,
// holds only printable ASCII, does not end in a space, and has no ": " or " #" (nor a final ':').
func plainSafe(s string) bool {
	if s == "" || s[0] >= utf8.RuneSelf || !isASCIILetter(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			return false
		}
		switch c {
		case ':':
			if i+1 == len(s) || s[i+1] == ' ' {
				return false
			}
		case '#':
			if s[i-1] == ' ' {
				return false
			}
		}
	}
	if s[len(s)-1] == ' ' {
		return false
	}
	return !yamlv2Words[s]
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

// yamlv2Less orders map keys as yaml.v2's keyList.Less orders two strings (go.yaml.in/yaml/v2 v2.4.x,
// sorter.go): rune by rune; at the first difference letters sort after everything else, two letters by
// code point, otherwise the digit runs starting there compare as numbers, then by run length, then by rune.
func yamlv2Less(a, b string) bool {
	ar, br := asRunes(a), asRunes(b)
	an0, bn0 := ar.len(), br.len()
	for i := 0; i < an0 && i < bn0; i++ {
		ai0, bi0 := ar.at(i), br.at(i)
		if ai0 == bi0 {
			continue
		}
		al, bl := unicode.IsLetter(ai0), unicode.IsLetter(bi0)
		if al && bl {
			return ai0 < bi0
		}
		if al || bl {
			return bl
		}
		var ai, bi int
		var an, bn int64
		if ai0 == '0' || bi0 == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar.at(j)); j-- {
				if ar.at(j) != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		for ai = i; ai < an0 && unicode.IsDigit(ar.at(ai)); ai++ {
			an = an*10 + int64(ar.at(ai)-'0')
		}
		for bi = i; bi < bn0 && unicode.IsDigit(br.at(bi)); bi++ {
			bn = bn*10 + int64(br.at(bi)-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ai0 < bi0
	}
	return an0 < bn0
}

// runeView indexes a string by rune without allocating when it is ASCII.
type runeView struct {
	s     string
	runes []rune
}

func asRunes(s string) runeView {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return runeView{runes: []rune(s)}
		}
	}
	return runeView{s: s}
}

func (r runeView) len() int {
	if r.runes != nil {
		return len(r.runes)
	}
	return len(r.s)
}

func (r runeView) at(i int) rune {
	if r.runes != nil {
		return r.runes[i]
	}
	return rune(r.s[i])
}
