// Package regolimit bounds the Rego evaluations cocogen runs on policies from the repository being rendered,
// which whoever can push a branch controls. OPA has no instruction limit of its own, so a Meter counts the
// expressions OPA evaluates (OPA asks its Cancel before every expression) and stops the evaluation when the
// rego-steps or rego-time budget is spent; and the builtins that can return far more than they are given
// (numbers.range, replace, concat, sprintf, big numbers, …) are wrapped so that a result larger than
// rego-value-bytes or rego-value-items is refused before it is built.
//
// Import the package for its effect on OPA's builtins, and evaluate with the options of Meter.
package regolimit

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/cocogen/cocogen/internal/budget"
)

// Meter spends the Rego budgets of one render or policy command. It is safe for concurrent use, and it is a
// topdown.Cancel: pass it to an evaluation with Options.
type Meter struct {
	limits    budget.Limits
	steps     atomic.Int64
	start     atomic.Int64
	cancelled atomic.Bool
	spent     atomic.Pointer[budget.Exceeded]
}

// NewMeter returns a meter for the Rego budgets of l.
func NewMeter(l budget.Limits) *Meter { return &Meter{limits: l} }

// Limits are the budgets the meter spends.
func (m *Meter) Limits() budget.Limits { return m.limits }

// Steps is the number of expressions evaluated so far.
func (m *Meter) Steps() int64 { return m.steps.Load() }

// Exceeded returns the budget that stopped an evaluation, if any.
func (m *Meter) Exceeded() *budget.Exceeded { return m.spent.Load() }

func (m *Meter) fail(name, what string) {
	m.spent.CompareAndSwap(nil, m.limits.Exceed(name, what))
	m.cancelled.Store(true)
}

// Cancel stops every evaluation that uses the meter.
func (m *Meter) Cancel() { m.cancelled.Store(true) }

// Cancelled is called by OPA before every expression it evaluates: it spends a step, and every few thousand
// steps it checks the clock.
func (m *Meter) Cancelled() bool {
	if m.cancelled.Load() {
		return true
	}
	s := m.steps.Add(1)
	if m.limits.RegoSteps > 0 && s > m.limits.RegoSteps {
		m.fail("rego-steps", "a policy evaluates too many expressions (a loop over a large range or a cross product?)")
		return true
	}
	if s == 1 || s%1024 == 0 {
		now := time.Now().UnixNano()
		m.start.CompareAndSwap(0, now)
		if m.limits.RegoTime > 0 && time.Duration(now-m.start.Load()) > m.limits.RegoTime {
			m.fail("rego-time", "policies were evaluated for too long")
			return true
		}
	}
	return false
}

// Options are the evaluation options that make a prepared query spend the meter.
func (m *Meter) Options() []rego.EvalOption {
	return []rego.EvalOption{rego.EvalExternalCancel(m)}
}

// Eval evaluates r, prepared, under the meter, with the evaluation options extra (tracers, print hooks: a
// prepared query takes them at evaluation, not from r): the meter's budget error replaces OPA's
// cancellation error.
func (m *Meter) Eval(ctx context.Context, r *rego.Rego, extra ...rego.EvalOption) (rego.ResultSet, error) {
	ctx = With(ctx, m)
	pq, err := r.PrepareForEval(ctx)
	if err != nil {
		return nil, err
	}
	rs, err := pq.Eval(ctx, append(m.Options(), extra...)...)
	return rs, m.Err(err)
}

// Err returns the meter's budget error when err comes from a spent budget, else err.
func (m *Meter) Err(err error) error {
	if err == nil {
		return nil
	}
	if ex := m.Exceeded(); ex != nil {
		return ex
	}
	var ex *budget.Exceeded
	if errors.As(err, &ex) {
		return ex
	}
	return err
}

// Tracer is a topdown.QueryTracer that spends the meter at every evaluation event, for evaluations that take
// no Cancel (OPA's test runner): when the budget is spent it calls stop, which should cancel the context the
// evaluation runs with.
type Tracer struct {
	M    *Meter
	Stop func()
}

func (t Tracer) Enabled() bool { return true }

func (t Tracer) TraceEvent(topdown.Event) {
	if t.M.Cancelled() && t.Stop != nil {
		t.Stop()
	}
}

func (t Tracer) Config() topdown.TraceConfig { return topdown.TraceConfig{PlugLocalVars: false} }

type ctxKey struct{}

// With returns a context that carries the meter, whose limits the wrapped builtins then apply.
func With(ctx context.Context, m *Meter) context.Context { return context.WithValue(ctx, ctxKey{}, m) }

// From returns the meter of a context, or nil.
func From(ctx context.Context) *Meter {
	if ctx == nil {
		return nil
	}
	m, _ := ctx.Value(ctxKey{}).(*Meter)
	return m
}

// limitsOf are the limits that apply to a builtin call: those of the meter in its context, else the defaults.
func limitsOf(ctx context.Context) budget.Limits {
	if m := From(ctx); m != nil {
		return m.limits
	}
	return budget.Defaults()
}

// valueError is the error of a builtin whose result would exceed a value budget.
func valueError(ctx context.Context, name, what string) error {
	l := limitsOf(ctx)
	if m := From(ctx); m != nil {
		m.fail(name, what)
		return m.Exceeded()
	}
	return l.Exceed(name, what)
}

// Error formats an evaluation error for a diagnostic: the budget error when a budget was spent.
func Error(err error) string {
	var ex *budget.Exceeded
	if errors.As(err, &ex) {
		return ex.Error()
	}
	return fmt.Sprint(err)
}
