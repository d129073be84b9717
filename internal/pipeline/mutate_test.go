package pipeline

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

// This file holds what the null table test and the fuzz target share: repositories held in memory
// (fstest.MapFS), a list of every value path of their values files, and mutations that replace, retype or
// drop the value at one path, or add a --set of it, chosen deterministically from bytes so that every failure
// can be reproduced from its input.

// mutTree is a repository to render, held in memory.
type mutTree struct {
	name  string
	files fstest.MapFS
	// valueFiles are the YAML files that mutations change, in a fixed order; the metadata file (if any) last.
	valueFiles []string
	valuesDir  string // root-relative
	// metadata is the root-relative metadata file passed as Request.Metadata ("" when the values directory's
	// cluster-metadata.yaml, if any, is read by Render itself).
	metadata   string
	sets       []string
	setStrings []string
	all        bool
}

// smallVPGlobal and smallVPHub are a minimal Validated Patterns repository (values at the root), the shape of
// the three crashers that issue 11 reported.
// The group file adds, after the clusterGroup, the blocks its other two crashers set to null.
const (
	smallVPGlobal = "main:\n  clusterGroupName: hub\n"
	smallVPHub    = "clusterGroup:\n  name: hub\n  namespaces: [a]\n  applications: {}\n" +
		"  imperative:\n    jobs: []\n  argoCD:\n    configManagementPlugins: []\nglobal:\n  pattern: small\n"
)

// Fuzz trees, by index. The index is part of every fuzz input: append, never reorder.
var mutTreeNames = []string{"builtin", "vp-small", "applications-multi-source", "applications-single-source",
	"argocd-instance", "core-extras", "imperative-jobs", "namespaces-map", "subscriptions-list", "value-layering",
	"variants-layout"}

var (
	mutTreesOnce sync.Once
	mutTrees     map[string]*mutTree
	mutTreesErr  error
)

// loadMutTree returns a tree by name: the built-in pattern (values/, policies/, overlays/ of this
// repository), the small VP repository, or a golden case's repo/ with its case.yaml.
func loadMutTree(tb testing.TB, name string) *mutTree {
	tb.Helper()
	mutTreesOnce.Do(func() { mutTrees, mutTreesErr = readMutTrees() })
	if mutTreesErr != nil {
		tb.Fatal(mutTreesErr)
	}
	t, ok := mutTrees[name]
	if !ok {
		tb.Fatalf("no tree %q", name)
	}
	return t
}

func readMutTrees() (map[string]*mutTree, error) {
	out := map[string]*mutTree{}
	// The built-in pattern, rendered as `cocogen render --all` renders it.
	b := &mutTree{name: "builtin", files: fstest.MapFS{}, valuesDir: "values", all: true,
		valueFiles: []string{"values/values-global.yaml", "values/values-azure.yaml", "values/cluster-metadata.yaml"}}
	for _, dir := range []string{"values", "policies", "overlays"} {
		if err := copyInto(b.files, filepath.Join("..", "..", dir), dir); err != nil {
			return nil, err
		}
	}
	out[b.name] = b
	out["vp-small"] = &mutTree{name: "vp-small", valuesDir: ".", files: fstest.MapFS{
		"values-global.yaml": {Data: []byte(smallVPGlobal)},
		"values-hub.yaml":    {Data: []byte(smallVPHub)},
	}, valueFiles: []string{"values-global.yaml", "values-hub.yaml"}}
	for _, name := range mutTreeNames[2:] {
		dir := filepath.Join("testdata", "render", name)
		c := &mutTree{name: name, files: fstest.MapFS{}, valuesDir: "."}
		if err := copyInto(c.files, filepath.Join(dir, "repo"), ""); err != nil {
			return nil, err
		}
		data, err := os.ReadFile(filepath.Join(dir, "case.yaml"))
		if err != nil {
			return nil, err
		}
		cn, err := node.Parse("case.yaml", data, node.DefaultLimits)
		if err != nil {
			return nil, err
		}
		if v := cn.Get("valuesDir").Scalar(); v != "" {
			c.valuesDir = v
		}
		c.metadata = cn.Get("metadata").Scalar()
		for _, it := range cn.Get("sets").Items() {
			c.sets = append(c.sets, it.Text)
		}
		for _, it := range cn.Get("setStrings").Items() {
			c.setStrings = append(c.setStrings, it.Text)
		}
		c.all = cn.Get("all").Scalar() == "true"
		for p := range c.files {
			if strings.HasSuffix(p, ".yaml") && p != c.metadata {
				c.valueFiles = append(c.valueFiles, p)
			}
		}
		slices.Sort(c.valueFiles)
		if c.metadata != "" {
			c.valueFiles = append(c.valueFiles, c.metadata)
		}
		out[name] = c
	}
	return out, nil
}

