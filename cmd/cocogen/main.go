// Command cocogen renders Confidential Containers GitOps patterns: Validated Patterns values into the Argo CD
// app-of-apps tree, and readable policies into the encoded configuration a cluster runs.
package main

import (
	"os"
	"runtime/debug"
)

func main() {
	// A render is short-lived and allocates most of what it builds up front: collecting garbage less often
	// makes it about 15% faster. GOGC in the environment still wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	// ... but never at the cost of the Argo CD sidecar's memory (512 MiB in deploy/): near this soft limit the
	// collector runs as often as it must. GOMEMLIMIT in the environment still wins.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(384 << 20)
	}
	cmd := newRootCommand(streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	os.Exit(run(cmd, os.Args[1:]))
}
