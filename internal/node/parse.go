package node

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Limits bound the work and memory spent on one YAML document, so that hostile input (alias bombs, deep
// nesting, huge files) fails with an error instead of exhausting the machine. They are the render budgets
// file-bytes, yaml-nodes, yaml-depth and yaml-total-nodes (package budget), whose names the errors give.
type Limits struct {
	MaxBytes int // largest accepted document
	MaxNodes int // values after alias expansion, counting every value an alias or a << merge key copies
	MaxDepth int // nesting of maps and lists
	// Total, when set, counts the values of every document parsed with it against a budget of its own.
	Total *Tally
	// NodesBudget names the budget MaxNodes stands for in errors ("" means yaml-nodes).
	NodesBudget string
}

// Tally counts values across the documents of one render.
type Tally struct {
	Max  int // the yaml-total-nodes budget; 0 means no limit
	Used int
}

// add counts n more values and reports whether the budget still holds.
func (t *Tally) add(n int) bool {
	if t == nil {
		return true
	}
	t.Used += n
	return t.Max <= 0 || t.Used <= t.Max
}

// FromBudget returns the YAML limits of a render's budgets, counting into total (which may be nil).
func FromBudget(l budget.Limits, total *Tally) Limits {
	return Limits{MaxBytes: int(min(l.FileBytes, math.MaxInt32)), MaxNodes: l.YAMLNodes, MaxDepth: l.YAMLDepth, Total: total}
}

// DefaultLimits are the default budgets: generous for values files and metadata (real ones are a few KB; the
// 2,000-application benchmark holds 18,000 values) and small enough to keep a render of anything they admit
// within the Argo CD sidecar's 512 MiB.
var DefaultLimits = FromBudget(budget.Defaults(), nil)

// budgetError is the error of a spent YAML budget.
func budgetError(pos srcpos.Pos, name string, limit int, what string) error {
	return &srcpos.Error{Pos: pos, Msg: fmt.Sprintf("budget %s (%d) exceeded: %s; raise it with --budget %s=VALUE if the input is legitimate", name, limit, what, name)}
}

// Parse reads one YAML document. An empty document (or one holding only comments) gives a null node.
// Several documents in one file are an error: values files hold exactly one.
func Parse(file string, data []byte, lim Limits) (n *Node, err error) {
	if lim.MaxBytes > 0 && len(data) > lim.MaxBytes {
		return nil, budgetError(srcpos.Pos{File: file}, "file-bytes", lim.MaxBytes, fmt.Sprintf("the file is %d bytes", len(data)))
	}
	fast := &converter{file: file, lim: lim}
	if n, ok := parseSimple(fast, data); ok {
		if !lim.Total.add(fast.count) {
			return nil, budgetError(srcpos.Pos{File: file}, "yaml-total-nodes", lim.Total.Max, "the YAML documents of this render hold more values")
		}
		return n, nil
	}
	return parseFull(file, data, lim)
}

// parseFull reads any YAML document with yaml.v3.
func parseFull(file string, data []byte, lim Limits) (n *Node, err error) {
	defer func() {
		// yaml.v3 has panicked on malformed input in the past; never let that take the process down.
		if r := recover(); r != nil {
			n, err = nil, &srcpos.Error{Pos: srcpos.Pos{File: file}, Msg: fmt.Sprintf("invalid YAML: %v", r)}
		}
	}()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return &Node{Kind: Null, Pos: srcpos.Pos{File: file, Line: 1, Col: 1}}, nil
		}
		return nil, yamlError(file, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &srcpos.Error{Pos: srcpos.Pos{File: file, Line: extra.Line, Col: extra.Column}, Msg: "more than one YAML document; a values file holds exactly one"}
	} else if !errors.Is(err, io.EOF) {
		return nil, yamlError(file, err)
	}
	c := converter{file: file, lim: lim}
	root := &doc
	if root.Kind == yaml.DocumentNode {
		if len(root.Content) == 0 {
			return &Node{Kind: Null, Pos: srcpos.Pos{File: file, Line: 1, Col: 1}}, nil
		}
		root = root.Content[0]
	}
	return c.convert(root, 0)
}

var yamlLineRe = lazyre.New(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlError turns a yaml.v3 error into a positioned Error.
func yamlError(file string, err error) error {
	msg := err.Error()
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	msg = strings.TrimPrefix(msg, "yaml: unmarshal errors:\n  ")
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		// yaml.v3 reports parser errors (unlike scanner errors) with a zero-based line number.
		if line > 0 && strings.HasPrefix(m[2], "did not find expected") {
			line++
		}
		return &srcpos.Error{Pos: srcpos.Pos{File: file, Line: line}, Msg: "invalid YAML: " + m[2]}
	}
	// "line 3: mapping key "a" already defined at line 2"
	if strings.HasPrefix(msg, "line ") {
		if i := strings.Index(msg, ":"); i > 0 {
			if line, err := strconv.Atoi(msg[5:i]); err == nil {
				return &srcpos.Error{Pos: srcpos.Pos{File: file, Line: line}, Msg: "invalid YAML: " + strings.TrimSpace(msg[i+1:])}
			}
		}
	}
	return &srcpos.Error{Pos: srcpos.Pos{File: file}, Msg: "invalid YAML: " + msg}
}