// copyInto reads the files under dir into m, under prefix.
func copyInto(m fstest.MapFS, dir, prefix string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		m[path.Join(prefix, filepath.ToSlash(rel))] = &fstest.MapFile{Data: data}
		return nil
	})
}

// target is one value of one values file: the file's root (an empty path) or a value inside it.
type target struct {
	file int
	path helmvalues.Path
}

func (t target) String(tr *mutTree) string {
	if len(t.path) == 0 {
		return tr.valueFiles[t.file] + ":<root>"
	}
	return tr.valueFiles[t.file] + ":" + t.path.String()
}

// isMetadata tells whether the target's file is the metadata file (its paths are not values paths).
func (t target) isMetadata(tr *mutTree) bool {
	f := tr.valueFiles[t.file]
	return f == tr.metadata || path.Base(f) == "cluster-metadata.yaml"
}

// mutState is a tree being mutated: its parsed values files (nil for a file that is empty or absent) and the
// extra --set arguments.
type mutState struct {
	tree    *mutTree
	docs    []*node.Node
	changed []bool
	removed []bool
	sets    []string
	strs    []string
	ops     []string // what was done, for messages
}

func newMutState(tb testing.TB, tr *mutTree) *mutState {
	s := &mutState{tree: tr, docs: make([]*node.Node, len(tr.valueFiles)), changed: make([]bool, len(tr.valueFiles)), removed: make([]bool, len(tr.valueFiles))}
	for i, f := range tr.valueFiles {
		n, err := node.Parse(f, tr.files[f].Data, node.DefaultLimits)
		if err != nil {
			tb.Fatalf("%s: %v", f, err)
		}
		s.docs[i] = n
	}
	return s
}

// targets lists every value of every file, depth first, in file order.
func (s *mutState) targets() []target {
	var out []target
	for i, d := range s.docs {
		if s.removed[i] {
			continue
		}
		var walk func(n *node.Node, p helmvalues.Path)
		walk = func(n *node.Node, p helmvalues.Path) {
			out = append(out, target{file: i, path: slices.Clip(p)})
			switch {
			case n == nil:
			case n.Kind == node.Map:
				for _, e := range n.Entries() {
					walk(e.Value, append(slices.Clip(p), helmvalues.Step{Key: e.Key}))
				}
			case n.Kind == node.List:
				for j, it := range n.Items() {
					walk(it, append(slices.Clip(p), helmvalues.Step{Index: j, IsIndex: true}))
				}
			}
		}
		walk(d, nil)
	}
	return out
}

// The kinds of mutation. Their numbers are part of the fuzz inputs: append, never reorder.
const (
	mutNull       = iota // the value becomes null (an empty file for a file's root)
	mutEmptyMap          // {}
	mutEmptyList         // []
	mutEmptyStr          // ""
	mutInt               // 7
	mutFloat             // 1.5
	mutTrue              // true
	mutFalse             // false
	mutString            // "x"
	mutSwap              // a map becomes the list of its values, a list a map of item0, item1, …; a scalar a one-item list
	mutDrop              // the key (or list item) is removed; a file's root: the file is deleted
	mutSetNull           // --set <path>=null
	mutSetEmpty          // --set-string <path>= (an empty string)
	mutSetList           // --set <path>={} (an empty list, as Helm reads it)
	mutSetChild          // --set <path>.x=null: a deletion below a value that may not be a map
	mutSetDefault        // --set <key>=null of a key of the chart defaults (the index picks among them)
	mutKinds
)

