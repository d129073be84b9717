// Package early prepares the heap of a command that renders (renderheap.Prepare) while the program's packages
// are being initialised, before most of them allocate, rather than when the command starts: what they
// allocate then lands in huge pages too, and the collection that frees the probe has less to mark. The
// packages of cmd/cocogen allocate about 1.9 MB as they are initialised, 1.3 MB of it after this package; a
// render of the built-in pattern took about 450 fewer page faults in its heap (1,060–1,110 → 610–700, 3 runs
// of `perf record -e page-faults -d`), and 8–9 ms less (README, Performance, Earlier rounds). cmd/cocogen
// imports this package for that effect; the command then finds its heap prepared (renderheap.PrepareOnce).
//
// Go initialises a package after the packages it imports, and otherwise in the order of import paths
// (the Go specification, "Package initialization"), so this package runs after the standard library's and a
// part of the other packages' initialisation, before OPA's and kustomize's.
//
// It recognises a command that renders by the first argument (Renders); any other command line, such as
// flags before the command, leaves the heap to the command, which prepares it when it starts.
package early

import (
	"os"
	"slices"

	"github.com/cocogen/cocogen/internal/renderheap"
)

// Commands are the commands of cmd/cocogen that render, and so prepare their heap (cmd/cocogen's tests check
// the list against the commands).
var Commands = []string{"render", "generate", "diff"}

// Renders reports whether the command line args (without the program name) runs a command that renders.
func Renders(args []string) bool {
	return len(args) > 0 && slices.Contains(Commands, args[0])
}

func init() {
	if Renders(os.Args[1:]) {
		renderheap.Prepare()
	}
}
