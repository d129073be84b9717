package pipeline

import (
	"fmt"
	"time"

	"github.com/cocogen/cocogen/generators/profiles"
	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Profile is one rendered init-data profile (generators/profiles).
type Profile = profiles.Profile

// needsTrustAnchor reports whether a render reads the KBS trust anchor: init-data embeds it, and the trustee
// application serves the KBS certificate it anchors.
func needsTrustAnchor(v *model.Values) bool {
	if len(v.CoCo.InitData.Profiles) > 0 {
		return true
	}
	for _, a := range v.ClusterGroup.Applications {
		if a.CoCoGen == model.GenTrustee && !a.Disabled {
			return true
		}
	}
	return false
}

// checkTrustAnchor checks the PEM certificate that the metadata names as the KBS trust anchor, as loaded, at
// the render's time, and returns it ("" in the public mode, which embeds none). ok is false when it is
// missing or unfit; the reason is in d.
func checkTrustAnchor(src *Sources, now time.Time, d *diag.List) (pem string, ok bool) {
	meta := src.meta
	mode := meta.TrustAnchorMode()
	if mode == "public" {
		return "", true
	}
	cert := meta.KBS.TrustAnchor.Certificate
	if !cert.Set {
		d.Errorf(srcpos.Pos{File: meta.Source}, "kbs.trustAnchor", "init-data embeds the KBS trust anchor (mode %s): set kbs.trustAnchor.certificate to the repository path of its PEM file, or mode: public when the KBS certificate comes from a public CA", mode)
		return "", false
	}
	if src.anchor.Err != nil {
		d.Errorf(cert.Pos, "kbs.trustAnchor.certificate", "%v", src.anchor.Err)
		return "", false
	}
	ta, td := meta.CheckTrustAnchor(src.anchor.Data, now)
	d.Append(td)
	if ta == nil || td.HasErrors() {
		return "", false
	}
	return string(src.anchor.Data), true
}

// buildProfiles runs the profiles generator on the loaded sources: each profile's aa.toml and cdh.toml
// templates filled from the metadata and the trust anchor. The agent policy needs the containers of the
// workloads that use the profile, which are known only once the overlays are built: renderApps finishes every
// profile (finishProfiles) before it injects init-data anywhere.
func buildProfiles(src *Sources, anchor string, kata agentpolicy.KataVersion, d *diag.List) map[string]*Profile {
	v, meta := src.values, src.meta
	if len(v.CoCo.InitData.Profiles) == 0 {
		return nil
	}
	kbsURL := meta.KBSURL()
	if kbsURL == "" {
		d.Errorf(srcpos.Pos{File: meta.Source}, "kbs.url", "the KBS endpoint is unknown: set kbs.url or cluster.appsDomain in the metadata")
		return nil
	}
	out, pd := profiles.Build(profiles.Input{
		Profiles: v.CoCo.InitData.Profiles, KBSURL: kbsURL, TrustAnchor: anchor, SecurityPolicyFlavour: v.CoCo.SecurityPolicyFlavour,
		Kata: kata, Files: src.profileFiles,
	})
	d.Append(pd)
	return out
}

// profileError says that a profile is unknown, with the known ones.
func profileError(names []string, name string) error {
	return fmt.Errorf("no init-data profile %q (profiles: %v)", name, names)
}
