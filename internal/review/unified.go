package review

import (
	"fmt"
	"strings"
)

// maxLCSCells bounds the work of one line diff: above it, the differing middle of the two texts is shown as
// removed and added as a whole (still correct, less minimal).
const maxLCSCells = 4_000_000

// Unified returns a unified diff (3 lines of context) from a to b, with headers naming the two sides, or ""
// when they are equal.
func Unified(aName, bName, a, b string, context int) string {
	if a == b {
		return ""
	}
	al, bl := splitLines(a), splitLines(b)
	ops := lineOps(al, bl)
	var out strings.Builder
	fmt.Fprintf(&out, "--- %s\n+++ %s\n", aName, bName)
	// Group the operations into hunks with context.
	type op struct {
		kind byte // ' ', '-', '+'
		line string
		ai   int // index in a (for ' ' and '-')
		bi   int // index in b (for ' ' and '+')
	}
	var all []op
	ai, bi := 0, 0
	for _, k := range ops {
		switch k {
		case ' ':
			all = append(all, op{' ', al[ai], ai, bi})
			ai++
			bi++
		case '-':
			all = append(all, op{'-', al[ai], ai, bi})
			ai++
		case '+':
			all = append(all, op{'+', bl[bi], ai, bi})
			bi++
		}
	}
	prevStop := 0
	for i := 0; i < len(all); {
		if all[i].kind == ' ' {
			i++
			continue
		}
		start := max(prevStop, i-context)
		end := i
		for j := i; j < len(all); j++ {
			if all[j].kind != ' ' {
				end = j
				continue
			}
			if j-end > 2*context {
				break
			}
		}
		stop := min(len(all), end+context+1)
		aStart, bStart := all[start].ai, all[start].bi
		aLen, bLen := 0, 0
		for _, o := range all[start:stop] {
			if o.kind != '+' {
				aLen++
			}
			if o.kind != '-' {
				bLen++
			}
		}
		fmt.Fprintf(&out, "@@ -%s +%s @@\n", hunkRange(aStart, aLen), hunkRange(bStart, bLen))
		for _, o := range all[start:stop] {
			out.WriteByte(o.kind)
			out.WriteString(o.line)
			out.WriteByte('\n')
		}
		i, prevStop = stop, stop
	}
	return out.String()
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func splitLines(s string) []string {
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// lineOps returns the edit script from a to b as ' ' (keep), '-' (remove a line of a) and '+' (add a line of
// b): common prefix and suffix first, then a longest common subsequence of the middle.
func lineOps(a, b []string) []byte {
	pre := 0
	for pre < len(a) && pre < len(b) && a[pre] == b[pre] {
		pre++
	}
	suf := 0
	for suf < len(a)-pre && suf < len(b)-pre && a[len(a)-1-suf] == b[len(b)-1-suf] {
		suf++
	}
	ma, mb := a[pre:len(a)-suf], b[pre:len(b)-suf]
	ops := make([]byte, 0, len(a)+len(b))
	for range pre {
		ops = append(ops, ' ')
	}
	if len(ma)*len(mb) > maxLCSCells {
		for range ma {
			ops = append(ops, '-')
		}
		for range mb {
			ops = append(ops, '+')
		}
	} else {
		ops = append(ops, lcsOps(ma, mb)...)
	}
	for range suf {
		ops = append(ops, ' ')
	}
	return ops
}

// lcsOps is the classic dynamic programme over the two line lists.
func lcsOps(a, b []string) []byte {
	n, m := len(a), len(b)
	// l[i][j] = LCS length of a[i:] and b[j:]
	l := make([][]int32, n+1)
	for i := range l {
		l[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				l[i][j] = l[i+1][j+1] + 1
			} else {
				l[i][j] = max(l[i+1][j], l[i][j+1])
			}
		}
	}
	var ops []byte
	i, j := 0, 0
	for i < n && j < m {
		switch {
		case a[i] == b[j]:
			ops = append(ops, ' ')
			i++
			j++
		case l[i+1][j] >= l[i][j+1]:
			ops = append(ops, '-')
			i++
		default:
			ops = append(ops, '+')
			j++
		}
	}
	for ; i < n; i++ {
		ops = append(ops, '-')
	}
	for ; j < m; j++ {
		ops = append(ops, '+')
	}
	return ops
}
