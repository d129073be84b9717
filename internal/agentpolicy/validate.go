// Package agentpolicy checks kata agent policies (the Rego a Confidential Containers pod VM enforces on every
// request from the host) as strictly as the guest will: the guest's agent loads them into regorus, not OPA, so
// a policy that OPA accepts can still stop a pod. Validate parses a policy in the dialects the target agent
// accepts, compiles it against the builtins regorus has (an OPA capabilities file, CapabilitiesJSON), and
// evaluates every entry point the agent queries. Finalize adds the values' exec allow-list to a policy's
// policy_data block. RunTests runs the Rego unit tests (_test.rego files) beside the policies.
package agentpolicy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/storage"
	"github.com/open-policy-agent/opa/v1/storage/inmem"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/regocheck"
	"github.com/cocogen/cocogen/internal/regolimit"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Package is the package every agent policy declares: the agent queries data.agent_policy.<request>.
const Package = "agent_policy"

// Options say which agent a policy is checked for.
type Options struct {
	// Kata is the release whose agent loads the policy. The zero value checks for every release cocogen
	// supports (3.5.0 and later): the policy must then parse as Rego v0 and v1 and may only call builtins
	// that every one of those agents has.
	Kata KataVersion
	// Meter spends the Rego budgets of the render or command (nil: a meter of its own with the default
	// budgets).
	Meter *regolimit.Meter
}

// meter returns the options' meter, or a fresh one with the default budgets.
func (o Options) meter() *regolimit.Meter {
	if o.Meter != nil {
		return o.Meter
	}
	return regolimit.NewMeter(budget.Defaults())
}

// Limits of the current agent (kata-containers src/agent/policy/src/policy.rs, since 3.30.0, with the regorus
// policy length limits of microsoft/regorus#624): regorus refuses a policy with a longer line, more lines or
// more bytes. Lines are counted in characters, as regorus counts columns.
const (
	maxLineRunes = 64*1024 - 1
	maxLines     = 200_000 - 1
	maxBytes     = 16 << 20
)

// Validate checks one agent policy. name is how the file is shown in diagnostics. It reports every problem it
// finds, each with the line and column that caused it; the list has no errors when the policy is fit for the
// agent of o.Kata.
func Validate(name string, src []byte, o Options) *diag.List {
	src = guestPackage(src)
	d := &diag.List{}
	v := &validator{Checker: regocheck.Checker{Name: name, D: d}, src: src, opts: o, meter: o.meter()}
	v.Explain = func(fn string) string { return missingBuiltin(fn, o.Kata) }
	v.run()
	return d
}

// validator checks one agent policy; regocheck.Checker holds the file, its diagnostics and the capabilities.
type validator struct {
	regocheck.Checker
	src   []byte
	opts  Options
	meter *regolimit.Meter
}

func (v *validator) run() {
	if k := v.opts.Kata; !k.IsZero() && k.Less(firstRegorusRelease) {
		v.D.Errorf(srcpos.Pos{File: v.Name}, "", "kata %s runs OPA in the guest, not regorus: cocogen checks agent policies for kata %s and later", k, firstRegorusRelease)
		return
	}
	caps, err := capabilitiesFor(v.opts.Kata)
	if err != nil {
		v.D.Errorf(srcpos.Pos{File: v.Name}, "", "%v", err)
		return
	}
	v.Caps = caps
	if !v.checkText() {
		return
	}
	v1note := ""
	if k := v.opts.Kata; !k.IsZero() && k.Less(firstRegoV1Release) {
		v1note = "as Rego v1, which kata 3.30 and later parse (a policy must keep working after an upgrade): "
	}
	mod := v.parse(ast.RegoV1, v1note)
	if mod == nil {
		return
	}
	if acceptsV0(v.opts.Kata) {
		note := "as Rego v0, the dialect of kata before 3.30: "
		if v.opts.Kata.IsZero() {
			note = "as Rego v0, the dialect of kata before 3.30 (set the kata version to check for one release only): "
		}
		v.parse(ast.RegoV0, note)
	}
	if !v.checkPackage(mod) {
		return
	}
	v.checkImports(mod)
	v.checkPolicyData(mod)
	v.checkDefined(mod)
	compiler := v.Compile(mod, true)
	if compiler == nil {
		return
	}
	v.checkEntryPoints(compiler, mod)
}

