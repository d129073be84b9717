package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

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
'render --all' does, for every cluster group of the repository ('render --all --all-groups'), or for the one
that --cluster-group, --cluster or --metadata names — and compares them object by object (matched by apiVersion, kind, namespace and name):
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

Across cluster groups the report first says which cluster groups (and which clusters, for a group whose
clusters have their own metadata files) the change touches, then reports each touched group. A change to a
spoke's agent policy touches the spoke and its hub, whose reference values register the spoke's init-data.

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
			s.heapForRender()
			return o.run(cmd, s, args)
		},
	}
	f := cmd.Flags()
	o.source.register(f)
	f.StringVar(&o.base, "base", "", "git revision of the base state (default: compare two directories given as arguments)")
	f.StringVar(&o.head, "head", "", "git revision of the head state (default: the working tree)")
	outputFlag(f, &o.output, "text", review.Formats)
	enumVarP(f, &o.color, "color", "", "auto", []string{"auto", "always", "never"}, "colour the text report (auto: on a terminal, unless NO_COLOR is set)")
	f.BoolVar(&o.exitCode, "exit-code", false, "exit with 1 when the states differ")
	diagFormatFlag(f, &o.diagFormat)
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print progress (git, renders) on stderr")
	return cmd
}

func (o *diffOptions) run(cmd *cobra.Command, s streams, args []string) error {
	every := o.source.clusterGroup == "" && o.source.cluster == "" && o.source.metadata == ""
	states := stateFlags{source: o.source, base: o.base, head: o.head, diagFormat: o.diagFormat, verbose: o.verbose, every: every}
	base, head, cleanup, err := states.render(cmd, s, args)
	if err != nil {
		return err
	}
	defer cleanup()
	// The command that keeps the base's init-data in the head's values (a revision cannot be edited).
	keep := ""
	switch {
	case o.base != "" && o.head == "":
		keep = "cocogen initdata keep --base " + o.base + o.source.args()
	case len(args) == 2:
		keep = "cocogen initdata keep " + args[0] + " " + args[1] + o.source.args()
	}
	color := o.color == "always" || (o.color == "auto" && isTerminal(s.out) && os.Getenv("NO_COLOR") == "")
	var buf bytes.Buffer
	var empty bool
	if every {
		rep := review.CompareGroups(base.name, head.name, reviewGroups(base, ""), reviewGroups(head, keep))
		if err := review.WriteGroups(&buf, o.output, &rep, color && o.output == "text"); err != nil {
			return err
		}
		empty = rep.Empty()
	} else {
		rep := review.Compare(reviewState(base, ""), reviewState(head, keep))
		if err := review.Write(&buf, o.output, &rep, color && o.output == "text"); err != nil {
			return err
		}
		empty = rep.Empty()
	}
	if _, err := s.out.Write(buf.Bytes()); err != nil {
		return err
	}
	if o.exitCode && !empty {
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
