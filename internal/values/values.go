// Package values loads a Validated Patterns values directory the way the patterns operator and Argo CD layer
// it for a cluster group: values-global.yaml, values-<group>.yaml, the platform and version files, the
// cluster's own file, global.extraValueFiles and the templated clusterGroup.sharedValueFiles, merged with
// Helm's rules and coalesced with the clustergroup chart's defaults; injected facts and --set values win over
// every file.
package values

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
	"github.com/cocogen/cocogen/internal/tpl"
)

//go:embed chart-defaults.yaml
var chartDefaults []byte

// DefaultsName names the chart defaults in positions and messages.
const DefaultsName = "<clustergroup chart defaults>"

// defaults are parsed on first use, not when a process of a command that renders nothing starts.
var defaults = sync.OnceValue(func() *node.Node {
	n, err := node.Parse(DefaultsName, chartDefaults, node.DefaultLimits)
	if err != nil {
		panic(err) // the embedded file is part of the program
	}
	return n
})

// Defaults returns the clustergroup chart's default values.
func Defaults() *node.Node { return defaults() }

// IsDefault reports whether a value comes from the chart defaults rather than from the user.
func IsDefault(n *node.Node) bool { return n != nil && n.Pos.File == DefaultsName }

// Options say what to load.
type Options struct {
	Root *repo.Root
	// Dir is the values directory relative to the root ("." for a Validated Patterns repository).
	Dir string
	// ClusterGroup overrides main.clusterGroupName.
	ClusterGroup string
	Params       []helmvalues.Param
	// YAML are the limits every values file is parsed with (zero: node.DefaultLimits), and Templates the
	// render's template budget that templated value file names spend (nil: the default budget).
	YAML      node.Limits
	Templates *tpl.Budget
}

// Role says why a value file is part of the layering.
type Role string

// The roles of value files, in layering order.
const (
	RoleGlobal          Role = "global"
	RoleGroup           Role = "cluster group"
	RolePlatform        Role = "platform"
	RolePlatformVersion Role = "platform and version"
	RolePlatformGroup   Role = "platform and group"
	RoleVersionGroup    Role = "version and group"
	RoleCluster         Role = "local cluster"
	RoleExtra           Role = "global.extraValueFiles"
	RoleShared          Role = "clusterGroup.sharedValueFiles"
)

// File is one value file of the layering.
type File struct {
	Path  string // root-relative
	Role  Role
	Found bool
	// Entry is the list entry that named the file (for extraValueFiles and sharedValueFiles), as written.
	Entry    string
	EntryPos srcpos.Pos
}

// Loaded is the result of loading a values directory.
type Loaded struct {
	// Values are the final values the clustergroup chart sees for this cluster group.
	Values *node.Node
	Group  string
	// GroupPos is where the cluster group was chosen.
	GroupPos srcpos.Pos
	// Dir is the values directory relative to the root.
	Dir   string
	Files []File
	// Variants is set when the values directory uses the variants layout (variants/<group>/values-*.yaml).
	Variants bool
}

