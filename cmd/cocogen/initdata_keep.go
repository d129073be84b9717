package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/previous"
)

// defaultKeepWindow is how long initdata keep keeps previous init-data by default: a week outlasts the
// rollout of the pods that run it (minutes) and a weekend of nobody watching the sync.
const defaultKeepWindow = 7 * 24 * time.Hour

func newInitDataKeepCommand(s streams) *cobra.Command {
	var o stateFlags
	var valuesFile, until string
	var window time.Duration
	var print bool
	cmd := &cobra.Command{
		Use:   "keep --base REV [--for DURATION | --until TIME] | keep BASE_DIR HEAD_DIR",
		Short: "Keep the init-data of the base revision attesting for the pods that still run it",
		Long: `Keep renders the base revision (--base REV, read with git archive) and the working tree, or two
directories, as diff does, and writes into the head's values the init-data digests that a change leaves
behind: for every profile that the base runs and the head renders differently, the base's digest, as
global.coco.trustee.referenceValues.previous, until --until or for --for from now (default 168h). Pods that
started with that init-data keep attesting as their profile, and getting its secrets, until that time, so a
policy change does not cut them off before their Deployment has replaced them; then Trustee's attestation
policy stops accepting it.

Entries whose time has passed are removed; an entry already kept moves to the later time. The rest of the
values file, comments included, stays as it is (default: values-global.yaml of the head's values
directory; the referenceValues map must be written in block style). --print shows the result instead of
writing it.

Keep nothing when the change closes a hole: pods of the previous init-data would keep what the change takes
away until the time.`,
		Example: `  # After editing policies/agent/default.rego: keep main's init-data for a week
  cocogen initdata keep --base origin/main

  # Look first, with a window of two days
  cocogen initdata keep --base origin/main --for 48h --print | diff values/values-global.yaml -`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if o.head != "" {
				return usageError{err: errors.New("--head names a revision, which keep cannot edit: keep writes into the working tree (or HEAD_DIR)"), cmd: cmd}
			}
			now := time.Now().UTC().Truncate(time.Second)
			switch {
			case until != "" && cmd.Flags().Changed("for"):
				return usageError{err: errors.New("give --until or --for, not both"), cmd: cmd}
			case until != "":
				t, err := time.Parse(time.RFC3339, until)
				if err != nil || !strings.HasSuffix(until, "Z") {
					return usageError{err: fmt.Errorf("invalid --until %q: write a UTC time, YYYY-MM-DDTHH:MM:SSZ", until), cmd: cmd}
				}
				if !t.After(now) {
					return usageError{err: fmt.Errorf("--until %s has passed", until), cmd: cmd}
				}
			case window <= 0:
				return usageError{err: fmt.Errorf("invalid --for %s: give a positive duration, e.g. 168h", window), cmd: cmd}
			default:
				until = now.Add(window).Format(time.RFC3339)
			}
			base, head, cleanup, err := o.render(cmd, s, args)
			if err != nil {
				return err
			}
			defer cleanup()
			if valuesFile == "" {
				valuesFile = filepath.Join(head.valuesDir, "values-global.yaml")
				if wd, err := os.Getwd(); err == nil {
					if rel, err := filepath.Rel(wd, valuesFile); err == nil && !strings.HasPrefix(rel, "..") {
						valuesFile = rel
					}
				}
			}
			src, err := os.ReadFile(valuesFile)
			if err != nil {
				fmt.Fprintf(s.err, "error: %v\n", err)
				return &exitError{code: exitInvalid}
			}
			kept, err := previous.Read(valuesFile, src)
			if err != nil {
				fmt.Fprintf(s.err, "error: %v\n", err)
				return &exitError{code: exitInvalid}
			}
			plan := previous.Plan(keepState(base), previous.State{Digests: keepState(head).Digests, Previous: kept}, until, now)
			if !plan.Changed() {
				_, err := fmt.Fprintf(s.out, "%s: nothing to keep: no profile that %s runs renders other init-data in %s\n", valuesFile, base.name, head.name)
				return err
			}
			out, err := previous.Write(valuesFile, src, plan.Entries)
			if err != nil {
				fmt.Fprintf(s.err, "error: %v\n", err)
				return &exitError{code: exitInvalid}
			}
			if printed, err := printOrWrite(s, valuesFile, out, print); printed || err != nil {
				return err
			}
			var b strings.Builder
			for _, e := range plan.Added {
				fmt.Fprintf(&b, "%s: keeping the init-data of profile %s from %s (%s) until %s\n", valuesFile, e.Profile, base.name, e.Digest, e.Until)
			}
			for _, e := range plan.Extended {
				fmt.Fprintf(&b, "%s: keeping the init-data of profile %s (%s) until %s\n", valuesFile, e.Profile, e.Digest, e.Until)
			}
			for _, e := range plan.Removed {
				fmt.Fprintf(&b, "%s: removed the init-data of profile %s (%s): its time, %s, has passed\n", valuesFile, e.Profile, e.Digest, e.Until)
			}
			_, err = fmt.Fprint(s.out, b.String())
			return err
		},
	}
	f := cmd.Flags()
	o.source.register(f)
	f.StringVar(&o.base, "base", "", "git revision whose init-data to keep (default: two directories given as arguments)")
	f.StringVar(&o.head, "head", "", "not supported: keep edits the working tree")
	_ = f.MarkHidden("head")
	f.DurationVar(&window, "for", defaultKeepWindow, "how long from now the kept init-data attests")
	f.StringVar(&until, "until", "", "until when the kept init-data attests, YYYY-MM-DDTHH:MM:SSZ (instead of --for)")
	f.StringVar(&valuesFile, "values", "", "values file to edit (default: values-global.yaml in the head's values directory)")
	f.BoolVar(&print, "print", false, "print the edited values file instead of writing it")
	diagFormatFlag(f, &o.diagFormat)
	f.BoolVarP(&o.verbose, "verbose", "v", false, "print progress (git, renders) on stderr")
	return cmd
}

// keepState is what initdata keep reads of a rendered state.
func keepState(st renderedState) previous.State {
	out := previous.State{Digests: map[string]string{}, Used: st.res.UsedProfiles}
	for name, p := range st.res.Profiles {
		out.Digests[name] = p.Algorithm + ":" + p.Digests.Digest
	}
	return out
}
