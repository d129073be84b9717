package overlay

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"strings"

	"sigs.k8s.io/kustomize/api/builtins"
	"sigs.k8s.io/kustomize/api/konfig"
	"sigs.k8s.io/kustomize/api/types"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// The walk reads a kustomization graph the way kustomize will, before kustomize runs: every kustomization
// and every file it names, each read once from the repository and counted against the budgets each time
// kustomize would read it. It refuses what would make kustomize reach outside those files (remote URLs and
// repositories, Helm, exec, container and Go plugins, paths that leave the overlay's tree) with the position
// of the string that asks for it. What it read is all kustomize gets.

// kustomizationFields are the fields of a kustomization (types.Kustomization of kustomize api v0.21.2) that
// the walk knows: the ones that name files, directories or remotes are checked below, the others hold values
// only. A field that is not listed is refused, so that a newer kustomize cannot bring a new way to name a
// file past the walk (TestEveryKustomizationFieldIsKnown keeps the list complete).
var kustomizationFields = map[string]bool{
	// Values only.
	"apiVersion": true, "kind": true, "metadata": true, "namePrefix": true, "nameSuffix": true, "namespace": true,
	"commonLabels": true, "labels": true, "commonAnnotations": true, "images": true, "imageTags": true,
	"replicas": true, "vars": true, "sortOptions": true, "generatorOptions": true, "buildMetadata": true,
	// Files, directories or remotes: checked.
	"resources": true, "bases": true, "components": true, "crds": true, "configurations": true, "openapi": true,
	"patches": true, "patchesJson6902": true, "patchesStrategicMerge": true, "replacements": true,
	"configMapGenerator": true, "secretGenerator": true, "generators": true, "transformers": true, "validators": true,
	// Refused.
	"helmGlobals": true, "helmCharts": true, "helmChartInflationGenerator": true,
}

// kustomizationType is the struct kustomize decodes a kustomization into.
var (
	kustomizationType       = reflect.TypeFor[types.Kustomization]()
	kustomizationJSONFields = jsonFields(kustomizationType)
)

const helmRefused = "Helm chart inflation runs the helm program (and may download charts): cocogen runs no programs while rendering; render the chart into files of the repository (helm template) and list them under resources"

// functionAnnotations ask kustomize to run a KRM function (exec, container or starlark).
var functionAnnotations = []string{"config.kubernetes.io/function", "config.k8s.io/function"}

// file is a file the walk read.
type file struct {
	data []byte
	// docs are the objects of a YAML file (Lists expanded), parsed on its first read; nil for other files.
	docs []*node.Node
	// values counts the YAML values of docs, charged to the budget at every read.
	values int
	parsed bool
	// inline are the documents written inside a kustomization file (inline patches), with what moves the
	// positions of their scalars to the file (inBlock).
	inline []inlineDocs
	// scalars index the scalars of docs by line and column, and byKey by their key and value (the first
	// one), built when a position is looked up (locator).
	scalars map[[2]int]string
	byKey   map[string]srcpos.Pos
	// docsFile is the name the positions of docs carry.
	docsFile string
}

// inlineDocs are documents written inside a kustomization, and how their positions map to the file.
type inlineDocs struct {
	docs  []*node.Node
	shift func(srcpos.Pos) srcpos.Pos
}

// walker holds the state of one walk.
type walker struct {
	root *repo.Root // nil once the walk is over
	// show is how a root-relative path is shown in messages (repo.Root.Display).
	show func(rel string) string
	// top is the overlay's tree: the top-level directory of the application's path.
	top string
	opt Options
	d   diag.List
	// files are the files read, by root-relative path, and order the order of their first reading.
	files   map[string]*file
	order   []string
	reads   int
	bytes   int64
	values  int
	objects int
	// output is the estimate of the values kustomize will write (see check).
	output int
	// spent is set once a budget has run out; the walk then stops.
	spent bool
	// stats remembers what the repository said about a path (a base of three variants is looked up thrice).
	stats map[string]statResult
}

type statResult struct {
	info fs.FileInfo
	err  error
}

// statRel describes a root-relative path, asking the repository once per walk.
func (w *walker) statRel(rel string) (fs.FileInfo, error) {
	if r, ok := w.stats[rel]; ok {
		return r.info, r.err
	}
	info, err := w.root.Stat(rel)
	w.stats[rel] = statResult{info, err}
	return info, err
}

func newWalker(root *repo.Root, top string, opt Options) *walker {
	return &walker{root: root, show: root.Display, top: top, opt: opt, files: map[string]*file{}, stats: map[string]statResult{}}
}

