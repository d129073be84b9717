package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/plugin"
)

func newParametersCommand(s streams) *cobra.Command {
	return &cobra.Command{
		Use:   "parameters",
		Short: "Print the plugin parameters whose defaults depend on the repository (Argo CD's dynamic parameters)",
		Long: `Parameters is the dynamic parameter command of plugin.yaml: Argo CD runs it in the Application's path
when its UI shows the plugin's parameters, with the same environment as generate. It prints a JSON array of
parameter announcements: the cluster group, with the group the repository renders by default (the
parameters that do not depend on the repository are listed in plugin.yaml).

It does not fail on a broken repository, because Argo CD would then show no parameters at all: what it
cannot read is reported on stderr, and the defaults it could not find are left empty.`,
		Example: `  ARGOCD_APP_SOURCE_PATH=. cocogen parameters`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			warn := func(msg string) {
				for l := range strings.SplitSeq(msg, "\n") {
					fmt.Fprintln(s.err, "warning: "+l)
				}
			}
			env, err := plugin.ReadEnv(os.Environ())
			if err != nil {
				warn(err.Error())
			}
			root := ""
			if wd, werr := os.Getwd(); werr == nil {
				if root, werr = plugin.RepoRoot(wd, env.SourcePath); werr != nil {
					warn(werr.Error())
				}
			}
			list, warnings := plugin.Dynamic(env, root)
			for _, w := range warnings {
				warn(w)
			}
			// One line of JSON, without HTML escaping (the UI shows the text).
			enc := json.NewEncoder(s.out)
			enc.SetEscapeHTML(false)
			return enc.Encode(list)
		},
	}
}
