package capabilities

import (
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestRegorusKataAgent(t *testing.T) {
	caps, err := RegorusKataAgent()
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
	again, err := RegorusKataAgent()
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Builtins) != n {
		t.Errorf("a second call has %d builtins, want %d", len(again.Builtins), n)
	}
}
