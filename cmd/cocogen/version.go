package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/release"
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
	{"Trustee (KBS, attestation service)", "KBS configuration of Trustee " + release.WrittenFormat + " (" + release.WritingCSVs() + ")"},
	{"Peer pods", "Azure, peer-pods-cm of OpenShift sandboxed containers 1.10 and later"},
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
	// Releases are the release tables (internal/release): which operator CSV installs what, and what cocogen
	// writes for it.
	Releases releaseTables `json:"releases"`
}

type releaseTables struct {
	Trustee   []trusteeRow   `json:"trustee"`
	Sandboxed []sandboxedRow `json:"sandboxedContainers"`
	KataInit  []kataRow      `json:"kataInitData"`
}

type trusteeRow struct {
	CSV       string `json:"csv"`
	Catalog   string `json:"catalog"`
	Product   string `json:"product"`
	Trustee   string `json:"trustee"`
	Format    string `json:"format"`
	Admin     string `json:"admin"`
	RefValues string `json:"referenceValues"`
	Writes    bool   `json:"cocogenWrites"`
	Verified  string `json:"verifiedFrom"`
}

type sandboxedRow struct {
	CSV          string `json:"csv"`
	Kata         string `json:"kata,omitempty"`
	KataSeen     string `json:"kataSeen,omitempty"`
	Annotation   string `json:"initDataAnnotation,omitempty"`
	CAADaemonSet string `json:"caaDaemonSet,omitempty"`
	FeatureGates string `json:"featureGates,omitempty"`
	Supported    bool   `json:"cocogenRenders"`
	Verified     string `json:"verifiedFrom"`
}

type kataRow struct {
	Kata   string `json:"kata"`
	Remote string `json:"peerPods"`
	Local  string `json:"bareMetal"`
}

func buildReleaseTables() releaseTables {
	var t releaseTables
	for _, r := range release.TrusteeReleases() {
		t.Trustee = append(t.Trustee, trusteeRow{CSV: r.CSV, Catalog: r.Catalog, Product: r.Product, Trustee: r.Trustee, Format: r.Format,
			Admin: string(r.Admin), RefValues: string(r.RefValues), Writes: r.Writes(), Verified: string(r.Verified)})
	}
	for _, r := range release.SandboxedReleases() {
		row := sandboxedRow{CSV: r.CSV, KataSeen: r.KataSeen, Annotation: r.InitDataAnnotation, CAADaemonSet: r.CAADaemonSet,
			FeatureGates: r.GatesString(), Supported: r.Unsupported == "", Verified: string(r.Verified)}
		if !r.Kata.Min.IsZero() {
			row.Kata = r.Kata.String()
		}
		t.Sandboxed = append(t.Sandboxed, row)
	}
	for _, r := range release.InitDataRules {
		kata := r.Releases.String()
		if r.Releases.Min.IsZero() {
			kata = fmt.Sprintf("before %d.%d", r.Releases.Max.Major, r.Releases.Max.Minor+1)
		}
		t.KataInit = append(t.KataInit, kataRow{Kata: kata, Remote: annotationText(r.Remote, r.RemoteIgnored), Local: annotationText(r.Local, false)})
	}
	return t
}

func annotationText(name string, ignored bool) string {
	switch {
	case name == "":
		return "none"
	case ignored:
		return name + " (ignored: the VM boots with peer-pods-cm INITDATA)"
	}
	return name
}

// writeReleaseTables prints the release tables as aligned text.
func writeReleaseTables(w *tabwriter.Writer, t releaseTables) {
	yes := func(b bool, y, n string) string {
		if b {
			return y
		}
		return n
	}
	fmt.Fprintln(w, "Trustee operator releases (clusterGroup.subscriptions csv; internal/release/trustee.go):")
	fmt.Fprintln(w, "  CSV\tCATALOG\tPRODUCT\tFORMAT\tADMIN\tCOCOGEN\tVERIFIED FROM")
	for _, r := range t.Trustee {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.CSV, r.Catalog, r.Product, r.Format, r.Admin, yes(r.Writes, "writes", "refused"), r.Verified)
	}
	fmt.Fprintln(w, "Sandboxed containers releases (internal/release/sandboxed.go):")
	fmt.Fprintln(w, "  CSV\tKATA\tINIT-DATA ANNOTATION\tCAA DAEMONSET\tFEATURE GATES\tCOCOGEN\tVERIFIED FROM")
	for _, r := range t.Sandboxed {
		fmt.Fprintf(w, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.CSV, dash(r.Kata), dash(strings.TrimPrefix(r.Annotation, "io.katacontainers.config.")), dash(r.CAADaemonSet), dash(r.FeatureGates), yes(r.Supported, "renders", "refused"), r.Verified)
	}
	fmt.Fprintln(w, "Kata init-data annotation (internal/release/kata.go, read in kata-containers at each tag):")
	fmt.Fprintln(w, "  KATA\tPEER PODS (kata-remote)\tBARE METAL (kata-cc)")
	for _, r := range t.KataInit {
		fmt.Fprintf(w, "  %s\t%s\t%s\n", r.Kata, r.Remote, r.Local)
	}
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
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
	info.Releases = buildReleaseTables()
	return info
}

func newVersionCommand(s streams) *cobra.Command {
	var output string
	var budgets bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print cocogen's version, the formats it targets and the operator releases it knows",
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
				tw := tabwriter.NewWriter(s.out, 0, 0, 2, ' ', 0)
				writeReleaseTables(tw, info.Releases)
				if err := tw.Flush(); err != nil {
					return err
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
			return fmt.Errorf("internal error: output format %q", output)
		},
	}
	outputFlag(cmd.Flags(), &output, "text", []string{"text", "json"})
	cmd.Flags().BoolVar(&budgets, "budgets", false, "also list the resource budgets of a render in this environment")
	return cmd
}
