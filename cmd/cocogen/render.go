package main

import (
	"bytes"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/pipeline"
)

type renderOptions struct {
	source     sourceFlags
	app        string
	all        bool
	allGroups  bool
	output     string
	outputDir  string
	diagFormat string
	verbose    bool
}

func newRenderCommand(s streams) *cobra.Command {
	o := &renderOptions{}
	cmd := &cobra.Command{
		Use:   "render",
		Short: "Render the app-of-apps tree of a cluster group, or the objects of its cocogen applications",
		Long: `Render expands the values of one cluster group into the objects Argo CD applies: Namespaces,
OperatorGroups, Subscriptions, AppProjects and one Application per clusterGroup.applications entry,
exactly as the Validated Patterns clustergroup chart (0.9.x) renders them.

An application with a cocogen key (sandbox, trustee or workloads) is rendered by cocogen itself: its
Application names the cocogen plugin, and --app NAME prints what the plugin renders for it:
  sandbox    peer-pods-cm (Azure facts, VM sizes, the default init-data), the KataConfig, feature gates
  trustee    the KbsConfig, KBS configuration and policies, reference values bound to the init-data
             profiles in use, the KBS certificate and Route, ExternalSecrets for the KBS resources
  workloads  the kustomize overlay at the application's path, with init-data injected into every pod
             template that names a profile (annotation coco.io/initdata-profile)
--all prints the tree and then every such application, each object preceded by "# Application: NAME".
--all-groups renders every cluster group of the values directory (values-<group>.yaml whose clusterGroup.name
is <group>) at once, each object preceded by "# Cluster group: NAME"; a group with cluster metadata files
(clusters/<group>/<cluster>.yaml) is rendered once per cluster ("# Cluster: NAME"). Any group that fails
fails the whole, and nothing is printed.
Every render builds all of them and checks that they agree (profiles bound by reference values, the KBS
URL in init-data is the kbs Route, every KBS resource named exists), so a render of one fails exactly when
a render of all would.

Value files are layered as Validated Patterns does: values-global.yaml, values-<group>.yaml, the
platform/version files, values-<localClusterName>.yaml, global.extraValueFiles and the templated
clusterGroup.sharedValueFiles. Cluster facts (domains, platform, version, Git source, Azure network, KBS)
come from a metadata file (--metadata; by default cluster-metadata.yaml in the values directory, if there is
one) and --set flags, which win over every file.

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

  # The hub and spoke groups: the hub's ACM policies and Trustee, a spoke with its own metadata file
  cocogen render --all --cluster-group trusted-hub
  cocogen render --all --cluster-group spoke --cluster spoke-1

  # Every cluster group of the repository in one stream (each object under "# Cluster group: NAME")
  cocogen render --all --all-groups

  # What the plugin renders for the sandbox application, and everything at once
  cocogen render --app sandbox
  cocogen render --all --output-dir out/

  # JSON (a v1 List) for tools, diagnostics as GitHub annotations in CI
  cocogen render -o json --diagnostics-format github`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s.heapForRender()
			return o.run(s)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.app, "app", "", "render the objects of this application (one with a cocogen key: sandbox, trustee or workloads) instead of the app-of-apps tree")
	f.BoolVar(&o.all, "all", false, "render the app-of-apps tree and then the objects of every application that cocogen renders, grouped by application")
	f.BoolVar(&o.allGroups, "all-groups", false, "render every cluster group of the values directory (each cluster with a metadata file under clusters/<group>/ once), each object under \"# Cluster group: NAME\"")
	o.source.register(f)
	outputFlag(f, &o.output, "yaml", manifest.Formats)
	f.StringVar(&o.outputDir, "output-dir", "", "write one file per object under this directory instead of stdout")
	diagFormatFlag(f, &o.diagFormat)
	f.BoolVarP(&o.verbose, "verbose", "v", false, "also print notes (value files read or skipped)")
	return cmd
}

