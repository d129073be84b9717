// Package schema checks value trees against the shapes cocogen understands and reports every mismatch as a
// positioned diagnostic: unknown keys (with the closest valid key suggested), wrong types, bad enum values.
package schema

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/tpl"
)

// Checker reports problems into a diagnostics list.
type Checker struct {
	Diags *diag.List
}

// Join appends a key to a values path.
func Join(path, key string) string {
	if path == "" {
		return key
	}
	if strings.ContainsAny(key, ".[] ") || key == "" {
		return fmt.Sprintf("%s[%q]", path, key)
	}
	return path + "." + key
}

// Index appends a list index to a values path.
func Index(path string, i int) string { return fmt.Sprintf("%s[%d]", path, i) }

// Map checks that n is a map (null is accepted as an empty map when nullOK) and, when known keys are given, that
// its keys are all among them. It returns false when n is not a map.
func (c Checker) Map(n *node.Node, path string, nullOK bool, known ...string) bool {
	if n.IsNull() {
		if !nullOK && n != nil {
			c.Diags.Errorf(n.Pos, path, "must be a map, not null")
		}
		return false
	}
	if n.Kind != node.Map {
		c.Diags.Errorf(n.Pos, path, "must be a map, not a %s", n.Kind)
		return false
	}
	if len(known) > 0 {
		c.Keys(n, path, known...)
	}
	return true
}

// Keys reports every key of map n that is not among known, suggesting the closest known key.
func (c Checker) Keys(n *node.Node, path string, known ...string) {
	for _, e := range n.Entries() {
		if slices.Contains(known, e.Key) {
			continue
		}
		msg := fmt.Sprintf("unknown key %q", e.Key)
		if s := Suggest(e.Key, known); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += fmt.Sprintf(" (valid keys: %s)", strings.Join(sorted(known), ", "))
		}
		c.Diags.Errorf(e.KeyPos, path, "%s", msg)
	}
}

func sorted(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return out
}

// String returns the text of a scalar. Null gives "", ok. Maps and lists are errors. Numbers are printed as
// Helm prints them; when that differs from the source text (chartVersion: 1.10 prints as 1.1), a warning
// suggests quoting.
func (c Checker) String(n *node.Node, path string) (string, bool) {
	if n.IsNull() {
		return "", true
	}
	switch n.Kind {
	case node.String:
		return n.Text, true
	case node.Bool, node.Int, node.Float:
		s := tpl.HelmString(n)
		if s != n.Src && n.Src != "" && n.Origin == node.FromFile {
			what := "number"
			if n.Kind == node.Bool {
				what = "boolean" // YAML 1.1 words: yes, no, on, off, y, n
			}
			c.Diags.Warnf(n.Pos, path, "%s is read as a YAML %s and printed as %s (as Helm does); quote it to keep %q", n.Src, what, s, n.Src)
		}
		return s, true
	}
	c.Diags.Errorf(n.Pos, path, "must be a string, not a %s", n.Kind)
	return "", false
}

// Bool returns a boolean. Null gives false. Strings "true"/"false" are accepted (Helm's --set-string and
// quoted YAML produce them) with Helm's truthiness for everything else of scalar type.
func (c Checker) Bool(n *node.Node, path string) (bool, bool) {
	if n.IsNull() {
		return false, true
	}
	switch n.Kind {
	case node.Bool:
		return n.Text == "true", true
	case node.String:
		switch strings.ToLower(n.Text) {
		case "true":
			return true, true
		case "false", "":
			return false, true
		}
	}
	c.Diags.Errorf(n.Pos, path, "must be true or false, not %s %q", n.Kind, n.Src)
	return false, false
}

// StringList returns a list of strings. Null gives nil.
func (c Checker) StringList(n *node.Node, path string) ([]*node.Node, bool) {
	if n.IsNull() {
		return nil, true
	}
	if n.Kind != node.List {
		c.Diags.Errorf(n.Pos, path, "must be a list, not a %s", n.Kind)
		return nil, false
	}
	ok := true
	for i, it := range n.Items() {
		if !it.IsScalar() {
			c.Diags.Errorf(it.Pos, Index(path, i), "must be a string, not a %s", it.Kind)
			ok = false
		}
	}
	return n.Items(), ok
}

// Enum checks that s is one of valid (case-sensitive) and reports the valid values otherwise.
func (c Checker) Enum(n *node.Node, path, s string, valid ...string) bool {
	if slices.Contains(valid, s) {
		return true
	}
	msg := fmt.Sprintf("invalid value %q (valid: %s)", s, strings.Join(valid, ", "))
	if sug := Suggest(s, valid); sug != "" {
		msg += fmt.Sprintf("; did you mean %q?", sug)
	}
	c.Diags.Errorf(n.Pos, path, "%s", msg)
	return false
}

// Suggest returns the known word closest to word, or "" when none is close enough to be a likely typo.
func Suggest(word string, known []string) string {
	best, bestD := "", -1
	lw := strings.ToLower(word)
	for _, k := range known {
		d := distance(lw, strings.ToLower(k))
		if bestD < 0 || d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	limit := max(2, len(word)/3)
	if bestD < 0 || bestD > limit {
		return ""
	}
	return best
}

// distance is the optimal string alignment distance (Levenshtein plus adjacent transpositions).
func distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		if a == b {
			return 0
		}
		return max(len(ra), len(rb))
	}
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
