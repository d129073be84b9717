package pipeline

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// readingImports are the packages that read files: a generator imports none of them (it is a pure function of
// what the load phase read), and in this package only the load phase does.
var readingImports = []string{
	"os",
	"io/fs",
	"io/ioutil",
	"github.com/cocogen/cocogen/internal/repo",
	"sigs.k8s.io/kustomize/kyaml/filesys",
}

// TestGeneratorsReadNoFiles fails when a package under generators/ imports a package that reads files.
func TestGeneratorsReadNoFiles(t *testing.T) {
	var dirs []string
	err := filepath.WalkDir("../../generators", func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() {
			dirs = append(dirs, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, dir := range dirs {
		pkg, err := build.ImportDir(dir, 0)
		if _, none := err.(*build.NoGoError); none {
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		checked++
		for _, imp := range pkg.Imports {
			if slices.Contains(readingImports, imp) {
				t.Errorf("%s imports %s: generators are pure functions of the loaded sources (internal/pipeline load.go reads them)", pkg.ImportPath, imp)
			}
		}
	}
	if checked < 5 {
		t.Fatalf("checked %d generator packages; the walk does not see generators/", checked)
	}
}

// TestOnlyTheLoadPhaseReads fails when a file of this package other than the load phase's imports a package
// that reads files (pipeline.go names io/fs for Request.FS only), and when a command changes the working
// directory.
func TestOnlyTheLoadPhaseReads(t *testing.T) {
	// clusters.go and groups.go list the cluster groups and clusters of the repository for load and for
	// RenderGroups, through the same repo.Root view of Request.FS.
	allowed := map[string][]string{"load.go": readingImports, "request.go": readingImports, "pipeline.go": {"io/fs"},
		"clusters.go": readingImports, "groups.go": readingImports}
	for _, f := range parseDir(t, ".") {
		name := filepath.Base(f.name)
		for _, imp := range f.file.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if slices.Contains(readingImports, p) && !slices.Contains(allowed[name], p) {
				t.Errorf("%s imports %s: only the load phase (load.go) reads the repository", name, p)
			}
		}
	}
	for _, f := range parseDir(t, "../../cmd/cocogen") {
		ast.Inspect(f.file, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok && sel.Sel.Name == "Chdir" {
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "os" {
					t.Errorf("%s: os.Chdir: the render takes the repository as a file system (pipeline.Request.FS)", f.fset.Position(sel.Pos()))
				}
			}
			return true
		})
	}
}

type parsedFile struct {
	name string
	file *ast.File
	fset *token.FileSet
}

// parseDir parses the Go files of dir that are not tests.
func parseDir(t *testing.T, dir string) []parsedFile {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var out []parsedFile
	for _, name := range names {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, parsedFile{name, f, fset})
	}
	if len(out) == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	return out
}
