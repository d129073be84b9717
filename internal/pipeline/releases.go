package pipeline

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/cocogen/cocogen/generators/workloads"
	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/release"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// releases are the releases a render writes for: the Trustee operator's (its KBS configuration format, mount
// paths and ConfigMap keys) and the Kata releases of the cluster's nodes (the init-data annotation and the
// agent policy dialect). The CSVs pinned in the values select rows of internal/release; where the values pin
// none, global.coco.trustee.version and the metadata's kata.version say the release; where both say something,
// they must agree.
type releases struct {
	trustee release.TrusteeRelease
	// sandboxed is the pinned sandboxed containers row, nil when the values pin none.
	sandboxed *release.SandboxedRelease
	kata      kataRelease
}

// kataRelease is what a render knows of the cluster's Kata: an exact release (the metadata's kata.version),
// or the releases a pinned sandboxed containers CSV runs with, or nothing.
type kataRelease struct {
	exact release.Version
	rng   release.Range
	// from says where the release comes from, for messages: `kata.version "3.21.0" at values/cluster-metadata.yaml:58:12`.
	from string
}

// agent is the release whose agent loads the policies: the exact release, else "any release" (the policies are
// then checked for the strictest combination).
func (k kataRelease) agent() agentpolicy.KataVersion {
	if k.exact.IsZero() {
		return agentpolicy.KataVersion{}
	}
	return agentpolicy.KataVersion{Major: k.exact.Major, Minor: k.exact.Minor, Patch: k.exact.Patch}
}

// initData returns the annotation a pod's init-data goes in (release.InitDataRules) and whether the shim ignores
// it; with no release known, the annotation of Kata 3.21 and later.
func (k kataRelease) initData(h release.Hypervisor) (name string, ignored bool) {
	switch {
	case !k.exact.IsZero():
		return release.InitDataAnnotation(k.exact, h)
	case !k.rng.Min.IsZero():
		if n, ig, ok := release.SameInitDataAnnotation(k.rng, h); ok {
			return n, ig
		}
	}
	return release.AnnotationHypervisor, false
}

// describe names the release for messages.
func (k kataRelease) describe() string {
	switch {
	case !k.exact.IsZero():
		return "Kata " + k.exact.String()
	case !k.rng.Min.IsZero():
		return "Kata " + k.rng.String()
	}
	return "an unknown Kata release"
}

// hypervisorFor is where the pods of a platform's runtime class start their VM.
func hypervisorFor(platform string) release.Hypervisor {
	if workloads.RuntimeClassFor(platform) == "kata-cc" {
		return release.Local
	}
	return release.Remote
}

// rendersCoCo reports whether the render writes anything whose format depends on the releases: an application
// cocogen renders, or init-data profiles.
func rendersCoCo(v *model.Values) bool {
	if len(v.CoCo.InitData.Profiles) > 0 {
		return true
	}
	for _, a := range v.ClusterGroup.Applications {
		if a.CoCoGen != "" && !a.Disabled {
			return true
		}
	}
	return false
}

// subscriptionPath is the values path of a subscription: clusterGroup.subscriptions.<key>, or [i] in list form.
func subscriptionPath(v *model.Values, s *model.Subscription) string {
	const path = "clusterGroup.subscriptions"
	if l := v.Tree.Path("clusterGroup", "subscriptions"); l != nil && l.Kind == node.List {
		if i, err := strconv.Atoi(s.Key); err == nil {
			return schema.Index(path, i)
		}
	}
	return schema.Join(path, s.Key)
}

// posText renders a position for a message, or where a fact came from when it has no line (--fact).
func posText(p srcpos.Pos) string {
	if s := p.String(); s != "" {
		return s
	}
	return "the metadata"
}

