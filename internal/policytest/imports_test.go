package policytest

import (
	"go/build"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/cocogen/cocogen/"

// deps returns every package of this module that pkg (a path below the module) reaches through its imports,
// its own tests' imports included, following the module's packages only.
func deps(t *testing.T, pkg string) []string {
	t.Helper()
	seen := map[string]bool{}
	var walk func(p string, tests bool)
	walk = func(p string, tests bool) {
		bp, err := build.ImportDir(filepath.Join("..", "..", filepath.FromSlash(p)), 0)
		if err != nil {
			t.Fatalf("read package %s: %v", p, err)
		}
		imports := bp.Imports
		if tests {
			imports = slices.Concat(imports, bp.TestImports, bp.XTestImports)
		}
		for _, imp := range imports {
			rel, ok := strings.CutPrefix(imp, module)
			if !ok || seen[rel] || rel == p {
				continue
			}
			seen[rel] = true
			walk(rel, false)
		}
	}
	walk(pkg, true)
	return slices.Sorted(func(yield func(string) bool) {
		for p := range seen {
			if !yield(p) {
				return
			}
		}
	})
}

// TestImportArrows keeps the policy packages layered: the Rego base (regocheck) below the agent and Trustee
// policy checkers, which are siblings, and this test runner above both; the reference value store's format
// (rvps) below the Trustee generator and the review that reads it back.
func TestImportArrows(t *testing.T) {
	forbidden := []struct {
		from string
		to   []string
	}{
		{"internal/regocheck", []string{"internal/agentpolicy", "internal/trusteepolicy", "internal/policytest"}},
		{"internal/trusteepolicy", []string{"internal/agentpolicy", "internal/policytest"}},
		{"internal/agentpolicy", []string{"internal/trusteepolicy", "internal/policytest"}},
		{"internal/rvps", []string{"generators/trustee", "internal/review"}},
		{"internal/review", []string{"generators/trustee", "generators/appofapps", "generators/peerpods", "generators/workloads"}},
	}
	for _, f := range forbidden {
		reached := deps(t, f.from)
		for _, to := range f.to {
			if slices.Contains(reached, to) {
				t.Errorf("%s reaches %s through its imports; the arrow must run the other way", f.from, to)
			}
		}
	}
	required := []struct{ from, to string }{
		{"internal/policytest", "internal/agentpolicy"},
		{"internal/policytest", "internal/trusteepolicy"},
		{"internal/agentpolicy", "internal/regocheck"},
		{"internal/trusteepolicy", "internal/regocheck"},
		{"generators/trustee", "internal/rvps"},
		{"internal/review", "internal/rvps"},
	}
	for _, r := range required {
		if !slices.Contains(deps(t, r.from), r.to) {
			t.Errorf("%s no longer reaches %s: update this test with the new layering", r.from, r.to)
		}
	}
}
