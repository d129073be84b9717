package policytest

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
)

// ReportFormats lists the formats WriteReport accepts.
var ReportFormats = []string{"text", "json", "junit"}

// WriteReport prints a test report. text lists failed and errored tests (every test when verbose) and a summary
// line; its diagnostics are left to the caller, who prints them where diagnostics go. json and junit carry the
// diagnostics too, so that one document tells CI everything. Output is sorted and has no timings: the same
// policies always give the same bytes.
func WriteReport(w io.Writer, format string, r *Report, verbose bool) error {
	switch format {
	case "text":
		return writeText(w, r, verbose)
	case "json":
		return writeJSON(w, r)
	case "junit":
		return writeJUnit(w, r)
	}
	return fmt.Errorf("unknown report format %q (valid: %s)", format, strings.Join(ReportFormats, ", "))
}

func writeText(w io.Writer, r *Report, verbose bool) error {
	var b strings.Builder
	for _, t := range r.Results {
		if t.Outcome == Pass && !verbose || t.Outcome == Skip && !verbose {
			continue
		}
		fmt.Fprintf(&b, "%s: %s %s", t.Pos(), strings.ToUpper(string(t.Outcome)), t.FullName())
		if t.Message != "" {
			fmt.Fprintf(&b, ": %s", t.Message)
		}
		b.WriteString("\n")
		if out := strings.TrimRight(t.Output, "\n"); out != "" && (verbose || t.Outcome != Pass) {
			for line := range strings.SplitSeq(out, "\n") {
				fmt.Fprintf(&b, "    %s\n", line)
			}
		}
	}
	total := len(r.Results)
	pass, fail, errs, skip := r.Count(Pass), r.Count(Fail), r.Count(Error), r.Count(Skip)
	status := "ok"
	if !r.OK() {
		status = "FAILED"
	}
	fmt.Fprintf(&b, "%s: %d/%d tests passed", status, pass, total)
	for _, c := range []struct {
		n    int
		what string
	}{{fail, "failed"}, {errs, "errors"}, {skip, "skipped"}} {
		if c.n > 0 {
			fmt.Fprintf(&b, ", %d %s", c.n, c.what)
		}
	}
	fmt.Fprintf(&b, "; %d %s checked", len(r.Checked), plural(len(r.Checked), "policy", "policies"))
	if n := errorCount(r.Diagnostics); n > 0 {
		fmt.Fprintf(&b, "; %d %s", n, plural(n, "problem", "problems"))
	}
	b.WriteString("\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func errorCount(ds []diag.Diagnostic) int {
	n := 0
	for _, d := range ds {
		if d.Severity == diag.Error {
			n++
		}
	}
	return n
}

type jsonReport struct {
	Summary     jsonSummary      `json:"summary"`
	Tests       []jsonTest       `json:"tests"`
	Checked     []string         `json:"checked"`
	Diagnostics []jsonDiagnostic `json:"diagnostics"`
}

type jsonSummary struct {
	OK      bool `json:"ok"`
	Pass    int  `json:"pass"`
	Fail    int  `json:"fail"`
	Error   int  `json:"error"`
	Skip    int  `json:"skip"`
	Checked int  `json:"checked"`
}

type jsonTest struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Package string `json:"package"`
	Name    string `json:"name"`
	Result  string `json:"result"`
	Message string `json:"message,omitempty"`
	Output  string `json:"output,omitempty"`
}

type jsonDiagnostic struct {
	Severity string `json:"severity"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Message  string `json:"message"`
}

func writeJSON(w io.Writer, r *Report) error {
	out := jsonReport{
		Summary: jsonSummary{OK: r.OK(), Pass: r.Count(Pass), Fail: r.Count(Fail), Error: r.Count(Error),
			Skip: r.Count(Skip), Checked: len(r.Checked)},
		Tests:       []jsonTest{},
		Checked:     slices.Clone(r.Checked),
		Diagnostics: []jsonDiagnostic{},
	}
	if out.Checked == nil {
		out.Checked = []string{}
	}
	for _, t := range r.Results {
		out.Tests = append(out.Tests, jsonTest{File: t.File, Line: t.Line, Column: t.Col, Package: t.Package,
			Name: t.Name, Result: string(t.Outcome), Message: t.Message, Output: t.Output})
	}
	for _, d := range r.Diagnostics {
		out.Diagnostics = append(out.Diagnostics, jsonDiagnostic{Severity: d.Severity.String(), File: d.Pos.File,
			Line: d.Pos.Line, Column: d.Pos.Col, Message: d.Msg})
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // messages quote Rego and URLs, which must read as written
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *struct{}     `xml:"skipped,omitempty"`
	Output    string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

// checkSuite is the JUnit suite that holds the policy checks and the problems found in files.
const checkSuite = "cocogen policy check"

func writeJUnit(w io.Writer, r *Report) error {
	var suites []junitSuite
	for _, t := range r.Results {
		if len(suites) == 0 || suites[len(suites)-1].Name != t.File {
			suites = append(suites, junitSuite{Name: t.File})
		}
		s := &suites[len(suites)-1]
		c := junitCase{Name: t.Name, ClassName: t.Package, File: t.File, Line: t.Line, Output: t.Output}
		switch t.Outcome {
		case Fail:
			c.Failure = &junitProblem{Message: "test failed", Text: fmt.Sprintf("%s: %s failed", t.Pos(), t.FullName())}
			s.Failures++
		case Error:
			c.Error = &junitProblem{Message: t.Message, Text: fmt.Sprintf("%s: %s: %s", t.Pos(), t.FullName(), t.Message)}
			s.Errors++
		case Skip:
			c.Skipped = &struct{}{}
			s.Skipped++
		}
		s.Cases = append(s.Cases, c)
		s.Tests++
	}
	if checks := junitChecks(r); len(checks.Cases) > 0 {
		suites = append(suites, checks)
	}
	all := junitSuites{Name: "cocogen policy test", Suites: suites}
	for _, s := range suites {
		all.Tests += s.Tests
		all.Failures += s.Failures
		all.Errors += s.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(all); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// junitChecks has one case per checked agent policy (failed when it has errors) and one per error in any other
// file (a test file that does not parse, say).
func junitChecks(r *Report) junitSuite {
	s := junitSuite{Name: checkSuite}
	byFile := map[string][]string{}
	var other []diag.Diagnostic
	for _, d := range r.Diagnostics {
		if d.Severity != diag.Error {
			continue
		}
		if slices.Contains(r.Checked, d.Pos.File) {
			byFile[d.Pos.File] = append(byFile[d.Pos.File], d.String())
			continue
		}
		other = append(other, d)
	}
	for _, f := range r.Checked {
		c := junitCase{Name: f, ClassName: "policy", File: f}
		if msgs := byFile[f]; len(msgs) > 0 {
			c.Failure = &junitProblem{Message: fmt.Sprintf("%d %s", len(msgs), plural(len(msgs), "problem", "problems")), Text: strings.Join(msgs, "\n")}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	for _, d := range other {
		name := d.Pos.String()
		if name == "" {
			name = "policies"
		}
		s.Cases = append(s.Cases, junitCase{Name: name, ClassName: "rego", File: d.Pos.File, Line: d.Pos.Line,
			Failure: &junitProblem{Message: d.Msg, Text: d.String()}})
		s.Failures++
	}
	s.Tests = len(s.Cases)
	return s
}
