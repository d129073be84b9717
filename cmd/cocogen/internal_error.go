package main

import (
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// debugEnv names the environment variable that adds the stack trace to an internal error, for bug reports.
const debugEnv = "COCOGEN_DEBUG"

// panicStack is implemented by a panic value that was raised again after crossing a goroutine: it carries
// the stack of the goroutine where it happened.
type panicStack interface{ PanicStack() []byte }

// internalError reports a panic that reached a command boundary: one line "error: internal error: <value>",
// the input being processed when it is known, and the stack trace only when COCOGEN_DEBUG=1. Inside Argo CD a
// Go stack trace would fill the application's status; the line says what to report instead. It writes
// nothing to stdout and returns exit code 2.
func internalError(w io.Writer, r any, input string) int {
	fmt.Fprintf(w, "error: internal error: %v\n", r)
	if input != "" {
		fmt.Fprintf(w, "while processing: %s\n", input)
	}
	if os.Getenv(debugEnv) == "1" {
		if ps, ok := r.(panicStack); ok {
			w.Write(ps.PanicStack())
		}
		w.Write(debug.Stack())
	} else {
		fmt.Fprintf(w, "this is a bug in cocogen: please report it with the input above (%s=1 adds the stack trace)\n", debugEnv)
	}
	return exitUsage
}
