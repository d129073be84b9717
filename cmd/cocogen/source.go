package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/pipeline"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// sourceFlags say where a render reads its inputs: the values directory, the repository root, the cluster
// group, the metadata file and --set overrides. Every command that renders shares them.
type sourceFlags struct {
	valuesDir    string
	repoRoot     string
	clusterGroup string
	cluster      string
	metadata     string
	sets         []string
	setStrings   []string
	facts        []string
	budgets      []string
}

// budgetFlagHelp is the help of --budget, the same on every command that has it.
const budgetFlagHelp = "raise or lower a resource budget, NAME=VALUE (repeatable; wins over COCOGEN_BUDGET_<NAME>; `cocogen version --budgets` lists them)"

func (f *sourceFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&f.valuesDir, "values-dir", "values", "directory holding values-global.yaml and values-<group>.yaml (use . for a Validated Patterns repository)")
	fs.StringVar(&f.repoRoot, "repo-root", "", "repository root that value file paths are relative to (default: the nearest directory with .git above --values-dir)")
	fs.StringVar(&f.clusterGroup, "cluster-group", "", "cluster group to render (default: main.clusterGroupName from values-global.yaml)")
	fs.StringVar(&f.cluster, "cluster", "", "read the metadata of this cluster of the cluster group: clusters/<group>/<cluster>.yaml in the values directory (default: the group's only cluster there, else cluster-metadata.yaml)")
	fs.StringVarP(&f.metadata, "metadata", "m", "", "cluster metadata file (- for stdin; default: cluster-metadata.yaml in the values directory, if present)")
	fs.StringArrayVar(&f.sets, "set", nil, "set a value, Helm style: key=value[,key=value] (repeatable; wins over files and metadata)")
	fs.StringArrayVar(&f.setStrings, "set-string", nil, "like --set, but the value is always a string")
	fs.StringArrayVar(&f.budgets, "budget", nil, budgetFlagHelp)
	fs.StringArrayVar(&f.facts, "fact", nil, "set a cluster fact over the metadata file, KEY=VALUE with KEY a metadata key such as azure.location (repeatable; the plugin's COCOGEN_FACT_* env)")
}

// args returns the flags that choose what is rendered when they are not the defaults, as a command line
// suffix (" --values-dir X ..."), for the commands cocogen suggests.
func (f *sourceFlags) args() string {
	var b strings.Builder
	for _, a := range []struct{ flag, value, def string }{
		{"--values-dir", f.valuesDir, "values"}, {"--repo-root", f.repoRoot, ""},
		{"--cluster-group", f.clusterGroup, ""}, {"--cluster", f.cluster, ""}, {"--metadata", f.metadata, ""},
	} {
		if a.value != a.def && a.value != "-" {
			fmt.Fprintf(&b, " %s %s", a.flag, a.value)
		}
	}
	return b.String()
}

// baseRequest builds the pipeline request from every flag but --metadata, --values-dir and --repo-root.
func (f *sourceFlags) baseRequest() (pipeline.Request, error) {
	req := pipeline.Request{
		ClusterGroup: f.clusterGroup,
		Cluster:      f.cluster,
		Sets:         f.sets,
		SetStrings:   f.setStrings,
	}
	limits, err := budget.FromEnv(os.LookupEnv, f.budgets)
	if err != nil {
		return req, usageError{err: err}
	}
	req.Budget = limits
	for _, a := range f.facts {
		o, err := metadata.ParseOverride(a, srcpos.Pos{File: "--fact"})
		if err != nil {
			return req, usageError{err: fmt.Errorf("--fact: %w", err)}
		}
		req.Facts = append(req.Facts, o)
	}
	return req, nil
}

// request builds the pipeline request: the repository is located on disk here (repo.Locate), so that the
// render reads only its file system, and the metadata file is read here (stdin for -).
func (f *sourceFlags) request(in io.Reader) (pipeline.Request, error) {
	req, err := f.baseRequest()
	if err != nil {
		return req, err
	}
	loc, err := repo.Locate(f.repoRoot, f.valuesDir)
	if err != nil {
		return req, err
	}
	req.At(loc, f.valuesDir)
	switch f.metadata {
	case "":
	case "-":
		data, err := io.ReadAll(io.LimitReader(in, 8<<20))
		if err != nil {
			return req, fmt.Errorf("read metadata from stdin: %w", err)
		}
		req.Metadata, req.MetadataName = data, "<stdin>"
	default:
		data, err := os.ReadFile(f.metadata)
		if err != nil {
			return req, fmt.Errorf("read metadata: %w", err)
		}
		req.Metadata, req.MetadataName = data, f.metadata
		if rel, err := loc.Root.RelDir(f.metadata); err == nil {
			req.MetadataFile = rel
		}
	}
	return req, nil
}

// renderFor runs the pipeline for a command: invalid input prints the diagnostics and ends with exit code 1;
// on success the warnings are printed and the result returned.
func renderFor(s streams, req pipeline.Request, diagFormat string, verbose bool) (*pipeline.Result, error) {
	res, err := pipeline.Render(req)
	if err != nil {
		if de, ok := err.(*diag.Diagnostics); ok {
			if werr := diag.Write(s.err, diagFormat, de.Items, verbose); werr != nil {
				return nil, werr
			}
			return nil, &exitError{code: exitInvalid}
		}
		return nil, err
	}
	if err := diag.Write(s.err, diagFormat, res.Diagnostics, verbose); err != nil {
		return nil, err
	}
	return res, nil
}
