// Package overlay builds kustomize overlays of the repository in-process with the kustomize library, without
// network, child processes or the disk: before kustomize runs, cocogen walks the kustomization graph itself
// (walk.go), refuses remote references, Helm, plugins that would run programs and paths that leave the
// overlay's tree, each at the line that writes it, and reads every file the graph names, once, under budgets.
// kustomize then builds from an in-memory file system that holds those files and nothing else.
package overlay

import (
	"cmp"
	"errors"
	"fmt"
	"path"
	"reflect"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/resource"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// mount is where the repository appears in the in-memory file system.
const mount = "/repo"

// The budgets of one build, by the names under which they are documented (README, Limits).
const (
	BudgetBytes   = "kustomize-input-bytes"
	BudgetFiles   = "kustomize-input-files"
	BudgetValues  = "kustomize-input-values"
	BudgetObjects = "kustomize-input-objects"
	BudgetOutput  = "kustomize-output-values"
)

// Defaults of the budgets. The built-in pattern's larger overlay, hello-openshift, makes 22 reads of 10 files:
// 7.5 KB, 342 values, 9 objects. kustomize's time grows faster than its input (measured with api v0.21.2:
// 1,000 small objects take 1.5 s and 4,000 take 15 s; one map of 20,000 keys takes 6 s), so the defaults
// keep a hostile build within seconds rather than allowing anything a large overlay might need.
const (
	DefaultMaxBytes   = 16 << 20
	DefaultMaxFiles   = 1000
	DefaultMaxValues  = 50_000
	DefaultMaxObjects = 1000
	// A JSON patch of 4,000 values applied to 100 objects (an estimate of 400,000) takes kustomize 14 s and
	// 4.4 GB of allocations.
	DefaultMaxOutputValues = 250_000
)

// Options bound what one build reads. A zero field takes its default.
type Options struct {
	// MaxBytes (kustomize-input-bytes) bounds the bytes of the kustomizations and files one build reads,
	// each file counted every time kustomize reads it (a base used by three variants counts three times).
	MaxBytes int64
	// MaxFiles (kustomize-input-files) bounds the number of those reads.
	MaxFiles int
	// MaxValues (kustomize-input-values) bounds the YAML values of the kustomizations and manifests of one
	// build after alias expansion, counted the same way: kustomize's YAML library expands aliases.
	MaxValues int
	// MaxObjects (kustomize-input-objects) bounds the objects of the manifests one build reads, counted the
	// same way (kustomize's time grows with the square of their number).
	MaxObjects int
	// MaxOutputValues (kustomize-output-values) bounds an estimate, made before kustomize runs, of the values
	// its transformations write: for every kustomization read, the objects it accumulates times the values of
	// its patches, labels, replacements and transformer configurations.
	MaxOutputValues int
	// Node limits each YAML document (bytes and nesting; its values are also bounded by MaxValues). Zero
	// means node.DefaultLimits.
	Node node.Limits
}

// DefaultOptions returns the default budgets.
func DefaultOptions() Options {
	return Options{}.withDefaults()
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = DefaultMaxFiles
	}
	if o.MaxValues <= 0 {
		o.MaxValues = DefaultMaxValues
	}
	if o.MaxObjects <= 0 {
		o.MaxObjects = DefaultMaxObjects
	}
	if o.MaxOutputValues <= 0 {
		o.MaxOutputValues = DefaultMaxOutputValues
	}
	if o.Node == (node.Limits{}) {
		o.Node = node.DefaultLimits
	}
	return o
}

// Resource is one object of a build and the repository file it came from.
type Resource struct {
	Node *node.Node
	// File is the repository path of the manifest the object was read from ("" for a generated object).
	File string
}

// File is a repository file that a build read.
type File struct {
	Path string
	Data []byte
}

// Result is a build's objects, in kustomize's order, and the files it read.
type Result struct {
	Resources []Resource
	// Files are the repository files of the build, in the order they were first read.
	Files []File
}

// Sources are the files of one overlay, read and checked by Load: every kustomization of its graph and every
// file they name, each read once, and nothing else. Building them reads no file.
type Sources struct {
	w *walker
	// dir is the overlay's root-relative directory.
	dir string
}

// Dir returns the overlay's root-relative directory.
func (s *Sources) Dir() string { return s.dir }

// Files returns the files the walk read, in the order they were first read.
func (s *Sources) Files() []File {
	out := make([]File, 0, len(s.w.order))
	for _, rel := range s.w.order {
		out = append(out, File{Path: rel, Data: s.w.files[rel].data})
	}
	return out
}

