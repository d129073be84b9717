package agentpolicy

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/cocogen/cocogen/internal/agentpolicy/capabilities"
)

// CapabilitiesJSON is an OPA capabilities file describing the Rego the kata agent accepts: the builtins the
// agent's regorus build registers, the future keywords it knows and the language features its parser
// supports. The validator compiles every agent policy against it, so a builtin the agent lacks is an error
// that names it; the same file works with the upstream CLI:
//
//	opa check --capabilities internal/agentpolicy/capabilities/regorus-kata-agent.json policies/agent/default.rego
//
// It is generated from regorusBuiltins, regoOperators and regorusFeatures with OPA's own declarations
// (go test ./internal/agentpolicy -run TestCapabilitiesFile -update). The file is embedded once, by package
// capabilities, which the Trustee policy checks share.
var CapabilitiesJSON = capabilities.RegorusKataAgentJSON

// regorusBuiltins are the builtin functions the current agent can call: the names registered in the
// BUILTINS map of microsoft/regorus at commit 8986431 (src/builtins/mod.rs and the register() function of each
// module) that are compiled in with the features the agent enables (kata-containers src/agent/policy/Cargo.toml:
// default-features = false, features arc, base64, base64url, regex, std). Left out because their module or
// block needs a feature the agent does not enable: glob.*, graph.* and walk (graph), http.send (http),
// net.cidr_* (net), opa.runtime (opa-runtime), semver.* (semver), time.* (time), uuid.* (uuid), hex.*,
// urlquery.*, yaml.*, json.match_schema and json.verify_schema (jsonschema), test.sleep (opa-testutil).
// regorus at that commit has no crypto.*, io.jwt.* or deprecated builtins at all. Its internal
// __builtin_sets.* helpers have no OPA counterpart. print is handled by the interpreter itself
// (interpreter.rs, "print"); OPA rewrites it to internal.print.
var regorusBuiltins = []string{
	// aggregates.rs
	"count", "max", "min", "product", "sort", "sum",
	// arrays.rs
	"array.concat", "array.reverse", "array.slice",
	// bitwise.rs
	"bits.and", "bits.lsh", "bits.negate", "bits.or", "bits.rsh", "bits.xor",
	// conversions.rs
	"to_number",
	// encoding.rs (base64 and base64url blocks: features base64, base64url)
	"base64.decode", "base64.encode", "base64.is_valid",
	"base64url.decode", "base64url.encode", "base64url.encode_no_pad",
	"json.is_valid", "json.marshal", "json.marshal_with_options", "json.unmarshal",
	// numbers.rs (rand.intn: feature std)
	"abs", "ceil", "floor", "numbers.range", "numbers.range_step", "rand.intn", "round",
	// objects.rs
	"json.filter", "json.remove", "object.filter", "object.get", "object.keys", "object.remove",
	"object.subset", "object.union", "object.union_n",
	// regex.rs (feature regex)
	"regex.find_all_string_submatch_n", "regex.find_n", "regex.is_valid", "regex.match", "regex.replace",
	"regex.split", "regex.template_match",
	// sets.rs
	"intersection", "union",
	// strings.rs
	"concat", "contains", "endswith", "format_int", "indexof", "indexof_n", "lower", "replace", "split",
	"sprintf", "startswith", "strings.any_prefix_match", "strings.any_suffix_match", "strings.count",
	"strings.replace_n", "strings.reverse", "substring", "trim", "trim_left", "trim_prefix", "trim_right",
	"trim_space", "trim_suffix", "upper",
	// tracing.rs
	"trace",
	// types.rs
	"is_array", "is_boolean", "is_null", "is_number", "is_object", "is_set", "is_string", "type_name",
	// units.rs
	"units.parse", "units.parse_bytes",
	// interpreter.rs
	"print", "internal.print",
}

// regoOperators are the OPA builtins behind Rego's operators (=, :=, ==, !=, <, <=, >, >=, +, -, *, /, %, &, |,
// in), which regorus evaluates in its interpreter rather than through BUILTINS.
var regoOperators = []string{
	"and", "assign", "div", "eq", "equal", "gt", "gte", "internal.member_2", "internal.member_3", "lt", "lte",
	"minus", "mul", "neq", "or", "plus", "rem",
}

// regorusFeatures are the OPA language features regorus parses. Left out: keywords_in_refs (regorus rejects a
// keyword after a dot, as in input.in: parser.rs parse_var), template_strings, rego_v2 and rego_v2_import
// (OPA-only syntax).
var regorusFeatures = []string{
	ast.FeatureRefHeadStringPrefixes, ast.FeatureRefHeads, ast.FeatureRegoV1, ast.FeatureRegoV1Import,
}

// regorusFutureKeywords are the keywords `import future.keywords.<kw>` and `import rego.v1` enable in regorus
// (parser.rs FUTURE_KEYWORDS).
var regorusFutureKeywords = []string{"contains", "every", "if", "in"}

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

// generateCapabilities builds the capabilities file from the lists above and OPA's declarations.
func generateCapabilities() ([]byte, error) {
	decls := ast.CapabilitiesForThisVersion().Builtins
	byName := map[string]*ast.Builtin{}
	for _, b := range decls {
		byName[b.Name] = b
	}
	names := slices.Concat(regorusBuiltins, regoOperators)
	slices.Sort(names)
	if c := slices.Compact(slices.Clone(names)); len(c) != len(names) {
		return nil, fmt.Errorf("duplicate builtin names")
	}
	caps := &ast.Capabilities{
		FutureKeywords: slices.Sorted(slices.Values(regorusFutureKeywords)),
		Features:       slices.Sorted(slices.Values(regorusFeatures)),
	}
	for _, n := range names {
		b, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("OPA has no builtin %s", n)
		}
		caps.Builtins = append(caps.Builtins, b.Minimal())
	}
	var buf bytes.Buffer
	enc := newJSONEncoder(&buf, "  ")
	if err := enc.Encode(caps); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// capabilitiesFor returns the capabilities of the agent of release v (the zero value: of every supported
// release, so the builtins only new agents have are removed).
func capabilitiesFor(v KataVersion) (*ast.Capabilities, error) {
	c, err := capabilities.RegorusKataAgent()
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
