package appofapps

import (
	"github.com/cocogen/cocogen/internal/node"
)

// lit parses a constant YAML snippet of this package into a tree. The snippets are part of the program, so a
// parse error is a bug.
func lit(src string) *node.Node {
	n, err := node.Parse("<cocogen>", []byte(src), node.DefaultLimits)
	if err != nil {
		panic("appofapps: bad literal: " + err.Error())
	}
	return n
}

// list builds a list of strings.
func strList(items ...string) *node.Node {
	l := node.NewList()
	for _, s := range items {
		l.Append(str(s))
	}
	return l
}
