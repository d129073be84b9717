package appofapps

import (
	"errors"
	"strings"
	"testing"
)

// TestEvaluateKeepsAPanic: the values ConfigMap is evaluated in its own goroutine, where a panic would end
// the process before the command could report it; evaluate turns it into a result that Render raises again
// in its own goroutine, with the stack of the goroutine where it happened.
func TestEvaluateKeepsAPanic(t *testing.T) {
	res := evaluate(func() (string, error) { panic("injected") })
	if res.panicked == nil {
		t.Fatal("the panic was lost")
	}
	if got := res.panicked.String(); got != "injected" {
		t.Errorf("panic value %q, want injected", got)
	}
	if !strings.Contains(string(res.panicked.PanicStack()), "TestEvaluateKeepsAPanic") {
		t.Errorf("the stack does not show where the panic happened:\n%s", res.panicked.PanicStack())
	}
	ok := evaluate(func() (string, error) { return "text", errors.New("e") })
	if ok.panicked != nil || ok.text != "text" || ok.err == nil {
		t.Errorf("evaluate changed a normal result: %+v", ok)
	}
}
