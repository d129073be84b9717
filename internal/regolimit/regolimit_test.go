package regolimit

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/cocogen/cocogen/internal/budget"
)

func eval(t *testing.T, m *Meter, module string) error {
	t.Helper()
	r := rego.New(rego.Query("data.p.x"), rego.Module("p.rego", module), rego.StrictBuiltinErrors(true))
	_, err := m.Eval(context.Background(), r)
	return err
}

// Policies that loop or blow up fail with the budget they spent, quickly and within memory.
func TestHostilePolicies(t *testing.T) {
	cases := []struct {
		name, module, budget string
	}{
		{"numbers.range of 300 million", "package p\nx := count(numbers.range(1, 300000000))", "rego-value-items"},
		{"numbers.range_step", "package p\nx := count(numbers.range_step(1, 300000000, 2))", "rego-value-items"},
		{"cross product", "package p\nx := count([1 | some a in numbers.range(1, 100000); some b in numbers.range(1, 100000)])", "rego-steps"},
		{"doubling with replace", "package p\ns0 := \"xxxxxxxxxx\"\ns1 := replace(s0, \"x\", s0)\ns2 := replace(s1, \"x\", s1)\ns3 := replace(s2, \"x\", s2)\nx := count(replace(s3, \"x\", s3))", "rego-value-bytes"},
		{"concat of a repeated string", "package p\nbig := concat(\"\", [\"x\" | some i in numbers.range(1, 100000)])\nx := count(concat(\"\", [big | some i in numbers.range(1, 20000)]))", "rego-value-bytes"},
		{"sprintf repeating an argument", "package p\nbig := concat(\"\", [\"x\" | some i in numbers.range(1, 100000)])\nx := count(sprintf(concat(\"\", [\"%[1]s\" | some i in numbers.range(1, 100)]), [big]))", "rego-value-bytes"},
		{"big shift", "package p\nx := bits.lsh(1, 1000000000)", "rego-value-bytes"},
		{"repeated squaring", "package p\nn0 := 99999999999999999999\nn1 := n0 * n0\nn2 := n1 * n1\nn3 := n2 * n2\nn4 := n3 * n3\nn5 := n4 * n4\nn6 := n5 * n5\nn7 := n6 * n6\nx := n7 * n7", "rego-value-bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&before)
			l := budget.Defaults()
			l.RegoTime = time.Hour // steps, not the clock, decide
			m := NewMeter(l)
			err := eval(t, m, c.module)
			runtime.ReadMemStats(&after)
			var ex *budget.Exceeded
			if !errors.As(err, &ex) || ex.Budget != c.budget {
				t.Fatalf("error = %v, want budget %s", err, c.budget)
			}
			if grown := after.TotalAlloc - before.TotalAlloc; grown > 512<<20 {
				t.Errorf("allocated %d MiB before failing", grown>>20)
			}
		})
	}
}

func TestStepsAndTime(t *testing.T) {
	l := budget.Defaults()
	l.RegoSteps = 1000
	m := NewMeter(l)
	if err := eval(t, m, "package p\nx := count([i | some i in numbers.range(1, 10)])"); err != nil {
		t.Fatalf("a small policy: %v", err)
	}
	if err := eval(t, m, "package p\nx := count([i | some i in numbers.range(1, 5000)])"); err == nil || !errors.As(err, new(*budget.Exceeded)) {
		t.Fatalf("the shared budget: err = %v", err)
	}
	l = budget.Defaults()
	l.RegoTime = time.Nanosecond
	m = NewMeter(l)
	time.Sleep(time.Millisecond)
	err := eval(t, m, "package p\nx := count([i | some i in numbers.range(1, 50000)])")
	var ex *budget.Exceeded
	if !errors.As(err, &ex) || ex.Budget != "rego-time" {
		t.Fatalf("rego-time: err = %v", err)
	}
}

// Ordinary policies are unaffected, with or without a meter in the context.
func TestOrdinaryPolicy(t *testing.T) {
	module := `package p
x := {"n": count(numbers.range(1, 1000)), "s": concat(",", ["a", "b"]), "r": replace("aaa", "a", "bb"), "m": 12345678901234567890 * 98765432109876543210, "f": sprintf("%s-%d", ["x", 3])}`
	r := rego.New(rego.Query("data.p.x"), rego.Module("p.rego", module))
	rs, err := r.Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("without a meter: %v %v", rs, err)
	}
	if err := eval(t, NewMeter(budget.Defaults()), module); err != nil {
		t.Fatalf("with a meter: %v", err)
	}
}