// kfile is one kustomization being walked.
type kfile struct {
	rel    string // repository path of the kustomization file
	dir    string // its directory: paths are relative to it
	schema *schemaWalk
	start  srcpos.Pos
	// label prefixes field paths in diagnostics (the kustomization field that names a plugin configuration).
	label string
}

func (k *kfile) at(field string) srcpos.Pos { return k.schema.at(field, k.start) }

func (w *walker) display(rel string) string { return w.show(rel) }

// charge counts one read of rel (n bytes) against the budgets.
func (w *walker) charge(rel string, n int, at srcpos.Pos, field string) bool {
	if w.spent {
		return false
	}
	w.reads++
	w.bytes += int64(n)
	switch {
	case w.reads > w.opt.MaxFiles:
		w.d.Errorf(at, field, "reading %s makes this build read more than %d files (budget %s, every read of a file counted): refer to fewer files, or raise the budget", w.display(rel), w.opt.MaxFiles, BudgetFiles)
	case w.bytes > w.opt.MaxBytes:
		w.d.Errorf(at, field, "reading %s (%d bytes) makes this build read more than %d bytes (budget %s, every read of a file counted): refer to smaller files, or raise the budget", w.display(rel), n, w.opt.MaxBytes, BudgetBytes)
	default:
		return true
	}
	w.spent = true
	return false
}

// read returns the content of rel, read once from the repository and charged at every call.
func (w *walker) read(rel string, at srcpos.Pos, field string) (*file, bool) {
	if w.spent {
		return nil, false
	}
	f, ok := w.files[rel]
	if !ok {
		data, err := w.root.ReadFile(rel)
		if err != nil {
			w.d.Errorf(at, field, "%s: %v", w.display(rel), err)
			return nil, false
		}
		f = &file{data: data}
		w.files[rel] = f
		w.order = append(w.order, rel)
	}
	if !w.charge(rel, len(f.data), at, field) {
		return nil, false
	}
	return f, true
}

// limits returns the node limits for the next document: the per-document limits, with the values capped by
// what is left of the build's values budget, and whether that cap is the budget's.
func (w *walker) limits() (node.Limits, bool) {
	lim := w.opt.Node
	left := w.opt.MaxValues - w.values
	if left < 1 {
		left = 1
	}
	if lim.MaxNodes == 0 || left < lim.MaxNodes {
		lim.MaxNodes = left
		lim.NodesBudget = BudgetValues
		return lim, true
	}
	return lim, false
}

// parseErr reports a YAML error, naming the values budget when that is what ran out.
func (w *walker) parseErr(err error, byBudget bool, at srcpos.Pos, field string) {
	var ne *srcpos.Error
	if !errors.As(err, &ne) {
		w.d.Errorf(at, field, "%v", err)
		return
	}
	if byBudget && strings.Contains(ne.Msg, "budget "+BudgetValues) {
		w.d.Errorf(ne.Pos, field, "with this document the overlay's YAML expands to more than %d values (budget %s, for all kustomizations and manifests of one build, aliases counted at every use); make it smaller, or raise the budget", w.opt.MaxValues, BudgetValues)
		w.spent = true
		return
	}
	w.d.Add(diag.Diagnostic{Severity: diag.Error, Pos: ne.Pos, Path: field, Msg: ne.Msg})
}

// yamlFile reads rel as a YAML stream of objects (Lists expanded), checked against the node limits and the
// values budget before kustomize's YAML library, which expands aliases, sees it.
func (w *walker) yamlFile(rel string, at srcpos.Pos, field string) ([]*node.Node, bool) {
	f, ok := w.read(rel, at, field)
	if !ok {
		return nil, false
	}
	if !f.parsed {
		lim, byBudget := w.limits()
		docs, err := node.ParseStream(w.display(rel), f.data, lim)
		if err != nil {
			w.parseErr(err, byBudget, at, field)
			return nil, false
		}
		f.docs, f.values, f.parsed = expandLists(docs), countValues(docs), true
	}
	w.values += f.values
	if w.values > w.opt.MaxValues {
		w.d.Errorf(at, field, "reading %s again makes the overlay's YAML more than %d values (budget %s, for all kustomizations and manifests of one build, every read counted); refer to it fewer times, or raise the budget", w.display(rel), w.opt.MaxValues, BudgetValues)
		w.spent = true
		return nil, false
	}
	return f.docs, true
}

