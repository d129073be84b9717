package helmvalues

import "github.com/cocogen/cocogen/internal/node"

// Merge layers overlay on top of base the way Helm merges several --values files: maps merge key by key,
// everything else (lists, scalars, null) in overlay replaces what base has. A null in overlay is kept as null,
// so that a later Coalesce against chart defaults can delete the key, exactly as Helm does.
// Neither input is modified; the result shares unchanged subtrees with both.
func Merge(base, overlay *node.Node) *node.Node {
	if overlay == nil {
		return base
	}
	if base == nil || base.Kind != node.Map || overlay.Kind != node.Map {
		return overlay
	}
	out := base.Copy()
	for _, e := range overlay.Entries() {
		if cur, ok := out.Lookup(e.Key); ok && cur != nil && cur.Kind == node.Map && e.Value != nil && e.Value.Kind == node.Map {
			e.Value = Merge(cur, e.Value)
		}
		out.SetEntry(e)
	}
	return out
}

// Coalesce fills user values with defaults the way Helm coalesces a chart's values.yaml with the values it
// is given: a key missing in user takes the default; a null in user deletes the default key; maps on both
// sides coalesce recursively; otherwise the user value wins. A null in user with no default stays null.
func Coalesce(defaults, user *node.Node) *node.Node {
	if user == nil {
		return defaults
	}
	if defaults == nil || defaults.Kind != node.Map || user.Kind != node.Map {
		return user
	}
	out := user.Copy()
	for _, d := range defaults.Entries() {
		cur, ok := out.Lookup(d.Key)
		switch {
		case !ok:
			out.SetEntry(d)
		case cur.IsNull():
			out.Delete(d.Key)
		case cur.Kind == node.Map && d.Value != nil && d.Value.Kind == node.Map:
			out.SetEntry(node.Entry{Key: d.Key, KeyPos: out.KeyPos(d.Key), Value: Coalesce(d.Value, cur)})
		}
	}
	return out
}
