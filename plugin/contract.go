package plugin

import (
	"fmt"
	"strings"
)

// contractRow is one input of the plugin: how an Application sets it and what it means.
type contractRow struct {
	env, param, flag, meaning string
}

// contract is the plugin's input contract, in the order of the table that `cocogen generate --help` and the
// README show (a test keeps the README's copy equal to ContractTable).
var contract = []contractRow{
	{"`COCOGEN_APP`", "—", "`--app`", "the application whose objects to render (one whose source is the cocogen plugin); unset: the cluster group's app-of-apps tree"},
	{"`COCOGEN_CLUSTER_GROUP`", "`cluster-group` (string)", "`--cluster-group`", "the cluster group; unset: `main.clusterGroupName` of `values-global.yaml`"},
	{"`COCOGEN_CLUSTER`", "—", "`--cluster`", "the cluster (its ACM ManagedCluster name) whose metadata file `clusters/<group>/<name>.yaml` of the values directory the render reads; the hub's ACM policy sets it on each spoke's root Application"},
	{"`COCOGEN_VALUES_DIR`", "`values-dir` (string)", "`--values-dir`", "repository path of the values directory; unset: `values`"},
	{"`COCOGEN_METADATA`", "`metadata` (string)", "`--metadata`", "repository path of the cluster metadata file; unset: `cluster-metadata.yaml` in the values directory, if present"},
	{"`COCOGEN_SET`", "`set` (array)", "`--set`", "Helm `--set` arguments (`key=value[,key=value]`): one per line of the env value, one per item of the parameter"},
	{"`COCOGEN_SET_STRING`", "`set-string` (array)", "`--set-string`", "like `COCOGEN_SET`, but every value is a string"},
	{"`COCOGEN_FACT_<KEY>`", "—", "`--fact key=value`", "a cluster fact over the metadata file, the metadata key in upper snake case: `COCOGEN_FACT_AZURE_LOCATION` is `azure.location`, `COCOGEN_FACT_KBS_TRUST_ANCHOR_MODE` is `kbs.trustAnchor.mode`"},
	{"`ARGOCD_APP_SOURCE_REPO_URL`, `ARGOCD_APP_SOURCE_TARGET_REVISION` (from Argo CD)", "—", "`--set-string global.repoURL=…`, `--set-string global.targetRevision=…`", "the Application's own source, as the Validated Patterns operator injects it, so that child Applications follow the fork and branch Argo CD reads; skipped when a set names the key"},
	{"`ARGOCD_APP_SOURCE_PATH` (from Argo CD)", "—", "`--repo-root .` (at the root)", "finds the repository root: the working directory without this path at its end; nothing outside the root is read (Argo CD's checkout has no `.git`, so a local render of such a tree names its root)"},
	{"`COCOGEN_BUDGET_<NAME>` (the sidecar container's own environment, not `ARGOCD_ENV_`)", "—", "`--budget name=value`", "a resource budget (Limits); an Application cannot set it"},
	{"`ARGOCD_APP_NAME`, `ARGOCD_APP_NAMESPACE`, `ARGOCD_APP_REVISION`, `KUBE_VERSION` (from Argo CD)", "—", "—", "shown in messages only: they never change the output, so Argo CD's manifest cache stays correct"},
}

// ContractTable returns the plugin's input contract as a Markdown table.
func ContractTable() string {
	var b strings.Builder
	b.WriteString("| plugin env (`spec.source.plugin.env`; the command sees `ARGOCD_ENV_<name>`) | parameter (`spec.source.plugin.parameters`) | `cocogen render` flag | meaning |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, r := range contract {
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", r.env, r.param, r.flag, r.meaning)
	}
	return b.String()
}

// ContractText returns the plugin's input contract as plain text for `cocogen generate --help`: one entry per
// input, its name, then how a parameter and a `cocogen render` flag set the same, then what it means, wrapped
// to fit a terminal. The README keeps the Markdown table (ContractTable).
func ContractText() string {
	var b strings.Builder
	b.WriteString("Inputs: the plugin env (spec.source.plugin.env; the command sees ARGOCD_ENV_<name>), the parameters\n")
	b.WriteString("(spec.source.plugin.parameters) and the cocogen render flag that sets the same:\n")
	for _, r := range contract {
		fmt.Fprintf(&b, "\n  %s\n", plain(r.env))
		if r.param != "—" {
			fmt.Fprintf(&b, "      parameter: %s\n", plain(r.param))
		}
		if r.flag != "—" {
			fmt.Fprintf(&b, "      render flag: %s\n", plain(r.flag))
		}
		for _, line := range wrap(plain(r.meaning), 98) {
			fmt.Fprintf(&b, "      %s\n", line)
		}
	}
	return b.String()
}

// PrecedenceText is Precedence as plain text, wrapped.
func PrecedenceText() string { return strings.Join(wrap(plain(Precedence), 104), "\n") }

// plain drops the Markdown code quotes.
func plain(s string) string { return strings.ReplaceAll(s, "`", "") }

// wrap breaks s into lines of at most width characters at spaces.
func wrap(s string, width int) []string {
	var lines []string
	line := ""
	for _, w := range strings.Fields(s) {
		if line != "" && len(line)+1+len(w) > width {
			lines = append(lines, line)
			line = ""
		}
		if line != "" {
			line += " "
		}
		line += w
	}
	return append(lines, line)
}

// Precedence explains which layer wins, for the help text and the README.
const Precedence = "Later wins: the metadata file in Git < the Application's source (repoURL, targetRevision) < the plugin env < the parameters. " +
	"Unset and empty variables are the same. An unknown `ARGOCD_ENV_` name or parameter is an error, not ignored."
