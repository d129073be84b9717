package agentpolicy

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"
	"github.com/open-policy-agent/opa/v1/topdown/print"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/regocheck"
	"github.com/cocogen/cocogen/internal/regolimit"
)

// Decision is what the kata agent decides for one request under a policy (src/agent/policy/src/policy.rs,
// allow_request): the entry point's value, whether that allows the request, and why.
type Decision struct {
	Request string
	// Allowed is the agent's answer.
	Allowed bool
	// Value is what data.agent_policy.<Request> evaluated to: a boolean, an {"allowed", "ops"} object, or
	// nil when it is undefined.
	Value any
	// Rule is the rule that gave Value: the first rule of the entry point whose body held, or its default.
	Rule *DecidingRule
	// Prints is what the policy printed while deciding; the agent puts it into the message of a denial.
	Prints []string
	// Problem explains a value the agent cannot use (undefined, not a boolean or a decision object): the
	// agent then fails the request with an internal error.
	Problem string
	// AllowFailures is true when AllowRequestsFailingPolicy turned a denial or a problem into an allow.
	AllowFailures bool
}

// DecidingRule is where the rule that decided is written in the policy.
type DecidingRule struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Text    string `json:"text"` // the rule's first line
	Default bool   `json:"default"`
}

// Decide evaluates the policy src (the text the agent loads: package agent_policy) for one request, as the
// agent of o.Kata does: data.agent_policy.<request> with input as the request's JSON, compiled against the
// builtins that agent has, builtin errors making an expression undefined, print output gathered, and
// AllowRequestsFailingPolicy honoured. name is how the policy's file is shown.
func Decide(ctx context.Context, name string, src []byte, request string, input any, o Options) (*Decision, error) {
	if !slices.Contains(EntryPoints, request) {
		return nil, fmt.Errorf("unknown request %q: the agent asks its policy about %s", request, strings.Join(EntryPoints, ", "))
	}
	caps, err := capabilitiesFor(o.Kata)
	if err != nil {
		return nil, err
	}
	mod, err := ast.ParseModuleWithOpts(name, string(guestPackage(src)), ast.ParserOptions{RegoVersion: ast.RegoV1, Capabilities: caps})
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	c := ast.NewCompiler().WithCapabilities(caps).WithEnablePrintStatements(true)
	if c.Compile(map[string]*ast.Module{name: mod}); c.Failed() {
		return nil, fmt.Errorf("%s: %w", name, c.Errors)
	}
	store := inmem.NewFromObject(map[string]any{"pstate": map[string]any{}})
	d := &Decision{Request: request}
	var prints printed
	tracer := topdown.NewBufferTracer()
	rs, err := evalQuery(ctx, c, store, "data."+Package+"."+request, input,
		[]rego.EvalOption{rego.EvalQueryTracer(tracer), rego.EvalPrintHook(&prints)}, rego.EnablePrintStatements(true))
	if err != nil {
		return nil, fmt.Errorf("%s: %s: %w", name, request, err)
	}
	d.Prints = prints
	switch {
	case len(rs) == 0 || len(rs[0].Expressions) == 0:
		d.Problem = fmt.Sprintf("%s is undefined for this request: the agent fails it with an internal error", request)
	case len(rs) != 1 || len(rs[0].Expressions) != 1:
		d.Problem = fmt.Sprintf("%s has %d results: the agent needs exactly one", request, len(rs))
	default:
		d.Value = rs[0].Expressions[0].Value
		if msg := checkDecision(d.Value); msg != "" {
			d.Problem = fmt.Sprintf("%s must be a boolean or an object {\"allowed\": bool, \"ops\": [JSON patch]}; %s", request, msg)
		} else {
			d.Allowed = allowedBy(d.Value)
		}
	}
	d.Rule = decidingRule(mod, request, src, name, *tracer, d.Value)
	if !d.Allowed {
		rs, err := evalQuery(ctx, c, store, "data."+Package+"."+allowFailures, input, nil)
		if err == nil && len(rs) == 1 && len(rs[0].Expressions) == 1 && rs[0].Expressions[0].Value == true {
			d.Allowed, d.AllowFailures = true, true
		}
	}
	return d, nil
}

// allowedBy reads a valid decision value: true, or {"allowed": true, ...}.
func allowedBy(value any) bool {
	switch v := value.(type) {
	case bool:
		return v
	case map[string]any:
		b, _ := v["allowed"].(bool)
		return b
	}
	return false
}

// decidingRule finds the rule of the entry point whose body held during the evaluation (the first, by
// position, when several did), or the entry point's default rule when none did and the value is its default.
func decidingRule(mod *ast.Module, request string, src []byte, name string, trace topdown.BufferTracer, value any) *DecidingRule {
	var held []*ast.Rule
	for _, evt := range trace {
		r, ok := evt.Node.(*ast.Rule)
		if ok && evt.Op == topdown.ExitOp && !r.Default && regocheck.RuleName(r) == request && len(r.Head.Args) == 0 {
			held = append(held, r)
		}
	}
	lines := bytes.Split(src, []byte("\n"))
	at := func(r *ast.Rule) *DecidingRule {
		line := r.Location.Row
		text := ""
		if line >= 1 && line <= len(lines) {
			text = strings.TrimSpace(string(lines[line-1]))
		}
		return &DecidingRule{File: name, Line: line, Text: text, Default: r.Default}
	}
	if len(held) > 0 {
		slices.SortFunc(held, func(a, b *ast.Rule) int { return a.Location.Row - b.Location.Row })
		return at(held[0])
	}
	for _, r := range mod.Rules {
		if r.Default && regocheck.RuleName(r) == request {
			if v, err := ast.InterfaceToValue(value); err == nil && r.Head.Value != nil && r.Head.Value.Value.Compare(v) == 0 {
				return at(r)
			}
		}
	}
	return nil
}

// printed gathers the policy's print() output, one entry per call, as the agent does
// (set_gather_prints(true)).
type printed []string

func (p *printed) Print(_ print.Context, msg string) error {
	*p = append(*p, msg)
	return nil
}

// evalQuery is the one place where this package runs OPA's evaluator for an agent policy: the validator's
// checks of every entry point and Decide both go through it. Evaluation is as in the agent: builtin errors
// make an expression undefined instead of failing the query (regorus set_strict_builtin_errors(false)).
//
// The evaluation spends the Rego budgets of the meter in ctx (regolimit), with evalOpts (tracers, print hooks)
// added to the meter's own.
func evalQuery(ctx context.Context, c *ast.Compiler, store storage.Store, query string, input any, evalOpts []rego.EvalOption, opts ...func(*rego.Rego)) (rego.ResultSet, error) {
	args := append([]func(*rego.Rego){
		rego.Compiler(c),
		// The query is parsed with the compiler's capabilities; without them OPA builds its own full set for
		// every query, a tenth of the time an agent policy's check takes.
		rego.Capabilities(c.Capabilities()),
		rego.Store(store),
		rego.Query(query),
		rego.Input(input),
		rego.StrictBuiltinErrors(false),
	}, opts...)
	m := regolimit.From(ctx)
	if m == nil {
		m = regolimit.NewMeter(budget.Defaults())
	}
	return m.Eval(ctx, rego.New(args...), evalOpts...)
}
