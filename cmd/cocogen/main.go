// Command cocogen renders Confidential Containers GitOps patterns: Validated Patterns values into the Argo CD
// app-of-apps tree, and readable policies into the encoded configuration a cluster runs.
package main

import (
	"os"
	"runtime"
	"runtime/debug"

	"github.com/cocogen/cocogen/internal/hugeheap"
)

func main() {
	// The CLI never writes a heap profile: sampling allocations for one only costs each short-lived process
	// the profiler's stack walks and tables.
	runtime.MemProfileRate = 0
	// Go's default collector pace (GOGC 100) is kept: GOGC 400 saved about 5% of the CPU time of a
	// 2,000-application render but raised its peak RSS from about 83 to 89 MiB, once to 101 MiB (README,
	// Performance). The soft limit keeps the Argo CD sidecar's memory (512 MiB in deploy/) safe: near it the
	// collector runs as often as it must. GOMEMLIMIT in the environment still wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(384 << 20)
	}
	cmd := newRootCommand(streams{in: os.Stdin, out: os.Stdout, err: os.Stderr, prepareHeap: prepareHeap})
	os.Exit(run(cmd, os.Args[1:]))
}

// prepareHeap backs the heap of a render with transparent huge pages where Linux gives them on advice: a
// 2,000-application render spent a third of its time in page faults on 4 KiB pages (README, Performance).
func prepareHeap() { hugeheap.Prepare() }
