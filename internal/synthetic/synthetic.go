// Package synthetic writes the large, regular Validated Patterns values the render benchmarks use: n
// map-form applications (half single-source with a templated override, half multi-source), n namespaces,
// n/10 subscriptions and one templated sharedValueFiles entry. It is the shape used to time `helm template`
// of the clustergroup chart against `cocogen render` on the same input (README, Performance); write it with
//
//	go run ./internal/synthetic/writesynthetic /tmp/synth2000
package synthetic

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Sets are the --set flags the synthetic values are rendered with: the facts Argo CD and the
// Validated Patterns operator pass to the clustergroup chart.
var Sets = []string{
	"global.repoURL=https://git.example.com/bench.git", "global.targetRevision=main",
	"global.hubClusterDomain=apps.hub.example.com", "global.localClusterDomain=apps.hub.example.com",
	"global.clusterDomain=hub.example.com", "global.clusterPlatform=AWS", "global.clusterVersion=4.18",
	"global.localClusterName=hub", "global.multiSourceSupport=true", "global.vpArgoNamespace=vp-gitops",
	"global.multiSourceRepoUrl=https://charts.example.com/", "global.multiSourceTargetRevision=0.9.*",
}

// Files returns the values directory for n applications: file name (slash-separated, relative to the
// directory) to content.
func Files(n int) map[string]string {
	var b strings.Builder
	b.WriteString("clusterGroup:\n  name: hub\n  sharedValueFiles:\n    - /overrides/values-{{ $.Values.global.clusterPlatform }}.yaml\n  argoProjects:\n    - hub\n  namespaces:\n")
	for i := range n {
		fmt.Fprintf(&b, "    ns-%04d:\n", i)
	}
	b.WriteString("  subscriptions:\n")
	for i := range n / 10 {
		fmt.Fprintf(&b, "    sub-%04d:\n      name: operator-%04d\n      namespace: ns-%04d\n      channel: stable\n", i, i, i)
	}
	b.WriteString("  applications:\n")
	for i := range n {
		fmt.Fprintf(&b, "    app-%04d:\n      name: app-%04d\n      namespace: ns-%04d\n      argoProject: hub\n", i, i, i)
		if i%2 == 0 {
			fmt.Fprintf(&b, "      path: charts/app-%04d\n      overrides:\n        - name: route.host\n          value: app-%04d.{{ $.Values.global.localClusterDomain }}\n", i, i)
		} else {
			fmt.Fprintf(&b, "      chart: chart-%04d\n      chartVersion: 1.0.*\n", i)
		}
	}
	return map[string]string{
		"values-global.yaml":        "global:\n  pattern: bench\n  singleArgoCD: true\n  options:\n    useCSV: false\n    syncPolicy: Automatic\n    installPlanApproval: Automatic\nmain:\n  clusterGroupName: hub\n",
		"values-hub.yaml":           b.String(),
		"overrides/values-AWS.yaml": "global:\n  extra: true\n",
	}
}

// Write writes Files(n) below dir, creating the directories it needs.
func Write(dir string, n int) error {
	files := Files(n)
	for _, name := range slices.Sorted(func(yield func(string) bool) {
		for k := range files {
			if !yield(k) {
				return
			}
		}
	}) {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(files[name]), 0o644); err != nil {
			return err
		}
	}
	return nil
}