type converter struct {
	file  string
	lim   Limits
	count int
	// active holds the anchors being expanded, to refuse recursive aliases.
	active map[*yaml.Node]bool
}

func (c *converter) pos(y *yaml.Node) srcpos.Pos {
	return srcpos.Pos{File: c.file, Line: y.Line, Col: y.Column}
}

func (c *converter) fail(y *yaml.Node, format string, args ...any) error {
	return &srcpos.Error{Pos: c.pos(y), Msg: fmt.Sprintf(format, args...)}
}

// spend counts n values and fails when a budget is spent.
func (c *converter) spend(y *yaml.Node, n int) error {
	c.count += n
	if c.lim.MaxNodes > 0 && c.count > c.lim.MaxNodes {
		name := c.lim.NodesBudget
		if name == "" {
			name = "yaml-nodes"
		}
		return budgetError(c.pos(y), name, c.lim.MaxNodes, "the document expands to more values (aliases and << merge keys count every value they copy)")
	}
	if !c.lim.Total.add(n) {
		return budgetError(c.pos(y), "yaml-total-nodes", c.lim.Total.Max, "the YAML documents of this render hold more values")
	}
	return nil
}

func (c *converter) convert(y *yaml.Node, depth int) (*Node, error) {
	if y.Kind != yaml.AliasNode { // an alias counts as the values it copies
		if err := c.spend(y, 1); err != nil {
			return nil, err
		}
	}
	if c.lim.MaxDepth > 0 && depth > c.lim.MaxDepth {
		return nil, budgetError(c.pos(y), "yaml-depth", c.lim.MaxDepth, "values are nested deeper")
	}
	switch y.Kind {
	case yaml.AliasNode:
		if y.Alias == nil {
			return nil, c.fail(y, "alias to an unknown anchor")
		}
		if c.active[y.Alias] {
			return nil, c.fail(y, "alias *%s refers to itself", y.Value)
		}
		if c.active == nil {
			c.active = map[*yaml.Node]bool{}
		}
		c.active[y.Alias] = true
		n, err := c.convert(y.Alias, depth)
		delete(c.active, y.Alias)
		var e *srcpos.Error
		if len(c.active) == 0 && errors.As(err, &e) && strings.Contains(e.Msg, "budget ") {
			// Name the alias that expands too far, not the anchor it copies.
			e.Pos = c.pos(y)
		}
		return n, err
	case yaml.ScalarNode:
		return c.scalar(y)
	case yaml.SequenceNode:
		n := &Node{Kind: List, Pos: c.pos(y), items: make([]*Node, 0, len(y.Content))}
		for _, item := range y.Content {
			v, err := c.convert(item, depth+1)
			if err != nil {
				return nil, err
			}
			n.items = append(n.items, v)
		}
		return n, nil
	case yaml.MappingNode:
		return c.mapping(y, depth)
	case yaml.DocumentNode:
		if len(y.Content) == 0 {
			return &Node{Kind: Null, Pos: c.pos(y)}, nil
		}
		return c.convert(y.Content[0], depth)
	}
	return nil, c.fail(y, "unsupported YAML node")
}

func (c *converter) mapping(y *yaml.Node, depth int) (*Node, error) {
	n := &Node{Kind: Map, Pos: c.pos(y), entries: make([]Entry, 0, len(y.Content)/2)}
	if len(y.Content)/2 > mapIndexThreshold {
		n.index = make(map[string]int, len(y.Content)/2)
	}
	var merges []*Node
	for i := 0; i+1 < len(y.Content); i += 2 {
		k, v := y.Content[i], y.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Tag == "!!merge" {
			m, err := c.convert(v, depth+1)
			if err != nil {
				return nil, err
			}
			switch m.Kind {
			case Map:
				merges = append(merges, m)
			case List:
				for _, it := range m.items {
					if it.Kind != Map {
						return nil, c.fail(v, "merge key <<: needs a map or a list of maps")
					}
					merges = append(merges, it)
				}
			default:
				return nil, c.fail(v, "merge key <<: needs a map or a list of maps")
			}
			continue
		}
		key, err := c.key(k)
		if err != nil {
			return nil, err
		}
		if _, dup := n.entry(key); dup {
			return nil, c.fail(k, "key %q is defined twice in this map", key)
		}
		val, err := c.convert(v, depth+1)
		if err != nil {
			return nil, err
		}
		n.entries = append(n.entries, Entry{Key: key, KeyPos: c.pos(k), Value: val})
		if n.index != nil {
			n.index[key] = len(n.entries) - 1
		}
	}
	// YAML merge keys: explicit keys win, then earlier merged maps win over later ones.
	for _, m := range merges {
		for _, e := range m.entries {
			if _, ok := n.entry(e.Key); !ok {
				// The merged value is shared, but everything downstream (Helm's values, toYaml, the values
				// ConfigMap) copies it: count it as the copy it becomes.
				if err := c.spend(y, e.Value.size()); err != nil {
					return nil, err
				}
				n.entries = append(n.entries, e)
				if n.index != nil {
					n.index[e.Key] = len(n.entries) - 1
				} else if len(n.entries) > mapIndexThreshold {
					n.reindex()
				}
			}
		}
	}
	return n, nil
}

