package pipeline

import (
	"bytes"
	"fmt"
	"io"
	"testing"

	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/renderheap"
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

// renderBytes renders req and returns its YAML stream.
func renderBytes(tb testing.TB, req Request) []byte {
	var buf bytes.Buffer
	renderTo(tb, &buf, req)
	return buf.Bytes()
}

// renderTo is the whole job of `cocogen render`: read, layer, decode, generate, sort, and encode the YAML stream
// into w the way the command writes its standard output (manifest.WriteYAML). It returns the bytes written.
func renderTo(tb testing.TB, w io.Writer, req Request) int64 {
	res, err := Render(req)
	if err != nil {
		tb.Fatal(err)
	}
	cw := &countingWriter{w: w}
	if err := manifest.WriteYAML(cw, res.Objects); err != nil {
		tb.Fatal(err)
	}
	return cw.n
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// benchRender times renders of req into a discarding writer (the command's job up to its write system calls),
// with the heap the command renders with: cocogen render prepares it before its render (renderheap: the
// collection floor and the huge-page advice), so the benchmarks do too, once per test binary. With GOGC in the
// environment Prepare keeps no floor, and the figures are those of Go's default pace, a library caller's
// (GOGC=100 go test -bench ...; the huge-page advice still applies unless GODEBUG=disablethp=1).
func benchRender(b *testing.B, req Request) {
	renderheap.PrepareOnce()
	b.SetBytes(renderTo(b, io.Discard, req))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		renderTo(b, io.Discard, req)
	}
}

// BenchmarkRender times a full render (files to the YAML stream) of synthetic cluster groups. The
// 2,000-application case is the input of the side-by-side comparison with `helm template` of the clustergroup
// chart (scripts/bench-vs-helm.sh).
func BenchmarkRender(b *testing.B) {
	for _, n := range []int{10, 100, 2000} {
		b.Run(fmt.Sprintf("apps=%d", n), func(b *testing.B) {
			dir := b.TempDir()
			writeSyntheticRepo(b, dir, n)
			benchRender(b, disk(b, dir, dir, Request{Sets: benchSets}))
		})
	}
}

// BenchmarkRenderBuiltin times render --all of the repository's own pattern.
func BenchmarkRenderBuiltin(b *testing.B) {
	benchRender(b, disk(b, "../..", "../../values", Request{All: true}))
}

// BenchmarkRenderHubAndSpoke times render --all of the built-in trusted-hub (which renders its spoke's
// cluster too, for the reference values) and of the spoke.
func BenchmarkRenderHubAndSpoke(b *testing.B) {
	for _, g := range []string{"trusted-hub", "spoke"} {
		b.Run(g, func(b *testing.B) {
			benchRender(b, disk(b, "../..", "../../values", Request{ClusterGroup: g, All: true}))
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
