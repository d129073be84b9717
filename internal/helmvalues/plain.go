package helmvalues

import (
	"strconv"

	"github.com/cocogen/cocogen/internal/node"
)

// Plain returns the value as the plain Go data that Helm's templates see: map[string]any, []any, string, bool,
// nil, and numbers as float64 (values read from YAML files go through JSON in Helm) or int64 (integers given
// with --set). Template functions such as toString and quote then print numbers exactly as Helm would.
func Plain(n *node.Node) any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case node.Null:
		return nil
	case node.Bool:
		return n.Text == "true"
	case node.Int:
		i, err := strconv.ParseInt(n.Text, 10, 64)
		if err != nil {
			f, _ := strconv.ParseFloat(n.Text, 64)
			return f
		}
		if n.Origin == node.FromFile {
			return float64(i)
		}
		return i
	case node.Float:
		f, _ := strconv.ParseFloat(n.Text, 64)
		return f
	case node.String:
		return n.Text
	case node.Map:
		entries := n.Entries()
		m := make(map[string]any, len(entries))
		for _, e := range entries {
			m[e.Key] = Plain(e.Value)
		}
		return m
	case node.List:
		items := n.Items()
		l := make([]any, len(items))
		for i, it := range items {
			l[i] = Plain(it)
		}
		return l
	}
	return nil
}
