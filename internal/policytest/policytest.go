// Package policytest runs the Rego unit tests of cocogen's policies (the _test.rego files beside them) with OPA's
// test runner, inside go test and for `cocogen policy test`, and checks every policy it meets with the checker of
// its kind: agent policies with agentpolicy.Validate, Trustee policies with trusteepolicy.Validate. It sits above
// both policy packages, which know nothing of it.
package policytest

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/tester"

	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/budget"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/regocheck"
	"github.com/cocogen/cocogen/internal/regolimit"
	"github.com/cocogen/cocogen/internal/repo"
	"github.com/cocogen/cocogen/internal/srcpos"
	"github.com/cocogen/cocogen/internal/trusteepolicy"
)

// How policies and their tests are laid out.
//
// Every non-test .rego file is a whole policy: the agent loads one file, and two agent policies share the
// package agent_policy, so OPA cannot compile them together (their rules would merge or clash). A policy is
// therefore tested on its own, with the test file beside it that carries its name:
//
//	policies/agent/default.rego       policies/agent/default_test.rego
//	policies/agent/debug.rego         policies/agent/debug_test.rego
//
// Upstream, the same suite runs as `opa test policies/agent/default.rego policies/agent/default_test.rego`.
// A non-test file that declares package agent_policy, or lies in a directory named agent, is also checked
// with agentpolicy.Validate. A non-test file that declares package policy (or policy.<name>), or lies in a directory named
// trustee, is one of Trustee's policies instead and is checked with trusteepolicy.Validate, as the resource or
// the attestation policy (trusteepolicy.KindOf). Tests may call Trustee's query_reference_value: the test
// compiler declares it, and a test replaces it with `with query_reference_value as <function>`.
const (
	regoExt    = ".rego"
	testSuffix = "_test" + regoExt
	agentDir   = "agent"
)

// File is one Rego source: its name as shown to the user, and its bytes.
type File struct {
	Name string
	Data []byte
}

// IsTest reports whether name is a Rego test file (<policy>_test.rego).
func IsTest(name string) bool { return strings.HasSuffix(name, testSuffix) }

// suiteKey names the suite a file belongs to: its policy's path without the extension.
func suiteKey(name string) string {
	if IsTest(name) {
		return strings.TrimSuffix(name, testSuffix)
	}
	return strings.TrimSuffix(name, regoExt)
}

// LoadFiles reads the Rego files named by paths: every .rego file below a directory, and a named file together
// with its twin beside it (default.rego with default_test.rego, and the other way round), so that each suite is
// complete. Each file is read once, at most repo.MaxFileBytes; the result is sorted by name.
func LoadFiles(paths []string) ([]File, error) {
	seen := map[string]bool{}
	var files []File
	add := func(name string, required bool) error {
		name = filepath.ToSlash(filepath.Clean(name))
		if seen[name] {
			return nil
		}
		data, err := readFile(name)
		if errors.Is(err, fs.ErrNotExist) && !required {
			return nil
		}
		if err != nil {
			return err
		}
		seen[name] = true
		files = append(files, File{Name: name, Data: data})
		return nil
	}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("read policies: %w", err)
		}
		if !st.IsDir() {
			if !strings.HasSuffix(p, regoExt) {
				return nil, fmt.Errorf("%s is not a Rego file (%s)", p, regoExt)
			}
			if err := add(p, true); err != nil {
				return nil, err
			}
			twin := suiteKey(filepath.ToSlash(p)) + testSuffix
			if IsTest(p) {
				twin = suiteKey(filepath.ToSlash(p)) + regoExt
			}
			if err := add(twin, false); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(p, func(name string, e fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if e.Type().IsRegular() && strings.HasSuffix(name, regoExt) {
				return add(name, true)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read policies: %w", err)
		}
	}
	slices.SortFunc(files, func(a, b File) int { return cmp.Compare(a.Name, b.Name) })
	return files, nil
}

func readFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, repo.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > repo.MaxFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes", name, repo.MaxFileBytes)
	}
	return data, nil
}

// Outcome of one Rego test.
type Outcome string

// Outcomes.
const (
	Pass  Outcome = "pass"
	Fail  Outcome = "fail"
	Error Outcome = "error"
	Skip  Outcome = "skip"
)

// TestResult is the outcome of one test rule.
type TestResult struct {
	File    string
	Line    int
	Col     int
	Package string // data.default_policy_test
	Name    string // test_exec_shell_denied
	Outcome Outcome
	Message string // why the test could not be evaluated (Outcome Error)
	Output  string // what the test printed
}

// Pos is where the test rule is written.
func (r TestResult) Pos() srcpos.Pos { return srcpos.Pos{File: r.File, Line: r.Line, Col: r.Col} }

// FullName is the test's package path and name, as OPA prints it.
func (r TestResult) FullName() string { return r.Package + "." + r.Name }

// Report is what RunTests found: test outcomes, the agent and Trustee policies it checked, and problems with the files.
type Report struct {
	Results     []TestResult      // sorted by file, line and name
	Checked     []string          // policies checked: agent policies with agentpolicy.Validate, Trustee policies with trusteepolicy.Validate; sorted
	Diagnostics []diag.Diagnostic // parse and compile errors, policy problems; sorted
}

// Count returns how many tests had outcome o.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, t := range r.Results {
		if t.Outcome == o {
			n++
		}
	}
	return n
}

// OK reports whether every test passed (or was skipped) and no file has an error.
func (r *Report) OK() bool {
	if r.Count(Fail) > 0 || r.Count(Error) > 0 {
		return false
	}
	return !slices.ContainsFunc(r.Diagnostics, func(d diag.Diagnostic) bool { return d.Severity == diag.Error })
}

