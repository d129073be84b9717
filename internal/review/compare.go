package review

import (
	"bytes"
	"cmp"
	"maps"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/rvps"
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
	// Used are the profiles the applications run (the reference values bind them); Previous the init-data
	// kept for pods started before a change (global.coco.trustee.referenceValues.previous).
	Used     []string
	Previous []PreviousDigest
	// Keep is the command that writes the base's digests into the head's values (cocogen initdata keep),
	// which the report suggests for a digest that moved and is not kept; "" for none.
	Keep string
}

// PreviousDigest is init-data that pods started before a change keep attesting with until Until.
type PreviousDigest struct {
	Profile string `json:"profile"`
	Digest  string `json:"digest"` // <algorithm>:<hex>
	Until   string `json:"until"`
}

// Statuses of the previous init-data in a Report.
const (
	KeptNew     = "new"     // kept by the head, not by the base
	KeptStill   = "kept"    // kept by both
	KeptDropped = "dropped" // kept by the base only
)

// PreviousChange is one entry of the previous init-data of either state.
type PreviousChange struct {
	PreviousDigest
	Status string `json:"status"`
}

// Unkept is a profile whose init-data moved while pods run it, and whose previous init-data the head does
// not keep: pods started before the change get nothing from the KBS once its reference values change.
type Unkept struct {
	Profile string `json:"profile"`
	Digest  string `json:"digest"`
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
	// Previous is the init-data kept for pods started before a change, in either state.
	Previous []PreviousChange `json:"previousInitData"`
	// Unkept are the profiles in use whose previous init-data the head does not keep, and Keep the command
	// that keeps it.
	Unkept []Unkept `json:"unkeptInitData"`
	Keep   string   `json:"keepCommand,omitempty"`
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
	r := Report{Base: base.Name, Head: head.Name, Changes: []Change{}, Digests: []ProfileChange{}, Previous: []PreviousChange{}, Unkept: []Unkept{}}
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

	comparePrevious(&r, base, head)

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
	return strings.HasPrefix(id, "v1 ConfigMap ") && strings.HasSuffix(id, "/"+rvps.ConfigMapName)
}

// comparePrevious lists the previous init-data of both states, and the profiles in use in the base whose
// digest moved without the head keeping the base's.
func comparePrevious(r *Report, base, head State) {
	key := func(p PreviousDigest) string { return p.Profile + " " + p.Digest }
	inBase := map[string]PreviousDigest{}
	for _, p := range base.Previous {
		inBase[key(p)] = p
	}
	kept := map[string]bool{}
	for _, p := range head.Previous {
		kept[key(p)] = true
		status := KeptNew
		if _, ok := inBase[key(p)]; ok {
			status = KeptStill
		}
		r.Previous = append(r.Previous, PreviousChange{PreviousDigest: p, Status: status})
	}
	for _, p := range base.Previous {
		if !kept[key(p)] {
			r.Previous = append(r.Previous, PreviousChange{PreviousDigest: p, Status: KeptDropped})
		}
	}
	for _, c := range r.Digests {
		if c.Base == nil || c.Head == nil || !slices.Contains(base.Used, c.Name) {
			continue
		}
		d := c.Base.Algorithm + ":" + c.Base.Digest
		if !kept[c.Name+" "+d] {
			r.Unkept = append(r.Unkept, Unkept{Profile: c.Name, Digest: d})
		}
	}
	if len(r.Unkept) > 0 {
		r.Keep = head.Keep
	}
}
