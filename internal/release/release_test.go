package release

import (
	"slices"
	"strings"
	"testing"
)

func TestParseVersion(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Version
		err  bool
	}{
		{in: "3.21.0", want: V(3, 21, 0)},
		{in: "3.21", want: V(3, 21, 0)},
		{in: "v3.20.1", want: V(3, 20, 1)},
		{in: "3", err: true},
		{in: "3.21.0-rc1", err: true},
		{in: "", err: true},
		{in: "99999.1", err: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseVersion(tc.in)
			if (err != nil) != tc.err {
				t.Fatalf("ParseVersion(%q) error = %v, want error %v", tc.in, err, tc.err)
			}
			if got != tc.want {
				t.Errorf("ParseVersion(%q) = %v, want %v", tc.in, got, tc.want)
			}
		})
	}
}

func TestRange(t *testing.T) {
	closed := Range{V(3, 16, 0), V(3, 19, 0)}
	open := Range{V(3, 21, 0), Version{}}
	for _, tc := range []struct {
		name string
		r    Range
		v    Version
		want bool
	}{
		{"below", closed, V(3, 15, 9), false},
		{"first", closed, V(3, 16, 0), true},
		{"patch of the last minor", closed, V(3, 19, 1), true},
		{"next minor", closed, V(3, 20, 0), false},
		{"open: first", open, V(3, 21, 0), true},
		{"open: far later", open, V(4, 1, 0), true},
		{"open: before", open, V(3, 20, 9), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.r.Contains(tc.v); got != tc.want {
				t.Errorf("%v.Contains(%v) = %v, want %v", tc.r, tc.v, got, tc.want)
			}
		})
	}
	if got := closed.String(); got != "3.16 to 3.19" {
		t.Errorf("String = %q", got)
	}
	if got := open.String(); got != "3.21 or later" {
		t.Errorf("String = %q", got)
	}
	if got := (Range{V(3, 20, 0), V(3, 20, 0)}).String(); got != "3.20" {
		t.Errorf("String = %q", got)
	}
}

// The cut-off, as read in kata-containers at each tag (kata.go).
func TestInitDataAnnotation(t *testing.T) {
	for _, tc := range []struct {
		v       Version
		h       Hypervisor
		want    string
		ignored bool
	}{
		{V(3, 15, 0), Remote, "", false},
		{V(3, 8, 0), Local, "", false},
		{V(3, 16, 0), Remote, AnnotationRuntime, false},
		{V(3, 19, 1), Remote, AnnotationRuntime, false},
		{V(3, 19, 1), Local, AnnotationRuntime, false},
		// 3.20.0: the shim reads only hypervisor.cc_init_data, which the remote configuration refuses.
		{V(3, 20, 0), Remote, AnnotationRuntime, true},
		{V(3, 20, 0), Local, AnnotationHypervisor, false},
		{V(3, 21, 0), Remote, AnnotationHypervisor, false},
		{V(3, 31, 0), Remote, AnnotationHypervisor, false},
		{V(4, 1, 0), Local, AnnotationHypervisor, false},
	} {
		t.Run(tc.v.String()+" "+tc.h.String(), func(t *testing.T) {
			got, ignored := InitDataAnnotation(tc.v, tc.h)
			if got != tc.want || ignored != tc.ignored {
				t.Errorf("InitDataAnnotation(%v, %v) = %q, %v; want %q, %v", tc.v, tc.h, got, ignored, tc.want, tc.ignored)
			}
		})
	}
}

func TestInitDataRulesCoverEveryRelease(t *testing.T) {
	for i, r := range InitDataRules {
		if len(r.Sources) == 0 || r.Why == "" {
			t.Errorf("rule %d (%v) names no source or reason", i, r.Releases)
		}
		if i == 0 {
			continue
		}
		prev := InitDataRules[i-1].Releases
		if next := V(prev.Max.Major, prev.Max.Minor+1, 0); next != r.Releases.Min {
			t.Errorf("rule %d starts at %v, want %v (right after %v): a gap or an overlap", i, r.Releases.Min, next, prev)
		}
	}
	if !InitDataRules[len(InitDataRules)-1].Releases.Max.IsZero() {
		t.Error("the last rule must cover every later release")
	}
}

