package main

import (
	"encoding/json"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
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
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print cocogen's version and the formats it targets",
		Example: `  cocogen version
  cocogen version -o json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			info := buildVersion()
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
				return nil
			}
			return usageError{err: fmt.Errorf("invalid --output %q (valid: text, json)", output), cmd: cmd}
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text, json")
	return cmd
}