// inline parses a document written inside a kustomization (an inline patch or plugin configuration) under
// the budgets, as kustomize's YAML library would read it; problems are reported at the string. With
// maybePath, a text that is not one or more maps is no error but a path (isInline false): kustomize reads an
// entry of patchesStrategicMerge, generators, transformers and validators as inline objects when it can and
// as a path otherwise.
func (w *walker) inline(r ref, maybePath bool) (docs []*node.Node, isInline, ok bool) {
	if w.spent {
		return nil, false, false
	}
	at, field := r.at(), r.name()
	lim, byBudget := w.limits()
	docs, err := node.ParseStream(w.display(r.k.rel), []byte(r.value), lim)
	if err != nil {
		var ne *srcpos.Error
		switch {
		case errors.As(err, &ne) && byBudget && strings.Contains(ne.Msg, "expands to more than"):
			w.d.Errorf(at, field, "this inline document makes the overlay's YAML expand to more than %d values (budget %s); make it smaller, or raise the budget", w.opt.MaxValues, BudgetValues)
			w.spent = true
			return nil, true, false
		case maybePath:
			return nil, false, true
		case errors.As(err, &ne) && ne.Pos.Line > 0:
			w.d.Errorf(at, field, "line %d of the text: %s", ne.Pos.Line, ne.Msg)
		case errors.As(err, &ne):
			w.d.Errorf(at, field, "%s", ne.Msg)
		default:
			w.d.Errorf(at, field, "%v", err)
		}
		return nil, true, false
	}
	w.values += countValues(docs)
	if w.values > w.opt.MaxValues {
		w.d.Errorf(at, field, "this inline document makes the overlay's YAML more than %d values (budget %s); make it smaller, or raise the budget", w.opt.MaxValues, BudgetValues)
		w.spent = true
		return nil, true, false
	}
	if maybePath {
		if len(docs) == 0 {
			return nil, false, true
		}
		for _, d := range docs {
			if d.Kind != node.Map {
				return nil, false, true
			}
		}
	}
	if f := w.files[r.k.rel]; f != nil {
		if shift, ok := inBlock(f.data, at); ok {
			f.inline = append(f.inline, inlineDocs{docs: docs, shift: shift})
		}
	}
	return expandLists(docs), true, true
}

// inBlock returns how the positions of a document parsed from a block scalar (| or >) of a kustomization's
// data that starts at at move from lines of the text to lines of the file, and whether they can: the text
// starts on the next line, indented as that line is.
func inBlock(data []byte, at srcpos.Pos) (func(srcpos.Pos) srcpos.Pos, bool) {
	lines := bytes.Split(data, []byte("\n"))
	if at.Line < 1 || at.Line >= len(lines) || at.Col < 1 || at.Col > len(lines[at.Line-1]) {
		return nil, false
	}
	if c := lines[at.Line-1][at.Col-1]; c != '|' && c != '>' {
		return nil, false
	}
	next := lines[at.Line]
	indent := len(next) - len(bytes.TrimLeft(next, " "))
	return func(p srcpos.Pos) srcpos.Pos {
		return srcpos.Pos{File: at.File, Line: at.Line + p.Line, Col: indent + p.Col}
	}, true
}

// countValues counts the values of documents as node's limits do.
func countValues(docs []*node.Node) int {
	n := 0
	var walk func(*node.Node)
	walk = func(v *node.Node) {
		n++
		switch v.Kind {
		case node.Map:
			for _, e := range v.Entries() {
				walk(e.Value)
			}
		case node.List:
			for _, it := range v.Items() {
				walk(it)
			}
		}
	}
	for _, d := range docs {
		walk(d)
	}
	return n
}

// expandLists replaces every object whose kind ends in List and that has items by those items, as kustomize's
// resource factory does.
func expandLists(docs []*node.Node) []*node.Node {
	var out []*node.Node
	for len(docs) > 0 {
		d := docs[0]
		docs = docs[1:]
		if d.Kind == node.Map && strings.HasSuffix(d.Get("kind").Scalar(), "List") {
			if items := d.Get("items"); items != nil && (items.Kind == node.List || items.IsNull()) {
				docs = append(slices.Clone(items.Items()), docs...)
				continue
			}
		}
		out = append(out, d)
	}
	return out
}

// ref is a string of a kustomization that names something.
type ref struct {
	k     *kfile
	field string
	value string
}

func (r ref) at() srcpos.Pos { return r.k.at(r.field) }

// name is the field path shown in diagnostics.
func (r ref) name() string { return r.k.label + r.field }