func TestSameInitDataAnnotation(t *testing.T) {
	for _, tc := range []struct {
		name    string
		r       Range
		h       Hypervisor
		want    string
		ignored bool
		ok      bool
	}{
		{"3.16 to 3.19", Range{V(3, 16, 0), V(3, 19, 0)}, Remote, AnnotationRuntime, false, true},
		{"3.21 on", Range{V(3, 21, 0), Version{}}, Remote, AnnotationHypervisor, false, true},
		{"3.16 on", Range{V(3, 16, 0), Version{}}, Remote, "", false, false},
		{"3.19 to 3.20 remote", Range{V(3, 19, 0), V(3, 20, 0)}, Remote, "", false, false},
		{"3.20 to 3.21 local", Range{V(3, 20, 0), V(3, 21, 0)}, Local, AnnotationHypervisor, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ignored, ok := SameInitDataAnnotation(tc.r, tc.h)
			if got != tc.want || ignored != tc.ignored || ok != tc.ok {
				t.Errorf("SameInitDataAnnotation(%v) = %q, %v, %v; want %q, %v, %v", tc.r, got, ignored, ok, tc.want, tc.ignored, tc.ok)
			}
		})
	}
}

func TestSandboxed(t *testing.T) {
	r, ok := Sandboxed("sandboxed-containers-operator.v1.13.0")
	if !ok {
		t.Fatal("the CSV the built-in pattern pins is unknown")
	}
	if r.CAADaemonSet != "osc-caa-ds" || r.OSC != "1.13.0" || !r.Kata.Contains(V(3, 21, 0)) || r.Kata.Contains(V(3, 20, 0)) {
		t.Errorf("v1.13.0 = %+v", r)
	}
	for _, csv := range []string{"", "sandboxed-containers-operator.v1.13.0", "sandboxed-containers-operator.v9.9.9"} {
		if got := CAADaemonSet(csv); got != "osc-caa-ds" {
			t.Errorf("CAADaemonSet(%q) = %q", csv, got)
		}
	}
	if _, ok := Sandboxed("sandboxed-containers-operator.v9.9.9"); ok {
		t.Error("an unknown CSV has a row")
	}
	if r, _ := Sandboxed("sandboxed-containers-operator.v1.10.2"); r.InitDataAnnotation != AnnotationRuntime {
		t.Errorf("OSC 1.10 documents %q, want %q", r.InitDataAnnotation, AnnotationRuntime)
	}
	if r, _ := Sandboxed("sandboxed-containers-operator.v1.9.0"); r.Unsupported == "" {
		t.Error("OSC 1.9 predates compressed init-data and must say so")
	}
}

// Every row is complete and consistent: its Kata releases read init-data the way its documentation writes it.
func TestSandboxedRows(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range SandboxedReleases() {
		t.Run(r.CSV, func(t *testing.T) {
			if seen[r.CSV] {
				t.Fatal("listed twice")
			}
			seen[r.CSV] = true
			if !strings.HasPrefix(r.CSV, SandboxedPackage+".v"+r.OSC) || len(r.Sources) == 0 || r.Verified == "" {
				t.Fatalf("incomplete row %+v", r)
			}
			if r.Unsupported != "" {
				return
			}
			if r.CAADaemonSet == "" || len(r.FeatureGates) == 0 || r.Kata.Min.IsZero() {
				t.Fatalf("incomplete row %+v", r)
			}
			name, ignored, ok := SameInitDataAnnotation(r.Kata, Remote)
			if !ok || ignored || name != r.InitDataAnnotation {
				t.Errorf("Kata %v reads %q (ignored %v, one rule %v) on peer pods; the row documents %q", r.Kata, name, ignored, ok, r.InitDataAnnotation)
			}
		})
	}
	csvs := SandboxedCSVs()
	if !slices.Contains(csvs, "sandboxed-containers-operator.v1.13.0") || len(csvs) != len(seen) {
		t.Errorf("SandboxedCSVs = %v", csvs)
	}
}

