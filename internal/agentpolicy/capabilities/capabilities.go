// Package capabilities holds the OPA capabilities file that describes regorus, the Rego engine of the kata
// agent and of Trustee, as the kata agent builds it, and the OPA error helper both policy checkers use.
// internal/agentpolicy generates the file and checks agent policies against it; this package embeds it, so
// that packages agentpolicy itself depends on (the Trustee policy checks in internal/trusteepolicy) load the
// same bytes.
package capabilities

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// RegorusKataAgentJSON is the capabilities file regorus-kata-agent.json (the same bytes as
// agentpolicy.CapabilitiesJSON).
//
//go:embed regorus-kata-agent.json
var RegorusKataAgentJSON []byte

var load = sync.OnceValues(func() (*ast.Capabilities, error) {
	return ast.LoadCapabilitiesJSON(bytes.NewReader(RegorusKataAgentJSON))
})

// RegorusKataAgent returns the capabilities of RegorusKataAgentJSON: the builtins, future keywords and language
// features regorus has. The result is the caller's own copy: appending a builtin to it changes nothing else.
func RegorusKataAgent() (*ast.Capabilities, error) {
	base, err := load()
	if err != nil {
		return nil, fmt.Errorf("load the embedded regorus capabilities: %w", err)
	}
	c := *base
	c.Builtins = slices.Clone(base.Builtins)
	c.FutureKeywords = slices.Clone(base.FutureKeywords)
	c.Features = slices.Clone(base.Features)
	return &c, nil
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
