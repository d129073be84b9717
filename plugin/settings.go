package plugin

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/helmvalues"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/pipeline"
	"github.com/cocogen/cocogen/internal/repo"
)

// Settings are the render inputs that the plugin derives from Argo CD's environment. Each is what one
// `cocogen render` flag says (see RenderArgs).
type Settings struct {
	// App is the application to render (--app); empty means the cluster group's app-of-apps tree.
	App string
	// ClusterGroup is --cluster-group; empty means main.clusterGroupName.
	ClusterGroup string
	// Cluster is --cluster: the cluster whose clusters/<group>/<name>.yaml metadata file the render reads (the
	// hub's ACM policy sets it on each spoke's root Application to the ManagedCluster's name).
	Cluster string
	// ValuesDir is the values directory as a repository path (--values-dir); empty means "values".
	ValuesDir string
	// Metadata is the metadata file as a repository path (--metadata); empty means the values directory's
	// cluster-metadata.yaml, if there is one.
	Metadata string
	// Sets and SetStrings are --set and --set-string arguments in the order they apply.
	Sets, SetStrings []string
	// Facts are the COCOGEN_FACT_* overrides of cluster facts.
	Facts []metadata.Override
}

// source names where an input came from, for messages.
type source struct {
	name     string // ARGOCD_ENV_COCOGEN_SET, parameter "set", ...
	asString bool
	// stringName is where the same layer takes --set-string arguments.
	stringName string
	rank       int // layer: 1 Argo CD source, 2 plugin env, 3 parameters
}

type setArg struct {
	arg   string
	src   source
	paths []helmvalues.Path
}

