package renderheap

import (
	"runtime"
	"testing"
)

var sink []byte

// TestFloorDelaysCollections checks the collection floor: after Prepare, allocating half of Floor in
// short-lived objects runs no collection (with GOGC at 100 and a heap of a few MB, it would run several).
func TestFloorDelaysCollections(t *testing.T) {
	t.Setenv("GOGC", "")
	Prepare()
	if len(reserve) != Floor {
		t.Fatalf("Prepare kept a reserve of %d bytes, want %d", len(reserve), Floor)
	}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range Floor / 2 / (64 << 10) {
		sink = make([]byte, 64<<10)
	}
	runtime.ReadMemStats(&after)
	if n := after.NumGC - before.NumGC; n != 0 {
		t.Fatalf("%d collections while allocating %d MiB after Prepare (heap goal %d MiB); want none", n, Floor/2>>20, after.NextGC>>20)
	}
}

// TestGOGCSkipsTheFloor checks that GOGC in the environment leaves the pace to it.
func TestGOGCSkipsTheFloor(t *testing.T) {
	reserve = nil
	t.Setenv("GOGC", "100")
	Prepare()
	if reserve != nil {
		t.Fatalf("Prepare kept a reserve of %d bytes with GOGC set", len(reserve))
	}
}

// TestPrepareOnceKeepsTheFirst checks that PrepareOnce does nothing once the process has prepared its heap (as
// package early does before main runs).
func TestPrepareOnceKeepsTheFirst(t *testing.T) {
	t.Setenv("GOGC", "")
	Prepare()
	kept := &reserve[0]
	PrepareOnce()
	if &reserve[0] != kept {
		t.Fatal("PrepareOnce prepared the heap again")
	}
	prepared = false
	PrepareOnce()
	if !prepared || &reserve[0] == kept {
		t.Fatal("PrepareOnce did not prepare a heap that was not prepared")
	}
}
