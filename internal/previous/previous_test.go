package previous

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func digest(c string) string { return "sha256:" + strings.Repeat(c, 64) }

func TestPlan(t *testing.T) {
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	base := State{Digests: map[string]string{"default": digest("a"), "debug": digest("b"), "gone": digest("c")}, Used: []string{"default", "debug", "gone"}}
	head := State{Digests: map[string]string{"default": digest("d"), "debug": digest("b"), "spare": digest("e")}}
	r := Plan(base, head, "2026-12-14T12:00:00Z", now)
	want := []Entry{{"default", digest("a"), "2026-12-14T12:00:00Z"}}
	if !slices.Equal(r.Entries, want) || !slices.Equal(r.Added, want) || len(r.Removed)+len(r.Extended) != 0 || !r.Changed() {
		t.Errorf("a changed profile: %+v", r)
	}
	// Kept already: nothing to add; a later time extends it; an earlier one changes nothing.
	head.Previous = []Entry{{"default", digest("a"), "2026-12-10T00:00:00Z"}}
	if r := Plan(base, head, "2026-12-09T00:00:00Z", now); r.Changed() || !slices.Equal(r.Entries, head.Previous) {
		t.Errorf("kept already: %+v", r)
	}
	if r := Plan(base, head, "2026-12-14T12:00:00Z", now); len(r.Extended) != 1 || r.Entries[0].Until != "2026-12-14T12:00:00Z" {
		t.Errorf("extended: %+v", r)
	}
	// Entries whose time has passed go; the others stay, in order.
	head.Previous = []Entry{{"debug", digest("f"), "2026-12-07T12:00:00Z"}, {"default", digest("a"), "2026-12-20T00:00:00Z"}, {"debug", digest("9"), "2026-11-01T00:00:00Z"}}
	r = Plan(base, head, "2026-12-14T12:00:00Z", now)
	if !slices.Equal(r.Entries, head.Previous[1:2]) || len(r.Removed) != 2 || len(r.Added) != 0 {
		t.Errorf("pruned: %+v", r)
	}
	// A profile the base does not run needs nothing.
	base.Used = []string{"debug"}
	if r := Plan(base, State{Digests: head.Digests}, "2026-12-14T12:00:00Z", now); r.Changed() {
		t.Errorf("not in use: %+v", r)
	}
}

const values = `global:
  coco:
    trustee:
      version: "0.21"
      referenceValues:
        expiration: "2027-12-31T00:00:00Z"
        # An old comment about previous.
        previous:
          - {profile: default, digest: "sha256:00", until: "2020-01-01T00:00:00Z"}
        # Until the pod VM is pinned, any image is accepted.
        acceptUnpinnedPodVM: true
      resources:
        kbsres1: [key1]
main:
  clusterGroupName: azure
`

func TestWrite(t *testing.T) {
	entries := []Entry{{"default", digest("a"), "2026-12-14T12:00:00Z"}, {"debug", digest("b"), "2026-12-15T00:00:00Z"}}
	out, err := Write("values-global.yaml", []byte(values), entries)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(values, `        # An old comment about previous.
        previous:
          - {profile: default, digest: "sha256:00", until: "2020-01-01T00:00:00Z"}
`, `        # Init-data that profiles rendered before a change: pods started with it keep attesting as the
        # profile until the time (written by cocogen initdata keep; README "Rollouts and rotation").
        previous:
          - {profile: default, digest: "`+digest("a")+`", until: "2026-12-14T12:00:00Z"}
          - {profile: debug, digest: "`+digest("b")+`", until: "2026-12-15T00:00:00Z"}
`, 1)
	if string(out) != want {
		t.Errorf("got:\n%s\nwant:\n%s", out, want)
	}
	// No entries: the key goes, with its comment; every other line stays.
	out, err = Write("values-global.yaml", []byte(values), nil)
	if err != nil || strings.Contains(string(out), "previous") || !strings.Contains(string(out), "        # Until the pod VM is pinned, any image is accepted.\n        acceptUnpinnedPodVM: true\n") {
		t.Errorf("removed:\n%s (%v)", out, err)
	}
	// Nothing there yet: the list ends the map.
	again, err := Write("values-global.yaml", out, entries[:1])
	if err != nil || !strings.Contains(string(again), "        acceptUnpinnedPodVM: true\n        # Init-data that profiles") {
		t.Errorf("appended:\n%s (%v)", again, err)
	}
	if _, err := Write("v.yaml", []byte("global:\n  coco:\n    trustee:\n      referenceValues: {expiration: x}\n"), entries); err == nil || !strings.Contains(err.Error(), "block style") {
		t.Errorf("flow style: %v", err)
	}
	if _, err := Write("v.yaml", []byte("global: {}\n"), entries); err == nil || !strings.Contains(err.Error(), "has no global.coco.trustee.referenceValues map") {
		t.Errorf("no map: %v", err)
	}
}
