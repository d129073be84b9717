package helmoracle

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/Masterminds/sprig/v3"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"

	"github.com/cocogen/cocogen/internal/tpl"
)

// helmExtraNames reads the names of the functions Helm's engine adds to Sprig's from the engine's source, as
// built into this test (pkg/engine/funcs.go: the string keys of the FuncMap literals). They are only
// candidates: helmKnows decides.
func helmExtraNames(t *testing.T) []string {
	t.Helper()
	pkg, err := build.Import("helm.sh/helm/v3/pkg/engine", ".", build.FindOnly)
	if err != nil {
		t.Fatalf("find Helm's engine: %v", err)
	}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(pkg.Dir, "funcs.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	ast.Inspect(f, func(n ast.Node) bool {
		if kv, ok := n.(*ast.KeyValueExpr); ok {
			if lit, ok := kv.Key.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil {
					names = append(names, s)
				}
			}
		}
		return true
	})
	if !slices.Contains(names, "toYaml") || !slices.Contains(names, "include") {
		t.Fatalf("%s no longer declares toYaml and include: read it again", filepath.Join(pkg.Dir, "funcs.go"))
	}
	return names
}

// helmKnows reports whether Helm's engine knows a template function called name: a chart template that names
// it (in a branch never executed) must parse.
func helmKnows(t *testing.T, name string) bool {
	t.Helper()
	ch := &chart.Chart{
		Metadata:  &chart.Metadata{APIVersion: chart.APIVersionV2, Name: "probe", Version: "0.1.0"},
		Templates: []*chart.File{{Name: "templates/probe.yaml", Data: []byte("{{ if false }}{{ " + name + " }}{{ end }}")}},
	}
	vals, err := chartutil.ToRenderValues(ch, nil, chartutil.ReleaseOptions{Name: "probe", Namespace: "default"}, chartutil.DefaultCapabilities)
	if err != nil {
		t.Fatal(err)
	}
	_, err = engine.Render(ch, vals)
	if err != nil && !strings.Contains(err.Error(), "not defined") {
		t.Fatalf("probe %s: %v", name, err)
	}
	return err == nil
}

// TestTemplateFunctionsAgainstHelm compares the functions a values template may name in cocogen with those of
// Helm's engine: every function Helm's templates can call, cocogen knows (and either runs it or refuses it
// as non-hermetic, with the reason: tpl.NonHermetic); every function cocogen knows, Helm has, unless cocogen
// refuses it (Helm removes env and expandenv; cocogen names them to say why they are refused).
func TestTemplateFunctionsAgainstHelm(t *testing.T) {
	cocogen := tpl.FuncNames()
	candidates := slices.Concat(cocogen, helmExtraNames(t))
	for name := range sprig.TxtFuncMap() {
		candidates = append(candidates, name)
	}
	slices.Sort(candidates)
	candidates = slices.Compact(candidates)
	var helm []string
	for _, name := range candidates {
		if helmKnows(t, name) {
			helm = append(helm, name)
		}
	}
	for _, name := range helm {
		if !slices.Contains(cocogen, name) {
			t.Errorf("Helm's templates can call %s; cocogen's values templates do not know it", name)
		}
	}
	for _, name := range cocogen {
		if !slices.Contains(helm, name) && tpl.NonHermetic(name) == "" {
			t.Errorf("cocogen's values templates can call %s, which Helm's engine does not have", name)
		}
	}
	if len(helm) < 150 {
		t.Errorf("Helm's engine knows only %d functions: the probe is broken", len(helm))
	}
}
