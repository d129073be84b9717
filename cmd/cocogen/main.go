// Command cocogen renders Confidential Containers GitOps patterns: Validated Patterns values into the Argo CD
// app-of-apps tree, and readable policies into the encoded configuration a cluster runs.
package main

import (
	"os"
	"runtime"
	"runtime/debug"

	"github.com/cocogen/cocogen/internal/renderheap"
	// Prepares the heap of a render while the packages are initialised (see the package).
	_ "github.com/cocogen/cocogen/internal/renderheap/early"
)

func main() {
	// The CLI never writes a heap profile: sampling allocations for one only costs each short-lived process
	// the profiler's stack walks and tables.
	runtime.MemProfileRate = 0
	// Go's default collector pace (GOGC 100) is kept; the commands that render add a floor of 32 MiB to it
	// (prepareHeap), so that a render of the built-in pattern runs no collection and a large one runs with
	// at most 32 MiB more heap. The soft limit keeps the Argo CD sidecar's memory (512 MiB in deploy/) safe:
	// near it the collector runs as often as it must. GOMEMLIMIT in the environment still wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(384 << 20)
	}
	cmd := newRootCommand(streams{in: os.Stdin, out: os.Stdout, err: os.Stderr, prepareHeap: prepareHeap})
	os.Exit(run(cmd, os.Args[1:]))
}

// prepareHeap sets up the heap of a render: transparent huge pages where Linux gives them on advice, and a
// collection floor (internal/renderheap; README, Performance). Package early has done it already when the
// command line starts with the command.
func prepareHeap() { renderheap.PrepareOnce() }
