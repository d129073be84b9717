// Command writesynthetic writes the render benchmark's synthetic values directory (package synthetic) and
// prints the flags to render it with, so that other renderers can be timed on the same input:
//
//	go run ./internal/synthetic/writesynthetic [-n 2000] DIR
//
// It is a development tool, not part of cocogen.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/cocogen/cocogen/internal/synthetic"
)

func main() {
	n := flag.Int("n", 2000, "number of applications (and namespaces; a tenth as many subscriptions)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: go run ./internal/synthetic/writesynthetic [-n N] DIR\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 || *n < 0 {
		flag.Usage()
		os.Exit(2)
	}
	dir := flag.Arg(0)
	if err := synthetic.Write(dir, *n); err != nil {
		fmt.Fprintf(os.Stderr, "writesynthetic: %v\n", err)
		os.Exit(1)
	}
	fmt.Printf("wrote %d applications to %s; render them with\n", *n, dir)
	fmt.Printf("  cocogen render --repo-root %s --values-dir %s --set %s\n", dir, dir, strings.Join(synthetic.Sets, " --set "))
}