func TestTrustee(t *testing.T) {
	for _, tc := range []struct {
		catalog, csv string
		found        bool
		writes       bool
		format       string
		annotated    bool
	}{
		{"redhat-operators", "trustee-operator.v1.2.0", true, true, "0.21", true},
		{"", "trustee-operator.v1.2.1", true, true, "0.21", true},
		{"redhat-operators", "trustee-operator.v1.1.0", true, false, "0.18", false},
		{"redhat-operators", "trustee-operator.v1.0.0", true, false, "0.15", false},
		{"community-operators", "trustee-operator.v0.21.0", true, true, "0.21", false},
		{"community-operators", "trustee-operator.v0.19.0", true, false, "0.19", false},
		{"community-operators", "trustee-operator.v1.2.0", false, false, "", false},
		{"redhat-operators", "trustee-operator.v9.9.9", false, false, "", false},
	} {
		t.Run(tc.catalog+"/"+tc.csv, func(t *testing.T) {
			r, ok := Trustee(tc.catalog, tc.csv)
			if ok != tc.found {
				t.Fatalf("found = %v, want %v", ok, tc.found)
			}
			if !ok {
				return
			}
			if r.Writes() != tc.writes || r.Format != tc.format || slices.Contains(r.ConfigMapAnnotations, MigratedAnnotation) != tc.annotated {
				t.Errorf("row = %+v", r)
			}
		})
	}
}

func TestTrusteeRows(t *testing.T) {
	type key struct{ catalog, csv string }
	seen := map[key]bool{}
	for _, r := range TrusteeReleases() {
		t.Run(r.Catalog+"/"+r.CSV, func(t *testing.T) {
			if seen[key{r.Catalog, r.CSV}] {
				t.Fatal("listed twice")
			}
			seen[key{r.Catalog, r.CSV}] = true
			if !strings.HasPrefix(r.CSV, TrusteePackage+".v") || r.Product == "" || r.Trustee == "" || len(r.Sources) == 0 || r.Verified == "" {
				t.Fatalf("incomplete row %+v", r)
			}
			if _, err := ParseVersion(r.Format); err != nil {
				t.Errorf("format: %v", err)
			}
			// What cocogen writes is the 0.21 format: authorization_mode and the storage layout.
			if r.Writes() != (r.Format == WrittenFormat) {
				t.Errorf("writes %v but format %s", r.Writes(), r.Format)
			}
			if r.Writes() && (r.Admin != AdminAuthorizationMode || r.Layout != LayoutStorage || r.RefValues != RefValuesObject) {
				t.Errorf("a written row must have the 0.21 admin, layout and store: %+v", r)
			}
			if !r.Writes() && !strings.Contains(r.Unsupported, "0.21") {
				t.Errorf("the reason must say what cocogen writes: %q", r.Unsupported)
			}
			// Red Hat's 1.2.x migrates every ConfigMap without the annotation; no other release needs it.
			wantAnn := r.Catalog == CatalogRedHat && strings.HasPrefix(r.CSV, "trustee-operator.v1.2.")
			if slices.Contains(r.ConfigMapAnnotations, MigratedAnnotation) != wantAnn {
				t.Errorf("migration annotation = %v, want %v", r.ConfigMapAnnotations, wantAnn)
			}
		})
	}
	known, written := TrusteeFormats()
	if !slices.Equal(written, []string{"0.21"}) || !slices.Contains(known, "0.18") || !slices.IsSortedFunc(known, compareFormats) {
		t.Errorf("TrusteeFormats = %v, %v", known, written)
	}
	if got := WritingCSVs(); got != "trustee-operator.v1.2.0, trustee-operator.v1.2.1 (redhat-operators), trustee-operator.v0.21.0 (community-operators)" {
		t.Errorf("WritingCSVs = %q", got)
	}
	if r, ok := TrusteeForFormat("0.18"); !ok || r.CSV != "trustee-operator.v1.1.0" {
		t.Errorf("TrusteeForFormat(0.18) = %+v, %v", r, ok)
	}
	if !UnpinnedTrustee.Writes() || UnpinnedTrustee.Format != WrittenFormat || UnpinnedTrustee.Layout != LayoutStorage {
		t.Errorf("UnpinnedTrustee = %+v", UnpinnedTrustee)
	}
}
