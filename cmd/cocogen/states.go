package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/pipeline"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/review"
)

// stateFlags select two states of a repository, as diff and initdata keep take them: --base REV (a git
// revision, read with git archive) against the working tree or --head REV, or two directories.
type stateFlags struct {
	source     sourceFlags
	base, head string
	diagFormat string
	verbose    bool
	// every renders every cluster group of each state (pipeline.RenderGroups) instead of one.
	every bool
}

// renderedState is one side: how to name it, the root of its pattern, its values directory and its render
// (the tree and every application, as render --all).
type renderedState struct {
	name, root, valuesDir string
	res                   *pipeline.Result
	// groups are the renders of every cluster group (stateFlags.every).
	groups []pipeline.GroupResult
}

// render renders both states. cleanup removes the copies of git revisions; call it once done with them.
func (o *stateFlags) render(cmd *cobra.Command, s streams, args []string) (base, head renderedState, cleanup func(), err error) {
	cleanup = func() {}
	switch {
	case len(args) == 2 && (o.base != "" || o.head != ""):
		return base, head, cleanup, usageError{err: fmt.Errorf("give two directories or --base, not both"), cmd: cmd}
	case len(args) == 1:
		return base, head, cleanup, usageError{err: fmt.Errorf("give two directories (BASE_DIR HEAD_DIR), or --base REV"), cmd: cmd}
	case len(args) == 0 && o.base == "":
		return base, head, cleanup, usageError{err: fmt.Errorf("nothing to compare: give --base REV (e.g. --base origin/main) or two directories"), cmd: cmd}
	case o.head != "" && o.base == "":
		return base, head, cleanup, usageError{err: fmt.Errorf("--head needs --base"), cmd: cmd}
	}
	progress := func(format string, a ...any) {
		if o.verbose {
			fmt.Fprintf(s.err, format+"\n", a...)
		}
	}
	ctx := commandContext(cmd)

	// The repository (or the base directory) whose layout the flags describe.
	var sub string    // the pattern's root inside the git work tree
	var layout string // the working tree's pattern root, which the path flags refer to
	if len(args) == 2 {
		base, head = renderedState{name: args[0], root: args[0]}, renderedState{name: args[1], root: args[1]}
	} else {
		root := o.source.repoRoot
		if root == "" {
			if root, _, err = repo.FindRoot(o.source.valuesDir); err != nil {
				return base, head, cleanup, err
			}
		}
		top, err := review.GitTopLevel(ctx, root)
		if err != nil {
			return base, head, cleanup, usageError{err: fmt.Errorf("--base needs a git repository: %s: %v", root, err), cmd: cmd}
		}
		absRoot, _ := filepath.Abs(root)
		layout = absRoot
		if sub, err = filepath.Rel(top, absRoot); err != nil || strings.HasPrefix(sub, "..") {
			return base, head, cleanup, fmt.Errorf("the repository root %s is not inside the git work tree %s", root, top)
		}
		tmp, err := os.MkdirTemp("", "cocogen-diff-")
		if err != nil {
			return base, head, cleanup, err
		}
		cleanup = func() { os.RemoveAll(tmp) }
		extract := func(rev, dir string) (renderedState, error) {
			commit, name, err := review.ResolveRevision(ctx, top, rev)
			if err != nil {
				return renderedState{}, usageError{err: err, cmd: cmd}
			}
			progress("reading %s with git archive", name)
			dst := filepath.Join(tmp, dir)
			if err := os.Mkdir(dst, 0o755); err != nil {
				return renderedState{}, err
			}
			if err := review.ExtractRevision(ctx, top, commit, dst); err != nil {
				return renderedState{}, err
			}
			return renderedState{name: name, root: filepath.Join(dst, sub)}, nil
		}
		if base, err = extract(o.base, "base"); err != nil {
			return base, head, cleanup, err
		}
		if o.head != "" {
			if head, err = extract(o.head, "head"); err != nil {
				return base, head, cleanup, err
			}
		} else {
			head = renderedState{name: "working tree", root: absRoot}
		}
	}

	// With --base, path flags are relative to the working directory, as in render, and name the same files in
	// both states; with two directories, they are relative to each directory.
	inState := func(p string) (string, bool) {
		if len(args) == 2 {
			return filepath.ToSlash(p), !filepath.IsAbs(p)
		}
		rel, err := relativeTo(layout, p)
		return rel, err == nil
	}
	relValues, ok := inState(o.source.valuesDir)
	if !ok {
		return base, head, cleanup, usageError{err: fmt.Errorf("--values-dir %s is not a directory inside the repository of both states", o.source.valuesDir), cmd: cmd}
	}
	mdRel := ""
	var mdBytes []byte
	switch m := o.source.metadata; {
	case m == "":
	case m == "-":
		if mdBytes, err = io.ReadAll(io.LimitReader(s.in, 8<<20)); err != nil {
			return base, head, cleanup, fmt.Errorf("read metadata from stdin: %w", err)
		}
	default:
		if rel, ok := inState(m); ok {
			mdRel = rel
		} else if mdBytes, err = os.ReadFile(m); err != nil {
			return base, head, cleanup, fmt.Errorf("read metadata: %w", err)
		}
	}

	renderOne := func(st *renderedState) error {
		progress("rendering %s", st.name)
		req, err := o.source.baseRequest()
		if err != nil {
			return err
		}
		st.valuesDir = filepath.Join(st.root, filepath.FromSlash(relValues))
		loc, err := repo.Locate(st.root, st.valuesDir)
		if err != nil {
			return err
		}
		req.At(loc, st.valuesDir)
		req.All = true
		switch {
		case mdRel != "":
			r, err := repo.Open(st.root)
			if err != nil {
				return err
			}
			data, err := r.ReadFile(mdRel)
			r.Close()
			if err != nil {
				return fmt.Errorf("%s: the metadata file %s: %w", st.name, mdRel, err)
			}
			req.Metadata, req.MetadataName = data, mdRel
			req.MetadataFile, _ = repo.Clean(mdRel)
		case mdBytes != nil:
			req.Metadata, req.MetadataName = mdBytes, o.source.metadata
		}
		if o.every {
			groups, diags, err := pipeline.RenderGroups(req)
			if de, ok := err.(*diag.Diagnostics); ok {
				diags, err = de.Items, &exitError{code: exitInvalid}
			}
			if werr := diag.Write(s.err, o.diagFormat, diags, false); werr != nil {
				return werr
			}
			if err != nil {
				if _, ok := err.(*exitError); ok {
					fmt.Fprintf(s.err, "error: the %s state does not render (diagnostics above)\n", st.name)
				}
				return err
			}
			st.groups = groups
			return nil
		}
		res, err := renderFor(s, req, o.diagFormat, false)
		if err != nil {
			if _, ok := err.(*exitError); ok {
				fmt.Fprintf(s.err, "error: the %s state does not render (diagnostics above)\n", st.name)
			}
			return err
		}
		st.res = res
		return nil
	}
	if err := renderOne(&base); err != nil {
		return base, head, cleanup, err
	}
	if err := renderOne(&head); err != nil {
		return base, head, cleanup, err
	}
	return base, head, cleanup, nil
}

