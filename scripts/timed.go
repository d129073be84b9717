//go:build ignore

// Runs one command line with its standard output discarded and prints "SECONDS KIB": the wall time from just
// before the process is started to just after it has exited, and its peak resident set size (the kernel's
// ru_maxrss for the child, in KiB on Linux). scripts/bench-vs-helm.sh times each run with it.
//
// Why not /usr/bin/time with bash's clock around it: that span also holds /usr/bin/time's own start, a
// dynamically linked program (`/usr/bin/time /bin/true` took 10-13 ms here, `/bin/true` 4-5 ms), which is the
// same for both renderers but a tenth of cocogen's run. Here the clock starts after this program has started,
// when it spawns the command, as /usr/bin/time's own %e does (whose 10 ms steps are too coarse for a 0.1 s
// run). Not part of any build:
//
//	go build -o /tmp/timed scripts/timed.go && /tmp/timed -stderr /tmp/err.txt -- cocogen render --all
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

func main() {
	errPath := flag.String("stderr", os.DevNull, "file that receives the command's standard error")
	flag.Usage = func() {
		fmt.Fprintf(os.Stderr, "usage: %s [-stderr FILE] -- COMMAND [ARGS...]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	stderr, err := os.Create(*errPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer stderr.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	defer null.Close()
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = null, stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	err = cmd.Wait()
	wall := time.Since(start)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v (its standard error is in %s)\n", flag.Arg(0), err, *errPath)
		os.Exit(1)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		fmt.Fprintln(os.Stderr, "this system reports no resource usage of a child process")
		os.Exit(2)
	}
	fmt.Printf("%.4f %d\n", wall.Seconds(), ru.Maxrss)
}