// resolve checks that r names a path in the overlay's tree and returns it root-relative. It refuses remotes,
// absolute paths and paths that leave the repository or the tree.
func (w *walker) resolve(r ref) (string, bool) {
	at := r.at()
	if what := remote(r.value); what != "" {
		w.d.Errorf(at, r.name(), "%q is %s: cocogen builds overlays only from files of this repository and never fetches or clones (no network, no git, no ssh); copy what it names into the repository and refer to it by a path relative to %s", r.value, what, w.display(r.k.dir))
		return "", false
	}
	switch {
	case r.value == "":
		w.d.Errorf(at, r.name(), "is empty: name a file or directory relative to %s", w.display(r.k.dir))
		return "", false
	case strings.HasPrefix(r.value, "/"):
		w.d.Errorf(at, r.name(), "%q is an absolute path: name files of the repository relative to the kustomization's directory %s", r.value, w.display(r.k.dir))
		return "", false
	}
	joined := path.Join(r.k.dir, r.value)
	if joined == ".." || strings.HasPrefix(joined, "../") {
		w.d.Errorf(at, r.name(), "%q leaves the repository root: overlays may only use files of the repository under %s", r.value, w.topName())
		return "", false
	}
	rel, err := repo.Clean(joined)
	if err != nil {
		w.d.Errorf(at, r.name(), "%q: %v", r.value, err)
		return "", false
	}
	if w.top != "." && rel != w.top && !strings.HasPrefix(rel, w.top+"/") {
		w.d.Errorf(at, r.name(), "%q leaves %s (it resolves to %s): an overlay may only use files under the top-level directory of the application's path; move what it names there", r.value, w.topName(), w.display(rel))
		return "", false
	}
	return rel, true
}

func (w *walker) topName() string {
	if w.top == "." {
		return "the repository root"
	}
	return w.display(w.top) + "/"
}

// stat describes rel, reporting what is wrong with it.
func (w *walker) stat(r ref, rel string) (fs.FileInfo, bool) {
	st, err := w.statRel(rel)
	switch {
	case err == nil:
		return st, true
	case errors.Is(err, repo.ErrOutside):
		w.d.Errorf(r.at(), r.name(), "%q is, or passes through, a symbolic link that leaves the repository root: overlays may only use files of the repository", r.value)
	case errors.Is(err, fs.ErrNotExist):
		w.d.Errorf(r.at(), r.name(), "%q does not exist (looked for %s)", r.value, w.display(rel))
	default:
		w.d.Errorf(r.at(), r.name(), "%q: %v", r.value, err)
	}
	return nil, false
}

// below reports whether rel is dir or below it.
func below(rel, dir string) bool {
	return dir == "." || rel == dir || strings.HasPrefix(rel, dir+"/")
}

// localFile checks that r names a regular file in or below its kustomization's directory (kustomize's
// load restriction for files) and returns it.
func (w *walker) localFile(r ref) (string, bool) {
	rel, ok := w.resolve(r)
	if !ok {
		return "", false
	}
	if !below(rel, r.k.dir) || rel == r.k.dir {
		w.d.Errorf(r.at(), r.name(), "%q is not in or below %s: kustomize reads files only from the kustomization's own directory; refer to a kustomization directory instead, or move the file", r.value, w.display(r.k.dir))
		return "", false
	}
	st, ok := w.stat(r, rel)
	if !ok {
		return "", false
	}
	if !st.Mode().IsRegular() {
		w.d.Errorf(r.at(), r.name(), "%q is not a regular file", r.value)
		return "", false
	}
	return rel, true
}

// kustomizationFile finds the kustomization file of dir as kustomize does: exactly one of its names.
func (w *walker) kustomizationFile(dir string, at srcpos.Pos, field string) (string, bool) {
	var found []string
	for _, name := range konfig.RecognizedKustomizationFileNames() {
		rel := path.Join(dir, name)
		st, err := w.statRel(rel)
		switch {
		case err == nil && st.Mode().IsRegular():
			found = append(found, rel)
		case errors.Is(err, repo.ErrOutside):
			w.d.Errorf(at, field, "%s is a symbolic link that leaves the repository root", w.display(rel))
			return "", false
		}
	}
	switch len(found) {
	case 0:
		w.d.Errorf(at, field, "%s has no kustomization (%s)", w.display(dir), strings.Join(konfig.RecognizedKustomizationFileNames(), ", "))
		return "", false
	case 1:
		return found[0], true
	}
	w.d.Errorf(at, field, "%s has more than one kustomization file (%s): kustomize refuses that; keep one", w.display(dir), strings.Join(found, ", "))
	return "", false
}

