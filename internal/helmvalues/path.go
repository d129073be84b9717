package helmvalues

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cocogen/cocogen/internal/node"
)

// Step is one step of a value path: a map key or a list index.
type Step struct {
	Key   string
	Index int // used when IsIndex
	// IsIndex marks a list index step ([3]).
	IsIndex bool
}

// Path is a parsed value path such as global.clusterDomain or clusterGroup.imperative.jobs[0].name.
type Path []Step

// maxIndex bounds list indexes in paths, so that a[100000000]=x cannot allocate a huge list.
const maxIndex = 10_000

// ParsePath parses a dotted path with optional [N] list indexes. A backslash escapes the next character, so
// that keys containing dots can be named (labels\.example\.com/name).
func ParsePath(s string) (Path, error) {
	var p Path
	i := 0
	for {
		var key strings.Builder
		start := i
		for i < len(s) && s[i] != '.' && s[i] != '[' {
			if s[i] == '\\' {
				if i+1 >= len(s) {
					return nil, fmt.Errorf("trailing backslash in %q", s)
				}
				i++
			}
			key.WriteByte(s[i])
			i++
		}
		if i == start {
			return nil, fmt.Errorf("empty key segment in %q", s)
		}
		p = append(p, Step{Key: key.String()})
		for i < len(s) && s[i] == '[' {
			end := strings.IndexByte(s[i:], ']')
			if end < 0 {
				return nil, fmt.Errorf("unclosed [ in %q", s)
			}
			idx, err := strconv.Atoi(s[i+1 : i+end])
			if err != nil || idx < 0 {
				return nil, fmt.Errorf("invalid list index %q in %q", s[i+1:i+end], s)
			}
			if idx > maxIndex {
				return nil, fmt.Errorf("list index %d in %q is larger than %d", idx, s, maxIndex)
			}
			p = append(p, Step{Index: idx, IsIndex: true})
			i += end + 1
		}
		if i == len(s) {
			return p, nil
		}
		if s[i] != '.' {
			return nil, fmt.Errorf("expected . after ] in %q", s)
		}
		i++
	}
}

// String renders the path back in the form ParsePath reads.
func (p Path) String() string {
	var b strings.Builder
	for i, s := range p {
		if s.IsIndex {
			fmt.Fprintf(&b, "[%d]", s.Index)
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strings.NewReplacer(`\`, `\\`, ".", `\.`, "[", `\[`).Replace(s.Key))
	}
	return b.String()
}

// SetPath returns a copy of root with the value at p set to v, creating maps and growing lists (with nulls) on
// the way, as Helm's --set does. root itself is not modified. A nil v sets null.
func SetPath(root *node.Node, p Path, v *node.Node) *node.Node {
	if v == nil {
		v = &node.Node{Kind: node.Null, Origin: node.FromFlag} // a missing value sets null, as Helm's --set key=null does
	}
	if len(p) == 0 {
		return v
	}
	step := p[0]
	if step.IsIndex {
		var out *node.Node
		if root != nil && root.Kind == node.List {
			out = root.Copy()
		} else {
			out = &node.Node{Kind: node.List, Origin: v.Origin, Pos: v.Pos}
		}
		for out.Len() <= step.Index {
			out.Append(&node.Node{Kind: node.Null, Origin: v.Origin, Pos: v.Pos})
		}
		out.SetItem(step.Index, SetPath(out.Items()[step.Index], p[1:], v))
		return out
	}
	var out *node.Node
	if root != nil && root.Kind == node.Map {
		out = root.Copy()
	} else {
		out = &node.Node{Kind: node.Map, Origin: v.Origin, Pos: v.Pos}
	}
	child, _ := out.Lookup(step.Key)
	out.SetEntry(node.Entry{Key: step.Key, KeyPos: v.Pos, Value: SetPath(child, p[1:], v)})
	return out
}
