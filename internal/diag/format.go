package diag

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// Formats lists the diagnostic output formats, for flag help and validation.
var Formats = []string{"text", "json", "github", "junit"}

// Write prints diagnostics in the given format. Info diagnostics are left out unless verbose is set.
func Write(w io.Writer, format string, ds []Diagnostic, verbose bool) error {
	var shown []Diagnostic
	for _, d := range ds {
		if d.Severity == Info && !verbose {
			continue
		}
		shown = append(shown, d)
	}
	switch format {
	case "text":
		for _, d := range shown {
			if _, err := fmt.Fprintln(w, d.String()); err != nil {
				return err
			}
		}
		return nil
	case "json":
		return writeJSON(w, shown)
	case "github":
		return writeGitHub(w, shown)
	case "junit":
		return writeJUnit(w, shown)
	}
	return fmt.Errorf("unknown diagnostics format %q (valid: %s)", format, strings.Join(Formats, ", "))
}

type jsonDiagnostic struct {
	Severity string `json:"severity"`
	File     string `json:"file,omitempty"`
	Line     int    `json:"line,omitempty"`
	Column   int    `json:"column,omitempty"`
	Path     string `json:"path,omitempty"`
	Message  string `json:"message"`
}

func writeJSON(w io.Writer, ds []Diagnostic) error {
	out := make([]jsonDiagnostic, len(ds))
	for i, d := range ds {
		out[i] = jsonDiagnostic{Severity: d.Severity.String(), File: d.Pos.File, Line: d.Pos.Line, Column: d.Pos.Col, Path: d.Path, Message: d.Msg}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// writeGitHub prints GitHub Actions workflow commands, which show up as annotations on the pull request.
func writeGitHub(w io.Writer, ds []Diagnostic) error {
	for _, d := range ds {
		level := map[Severity]string{Info: "notice", Warning: "warning", Error: "error"}[d.Severity]
		var props []string
		if d.Pos.File != "" {
			props = append(props, "file="+ghProperty(d.Pos.File))
			if d.Pos.Line > 0 {
				props = append(props, fmt.Sprintf("line=%d", d.Pos.Line))
			}
			if d.Pos.Col > 0 {
				props = append(props, fmt.Sprintf("col=%d", d.Pos.Col))
			}
		}
		msg := d.Msg
		if d.Path != "" {
			msg = d.Path + ": " + msg
		}
		line := "::" + level
		if len(props) > 0 {
			line += " " + strings.Join(props, ",")
		}
		if _, err := fmt.Fprintf(w, "%s::%s\n", line, ghData(msg)); err != nil {
			return err
		}
	}
	return nil
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit prints one test case per error or warning, or a single passing case when there is none, so that
// CI systems that read JUnit show a failed check with the position of each problem.
func writeJUnit(w io.Writer, ds []Diagnostic) error {
	suite := junitSuite{Name: "cocogen"}
	for _, d := range ds {
		if d.Severity == Info {
			continue
		}
		name := d.Pos.String()
		if name == "" {
			name = "cocogen"
		}
		c := junitCase{Name: name, ClassName: d.Severity.String()}
		if d.Severity == Error {
			c.Failure = &junitFailure{Message: d.Msg, Type: "error", Text: d.String()}
			suite.Failures++
		}
		suite.Cases = append(suite.Cases, c)
	}
	if len(suite.Cases) == 0 {
		suite.Cases = []junitCase{{Name: "render", ClassName: "ok"}}
	}
	suite.Tests = len(suite.Cases)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{suite}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
