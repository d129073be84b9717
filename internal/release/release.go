// Package release holds what cocogen knows about the releases a cluster runs: which Trustee an operator CSV
// installs and the configuration format cocogen writes for it (trustee.go), which Kata Containers releases an
// OpenShift sandboxed containers CSV runs with, the cloud-api-adaptor DaemonSet's name and the feature gates
// (sandboxed.go), and the init-data annotation each Kata release reads (kata.go).
//
// The package is data and lookups only: no file, network or clock. Every row names the upstream source it was
// read from, and says whether it was verified in source code or taken from documentation and release notes
// (Verified). The README lists the same rows; `cocogen version` prints them.
package release

import (
	"fmt"
	"strconv"

	"github.com/cocogen/cocogen/internal/lazyre"
)

// Evidence says how a row was established.
type Evidence string

const (
	// FromSource rows were read in the upstream source at the named tag or commit.
	FromSource Evidence = "source"
	// FromNotes rows come from release notes, product documentation or a recorded deployment, not source.
	FromNotes Evidence = "release notes"
)

// Version is a release number MAJOR.MINOR.PATCH. The zero value means "unknown".
type Version struct {
	Major, Minor, Patch int
}

var versionRe = lazyre.New(`^v?([0-9]{1,4})\.([0-9]{1,4})(?:\.([0-9]{1,4}))?$`)

// ParseVersion reads "3.21.0", "3.21" or "v3.21.0".
func ParseVersion(s string) (Version, error) {
	m := versionRe.FindStringSubmatch(s)
	if m == nil {
		return Version{}, fmt.Errorf("%q is not a release number MAJOR.MINOR[.PATCH], e.g. 3.21.0", s)
	}
	var v Version
	v.Major, _ = strconv.Atoi(m[1])
	v.Minor, _ = strconv.Atoi(m[2])
	if m[3] != "" {
		v.Patch, _ = strconv.Atoi(m[3])
	}
	return v, nil
}

// V is a Version literal for tables.
func V(major, minor, patch int) Version { return Version{major, minor, patch} }

// IsZero reports whether the version is unknown.
func (v Version) IsZero() bool { return v == Version{} }

// String renders the version as MAJOR.MINOR.PATCH.
func (v Version) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// Compare orders versions: -1 when v is older than w, 0 when equal, 1 when newer.
func (v Version) Compare(w Version) int {
	for _, d := range [][2]int{{v.Major, w.Major}, {v.Minor, w.Minor}, {v.Patch, w.Patch}} {
		if d[0] != d[1] {
			if d[0] < d[1] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// Less reports whether v is older than w.
func (v Version) Less(w Version) bool { return v.Compare(w) < 0 }

// Range is the releases from Min up to and including every patch release of Max's minor (Max zero: no upper
// bound).
type Range struct {
	Min, Max Version
}

// Contains reports whether v is in the range. Patch releases of Max's minor are in it.
func (r Range) Contains(v Version) bool {
	if v.Less(r.Min) {
		return false
	}
	if r.Max.IsZero() {
		return true
	}
	return v.Less(V(r.Max.Major, r.Max.Minor+1, 0))
}

// String renders the range for messages: "3.16 to 3.19", "3.21 or later".
func (r Range) String() string {
	minS := fmt.Sprintf("%d.%d", r.Min.Major, r.Min.Minor)
	if r.Min.Patch != 0 {
		minS = r.Min.String()
	}
	switch {
	case r.Max.IsZero():
		return minS + " or later"
	case r.Max.Major == r.Min.Major && r.Max.Minor == r.Min.Minor:
		return minS
	}
	return fmt.Sprintf("%s to %d.%d", minS, r.Max.Major, r.Max.Minor)
}
