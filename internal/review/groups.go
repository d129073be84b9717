package review

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// GroupState is one cluster group of a state (and the cluster whose metadata file it read, for a group that
// runs on several clusters with their own files).
type GroupState struct {
	Group, Cluster string
	State          State
}

// label names a cluster group (and cluster) in reports: "spoke (cluster spoke-1)".
func label(group, cluster string) string {
	if cluster == "" {
		return group
	}
	return group + " (cluster " + cluster + ")"
}

// GroupReport is the comparison of one cluster group.
type GroupReport struct {
	ClusterGroup string `json:"clusterGroup"`
	Cluster      string `json:"cluster,omitempty"`
	Report
}

// GroupsReport is the comparison of every cluster group of two states.
type GroupsReport struct {
	Base string `json:"base"`
	Head string `json:"head"`
	// Touched are the cluster groups (and clusters) whose objects or init-data the change touches, sorted.
	Touched []string      `json:"touched"`
	Groups  []GroupReport `json:"clusterGroups"`
}

// Empty reports whether no cluster group renders differently.
func (r *GroupsReport) Empty() bool { return len(r.Touched) == 0 }

// CompareGroups compares every cluster group of two states, matched by group and cluster: a group that only
// one state has compares with nothing (all its objects added or removed).
func CompareGroups(baseName, headName string, base, head []GroupState) GroupsReport {
	r := GroupsReport{Base: baseName, Head: headName, Touched: []string{}, Groups: []GroupReport{}}
	key := func(g GroupState) string { return g.Group + "\x00" + g.Cluster }
	byKey := map[string][2]*GroupState{}
	var keys []string
	for side, states := range [2][]GroupState{base, head} {
		for i := range states {
			k := key(states[i])
			e, seen := byKey[k]
			if !seen {
				keys = append(keys, k)
			}
			e[side] = &states[i]
			byKey[k] = e
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		e := byKey[k]
		g := e[0]
		if g == nil {
			g = e[1]
		}
		b, h := State{Name: baseName}, State{Name: headName}
		if e[0] != nil {
			b = e[0].State
		}
		if e[1] != nil {
			h = e[1].State
		}
		rep := Compare(b, h)
		r.Groups = append(r.Groups, GroupReport{ClusterGroup: g.Group, Cluster: g.Cluster, Report: rep})
		if !rep.Empty() {
			r.Touched = append(r.Touched, label(g.Group, g.Cluster))
		}
	}
	return r
}

// WriteGroups prints a GroupsReport in one of Formats: which cluster groups and clusters the change touches,
// then the report of each one it touches.
func WriteGroups(w io.Writer, format string, r *GroupsReport, color bool) error {
	var b strings.Builder
	switch format {
	case "text":
		bold := func(s string) string {
			if !color {
				return s
			}
			return ansiBold + s + ansiReset
		}
		fmt.Fprintf(&b, "%s %s → %s, every cluster group\n", bold("cocogen diff:"), r.Base, r.Head)
		if r.Empty() {
			fmt.Fprintf(&b, "no differences in any of the %d cluster groups\n", len(r.Groups))
			break
		}
		fmt.Fprintf(&b, "touches %d of %d cluster groups: %s\n", len(r.Touched), len(r.Groups), strings.Join(r.Touched, ", "))
		for i := range r.Groups {
			g := &r.Groups[i]
			if g.Empty() {
				continue
			}
			fmt.Fprintf(&b, "\n%s\n", bold("=== cluster group "+label(g.ClusterGroup, g.Cluster)+" ==="))
			textBody(&b, &g.Report, color)
		}
	case "markdown":
		fmt.Fprintf(&b, "### cocogen diff: `%s` → `%s`\n\n", r.Base, r.Head)
		if r.Empty() {
			fmt.Fprintf(&b, "No differences: this change renders the same objects in all %d cluster groups.\n", len(r.Groups))
			break
		}
		var touched []string
		for _, t := range r.Touched {
			touched = append(touched, "`"+t+"`")
		}
		fmt.Fprintf(&b, "Touches %d of %d cluster groups: %s\n\n", len(r.Touched), len(r.Groups), strings.Join(touched, ", "))
		for i := range r.Groups {
			g := &r.Groups[i]
			if g.Empty() {
				continue
			}
			fmt.Fprintf(&b, "#### Cluster group `%s`\n\n", label(g.ClusterGroup, g.Cluster))
			markdownBody(&b, &g.Report)
		}
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(r)
	default:
		return fmt.Errorf("unknown format %q (valid: %s)", format, strings.Join(Formats, ", "))
	}
	_, err := io.WriteString(w, b.String())
	return err
}
