package regocheck

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

var update = flag.Bool("update", false, "rewrite regorus.json")

// TestCapabilitiesFile keeps the shipped capabilities file equal to what the builtin lists generate.
func TestCapabilitiesFile(t *testing.T) {
	want, err := generateCapabilities()
	if err != nil {
		t.Fatal(err)
	}
	const path = "regorus.json"
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s is stale (go test ./internal/regocheck -run TestCapabilitiesFile -update rewrites it)", path)
	}
}

func TestCapabilitiesContent(t *testing.T) {
	caps, err := ast.LoadCapabilitiesJSON(bytes.NewReader(RegorusJSON))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range caps.Builtins {
		names = append(names, b.Name)
	}
	for _, n := range []string{"regex.match", "concat", "startswith", "count", "is_null", "bits.and", "object.get",
		"array.concat", "json.marshal", "json.unmarshal", "base64.decode", "print", "internal.print", "eq", "assign",
		"internal.member_2", "plus"} {
		if !slices.Contains(names, n) {
			t.Errorf("the agent's regorus has %s, but the capabilities lack it", n)
		}
	}
	for _, n := range []string{"time.now_ns", "crypto.sha256", "http.send", "glob.match", "net.cidr_contains",
		"semver.compare", "uuid.rfc4122", "yaml.marshal", "json.match_schema", "hex.encode", "urlquery.encode",
		"opa.runtime", "walk", "graph.reachable", "io.jwt.decode", "re_match", "internal.template_string"} {
		if slices.Contains(names, n) {
			t.Errorf("the agent's regorus lacks %s, but the capabilities have it", n)
		}
	}
	for _, f := range []string{ast.FeatureKeywordsInRefs, ast.FeatureTemplateStrings, ast.FeatureRegoV2} {
		if caps.ContainsFeature(f) {
			t.Errorf("regorus does not parse feature %s", f)
		}
	}
}

func TestRegorusCopies(t *testing.T) {
	caps, err := Regorus()
	if err != nil {
		t.Fatal(err)
	}
	has := func(name string) bool {
		return slices.ContainsFunc(caps.Builtins, func(b *ast.Builtin) bool { return b.Name == name })
	}
	for _, n := range []string{"count", "is_object", "is_array", "internal.member_2", "object.get"} {
		if !has(n) {
			t.Errorf("regorus has %s, but the capabilities lack it", n)
		}
	}
	for _, n := range []string{"http.send", "time.now_ns", "crypto.sha256"} {
		if has(n) {
			t.Errorf("regorus lacks %s, but the capabilities have it", n)
		}
	}
	// Each call returns a copy: what one caller appends, the next does not see.
	n := len(caps.Builtins)
	caps.Builtins = append(caps.Builtins, &ast.Builtin{Name: "query_reference_value"})
	again, err := Regorus()
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Builtins) != n {
		t.Errorf("a second call has %d builtins, want %d", len(again.Builtins), n)
	}
}

// TestBuiltCapabilitiesDecodeTheSame checks that the capabilities the checkers build are what a decoder of
// RegorusJSON gets (opa check --capabilities): the same builtins with the same declarations, infix operators
// and flags, and the same future keywords and features, so that a policy compiles, and fails with the same
// messages, either way.
func TestBuiltCapabilitiesDecodeTheSame(t *testing.T) {
	decoded, err := ast.LoadCapabilitiesJSON(bytes.NewReader(RegorusJSON))
	if err != nil {
		t.Fatal(err)
	}
	built, err := Regorus()
	if err != nil {
		t.Fatal(err)
	}
	if len(built.Builtins) != len(decoded.Builtins) {
		t.Fatalf("built %d builtins, the file has %d", len(built.Builtins), len(decoded.Builtins))
	}
	for i, b := range built.Builtins {
		d := decoded.Builtins[i]
		flags := func(b *ast.Builtin) string {
			return fmt.Sprintf("%s (infix %q, relation %v, nondeterministic %v, deprecated %v)", b.Name, b.Infix, b.Relation, b.Nondeterministic, b.Deprecated)
		}
		if flags(b) != flags(d) {
			t.Errorf("builtin %d: built %s, decoded %s", i, flags(b), flags(d))
			continue
		}
		if b.Decl.String() != d.Decl.String() {
			t.Errorf("builtin %s: built %s, decoded %s", b.Name, b.Decl, d.Decl)
		}
	}
	if !slices.Equal(built.FutureKeywords, decoded.FutureKeywords) || !slices.Equal(built.Features, decoded.Features) {
		t.Errorf("future keywords %v and features %v built, %v and %v decoded", built.FutureKeywords, built.Features, decoded.FutureKeywords, decoded.Features)
	}
}
