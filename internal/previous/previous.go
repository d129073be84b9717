// Package previous keeps the init-data that pods started before a change run with: it works out which
// digests a change leaves behind (Plan) and writes them into a values file as
// global.coco.trustee.referenceValues.previous (Write), so that nobody copies hex by hand.
package previous

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/valuesedit"
)

// Entry is one kept init-data: the profile, its digest (<algorithm>:<hex>) and until when it attests.
type Entry struct {
	Profile string
	Digest  string
	Until   string
}

// State is what Plan reads of one side of a change.
type State struct {
	// Digests are the init-data digests of the profiles (<algorithm>:<hex>), by name.
	Digests map[string]string
	// Used are the profiles the applications run.
	Used []string
	// Previous are the entries the values keep.
	Previous []Entry
}

// Result is what Plan decides.
type Result struct {
	// Entries is the new list: the head's entries whose time has not passed, then the added ones.
	Entries []Entry
	// Added are the digests of the base that the head no longer renders; Extended the entries kept already
	// whose time moves later; Removed the head's entries whose time has passed at now.
	Added, Extended, Removed []Entry
}

// Changed reports whether the list changes.
func (r Result) Changed() bool { return len(r.Added)+len(r.Extended)+len(r.Removed) > 0 }

// Plan keeps, until until, the digest of every profile that the base runs and the head renders differently,
// and drops the head's entries whose time has passed at now. A profile the head no longer has is left out: no
// pod of it can attest as it.
func Plan(base, head State, until string, now time.Time) Result {
	var r Result
	for _, e := range head.Previous {
		if t, err := time.Parse(time.RFC3339, e.Until); err == nil && !t.After(now) {
			r.Removed = append(r.Removed, e)
			continue
		}
		r.Entries = append(r.Entries, e)
	}
	used := slices.Clone(base.Used)
	slices.Sort(used)
	for _, name := range used {
		old, cur := base.Digests[name], head.Digests[name]
		if old == "" || cur == "" || old == cur {
			continue
		}
		i := slices.IndexFunc(r.Entries, func(e Entry) bool { return e.Profile == name && e.Digest == old })
		switch {
		case i < 0:
			e := Entry{Profile: name, Digest: old, Until: until}
			r.Entries = append(r.Entries, e)
			r.Added = append(r.Added, e)
		case r.Entries[i].Until < until:
			r.Entries[i].Until = until
			r.Extended = append(r.Extended, r.Entries[i])
		}
	}
	return r
}

// path is where the entries live in a values file.
var path = []string{"global", "coco", "trustee", "referenceValues"}

// Write returns the values file src (name is how it is shown) with referenceValues.previous set to entries
// (removed when there are none), keeping every other line. The referenceValues map must be written in block
// style. The result is parsed again and must hold exactly the entries.
func Write(name string, src []byte, entries []Entry) ([]byte, error) {
	out, err := valuesedit.Replace(name, src, path, []string{"previous"}, "add it (with its expiration) first", func(pad string) string {
		if len(entries) == 0 {
			return ""
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s# Init-data that profiles rendered before a change: pods started with it keep attesting as the\n", pad)
		fmt.Fprintf(&b, "%s# profile until the time (written by cocogen initdata keep; README \"Rollouts and rotation\").\n", pad)
		fmt.Fprintf(&b, "%sprevious:\n", pad)
		for _, e := range entries {
			fmt.Fprintf(&b, "%s  - {profile: %s, digest: %q, until: %q}\n", pad, e.Profile, e.Digest, e.Until)
		}
		return b.String()
	})
	if err != nil {
		return nil, err
	}
	if got, err := Read(name, out); err != nil || !slices.Equal(got, entries) {
		return nil, fmt.Errorf("internal error: the edited %s does not read back (%v): %v, want %v", name, err, got, entries)
	}
	return out, nil
}

// Read returns the entries of referenceValues.previous in a values file, as written (unchecked).
func Read(name string, src []byte) ([]Entry, error) {
	tree, err := node.Parse(name, src, node.DefaultLimits)
	if err != nil {
		return nil, err
	}
	var out []Entry
	for _, it := range tree.Path(append(slices.Clone(path), "previous")...).Items() {
		out = append(out, Entry{Profile: it.Get("profile").Scalar(), Digest: it.Get("digest").Scalar(), Until: it.Get("until").Scalar()})
	}
	return out, nil
}