// Load reads the kustomization in the root-relative directory dir and every file its graph names, checking
// them against the budgets of opt and refusing what would make kustomize reach outside them. The build may use
// files under dir's top-level directory (overlays/ for overlays/hello-openshift) that its kustomizations
// name. Problems with the overlay are diagnostics at the lines that cause them (a problem without a line, such
// as kustomize's own errors, has none: the caller names the application); the sources are nil when there are
// errors.
func Load(root *repo.Root, dir string, opt Options) (*Sources, *diag.List) {
	s, err := load(root, dir, opt)
	return s, asList(err)
}

// asList returns err as diagnostics: its own when it is *diag.Diagnostics, else one error without a position.
func asList(err error) *diag.List {
	d := &diag.List{}
	var ds *diag.Diagnostics
	switch {
	case err == nil:
	case errors.As(err, &ds):
		for _, it := range ds.Items {
			d.Add(it)
		}
	default:
		d.Errorf(srcpos.Pos{}, "", "%v", err)
	}
	return d
}

func load(root *repo.Root, dir string, opt Options) (*Sources, error) {
	clean, err := repo.Clean(dir)
	if err != nil {
		return nil, err
	}
	top := strings.SplitN(clean, "/", 2)[0]
	w := newWalker(root, top, opt.withDefaults())
	w.visit(clean, nil, srcpos.Pos{}, "", 0)
	w.root, w.stats = nil, nil // the walk is over: nothing more is read
	if err := w.d.Err(); err != nil {
		return nil, err
	}
	return &Sources{w: w, dir: clean}, nil
}

// Build renders the kustomization in the root-relative directory dir: Load, then Sources.Build.
func Build(root *repo.Root, dir string, opt Options) (*Result, *diag.List) {
	s, d := Load(root, dir, opt)
	if s == nil {
		return nil, d
	}
	return s.Build()
}

// Build runs kustomize on an in-memory file system that holds the loaded files and nothing else, and
// converts its objects into node trees (toNode) whose scalars carry the positions of the manifests that
// wrote them. The result is nil when there are errors (see Load).
func (s *Sources) Build() (*Result, *diag.List) {
	res, err := s.build()
	return res, asList(err)
}

func (s *Sources) build() (*Result, error) {
	w, clean := s.w, s.dir
	fs := filesys.MakeFsInMemory()
	for _, rel := range w.order {
		if err := fs.WriteFile(path.Join(mount, rel), w.files[rel].data); err != nil {
			return nil, fmt.Errorf("kustomize %s: %w", w.display(clean), err)
		}
	}
	// Ask kustomize to record which file each object comes from, so that problems name the manifest; the
	// record is removed again unless the kustomization asked for it.
	keepOrigin, err := trackOrigins(fs, path.Join(mount, clean))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", w.display(clean), err)
	}
	resMap, err := run(fs, path.Join(mount, clean))
	if err != nil {
		return nil, fmt.Errorf("kustomize: %s", strings.ReplaceAll(err.Error(), mount+"/", ""))
	}
	res := &Result{}
	var d diag.List
	for _, r := range resMap.Resources() {
		file, origin := "", ""
		if o, err := r.GetOrigin(); err == nil && o != nil && o.Repo == "" {
			if o.Path != "" {
				file = path.Join(clean, o.Path)
			} else if o.ConfiguredIn != "" {
				origin = path.Join(clean, o.ConfiguredIn)
			}
		}
		w.checkOutputNames(&d, r, file, origin)
		if !keepOrigin {
			if err := r.SetOrigin(nil); err != nil {
				return nil, fmt.Errorf("kustomize %s: %w", w.display(clean), err)
			}
		}
		c := &converter{lim: w.opt.Node, locate: w.locator(file)}
		n, err := c.toNode(r.YNode(), 0)
		if err != nil {
			var ne *srcpos.Error
			if errors.As(err, &ne) && ne.Pos.IsZero() {
				ne.Pos = srcpos.Pos{File: w.display(cmp.Or(file, clean))}
			}
			return nil, err
		}
		res.Resources = append(res.Resources, Resource{Node: n, File: file})
	}
	if err := d.Err(); err != nil {
		return nil, err
	}
	res.Files = s.Files()
	return res, nil
}