// visit walks the kustomization in dir and returns the number of objects it adds to a build. chain holds
// the directories of the kustomizations that led here (kustomize refuses a reference to one of them or to a
// directory above them: a cycle); inherited is the number of objects a component's transformations also
// reach (those its parent accumulated before it).
func (w *walker) visit(dir string, chain []string, at srcpos.Pos, field string, inherited int) int {
	if w.spent {
		return 0
	}
	rel, ok := w.kustomizationFile(dir, at, field)
	if !ok {
		return 0
	}
	f, ok := w.read(rel, at, field)
	if !ok {
		return 0
	}
	lim, byBudget := w.limits()
	tree, err := node.Parse(w.display(rel), f.data, lim)
	if err != nil {
		var ne *srcpos.Error
		if errors.As(err, &ne) && strings.HasPrefix(ne.Msg, "more than one YAML document") {
			ne.Msg = "more than one YAML document: a kustomization is one document"
		}
		w.parseErr(err, byBudget, at, field)
		return 0
	}
	docValues := countValues([]*node.Node{tree})
	w.values += docValues
	k := &kfile{rel: rel, dir: dir, start: srcpos.Pos{File: w.display(rel), Line: 1, Col: 1}}
	if tree.Kind != node.Null {
		k.start = tree.Pos
	}
	var sd diag.List
	k.schema = newSchemaWalk(&sd, "kustomization", true)
	k.schema.walk(tree, kustomizationType, "")
	for _, e := range tree.Entries() {
		if f, ok := matchField(kustomizationJSONFields, e.Key); ok && !kustomizationFields[f.name] {
			sd.Errorf(e.KeyPos, f.name, "cocogen does not know this field of the kustomize it was built with, and cannot tell whether it names files or remotes: remove it")
		}
	}
	w.d.Append(&sd)
	if sd.HasErrors() {
		return 0
	}
	var kz types.Kustomization
	if err := kz.Unmarshal(f.data); err != nil {
		w.d.Errorf(k.start, "", "kustomize cannot read this kustomization: %v", err)
		return 0
	}
	// The lists of what the kustomization builds on are no transformation.
	for _, e := range tree.Entries() {
		if f, ok := matchField(kustomizationJSONFields, e.Key); ok && inputFields[f.name] {
			docValues -= countValues([]*node.Node{e.Value})
		}
	}
	return w.check(k, &kz, append(chain[:len(chain):len(chain)], dir), docValues, inherited)
}

// inputFields name what a kustomization builds on or how; their values reach no object.
var inputFields = map[string]bool{
	"apiVersion": true, "kind": true, "metadata": true, "resources": true, "bases": true, "components": true,
	"crds": true, "configurations": true, "openapi": true, "buildMetadata": true, "sortOptions": true,
	"generators": true, "generatorOptions": true, "configMapGenerator": true, "secretGenerator": true,
}

