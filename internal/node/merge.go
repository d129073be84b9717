package node

// Merge layers overlay on top of base the way Helm merges several --values files: maps merge key by key,
// everything else (lists, scalars, null) in overlay replaces what base has. A null in overlay is kept as null,
// so that a later Coalesce against chart defaults can delete the key, exactly as Helm does.
// Neither input is modified; the result shares unchanged subtrees with both.
func Merge(base, overlay *Node) *Node {
	if overlay == nil {
		return base
	}
	if base == nil || base.Kind != Map || overlay.Kind != Map {
		return overlay
	}
	out := base.shallowCopy()
	for _, e := range overlay.entries {
		if cur, ok := out.entry(e.Key); ok {
			if cur.Value != nil && cur.Value.Kind == Map && e.Value != nil && e.Value.Kind == Map {
				out.replace(e.Key, Merge(cur.Value, e.Value), e.KeyPos)
				continue
			}
			out.replace(e.Key, e.Value, e.KeyPos)
			continue
		}
		out.appendEntry(e)
	}
	return out
}

// Coalesce fills user values with defaults the way Helm coalesces a chart's values.yaml with the values it
// is given: a key missing in user takes the default; a null in user deletes the default key; maps on both
// sides coalesce recursively; otherwise the user value wins. A null in user with no default stays null.
func Coalesce(defaults, user *Node) *Node {
	if user == nil {
		return defaults
	}
	if defaults == nil || defaults.Kind != Map || user.Kind != Map {
		return user
	}
	out := user.shallowCopy()
	for _, d := range defaults.entries {
		cur, ok := out.entry(d.Key)
		switch {
		case !ok:
			out.appendEntry(d)
		case cur.Value.IsNull():
			out.Delete(d.Key)
		case cur.Value.Kind == Map && d.Value != nil && d.Value.Kind == Map:
			out.replace(d.Key, Coalesce(d.Value, cur.Value), cur.KeyPos)
		}
	}
	return out
}

func (n *Node) replace(key string, v *Node, keyPos Pos) {
	if n.index != nil {
		i := n.index[key]
		n.entries[i].Value, n.entries[i].KeyPos = v, keyPos
		return
	}
	for i := range n.entries {
		if n.entries[i].Key == key {
			n.entries[i].Value, n.entries[i].KeyPos = v, keyPos
			return
		}
	}
}

func (n *Node) appendEntry(e Entry) {
	n.entries = append(n.entries, e)
	if n.index != nil {
		n.index[e.Key] = len(n.entries) - 1
	} else if len(n.entries) > mapIndexThreshold {
		n.reindex()
	}
}
