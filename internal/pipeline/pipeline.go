// Package pipeline is cocogen's one render path: load the values and metadata of a repository, decode them
// into the typed model, run the generators and return sorted objects. `cocogen render` and the Argo CD plugin
// build a Request and call Render; their output for the same inputs is the same bytes.
package pipeline

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"strings"

	"github.com/cocogen/cocogen/generators/appofapps"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/tpl"
	"github.com/cocogen/cocogen/internal/values"
)

// Request says what to render.
type Request struct {
	// RepoRoot is the repository root; empty means: found from ValuesDir (see repo.FindRoot).
	RepoRoot string
	// ValuesDir is the values directory (absolute or relative to the working directory); default "values".
	ValuesDir string
	// ClusterGroup overrides main.clusterGroupName.
	ClusterGroup string
	// Metadata is the content of a metadata file and MetadataName how to show it; nil means the values
	// directory's cluster-metadata.yaml when there is one, else no metadata.
	Metadata     []byte
	MetadataName string
	// Sets and SetStrings are --set and --set-string arguments, applied in order after the metadata.
	Sets       []string
	SetStrings []string
	// App selects one application of the cluster group whose objects cocogen renders itself (an application
	// whose source is the cocogen plugin); empty means the cluster group's app-of-apps tree.
	App string
}

// Result is a successful render.
type Result struct {
	Objects     []manifest.Object
	Diagnostics []diag.Diagnostic
	Group       string
	Files       []values.File
	// Root is the repository root that was read.
	Root string
	// Profiles are the rendered init-data profiles of global.coco.initdata, by name, and their names in order.
	Profiles     map[string]*Profile
	ProfileNames []string
	// DefaultProfile is global.coco.initdata.default.
	DefaultProfile string
}

// Profile returns a rendered init-data profile by name.
func (r *Result) Profile(name string) (*Profile, error) {
	if p, ok := r.Profiles[name]; ok {
		return p, nil
	}
	return nil, profileError(r.ProfileNames, name)
}

// Render runs the pipeline. A problem with the input is returned as *diag.Diagnostics (exit code 1); any
// other error is a usage or internal error.
func Render(req Request) (*Result, error) {
	d := &diag.List{}
	valuesDir := req.ValuesDir
	if valuesDir == "" {
		valuesDir = "values"
	}
	if st, err := os.Stat(valuesDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("values directory %s does not exist (--values-dir; a Validated Patterns repository keeps its values at its root: --values-dir .)", valuesDir)
	}
	rootDir := req.RepoRoot
	if rootDir == "" {
		var err error
		if rootDir, err = repo.FindRoot(valuesDir); err != nil {
			return nil, err
		}
	}
	root, err := repo.Open(rootDir)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	relDir, err := root.RelDir(valuesDir)
	if err != nil {
		return nil, &diag.Diagnostics{Items: []diag.Diagnostic{{Severity: diag.Error, Pos: node.Pos{File: "--values-dir"}, Msg: err.Error()}}}
	}
	if st, err := root.Stat(relDir); err != nil || !st.IsDir() {
		return nil, &diag.Diagnostics{Items: []diag.Diagnostic{{Severity: diag.Error, Pos: node.Pos{File: "--values-dir"}, Msg: fmt.Sprintf("values directory %s does not exist (use --values-dir DIR; a Validated Patterns repository keeps its values at the root: --values-dir .)", valuesDir)}}}
	}

	// Metadata first, then flags: later params win.
	md, mdName := req.Metadata, req.MetadataName
	if md == nil {
		rel := path.Join(relDir, metadata.DefaultFile)
		data, err := root.ReadFile(rel)
		switch {
		case err == nil:
			md, mdName = data, root.Display(rel)
		case !errors.Is(err, fs.ErrNotExist):
			d.Errorf(node.Pos{File: root.Display(rel)}, "", "%v", err)
			return nil, finish(d)
		}
	}
	var params []values.Param
	var meta *metadata.Metadata
	if md != nil {
		var mdDiags *diag.List
		meta, mdDiags = metadata.Parse(mdName, md)
		d.Append(mdDiags)
		if meta == nil {
			return nil, finish(d)
		}
		for _, p := range meta.Params() {
			pp, err := node.ParsePath(p.Path)
			if err != nil {
				return nil, err
			}
			params = append(params, values.Param{Path: pp, Value: p.Value})
		}
	}
	for _, group := range []struct {
		args     []string
		asString bool
	}{{req.Sets, false}, {req.SetStrings, true}} {
		for _, a := range group.args {
			ps, err := values.ParseSet(a, group.asString)
			if err != nil {
				d.Errorf(node.Pos{File: "--set"}, "", "%v", err)
				continue
			}
			params = append(params, ps...)
		}
	}
	if d.HasErrors() {
		return nil, finish(d)
	}

	loaded, ld := values.Load(values.Options{Root: root, Dir: relDir, ClusterGroup: req.ClusterGroup, Params: params})
	d.Append(ld)
	if loaded == nil {
		return nil, finish(d)
	}
	v, md2 := model.Decode(loaded.Values)
	d.Append(md2)
	if v == nil {
		return nil, finish(d)
	}
	if v.ClusterGroup.Name != loaded.Group {
		d.Warnf(v.ClusterGroup.NamePos, "clusterGroup.name", "is %q but the cluster group being rendered is %q: child applications will read values-%s.yaml", v.ClusterGroup.Name, loaded.Group, v.ClusterGroup.Name)
	}
	checkAppValueFiles(root, v, d)
	profiles := buildProfiles(root, v, meta, d)
	if d.HasErrors() {
		return nil, finish(d)
	}
	if req.App != "" {
		d.Add(appNotRendered(v, req.App))
		return nil, finish(d)
	}

	objs, gd := appofapps.Render(v, appofapps.Options{ValuesDir: relDir})
	d.Append(gd)
	if d.HasErrors() {
		return nil, finish(d)
	}
	manifest.Sort(objs)
	if dups := manifest.Duplicates(objs); len(dups) > 0 {
		for _, id := range dups {
			d.Errorf(node.Pos{}, "", "two objects render as %s", id)
		}
		return nil, finish(d)
	}
	return &Result{Objects: objs, Diagnostics: d.Sorted(), Group: loaded.Group, Files: loaded.Files, Root: root.Dir(), Profiles: profiles, ProfileNames: v.CoCo.ProfileNames(), DefaultProfile: v.CoCo.InitData.Default}, nil
}