func (o *renderOptions) validate() error {
	if o.all && o.app != "" {
		return usageError{err: fmt.Errorf("--all and --app exclude each other: --all already renders every application")}
	}
	if o.allGroups && (o.app != "" || o.source.clusterGroup != "" || o.source.cluster != "" || o.source.metadata != "") {
		return usageError{err: fmt.Errorf("--all-groups renders every cluster group with its own metadata: it excludes --app, --cluster-group, --cluster and --metadata")}
	}
	return nil
}

func (o *renderOptions) run(s streams) error {
	if err := o.validate(); err != nil {
		return err
	}
	req, err := o.source.request(s.in)
	if err != nil {
		return err
	}
	req.App, req.All = o.app, o.all
	if o.allGroups {
		return o.runGroups(s, req)
	}
	res, err := renderFor(s, req, o.diagFormat, o.verbose)
	if err != nil {
		return err
	}
	objs := res.Objects
	if o.verbose {
		fmt.Fprintf(s.err, "cluster group %s; value files in layering order (relative to %s):\n", res.Group, res.Root)
		for _, f := range res.Files {
			state := "read"
			if !f.Found {
				state = "absent"
			}
			fmt.Fprintf(s.err, "  %-7s %-30s %s\n", state, f.Role, f.Path)
		}
		fmt.Fprintf(s.err, "rendered %d objects\n", len(objs))
		for _, a := range res.Apps {
			if o.all || a.Name == o.app {
				fmt.Fprintf(s.err, "  application %s (cocogen: %s): %d objects\n", a.Name, a.Generator, len(a.Objects))
			}
		}
		u, l := res.Usage, req.Budget
		fmt.Fprintf(s.err, "budgets spent: input-bytes %d of %d, yaml-total-nodes %d of %d, template-steps %d of %d, template-bytes %d of %d, rego-steps %d of %d\n",
			u.InputBytes, l.InputBytes, u.YAMLNodes, l.YAMLTotalNodes, u.TemplateSteps, l.TemplateSteps, u.TemplateBytes, l.TemplateBytes, u.RegoSteps, l.RegoSteps)
	}
	return o.write(s, objs)
}

// runGroups renders every cluster group of the repository (--all-groups).
func (o *renderOptions) runGroups(s streams, req pipeline.Request) error {
	groups, diags, err := pipeline.RenderGroups(req)
	if err != nil {
		if de, ok := err.(*diag.Diagnostics); ok {
			if werr := diag.Write(s.err, o.diagFormat, de.Items, o.verbose); werr != nil {
				return werr
			}
			return &exitError{code: exitInvalid}
		}
		return err
	}
	if err := diag.Write(s.err, o.diagFormat, diags, o.verbose); err != nil {
		return err
	}
	var objs []manifest.Object
	for _, g := range groups {
		if o.verbose {
			fmt.Fprintf(s.err, "cluster group %s: %d objects\n", g.Target, len(g.Result.Objects))
		}
		objs = append(objs, g.Result.Objects...)
	}
	return o.write(s, objs)
}

// write prints or writes the rendered objects.
func (o *renderOptions) write(s streams, objs []manifest.Object) error {
	if len(objs) == 0 {
		// An empty render is never a success: Argo CD would prune everything.
		fmt.Fprintln(s.err, "error: the render produced no objects")
		return &exitError{code: exitInvalid}
	}
	if o.outputDir != "" {
		n, err := writeOutputDir(o.outputDir, o.output, objs)
		if err != nil {
			return err
		}
		if o.verbose {
			fmt.Fprintf(s.err, "wrote %d objects to %s\n", n, o.outputDir)
		}
		return nil
	}
	if o.output == "yaml" {
		// Encoding YAML cannot fail: stream it rather than hold a second copy of the output.
		return manifest.WriteYAML(s.out, objs)
	}
	var buf bytes.Buffer
	if err := manifest.Encode(&buf, o.output, objs); err != nil {
		return err
	}
	_, err := s.out.Write(buf.Bytes())
	return err
}
