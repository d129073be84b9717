package parallel

import (
	"strings"
	"testing"
)

func TestEachRunsEveryCall(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		got := make([]int, n)
		Each(n, func(i int) { got[i] = i + 1 })
		for i, v := range got {
			if v != i+1 {
				t.Errorf("n=%d: call %d did not run", n, i)
			}
		}
	}
}

// A panic in one call reaches the caller's goroutine (where the command boundary recovers it) after the other
// calls have finished, with the stack of the goroutine where it happened.
func TestEachRaisesAPanicInTheCaller(t *testing.T) {
	done := make([]bool, 3)
	defer func() {
		r := recover()
		p, ok := r.(*Panic)
		if !ok {
			t.Fatalf("recovered %T %v, want *Panic", r, r)
		}
		if p.String() != "boom" || !strings.Contains(string(p.PanicStack()), "parallel_test.go") {
			t.Errorf("panic %q with stack %s", p.String(), p.PanicStack())
		}
		if !done[0] || !done[2] {
			t.Errorf("the other calls did not finish before the panic was raised: %v", done)
		}
	}()
	Each(3, func(i int) {
		if i == 1 {
			panic("boom")
		}
		done[i] = true
	})
	t.Fatal("Each returned after a panic")
}

// TestStartKeepsAPanic: work started in a goroutine of its own would end the process with a panic before the
// command could report it; the wait raises it in the waiter's goroutine, once, with the stack of the goroutine
// where it happened.
func TestStartKeepsAPanic(t *testing.T) {
	wait := Start(func() { panic("injected") })
	func() {
		defer func() {
			p, ok := recover().(*Panic)
			if !ok {
				t.Fatal("the panic was lost")
			}
			if got := p.String(); got != "injected" {
				t.Errorf("panic value %q, want injected", got)
			}
			if !strings.Contains(string(p.PanicStack()), "TestStartKeepsAPanic") {
				t.Errorf("the stack does not show where the panic happened:\n%s", p.PanicStack())
			}
		}()
		wait()
		t.Fatal("the wait returned after a panic")
	}()
	wait() // a second wait (a deferred one) raises nothing more

	text := ""
	wait = Start(func() { text = "text" })
	wait()
	if text != "text" {
		t.Errorf("Start changed a normal result: %q", text)
	}
}
