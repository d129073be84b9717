package overlay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// The objects of a build go from kustomize's YAML nodes straight into cocogen's node tree (toNode), with the
// positions of the manifests they were read from. The values are typed as kustomize's own YAML output types
// them: Resource.AsYAML (kustomize api v0.21.2, resource/resource.go) goes through JSON — RNode.MarshalJSON
// (kyaml v0.21.2, yaml/rnode.go) decodes the node into Go values, encoding/json writes them, and
// sigs.k8s.io/yaml v1.6.0's JSONToYAML writes them again with go.yaml.in/yaml/v2 — so that every object
// cocogen renders is what `kustomize build` prints:
//
//   - a scalar takes the type YAML 1.2 gives it (go.yaml.in/yaml/v3's resolution: "yes" stays a string);
//   - a number prints as JSON prints a float64 and is an integer when that text is one (1.0 becomes 1);
//   - a timestamp becomes its RFC 3339 text; invalid UTF-8 becomes U+FFFD, byte by byte, as encoding/json
//     writes it; an empty null inside a flow collection ({a}) becomes the empty string, as the YAML emitter
//     must quote it there;
//   - map keys come in go.yaml.in/yaml/v2's order (v2.4.4, sorter.go: keyList.Less), see keyLess.

// converter turns the nodes of one object into a node tree.
type converter struct {
	lim   node.Limits
	count int
	// locate returns the position of a scalar written as value under key at line and col of the object's
	// manifest (see walker.locator), or the zero position.
	locate func(key string, line, col int, value string) srcpos.Pos
	// active holds the anchors being expanded, to refuse recursive aliases.
	active map[*kyaml.Node]bool
	// flow is the depth of flow collections ({...}, [...]) being converted.
	flow int
}

func (c *converter) errorf(format string, args ...any) error {
	return &srcpos.Error{Msg: fmt.Sprintf(format, args...)}
}

