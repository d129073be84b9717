// Package valuesedit rewrites a few keys of a map in a values file and keeps every other line, comments
// included, as it is: the commands that write values for the user (podvm pin, initdata keep) edit the file
// a reviewer reads, so the pull request shows only what they change.
package valuesedit

import (
	"bytes"
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/node"
)

// Replace returns src (name is how it is shown) with the keys drop of the map at path removed, each with the
// comment lines directly above it at the key's indentation, and block written in their place: where the
// first removed key was, or at the end of the map when none was there. block gets the map's indentation
// and returns whole lines ("" writes nothing). The map must exist, hold at least one key and be written in
// block style (one key per line); missing says what to do when it does not exist.
func Replace(name string, src []byte, path []string, drop []string, missing string, block func(indent string) string) ([]byte, error) {
	tree, err := node.Parse(name, src, node.DefaultLimits)
	if err != nil {
		return nil, err
	}
	m := tree.Path(path...)
	if m == nil || m.Kind != node.Map || m.Len() == 0 {
		return nil, fmt.Errorf("%s has no %s map: %s", name, strings.Join(path, "."), missing)
	}
	lines := strings.SplitAfter(string(src), "\n")
	entries := m.Entries()
	indent := entries[0].KeyPos.Col - 1
	for _, e := range entries {
		if e.KeyPos.Col-1 != indent || lineIndent(lines[e.KeyPos.Line-1]) != indent {
			return nil, fmt.Errorf("%s:%d:%d: write %s in block style (one key per line) so that cocogen can edit it", name, e.KeyPos.Line, e.KeyPos.Col, strings.Join(path, "."))
		}
	}
	type span struct{ from, to int } // 0-based line indexes, to exclusive
	var dropped []span
	end := 0
	for _, e := range entries {
		s := span{e.KeyPos.Line - 1, e.KeyPos.Line}
		for s.to < len(lines) && (isBlank(lines[s.to]) || lineIndent(lines[s.to]) > indent || isSequenceItem(lines[s.to], indent)) {
			s.to++
		}
		for s.to > s.from+1 && isBlank(lines[s.to-1]) {
			s.to--
		}
		end = max(end, s.to)
		if !slices.Contains(drop, e.Key) {
			continue
		}
		for s.from > 0 && isComment(lines[s.from-1]) && lineIndent(lines[s.from-1]) == indent {
			s.from--
		}
		dropped = append(dropped, s)
	}
	text := block(strings.Repeat(" ", indent))
	at := end
	if len(dropped) > 0 {
		at = dropped[0].from
	}
	var out bytes.Buffer
	for i := 0; i <= len(lines); i++ {
		if i == at && text != "" {
			if i > 0 && !strings.HasSuffix(lines[i-1], "\n") {
				out.WriteByte('\n')
			}
			out.WriteString(text)
		}
		if i == len(lines) {
			break
		}
		if slices.ContainsFunc(dropped, func(s span) bool { return i >= s.from && i < s.to }) {
			continue
		}
		out.WriteString(lines[i])
	}
	return out.Bytes(), nil
}

func lineIndent(l string) int { return len(l) - len(strings.TrimLeft(l, " ")) }

func isBlank(l string) bool { return strings.TrimSpace(l) == "" }

// isSequenceItem reports whether l is an item of a block sequence written at the indentation of its key
// (the kubectl style), which belongs to the key above it.
func isSequenceItem(l string, indent int) bool {
	t := strings.TrimSpace(l)
	return lineIndent(l) == indent && (t == "-" || strings.HasPrefix(t, "- "))
}

func isComment(l string) bool { return strings.HasPrefix(strings.TrimSpace(l), "#") }
