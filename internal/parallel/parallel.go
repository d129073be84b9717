// Package parallel runs independent work of a render side by side. A panic in that work is raised again in
// the goroutine that waits for it, where the command boundary recovers it and reports an internal error with
// the stack of the goroutine where it happened; a panic left in a goroutine of its own would end the process.
package parallel

import (
	"fmt"
	"runtime/debug"
	"sync"
)

// Each runs fn(0), …, fn(n-1) concurrently and returns when all have returned. The calls must be independent
// (each writes only its own result); callers report results in index order, so that output and diagnostics
// read the same as a sequential run. A panic in a call is raised again once all have returned.
func Each(n int, fn func(i int)) {
	if n == 1 {
		fn(0)
		return
	}
	panics := make([]*Panic, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { panics[i] = catch(func() { fn(i) }) })
	}
	wg.Wait()
	for _, p := range panics {
		if p != nil {
			panic(p)
		}
	}
}

// Start runs fn in a goroutine of its own and returns a function that waits for it to return and raises a
// panic of fn again. Waiting again returns at once and raises nothing: the caller (one goroutine) may wait
// where it needs the result and, deferred, on every path, so that nothing outlives it.
func Start(fn func()) (wait func()) {
	var p *Panic
	done := make(chan struct{})
	go func() {
		defer close(done)
		p = catch(fn)
	}()
	waited := false
	return func() {
		<-done
		if !waited {
			waited = true
			if p != nil {
				panic(p)
			}
		}
	}
}

// catch runs fn and returns its panic, if it panicked.
func catch(fn func()) (p *Panic) {
	defer func() {
		if r := recover(); r != nil {
			p = &Panic{Value: r, Stack: debug.Stack()}
		}
	}()
	fn()
	return nil
}

// Panic is a panic of work run by Each or Start, with the stack of the goroutine where it happened.
type Panic struct {
	Value any
	Stack []byte
}

func (p *Panic) String() string { return fmt.Sprint(p.Value) }

// PanicStack returns the stack of the goroutine where the panic happened (cmd/cocogen prints it in debug mode).
func (p *Panic) PanicStack() []byte { return p.Stack }