// spend counts one value against the yaml-nodes budget and checks the nesting against yaml-depth.
func (c *converter) spend(depth int) error {
	c.count++
	if c.lim.MaxNodes > 0 && c.count > c.lim.MaxNodes {
		name := cmpOr(c.lim.NodesBudget, "yaml-nodes")
		return c.errorf("budget %s (%d) exceeded: an object of the build holds more values; raise it with --budget %s=VALUE if the input is legitimate", name, c.lim.MaxNodes, name)
	}
	if c.lim.MaxDepth > 0 && depth > c.lim.MaxDepth {
		return c.errorf("budget yaml-depth (%d) exceeded: an object of the build nests values deeper; raise it with --budget yaml-depth=VALUE if the input is legitimate", c.lim.MaxDepth)
	}
	return nil
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// toNode converts y (depth levels down) into a node.
func (c *converter) toNode(y *kyaml.Node, depth int) (*node.Node, error) {
	if y.Kind == kyaml.AliasNode {
		if y.Alias == nil || c.active[y.Alias] {
			return nil, c.errorf("alias *%s cannot be expanded", y.Value)
		}
		if c.active == nil {
			c.active = map[*kyaml.Node]bool{}
		}
		c.active[y.Alias] = true
		defer delete(c.active, y.Alias)
		return c.toNode(y.Alias, depth)
	}
	if err := c.spend(depth); err != nil {
		return nil, err
	}
	switch y.Kind {
	case kyaml.DocumentNode:
		if len(y.Content) == 0 {
			return &node.Node{Kind: node.Null, Src: "null"}, nil
		}
		return c.toNode(y.Content[0], depth)
	case kyaml.SequenceNode:
		if y.Style&kyaml.FlowStyle != 0 {
			c.flow++
			defer func() { c.flow-- }()
		}
		n := node.NewList()
		n.Origin = node.FromFile
		for _, it := range y.Content {
			v, err := c.toNode(it, depth+1)
			if err != nil {
				return nil, err
			}
			n.Append(v)
		}
		return n, nil
	case kyaml.MappingNode:
		if y.Style&kyaml.FlowStyle != 0 {
			c.flow++
			defer func() { c.flow-- }()
		}
		return c.mapping(y, depth)
	case kyaml.ScalarNode:
		return c.scalar(y)
	}
	return nil, c.errorf("unsupported YAML node kind %d", y.Kind)
}

// mapping converts a map: its own keys win over those of << merge keys, and an earlier merged map over a
// later one (as go.yaml.in/yaml/v3 decodes them); the keys are sorted (keyLess).
func (c *converter) mapping(y *kyaml.Node, depth int) (*node.Node, error) {
	type kv struct {
		key string
		val *kyaml.Node
	}
	var own, merged []kv
	seen := map[string]bool{}
	var mergeFrom func(m *kyaml.Node) error
	mergeFrom = func(m *kyaml.Node) error {
		for m.Kind == kyaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		switch m.Kind {
		case kyaml.MappingNode:
			for i := 0; i+1 < len(m.Content); i += 2 {
				k := m.Content[i]
				if isMerge(k) {
					if err := mergeFrom(m.Content[i+1]); err != nil {
						return err
					}
					continue
				}
				key, err := c.key(k, depth)
				if err != nil {
					return err
				}
				merged = append(merged, kv{key, m.Content[i+1]})
			}
		case kyaml.SequenceNode:
			for _, it := range m.Content {
				if err := mergeFrom(it); err != nil {
					return err
				}
			}
		default:
			return c.errorf("merge key <<: needs a map or a list of maps")
		}
		return nil
	}
	for i := 0; i+1 < len(y.Content); i += 2 {
		k := y.Content[i]
		if isMerge(k) {
			if err := mergeFrom(y.Content[i+1]); err != nil {
				return nil, err
			}
			continue
		}
		key, err := c.key(k, depth)
		if err != nil {
			return nil, err
		}
		own = append(own, kv{key, y.Content[i+1]})
		seen[key] = true
	}
	for _, e := range merged {
		if !seen[e.key] {
			own = append(own, e)
			seen[e.key] = true
		}
	}
	slices.SortStableFunc(own, func(a, b kv) int {
		switch {
		case keyLess(a.key, b.key):
			return -1
		case keyLess(b.key, a.key):
			return 1
		}
		return 0
	})
	n := node.NewMapCap(len(own))
	n.Origin = node.FromFile
	for _, e := range own {
		v, err := c.toNode(e.val, depth+1)
		if err != nil {
			return nil, err
		}
		if v.Kind != node.Map && v.Kind != node.List && c.locate != nil {
			v.Pos = c.locate(e.key, e.val.Line, e.val.Column, v.Src)
		}
		n.Set(e.key, v)
	}
	return n, nil
}

func isMerge(k *kyaml.Node) bool {
	return k.Kind == kyaml.ScalarNode && k.Value == "<<" && (k.Tag == "!!merge" || k.Tag == "" && k.Style == 0)
}

// key returns a map key as text. The keys of the object itself are decoded into strings; deeper maps whose
// keys are not all strings cannot be written as JSON, and kustomize's output fails on them.
func (c *converter) key(k *kyaml.Node, depth int) (string, error) {
	for k.Kind == kyaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != kyaml.ScalarNode {
		return "", c.errorf("map keys must be scalars")
	}
	if depth > 0 && k.ShortTag() != "!!str" {
		return "", c.errorf("map key %q is not a string: kustomize cannot write this object as JSON", k.Value)
	}
	return k.Value, nil
}

// scalar converts a scalar, typed as kustomize's output types it (see the comment at the top).
func (c *converter) scalar(y *kyaml.Node) (*node.Node, error) {
	var v any
	if err := y.Decode(&v); err != nil {
		return nil, c.errorf("invalid value %q: %v", y.Value, err)
	}
	n := &node.Node{Origin: node.FromFile}
	switch v := v.(type) {
	case nil:
		if y.Value == "" && c.flow > 0 {
			// The YAML emitter cannot write an empty plain scalar inside a flow collection and quotes it:
			// kustomize prints {a: ''} for {a}.
			n.Kind = node.String
			break
		}
		n.Kind, n.Src = node.Null, "null"
		return n, nil
	case bool:
		n.Kind, n.Text = node.Bool, strconv.FormatBool(v)
	case int:
		n.Kind, n.Text = node.Int, strconv.Itoa(v)
	case int64:
		n.Kind, n.Text = node.Int, strconv.FormatInt(v, 10)
	case uint64:
		n.Kind, n.Text = node.Float, node.FormatFloat(float64(v))
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, c.errorf("json: unsupported value: %s", strconv.FormatFloat(v, 'g', -1, 64))
		}
		text, _ := json.Marshal(v)
		if i, err := strconv.ParseInt(string(text), 10, 64); err == nil {
			n.Kind, n.Text = node.Int, strconv.FormatInt(i, 10)
		} else {
			n.Kind, n.Text = node.Float, node.FormatFloat(v)
		}
	case string:
		n.Kind, n.Text = node.String, jsonText(v)
	case time.Time:
		n.Kind, n.Text = node.String, v.Format(time.RFC3339Nano)
	default:
		return nil, c.errorf("unsupported value %q", y.Value)
	}
	n.Src = n.Text
	if c.locate != nil {
		n.Pos = c.locate("", y.Line, y.Column, y.Value)
	}
	return n, nil
}