// Resolve turns the environment into settings. The layers, later winning: the metadata file in Git, the
// Application's source (repoURL and targetRevision become global.repoURL and global.targetRevision, as the
// Validated Patterns operator injects them), the plugin env (ARGOCD_ENV_COCOGEN_*) and the parameters.
// Every problem is reported, each naming the variable or parameter it came from.
func Resolve(e *Env) (*Settings, error) {
	s := &Settings{App: e.Plugin[EnvApp], Facts: e.Facts}
	var errs []error
	single := func(envName, paramName string, dst *string, isPath bool) {
		val, from := e.Plugin[envName], EnvPrefix+envName
		for _, p := range e.Params {
			if p.Name == paramName && p.String != nil && *p.String != "" {
				val, from = *p.String, fmt.Sprintf("parameter %q", paramName)
			}
		}
		if val == "" {
			return
		}
		if isPath {
			clean, err := repo.Clean(val)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", from, err))
				return
			}
			val = clean
		}
		*dst = val
	}
	single(EnvClusterGroup, ParamClusterGroup, &s.ClusterGroup, false)
	single(EnvCluster, "", &s.Cluster, false)
	single(EnvValuesDir, ParamValuesDir, &s.ValuesDir, true)
	single(EnvMetadata, ParamMetadata, &s.Metadata, true)

	var args []setArg
	add := func(src source, items []string) {
		for i, a := range items {
			ps, err := helmvalues.ParseSet(a, src.asString)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s, item %d: %w", src.name, i+1, err))
				continue
			}
			sa := setArg{arg: a, src: src}
			for _, p := range ps {
				sa.paths = append(sa.paths, p.Path)
			}
			args = append(args, sa)
		}
	}
	add(source{name: EnvPrefix + EnvSet, stringName: EnvPrefix + EnvSetString, rank: 2}, lines(e.Plugin[EnvSet]))
	add(source{name: EnvPrefix + EnvSetString, asString: true, rank: 2}, lines(e.Plugin[EnvSetString]))
	for _, p := range e.Params {
		switch p.Name {
		case ParamSet, ParamSetString:
			if p.Kind != "array" {
				errs = append(errs, fmt.Errorf("parameter %q must be an array of --set arguments, not a %s", p.Name, p.Kind))
				continue
			}
			add(source{name: fmt.Sprintf("parameter %q", p.Name), stringName: fmt.Sprintf("parameter %q", ParamSetString), asString: p.Name == ParamSetString, rank: 3}, p.Array)
		case ParamClusterGroup, ParamValuesDir, ParamMetadata:
			if p.Kind != "string" {
				errs = append(errs, fmt.Errorf("parameter %q must be a string, not a %s", p.Name, p.Kind))
			}
		default:
			errs = append(errs, fmt.Errorf("parameter %q: cocogen has no such parameter (known: %s)", p.Name, strings.Join(paramNames(), ", ")))
		}
	}

	// render applies every --set before every --set-string, so a --set-string of a lower layer would win over
	// a --set of a higher one. That order cannot be expressed as flags: refuse it rather than get it wrong.
	for _, lo := range args {
		if !lo.src.asString {
			continue
		}
		for _, hi := range args {
			if hi.src.asString || hi.src.rank <= lo.src.rank {
				continue
			}
			if p, ok := overlap(hi.paths, lo.paths); ok {
				errs = append(errs, fmt.Errorf("%s sets %s, and %s sets it too: a --set-string always wins over a --set, so %s would lose; set it with %s instead",
					hi.src.name, p, lo.src.name, hi.src.name, hi.src.stringName))
			}
		}
	}

	// The Application's own source is the lowest layer above the metadata file: it applies only to keys that
	// no set names.
	var all []helmvalues.Path
	for _, a := range args {
		all = append(all, a.paths...)
	}
	var derived []string
	for _, d := range []struct{ key, val string }{
		{"global.repoURL", e.SourceRepoURL},
		{"global.targetRevision", e.SourceTargetRevision},
	} {
		if d.val == "" {
			continue
		}
		p, err := helmvalues.ParsePath(d.key)
		if err != nil {
			return nil, err
		}
		if _, named := overlap([]helmvalues.Path{p}, all); named {
			continue
		}
		derived = append(derived, d.key+"="+helmvalues.EscapeSetValue(d.val))
	}
	s.SetStrings = append(s.SetStrings, derived...)
	for _, a := range args {
		if a.src.asString {
			s.SetStrings = append(s.SetStrings, a.arg)
		} else {
			s.Sets = append(s.Sets, a.arg)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

func paramNames() []string {
	var names []string
	for _, a := range Announcements() {
		names = append(names, a.Name)
	}
	return names
}

// lines splits a plugin env value into --set arguments: one per non-empty line.
func lines(v string) []string {
	var out []string
	for l := range strings.SplitSeq(v, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// overlap reports a path of a that equals, contains or lies inside a path of b.
func overlap(a, b []helmvalues.Path) (helmvalues.Path, bool) {
	for _, p := range a {
		for _, q := range b {
			n := min(len(p), len(q))
			if slices.Equal(p[:n], q[:n]) {
				return p, true
			}
		}
	}
	return nil, false
}

// RenderArgs are the `cocogen render` arguments, run at the repository root, that render exactly what the
// plugin renders with these settings.
func (s *Settings) RenderArgs() []string {
	args := []string{"render", "--repo-root", "."}
	for _, f := range []struct{ flag, val string }{
		{"--app", s.App}, {"--values-dir", s.ValuesDir}, {"--cluster-group", s.ClusterGroup}, {"--cluster", s.Cluster}, {"--metadata", s.Metadata},
	} {
		if f.val != "" {
			args = append(args, f.flag, f.val)
		}
	}
	for _, a := range s.Sets {
		args = append(args, "--set", a)
	}
	for _, a := range s.SetStrings {
		args = append(args, "--set-string", a)
	}
	for _, f := range s.Facts {
		args = append(args, "--fact", f.Path+"="+f.Value)
	}
	return args
}

// Request builds the render request for the repository at root (an absolute path). A named metadata file is
// read through the repository reader, so it cannot lie outside root.
func (s *Settings) Request(root string) (pipeline.Request, error) {
	valuesDir := s.ValuesDir
	if valuesDir == "" {
		valuesDir = "values"
	}
	req := pipeline.Request{
		ClusterGroup: s.ClusterGroup,
		Cluster:      s.Cluster,
		App:          s.App,
		Sets:         s.Sets,
		SetStrings:   s.SetStrings,
		Facts:        s.Facts,
	}
	if s.Metadata != "" {
		r, err := repo.Open(root)
		if err != nil {
			return req, err
		}
		defer r.Close()
		data, err := r.ReadFile(s.Metadata)
		if err != nil {
			return req, fmt.Errorf("read the metadata file %s: %w", s.Metadata, err)
		}
		req.Metadata, req.MetadataName = data, s.Metadata
		req.MetadataFile, _ = repo.Clean(s.Metadata)
	}
	loc, err := repo.Locate(root, filepath.Join(root, filepath.FromSlash(valuesDir)))
	if err != nil {
		return req, err
	}
	req.At(loc, valuesDir)
	// File names in comments and diagnostics are repository paths, wherever the command runs, so that the
	// output is the bytes `cocogen render` writes at the repository root.
	req.RootName = ""
	return req, nil
}

// RepoRoot returns the repository root: the working directory wd (where the cmp-server runs the command,
// <extracted repository>/<source path>) with ARGOCD_APP_SOURCE_PATH taken off its end. Without a source path
// the working directory is the root.
func RepoRoot(wd, sourcePath string) (string, error) {
	if !filepath.IsAbs(wd) {
		return "", fmt.Errorf("working directory %q is not absolute", wd)
	}
	wd = filepath.Clean(wd)
	if sourcePath == "" {
		return wd, nil
	}
	rel, err := repo.Clean(sourcePath)
	if err != nil {
		return "", fmt.Errorf("%s: %w", VarSourcePath, err)
	}
	if rel == "." {
		return wd, nil
	}
	root := wd
	steps := strings.Split(rel, "/")
	for i := len(steps) - 1; i >= 0; i-- {
		if filepath.Base(root) != steps[i] || root == filepath.Dir(root) {
			return "", fmt.Errorf("the working directory does not end with %s %q, so the repository root is unknown; cocogen needs the whole repository (is reposerver.plugin.use.manifest.generate.paths enabled?)", VarSourcePath, sourcePath)
		}
		root = filepath.Dir(root)
	}
	return root, nil
}
