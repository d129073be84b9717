package node

import (
	"bytes"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/cocogen/cocogen/internal/srcpos"
)

// This file holds a fast path for the YAML that values files are made of: block mappings and sequences of
// plain or simply quoted scalars, with comments. It reads such documents several times faster than the full
// parser and allocates far less, which matters for large cluster groups. It gives up (ok=false) at the first
// thing outside that subset — flow collections, block scalars, anchors, tags, escapes, multi-line scalars,
// tabs, several documents, anything odd — and Parse then uses the full parser. Scalars are typed by the same
// code as the full path, and a differential fuzz test checks that whenever the fast path accepts a document,
// its result (values and positions) is exactly the full parser's.

// fastLine is one line of the document.
type fastLine struct {
	num    int    // 1-based line number
	indent int    // leading spaces
	text   []byte // content after the indentation, without trailing spaces; empty for blank/comment lines
}

type fastParser struct {
	c     *converter
	lines []fastLine // content lines only
	i     int
	count int
	// scratch holds the entries of the maps being read, the innermost last: a map takes its entries from it in
	// one slice of the right size when it ends, instead of growing a slice of its own entry by entry.
	scratch []Entry
	// data is the document as parseSimple was given it and doc the same as one string: keys and unquoted values
	// are parts of doc (see str), so reading them allocates nothing.
	data []byte
	doc  string
	// nodes and entries are handed out in blocks (newNode, takeEntries): a 2,000-application values file
	// has some 17,000 nodes, and one allocation per block instead of one per node and per map saves most of
	// the parse's allocations. A node or map keeps its block alive; all of them live as long as the values do.
	// Blocks are no larger than the document can fill: it has at most one map entry per content line and
	// about two nodes (nodesLeft and entriesLeft count down from 2n+1 and n for n lines), so that a small
	// document's blocks are small. Past an estimate, blocks hold what is asked for, one node at a time.
	nodes                  []Node
	entries                []Entry
	nodesLeft, entriesLeft int
}

// nodeBlock and entryBlock are the most nodes and map entries one allocation holds (8 KiB and 56 KiB).
const (
	nodeBlock  = 64
	entryBlock = 1024
)

// str returns b, a part of the document (a subslice of p.data, which keeps its capacity's end), as the same
// part of p.doc. Bytes that are not such a part (a nil slice from a trim, say) are copied instead.
func (p *fastParser) str(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	off := cap(p.data) - cap(b)
	if off < 0 || off+len(b) > len(p.data) || &p.data[off] != &b[0] {
		return string(b)
	}
	return p.doc[off : off+len(b)]
}

// newNode returns a zero node from the current block.
func (p *fastParser) newNode() *Node {
	if len(p.nodes) == 0 {
		p.nodes = make([]Node, max(1, min(nodeBlock, p.nodesLeft)))
		p.nodesLeft -= len(p.nodes)
	}
	n := &p.nodes[0]
	p.nodes = p.nodes[1:]
	return n
}

// takeEntries returns a copy of es in a slice of the current entry block whose capacity ends with it, so that
// an append to a map's entries allocates instead of writing over the next map's.
func (p *fastParser) takeEntries(es []Entry) []Entry {
	if len(es) > entryBlock/4 {
		return append(make([]Entry, 0, len(es)), es...)
	}
	if len(p.entries) < len(es) {
		p.entries = make([]Entry, max(len(es), min(entryBlock, p.entriesLeft)))
		p.entriesLeft -= len(p.entries)
	}
	out := p.entries[:len(es):len(es)]
	copy(out, es)
	p.entries = p.entries[len(es):]
	return out
}

