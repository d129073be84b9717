package pipeline

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/synthetic"
)

// writeSyntheticRepo writes the synthetic values of package synthetic for n applications into dir.
func writeSyntheticRepo(tb testing.TB, dir string, n int) {
	tb.Helper()
	if err := synthetic.Write(dir, n); err != nil {
		tb.Fatal(err)
	}
}

var benchSets = synthetic.Sets

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
