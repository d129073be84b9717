package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/budget"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; otherwise it comes from the module.
var version = ""

// targets are the formats and engines this build of cocogen renders for.
var targets = []struct{ Name, Version string }{
	{"Validated Patterns clustergroup chart", "0.9.x (behaviour of 0.9.55)"},
	{"Argo CD Application/AppProject", "argoproj.io/v1alpha1"},
	{"OLM Subscription", "operators.coreos.com/v1alpha1"},
	{"OLM OperatorGroup", "operators.coreos.com/v1"},
	{"cocogen cluster metadata", "cocogen.io/v1alpha1 ClusterMetadata"},
	{"Init-data", "version 0.1.0 (sha256, sha384, sha512), gzip+base64"},
	{"Kata agent policy", "regorus dialect of kata 3.5.0 and later; annotation names by kata release"},
	{"Trustee (KBS, attestation service)", "0.21 (trustee-operator v0.21.0 KbsConfig)"},
	{"Peer pods", "Azure, peer-pods-cm of OpenShift sandboxed containers 1.9 and later"},
	{"Argo CD config management plugin", "CMP v2 sidecar (tested with argocd-cmp-server v2.14.21)"},
}

// engines are the libraries inside this binary whose behaviour the output depends on.
var engines = []string{"github.com/open-policy-agent/opa", "sigs.k8s.io/kustomize/api", "github.com/BurntSushi/toml", "go.yaml.in/yaml/v2"}

type versionInfo struct {
	Version   string            `json:"version"`
	Revision  string            `json:"revision,omitempty"`
	GoVersion string            `json:"goVersion"`
	Targets   map[string]string `json:"targets"`
	Engines   map[string]string `json:"engines"`
	// Budgets are the resource budgets a render gets from this environment, by name.
	Budgets map[string]string `json:"budgets,omitempty"`
}

func buildVersion() versionInfo {
	info := versionInfo{Version: version, GoVersion: runtime.Version(), Targets: map[string]string{}, Engines: map[string]string{}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, dep := range bi.Deps {
			for _, e := range engines {
				if dep.Path == e {
					info.Engines[e] = dep.Version
				}
			}
		}
		if info.Version == "" {
			info.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				info.Revision = s.Value
			}
		}
	}
	if info.Version == "" {
		info.Version = "(devel)"
	}
	for _, t := range targets {
		info.Targets[t.Name] = t.Version
	}
	return info
}

func newVersionCommand(s streams) *cobra.Command {
	var output string
	var budgets bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print cocogen's version and the formats it targets",
		Example: `  cocogen version
  cocogen version -o json
  cocogen version --budgets                         # the resource budgets, their values here and how to change them
  COCOGEN_BUDGET_TEMPLATE_STEPS=5000000 cocogen version --budgets`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := buildVersion()
			var limits budget.Limits
			if budgets {
				var err error
				if limits, err = budget.FromEnv(os.LookupEnv, nil); err != nil {
					return usageError{err: err, cmd: cmd}
				}
				info.Budgets = map[string]string{}
				for _, b := range budget.All {
					info.Budgets[b.Name] = b.Format(limits)
				}
			}
			switch output {
			case "json":
				enc := json.NewEncoder(s.out)
				enc.SetIndent("", "  ")
				return enc.Encode(info)
			case "text":
				fmt.Fprintf(s.out, "cocogen %s", info.Version)
				if info.Revision != "" {
					fmt.Fprintf(s.out, " (%s)", info.Revision)
				}
				fmt.Fprintf(s.out, " %s\n", info.GoVersion)
				for _, t := range targets {
					fmt.Fprintf(s.out, "  %-40s %s\n", t.Name, t.Version)
				}
				for _, e := range engines {
					if v := info.Engines[e]; v != "" {
						fmt.Fprintf(s.out, "  %-40s %s\n", e, v)
					}
				}
				if budgets {
					fmt.Fprintln(s.out, "Budgets (--budget NAME=VALUE, or the environment variable):")
					defaults := budget.Defaults()
					for _, b := range budget.All {
						note := ""
						if v, d := b.Format(limits), b.Format(defaults); v != d {
							note = " (default " + d + ")"
						}
						fmt.Fprintf(s.out, "  %-18s %-9s %-36s %s%s\n", b.Name, b.Format(limits), b.Env(), b.Help, note)
					}
				}
				return nil
			}
			return usageError{err: fmt.Errorf("invalid --output %q (valid: text, json)", output), cmd: cmd}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json")
	cmd.Flags().BoolVar(&budgets, "budgets", false, "also list the resource budgets of a render in this environment")
	return cmd
}