// resolveReleases selects the release rows from the pinned CSVs and checks them against
// global.coco.trustee.version and the metadata's kata.version. Every problem is an error at the values line
// that pins the CSV, naming the other line.
func resolveReleases(v *model.Values, meta *metadata.Metadata, d *diag.List) releases {
	r := releases{trustee: release.UnpinnedTrustee}
	if meta != nil && meta.Kata.Version.Set && meta.Kata.Version.Value != "" {
		f := meta.Kata.Version
		if k, err := release.ParseVersion(f.Value); err != nil {
			d.Errorf(f.Pos, "kata.version", "%v", err)
		} else {
			r.kata = kataRelease{exact: k, from: fmt.Sprintf("kata.version %q at %s", f.Value, posText(f.Pos))}
		}
	}
	if !rendersCoCo(v) {
		return r
	}
	var trusteeSub, sandboxedSub *model.Subscription
	for i := range v.ClusterGroup.Subscriptions {
		s := &v.ClusterGroup.Subscriptions[i]
		if s.Disabled || s.CSV == "" || s.OLMv1() {
			continue
		}
		switch {
		case s.Name == release.TrusteePackage && trusteeSub == nil:
			trusteeSub = s
		case s.Name == release.SandboxedPackage && sandboxedSub == nil:
			sandboxedSub = s
		}
	}
	if s := sandboxedSub; s != nil {
		path := subscriptionPath(v, s) + ".csv"
		row, ok := release.Sandboxed(s.CSV)
		switch {
		case !ok:
			d.Errorf(s.CSVPos, path, "unknown OpenShift sandboxed containers CSV %q: cocogen knows the Kata releases of %s (internal/release/sandboxed.go); pin one of them, or set csv to null and name the cluster's Kata release in the metadata (kata.version)", s.CSV, strings.Join(release.SandboxedCSVs(), ", "))
		case row.Unsupported != "":
			d.Errorf(s.CSVPos, path, "%s: %s", s.CSV, row.Unsupported)
		default:
			r.sandboxed = &row
			if !r.kata.exact.IsZero() && !row.Kata.Contains(r.kata.exact) {
				d.Errorf(s.CSVPos, path, "%s runs with Kata %s (the Kata of the OpenShift releases it supports), but the cluster metadata says %s: correct kata.version to the Kata release of the cluster's nodes, or pin the sandboxed containers release the cluster runs", s.CSV, row.Kata, r.kata.from)
			}
			if r.kata.exact.IsZero() {
				r.kata = kataRelease{rng: row.Kata, from: fmt.Sprintf("%s at %s", s.CSV, posText(s.CSVPos))}
			}
		}
	}
	t := v.CoCo.Trustee
	if s := trusteeSub; s != nil {
		path := subscriptionPath(v, s) + ".csv"
		row, ok := release.Trustee(s.Source, s.CSV)
		catalog := s.Source
		if catalog == "" {
			catalog = release.CatalogRedHat
		}
		switch {
		case !ok:
			known := release.TrusteeCSVs(catalog)
			msg := fmt.Sprintf("unknown trustee-operator CSV %q from %s: the KBS configuration format changes between releases, and cocogen knows the releases of ", s.CSV, catalog)
			if len(known) == 0 {
				msg += fmt.Sprintf("the catalog sources %s and %s only", release.CatalogRedHat, release.CatalogCommunity)
			} else {
				msg += strings.Join(known, ", ")
			}
			d.Errorf(s.CSVPos, path, "%s (internal/release/trustee.go); cocogen writes the configuration of %s", msg, release.WritingCSVs())
		case !row.Writes():
			d.Errorf(s.CSVPos, path, "%s installs %s (Trustee %s): %s; pin one of %s", s.CSV, row.Product, row.Trustee, row.Unsupported, release.WritingCSVs())
		default:
			r.trustee = row
			if !t.VersionPos.IsZero() && t.Version != row.Format {
				d.Errorf(s.CSVPos, path, "%s installs %s, which reads the KBS configuration of Trustee %s, but global.coco.trustee.version (%s) says %q: remove global.coco.trustee.version or make it %q", s.CSV, row.Product, row.Format, posText(t.VersionPos), t.Version, row.Format)
			}
		}
	}
	if trusteeSub == nil && !t.VersionPos.IsZero() && t.Version != release.WrittenFormat {
		msg := fmt.Sprintf("says %s", t.Version)
		if row, ok := release.TrusteeForFormat(t.Version); ok {
			msg += fmt.Sprintf(", the format of %s (%s): %s", row.Product, row.CSV, row.Unsupported)
		}
		d.Errorf(t.VersionPos, "global.coco.trustee.version", "%s; use \"%s\" with one of %s", msg, release.WrittenFormat, release.WritingCSVs())
	}
	return r
}

// checkInitDataIgnored warns at each pod template of a workloads application that names a profile other than
// the cluster default when the cluster's Kata ignores the annotation (Kata 3.20 on peer pods): its VM boots
// with peer-pods-cm's INITDATA, the default profile's init-data.
func checkInitDataIgnored(c appContext, a *model.Application, uses []workloads.Use, o *builtOverlay, d *diag.List) {
	platform := c.v.Global.Tree.Get("clusterPlatform").Scalar()
	name, ignored := c.rel.kata.initData(hypervisorFor(platform))
	if !ignored {
		return
	}
	def := c.v.CoCo.InitData.Default
	for _, u := range uses {
		if u.Profile == def {
			continue
		}
		pos := u.Pos
		if pos.IsZero() {
			pos = a.Pos
		}
		d.Warnf(pos, u.Object+" "+workloads.AnnotationProfile, "%s (from %s) reads no per-pod init-data on peer pods: it ignores %s and refuses hypervisor.cc_init_data, which its configuration-remote.toml does not enable (Kata 3.21 does). This pod's VM boots with peer-pods-cm's INITDATA, profile %q, not %q: the agent checks its containers against that profile's policy and Trustee sees profile %q. Run Kata 3.21 or later for per-pod init-data",
			c.rel.kata.describe(), c.rel.kata.from, name, def, u.Profile, def)
	}
}
