package pipeline

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/manifest"
)

// writeSyntheticRepo writes a Validated Patterns values directory with n map-form applications (half
// single-source with a templated override, half multi-source), n namespaces, n/10 subscriptions and one
// templated sharedValueFiles entry: the shape used to time `helm template` of the clustergroup chart.
func writeSyntheticRepo(tb testing.TB, dir string, n int) {
	tb.Helper()
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
	files := map[string]string{
		"values-global.yaml":        "global:\n  pattern: bench\n  singleArgoCD: true\n  options:\n    useCSV: false\n    syncPolicy: Automatic\n    installPlanApproval: Automatic\nmain:\n  clusterGroupName: hub\n",
		"values-hub.yaml":           b.String(),
		"overrides/values-AWS.yaml": "global:\n  extra: true\n",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
}

var benchSets = []string{
	"global.repoURL=https://git.example.com/bench.git", "global.targetRevision=main",
	"global.hubClusterDomain=apps.hub.example.com", "global.localClusterDomain=apps.hub.example.com",
	"global.clusterDomain=hub.example.com", "global.clusterPlatform=AWS", "global.clusterVersion=4.18",
	"global.localClusterName=hub", "global.multiSourceSupport=true", "global.vpArgoNamespace=vp-gitops",
	"global.multiSourceRepoUrl=https://charts.example.com/", "global.multiSourceTargetRevision=0.9.*",
}

// renderBytes is the whole job of `cocogen render`: read, layer, decode, generate, sort and encode.
func renderBytes(tb testing.TB, req Request) []byte {
	res, err := Render(req)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	manifest.EncodeYAML(&buf, res.Objects)
	return buf.Bytes()
}

// BenchmarkRender times a full render (files to YAML bytes) of synthetic cluster groups. The 2,000-application
// case is the size at which `helm template` of the clustergroup chart takes 2–3 s on a 2-core machine.
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{10, 100, 2000} {
		b.Run(fmt.Sprintf("apps=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			writeSyntheticRepo(b, dir, n)
			req := disk(b, dir, dir, Request{Sets: benchSets})
			out := renderBytes(b, req)
			b.SetBytes(int64(len(out)))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				renderBytes(b, req)
			}
		})
	}
}

// BenchmarkRenderBuiltin times a render of the repository's own pattern.
func BenchmarkRenderBuiltin(b *testing.B) {
	req := disk(b, "../..", "../../values", Request{})
	renderBytes(b, req)
	b.ReportAllocs()
	for b.Loop() {
		renderBytes(b, req)
	}
}

// BenchmarkRenderHubAndSpoke times render --all of the built-in trusted-hub (which renders its spoke's
// cluster too, for the reference values) and of the spoke.
func BenchmarkRenderHubAndSpoke(b *testing.B) {
	for _, g := range []string{"trusted-hub", "spoke"} {
		b.Run(g, func(b *testing.B) {
			req := disk(b, "../..", "../../values", Request{ClusterGroup: g, All: true})
			renderBytes(b, req)
			b.ReportAllocs()
			for b.Loop() {
				renderBytes(b, req)
			}
		})
	}
}

// TestSyntheticRenderIsComplete checks the benchmark input renders what it should, so the benchmark measures
// a real render: every application, namespace, OperatorGroup, subscription and the project.
func TestSyntheticRenderIsComplete(t *testing.T) {
	dir := t.TempDir()
	const n = 200
	writeSyntheticRepo(t, dir, n)
	res, err := Render(disk(t, dir, dir, Request{Sets: benchSets}))
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, o := range res.Objects {
		counts[o.Kind()]++
	}
	want := map[string]int{"Application": n, "Namespace": n + 1 /* + imperative */, "OperatorGroup": n, "Subscription": n / 10, "AppProject": 1}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%s: got %d, want %d", k, counts[k], v)
		}
	}
	out := renderBytes(t, disk(t, dir, dir, Request{Sets: benchSets}))
	if !bytes.Contains(out, []byte("value: app-0000.apps.hub.example.com")) {
		t.Errorf("templated override not rendered")
	}
	if !bytes.Contains(out, []byte("- $patternref/overrides/values-AWS.yaml")) {
		t.Errorf("templated sharedValueFiles entry not rendered")
	}
}

var syntheticDir = flag.String("synthetic", "", "write the 2,000-application benchmark values to this directory (to time other renderers on them)")

// TestWriteSynthetic writes the benchmark input when -synthetic DIR is given, e.g. to time `helm template` of
// the clustergroup chart on the same values (see README, Performance).
func TestWriteSynthetic(t *testing.T) {
	if *syntheticDir == "" {
		t.Skip("run with -synthetic DIR to write the benchmark values")
	}
	writeSyntheticRepo(t, *syntheticDir, 2000)
	t.Logf("wrote %s; facts: --set %s", *syntheticDir, strings.Join(benchSets, " --set "))
}
