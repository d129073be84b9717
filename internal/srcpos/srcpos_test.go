package srcpos

import (
	"errors"
	"fmt"
	"testing"
)

func TestPosString(t *testing.T) {
	cases := []struct {
		name string
		p    Pos
		want string
	}{
		{name: "unknown", p: Pos{Line: 3, Col: 4}, want: ""},
		{name: "file only", p: Pos{File: "a.yaml"}, want: "a.yaml"},
		{name: "file and line", p: Pos{File: "a.yaml", Line: 3}, want: "a.yaml:3"},
		{name: "full", p: Pos{File: "values/values-hub.yaml", Line: 12, Col: 5}, want: "values/values-hub.yaml:12:5"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.String(); got != c.want {
				t.Errorf("String() = %q, want %q", got, c.want)
			}
			if zero := c.p.File == "" && c.p.Line == 0; c.p.IsZero() != zero {
				t.Errorf("IsZero() = %v", c.p.IsZero())
			}
		})
	}
}

func TestErrorKeepsPositionThroughWrapping(t *testing.T) {
	err := fmt.Errorf("load: %w", &Error{Pos: Pos{File: "v.yaml", Line: 2, Col: 1}, Msg: "bad"})
	var pe *Error
	if !errors.As(err, &pe) || pe.Pos.Line != 2 {
		t.Fatalf("errors.As lost the position: %v", err)
	}
	if got := err.Error(); got != "load: v.yaml:2:1: bad" {
		t.Errorf("Error() = %q", got)
	}
	if got := (&Error{Msg: "no position"}).Error(); got != "no position" {
		t.Errorf("Error() without position = %q", got)
	}
}