// jsonText is s as encoding/json writes it: every byte that is not part of valid UTF-8 becomes U+FFFD.
func jsonText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteRune(utf8.RuneError)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// keyLess orders map keys as go.yaml.in/yaml/v2 (v2.4.4, sorter.go) orders string keys when it writes a map:
// rune by rune; at the first difference letters come after everything else and compare as runes, and runs
// of digits compare as numbers (so "a2" sorts before "a10"), the shorter run first when they are equal.
func keyLess(a, b string) bool {
	ar, br := []rune(a), []rune(b)
	for i := 0; i < len(ar) && i < len(br); i++ {
		if ar[i] == br[i] {
			continue
		}
		al, bl := unicode.IsLetter(ar[i]), unicode.IsLetter(br[i])
		switch {
		case al && bl:
			return ar[i] < br[i]
		case al || bl:
			return bl
		}
		// Both are not letters: compare the digit runs that start here as numbers. A run continued from
		// digits before i (other than zeros) counts from 1 rather than 0, as in yaml.v2.
		var an, bn int64
		if ar[i] == '0' || br[i] == '0' {
			for j := i - 1; j >= 0 && unicode.IsDigit(ar[j]); j-- {
				if ar[j] != '0' {
					an, bn = 1, 1
					break
				}
			}
		}
		ai, bi := i, i
		for ; ai < len(ar) && unicode.IsDigit(ar[ai]); ai++ {
			an = an*10 + int64(ar[ai]-'0')
		}
		for ; bi < len(br) && unicode.IsDigit(br[bi]); bi++ {
			bn = bn*10 + int64(br[bi]-'0')
		}
		if an != bn {
			return an < bn
		}
		if ai != bi {
			return ai < bi
		}
		return ar[i] < br[i]
	}
	return len(ar) < len(br)
}

// locator returns the function that finds where a scalar of an object read from the root-relative file was
// written. kustomize keeps the line and column of every value it copies from a file, but not the file: the
// object's own file when it has the value there, else the first other file of the build that has (a patch).
// A value whose line is lost (kustomize rebuilds an object that a JSON patch changes) or that no file has
// there is looked up by its key and value, in the same order, inline patches included; a value that no file
// writes (kustomize wrote it) has no position.
func (w *walker) locator(own string) func(key string, line, col int, value string) srcpos.Pos {
	inOrder := func(fn func(f *file) (srcpos.Pos, bool)) srcpos.Pos {
		if f := w.files[own]; f != nil {
			if p, ok := fn(f); ok {
				return p
			}
		}
		for _, rel := range w.order {
			if rel != own {
				if p, ok := fn(w.files[rel]); ok {
					return p
				}
			}
		}
		return srcpos.Pos{}
	}
	return func(key string, line, col int, value string) srcpos.Pos {
		if line > 0 {
			at := [2]int{line, col}
			if p := inOrder(func(f *file) (srcpos.Pos, bool) {
				f.index()
				src, ok := f.scalars[at]
				return srcpos.Pos{File: f.docsFile, Line: line, Col: col}, ok && src == value && f.docsFile != ""
			}); !p.IsZero() {
				return p
			}
		}
		if key == "" {
			return srcpos.Pos{}
		}
		return inOrder(func(f *file) (srcpos.Pos, bool) {
			f.index()
			p, ok := f.byKey[key+"\x00"+value]
			return p, ok
		})
	}
}

// index builds the file's position indexes once.
func (f *file) index() {
	if f.scalars != nil {
		return
	}
	f.scalars, f.byKey = map[[2]int]string{}, map[string]srcpos.Pos{}
	var walk func(key string, n *node.Node, shift func(srcpos.Pos) srcpos.Pos)
	walk = func(key string, n *node.Node, shift func(srcpos.Pos) srcpos.Pos) {
		switch n.Kind {
		case node.Map:
			for _, e := range n.Entries() {
				walk(e.Key, e.Value, shift)
			}
		case node.List:
			for _, it := range n.Items() {
				walk("", it, shift)
			}
		default:
			if n.Pos.Line == 0 {
				return
			}
			pos := n.Pos
			if shift == nil {
				f.scalars[[2]int{pos.Line, pos.Col}] = n.Src
				f.docsFile = pos.File
			} else {
				pos = shift(pos)
			}
			if k := key + "\x00" + n.Src; key != "" {
				if _, dup := f.byKey[k]; !dup {
					f.byKey[k] = pos
				}
			}
		}
	}
	for _, d := range f.docs {
		walk("", d, nil)
	}
	for _, in := range f.inline {
		for _, d := range in.docs {
			walk("", d, in.shift)
		}
	}
}

// Within returns where text is written in the scalar at pos, a position that a converted object carries: the
// first place at or after pos in the file it names. It returns pos when the text is not found there.
func (s *Sources) Within(pos srcpos.Pos, text string) srcpos.Pos {
	if pos.Line < 1 || pos.Col < 1 || text == "" {
		return pos
	}
	for _, rel := range s.w.order {
		if s.w.display(rel) != pos.File {
			continue
		}
		data := s.w.files[rel].data
		off := 0
		for line := 1; line < pos.Line; line++ {
			i := bytes.IndexByte(data[off:], '\n')
			if i < 0 {
				return pos
			}
			off += i + 1
		}
		start := off + pos.Col - 1
		if start > len(data) {
			return pos
		}
		i := bytes.Index(data[start:], []byte(text))
		if i < 0 {
			return pos
		}
		at := start + i
		line := pos.Line + bytes.Count(data[start:at], []byte("\n"))
		return srcpos.Pos{File: pos.File, Line: line, Col: at - bytes.LastIndexByte(data[:at], '\n')}
	}
	return pos
}