// run builds the kustomization at dir of fs with every way to reach beyond fs switched off that kustomize
// offers: files only in or below each kustomization's directory, builtin plugins only (no exec, Go or KRM
// function plugins), no Helm. kustomize has no switch for remote resources (git clones and HTTP fetches):
// the walk keeps them from reaching it. A panic in kustomize is an error, not a crash.
func run(fs filesys.FileSystem, dir string) (m resmap.ResMap, err error) {
	defer func() {
		if r := recover(); r != nil {
			m, err = nil, fmt.Errorf("internal error in kustomize: %v", r)
		}
	}()
	opts := krusty.MakeDefaultOptions()
	opts.LoadRestrictions = types.LoadRestrictionsRootOnly
	opts.PluginConfig = types.DisabledPluginConfig()
	opts.PluginConfig.HelmConfig = types.HelmConfig{Enabled: false}
	opts.PluginConfig.FnpLoadingOptions = types.FnPluginLoadingOptions{}
	return krusty.MakeKustomizer(opts).Run(fs, dir)
}

// checkOutputNames reports a built object whose name or namespace a transformation made invalid (the input
// manifests were checked by the walk), at the manifest that declared it.
func (w *walker) checkOutputNames(d *diag.List, r *resource.Resource, file, origin string) {
	kind, name, ns := r.GetKind(), r.GetName(), r.GetNamespace()
	nameMsg := ""
	if name != "" {
		nameMsg = nameProblem(r.GetApiVersion(), kind, name)
	}
	nsMsg := ""
	if ns != "" {
		nsMsg = namespaceProblem(ns)
	}
	if nameMsg == "" && nsMsg == "" {
		return
	}
	// Find the object as the manifest wrote it (kustomize's original id), else name the file.
	pos := srcpos.Pos{File: w.display(origin)}
	var decl *node.Node
	if f := w.files[file]; f != nil {
		pos = srcpos.Pos{File: w.display(file)}
		// kustomize remembers an object's original name through prefixes and suffixes, not through patches:
		// failing that, the file's only object of the kind.
		org := r.OrgId()
		var sameKind []*node.Node
		for _, doc := range f.docs {
			if doc.Get("kind").Scalar() != org.Kind {
				continue
			}
			sameKind = append(sameKind, doc)
			if doc.Path("metadata", "name").Scalar() == org.Name {
				decl = doc
				break
			}
		}
		if decl == nil && len(sameKind) == 1 {
			decl = sameKind[0]
		}
	}
	if nameMsg != "" {
		d.Errorf(decl.Path("metadata", "name").PosOr(pos), kind+" metadata.name", "%q (after the kustomizations' transformations) %s", name, nameMsg)
	}
	if nsMsg != "" {
		at := decl.Path("metadata", "namespace").PosOr(decl.Path("metadata", "name").PosOr(pos))
		d.Errorf(at, kind+" metadata.namespace", "%q (after the kustomizations' transformations) %s", ns, nsMsg)
	}
}

// trackOrigins adds originAnnotations to the buildMetadata of the kustomization in dir (of the in-memory file
// system) and reports whether it was there already. The rewritten file must decode to the kustomization the
// walk checked, plus that one entry.
func trackOrigins(fs filesys.FileSystem, dir string) (present bool, err error) {
	for _, name := range kustomizationNames {
		p := path.Join(dir, name)
		if !fs.Exists(p) {
			continue
		}
		data, err := fs.ReadFile(p)
		if err != nil {
			return false, err
		}
		var checked types.Kustomization
		if err := checked.Unmarshal(data); err != nil {
			return false, err
		}
		for _, b := range checked.BuildMetadata {
			if b == types.OriginAnnotations {
				return true, nil
			}
		}
		doc, err := kyaml.Parse(string(data))
		if err != nil {
			return false, err
		}
		if err := doc.PipeE(kyaml.LookupCreate(kyaml.SequenceNode, "buildMetadata"), kyaml.Append(&kyaml.Node{Kind: kyaml.ScalarNode, Value: types.OriginAnnotations})); err != nil {
			return false, err
		}
		out, err := doc.String()
		if err != nil {
			return false, err
		}
		var tracked types.Kustomization
		if err := tracked.Unmarshal([]byte(out)); err != nil {
			return false, err
		}
		if n := len(tracked.BuildMetadata); n > 0 && tracked.BuildMetadata[n-1] == types.OriginAnnotations {
			tracked.BuildMetadata = tracked.BuildMetadata[:n-1]
			if len(tracked.BuildMetadata) == 0 && checked.BuildMetadata == nil {
				tracked.BuildMetadata = nil
			}
		}
		if !reflect.DeepEqual(checked, tracked) {
			return false, fmt.Errorf("cannot add origin tracking to %s without changing what it says", name)
		}
		return false, fs.WriteFile(p, []byte(out))
	}
	return false, nil
}

// kustomizationNames are the file names kustomize looks for, in its order.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}