// check checks the fields of a decoded kustomization, walks what they name and returns the number of objects
// the kustomization adds to a build.
//
// It also estimates what kustomize will write: the kustomization's patches, labels, replacements and
// transformer configurations (its own values and those of the files other than resources that it names) may
// reach every object it accumulates, so their product is charged to the output budget. Without it, a patch
// of a few thousand values applied to a thousand small objects passes every input budget and makes kustomize
// write millions of values (gigabytes).
func (w *walker) check(k *kfile, kz *types.Kustomization, chain []string, docValues, inherited int) int {
	objects := len(kz.ConfigMapGenerator) + len(kz.SecretGenerator)
	for _, h := range []struct {
		field string
		set   bool
	}{{"helmCharts", len(kz.HelmCharts) > 0}, {"helmChartInflationGenerator", len(kz.HelmChartInflationGenerator) > 0}, {"helmGlobals", kz.HelmGlobals != nil}} {
		if h.set {
			w.d.Errorf(k.schema.key(h.field, k.start), h.field, "%s", helmRefused)
		}
	}
	if ns := kz.Namespace; ns != "" {
		if msg := namespaceProblem(ns); msg != "" {
			w.d.Errorf(k.at("namespace"), "namespace", "%q %s", ns, msg)
		}
	}
	for _, f := range []struct{ field, value string }{{"namePrefix", kz.NamePrefix}, {"nameSuffix", kz.NameSuffix}} {
		if msg := affixProblem(f.value); msg != "" {
			w.d.Errorf(k.at(f.field), f.field, "%q %s", f.value, msg)
		}
	}
	for _, l := range []struct {
		field string
		refs  []string
	}{{"resources", kz.Resources}, {"bases", kz.Bases}} {
		for i, r := range l.refs {
			objects += w.resource(ref{k, fieldName(l.field, i), r}, chain)
		}
	}
	for i, c := range kz.Components {
		r := ref{k, fieldName("components", i), c}
		if rel, ok := w.resolve(r); ok {
			if st, ok := w.stat(r, rel); ok {
				if !st.IsDir() {
					w.d.Errorf(r.at(), r.name(), "%q is not a directory: a component is a directory with a kustomization of kind Component", r.value)
					continue
				}
				objects += w.dir(r, rel, chain, inherited+objects)
			}
		}
	}
	for _, l := range []struct {
		field string
		refs  []string
	}{{"crds", kz.Crds}, {"configurations", kz.Configurations}} {
		for i, p := range l.refs {
			w.yamlRef(ref{k, fieldName(l.field, i), p})
		}
	}
	if p, ok := kz.OpenAPI["path"]; ok {
		w.yamlRef(ref{k, "openapi.path", p})
	}
	// What follows may reach every object: count its values.
	before := w.values
	for _, l := range []struct {
		field   string
		patches []types.Patch
	}{{"patches", kz.Patches}, {"patchesJson6902", kz.PatchesJson6902}} {
		for i, p := range l.patches {
			f := fieldName(l.field, i)
			if p.Path != "" {
				w.yamlRef(ref{k, f + ".path", p.Path})
			}
			if p.Patch != "" {
				w.inline(ref{k, f + ".patch", p.Patch}, false)
			}
		}
	}
	for i, p := range kz.PatchesStrategicMerge {
		w.inlineOrFile(ref{k, fieldName("patchesStrategicMerge", i), string(p)})
	}
	for i, r := range kz.Replacements {
		if r.Path != "" {
			w.yamlRef(ref{k, fieldName("replacements", i) + ".path", r.Path})
		}
	}
	for i, g := range kz.ConfigMapGenerator {
		w.kvSources(k, fieldName("configMapGenerator", i), g.KvPairSources)
	}
	for i, g := range kz.SecretGenerator {
		w.kvSources(k, fieldName("secretGenerator", i), g.KvPairSources)
	}
	for _, l := range []struct {
		field   string
		entries []string
	}{{"generators", kz.Generators}, {"transformers", kz.Transformers}, {"validators", kz.Validators}} {
		for i, e := range l.entries {
			n := w.plugins(ref{k, fieldName(l.field, i), e})
			if l.field == "generators" {
				objects += n
			}
		}
	}
	if w.spent {
		return objects
	}
	transform := max(docValues, 0) + w.values - before
	reach := inherited + objects
	w.output += reach * transform
	if w.output > w.opt.MaxOutputValues {
		w.d.Errorf(k.start, "", "kustomize may apply this kustomization's patches and transformations (%d values, with the files they name) to %d objects, which takes the build past %d values written (budget %s, estimated before kustomize runs as objects times the values that may reach them): give the patches targets in a smaller kustomization, or raise the budget", transform, reach, w.opt.MaxOutputValues, BudgetOutput)
		w.spent = true
	}
	return objects
}

// resource walks an entry of resources (or bases): a file of objects in or below the kustomization's
// directory, or a kustomization directory in the overlay's tree.
func (w *walker) resource(r ref, chain []string) int {
	rel, ok := w.resolve(r)
	if !ok {
		return 0
	}
	st, ok := w.stat(r, rel)
	if !ok {
		return 0
	}
	if st.IsDir() {
		return w.dir(r, rel, chain, 0)
	}
	if !below(rel, r.k.dir) {
		w.d.Errorf(r.at(), r.name(), "%q is a file outside %s: kustomize reads files only from the kustomization's own directory; list the directory of its kustomization instead, or move the file", r.value, w.display(r.k.dir))
		return 0
	}
	if !st.Mode().IsRegular() {
		w.d.Errorf(r.at(), r.name(), "%q is not a regular file", r.value)
		return 0
	}
	docs, ok := w.yamlFile(rel, r.at(), r.name())
	if !ok {
		return 0
	}
	w.objects += len(docs)
	if w.objects > w.opt.MaxObjects {
		w.d.Errorf(r.at(), r.name(), "%s makes this build read more than %d objects (budget %s, every read of a file counted): split the overlay, or raise the budget", w.display(rel), w.opt.MaxObjects, BudgetObjects)
		w.spent = true
		return 0
	}
	for _, d := range docs {
		checkNames(&w.d, d)
	}
	return len(docs)
}

// dir walks a kustomization directory that r names, refusing cycles as kustomize does, and returns the
// number of objects it adds.
func (w *walker) dir(r ref, rel string, chain []string, inherited int) int {
	for _, c := range chain {
		if below(c, rel) {
			w.d.Errorf(r.at(), r.name(), "%q is %s or a directory above it: a cycle (kustomize refuses it)", r.value, w.display(c))
			return 0
		}
	}
	return w.visit(rel, chain, r.at(), r.name(), inherited)
}