// appNotRendered explains why the objects of one application cannot be rendered (yet).
func appNotRendered(v *model.Values, name string) diag.Diagnostic {
	var names []string
	for _, a := range v.ClusterGroup.Applications {
		if a.Name == name {
			return diag.Diagnostic{Severity: diag.Error, Pos: a.Pos, Path: "clusterGroup.applications." + a.Key,
				Msg: fmt.Sprintf("cocogen does not render the objects of application %q yet; Argo CD renders it from its source", name)}
		}
		names = append(names, a.Name)
	}
	msg := fmt.Sprintf("no application %q in cluster group %q", name, v.ClusterGroup.Name)
	if s := schema.Suggest(name, names); s != "" {
		msg += fmt.Sprintf("; did you mean %q?", s)
	}
	return diag.Diagnostic{Severity: diag.Error, Pos: v.ClusterGroup.NamePos, Path: "clusterGroup.applications", Msg: msg}
}

// finish returns the collected errors together with the warnings, so the caller prints everything at once.
func finish(d *diag.List) error {
	return &diag.Diagnostics{Items: d.Sorted()}
}

// checkAppValueFiles warns about per-application extraValueFiles that name a file of the pattern repository
// that does not exist (Argo CD would skip it silently).
func checkAppValueFiles(root *repo.Root, v *model.Values, d *diag.List) {
	eng := tpl.New(v.Tree)
	for _, a := range v.ClusterGroup.Applications {
		for _, f := range a.ExtraValueFiles {
			p, err := eng.Render(tpl.HelmString(f))
			if err != nil {
				continue // reported by the generator
			}
			// Paths relative to a remote chart live inside the chart package: nothing to check here.
			if !strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "$patternref/") {
				if a.Chart != "" {
					continue
				}
				p = a.Path + "/" + p
			}
			rel, err := values.RepoPath(p)
			if err != nil {
				d.Errorf(f.Pos, "clusterGroup.applications."+a.Key+".extraValueFiles", "%v", err)
				continue
			}
			if !root.Exists(rel) {
				d.Warnf(f.Pos, "clusterGroup.applications."+a.Key+".extraValueFiles", "value file %s does not exist in the repository; Argo CD skips missing value files silently", p)
			}
		}
	}
}

// IsUserError reports whether err is a problem with the input (exit code 1) rather than a usage or internal
// error (exit code 2).
func IsUserError(err error) bool {
	var de *diag.Diagnostics
	return errors.As(err, &de)
}