// checkText applies what regorus checks before it parses: UTF-8 text, and from kata 3.30 on the agent's length
// limits.
func (v *validator) checkText() bool {
	if !utf8.Valid(v.src) {
		line, col := 1, 1
		for i := 0; i < len(v.src); {
			r, size := utf8.DecodeRune(v.src[i:])
			if r == utf8.RuneError && size <= 1 {
				break
			}
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col++
			}
			i += size
		}
		v.D.Errorf(srcpos.Pos{File: v.Name, Line: line, Col: col}, "", "the policy is not valid UTF-8 text")
		return false
	}
	if k := v.opts.Kata; !k.IsZero() && k.Less(firstRegoV1Release) {
		return true // regorus 0.1 and 0.2 have no length limits
	}
	ok := true
	if len(v.src) > maxBytes {
		v.D.Errorf(srcpos.Pos{File: v.Name}, "", "the policy has %d bytes; the kata agent loads at most %d", len(v.src), maxBytes)
		ok = false
	}
	lines := strings.Split(string(v.src), "\n")
	if len(lines) > maxLines {
		v.D.Errorf(srcpos.Pos{File: v.Name, Line: maxLines + 1, Col: 1}, "", "the policy has %d lines; the kata agent loads at most %d", len(lines), maxLines)
		ok = false
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > maxLineRunes {
			v.D.Errorf(srcpos.Pos{File: v.Name, Line: i + 1, Col: maxLineRunes + 1}, "", "the line has %d characters; the kata agent's Rego engine accepts at most %d per line", n, maxLineRunes)
			ok = false
		}
	}
	return ok
}

func (v *validator) parse(version ast.RegoVersion, note string) *ast.Module {
	if len(strings.TrimSpace(string(v.src))) == 0 {
		v.D.Errorf(srcpos.Pos{File: v.Name, Line: 1, Col: 1}, "", "the policy is empty: it needs `package %s` and a rule for every request the agent checks", Package)
		return nil
	}
	mod, _ := v.Parse(v.src, version, note)
	return mod
}

var futureKeywordsRef = ast.MustParseRef("future.keywords")

func (v *validator) checkPackage(mod *ast.Module) bool {
	got := strings.TrimPrefix(mod.Package.Path.String(), "data.")
	if got != Package {
		v.Errorf(mod.Package.Location, "the package must be %s: the agent queries data.%s.<request>; this policy declares package %s", Package, Package, got)
		return false
	}
	return true
}

// checkImports rejects what regorus refuses although OPA accepts it (parser.rs set_future_keyword, "this import
// shadows previous import"): `import rego.v1` together with `import future.keywords...` or twice, and, in the v1
// mode of kata 3.30 and later, a future keyword imported twice.
func (v *validator) checkImports(mod *ast.Module) {
	var regoV1 *ast.Import
	seen := map[string]*ast.Import{}
	var future []*ast.Import
	for _, imp := range mod.Imports {
		path, ok := imp.Path.Value.(ast.Ref)
		if !ok {
			continue
		}
		if path.Equal(ast.RegoV1CompatibleRef) {
			if regoV1 != nil {
				v.Errorf(imp.Location, "`import rego.v1` is already at line %d: the kata agent's Rego engine rejects a repeated import", regoV1.Location.Row)
				continue
			}
			regoV1 = imp
			continue
		}
		if !path.HasPrefix(futureKeywordsRef) {
			continue
		}
		future = append(future, imp)
		kws := regocheck.RegorusFutureKeywords
		if len(path) > 2 {
			if s, ok := path[2].Value.(ast.String); ok {
				kws = []string{string(s)}
			}
		}
		for _, kw := range kws {
			if prev, dup := seen[kw]; dup && (v.opts.Kata.IsZero() || !acceptsV0(v.opts.Kata)) {
				v.Errorf(imp.Location, "future keyword %q is already imported at line %d: the Rego engine of kata 3.30 and later rejects a repeated keyword import", kw, prev.Location.Row)
				break
			}
			seen[kw] = imp
		}
	}
	if regoV1 == nil {
		return
	}
	for _, imp := range future {
		v.Errorf(imp.Location, "`import %s` cannot be combined with `import rego.v1` (line %d): the kata agent's Rego engine rejects the mix; keep only `import rego.v1`", refText(imp.Path), regoV1.Location.Row)
	}
}

// checkDefined reports the entry points the policy has no rule for.
func (v *validator) checkDefined(mod *ast.Module) {
	defined := map[string]bool{}
	for _, r := range mod.Rules {
		defined[regocheck.RuleName(r)] = true
	}
	for _, ep := range EntryPoints {
		if !defined[ep] {
			v.Errorf(mod.Package.Location, "%s is not defined: the agent fails every %s with an internal error; add `default %s := false` (or true)", ep, ep, ep)
		}
	}
}