// parseSimple parses data when it lies in the simple subset.
func parseSimple(c *converter, data []byte) (n *Node, ok bool) {
	if !simpleText(data) {
		return nil, false
	}
	p := &fastParser{c: c, lines: make([]fastLine, 0, bytes.Count(data, []byte{'\n'})+1), data: data, doc: string(data)}
	lineNum := 0
	first := true
	for len(data) > 0 {
		lineNum++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		text := bytes.TrimRight(line[indent:], " ")
		if len(text) == 0 || text[0] == '#' {
			continue
		}
		if indent == 0 && (bytes.HasPrefix(text, []byte("---")) || bytes.HasPrefix(text, []byte("..."))) {
			// Only a lone "---" before any content is simple.
			if !first || !bytes.Equal(text, []byte("---")) {
				return nil, false
			}
			first = false
			continue
		}
		if indent == 0 && text[0] == '%' {
			return nil, false
		}
		first = false
		p.lines = append(p.lines, fastLine{num: lineNum, indent: indent, text: text})
	}
	if len(p.lines) == 0 {
		return nil, false // let the full parser decide what an empty document is
	}
	p.nodesLeft, p.entriesLeft = 2*len(p.lines)+1, len(p.lines)
	root, ok := p.block(p.lines[0].indent, 0)
	if !ok || p.i != len(p.lines) {
		return nil, false
	}
	c.count += p.count
	return root, true
}

func (p *fastParser) pos(line fastLine, col int) srcpos.Pos {
	return srcpos.Pos{File: p.c.file, Line: line.num, Col: col}
}

// column returns the 1-based column (in characters) of byte offset off in line.
func column(line fastLine, off int) int {
	return line.indent + utf8.RuneCount(line.text[:off]) + 1
}

func (p *fastParser) node() bool {
	p.count++
	return p.c.lim.MaxNodes <= 0 || p.count <= p.c.lim.MaxNodes
}

// block parses the mapping or sequence whose lines start at the current line, at exactly indent.
func (p *fastParser) block(indent, depth int) (*Node, bool) {
	if p.c.lim.MaxDepth > 0 && depth > p.c.lim.MaxDepth || !p.node() {
		return nil, false
	}
	line := p.lines[p.i]
	if line.indent != indent {
		return nil, false
	}
	if isDash(line.text) {
		return p.sequence(indent, depth)
	}
	return p.mapping(indent, 0, depth)
}

func isDash(text []byte) bool {
	return text[0] == '-' && (len(text) == 1 || text[1] == ' ')
}

// mapping parses "key: value" lines at indent. skip is the byte offset where the first key starts in the current
// line (after "- " for a mapping that is a sequence item); later keys start at the indentation.
func (p *fastParser) mapping(indent, skip, depth int) (*Node, bool) {
	m := p.newNode()
	m.Kind = Map
	base := len(p.scratch)
	firstLine := true
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		off := 0
		if firstLine {
			off = skip
		} else {
			if line.indent < indent {
				break // the end of this mapping
			}
			if line.indent > indent || isDash(line.text) {
				return nil, false // a stray continuation or item: let the full parser judge
			}
		}
		text := line.text[off:]
		key, rest, ok := p.splitKey(text)
		if !ok {
			return nil, false
		}
		keyCol := column(line, off)
		if firstLine {
			m.Pos = p.pos(line, keyCol)
		}
		firstLine = false
		if !p.node() {
			return nil, false
		}
		colonOff := off + len(text) - len(rest) - 1
		p.i++
		var val *Node
		rest = bytes.TrimLeft(rest, " ")
		if len(rest) == 0 || rest[0] == '#' {
			if len(rest) > 0 && line.text[colonOff+1] != ' ' {
				return nil, false
			}
			val, ok = p.nested(line, colonOff, indent, depth)
		} else {
			if line.text[colonOff+1] != ' ' {
				return nil, false
			}
			val, ok = p.scalar(line, off+len(text)-len(rest), rest)
			if ok && p.i < len(p.lines) && p.lines[p.i].indent > indent {
				return nil, false // a continuation line: a multi-line scalar or an error
			}
		}
		if !ok {
			return nil, false
		}
		p.scratch = append(p.scratch, Entry{Key: key, KeyPos: p.pos(line, keyCol), Value: val})
	}
	m.entries = p.takeEntries(p.scratch[base:])
	p.scratch = p.scratch[:base]
	if !m.uniqueKeys() {
		return nil, false // a repeated key: the full parser reports it
	}
	return m, true
}

