package agentpolicy

import (
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/cocogen/cocogen/internal/regocheck"
)

// The agent's Rego engine is regorus: regocheck.RegorusJSON describes what it accepts, and the gates below what
// older agents lack.

// builtinSince lists builtins that older agents lack, with the first kata release that has them. regorus
// 0.1.4 (kata 3.5.0–3.10.x) has no json.marshal_with_options and no strings.count; the base64 and base64url
// features were enabled in kata 3.28.0. Otherwise the agent's builtin set has not changed since 3.5.0: the
// crypto, jwt and deprecated modules that regorus 0.2.x had were behind features the agent never enabled.
var builtinSince = map[string]KataVersion{
	"json.marshal_with_options": {3, 11, 0},
	"strings.count":             {3, 11, 0},
	"base64.decode":             {3, 28, 0},
	"base64.encode":             {3, 28, 0},
	"base64.is_valid":           {3, 28, 0},
	"base64url.decode":          {3, 28, 0},
	"base64url.encode":          {3, 28, 0},
	"base64url.encode_no_pad":   {3, 28, 0},
}

// capabilitiesFor returns the capabilities of the agent of release v (the zero value: of every supported
// release, so the builtins only new agents have are removed).
func capabilitiesFor(v KataVersion) (*ast.Capabilities, error) {
	c, err := regocheck.Regorus()
	if err != nil {
		return nil, err
	}
	c.Builtins = slices.DeleteFunc(c.Builtins, func(b *ast.Builtin) bool {
		since, gated := builtinSince[b.Name]
		return gated && (v.IsZero() || v.Less(since))
	})
	return c, nil
}

// missingBuiltin explains why the agent of release v cannot call name, or returns "" when name is not an OPA
// builtin at all (then OPA's own "undefined function" message stands).
func missingBuiltin(name string, v KataVersion) string {
	if _, ok := ast.BuiltinMap[name]; !ok {
		return ""
	}
	if since, ok := builtinSince[name]; ok {
		if v.IsZero() {
			return fmt.Sprintf("builtin %s is not available to the kata agent before %s (its Rego engine, regorus, lacks it); set the kata version to %s or later to use it", name, since, since)
		}
		return fmt.Sprintf("builtin %s is not available to the kata %s agent: its Rego engine (regorus) has it only from kata %s", name, v, since)
	}
	return fmt.Sprintf("builtin %s is not available to the kata agent: its Rego engine (regorus, built with features arc, base64, base64url, regex, std) does not implement it", name)
}
