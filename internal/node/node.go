// Package node holds the value tree that cocogen reads values into and builds manifests from.
//
// A Node is a YAML value (null, bool, int, float, string, map or list) that remembers where it came from
// (file, line, column), so that every diagnostic about a merged value can point at the file that set it.
// Maps keep their key order. Nodes are treated as immutable once built: Copy copies one level, so that
// Helm's merge and coalesce (internal/helmvalues) share unchanged subtrees between their inputs and results.
package node

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cocogen/cocogen/internal/srcpos"
)

// Kind is the type of a value.
type Kind uint8

// The kinds of value a Node can hold.
const (
	Null Kind = iota
	Bool
	Int
	Float
	String
	Map
	List
)

var kindNames = [...]string{"null", "bool", "int", "float", "string", "map", "list"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Origin says how a value entered the tree. Helm types numbers differently depending on it: numbers read from
// files become float64, integers given with --set stay int64.
type Origin uint8

// The origins of a value.
const (
	FromFile  Origin = iota // a YAML file (values, defaults); numbers behave as Helm's float64
	FromFlag                // a --set flag or an injected fact; integers stay integers
	Generated               // built by cocogen for output
)

// Entry is one key of a map.
type Entry struct {
	Key    string
	KeyPos srcpos.Pos
	Value  *Node
}

// Node is one value of the tree.
type Node struct {
	// The small fields come first, together, so that a node takes 128 bytes, not 144 (Go's size classes).
	Kind   Kind
	Origin Origin
	// shared marks a node that appears many times in one output (see Share).
	shared bool
	// Text is the canonical text of a scalar: the string itself, "true"/"false", a base-10 integer, or a float
	// in Go's shortest form. It is empty for maps, lists and null.
	Text string
	// Src is the scalar as it was written in the source (for warnings about YAML typing surprises).
	Src string
	Pos srcpos.Pos

	entries []Entry
	index   map[string]int
	items   []*Node
}

// Share marks n as appearing in many places of the same output (a generator reuses it), so that encoders may
// encode it once and copy the bytes. A shared node must not be changed afterwards.
func Share(n *Node) *Node {
	n.shared = true
	return n
}

// mapIndexThreshold is the size above which a map keeps a key index.
const mapIndexThreshold = 12

// NewMap returns an empty map node.
func NewMap() *Node { return &Node{Kind: Map, Origin: Generated} }

// NewMapCap returns an empty map node with room for n keys.
func NewMapCap(n int) *Node {
	return &Node{Kind: Map, Origin: Generated, entries: make([]Entry, 0, n)}
}

// NewList returns a list node holding items.
func NewList(items ...*Node) *Node { return &Node{Kind: List, Origin: Generated, items: items} }

// NewString returns a string node.
func NewString(s string) *Node { return &Node{Kind: String, Text: s, Src: s, Origin: Generated} }

// NewBool returns a bool node.
func NewBool(b bool) *Node {
	t := strconv.FormatBool(b)
	return &Node{Kind: Bool, Text: t, Src: t, Origin: Generated}
}

// NewInt returns an integer node.
func NewInt(i int64) *Node {
	t := strconv.FormatInt(i, 10)
	return &Node{Kind: Int, Text: t, Src: t, Origin: Generated}
}

// NewFloat returns a float node.
func NewFloat(f float64) *Node {
	t := FormatFloat(f)
	return &Node{Kind: Float, Text: t, Src: t, Origin: Generated}
}

// NewNull returns a null node.
func NewNull() *Node { return &Node{Kind: Null, Origin: Generated} }

// FormatFloat renders f in the canonical form cocogen emits (shortest round-trip form, YAML-compatible
// spellings for infinities and NaN).
func FormatFloat(f float64) string {
	switch {
	case math.IsInf(f, 1):
		return ".inf"
	case math.IsInf(f, -1):
		return "-.inf"
	case math.IsNaN(f):
		return ".nan"
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	if !strings.ContainsAny(s, ".eEn") {
		s += ".0" // keep it a float when read back
	}
	return s
}

// Scalar returns the text of a scalar, or "" for a missing node, null, a map or a list.
func (n *Node) Scalar() string {
	if n == nil {
		return ""
	}
	return n.Text
}

// PosOr returns the node's position, or fallback when the node is missing.
func (n *Node) PosOr(fallback srcpos.Pos) srcpos.Pos {
	if n == nil {
		return fallback
	}
	return n.Pos
}

// IsNull reports whether n is missing or null.
func (n *Node) IsNull() bool { return n == nil || n.Kind == Null }

// IsScalar reports whether n is a bool, number or string.
func (n *Node) IsScalar() bool {
	return n != nil && (n.Kind == Bool || n.Kind == Int || n.Kind == Float || n.Kind == String)
}

// Len returns the number of entries of a map or items of a list.
func (n *Node) Len() int {
	if n == nil {
		return 0
	}
	switch n.Kind {
	case Map:
		return len(n.entries)
	case List:
		return len(n.items)
	}
	return 0
}

// Entries returns the entries of a map in order. The slice must not be modified.
func (n *Node) Entries() []Entry {
	if n == nil || n.Kind != Map {
		return nil
	}
	return n.entries
}

// Items returns the items of a list. The slice must not be modified.
func (n *Node) Items() []*Node {
	if n == nil || n.Kind != List {
		return nil
	}
	return n.items
}

// Lookup returns the value of key in a map and whether the key is present (a key whose value is null is present).
func (n *Node) Lookup(key string) (*Node, bool) {
	e, ok := n.entry(key)
	if !ok {
		return nil, false
	}
	return e.Value, true
}

// Get returns the value of key in a map, or nil.
func (n *Node) Get(key string) *Node {
	v, _ := n.Lookup(key)
	return v
}

// Path follows keys through nested maps and returns the value, or nil when a step is missing or not a map.
func (n *Node) Path(keys ...string) *Node {
	cur := n
	for _, k := range keys {
		if cur == nil || cur.Kind != Map {
			return nil
		}
		cur = cur.Get(k)
	}
	return cur
}

// KeyPos returns the position of key in a map, or the map's own position when the key is absent.
func (n *Node) KeyPos(key string) srcpos.Pos {
	if e, ok := n.entry(key); ok {
		return e.KeyPos
	}
	if n == nil {
		return srcpos.Pos{}
	}
	return n.Pos
}

func (n *Node) entry(key string) (Entry, bool) {
	if n == nil || n.Kind != Map {
		return Entry{}, false
	}
	if n.index != nil {
		i, ok := n.index[key]
		if !ok {
			return Entry{}, false
		}
		return n.entries[i], true
	}
	for _, e := range n.entries {
		if e.Key == key {
			return e, true
		}
	}
	return Entry{}, false
}

// Set adds key to a map or replaces its value, keeping the key's place. It is meant for building new nodes.
func (n *Node) Set(key string, v *Node) *Node {
	return n.SetAt(key, srcpos.Pos{}, v)
}

// SetAt is Set with a key position.
func (n *Node) SetAt(key string, keyPos srcpos.Pos, v *Node) *Node {
	if n.Kind != Map {
		panic("node: Set on " + n.Kind.String())
	}
	if n.index != nil {
		if i, ok := n.index[key]; ok {
			n.entries[i].Value = v
			return n
		}
	} else {
		for i := range n.entries {
			if n.entries[i].Key == key {
				n.entries[i].Value = v
				return n
			}
		}
	}
	n.appendEntry(Entry{Key: key, KeyPos: keyPos, Value: v})
	return n
}

// Delete removes key from a map.
func (n *Node) Delete(key string) {
	if n.Kind != Map {
		return
	}
	for i := range n.entries {
		if n.entries[i].Key == key {
			n.entries = append(n.entries[:i:i], n.entries[i+1:]...)
			if n.index != nil {
				n.reindex()
			}
			return
		}
	}
}

func (n *Node) reindex() {
	n.index = make(map[string]int, len(n.entries))
	for i, e := range n.entries {
		n.index[e.Key] = i
	}
}

// Append adds items to a list. It is meant for building new nodes.
func (n *Node) Append(items ...*Node) *Node {
	if n.Kind != List {
		panic("node: Append on " + n.Kind.String())
	}
	n.items = append(n.items, items...)
	return n
}

// At sets the node's position and returns it, for chaining while building.
func (n *Node) At(p srcpos.Pos) *Node {
	n.Pos = p
	return n
}

// SetEntry sets e.Key to e.Value with the key position e.KeyPos, keeping the key's place when it is present
// and appending it otherwise. It is meant for building new nodes and for changing a Copy.
func (n *Node) SetEntry(e Entry) {
	if n.Kind != Map {
		panic("node: SetEntry on " + n.Kind.String())
	}
	if n.index != nil {
		if i, ok := n.index[e.Key]; ok {
			n.entries[i] = e
			return
		}
	} else {
		for i := range n.entries {
			if n.entries[i].Key == e.Key {
				n.entries[i] = e
				return
			}
		}
	}
	n.appendEntry(e)
}

func (n *Node) appendEntry(e Entry) {
	n.entries = append(n.entries, e)
	if n.index != nil {
		n.index[e.Key] = len(n.entries) - 1
	} else if len(n.entries) > mapIndexThreshold {
		n.reindex()
	}
}

// SetItem replaces item i of a list. It is meant for building new nodes and for changing a Copy.
func (n *Node) SetItem(i int, v *Node) {
	if n.Kind != List {
		panic("node: SetItem on " + n.Kind.String())
	}
	n.items[i] = v
}

// Copy returns a copy of n whose own entries or items can be changed (SetEntry, SetItem, Delete, Append)
// without changing n; the values below them are shared with n.
func (n *Node) Copy() *Node {
	c := *n
	if n.entries != nil {
		c.entries = append([]Entry(nil), n.entries...)
	}
	if n.items != nil {
		c.items = append([]*Node(nil), n.items...)
	}
	c.index = nil
	if len(c.entries) > mapIndexThreshold {
		c.reindex()
	}
	return &c
}

// Clone returns a deep copy of n.
func (n *Node) Clone() *Node {
	if n == nil {
		return nil
	}
	c := *n
	c.index = nil
	if n.entries != nil {
		c.entries = make([]Entry, len(n.entries))
		for i, e := range n.entries {
			c.entries[i] = Entry{Key: e.Key, KeyPos: e.KeyPos, Value: e.Value.Clone()}
		}
		if len(c.entries) > mapIndexThreshold {
			c.reindex()
		}
	}
	if n.items != nil {
		c.items = make([]*Node, len(n.items))
		for i, it := range n.items {
			c.items[i] = it.Clone()
		}
	}
	return &c
}

// String returns the scalar's text; for other kinds it returns a short description. It is meant for messages.
func (n *Node) String() string {
	if n == nil {
		return "<missing>"
	}
	switch n.Kind {
	case Null:
		return "null"
	case Map:
		return fmt.Sprintf("map with %d keys", len(n.entries))
	case List:
		return fmt.Sprintf("list with %d items", len(n.items))
	}
	return n.Text
}

// Truthy reports whether Helm's templates would treat the value as true: false, 0, "", null and empty
// collections are false.
func (n *Node) Truthy() bool {
	if n == nil {
		return false
	}
	switch n.Kind {
	case Null:
		return false
	case Bool:
		return n.Text == "true"
	case Int:
		return n.Text != "0"
	case Float:
		f, _ := strconv.ParseFloat(n.Text, 64)
		return f != 0
	case String:
		return n.Text != ""
	case Map:
		return len(n.entries) > 0
	case List:
		return len(n.items) > 0
	}
	return false
}

// Equal reports whether two trees hold the same values (positions and origins are ignored).
func Equal(a, b *Node) bool {
	if a.IsNull() || b.IsNull() {
		return a.IsNull() && b.IsNull()
	}
	if a.Kind != b.Kind {
		return false
	}
	switch a.Kind {
	case Map:
		if len(a.entries) != len(b.entries) {
			return false
		}
		for _, e := range a.entries {
			bv, ok := b.Lookup(e.Key)
			if !ok || !Equal(e.Value, bv) {
				return false
			}
		}
		return true
	case List:
		if len(a.items) != len(b.items) {
			return false
		}
		for i := range a.items {
			if !Equal(a.items[i], b.items[i]) {
				return false
			}
		}
		return true
	}
	return a.Text == b.Text
}

// Sorted returns a copy of n in which the keys of every map are in byte order, as Helm's toYaml and toJson
// print them. Output built from user values uses it so that it never depends on the order keys were written in.
func Sorted(n *Node) *Node {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case Map:
		out := &Node{Kind: Map, Pos: n.Pos, Origin: n.Origin, entries: make([]Entry, len(n.entries))}
		for i, e := range n.entries {
			out.entries[i] = Entry{Key: e.Key, KeyPos: e.KeyPos, Value: Sorted(e.Value)}
		}
		slices.SortFunc(out.entries, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
		if len(out.entries) > mapIndexThreshold {
			out.reindex()
		}
		return out
	case List:
		out := &Node{Kind: List, Pos: n.Pos, Origin: n.Origin, items: make([]*Node, len(n.items))}
		for i, it := range n.items {
			out.items[i] = Sorted(it)
		}
		return out
	}
	return n
}

// size is the number of values in n: n itself and everything below it.
func (n *Node) size() int {
	if n == nil {
		return 1
	}
	s := 1
	for _, e := range n.entries {
		s += e.Value.size()
	}
	for _, it := range n.items {
		s += it.size()
	}
	return s
}
