// Package srcpos holds source positions: a file with a 1-based line and column, and an error that happened at
// one. It imports nothing of cocogen, so that every layer (parsers, value trees, diagnostics, generators) may
// name a position without depending on the value tree.
package srcpos

import "strconv"

// Pos is a position in a source file. Line and Col are 1-based; zero means unknown.
type Pos struct {
	File string
	Line int
	Col  int
}

// String renders the position as file:line:col, leaving out the parts that are unknown.
func (p Pos) String() string {
	switch {
	case p.File == "":
		return ""
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return p.File + ":" + strconv.Itoa(p.Line)
	}
	return p.File + ":" + strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
}

// IsZero reports whether nothing is known about the position.
func (p Pos) IsZero() bool { return p.File == "" && p.Line == 0 }

// Error is a problem at a position in a source file. Diagnostics recognise it (errors.As) and keep its position.
type Error struct {
	Pos Pos
	Msg string
}

func (e *Error) Error() string {
	if p := e.Pos.String(); p != "" {
		return p + ": " + e.Msg
	}
	return e.Msg
}
