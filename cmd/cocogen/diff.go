package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/review"
)

type diffOptions struct {
	source     sourceFlags
	base, head string
	output     string
	color      string
	exitCode   bool
	diagFormat string
	verbose    bool
}

func newDiffCommand(s streams) *cobra.Command {
	o := &diffOptions{}
	cmd := &cobra.Command{
		Use:   "diff [--base REV [--head REV] | BASE_DIR HEAD_DIR]",
		Short: "Show what a change does to the rendered objects, with encoded fields decoded",
		Long: `Diff renders two states of the repository — the tree and every application cocogen renders, as
'render --all' does — and compares them object by object (matched by apiVersion, kind, namespace and name):
added, removed and changed objects, each changed one with a unified diff of its YAML.

Every encoded field is decoded first (see 'cocogen decode'): peer-pods-cm INITDATA, the cc_init_data and
agent policy annotations and the RVPS reference values store read as TOML, Rego and JSON, so a policy change
shows as the Rego lines it changes, not as base64. Init-data digests that moved are called out (profile,
digest and Azure PCR8, before and after) with whether the reference values moved with them, because they
change what attests.

States: --base REV (a git revision, read with git archive; the working tree and the index are untouched)
against the working tree, or against --head REV; or two directories. The other flags (values directory,
cluster group, metadata file, sets, facts) apply to both states; a metadata file inside the repository is
read from each state.

Formats: text (coloured on a terminal; --color), markdown (for a pull request comment: the digests first,
then one collapsible section per application) and json. Exit code 0, or with --exit-code 1 when the states
differ (as git diff --exit-code); 1 also when a state does not render (diagnostics on stderr), 2 on a usage
error.`,
		Example: `  # What the working tree changes against main
  cocogen diff --base main

  # A pull request comment in CI
  cocogen diff --base origin/main --head HEAD -o markdown > diff.md

  # Two checkouts
  cocogen diff ../cocogen-main .`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			return o.run(cmd, s, args)
		},
	}
	f := cmd.Flags()
	o.source.register(f)
	f.StringVar(&o.base, "base", "", "git revision of the base state (default: compare two directories given as arguments)")
	f.StringVar(&o.head, "head", "", "git revision of the head state (default: the working tree)")
	f.StringVarP(&o.output, "output", "o", "text", "report format: "+strings.Join(review.Formats, ", "))
	f.StringVar(&o.color, "color", "auto", "colour the text report: auto (on a terminal, unless NO_COLOR is set), always, never")
	f.BoolVar(&o.exitCode, "exit-code", false, "exit with 1 when the states differ")
	f.StringVar(&o.diagFormat, "diagnostics-format", "text", "diagnostics format on stderr: text, json, github, junit")
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print progress (git, renders) on stderr")
	return cmd
}

// diffState is one side: where its repository is and how to name it.
type diffState struct {
	name, root string
}

