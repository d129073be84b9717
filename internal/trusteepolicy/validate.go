package trusteepolicy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/regocheck"
	"github.com/cocogen/cocogen/internal/regolimit"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Validate checks one Trustee policy of the given kind; name is how the file is shown in diagnostics. The
// source may declare `package policy` or a sub-package `package policy.<name>` (checked as Render renders
// it). Validate parses it as Rego v1, compiles it against Capabilities (so a builtin regorus lacks is an
// error that names it), and evaluates it the way Trustee will:
//
//   - Resource: allow must be defined, and be a boolean for a token whose every submod is affirming and for
//     one with a submod that is only warning, false for the latter.
//   - Attestation: trust_claims must be defined for representative evidence (Azure SEV-SNP and TDX
//     confidential VMs, bare-metal SEV-SNP and TDX, the sample TEE) with query_reference_value answering
//     from sample reference values, and be an object whose keys are among ClaimNames, with integers from 0
//     to MaxClaimValue, not all 0; extensions, when defined, must be a list.
//
// Every problem is a diagnostic with the file and, when known, the line and column; the list has no errors
// when Trustee can use the policy.
func Validate(name string, src []byte, kind Kind) *diag.List {
	return ValidateWith(name, src, kind, nil)
}

// ValidateWith is Validate spending the Rego budgets of m (nil: a meter of its own with the default budgets).
func ValidateWith(name string, src []byte, kind Kind, m *regolimit.Meter) *diag.List {
	if m == nil {
		m = regolimit.NewMeter(budget.Defaults())
	}
	d := &diag.List{}
	v := &validator{Checker: regocheck.Checker{Name: name, D: d, Explain: explainUndefined}, kind: kind, meter: m}
	v.run(src)
	return d
}

// validator checks one Trustee policy; regocheck.Checker holds the file, its diagnostics and the capabilities.
type validator struct {
	regocheck.Checker
	kind  Kind
	mod   *ast.Module
	meter *regolimit.Meter
}

// entryRule is the rule the service that loads a policy of kind k queries.
func entryRule(k Kind) string {
	if k == Resource {
		return AllowRule
	}
	return TrustClaimsRule
}

func (v *validator) run(src []byte) {
	if !slices.Contains(Kinds, v.kind) {
		v.Errorf(nil, "unknown Trustee policy kind %s (valid: %s, %s)", v.kind, Resource, Attestation)
		return
	}
	if len(strings.TrimSpace(string(src))) == 0 {
		v.D.Errorf(srcpos.Pos{File: v.Name, Line: 1, Col: 1}, "", "the policy is empty: the %s policy needs `package %s` and a rule %s", v.kind, Package, entryRule(v.kind))
		return
	}
	if !utf8.Valid(src) {
		v.Errorf(nil, "the policy is not valid UTF-8 text: save it as UTF-8")
		return
	}
	caps, err := Capabilities()
	if err != nil {
		v.Errorf(nil, "%v", err)
		return
	}
	v.Caps = caps
	mod := v.parse(src)
	if mod == nil {
		return
	}
	if !isPolicyPackage(mod.Package.Path) {
		v.Errorf(mod.Package.Location, "the package must be %s (or %s.<name> in the source, which cocogen renders as %s): Trustee queries data.%s.%s; this policy declares package %s",
			Package, Package, Package, Package, entryRule(v.kind), strings.TrimPrefix(mod.Package.Path.String(), "data."))
		return
	}
	rendered, err := Render(src)
	if err != nil {
		v.Errorf(mod.Package.Location, "%v", err)
		return
	}
	if mod = v.parse(rendered); mod == nil {
		return
	}
	if v.kind == Resource {
		if _, _, err := readersBlock(rendered); err != nil {
			v.Errorf(nil, "%v", err)
			return
		}
	}
	v.mod = mod
	v.checkReferenceValueIDs()
	if !v.checkDefined() {
		return
	}
	c := v.Compile(v.mod, false)
	if c == nil {
		return
	}
	switch v.kind {
	case Resource:
		v.checkAllow(c)
	case Attestation:
		v.checkTrustClaims(c)
	}
}

func (v *validator) parse(src []byte) *ast.Module {
	mod, ok := v.Parse(src, ast.RegoV1, "")
	if ok && mod == nil {
		v.D.Errorf(srcpos.Pos{File: v.Name, Line: 1, Col: 1}, "", "the policy has no package clause: start it with `package %s`", Package)
	}
	return mod
}

// explainUndefined says what to call instead of a function Trustee's regorus does not have.
func explainUndefined(fn string) string {
	if _, builtin := ast.BuiltinMap[fn]; builtin {
		return fmt.Sprintf("builtin %s is not available to Trustee: its Rego engine (regorus) does not implement it; use a builtin listed in %s", fn, regocheck.RegorusFile)
	}
	return fmt.Sprintf("undefined function %s: define it in the policy, or call a regorus builtin or %s(id), the only function Trustee adds", fn, QueryReferenceValue.Name)
}

// checkDefined reports a missing entry rule: the service would have nothing to query.
func (v *validator) checkDefined() bool {
	rule := entryRule(v.kind)
	if definesRule(v.mod, rule) {
		return true
	}
	switch v.kind {
	case Resource:
		v.Errorf(v.mod.Package.Location, "allow is not defined: KBS would deny every request; add `default allow := false` and the rules that allow")
	default:
		v.Errorf(v.mod.Package.Location, "trust_claims is not defined: the attestation service fails every attestation; define trust_claims as an object of the AR4SI claims (%s)", strings.Join(ClaimNames, ", "))
	}
	return false
}

