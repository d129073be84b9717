package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/pipeline"
)

type renderOptions struct {
	app          string
	valuesDir    string
	repoRoot     string
	clusterGroup string
	metadata     string
	sets         []string
	setStrings   []string
	output       string
	outputDir    string
	diagFormat   string
	verbose      bool
}

func newRenderCommand(s streams) *cobra.Command {
	o := &renderOptions{}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Render the app-of-apps tree of a cluster group",
		Long: `Render expands the values of one cluster group into the objects Argo CD applies: Namespaces,
OperatorGroups, Subscriptions, AppProjects and one Application per clusterGroup.applications entry,
exactly as the Validated Patterns clustergroup chart (0.9.x) renders them.

Value files are layered as Validated Patterns does: values-global.yaml, values-<group>.yaml, the
platform/version files, values-<localClusterName>.yaml, global.extraValueFiles and the templated
clusterGroup.sharedValueFiles. Cluster facts (domains, platform, version, Git source) come from a metadata
file (--metadata; by default cluster-metadata.yaml in the values directory, if there is one) and --set
flags, which win over every file.

Nothing is written when the input is invalid: diagnostics (file:line:col) go to stderr and the exit code
is 1. Exit code 2 means a usage or internal error.`,
		Example: `  # Render the built-in pattern with its example metadata (values/cluster-metadata.yaml)
  cocogen render

  # Render a Validated Patterns repository (values at its root) for the hub cluster group,
  # with the facts the patterns operator would inject
  cocogen render --values-dir ~/multicloud-gitops --cluster-group hub \
    --set global.repoURL=https://github.com/me/multicloud-gitops --set global.targetRevision=main \
    --set global.hubClusterDomain=apps.hub.example.com --set global.localClusterDomain=apps.hub.example.com \
    --set global.clusterDomain=hub.example.com --set global.clusterPlatform=AWS --set global.clusterVersion=4.18

  # Use the metadata of a real cluster and write one file per object
  cocogen render -m clusters/prod.yaml --output-dir out/

  # JSON (a v1 List) for tools, diagnostics as GitHub annotations in CI
  cocogen render -o json --diagnostics-format github`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return o.run(s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.app, "app", "", "render the objects of this application (one whose source is the cocogen plugin) instead of the app-of-apps tree")
	f.StringVar(&o.valuesDir, "values-dir", "values", "directory holding values-global.yaml and values-<group>.yaml (use . for a Validated Patterns repository)")
	f.StringVar(&o.repoRoot, "repo-root", "", "repository root that value file paths are relative to (default: the nearest directory with .git above --values-dir)")
	f.StringVar(&o.clusterGroup, "cluster-group", "", "cluster group to render (default: main.clusterGroupName from values-global.yaml)")
	f.StringVarP(&o.metadata, "metadata", "m", "", "cluster metadata file (- for stdin; default: cluster-metadata.yaml in the values directory, if present)")
	f.StringArrayVar(&o.sets, "set", nil, "set a value, Helm style: key=value[,key=value] (repeatable; wins over files and metadata)")
	f.StringArrayVar(&o.setStrings, "set-string", nil, "like --set, but the value is always a string")
	f.StringVarP(&o.output, "output", "o", "yaml", "output format: "+strings.Join(manifest.Formats, ", "))
	f.StringVar(&o.outputDir, "output-dir", "", "write one file per object under this directory instead of stdout")
	f.StringVar(&o.diagFormat, "diagnostics-format", "text", "diagnostics format on stderr: "+strings.Join(diag.Formats, ", "))
	f.BoolVarP(&o.verbose, "verbose", "v", false, "also print notes (value files read or skipped)")
	return cmd
}

func (o *renderOptions) validate() error {
	if !slices.Contains(manifest.Formats, o.output) {
		return usageError{err: fmt.Errorf("invalid --output %q (valid: %s)", o.output, strings.Join(manifest.Formats, ", "))}
	}
	if !slices.Contains(diag.Formats, o.diagFormat) {
		return usageError{err: fmt.Errorf("invalid --diagnostics-format %q (valid: %s)", o.diagFormat, strings.Join(diag.Formats, ", "))}
	}
	return nil
}

func (o *renderOptions) request(in io.Reader) (pipeline.Request, error) {
	req := pipeline.Request{
		App:          o.app,
		RepoRoot:     o.repoRoot,
		ValuesDir:    o.valuesDir,
		ClusterGroup: o.clusterGroup,
		Sets:         o.sets,
		SetStrings:   o.setStrings,
	}
	switch o.metadata {
	case "":
	case "-":
		data, err := io.ReadAll(io.LimitReader(in, 8<<20))
		if err != nil {
			return req, fmt.Errorf("read metadata from stdin: %w", err)
		}
		req.Metadata, req.MetadataName = data, "<stdin>"
	default:
		data, err := os.ReadFile(o.metadata)
		if err != nil {
			return req, fmt.Errorf("read metadata: %w", err)
		}
		req.Metadata, req.MetadataName = data, o.metadata
	}
	return req, nil
}

func (o *renderOptions) run(s streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	req, err := o.request(s.in)
	if err != nil {
		return err
	}
	res, err := pipeline.Render(req)
	if err != nil {
		if de, ok := err.(*diag.Diagnostics); ok {
			if werr := diag.Write(s.err, o.diagFormat, de.Items, o.verbose); werr != nil {
				return werr
			}
			return &exitError{code: exitInvalid}
		}
		return err
	}
	if err := diag.Write(s.err, o.diagFormat, res.Diagnostics, o.verbose); err != nil {
		return err
	}
	if o.verbose {
		fmt.Fprintf(s.err, "cluster group %s; value files in layering order (relative to %s):\n", res.Group, res.Root)
		for _, f := range res.Files {
			state := "read"
			if !f.Found {
				state = "absent"
			}
			fmt.Fprintf(s.err, "  %-7s %-30s %s\n", state, f.Role, f.Path)
		}
		fmt.Fprintf(s.err, "rendered %d objects\n", len(res.Objects))
	}
	if len(res.Objects) == 0 {
		// An empty render is never a success: Argo CD would prune everything.
		fmt.Fprintln(s.err, "error: the render produced no objects")
		return &exitError{code: exitInvalid}
	}
	if o.outputDir != "" {
		n, err := writeOutputDir(o.outputDir, o.output, res.Objects)
		if err != nil {
			return err
		}
		if o.verbose {
			fmt.Fprintf(s.err, "wrote %d objects to %s\n", n, o.outputDir)
		}
		return nil
	}
	var buf bytes.Buffer
	if err := manifest.Encode(&buf, o.output, res.Objects); err != nil {
		return err
	}
	_, err = s.out.Write(buf.Bytes())
	return err
}