var mutNames = [...]string{"null", "{}", "[]", `""`, "7", "1.5", "true", "false", `"x"`, "swap", "drop",
	"--set =null", "--set-string =", "--set ={}", "--set .x=null", "--set <default>=null"}

// maxOps bounds the mutations one fuzz input makes.
const maxOps = 6

// applyOps performs the mutations that ops encode, three bytes each: a big-endian index into the targets of
// the tree as mutated so far (or, for mutSetDefault, into the keys of the chart defaults) and a kind.
func (s *mutState) applyOps(ops []byte) {
	for i := 0; i+3 <= len(ops) && i < 3*maxOps; i += 3 {
		idx, kind := int(ops[i])<<8|int(ops[i+1]), int(ops[i+2])%mutKinds
		if kind == mutSetDefault {
			dp := defaultPaths()
			p := dp[idx%len(dp)].String()
			s.sets = append(s.sets, p+"=null")
			s.ops = append(s.ops, "--set "+p+"=null")
			continue
		}
		tg := s.targets()
		if len(tg) == 0 {
			continue
		}
		s.apply(tg[idx%len(tg)], kind)
	}
}

// opsFor encodes mutations of named targets (as target.String prints them) for seeds.
func opsFor(tb testing.TB, tr *mutTree, muts ...any) []byte {
	tb.Helper()
	s := newMutState(tb, tr)
	var out []byte
	for i := 0; i+1 < len(muts); i += 2 {
		name, kind := muts[i].(string), muts[i+1].(int)
		idx := -1
		if kind == mutSetDefault {
			for j, p := range defaultPaths() {
				if p.String() == name {
					idx = j
				}
			}
		} else {
			for j, tg := range s.targets() {
				if tg.String(tr) == name {
					idx = j
				}
			}
		}
		if idx < 0 {
			tb.Fatalf("%s: no target %s", tr.name, name)
		}
		op := []byte{byte(idx >> 8), byte(idx), byte(kind)}
		s.applyOps(op)
		out = append(out, op...)
	}
	return out
}

// apply performs one mutation.
func (s *mutState) apply(t target, kind int) {
	s.ops = append(s.ops, t.String(s.tree)+" "+mutNames[kind])
	if kind >= mutSetNull && !t.isMetadata(s.tree) && len(t.path) > 0 {
		p := t.path.String()
		switch kind {
		case mutSetNull:
			s.sets = append(s.sets, p+"=null")
		case mutSetEmpty:
			s.strs = append(s.strs, p+"=")
		case mutSetList:
			s.sets = append(s.sets, p+"={}")
		case mutSetChild:
			s.sets = append(s.sets, p+".x=null")
		}
		return
	}
	if kind >= mutSetNull {
		kind = mutNull // a --set of a metadata key or of a whole file: null instead
	}
	i := t.file
	s.changed[i] = true
	if kind == mutDrop {
		if len(t.path) == 0 {
			s.removed[i] = true
			return
		}
		s.docs[i] = dropPath(s.docs[i], t.path)
		return
	}
	cur := s.docs[i]
	for _, st := range t.path {
		if st.IsIndex {
			cur = cur.Items()[st.Index]
		} else {
			cur = cur.Get(st.Key)
		}
	}
	v := replacement(cur, kind)
	if len(t.path) == 0 {
		s.docs[i] = v
		return
	}
	s.docs[i] = helmvalues.SetPath(s.docs[i], t.path, v)
}

func replacement(cur *node.Node, kind int) *node.Node {
	switch kind {
	case mutEmptyMap:
		return node.NewMap()
	case mutEmptyList:
		return node.NewList()
	case mutEmptyStr:
		return node.NewString("")
	case mutInt:
		return node.NewInt(7)
	case mutFloat:
		return node.NewFloat(1.5)
	case mutTrue:
		return node.NewBool(true)
	case mutFalse:
		return node.NewBool(false)
	case mutString:
		return node.NewString("x")
	case mutSwap:
		switch {
		case cur != nil && cur.Kind == node.Map:
			l := node.NewList()
			for _, e := range cur.Entries() {
				l.Append(e.Value)
			}
			return l
		case cur != nil && cur.Kind == node.List:
			m := node.NewMap()
			for j, it := range cur.Items() {
				m.Set(fmt.Sprintf("item%d", j), it)
			}
			return m
		case cur.IsNull():
			return node.NewMap()
		}
		return node.NewList(cur)
	}
	return node.NewNull()
}