// TestOptions configure RunTests.
type TestOptions struct {
	// Options are used to check the agent policies among the files; their Meter, when set, is spent by the
	// tests too.
	agentpolicy.Options
	// Run, when set, is a regular expression selecting the tests to run (by package path and name).
	Run string
	// Timeout bounds each test; zero means 5 seconds.
	Timeout time.Duration
}

// RunTests runs the Rego tests in files with OPA's test runner, one suite per policy (see the layout above),
// and checks every agent and Trustee policy among them.
func RunTests(ctx context.Context, files []File, o TestOptions) *Report {
	rep := &Report{}
	d := &diag.List{}
	suites := map[string][]File{}
	for _, f := range files {
		k := suiteKey(f.Name)
		suites[k] = append(suites[k], f)
	}
	for _, k := range slices.Sorted(maps.Keys(suites)) {
		rep.Results = append(rep.Results, runSuite(ctx, suites[k], o, rep, d)...)
	}
	slices.SortFunc(rep.Results, func(a, b TestResult) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col), cmp.Compare(a.Name, b.Name))
	})
	slices.Sort(rep.Checked)
	rep.Diagnostics = d.Sorted()
	return rep
}

func runSuite(ctx context.Context, files []File, o TestOptions, rep *Report, d *diag.List) []TestResult {
	modules := map[string]*ast.Module{}
	parsed := true
	for _, f := range files {
		mod, err := ast.ParseModuleWithOpts(f.Name, string(f.Data), ast.ParserOptions{RegoVersion: ast.RegoV1})
		if err != nil {
			regocheck.AddErrors(d, f.Name, err)
			parsed = false
			continue
		}
		if mod == nil {
			d.Errorf(srcpos.Pos{File: f.Name, Line: 1, Col: 1}, "", "the file is empty: a Rego file starts with a package")
			parsed = false
			continue
		}
		modules[f.Name] = mod
		switch {
		case IsTest(f.Name):
		case isAgentPolicy(f.Name, mod):
			rep.Checked = append(rep.Checked, f.Name)
			d.Append(agentpolicy.Validate(f.Name, f.Data, o.Options))
		case trusteepolicy.IsPolicy(f.Name, mod):
			rep.Checked = append(rep.Checked, f.Name)
			kind, err := trusteepolicy.KindOf(f.Name, mod)
			if err != nil {
				d.Errorf(srcpos.Pos{File: f.Name, Line: mod.Package.Location.Row, Col: mod.Package.Location.Col}, "", "%v", err)
				break
			}
			d.Append(trusteepolicy.Validate(f.Name, f.Data, kind))
		}
	}
	if !parsed {
		return nil
	}
	compiler := ast.NewCompiler().
		WithCapabilities(testCapabilities()).
		WithEnablePrintStatements(true).
		WithUseTypeCheckAnnotations(true)
	// The tests are repository files too: they spend the Rego budgets of the command. OPA's runner takes no
	// Cancel, so the meter watches every evaluation event and cancels the tests' context once spent.
	meter := o.Meter
	if meter == nil {
		meter = regolimit.NewMeter(budget.Defaults())
	}
	ctx, stop := context.WithCancel(regolimit.With(ctx, meter))
	defer stop()
	runner := tester.NewRunner().
		SetCompiler(compiler).
		CapturePrintOutput(true).
		SetTimeout(cmp.Or(o.Timeout, 5*time.Second)).
		SetCoverageQueryTracer(regolimit.Tracer{M: meter, Stop: stop}).
		Filter(o.Run).
		SetModules(modules)
	ch, err := runner.RunTests(ctx, nil)
	if err != nil {
		regocheck.AddErrors(d, files[0].Name, err)
		return nil
	}
	var out []TestResult
	for tr := range ch {
		out = append(out, result(tr))
	}
	if ex := meter.Exceeded(); ex != nil {
		d.Errorf(srcpos.Pos{File: files[0].Name}, "", "%v", ex)
	}
	return out
}

// testCapabilities are what tests may use: every OPA builtin, and Trustee's query_reference_value, which the
// tests of the attestation policy replace with a function of their own.
func testCapabilities() *ast.Capabilities {
	caps := ast.CapabilitiesForThisVersion()
	// Not the builtins that reach the network or the environment, or run templates without bounds.
	caps.Builtins = slices.DeleteFunc(slices.Clone(caps.Builtins), func(b *ast.Builtin) bool {
		return slices.Contains(regolimit.Forbidden, b.Name)
	})
	caps.Builtins = append(caps.Builtins, trusteepolicy.QueryReferenceValue)
	return caps
}

func isAgentPolicy(name string, mod *ast.Module) bool {
	if pkg := strings.TrimPrefix(mod.Package.Path.String(), "data."); pkg == agentpolicy.Package || strings.HasPrefix(pkg, agentpolicy.Package+".") {
		return true
	}
	return path.Base(path.Dir(name)) == agentDir
}

func result(tr *tester.Result) TestResult {
	r := TestResult{Package: tr.Package, Name: tr.Name, Output: string(tr.Output), Outcome: Pass}
	if tr.Location != nil {
		r.File, r.Line, r.Col = tr.Location.File, tr.Location.Row, tr.Location.Col
	}
	switch {
	case tr.Skip:
		r.Outcome = Skip
	case tr.Error != nil:
		r.Outcome, r.Message = Error, tr.Error.Error()
	case tr.Fail:
		r.Outcome = Fail
	}
	return r
}