// checkReferenceValueIDs warns about query_reference_value calls with a literal id cocogen never registers:
// they always return null.
func (v *validator) checkReferenceValueIDs() {
	var ids []*ast.Term
	// A call inside another expression is an ast.Call term; a call written as a statement of its own is an
	// expression whose terms are the function and its arguments.
	ast.WalkTerms(v.mod, func(t *ast.Term) bool {
		if call, ok := t.Value.(ast.Call); ok && len(call) == 2 && call[0].String() == QueryReferenceValue.Name {
			ids = append(ids, call[1])
		}
		return false
	})
	ast.WalkExprs(v.mod, func(e *ast.Expr) bool {
		if terms, ok := e.Terms.([]*ast.Term); ok && e.IsCall() && len(terms) >= 2 && e.Operator().String() == QueryReferenceValue.Name {
			ids = append(ids, terms[1])
		}
		return false
	})
	for _, t := range ids {
		if id, ok := t.Value.(ast.String); ok && !slices.Contains(ReferenceValueIDs, string(id)) {
			v.Warnf(t.Location, "cocogen registers no reference value %q, so %s returns null for it (cocogen registers: %s)",
				string(id), QueryReferenceValue.Name, strings.Join(ReferenceValueIDs, ", "))
		}
	}
}

// firstRule is the first rule named name, the place a problem with its value is shown when no better one
// is known.
func (v *validator) firstRule(name string) *ast.Rule {
	for _, r := range v.mod.Rules {
		if regocheck.RuleName(r) == name {
			return r
		}
	}
	return nil
}

// ruleWithValue is the rule named name whose head is the literal value, or else the first rule named name.
func (v *validator) ruleWithValue(name string, value any) *ast.Rule {
	if val, err := ast.InterfaceToValue(value); err == nil {
		for _, r := range v.mod.Rules {
			if regocheck.RuleName(r) == name && r.Head.Value != nil && r.Head.Value.Value.Compare(val) == 0 {
				return r
			}
		}
	}
	return v.firstRule(name)
}

// evalTimeout bounds one evaluation: Trustee evaluates the policies for every attestation and request.
const evalTimeout = 10 * time.Second

// evalRule evaluates data.policy.<rule> for input, with data as the rest of the data document and refs as
// the reference values query_reference_value answers with.
func evalRule(ctx context.Context, c *ast.Compiler, rule string, input any, data map[string]any, refs map[string]any) (any, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, evalTimeout)
	defer cancel()
	opts := []func(*rego.Rego){
		rego.Compiler(c),
		rego.Capabilities(c.Capabilities()), // parse the query as the policy was (and without OPA's full set)
		rego.Store(inmem.NewFromObject(data)),
		rego.Query("data." + Package + "." + rule),
		rego.Input(input),
		rego.StrictBuiltinErrors(true),
		rego.Function1(&rego.Function{Name: QueryReferenceValue.Name, Decl: QueryReferenceValue.Decl}, referenceValues(refs)),
	}
	r := rego.New(opts...)
	var extra []rego.EvalOption
	if t, ok := ctx.Value(timeKey{}).(time.Time); ok {
		extra = append(extra, rego.EvalTime(t))
	}
	m := regolimit.From(ctx)
	if m == nil {
		m = regolimit.NewMeter(budget.Defaults())
	}
	rs, err := m.Eval(ctx, r, extra...)
	if err != nil {
		return nil, false, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, false, nil
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, false, fmt.Errorf("%d results; Trustee needs exactly one", len(rs))
	}
	return rs[0].Expressions[0].Value, true, nil
}

type timeKey struct{}

// WithTime returns a context in which the policies evaluate with t as the time of the attestation (what
// time.now_ns returns), instead of the clock.
func WithTime(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, timeKey{}, t)
}

// referenceValues implements query_reference_value with the values in refs, and null for any other id, as
// Trustee answers for an id nothing is registered under.
func referenceValues(refs map[string]any) rego.Builtin1 {
	return func(_ rego.BuiltinContext, id *ast.Term) (*ast.Term, error) {
		s, ok := id.Value.(ast.String)
		if !ok {
			return nil, fmt.Errorf("%s: the id must be a string, not %s", QueryReferenceValue.Name, ast.ValueName(id.Value))
		}
		value, ok := refs[string(s)]
		if !ok {
			return ast.NullTerm(), nil
		}
		val, err := ast.InterfaceToValue(value)
		if err != nil {
			return nil, err
		}
		return ast.NewTerm(val), nil
	}
}

// evalError reports an evaluation error at its own location when it has one, else at rule.
func (v *validator) evalError(rule *ast.Rule, what string, err error) {
	var loc *ast.Location
	if rule != nil {
		loc = rule.Location
	}
	hint := ""
	var te *topdown.Error
	if errors.As(err, &te) {
		if te.Location != nil {
			loc = te.Location
		}
		switch te.Code {
		case topdown.ConflictErr:
			hint = "; make the conditions of those rules exclude each other (or chain them with else)"
		case topdown.CancelErr:
			hint = fmt.Sprintf(" (it took longer than %s; Trustee evaluates it for every attestation or request, so keep it fast)", evalTimeout)
		}
	}
	v.Errorf(loc, "%s: evaluating it for %s fails: %s%s", ruleNameOf(rule), what, regocheck.EvalMessage(err), hint)
}

func ruleNameOf(r *ast.Rule) string {
	if r == nil {
		return "the policy"
	}
	return regocheck.RuleName(r)
}

// jsonText renders a value for a message, short.
func jsonText(value any) string {
	b, err := json.Marshal(value)
	if err != nil {
		return fmt.Sprint(value)
	}
	const max = 120
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}