// yamlRef reads a YAML file that r names (a patch, CRD, configuration, replacement or schema).
func (w *walker) yamlRef(r ref) {
	if rel, ok := w.localFile(r); ok {
		w.yamlFile(rel, r.at(), r.name())
	}
}

// inlineOrFile handles a string that kustomize reads as inline objects when it can and as a path otherwise
// (patchesStrategicMerge). It returns the objects.
func (w *walker) inlineOrFile(r ref) ([]*node.Node, bool) {
	if what := remote(r.value); what != "" {
		w.resolve(r) // reports it
		return nil, false
	}
	docs, isInline, ok := w.inline(r, true)
	if !ok || isInline {
		return docs, ok
	}
	rel, ok := w.localFile(r)
	if !ok {
		return nil, false
	}
	return w.yamlFile(rel, r.at(), r.name())
}

// kvSources reads the files of a ConfigMap or Secret generator (raw data, not YAML).
func (w *walker) kvSources(k *kfile, field string, kv types.KvPairSources) {
	data := func(r ref) {
		if rel, ok := w.localFile(r); ok {
			w.read(rel, r.at(), r.name())
		}
	}
	for i, s := range kv.FileSources {
		r := ref{k, fieldName(joinField(field, "files"), i), s}
		if what := remote(s); what != "" {
			w.resolve(r)
			continue
		}
		// [key=]path, as kustomize splits it; a malformed entry is kustomize's to report.
		if key, p, ok := strings.Cut(s, "="); ok && key != "" && p != "" && !strings.Contains(p, "=") {
			r.value = p
		}
		data(r)
	}
	for i, s := range kv.EnvSources {
		data(ref{k, fieldName(joinField(field, "envs"), i), s})
	}
	if kv.EnvSource != "" {
		data(ref{k, joinField(field, "env"), kv.EnvSource})
	}
}

// plugins walks an entry of generators, transformers or validators: inline plugin configurations or a file
// of them. A directory (a kustomization whose output would be the configurations) is refused: its output is
// only known after kustomize has run.
func (w *walker) plugins(r ref) int {
	if what := remote(r.value); what != "" {
		w.resolve(r)
		return 0
	}
	docs, inline, ok := w.inline(r, true)
	if !ok {
		return 0
	}
	if !inline {
		rel, resolved := w.resolve(r)
		if !resolved {
			return 0
		}
		st, exists := w.stat(r, rel)
		if !exists {
			return 0
		}
		if st.IsDir() {
			w.d.Errorf(r.at(), r.name(), "%q is a directory: cocogen checks plugin configurations before kustomize runs, which it cannot do for a kustomization's output; name a file of configurations (or write them inline) instead", r.value)
			return 0
		}
		if rel, ok = w.localFile(r); !ok {
			return 0
		}
		docs, ok = w.yamlFile(rel, r.at(), r.name())
	}
	if !ok {
		return 0
	}
	for _, d := range docs {
		w.plugin(r, d, inline)
	}
	return len(docs)
}