var groupRe = lazyre.New(`^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

// Load reads and layers the values of one cluster group. Problems are returned as diagnostics; the result is
// nil when there are errors.
func Load(o Options) (*Loaded, *diag.List) {
	d := &diag.List{}
	l := &loader{o: o, d: d, root: o.Root}
	return l.load()
}

type loader struct {
	o    Options
	d    *diag.List
	root *repo.Root
	// parsed are the files parsed so far, by path: a file can be read more than once (values-hub.yaml is both
	// the cluster group's file and the local cluster's on a cluster named hub), and is parsed once.
	parsed map[string]parsedFile
}

// parsedFile is a values file's bytes and what they parse into (nodes are not changed after parsing).
type parsedFile struct {
	data []byte
	n    *node.Node
	err  error
}

func (l *loader) rel(name string) string {
	if l.o.Dir == "." || l.o.Dir == "" {
		return name
	}
	return l.o.Dir + "/" + name
}

// read parses one values file; found is false when it does not exist. A file that holds no map is an error.
func (l *loader) read(rel string) (n *node.Node, found bool) {
	display := l.root.Display(rel)
	data, err := l.root.ReadFile(rel)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false
	}
	if err != nil {
		var be *repo.BudgetError
		if errors.As(err, &be) {
			l.d.Errorf(srcpos.Pos{File: display}, "", "%v", be.Err)
		} else {
			l.d.Errorf(srcpos.Pos{File: display}, "", "%v", err)
		}
		return nil, true
	}
	lim := l.o.YAML
	if lim.MaxNodes == 0 && lim.MaxDepth == 0 && lim.MaxBytes == 0 {
		lim = node.DefaultLimits
	}
	// A file read again is read again (its bytes count again towards the input budget), but parsed once
	// while its bytes are the same.
	p, seen := l.parsed[rel]
	if !seen || !bytes.Equal(p.data, data) {
		p.data = data
		p.n, p.err = node.Parse(display, data, lim)
		if l.parsed == nil {
			l.parsed = map[string]parsedFile{}
		}
		l.parsed[rel] = p
	}
	n, err = p.n, p.err
	if err != nil {
		l.d.AddError(err)
		return nil, true
	}
	if n.IsNull() {
		return nil, true
	}
	if n.Kind != node.Map {
		l.d.Errorf(n.Pos, "", "a values file must hold a map of keys, not a %s", n.Kind)
		return nil, true
	}
	return n, true
}

func (l *loader) applyParams(user *node.Node) *node.Node {
	for _, p := range l.o.Params {
		user = helmvalues.SetPath(user, p.Path, p.Value)
	}
	return user
}

func (l *loader) param(path string) *node.Node {
	var v *node.Node
	for _, p := range l.o.Params {
		if p.Path.String() == path {
			v = p.Value
		}
	}
	return v
}

func (l *loader) load() (*Loaded, *diag.List) {
	d := l.d
	dir := l.o.Dir
	if dir == "" {
		dir = "."
	}
	out := &Loaded{Dir: dir}

	globalRel := l.rel("values-global.yaml")
	global, found := l.read(globalRel)
	if !found {
		hint := ""
		if dir != "." && l.root.Exists("values-global.yaml") {
			hint = "; this repository keeps its values at the root: use --values-dir ."
		}
		d.Errorf(srcpos.Pos{File: l.root.Display(globalRel)}, "", "values-global.yaml not found in the values directory %s%s", l.root.Display(dir), hint)
		return nil, d
	}
	if d.HasErrors() {
		return nil, d
	}
	out.Files = append(out.Files, File{Path: globalRel, Role: RoleGlobal, Found: true})

	group, groupPos := l.group(global)
	if group == "" {
		return nil, d
	}
	out.Group, out.GroupPos = group, groupPos

	// The variants layout (a variants/ directory beside values-global.yaml) keeps each cluster group's files
	// in variants/<group>/; the patterns operator then also passes global.vpNewFolderDir=true.
	perGroup := l.rel
	if st, err := l.root.Stat(l.rel("variants")); err == nil && st.IsDir() {
		out.Variants = true
		perGroup = func(name string) string { return l.rel("variants/" + group + "/" + name) }
		if l.param("global.vpNewFolderDir") == nil {
			l.o.Params = append(slices.Clip(l.o.Params), helmvalues.Param{
				Path:  helmvalues.Path{{Key: "global"}, {Key: "vpNewFolderDir"}},
				Value: helmvalues.ScalarFromFlag("true", srcpos.Pos{File: l.root.Display(l.rel("variants"))}),
			})
		}
	}
	groupRel := perGroup("values-" + group + ".yaml")
	groupVals, found := l.read(groupRel)
	if !found {
		d.Errorf(groupPos, "", "cluster group %q has no values file: %s does not exist", group, l.root.Display(groupRel))
		return nil, d
	}
	if groupVals == nil && !d.HasErrors() {
		// The chart would render its own example cluster group from its defaults: never what was meant.
		d.Errorf(srcpos.Pos{File: l.root.Display(groupRel), Line: 1, Col: 1}, "clusterGroup", "%s is empty: a cluster group's values file holds at least clusterGroup (name, namespaces, subscriptions, applications)", l.root.Display(groupRel))
		return nil, d
	}
	out.Files = append(out.Files, File{Path: groupRel, Role: RoleGroup, Found: true})

	// The platform, version and cluster name that pick the "magic" files come from the injected facts (what
	// the operator knows) or, failing that, from the two files read so far.
	user := helmvalues.Merge(global, groupVals)
	facts := l.applyParams(user)
	platform := factString(facts, "clusterPlatform")
	version := factString(facts, "clusterVersion")
	cluster := factString(facts, "localClusterName")
	var magic []File
	if platform != "" {
		magic = append(magic, File{Path: "values-" + platform + ".yaml", Role: RolePlatform})
		if version != "" {
			magic = append(magic, File{Path: "values-" + platform + "-" + version + ".yaml", Role: RolePlatformVersion})
		}
		magic = append(magic, File{Path: "values-" + platform + "-" + group + ".yaml", Role: RolePlatformGroup})
	}
	if version != "" {
		magic = append(magic, File{Path: "values-" + version + "-" + group + ".yaml", Role: RoleVersionGroup})
	}
	if cluster != "" {
		magic = append(magic, File{Path: "values-" + cluster + ".yaml", Role: RoleCluster})
	}
	for _, f := range magic {
		if strings.Contains(f.Path, "/") || strings.Contains(f.Path, "..") {
			d.Errorf(srcpos.Pos{}, "", "value file name %q built from the cluster facts is not a plain file name", f.Path)
			continue
		}
		f.Path = perGroup(f.Path)
		n, found := l.read(f.Path)
		f.Found = found
		if !found {
			d.Infof(srcpos.Pos{File: l.root.Display(f.Path)}, "", "optional %s value file not present (skipped, as Validated Patterns does)", f.Role)
		}
		user = helmvalues.Merge(user, n)
		out.Files = append(out.Files, f)
	}

	// global.extraValueFiles: repository paths, read in order.
	facts = l.applyParams(user)
	if list := facts.Path("global", "extraValueFiles"); !list.IsNull() {
		entries, ok := schema.Checker{Diags: d}.StringList(list, "global.extraValueFiles")
		if ok {
			for _, e := range entries {
				user = l.explicit(user, out, RoleExtra, e, e.Text)
			}
		}
	}

	// clusterGroup.sharedValueFiles: templated paths, evaluated against the values so far.
	facts = l.applyParams(user)
	if list := facts.Path("clusterGroup", "sharedValueFiles"); !list.IsNull() {
		entries, ok := schema.Checker{Diags: d}.StringList(list, "clusterGroup.sharedValueFiles")
		if ok && len(entries) > 0 {
			eng := tpl.New(helmvalues.Coalesce(defaults(), resolveNulls(facts, nil)), l.o.Templates)
			for i, e := range entries {
				p, err := eng.Render(e.Text)
				if err != nil {
					d.Errorf(e.Pos, schema.Index("clusterGroup.sharedValueFiles", i), "template: %v", err)
					continue
				}
				user = l.explicit(user, out, RoleShared, e, p)
			}
		}
	}
	if d.HasErrors() {
		return nil, d
	}
	set, err := helmvalues.SetParams(user, l.o.Params)
	if err != nil {
		var pe *helmvalues.ParamError
		pos := srcpos.Pos{}
		if errors.As(err, &pe) {
			pos = pe.Param.Value.Pos
		}
		d.Errorf(pos, "", "%v", err)
		return nil, d
	}
	user = resolveNulls(set, d)
	if d.HasErrors() {
		return nil, d
	}
	out.Values = withSubchartGlobals(helmvalues.Coalesce(defaults(), user))
	return out, d
}

// withSubchartGlobals gives the vp-rbac subchart a copy of global, as Helm does for every subchart (it shows in
// the values the imperative jobs receive).
func withSubchartGlobals(values *node.Node) *node.Node {
	sub := values.Get("vp-rbac")
	if sub == nil || sub.Kind != node.Map || values.Get("global").IsNull() {
		return values
	}
	return helmvalues.SetPath(values, helmvalues.Path{{Key: "vp-rbac"}, {Key: "global"}}, values.Get("global"))
}

// explicit loads a value file named in a list (extraValueFiles, sharedValueFiles). A missing one is a warning:
// Validated Patterns skips it silently, which hides typos.
func (l *loader) explicit(user *node.Node, out *Loaded, role Role, entry *node.Node, p string) *node.Node {
	rel, err := RepoPath(p)
	if err != nil {
		l.d.Errorf(entry.Pos, string(role), "%v", err)
		return user
	}
	n, found := l.read(rel)
	f := File{Path: rel, Role: role, Found: found, Entry: entry.Text, EntryPos: entry.Pos}
	out.Files = append(out.Files, f)
	if !found {
		msg := fmt.Sprintf("value file %s does not exist; Validated Patterns skips missing value files, so a typo here goes unnoticed", p)
		if p != entry.Text {
			msg = fmt.Sprintf("value file %s (from %q) does not exist; Validated Patterns skips missing value files, so a typo here goes unnoticed", p, entry.Text)
		}
		l.d.Warnf(entry.Pos, string(role), "%s", msg)
		return user
	}
	return helmvalues.Merge(user, n)
}

// RepoPath turns a value file path as written in values ("/overrides/x.yaml", "$patternref/x.yaml",
// "overrides/x.yaml") into a root-relative path.
func RepoPath(p string) (string, error) {
	p = strings.TrimPrefix(p, "$patternref")
	clean, err := repo.Clean(p)
	if err != nil {
		return "", err
	}
	if clean == "." || path.Ext(clean) == "" && strings.HasSuffix(p, "/") {
		return "", fmt.Errorf("value file path %q names a directory", p)
	}
	return clean, nil
}

// factString reads global.<key> as Helm would print it.
func factString(values *node.Node, key string) string {
	return tpl.HelmString(values.Path("global", key))
}

// group chooses the cluster group: --cluster-group, else main.clusterGroupName (from --set or
// values-global.yaml), else main.variant.
func (l *loader) group(global *node.Node) (string, srcpos.Pos) {
	d := l.d
	if l.o.ClusterGroup != "" {
		if !groupRe.MatchString(l.o.ClusterGroup) {
			d.Errorf(srcpos.Pos{File: "--cluster-group"}, "", "%q is not a valid cluster group name", l.o.ClusterGroup)
			return "", srcpos.Pos{}
		}
		return l.o.ClusterGroup, srcpos.Pos{File: "--cluster-group"}
	}
	name := l.param("main.clusterGroupName")
	if name == nil {
		name = global.Path("main", "clusterGroupName")
		if v := global.Path("main", "variant"); !v.IsNull() {
			if !name.IsNull() {
				d.Errorf(v.Pos, "main.variant", "set either main.clusterGroupName or main.variant, not both")
				return "", srcpos.Pos{}
			}
			name = v
		}
	}
	if name.IsNull() || name.Kind != node.String || name.Text == "" {
		pos := srcpos.Pos{File: l.root.Display(l.rel("values-global.yaml"))}
		if name != nil {
			pos = name.Pos
		}
		if global == nil {
			// An empty (or comment-only) values-global.yaml.
			d.Errorf(pos, "main.clusterGroupName", "no cluster group: values-global.yaml is empty; set main.clusterGroupName in it (main: {clusterGroupName: <group>}) or pass --cluster-group")
			return "", srcpos.Pos{}
		}
		if name != nil && !name.IsNull() && name.Kind != node.String {
			d.Errorf(pos, "main.clusterGroupName", "must be the name of a cluster group (a string), not a %s", name.Kind)
			return "", srcpos.Pos{}
		}
		d.Errorf(pos, "main.clusterGroupName", "no cluster group: set main.clusterGroupName in values-global.yaml or pass --cluster-group")
		return "", srcpos.Pos{}
	}
	if !groupRe.MatchString(name.Text) {
		d.Errorf(name.Pos, "main.clusterGroupName", "%q is not a valid cluster group name (letters, digits, -, _ and .)", name.Text)
		return "", srcpos.Pos{}
	}
	return name.Text, name.Pos
}
