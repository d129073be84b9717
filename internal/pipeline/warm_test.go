package pipeline

import (
	"sync/atomic"
	"testing"
)

// TestLoadWarmsKustomizeForOverlays checks that the load phase starts kustomize's warm-up when the render has
// an overlay to build, and only then (not for LoadModel), and that it waits for it before it returns.
func TestLoadWarmsKustomizeForOverlays(t *testing.T) {
	var started, finished atomic.Int32
	warm := warmOverlays
	t.Cleanup(func() { warmOverlays = warm })
	warmOverlays = func() {
		started.Add(1)
		warm()
		finished.Add(1)
	}

	if _, err := Render(disk(t, "../..", "../../values", Request{All: true})); err != nil {
		t.Fatal(err)
	}
	if s, f := started.Load(), finished.Load(); s != 1 || f != 1 {
		t.Fatalf("a render of the built-in pattern (two workloads applications) started the warm-up %d times and saw %d finish; want 1 and 1", s, f)
	}

	dir := t.TempDir()
	writeSyntheticRepo(t, dir, 10)
	if _, err := Render(disk(t, dir, dir, Request{Sets: benchSets})); err != nil {
		t.Fatal(err)
	}
	if s := started.Load(); s != 1 {
		t.Fatalf("a render without workloads applications started the warm-up (%d starts in all)", s)
	}

	if _, err := LoadModel(disk(t, "../..", "../../values", Request{})); err != nil {
		t.Fatal(err)
	}
	if s := started.Load(); s != 1 {
		t.Fatalf("LoadModel, which builds no overlay, started the warm-up (%d starts in all)", s)
	}
}
