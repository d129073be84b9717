package node

import "strconv"

// Helm returns the value as the plain Go data that Helm's templates see: map[string]any, []any, string, bool,
// nil, and numbers as float64 (values read from YAML files go through JSON in Helm) or int64 (integers given
// with --set). Template functions such as toString and quote then print numbers exactly as Helm would.
func (n *Node) Helm() any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case Null:
		return nil
	case Bool:
		return n.Text == "true"
	case Int:
		i, err := strconv.ParseInt(n.Text, 10, 64)
		if err != nil {
			f, _ := strconv.ParseFloat(n.Text, 64)
			return f
		}
		if n.Origin == FromFile {
			return float64(i)
		}
		return i
	case Float:
		f, _ := strconv.ParseFloat(n.Text, 64)
		return f
	case String:
		return n.Text
	case Map:
		m := make(map[string]any, len(n.entries))
		for _, e := range n.entries {
			m[e.Key] = e.Value.Helm()
		}
		return m
	case List:
		l := make([]any, len(n.items))
		for i, it := range n.items {
			l[i] = it.Helm()
		}
		return l
	}
	return nil
}