// reviewState is what diff compares of a rendered state; keep is the command that keeps the other state's
// init-data in this one ("" for none).
func reviewState(st renderedState, keep string) review.State {
	return resultState(st.name, st.res, keep)
}

// reviewGroups is what diff compares of every cluster group of a rendered state; keep is as for reviewState,
// each group's naming its cluster group (and cluster).
func reviewGroups(st renderedState, keep string) []review.GroupState {
	var out []review.GroupState
	for _, g := range st.groups {
		k := keep
		if k != "" {
			k += " --cluster-group " + g.Target.Group
			if g.Target.Cluster != "" {
				k += " --cluster " + g.Target.Cluster
			}
		}
		out = append(out, review.GroupState{Group: g.Target.Group, Cluster: g.Target.Cluster, State: resultState(st.name, g.Result, k)})
	}
	return out
}

func resultState(name string, res *pipeline.Result, keep string) review.State {
	st := renderedState{name: name, res: res}
	profiles := map[string]review.ProfileDigest{}
	for name, p := range st.res.Profiles {
		profiles[name] = review.ProfileDigest{Algorithm: p.Algorithm, Digest: p.Digests.Digest, AzurePCR8: p.Digests.AzurePCR8}
	}
	var previous []review.PreviousDigest
	for _, p := range st.res.Previous {
		previous = append(previous, review.PreviousDigest{Profile: p.Profile, Digest: p.Algorithm + ":" + p.Digest, Until: p.Until})
	}
	return review.State{Name: st.name, Objects: st.res.Objects, Profiles: profiles, Used: st.res.UsedProfiles, Previous: previous, Keep: keep}
}
