package regocheck

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"slices"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"
)

// RegorusJSON is an OPA capabilities file describing the Rego that regorus, the Rego engine of the kata agent
// and of Trustee, accepts as the kata agent builds it: the builtins it registers, the future keywords it knows
// and the language features its parser supports. Both policy checkers compile against it, so a builtin
// regorus lacks is an error that names it; the same file works with the upstream CLI:
//
//	opa check --capabilities internal/regocheck/regorus.json policies/agent/default.rego
//
// It is generated from RegorusBuiltins, regoOperators, regorusFeatures and RegorusFutureKeywords with OPA's
// own declarations (go test ./internal/regocheck -run TestCapabilitiesFile -update).
//
//go:embed regorus.json
var RegorusJSON []byte

// RegorusFile is where RegorusJSON lives in the repository, for messages that point at it.
const RegorusFile = "internal/regocheck/regorus.json"

// RegorusBuiltins are the builtin functions the current agent can call: the names registered in the
// BUILTINS map of microsoft/regorus at commit 8986431 (src/builtins/mod.rs and the register() function of each
// module) that are compiled in with the features the agent enables (kata-containers src/agent/policy/Cargo.toml:
// default-features = false, features arc, base64, base64url, regex, std). Left out because their module or
// block needs a feature the agent does not enable: glob.*, graph.* and walk (graph), http.send (http),
// net.cidr_* (net), opa.runtime (opa-runtime), semver.* (semver), time.* (time), uuid.* (uuid), hex.*,
// urlquery.*, yaml.*, json.match_schema and json.verify_schema (jsonschema), test.sleep (opa-testutil).
// regorus at that commit has no crypto.*, io.jwt.* or deprecated builtins at all. Its internal
// __builtin_sets.* helpers have no OPA counterpart. print is handled by the interpreter itself
// (interpreter.rs, "print"); OPA rewrites it to internal.print.
var RegorusBuiltins = []string{
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

// RegorusFutureKeywords are the keywords `import future.keywords.<kw>` and `import rego.v1` enable in regorus
// (parser.rs FUTURE_KEYWORDS).
var RegorusFutureKeywords = []string{"contains", "every", "if", "in"}

// regorus builds the capabilities of regorus from the lists above and OPA's declarations of those builtins.
// RegorusJSON is its JSON encoding (generateCapabilities; TestCapabilitiesFile keeps the two equal), so the
// checkers build it rather than decode the file: decoding takes milliseconds at every start of a short-lived
// process, building takes microseconds.
func regorus() (*ast.Capabilities, error) {
	decls := ast.CapabilitiesForThisVersion().Builtins
	byName := make(map[string]*ast.Builtin, len(decls))
	for _, b := range decls {
		byName[b.Name] = b
	}
	names := slices.Concat(RegorusBuiltins, regoOperators)
	slices.Sort(names)
	if c := slices.Compact(slices.Clone(names)); len(c) != len(names) {
		return nil, fmt.Errorf("duplicate builtin names")
	}
	caps := &ast.Capabilities{
		FutureKeywords: slices.Sorted(slices.Values(RegorusFutureKeywords)),
		Features:       slices.Sorted(slices.Values(regorusFeatures)),
	}
	for _, n := range names {
		b, ok := byName[n]
		if !ok {
			return nil, fmt.Errorf("OPA has no builtin %s", n)
		}
		caps.Builtins = append(caps.Builtins, b.Minimal())
	}
	return caps, nil
}

// generateCapabilities writes the capabilities file: the JSON encoding of regorus().
func generateCapabilities() ([]byte, error) {
	caps, err := regorus()
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(caps); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

var load = sync.OnceValues(regorus)

// Regorus returns the capabilities of RegorusJSON (built, not decoded). The result is the caller's own copy:
// appending a builtin to it, or deleting one, changes nothing else.
func Regorus() (*ast.Capabilities, error) {
	base, err := load()
	if err != nil {
		return nil, fmt.Errorf("build the regorus capabilities: %w", err)
	}
	c := *base
	c.Builtins = slices.Clone(base.Builtins)
	c.FutureKeywords = slices.Clone(base.FutureKeywords)
	c.Features = slices.Clone(base.Features)
	return &c, nil
}