// uniqueKeys indexes a map built whole (above mapIndexThreshold keys) and reports whether its keys are unique.
func (m *Node) uniqueKeys() bool {
	if len(m.entries) > mapIndexThreshold {
		m.reindex()
		return len(m.index) == len(m.entries)
	}
	for i, e := range m.entries {
		for _, f := range m.entries[:i] {
			if f.Key == e.Key {
				return false
			}
		}
	}
	return true
}

// nested parses the value of "key:" with nothing after the colon: a block on the following lines (more indented,
// or a sequence at the same indentation), else null.
func (p *fastParser) nested(line fastLine, colonOff, indent, depth int) (*Node, bool) {
	if p.i < len(p.lines) {
		next := p.lines[p.i]
		if next.indent > indent || next.indent == indent && isDash(next.text) {
			return p.block(next.indent, depth+1)
		}
	}
	if !p.node() {
		return nil, false
	}
	n := p.newNode()
	n.Kind, n.Origin, n.Pos = Null, FromFile, p.pos(line, column(line, colonOff)+1)
	return n, true
}

// sequence parses "- item" lines at indent.
func (p *fastParser) sequence(indent, depth int) (*Node, bool) {
	l := p.newNode()
	l.Kind = List
	for p.i < len(p.lines) {
		line := p.lines[p.i]
		if line.indent != indent || !isDash(line.text) {
			if line.indent > indent {
				return nil, false
			}
			break
		}
		if len(l.items) == 0 {
			l.Pos = p.pos(line, line.indent+1)
		}
		if !p.node() {
			return nil, false
		}
		if len(line.text) == 1 { // "-" alone: a block below, or null
			p.i++
			if p.i < len(p.lines) && p.lines[p.i].indent > indent {
				v, ok := p.block(p.lines[p.i].indent, depth+1)
				if !ok {
					return nil, false
				}
				l.items = append(l.items, v)
				continue
			}
			null := p.newNode()
			null.Kind, null.Origin, null.Pos = Null, FromFile, p.pos(line, line.indent+2)
			l.items = append(l.items, null)
			continue
		}
		item := bytes.TrimLeft(line.text[2:], " ")
		itemOff := len(line.text) - len(item)
		if len(item) == 0 || item[0] == '#' || isDash(item) || itemOff != 2 {
			return nil, false
		}
		if _, _, isKey := p.splitKey(item); isKey {
			// "- key: value": a mapping whose keys line up after "- ".
			v, ok := p.mapping(indent+2, 2, depth+1)
			if !ok {
				return nil, false
			}
			l.items = append(l.items, v)
			continue
		}
		v, ok := p.scalar(line, itemOff, item)
		if !ok {
			return nil, false
		}
		p.i++
		if p.i < len(p.lines) && p.lines[p.i].indent > indent {
			return nil, false
		}
		l.items = append(l.items, v)
	}
	return l, true
}

// splitKey splits "key: rest" or "key:" (a part of the document) into the key and what follows the colon. Only
// simple keys qualify: plain words of safe characters, or quoted strings without escapes.
func (p *fastParser) splitKey(text []byte) (key string, rest []byte, ok bool) {
	// YAML limits implicit keys to 1024 characters; stay well below.
	if colon := bytes.IndexByte(text, ':'); colon < 0 || colon > 512 {
		return "", nil, false
	}
	switch text[0] {
	case '"', '\'':
		end := bytes.IndexByte(text[1:], text[0])
		if end < 0 {
			return "", nil, false
		}
		k := text[1 : 1+end]
		after := text[2+end:]
		if len(after) == 0 || after[0] != ':' || bytes.IndexByte(k, '\\') >= 0 || len(k) == 0 {
			return "", nil, false
		}
		if len(after) > 1 && after[1] != ' ' {
			return "", nil, false
		}
		return p.str(k), after[1:], true
	}
	i := 0
	for i < len(text) && keyChar(text[i]) {
		i++
	}
	if i == 0 || i >= len(text) || text[i] != ':' || (i+1 < len(text) && text[i+1] != ' ') {
		return "", nil, false
	}
	k := p.str(text[:i])
	// Keys that are not plain strings (null, merge keys, and the booleans and numbers that Helm prints
	// differently) take the full path.
	if _, isBool := yaml11Bool(k); isBool || reservedWord(k) || looksNumeric(k) {
		return "", nil, false
	}
	return k, text[i+1:], true
}

func keyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.' || c == '/' || c >= 0x80
}

// scalar reads the value at byte offset off of line: a plain scalar, a quoted string without escapes, or an
// empty flow collection, followed by nothing but an optional comment.
func (p *fastParser) scalar(line fastLine, off int, text []byte) (*Node, bool) {
	col := column(line, off)
	var value string
	var style yaml.Style
	switch text[0] {
	case '\'', '"':
		q := text[0]
		// The value is the text between the quotes, a part of the document, unless '' stands for a quote
		// inside single quotes: then it is built in val.
		var val []byte
		i, start := 1, 1
		for {
			j := bytes.IndexByte(text[i:], q)
			if j < 0 {
				return nil, false
			}
			i += j + 1
			if q == '\'' && i < len(text) && text[i] == '\'' {
				val = append(val, text[start:i]...) // up to and with one quote
				i++
				start = i
				continue
			}
			break
		}
		raw := text[start : i-1]
		if q == '"' && bytes.IndexByte(raw, '\\') >= 0 {
			return nil, false
		}
		if !endOfValue(text[i:]) {
			return nil, false
		}
		if val != nil {
			value = string(append(val, raw...))
		} else {
			value = p.str(raw)
		}
		style = yaml.SingleQuotedStyle
		if q == '"' {
			style = yaml.DoubleQuotedStyle
		}
	case '[', '{':
		if len(text) < 2 || text[1] != text[0]+2 || !endOfValue(text[2:]) { // [] or {}
			return nil, false
		}
		n := p.newNode()
		n.Kind, n.Origin, n.Pos = Map, FromFile, p.pos(line, col)
		if text[0] == '[' {
			n.Kind = List
		}
		return n, true
	case '?', ':', ',', ']', '}', '#', '&', '*', '!', '|', '>', '%', '@', '`':
		return nil, false
	case '-':
		// Only a negative number: anything else after a dash is an item or an oddity.
		if len(text) < 2 || !(text[1] >= '0' && text[1] <= '9' || text[1] == '.') {
			return nil, false
		}
		fallthrough
	default:
		end := len(text)
		for i := 1; i < len(text); i++ {
			if text[i] == '#' && text[i-1] == ' ' {
				end = i
				break
			}
			if text[i] == ':' && (i+1 == len(text) || text[i+1] == ' ') {
				return nil, false // a mapping value inside a plain scalar: an error or a complex key
			}
		}
		value = p.str(bytes.TrimRight(text[:end], " "))
	}
	if plainStringText(style, value) {
		// Most values: a string that needs no typing (the converter's own shortcut, without building the
		// yaml.Node it would type from).
		n := p.newNode()
		n.Kind, n.Text, n.Src, n.Pos, n.Origin = String, value, value, p.pos(line, col), FromFile
		return n, true
	}
	y := &yaml.Node{Kind: yaml.ScalarNode, Line: line.num, Column: col, Value: value, Style: style}
	n, err := p.c.scalar(y)
	if err != nil {
		return nil, false
	}
	return n, true
}

// endOfValue reports whether only spaces and an optional comment follow a value.
func endOfValue(rest []byte) bool {
	if len(rest) == 0 {
		return true
	}
	if rest[0] != ' ' {
		return false
	}
	rest = bytes.TrimLeft(rest, " ")
	return len(rest) == 0 || rest[0] == '#'
}

// simpleText accepts UTF-8 text made of YAML's printable characters and newlines: no tabs, carriage returns,
// control characters, byte order marks, or the characters the full parser takes for line breaks (NEL, LS, PS).
func simpleText(data []byte) bool {
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\n' || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		// NEL, LS and PS are printable to YAML 1.2 but line breaks to the full parser (yaml.v3's is_break,
		// after libyaml and YAML 1.1): the full parser reads such text.
		if r == utf8.RuneError || r == 0xfeff || r == 0x85 || r == 0x2028 || r == 0x2029 || !(r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000) {
			return false
		}
		i += size
	}
	return true
}