// dropPath returns a copy of root without the key or list item at p.
func dropPath(root *node.Node, p helmvalues.Path) *node.Node {
	parent := p[:len(p)-1]
	last := p[len(p)-1]
	cur := root
	for _, st := range parent {
		if st.IsIndex {
			cur = cur.Items()[st.Index]
		} else {
			cur = cur.Get(st.Key)
		}
	}
	var next *node.Node
	if last.IsIndex {
		next = node.NewList()
		for j, it := range cur.Items() {
			if j != last.Index {
				next.Append(it)
			}
		}
	} else {
		next = node.NewMap()
		for _, e := range cur.Entries() {
			if e.Key != last.Key {
				next.SetAt(e.Key, e.KeyPos, e.Value)
			}
		}
	}
	if len(parent) == 0 {
		return next
	}
	return helmvalues.SetPath(root, parent, next)
}

// write puts the tree, mutated, into dir and returns the request that renders it.
func (s *mutState) write(tb testing.TB, dir string) Request {
	tb.Helper()
	tr := s.tree
	for name, f := range tr.files {
		data := f.Data
		if i := slices.Index(tr.valueFiles, name); i >= 0 && s.changed[i] {
			if s.removed[i] {
				continue
			}
			data = encodeDoc(s.docs[i])
		}
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	req := disk(tb, dir, filepath.Join(dir, filepath.FromSlash(tr.valuesDir)), Request{
		Sets:       append(slices.Clone(tr.sets), s.sets...),
		SetStrings: append(slices.Clone(tr.setStrings), s.strs...),
		All:        tr.all,
	})
	if tr.metadata != "" {
		i := slices.Index(tr.valueFiles, tr.metadata)
		req.Metadata, req.MetadataName, req.MetadataFile = []byte{}, tr.metadata, tr.metadata
		if !s.removed[i] {
			data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(tr.metadata)))
			if err != nil {
				tb.Fatal(err)
			}
			req.Metadata = data
		}
	}
	return req
}

// encodeDoc writes a values document; null is an empty file.
func encodeDoc(n *node.Node) []byte {
	if n.IsNull() {
		return nil
	}
	var buf bytes.Buffer
	node.EncodeYAML(&buf, n)
	return buf.Bytes()
}

// checkRender renders req and reports what a user must never see: a panic, an error that is not a
// diagnostic (exit 2 for bad input), an error diagnostic without a file, or (twice: a successful render is
// repeated) output that differs between runs. It reports whether the render succeeded.
func checkRender(t *testing.T, req Request, what string, twice bool) (ok bool) {
	t.Helper()
	res, err := renderNoPanic(t, req, what)
	if errors.Is(err, errPanicked) {
		return false
	}
	if err != nil {
		var de *diag.Diagnostics
		if !errors.As(err, &de) {
			t.Errorf("%s: internal error (exit 2) for bad input: %v", what, err)
			return false
		}
		errs := 0
		for _, d := range de.Items {
			if d.Severity != diag.Error {
				continue
			}
			errs++
			if d.Pos.File == "" {
				t.Errorf("%s: error without a position: %s", what, d)
			}
		}
		if errs == 0 {
			t.Errorf("%s: Render failed without an error diagnostic: %v", what, err)
		}
		return false
	}
	if !twice {
		return true
	}
	var a, b bytes.Buffer
	manifest.EncodeYAML(&a, res.Objects)
	res2, err := renderNoPanic(t, req, what)
	if err != nil {
		t.Errorf("%s: the second render failed: %v", what, err)
		return true
	}
	manifest.EncodeYAML(&b, res2.Objects)
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Errorf("%s: two renders of the same input differ:\n%s", what, lineDiff(a.String(), b.String()))
	}
	return true
}

// errPanicked stands for a render that panicked (already reported).
var errPanicked = errors.New("panicked")

func renderNoPanic(t *testing.T, req Request, what string) (res *Result, err error) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%s: panic: %v\n%s", what, r, debug.Stack())
			res, err = nil, errPanicked
		}
	}()
	return Render(req)
}