// key returns a map key as Helm sees it: keys that YAML 1.1 reads as booleans or numbers (on, y, 0777, 1.0)
// become their printed value ("true", "511", "1"), because Helm turns values into JSON.
func (c *converter) key(k *yaml.Node) (string, error) {
	if k.Kind == yaml.AliasNode && k.Alias != nil {
		k = k.Alias
	}
	if k.Kind != yaml.ScalarNode {
		return "", c.fail(k, "map keys must be scalars")
	}
	n, err := c.scalar(k)
	if err != nil {
		return "", err
	}
	switch n.Kind {
	case Null:
		return "", c.fail(k, "a null map key is not allowed")
	case Bool, Int:
		return n.Text, nil
	case Float:
		f, _ := strconv.ParseFloat(n.Text, 64)
		return strconv.FormatFloat(f, 'g', -1, 64), nil
	}
	return n.Text, nil
}

func (c *converter) scalar(y *yaml.Node) (*Node, error) {
	n := &Node{Pos: c.pos(y), Src: y.Value, Origin: FromFile}
	if plainString(y) {
		n.Kind, n.Text = String, y.Value
		return n, nil
	}
	tag := y.ShortTag()
	switch tag {
	case "!!null":
		n.Kind = Null
	case "!!bool":
		var b bool
		if err := y.Decode(&b); err != nil {
			return nil, c.fail(y, "invalid bool %q", y.Value)
		}
		n.Kind, n.Text = Bool, strconv.FormatBool(b)
	case "!!int":
		var i int64
		// YAML 1.1 (and Helm) read a leading 0 as octal.
		if v, err := strconv.ParseInt(strings.ReplaceAll(y.Value, "_", ""), 0, 64); err == nil {
			n.Kind, n.Text = Int, strconv.FormatInt(v, 10)
			break
		}
		if err := y.Decode(&i); err == nil {
			n.Kind, n.Text = Int, strconv.FormatInt(i, 10)
			break
		}
		var u uint64
		if err := y.Decode(&u); err == nil {
			// Too big for int64: Helm reads it as float64 anyway.
			n.Kind, n.Text = Float, FormatFloat(float64(u))
			break
		}
		var f float64
		if err := y.Decode(&f); err != nil || math.IsInf(f, 0) {
			return nil, c.fail(y, "invalid integer %q", y.Value)
		}
		n.Kind, n.Text = Float, FormatFloat(f)
	case "!!float":
		var f float64
		if err := y.Decode(&f); err != nil {
			return nil, c.fail(y, "invalid number %q", y.Value)
		}
		n.Kind, n.Text = Float, FormatFloat(f)
	case "!!merge":
		// << outside a key is the text "<<", as Helm's YAML library reads it.
		n.Kind, n.Text = String, y.Value
	case "!!str", "!!timestamp", "!!binary":
		n.Kind, n.Text = String, y.Value
		// Helm reads values as YAML 1.1, where an unquoted yes, no, on, off, y or n is a boolean.
		if y.Style == 0 && tag == "!!str" {
			if b, ok := yaml11Bool(y.Value); ok {
				n.Kind, n.Text = Bool, strconv.FormatBool(b)
			}
		}
	default:
		return nil, c.fail(y, "unsupported YAML tag %s", y.Tag)
	}
	return n, nil
}

// plainString reports, without yaml.v3's resolver, that an untagged scalar is a string that is no YAML 1.1
// boolean either: a quoted scalar, or a plain one whose first byte gives yaml.v3 no hint of another type (not a
// sign, digit, '.', '~' or one of the letters y, n, t, f, o that start its bools and nulls; gopkg.in/yaml.v3
// v3.0.1, resolve.go, resolveTable). Most values are such strings; the resolver's map lookup is not free.
func plainString(y *yaml.Node) bool {
	return y.Tag == "" && y.Kind == yaml.ScalarNode && plainStringText(y.Style, y.Value)
}

// plainStringText is plainString for an untagged scalar of the given style and text.
func plainStringText(style yaml.Style, value string) bool {
	if value == "" {
		return false
	}
	if style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) != 0 {
		return true
	}
	if style != 0 {
		return false
	}
	switch value[0] {
	case '+', '-', '.', '~', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'y', 'Y', 'n', 'N', 't', 'T', 'f', 'F', 'o', 'O':
		return false
	}
	return true
}

// yaml11Bool recognises the YAML 1.1 boolean words that YAML 1.2 reads as strings.
func yaml11Bool(s string) (value, ok bool) {
	switch s {
	case "y", "Y", "yes", "Yes", "YES", "on", "On", "ON":
		return true, true
	case "n", "N", "no", "No", "NO", "off", "Off", "OFF":
		return false, true
	}
	return false, false
}