func (o *diffOptions) run(cmd *cobra.Command, s streams, args []string) error {
	if !slices.Contains(review.Formats, o.output) {
		return usageError{err: fmt.Errorf("invalid --output %q (valid: %s)", o.output, strings.Join(review.Formats, ", ")), cmd: cmd}
	}
	if !slices.Contains([]string{"auto", "always", "never"}, o.color) {
		return usageError{err: fmt.Errorf("invalid --color %q (valid: auto, always, never)", o.color), cmd: cmd}
	}
	switch {
	case len(args) == 2 && (o.base != "" || o.head != ""):
		return usageError{err: fmt.Errorf("give two directories or --base, not both"), cmd: cmd}
	case len(args) == 1:
		return usageError{err: fmt.Errorf("give two directories (BASE_DIR HEAD_DIR), or --base REV"), cmd: cmd}
	case len(args) == 0 && o.base == "":
		return usageError{err: fmt.Errorf("nothing to compare: give --base REV (e.g. --base origin/main) or two directories"), cmd: cmd}
	case o.head != "" && o.base == "":
		return usageError{err: fmt.Errorf("--head needs --base"), cmd: cmd}
	}
	progress := func(format string, a ...any) {
		if o.verbose {
			fmt.Fprintf(s.err, format+"\n", a...)
		}
	}
	ctx := commandContext(cmd)

	// The repository (or the base directory) whose layout the flags describe.
	var base, head diffState
	var sub string    // the pattern's root inside the git work tree
	var layout string // the working tree's pattern root, which the path flags refer to
	if len(args) == 2 {
		base, head = diffState{name: args[0], root: args[0]}, diffState{name: args[1], root: args[1]}
	} else {
		root := o.source.repoRoot
		if root == "" {
			var err error
			if root, _, err = repo.FindRoot(o.source.valuesDir); err != nil {
				return err
			}
		}
		top, err := review.GitTopLevel(ctx, root)
		if err != nil {
			return usageError{err: fmt.Errorf("--base needs a git repository: %s: %v", root, err), cmd: cmd}
		}
		absRoot, _ := filepath.Abs(root)
		layout = absRoot
		if sub, err = filepath.Rel(top, absRoot); err != nil || strings.HasPrefix(sub, "..") {
			return fmt.Errorf("the repository root %s is not inside the git work tree %s", root, top)
		}
		tmp, err := os.MkdirTemp("", "cocogen-diff-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		extract := func(rev, dir string) (diffState, error) {
			commit, name, err := review.ResolveRevision(ctx, top, rev)
			if err != nil {
				return diffState{}, usageError{err: err, cmd: cmd}
			}
			progress("reading %s with git archive", name)
			dst := filepath.Join(tmp, dir)
			if err := os.Mkdir(dst, 0o755); err != nil {
				return diffState{}, err
			}
			if err := review.ExtractRevision(ctx, top, commit, dst); err != nil {
				return diffState{}, err
			}
			return diffState{name: name, root: filepath.Join(dst, sub)}, nil
		}
		if base, err = extract(o.base, "base"); err != nil {
			return err
		}
		if o.head != "" {
			if head, err = extract(o.head, "head"); err != nil {
				return err
			}
		} else {
			head = diffState{name: "working tree", root: absRoot}
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
		return usageError{err: fmt.Errorf("--values-dir %s is not a directory inside the repository of both states", o.source.valuesDir), cmd: cmd}
	}
	mdRel := ""
	var mdBytes []byte
	switch m := o.source.metadata; {
	case m == "":
	case m == "-":
		var err error
		if mdBytes, err = io.ReadAll(io.LimitReader(s.in, 8<<20)); err != nil {
			return fmt.Errorf("read metadata from stdin: %w", err)
		}
	default:
		if rel, ok := inState(m); ok {
			mdRel = rel
		} else {
			var err error
			if mdBytes, err = os.ReadFile(m); err != nil {
				return fmt.Errorf("read metadata: %w", err)
			}
		}
	}

	render := func(st diffState) (review.State, error) {
		progress("rendering %s", st.name)
		req, err := o.source.baseRequest()
		if err != nil {
			return review.State{}, err
		}
		req.RepoRoot = st.root
		req.ValuesDir = filepath.Join(st.root, filepath.FromSlash(relValues))
		req.All = true
		switch {
		case mdRel != "":
			r, err := repo.Open(st.root)
			if err != nil {
				return review.State{}, err
			}
			data, err := r.ReadFile(mdRel)
			r.Close()
			if err != nil {
				return review.State{}, fmt.Errorf("%s: the metadata file %s: %w", st.name, mdRel, err)
			}
			req.Metadata, req.MetadataName, req.MetadataPath = data, mdRel, filepath.Join(st.root, filepath.FromSlash(mdRel))
		case mdBytes != nil:
			req.Metadata, req.MetadataName = mdBytes, o.source.metadata
		}
		res, err := renderFor(s, req, o.diagFormat, false)
		if err != nil {
			if _, ok := err.(*exitError); ok {
				fmt.Fprintf(s.err, "error: the %s state does not render (diagnostics above)\n", st.name)
			}
			return review.State{}, err
		}
		profiles := map[string]review.ProfileDigest{}
		for name, p := range res.Profiles {
			profiles[name] = review.ProfileDigest{Algorithm: p.Algorithm, Digest: p.Digests.Digest, AzurePCR8: p.Digests.AzurePCR8}
		}
		return review.State{Name: st.name, Objects: res.Objects, Profiles: profiles}, nil
	}
	bs, err := render(base)
	if err != nil {
		return err
	}
	hs, err := render(head)
	if err != nil {
		return err
	}
	rep := review.Compare(bs, hs)
	color := o.color == "always" || (o.color == "auto" && isTerminal(s.out) && os.Getenv("NO_COLOR") == "")
	var buf bytes.Buffer
	if err := review.Write(&buf, o.output, &rep, color && o.output == "text"); err != nil {
		return err
	}
	if _, err := s.out.Write(buf.Bytes()); err != nil {
		return err
	}
	if o.exitCode && !rep.Empty() {
		return &exitError{code: exitInvalid}
	}
	return nil
}

// relativeTo returns p (absolute or relative to the working directory) as a slash path relative to root.
func relativeTo(root, p string) (string, error) {
	absRoot, err := filepath.Abs(root)
	if err != nil {
		return "", err
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	rel, err := filepath.Rel(absRoot, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", fmt.Errorf("%s is outside the repository %s", p, root)
	}
	return filepath.ToSlash(rel), nil
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
