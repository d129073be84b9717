package main

import (
	"bytes"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cocogen/cocogen"
	"github.com/cocogen/cocogen/internal/bootstrap"
	"github.com/cocogen/cocogen/internal/manifest"
)

func newBootstrapCommand(s streams) *cobra.Command {
	o := bootstrap.Options{PluginYAML: cocogen.PluginYAML}
	output := "yaml"
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Print the objects that start the pattern on an empty OpenShift cluster (for oc apply -f -)",
		Long: `Bootstrap prints what an empty OpenShift cluster needs to run the pattern from your fork:

  - the OpenShift GitOps operator (Namespace, OperatorGroup, Subscription), with the Argo CD instance in
    --argo-namespace made cluster-scoped and without the operator's default instance;
  - that Argo CD instance (ArgoCD, named like its namespace), whose repo-server runs cocogen as the
    config management plugin sidecar "cocogen", and the ConfigMap with plugin.yaml;
  - a ClusterRoleBinding that makes its application controller cluster-admin (the pattern installs
    operators), as the Validated Patterns clustergroup chart does;
  - the root Application: it renders the cluster group's app-of-apps tree from --repo-url at --revision
    with the cocogen plugin, syncs automatically and does not prune.

--argo-namespace must be the namespace the child Applications are rendered into (global.vpArgoNamespace,
gitops.argoNamespace of the cluster metadata; vp-gitops in the built-in pattern). The ArgoCD and Application
kinds exist only once the operator runs, so apply until everything is accepted (see the example).`,
		Example: `  # Build and push the sidecar image first (Containerfile), then:
  cocogen bootstrap --repo-url https://github.com/me/cocogen.git --revision main \
    --image quay.io/me/cocogen:v0.1.0 > bootstrap.yaml
  until oc apply -f bootstrap.yaml; do sleep 20; done`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			objs, err := bootstrap.Objects(o)
			if err != nil {
				return usageError{err: err, cmd: cmd}
			}
			var buf bytes.Buffer
			if err := manifest.Encode(&buf, output, objs); err != nil {
				return err
			}
			_, err = s.out.Write(buf.Bytes())
			return err
		},
	}
	f := cmd.Flags()
	bootstrapFlags(f, &o)
	outputFlag(f, &output, "yaml", manifest.Formats)
	return cmd
}

// bootstrapFlags binds the flags that say what bootstrap prints and install applies.
func bootstrapFlags(f *pflag.FlagSet, o *bootstrap.Options) {
	f.StringVar(&o.RepoURL, "repo-url", "", "Git repository the root Application renders: your fork (required)")
	f.StringVar(&o.Revision, "revision", bootstrap.DefaultRevision, "branch, tag or commit of --repo-url")
	f.StringVar(&o.ClusterGroup, "cluster-group", "", "cluster group to render (default: main.clusterGroupName of values-global.yaml)")
	f.StringVar(&o.Image, "image", "", "cocogen sidecar image, built from Containerfile (required)")
	f.StringVar(&o.Name, "name", bootstrap.DefaultName, "name of the root Application")
	f.StringVar(&o.ArgoNamespace, "argo-namespace", bootstrap.DefaultArgoNamespace, "namespace (and name) of the Argo CD instance: the pattern's global.vpArgoNamespace")
	f.StringVar(&o.GitOpsNamespace, "gitops-namespace", bootstrap.DefaultGitOpsNamespace, "namespace of the OpenShift GitOps operator")
	f.StringVar(&o.Channel, "gitops-channel", bootstrap.DefaultChannel, "OLM channel of the OpenShift GitOps operator")
}