// checkEntryPoints evaluates data.agent_policy.<request> for every request the agent checks, with an empty
// request as input, the way the agent does: each must give exactly one value, a boolean or an object
// {"allowed": bool, "ops": [JSON patch]}.
func (v *validator) checkEntryPoints(c *ast.Compiler, mod *ast.Module) {
	ctx := regolimit.With(context.Background(), v.meter)
	store := inmem.NewFromObject(map[string]any{"pstate": map[string]any{}})
	rules := map[string]*ast.Rule{}
	for _, r := range mod.Rules {
		name := regocheck.RuleName(r)
		if _, ok := rules[name]; !ok {
			rules[name] = r
		}
	}
	for _, ep := range append(EntryPoints, allowFailures) {
		rule := rules[ep]
		if rule == nil {
			continue // checkDefined has reported it
		}
		value, defined, err := evalEntryPoint(ctx, c, store, ep)
		switch {
		case err != nil:
			loc := rule.Location
			var te *topdown.Error
			if errors.As(err, &te) && te.Location != nil {
				loc = te.Location
			}
			v.Errorf(loc, "%s: evaluating it for an empty request fails: %s", ep, regocheck.EvalMessage(err))
		case !defined && ep != allowFailures:
			v.Errorf(rule.Location, "%s is undefined for an empty request: the agent fails such a call with an internal error; add `default %s := false` (or true)", ep, ep)
		case !defined:
		case ep == allowFailures:
			if b, ok := value.(bool); ok && b {
				v.Warnf(rule.Location, "%s is true: the agent allows every request this policy denies or leaves undefined (for debugging only)", ep)
			}
		default:
			if msg := checkDecision(value); msg != "" {
				v.Errorf(rule.Location, "%s must be a boolean or an object {\"allowed\": bool, \"ops\": [JSON patch]}; %s", ep, msg)
			}
		}
	}
}

func evalEntryPoint(ctx context.Context, c *ast.Compiler, store storage.Store, ep string) (any, bool, error) {
	rs, err := evalQuery(ctx, c, store, "data."+Package+"."+ep, map[string]any{}, nil)
	if err != nil {
		return nil, false, err
	}
	if len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, false, nil
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return nil, false, fmt.Errorf("%d results; the agent needs exactly one", len(rs))
	}
	return rs[0].Expressions[0].Value, true, nil
}

// refText writes an import path the way it is written in Rego (future.keywords.in).
func refText(t *ast.Term) string {
	ref, ok := t.Value.(ast.Ref)
	if !ok {
		return t.String()
	}
	parts := make([]string, len(ref))
	for i, p := range ref {
		switch x := p.Value.(type) {
		case ast.Var:
			parts[i] = string(x)
		case ast.String:
			parts[i] = string(x)
		default:
			parts[i] = p.String()
		}
	}
	return strings.Join(parts, ".")
}

var patchOps = map[string]bool{"add": true, "remove": true, "replace": true, "move": true, "copy": true, "test": true}

// checkDecision explains what is wrong with an entry point's value, or returns "" when the agent accepts it
// (src/agent/policy/src/policy.rs allow_request: a bool, or an object that deserialises as
// MetadataResponse{allowed: bool, ops: Option<json_patch::Patch>}).
func checkDecision(value any) string {
	switch x := value.(type) {
	case bool:
		return ""
	case map[string]any:
		allowed, ok := x["allowed"]
		if !ok {
			return "the object has no \"allowed\" key"
		}
		if _, ok := allowed.(bool); !ok {
			return fmt.Sprintf("\"allowed\" is %s, not a boolean", short(allowed))
		}
		ops, ok := x["ops"]
		if !ok || ops == nil {
			return ""
		}
		list, ok := ops.([]any)
		if !ok {
			return fmt.Sprintf("\"ops\" is %s, not a JSON patch (an array of operations)", short(ops))
		}
		for i, op := range list {
			o, ok := op.(map[string]any)
			if !ok {
				return fmt.Sprintf("ops[%d] is %s, not a JSON patch operation", i, short(op))
			}
			name, _ := o["op"].(string)
			if !patchOps[name] {
				return fmt.Sprintf("ops[%d].op is %s; want add, remove, replace, move, copy or test", i, short(o["op"]))
			}
			if _, ok := o["path"].(string); !ok {
				return fmt.Sprintf("ops[%d] has no string \"path\"", i)
			}
			if name == "move" || name == "copy" {
				if _, ok := o["from"].(string); !ok {
					return fmt.Sprintf("ops[%d] (%s) has no string \"from\"", i, name)
				}
			}
			if name == "add" || name == "replace" || name == "test" {
				if _, ok := o["value"]; !ok {
					return fmt.Sprintf("ops[%d] (%s) has no \"value\"", i, name)
				}
			}
		}
		return ""
	}
	return fmt.Sprintf("it evaluates to %s", short(value))
}

// short renders a value as JSON for a message, cut to a readable length.
func short(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	s := string(b)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
