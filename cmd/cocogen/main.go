// Command cocogen renders Confidential Containers GitOps patterns: Validated Patterns values into the Argo CD
// app-of-apps tree, and readable policies into the encoded configuration a cluster runs.
package main

import (
	"os"
)

func main() {
	cmd := newRootCommand(streams{in: os.Stdin, out: os.Stdout, err: os.Stderr})
	os.Exit(run(cmd, os.Args[1:]))
}
