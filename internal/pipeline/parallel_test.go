package pipeline

import (
	"strings"
	"testing"
)

func TestSideBySideRunsEveryCall(t *testing.T) {
	for _, n := range []int{0, 1, 5} {
		got := make([]int, n)
		sideBySide(n, func(i int) { got[i] = i + 1 })
		for i, v := range got {
			if v != i+1 {
				t.Errorf("n=%d: call %d did not run", n, i)
			}
		}
	}
}

// A panic in one call reaches the caller's goroutine (where the command boundary recovers it) after the other
// calls have finished, with the stack of the goroutine where it happened.
func TestSideBySideRaisesAPanicInTheCaller(t *testing.T) {
	done := make([]bool, 3)
	defer func() {
		r := recover()
		p, ok := r.(*callPanic)
		if !ok {
			t.Fatalf("recovered %T %v, want *callPanic", r, r)
		}
		if p.String() != "boom" || !strings.Contains(string(p.PanicStack()), "parallel_test.go") {
			t.Errorf("panic %q with stack %s", p.String(), p.PanicStack())
		}
		if !done[0] || !done[2] {
			t.Errorf("the other calls did not finish before the panic was raised: %v", done)
		}
	}()
	sideBySide(3, func(i int) {
		if i == 1 {
			panic("boom")
		}
		done[i] = true
	})
	t.Fatal("sideBySide returned after a panic")
}
