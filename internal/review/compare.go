package review

import (
	"bytes"
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

// ProfileDigest is what attestation compares for one init-data profile.
type ProfileDigest struct {
	Algorithm string `json:"algorithm"`
	Digest    string `json:"digest"`
	AzurePCR8 string `json:"azurePcr8"`
}

// State is one side of a comparison: a name for people and the rendered objects and profiles.
type State struct {
	Name     string
	Objects  []manifest.Object
	Profiles map[string]ProfileDigest
}

// Change kinds.
const (
	Added   = "added"
	Removed = "removed"
	Changed = "changed"
)

// Change is one object that differs.
type Change struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
	// App is the application that renders the object ("" for the app-of-apps tree).
	App string `json:"application,omitempty"`
	// Diff is the unified diff of the decoded YAML (for an added or removed object, all of it).
	Diff string `json:"diff"`
}

// ProfileChange is an init-data profile whose digests differ (Base or Head is nil when the profile is new or
// gone).
type ProfileChange struct {
	Name string         `json:"name"`
	Base *ProfileDigest `json:"base,omitempty"`
	Head *ProfileDigest `json:"head,omitempty"`
}

// Report is the result of Compare.
type Report struct {
	Base    string          `json:"base"`
	Head    string          `json:"head"`
	Changes []Change        `json:"changes"`
	Digests []ProfileChange `json:"initDataDigests"`
	// ReferenceValues says whether the Trustee reference values changed: "yes", "no", or "none" when neither
	// state renders them.
	ReferenceValues string `json:"referenceValuesUpdated"`
	// Problems are encoded fields that did not decode.
	Problems []string `json:"problems,omitempty"`
}

// Count returns the number of changes of a kind.
func (r *Report) Count(kind string) int {
	n := 0
	for _, c := range r.Changes {
		if c.Kind == kind {
			n++
		}
	}
	return n
}

// Empty reports whether the two states render the same objects.
func (r *Report) Empty() bool { return len(r.Changes) == 0 && len(r.Digests) == 0 }

type decodedObject struct {
	id, app, yaml string
}

// decodeState decodes and encodes every object of a state (without # Source: comments, which move with
// unrelated edits).
func decodeState(s State, problems *[]string) map[string]decodedObject {
	out := map[string]decodedObject{}
	for _, o := range s.Objects {
		dec, p := Decode([]*node.Node{o.Node})
		for _, msg := range p {
			*problems = append(*problems, s.Name+": "+msg)
		}
		var b bytes.Buffer
		for _, d := range dec {
			node.EncodeYAML(&b, d)
		}
		out[o.ID()] = decodedObject{id: o.ID(), app: o.App, yaml: b.String()}
	}
	return out
}

// Compare matches the objects of two states by apiVersion, kind, namespace and name, and reports added,
// removed and changed objects (with unified diffs of their decoded YAML) and the init-data digests that moved.
func Compare(base, head State) Report {
	r := Report{Base: base.Name, Head: head.Name, Changes: []Change{}, Digests: []ProfileChange{}}
	b := decodeState(base, &r.Problems)
	h := decodeState(head, &r.Problems)
	for id, ho := range h {
		bo, ok := b[id]
		switch {
		case !ok:
			r.Changes = append(r.Changes, Change{Kind: Added, ID: id, App: ho.app, Diff: Unified("/dev/null", head.Name+": "+id, "", ho.yaml, 3)})
		case bo.yaml != ho.yaml:
			r.Changes = append(r.Changes, Change{Kind: Changed, ID: id, App: ho.app, Diff: Unified(base.Name+": "+id, head.Name+": "+id, bo.yaml, ho.yaml, 3)})
		}
	}
	for id, bo := range b {
		if _, ok := h[id]; !ok {
			r.Changes = append(r.Changes, Change{Kind: Removed, ID: id, App: bo.app, Diff: Unified(base.Name+": "+id, "/dev/null", bo.yaml, "", 3)})
		}
	}
	appOrder := map[string]int{"": 0}
	for _, s := range []State{head, base} {
		for _, o := range s.Objects {
			if _, ok := appOrder[o.App]; !ok {
				appOrder[o.App] = len(appOrder)
			}
		}
	}
	slices.SortFunc(r.Changes, func(x, y Change) int {
		return cmp.Or(cmp.Compare(appOrder[x.App], appOrder[y.App]), cmp.Compare(x.ID, y.ID))
	})

	names := map[string]bool{}
	for n := range base.Profiles {
		names[n] = true
	}
	for n := range head.Profiles {
		names[n] = true
	}
	for _, n := range slices.Sorted(maps.Keys(names)) {
		bp, bok := base.Profiles[n]
		hp, hok := head.Profiles[n]
		if bok && hok && bp == hp {
			continue
		}
		pc := ProfileChange{Name: n}
		if bok {
			pc.Base = &bp
		}
		if hok {
			pc.Head = &hp
		}
		r.Digests = append(r.Digests, pc)
	}

	r.ReferenceValues = "none"
	for _, s := range []map[string]decodedObject{b, h} {
		for _, o := range s {
			if isRefValues(o.id) {
				r.ReferenceValues = "no"
			}
		}
	}
	for _, c := range r.Changes {
		if isRefValues(c.ID) {
			r.ReferenceValues = "yes"
		}
	}
	return r
}

func isRefValues(id string) bool {
	return strings.HasPrefix(id, "v1 ConfigMap ") && strings.HasSuffix(id, "/"+trustee.ConfigMapRefValues)
}