// plugin checks one plugin configuration: only kustomize's builtin plugins run in process; anything else
// would run a program (an exec or Go plugin, or a KRM function in a container, exec or starlark). The files
// a builtin's configuration names are relative to the kustomization that lists it.
//
// The positions of an inline configuration are those of the text inside the kustomization's string: its
// problems are reported at the string, with the line within the text.
func (w *walker) plugin(r ref, cfg *node.Node, inline bool) {
	where := r.at()
	pk := &kfile{rel: r.k.rel, dir: r.k.dir, start: where, label: r.name() + " ", schema: newSchemaWalk(&diag.List{}, "", false)}
	errorf := func(n *node.Node, format string, args ...any) {
		p, prefix := n.PosOr(cfg.PosOr(where)), ""
		if inline {
			if p.Line > 0 {
				prefix = fmt.Sprintf("line %d of the inline configuration: ", p.Line)
			}
			p = where
		}
		w.d.Errorf(p, r.name(), "%s%s", prefix, fmt.Sprintf(format, args...))
	}
	if cfg.Kind != node.Map {
		errorf(cfg, "a plugin configuration must be a map, not a %s", cfg.Kind)
		return
	}
	ann := cfg.Path("metadata", "annotations")
	for _, key := range functionAnnotations {
		if v := ann.Get(key); v != nil {
			errorf(v, "%s asks kustomize to run a KRM function (a container, an executable or a starlark script): cocogen runs no programs while rendering; use a builtin generator or transformer (apiVersion: builtin), or commit the function's output and list it under resources", key)
			return
		}
	}
	kind := cfg.Get("kind").Scalar()
	if av := cfg.Get("apiVersion"); av.Scalar() != konfig.BuiltinPluginApiVersion {
		errorf(av, "%s (apiVersion %q) is not one of kustomize's builtin plugins, so kustomize would run it as an exec or Go plugin: cocogen runs no programs while rendering; use a builtin generator or transformer (apiVersion: builtin)", kind, av.Scalar())
		return
	}
	// decode reads the configuration into the builtin's own struct, as the builtin does (keys without regard
	// to case, unknown keys ignored), after the schema walk has refused keys given twice.
	decode := func(into any) bool {
		var sd diag.List
		s := newSchemaWalk(&sd, "plugin configuration", false)
		s.walk(cfg, reflect.TypeOf(into).Elem(), "")
		for _, it := range sd.Sorted() {
			msg := it.Msg
			if it.Path != "" {
				msg = it.Path + ": " + msg
			}
			errorf(&node.Node{Pos: it.Pos}, "%s", msg)
		}
		if sd.HasErrors() {
			return false
		}
		if !inline {
			pk.schema, pk.start = s, cfg.Pos
		}
		var buf bytes.Buffer
		if err := node.EncodeJSON(&buf, cfg, 0); err != nil {
			errorf(cfg, "%v", err)
			return false
		}
		if err := json.Unmarshal(buf.Bytes(), into); err != nil {
			errorf(cfg, "kustomize cannot read this %s configuration: %v", kind, err)
			return false
		}
		return true
	}
	switch kind {
	case "HelmChartInflationGenerator":
		errorf(cfg.Get("kind"), "%s", helmRefused)
	case "ConfigMapGenerator":
		var p builtins.ConfigMapGeneratorPlugin
		if decode(&p) {
			w.kvSources(pk, "", p.KvPairSources)
		}
	case "SecretGenerator":
		var p builtins.SecretGeneratorPlugin
		if decode(&p) {
			w.kvSources(pk, "", p.KvPairSources)
		}
	case "PatchTransformer":
		var p builtins.PatchTransformerPlugin
		if decode(&p) && p.Path != "" {
			w.yamlRef(ref{pk, "path", p.Path})
		}
	case "PatchJson6902Transformer":
		var p builtins.PatchJson6902TransformerPlugin
		if decode(&p) && p.Path != "" {
			w.yamlRef(ref{pk, "path", p.Path})
		}
	case "PatchStrategicMergeTransformer":
		var p builtins.PatchStrategicMergeTransformerPlugin
		if decode(&p) {
			for i, s := range p.Paths {
				w.inlineOrFile(ref{pk, fieldName("paths", i), string(s)})
			}
		}
	case "ReplacementTransformer":
		var p builtins.ReplacementTransformerPlugin
		if decode(&p) {
			for i, rf := range p.ReplacementList {
				if rf.Path != "" {
					w.yamlRef(ref{pk, fieldName("replacements", i) + ".path", rf.Path})
				}
			}
		}
	case "ValueAddTransformer":
		var p builtins.ValueAddTransformerPlugin
		if decode(&p) && p.TargetFilePath != "" {
			w.yamlRef(ref{pk, "targetFilePath", p.TargetFilePath})
		}
	default:
		if !slices.Contains(inertBuiltins, kind) {
			errorf(cfg.Get("kind"), "%q is not a builtin plugin of kustomize (builtins: %s)", kind, strings.Join(allBuiltins(), ", "))
		}
	}
}

// inertBuiltins are the builtin plugins that read no files.
var inertBuiltins = []string{
	"AnnotationsTransformer", "HashTransformer", "IAMPolicyGenerator", "ImageTagTransformer", "LabelTransformer",
	"NamespaceTransformer", "PrefixSuffixTransformer", "PrefixTransformer", "SuffixTransformer",
	"ReplicaCountTransformer",
}

// fileBuiltins are the builtin plugins whose configuration names files (checked in plugin), and Helm.
var fileBuiltins = []string{
	"ConfigMapGenerator", "SecretGenerator", "PatchTransformer", "PatchJson6902Transformer",
	"PatchStrategicMergeTransformer", "ReplacementTransformer", "ValueAddTransformer", "HelmChartInflationGenerator",
}

func allBuiltins() []string {
	out := slices.Concat(inertBuiltins, fileBuiltins)
	slices.Sort(out)
	return out
}
