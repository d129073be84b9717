package model

import (
	"slices"
	"strings"
	"time"

	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Rollout is global.coco.rollout: how changes reach the running components. The render writes a Job that
// restarts the cloud-api-adaptor when the default init-data changes (the sandbox application) and a CronJob
// that restarts the KBS when a Secret it loads at start changes (the trustee application); both run this
// image.
type Rollout struct {
	// Image is the image of those Jobs: it needs oc (or kubectl) and bash.
	Image    string
	ImagePos srcpos.Pos
	// KBSReloadSchedule is the CronJob schedule of the KBS reloader (five cron fields).
	KBSReloadSchedule string
	SchedulePos       srcpos.Pos
}

// DefaultRolloutImage is the OpenShift CLI image of the cluster's own release: the ImageStream cli in the
// namespace openshift, which every OpenShift 4 release payload creates (tag latest follows the cluster's
// version, so oc matches the API server) and which the cluster pulls through its internal registry without a
// pull secret for registry.redhat.io. A cluster whose image registry is removed (the ImageRegistry capability
// off) must name another image, e.g. registry.redhat.io/openshift4/ose-cli-rhel9 pinned by digest.
const DefaultRolloutImage = "image-registry.openshift-image-registry.svc:5000/openshift/cli:latest"

// DefaultKBSReloadSchedule runs the KBS reloader every five minutes.
const DefaultKBSReloadSchedule = "*/5 * * * *"

// PreviousInitData is one entry of global.coco.trustee.referenceValues.previous: the digest of init-data a
// profile rendered before, which pods started with it keep attesting with until Until.
type PreviousInitData struct {
	Profile    string
	ProfilePos srcpos.Pos
	// Algorithm and Digest are the digest as cocogen.io/initdata-digest writes it: <algorithm>:<hex>.
	Algorithm string
	Digest    string
	DigestPos srcpos.Pos
	// Until is when the attestation policy stops accepting it (YYYY-MM-DDTHH:MM:SSZ).
	Until    string
	UntilPos srcpos.Pos
	Pos      srcpos.Pos
}

var (
	rolloutKeys  = []string{"image", "kbsReloadSchedule"}
	previousKeys = []string{"profile", "digest", "until"}
	// imageRe is an image reference: registry/path[:tag][@algorithm:hex].
	imageRe      = lazyre.New(`^[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-]{1,2}[a-z0-9]+)*)+(:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(@sha256:[0-9a-f]{64})?$`)
	cronFieldRe  = lazyre.New(`^[0-9*/,-]+$`)
	digestSizes  = map[string]int{"sha256": 64, "sha384": 96, "sha512": 128}
	digestFormat = "<algorithm>:<hex>, as cocogen.io/initdata-digest shows it (sha256:6a4c…)"
)

// rollout decodes global.coco.rollout.
func (dc decoder) rollout(n *node.Node, out *Rollout) {
	const path = "global.coco.rollout"
	out.Image, out.KBSReloadSchedule = DefaultRolloutImage, DefaultKBSReloadSchedule
	if n.IsNull() || !dc.c.Map(n, path, true, rolloutKeys...) {
		return
	}
	if s := dc.str(n, path, "image"); s != "" {
		out.Image, out.ImagePos = s, n.Get("image").Pos
		if !imageRe.MatchString(s) {
			dc.errorf(n.Get("image"), schema.Join(path, "image"), "%q is not an image reference (registry/repository[:tag][@sha256:<hex>])", s)
		}
	}
	if s := dc.str(n, path, "kbsReloadSchedule"); s != "" {
		out.KBSReloadSchedule, out.SchedulePos = s, n.Get("kbsReloadSchedule").Pos
		fields := strings.Fields(s)
		ok := len(fields) == 5
		for _, f := range fields {
			ok = ok && cronFieldRe.MatchString(f)
		}
		if !ok {
			dc.errorf(n.Get("kbsReloadSchedule"), schema.Join(path, "kbsReloadSchedule"), "%q is not a CronJob schedule of five fields (minute hour day-of-month month day-of-week), e.g. \"*/5 * * * *\"", s)
		}
	}
}

// previous decodes global.coco.trustee.referenceValues.previous: a list of {profile, digest, until}. Whether
// the profiles exist, the digests clash and the dates have passed is checked where the reference values are
// rendered (the render's clock and profiles are there).
func (dc decoder) previous(n *node.Node, path string) []PreviousInitData {
	if n.IsNull() {
		return nil
	}
	if n.Kind != node.List {
		dc.errorf(n, path, "must be a list of {profile, digest, until}: the init-data digests that pods started before a change keep attesting with until the date")
		return nil
	}
	var out []PreviousInitData
	for i, it := range n.Items() {
		ip := schema.Index(path, i)
		if !dc.c.Map(it, ip, false, previousKeys...) {
			continue
		}
		e := PreviousInitData{Pos: it.Pos}
		ok := true
		for _, k := range previousKeys {
			if it.Get(k).IsNull() {
				dc.c.Diags.Errorf(it.Pos, schema.Join(ip, k), "is required")
				ok = false
			}
		}
		if !ok {
			continue
		}
		e.Profile, e.ProfilePos = dc.str(it, ip, "profile"), it.Get("profile").Pos
		digest := dc.str(it, ip, "digest")
		e.DigestPos = it.Get("digest").Pos
		alg, hex, found := strings.Cut(digest, ":")
		size, known := digestSizes[alg]
		switch {
		case !found || !known:
			dc.errorf(it.Get("digest"), schema.Join(ip, "digest"), "%q is not an init-data digest: write %s; the algorithm is one of %s", digest, digestFormat, strings.Join(algorithms, ", "))
			continue
		case len(hex) != size || !hexRe.MatchString(hex):
			dc.errorf(it.Get("digest"), schema.Join(ip, "digest"), "%q is not a %s digest: %d lowercase hex characters after %s:", digest, alg, size, alg)
			continue
		}
		e.Algorithm, e.Digest = alg, hex
		e.Until, e.UntilPos = dc.str(it, ip, "until"), it.Get("until").Pos
		if !expirationRe.MatchString(e.Until) {
			dc.errorf(it.Get("until"), schema.Join(ip, "until"), "%q is not a UTC time: YYYY-MM-DDTHH:MM:SSZ, e.g. 2026-07-01T00:00:00Z", it.Get("until").Src)
			continue
		} else if _, err := time.Parse(time.RFC3339, e.Until); err != nil {
			dc.errorf(it.Get("until"), schema.Join(ip, "until"), "%q is not a valid time: %v", it.Get("until").Src, err)
			continue
		}
		if j := slices.IndexFunc(out, func(p PreviousInitData) bool { return p.Algorithm == e.Algorithm && p.Digest == e.Digest }); j >= 0 {
			dc.errorf(it.Get("digest"), schema.Join(ip, "digest"), "%s:%s is listed twice (first as entry %d)", alg, hex, j)
			continue
		}
		out = append(out, e)
	}
	return out
}
