package pipeline

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// sideBySide runs fn(0), …, fn(n-1) concurrently and returns when all have returned. The calls must be
// independent (each writes only its own result); callers report results in index order, so that output and
// diagnostics read the same as a sequential run. A panic in a call is raised again in the caller's goroutine
// once all have returned, so that the command boundary reports it as an internal error, as it would a panic of
// a sequential run (a panic left in a goroutine of its own would end the process).
func sideBySide(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	panics := make([]*callPanic, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					panics[i] = &callPanic{value: r, stack: debug.Stack()}
				}
			}()
			fn(i)
		})
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
}

// callPanic is a panic of a sideBySide call, with the stack of the goroutine where it happened.
type callPanic struct {
	value any
	stack []byte
}

func (p *callPanic) String() string { return fmt.Sprint(p.value) }

// PanicStack returns the stack of the goroutine where the panic happened (cmd/cocogen prints it in debug mode).
func (p *callPanic) PanicStack() []byte { return p.stack }
