// Package diag holds diagnostics: problems found in the user's input, each with the file, line and column
// that caused it and a message that says what to change. Diagnostics are collected, sorted and printed once.
package diag

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/srcpos"
)

// Severity of a diagnostic.
type Severity uint8

// Severities, least severe first.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	}
	return "error"
}

// Diagnostic is one problem or note about the input.
type Diagnostic struct {
	Severity Severity
	Pos      srcpos.Pos
	// Path is the values key the diagnostic is about (clusterGroup.applications.trustee.namespace), if any.
	Path string
	Msg  string
}

// String renders the diagnostic as "file:line:col: severity: path: message".
func (d Diagnostic) String() string {
	var b strings.Builder
	if p := d.Pos.String(); p != "" {
		b.WriteString(p)
		b.WriteString(": ")
	}
	b.WriteString(d.Severity.String())
	b.WriteString(": ")
	if d.Path != "" {
		b.WriteString(d.Path)
		b.WriteString(": ")
	}
	b.WriteString(d.Msg)
	return b.String()
}

// List collects diagnostics.
type List struct {
	items []Diagnostic
}

// Add appends a diagnostic.
func (l *List) Add(d Diagnostic) { l.items = append(l.items, d) }

// Errorf adds an error.
func (l *List) Errorf(pos srcpos.Pos, path, format string, args ...any) {
	l.Add(Diagnostic{Severity: Error, Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Warnf adds a warning.
func (l *List) Warnf(pos srcpos.Pos, path, format string, args ...any) {
	l.Add(Diagnostic{Severity: Warning, Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// Infof adds a note that is shown only when the user asks for details.
func (l *List) Infof(pos srcpos.Pos, path, format string, args ...any) {
	l.Add(Diagnostic{Severity: Info, Pos: pos, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// AddError adds err as an error diagnostic, keeping its position when it carries one.
func (l *List) AddError(err error) {
	var ne *srcpos.Error
	if errors.As(err, &ne) {
		l.Add(Diagnostic{Severity: Error, Pos: ne.Pos, Msg: ne.Msg})
		return
	}
	var de *Diagnostics
	if errors.As(err, &de) {
		l.items = append(l.items, de.Items...)
		return
	}
	l.Add(Diagnostic{Severity: Error, Msg: err.Error()})
}

// Append adds all diagnostics of other.
func (l *List) Append(other *List) { l.items = append(l.items, other.items...) }

// HasErrors reports whether any diagnostic is an error.
func (l *List) HasErrors() bool {
	for _, d := range l.items {
		if d.Severity == Error {
			return true
		}
	}
	return false
}

// Sorted returns the diagnostics ordered by file, line, column, then severity (errors first) and message,
// without duplicates.
func (l *List) Sorted() []Diagnostic {
	out := slices.Clone(l.items)
	slices.SortStableFunc(out, func(a, b Diagnostic) int {
		return cmp.Or(
			cmp.Compare(a.Pos.File, b.Pos.File),
			cmp.Compare(a.Pos.Line, b.Pos.Line),
			cmp.Compare(a.Pos.Col, b.Pos.Col),
			cmp.Compare(b.Severity, a.Severity),
			cmp.Compare(a.Path, b.Path),
			cmp.Compare(a.Msg, b.Msg),
		)
	})
	return slices.Compact(out)
}

// Err returns the error diagnostics as an error, or nil when there are none.
func (l *List) Err() error {
	if !l.HasErrors() {
		return nil
	}
	var errs []Diagnostic
	for _, d := range l.Sorted() {
		if d.Severity == Error {
			errs = append(errs, d)
		}
	}
	return &Diagnostics{Items: errs}
}

// Diagnostics is an error made of one or more diagnostics. Commands print each on its own line and exit 1.
type Diagnostics struct {
	Items []Diagnostic
}

func (e *Diagnostics) Error() string {
	lines := make([]string, len(e.Items))
	for i, d := range e.Items {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}
