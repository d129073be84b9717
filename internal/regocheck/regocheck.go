// Package regocheck is the base both policy checkers build on (internal/agentpolicy for the kata agent's
// policies, internal/trusteepolicy for Trustee's): the capabilities of regorus, the Rego engine of the agent
// and of Trustee (RegorusJSON), and a Checker that parses and compiles a policy against them and turns OPA's
// errors into diagnostics on the policy's lines. It knows nothing of either policy: what a policy must
// define, and how it is evaluated, belongs to the package of that policy.
package regocheck

import (
	"errors"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/topdown"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Checker collects the problems of one policy file. Name is how the file is shown in diagnostics; Caps are
// the capabilities the policy is parsed and compiled against; Explain, when set, rewrites OPA's "undefined
// function <name>" message (return "" to keep OPA's).
type Checker struct {
	Name    string
	D       *diag.List
	Caps    *ast.Capabilities
	Explain func(function string) string
}

// Pos is where loc points in the checked file (the file alone when loc is nil).
func (c *Checker) Pos(loc *ast.Location) srcpos.Pos {
	if loc == nil {
		return srcpos.Pos{File: c.Name}
	}
	return srcpos.Pos{File: c.Name, Line: loc.Row, Col: loc.Col}
}

// Errorf reports an error at loc.
func (c *Checker) Errorf(loc *ast.Location, format string, args ...any) {
	c.D.Errorf(c.Pos(loc), "", format, args...)
}

// Warnf reports a warning at loc.
func (c *Checker) Warnf(loc *ast.Location, format string, args ...any) {
	c.D.Warnf(c.Pos(loc), "", format, args...)
}

var undefinedFunction = lazyre.New(`^undefined function (\S+)$`)

// AddASTErrors reports OPA parse and compile errors, each prefixed with note and at its own location.
func (c *Checker) AddASTErrors(err error, note string) {
	for _, e := range ASTErrors(err) {
		msg := e.Message
		if m := undefinedFunction.FindStringSubmatch(msg); m != nil && c.Explain != nil {
			if why := c.Explain(m[1]); why != "" {
				msg = why
			}
		}
		c.Errorf(e.Location, "%s%s", note, msg)
	}
}

// Parse parses src in the given Rego version against c.Caps. ok is false when it reported a parse error; mod is
// nil also when src has no package clause (nothing is reported then: what to say is the caller's).
func (c *Checker) Parse(src []byte, version ast.RegoVersion, note string) (mod *ast.Module, ok bool) {
	mod, err := ast.ParseModuleWithOpts(c.Name, string(src), ast.ParserOptions{RegoVersion: version, Capabilities: c.Caps})
	if err != nil {
		c.AddASTErrors(err, note)
		return nil, false
	}
	return mod, true
}

// Compile compiles mod against c.Caps (with print statements when print is set) and reports the compile
// errors; it returns nil when there are any.
func (c *Checker) Compile(mod *ast.Module, print bool) *ast.Compiler {
	comp := ast.NewCompiler().WithCapabilities(c.Caps).WithEnablePrintStatements(print)
	comp.Compile(map[string]*ast.Module{c.Name: mod})
	if comp.Failed() {
		c.AddASTErrors(comp.Errors, "")
		return nil
	}
	return comp
}

// ASTErrors returns the OPA errors err carries (one without a location when it carries none).
func ASTErrors(err error) []*ast.Error {
	var errs ast.Errors
	if errors.As(err, &errs) {
		return errs
	}
	var e *ast.Error
	if errors.As(err, &e) {
		return []*ast.Error{e}
	}
	return []*ast.Error{{Code: "error", Message: err.Error()}}
}

// AddErrors adds OPA parse or compile errors to d as diagnostics; an error without a position is put on file.
func AddErrors(d *diag.List, file string, err error) {
	for _, e := range ASTErrors(err) {
		p := srcpos.Pos{File: file}
		if e.Location != nil {
			p = srcpos.Pos{File: e.Location.File, Line: e.Location.Row, Col: e.Location.Col}
		}
		d.Errorf(p, "", "%s", e.Message)
	}
}

// RuleName is the first segment of a rule's head: the name a query reaches ("" for a head that does not
// start with a name).
func RuleName(r *ast.Rule) string {
	ref := r.Head.Ref()
	if len(ref) == 0 {
		return ""
	}
	if s, ok := ref[0].Value.(ast.Var); ok {
		return string(s)
	}
	return ""
}

// EvalMessage is an evaluation error's message on one line.
func EvalMessage(err error) string {
	msg := err.Error()
	var te *topdown.Error
	if errors.As(err, &te) {
		msg = te.Message
	}
	fields := strings.Split(msg, "\n")
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	return strings.Join(slices.DeleteFunc(fields, func(s string) bool { return s == "" }), " ")
}
