package pipeline

import (
	"cmp"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/generators/workloads"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
	"github.com/cocogen/cocogen/internal/trusteepolicy"
)

// Trustee policy sources in the repository.
const (
	resourcePolicyPath    = "policies/trustee/resource.rego"
	attestationPolicyPath = "policies/trustee/attestation.rego"
)

// usedProfiles are the init-data profiles that the other applications run: the default profile when peer
// pods are configured (peer-pods-cm INITDATA), and every profile a workload's pod template names.
func usedProfiles(c appContext, apps []App) []string {
	var names []string
	for _, a := range apps {
		if a.Generator == model.GenSandbox && rendersPeerPods(c) && c.v.CoCo.InitData.Default != "" {
			names = append(names, c.v.CoCo.InitData.Default)
		}
		for _, u := range a.Uses {
			names = append(names, u.Profile)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// kbsRouteHost is the host of the kbs Route on this cluster: kbs.<apps domain>.
func kbsRouteHost(c appContext) string {
	if d := c.v.Global.Tree.Get("localClusterDomain").Scalar(); d != "" {
		return "kbs." + d
	}
	if d := c.v.Global.Tree.Get("hubClusterDomain").Scalar(); d != "" {
		return "kbs." + d
	}
	return ""
}

// renderTrustee renders the trustee application, and returns with its objects the binding (Azure PCR8) of every
// init-data profile its reference values register, for the checks across applications.
func renderTrustee(c appContext, a *model.Application, others []App) ([]manifest.Object, map[string]string, *diag.List) {
	d := &diag.List{}
	if !needMetadata(c, a, d) {
		return nil, nil, d
	}
	t := c.v.CoCo.Trustee
	if t.VaultPrefix == "" {
		t.VaultPrefix = "secret/data/hub"
	}
	pos := t.Pos
	if pos.IsZero() {
		pos = a.CoCoGenPos
	}
	host := kbsRouteHost(c)
	if host == "" {
		d.Errorf(a.CoCoGenPos, "clusterGroup.applications."+a.Key, "the kbs Route needs the cluster's apps domain: set cluster.appsDomain in the metadata")
		return nil, nil, d
	}
	in := trustee.Input{
		Namespace:   cmp.Or(a.Namespace, "trustee-operator-system"),
		Release:     c.rel.trustee,
		KBSHost:     host,
		TLSMode:     c.meta.TrustAnchorMode(),
		ACME:        t.ACME,
		ACMEPos:     pos,
		VaultPrefix: t.VaultPrefix,
		StoreName:   "vault-backend",
		StoreKind:   "ClusterSecretStore",
		Expiration:  t.Expiration,
		Pos:         pos,
		Source:      appSource(a),
		// The KBS reloader runs the image and on the schedule of global.coco.rollout.
		JobImage:       c.v.CoCo.Rollout.Image,
		ReloadSchedule: c.v.CoCo.Rollout.KBSReloadSchedule,
	}
	if ss := c.v.Tree.Get("secretStore"); ss != nil && ss.Kind == node.Map {
		if n := ss.Get("name").Scalar(); n != "" {
			in.StoreName = n
		}
		if k := ss.Get("kind").Scalar(); k != "" {
			in.StoreKind = k
		}
	}
	for _, r := range t.Resources {
		in.Resources = append(in.Resources, trustee.Resource{Name: r.Name, Keys: r.Keys})
	}
	in.TrustAnchorPEM = c.anchor // the same bytes init-data embeds
	if isBareMetal(c.v.Global.Tree.Get("clusterPlatform").Scalar()) {
		tees := c.meta.BareMetal.TEEs()
		in.Verifiers = &trustee.Verifiers{SNP: slices.Contains(tees, "snp"), NVIDIA: len(c.meta.BareMetal.Nodes("gpu")) > 0,
			NVIDIARemote: c.v.CoCo.BareMetal.NVIDIAVerifier == "remote"}
		if slices.Contains(tees, "tdx") {
			in.Verifiers.TDXCollateralService = c.v.CoCo.BareMetal.TDXCollateralService
		}
	}
	checkGPUs(c, in.Verifiers != nil && in.Verifiers.NVIDIA, pos, d)
	pol := c.policies // validated beside the overlay builds (renderApps)
	d.Append(pol.resourceD)
	if !pol.resourceOK {
		return nil, nil, d
	}
	d.Append(pol.attestationD)
	if !pol.attestationOK {
		return nil, nil, d
	}
	in.ResourcePolicy, in.AttestationPolicy = pol.resource, pol.attestation
	in.ReferenceValues, in.Profiles = referenceValues(c, a, others, d)
	objs, td := trustee.Render(in)
	d.Append(td)
	return objs, registered(in.ReferenceValues), d
}

// checkGPUs warns where GPU evidence cannot be what the values expect: a cluster with confidential GPUs whose
// values pin no GPU (every GPU's submod then stays warning, and a pod VM with a GPU gets no secret at all, since
// KBS needs every submod affirming), and a resource that requires a GPU's evidence where no host has a GPU.
func checkGPUs(c appContext, gpus bool, pos srcpos.Pos, d *diag.List) {
	t := c.v.CoCo.Trustee
	if gpus && t.NVIDIAGPU == nil {
		d.Warnf(pos, "global.coco.trustee.referenceValues.nvidiaGPU", "the cluster has confidential GPUs (metadata baremetal.gpuNodes), but no GPU is pinned, so every GPU's appraisal stays warning (configuration 36) and Trustee releases no secret to a pod VM with a GPU: set driverVersions and vbiosVersions (README \"GPU evidence\")")
	}
	if gpus {
		return
	}
	for _, r := range t.Resources {
		if slices.Contains(r.Requires, "gpu") {
			d.Warnf(posOr(r.RequiresPos, r.Pos), "global.coco.trustee.resources."+r.Name+".requires", "requires a GPU's evidence, but the metadata lists no GPU hosts (baremetal.gpuNodes): no pod of this cluster can fetch %s", r.Name)
		}
	}
}

// registered returns the Azure PCR8 of every profile among reference values, by profile.
func registered(rvs []trustee.ReferenceValue) map[string]string {
	out := map[string]string{}
	for _, rv := range rvs {
		if rv.Name != trusteepolicy.RVInitDataProfiles {
			continue
		}
		bindings, _ := rv.Value.(map[string]any)
		for name, b := range bindings {
			if m, ok := b.(map[string]any); ok {
				out[name], _ = m[trusteepolicy.BindingAzurePCR8].(string)
			}
		}
	}
	return out
}

// referenceValues are what the trustee application registers for the attestation policy: how the init-data
// of every profile in use binds to the evidence (from the digests of the same bytes that peer-pods-cm and the
// pod annotations carry), the pinned pod VM measurements or the choice to run unpinned, and the platform
// minimums. It returns them with the names of the profiles in use.
func referenceValues(c appContext, a *model.Application, others []App, d *diag.List) ([]trustee.ReferenceValue, []string) {
	t := c.v.CoCo.Trustee
	pos := posOr(t.Pos, a.CoCoGenPos)
	used := usedProfiles(c, others)
	if len(used) == 0 && len(c.managed) == 0 {
		d.Warnf(a.CoCoGenPos, "clusterGroup.applications."+a.Key, "no application of this cluster group uses an init-data profile, so no init-data can attest")
	}
	profiles := map[string]any{}
	byBinding := map[string]string{}
	// owner is where each registered profile comes from: this cluster group or a managed cluster.
	owner := map[string]string{}
	pcr8 := map[string]string{}
	register := func(name string, p *Profile, from string) {
		if prev, ok := pcr8[name]; ok {
			if prev != p.Digests.AzurePCR8 {
				d.Errorf(p.Pos, "global.coco.initdata.profiles."+name, "init-data profile %s renders other init-data in %s (PCR8 %s) than in %s (PCR8 %s): Trustee registers one init-data per profile name, so the pods of one of them could not attest; make the profile's sources agree, or give one of them another name", name, from, p.Digests.AzurePCR8, owner[name], prev)
			}
			return
		}
		if other, dup := byBinding[p.Digests.AzurePCR8]; dup {
			d.Errorf(p.Pos, "global.coco.initdata.profiles."+name, "profile %s renders the same init-data as profile %s, so Trustee cannot tell their pods apart: give each profile its own agent policy or templates", name, other)
		}
		byBinding[p.Digests.AzurePCR8] = name
		pcr8[name], owner[name] = p.Digests.AzurePCR8, from
		profiles[name] = bindingOf(p).Value()
	}
	for _, name := range used {
		p := c.profiles[name]
		if p == nil {
			continue // reported by the application that names it
		}
		register(name, p, "cluster group "+c.v.ClusterGroup.Name)
	}
	for _, m := range c.managed {
		for _, name := range m.res.UsedProfiles {
			if p := m.res.Profiles[name]; p != nil {
				register(name, p, managedLabel(m))
				used = append(used, name)
			}
		}
	}
	used = uniqueSorted(used)
	rvs := []trustee.ReferenceValue{
		{Name: trusteepolicy.RVInitDataProfiles, Value: profiles},
		{Name: trusteepolicy.RVTDXTCBStatuses, Value: t.TDXTCBStatuses},
	}
	if len(t.TDXTCBStatuses) == 0 {
		rvs[1].Value = []string{"UpToDate"}
	}
	if prev, latest := previousBindings(c, used, d); len(prev) > 0 {
		rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVInitDataPrevious, Value: prev, Expiration: latest})
	}
	platform := c.v.Global.Tree.Get("clusterPlatform").Scalar()
	azure := platform == "Azure"
	switch {
	case isBareMetal(platform):
		rvs = append(rvs, bareMetalPins(c, pos, d)...)
	case len(t.PodVMPCRs) > 0:
		pcrs := map[string]any{}
		for _, p := range t.PodVMPCRs {
			pcrs[p.PCR] = p.Values
		}
		rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVPodVMPCRs, Value: pcrs})
	case t.AcceptUnpinnedPodVM:
		rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVPodVMUnpinned, Value: true})
		d.Warnf(posOr(t.AcceptUnpinnedPodVMPos, pos), "global.coco.trustee.referenceValues.acceptUnpinnedPodVM", "pods attest on any pod VM image the host boots (executables makes no claim): pin the measurements of your pod VM image with podVMPCRs (cocogen podvm pin) to bind the image")
	case azure:
		d.Warnf(pos, "global.coco.trustee.referenceValues.podVMPCRs", "no pod VM measurements are pinned, so no pod VM on Azure attests (executables stays 33, not affirming) and Trustee releases no secret: pin them with podVMPCRs (cocogen podvm pin), or set acceptUnpinnedPodVM: true to accept any pod VM image")
	}
	if len(t.SNPLaunchMeasurements) > 0 {
		rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVSNPLaunchMeasurements, Value: uniqueSorted(t.SNPLaunchMeasurements)})
	}
	if len(t.TDXMRTD) > 0 {
		rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVTDXMRTD, Value: uniqueSorted(t.TDXMRTD)})
	}
	if len(t.TDXRTMR1) > 0 {
		rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVTDXRTMR1, Value: uniqueSorted(t.TDXRTMR1)})
	}
	if len(t.TDXRTMR2) > 0 {
		rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVTDXRTMR2, Value: uniqueSorted(t.TDXRTMR2)})
	}
	if t.SNPMinimumTCB != nil {
		rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVSNPMinimumTCB, Value: t.SNPMinimumTCB})
	} else if azure {
		d.Warnf(pos, "global.coco.trustee.referenceValues.snpMinimumTCB", "no minimum SEV-SNP firmware level: the hardware claim accepts any firmware, vulnerable releases included; set bootloader, tee, snp and microcode")
	}
	if t.TDXMinimumTCBDate != "" {
		rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVTDXMinimumTCBDate, Value: t.TDXMinimumTCBDate})
	}
	if g := t.NVIDIAGPU; g != nil {
		rvs = append(rvs,
			trustee.ReferenceValue{Name: trusteepolicy.RVNVIDIADriverVersions, Value: g.DriverVersions},
			trustee.ReferenceValue{Name: trusteepolicy.RVNVIDIAVBIOSVersions, Value: g.VBIOSVersions})
		if len(g.Measurements) > 0 {
			m := map[string]any{}
			for _, x := range g.Measurements {
				m[x.Index] = x.Values
			}
			rvs = append(rvs, trustee.ReferenceValue{Name: trusteepolicy.RVNVIDIAGPUMeasurements, Value: m})
		}
	}
	return rvs, used
}

// bareMetalPins is how the reference values pin the pod VM on bare metal, where the launch measurements of
// each TEE bind it (the SNP measurement, the TDX MR_TD; the values' snpLaunchMeasurements and tdxMRTD): the
// choice to run unpinned (acceptUnpinnedPodVM) is registered when a TEE of the cluster has none, with a
// warning; without that choice no pod on such a TEE attests.
func bareMetalPins(c appContext, pos srcpos.Pos, d *diag.List) []trustee.ReferenceValue {
	t := c.v.CoCo.Trustee
	var unpinned []string
	for _, tee := range c.meta.BareMetal.TEEs() {
		if tee == "snp" && len(t.SNPLaunchMeasurements) == 0 || tee == "tdx" && len(t.TDXMRTD) == 0 {
			unpinned = append(unpinned, tee)
		}
	}
	if len(unpinned) == 0 {
		return nil
	}
	names := map[string]string{"snp": "snpLaunchMeasurements (SEV-SNP)", "tdx": "tdxMRTD (TDX)"}
	var want []string
	for _, tee := range unpinned {
		want = append(want, names[tee])
	}
	if t.AcceptUnpinnedPodVM {
		d.Warnf(posOr(t.AcceptUnpinnedPodVMPos, pos), "global.coco.trustee.referenceValues.acceptUnpinnedPodVM", "pods attest on any pod VM image the hosts boot (executables makes no claim): pin its launch measurements with %s (README \"Bare metal\")", strings.Join(want, " and "))
		return []trustee.ReferenceValue{{Name: trusteepolicy.RVPodVMUnpinned, Value: true}}
	}
	d.Warnf(pos, "global.coco.trustee.referenceValues", "no launch measurement of the pod VM is pinned for %s, so no pod there attests (executables stays 33) and Trustee releases no secret: pin them (README \"Bare metal\"), or set acceptUnpinnedPodVM: true to accept any pod VM image", strings.Join(want, " and "))
	return nil
}

// previousBindings are the bindings of the init-data that referenceValues.previous keeps, by profile, each with
// its time, and the latest of those times (the stored value's expiration). An entry of an unknown profile, or
// whose init-data a profile in use renders now, is an error: Trustee could not tell which profile such a pod
// runs. An entry that is the profile's current init-data is skipped, and one whose time has passed (by the
// render's clock, c.now) is kept with a warning: the attestation policy no longer accepts it.
func previousBindings(c appContext, used []string, d *diag.List) (map[string][]map[string]any, string) {
	const path = "global.coco.trustee.referenceValues.previous"
	out := map[string][]map[string]any{}
	latest := ""
	current := map[string]string{} // Azure PCR8 → profile in use
	for _, name := range used {
		if p := c.profiles[name]; p != nil {
			current[p.Digests.AzurePCR8] = name
		}
	}
	now := c.now
	for i, e := range c.v.CoCo.Trustee.Previous {
		ep := fmt.Sprintf("%s[%d]", path, i)
		p := c.profiles[e.Profile]
		if p == nil {
			msg := fmt.Sprintf("no init-data profile %q (profiles: %s)", e.Profile, strings.Join(c.v.CoCo.ProfileNames(), ", "))
			if s := schema.Suggest(e.Profile, c.v.CoCo.ProfileNames()); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			d.Errorf(e.ProfilePos, ep+".profile", "%s", msg)
			continue
		}
		b, err := initdata.DigestsOf(initdata.Algorithm(e.Algorithm), e.Digest)
		if err != nil {
			d.Errorf(e.DigestPos, ep+".digest", "%v", err)
			continue
		}
		if b.AzurePCR8 == p.Digests.AzurePCR8 {
			d.Warnf(e.DigestPos, ep+".digest", "is the init-data profile %s renders now: there is nothing to keep; remove the entry", e.Profile)
			continue
		}
		if other, ok := current[b.AzurePCR8]; ok {
			d.Errorf(e.DigestPos, ep+".digest", "is the init-data profile %s renders now, so Trustee could not tell whether such a pod runs %s or %s: remove the entry", other, other, e.Profile)
			continue
		}
		if until, err := time.Parse(time.RFC3339, e.Until); err == nil {
			switch {
			case !until.After(now):
				d.Warnf(e.UntilPos, ep+".until", "%s has passed: the attestation policy no longer accepts this init-data; remove the entry (cocogen initdata keep removes the entries that have passed)", e.Until)
			case until.Sub(now) > maxPreviousWindow:
				d.Warnf(e.UntilPos, ep+".until", "keeps the previous init-data of profile %s attesting for %d more days: the window only has to outlast the rollout of the pods that run it (see README \"Rollouts and rotation\")", e.Profile, int(until.Sub(now).Hours()/24))
			}
		}
		v := bindingOf(&Profile{Digests: b}).Value()
		v[trusteepolicy.PreviousUntil] = e.Until
		out[e.Profile] = append(out[e.Profile], v)
		latest = max(latest, e.Until)
	}
	return out, latest
}

// maxPreviousWindow is how far ahead the window of previous init-data may end without a warning.
const maxPreviousWindow = 30 * 24 * time.Hour

// bindingOf is how a profile's init-data binds to each TEE's evidence.
func bindingOf(p *Profile) trusteepolicy.Binding {
	return trusteepolicy.Binding{AzurePCR8: p.Digests.AzurePCR8, SNPHostData: p.Digests.SNPHostData, TDXMRConfigID: p.Digests.TDXMRConfigID}
}

// resourceReaders is which profiles may fetch each KBS resource (repository/type/tag): those the resource
// names, or the default profile for the list shorthand.
func resourceReaders(c appContext) map[string][]string {
	if c.kbsReaders != nil {
		return c.kbsReaders
	}
	out := map[string][]string{}
	for _, r := range c.v.CoCo.Trustee.Resources {
		for _, k := range r.Keys {
			out["default/"+r.Name+"/"+k] = r.Readers(c.v.CoCo.InitData.Default)
		}
	}
	return out
}

// resourceRequires is, for each KBS resource (repository/type/tag) that needs more evidence than the CPU's, the
// device classes whose evidence it needs (global.coco.trustee.resources.<name>.requires).
func resourceRequires(c appContext) map[string][]string {
	out := map[string][]string{}
	for _, r := range c.v.CoCo.Trustee.Resources {
		if len(r.Requires) == 0 {
			continue
		}
		for _, k := range r.Keys {
			out["default/"+r.Name+"/"+k] = r.Requires
		}
	}
	return out
}

// trusteePolicies are the two Trustee policies as Trustee loads them, each with the diagnostics of its
// validation. They depend on the values and the policy sources alone, not on the profiles, so renderApps
// validates them while the overlays build.
type trusteePolicies struct {
	resource, attestation     []byte
	resourceD, attestationD   *diag.List
	resourceOK, attestationOK bool
}

// validatePolicies validates and renders the resource policy and then, if that succeeded, the attestation
// policy.
func validatePolicies(c appContext) *trusteePolicies {
	p := &trusteePolicies{resourceD: &diag.List{}, attestationD: &diag.List{}}
	if p.resource, p.resourceOK = resourcePolicy(c, p.resourceD); p.resourceOK {
		p.attestation, p.attestationOK = trusteePolicy(c, attestationPolicyPath, trusteepolicy.Attestation, p.attestationD)
	}
	return p
}

// resourcePolicy reads the KBS resource policy, validates it and renders it as Trustee loads it: package
// policy, with the profiles that may fetch each resource.
//
// Only the rendered policy is validated: rendering renames the package in place and fills the readers table at
// the end, so every other rule keeps its line and column. The source is validated only when it cannot be
// rendered, for the positions of what is wrong with it.
func resourcePolicy(c appContext, d *diag.List) ([]byte, bool) {
	f := c.src.policies[resourcePolicyPath]
	name, src := f.Name, f.Data
	if f.Err != nil {
		d.Errorf(srcpos.Pos{File: name}, "", "the trustee application needs this policy: %v", f.Err)
		return nil, false
	}
	out, gated, err := trusteepolicy.RenderResource(src, resourceReaders(c), resourceRequires(c))
	if err != nil {
		if vd := trusteepolicy.ValidateWith(name, src, trusteepolicy.Resource, c.meter); vd.HasErrors() {
			d.Append(vd)
			return nil, false
		}
		d.Errorf(srcpos.Pos{File: name}, "", "%v", err)
		return nil, false
	}
	if !gated {
		d.Warnf(srcpos.Pos{File: name}, "", "the resource policy has no %s rule, so cocogen cannot tell it which profiles may fetch which resource: pods of every profile that attests (debug included) may fetch every resource", trusteepolicy.ReadersRule)
	}
	vd := trusteepolicy.ValidateWith(name, out, trusteepolicy.Resource, c.meter)
	d.Append(vd)
	return out, !vd.HasErrors()
}

func uniqueSorted(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return slices.Compact(out)
}

// trusteePolicy validates a loaded Trustee policy source and returns it as Trustee loads it (package policy).
func trusteePolicy(c appContext, rel string, kind trusteepolicy.Kind, d *diag.List) ([]byte, bool) {
	f := c.src.policies[rel]
	if f.Err != nil {
		d.Errorf(srcpos.Pos{File: f.Name}, "", "the trustee application needs this policy: %v", f.Err)
		return nil, false
	}
	vd := trusteepolicy.ValidateWith(f.Name, f.Data, kind, c.meter)
	d.Append(vd)
	if vd.HasErrors() {
		return nil, false
	}
	out, err := trusteepolicy.Render(f.Data)
	if err != nil {
		d.Errorf(srcpos.Pos{File: f.Name}, "", "%v", err)
		return nil, false
	}
	return out, true
}

// checkApps checks what must agree across applications: every profile a workload uses is bound by
// Trustee's reference values, the KBS URL that init-data names is the kbs Route of this cluster, and every
// KBS resource that a workload or a profile (exec allow-list, image security policy) names exists and may be
// fetched by the profile the pod (or the profile itself) runs with.
func checkApps(c appContext, apps []App, d *diag.List) {
	var tr *App
	for i := range apps {
		if apps[i].Generator == model.GenTrustee {
			tr = &apps[i]
		}
	}
	used := usedProfiles(c, apps)
	if tr == nil && c.kbsReaders != nil {
		// A managed cluster: its hub serves the KBS resources (checked against the hub's, in the hub's render).
		checkResourceAccess(c, apps, used, d)
		return
	}
	if tr == nil {
		if len(used) > 0 && c.meta != nil {
			d.Warnf(c.v.ClusterGroup.NamePos, "clusterGroup.applications", "no trustee application in this cluster group: the KBS at %s must hold reference values for the profiles %s, which cocogen cannot check", c.meta.KBSURL(), strings.Join(used, ", "))
		}
		return
	}
	// Every profile in use must be among the profiles the trustee application registers in the RVPS store,
	// with the binding of its bytes.
	bound := tr.bound
	checkBound := func(profile string, pos srcpos.Pos, what string) {
		p := c.profiles[profile]
		if p != nil && bound[profile] != p.Digests.AzurePCR8 {
			d.Errorf(pos, what, "init-data profile %s (PCR8 %s) has no reference value in the trustee application's %s", profile, p.Digests.AzurePCR8, trustee.ConfigMapRefValues)
		}
	}
	for _, a := range apps {
		if a.Generator == model.GenSandbox {
			checkBound(c.v.CoCo.InitData.Default, c.v.CoCo.InitData.DefaultPos, "global.coco.initdata.default")
		}
		for _, u := range a.Uses {
			checkBound(u.Profile, srcpos.Pos{File: u.File}, u.Object)
		}
	}
	// Across cluster groups: every profile a managed cluster runs is registered with its own bytes.
	for _, m := range c.managed {
		for _, name := range m.res.UsedProfiles {
			p := m.res.Profiles[name]
			if p != nil && bound[name] != p.Digests.AzurePCR8 {
				d.Errorf(p.Pos, "global.coco.initdata.profiles."+name, "init-data profile %s of %s (PCR8 %s) has no reference value in the trustee application of cluster group %s", name, managedLabel(m), p.Digests.AzurePCR8, c.v.ClusterGroup.Name)
			}
		}
	}
	checkManaged(c, d)
	// The KBS URL in init-data must reach this cluster's kbs Route.
	if c.meta != nil {
		raw := c.meta.KBSURL()
		u, err := url.Parse(raw)
		host := kbsRouteHost(c)
		switch {
		case err != nil || u.Scheme != "https":
			d.Errorf(posOr(c.meta.KBS.URL.Pos, srcpos.Pos{File: c.meta.Source}), "kbs.url", "%q is not an https URL", raw)
		case u.Hostname() != host || (u.Port() != "" && u.Port() != "443"):
			d.Errorf(posOr(c.meta.KBS.URL.Pos, srcpos.Pos{File: c.meta.Source}), "kbs.url", "init-data sends pods to %s, but the trustee application serves the KBS at https://%s (the kbs Route of this cluster): set kbs.url to it, or remove kbs.url to use the default", raw, host)
		}
	}
	checkResourceAccess(c, apps, used, d)
}

// checkResourceAccess checks every KBS resource that is named: it must be served, and the profile that will
// ask for it must be among those the resource names. A workload asks with the profile its pod runs with; a
// profile's own init-data (the exec allow-list, the image security policy) asks with that profile.
func checkResourceAccess(c appContext, apps []App, used []string, d *diag.List) {
	readers := resourceReaders(c)
	known := slices.Sorted(maps.Keys(readers))
	for _, a := range apps {
		profileOf := map[string]string{}
		for _, p := range a.Pods {
			profileOf[p.Object] = p.Profile
		}
		var within func(srcpos.Pos, string) srcpos.Pos
		if o := c.src.overlays[a.Name]; o != nil && o.src != nil {
			within = o.src.Within
		}
		for _, r := range a.Refs {
			pos := r.Pos
			if within != nil {
				pos = within(pos, r.Path) // the reference inside the string that names it
			}
			if pos.IsZero() {
				pos = srcpos.Pos{File: r.File}
			}
			who, ok := readers[r.Path]
			profile := profileOf[r.Object]
			switch {
			case !ok:
				d.Errorf(pos, r.Object, "names KBS resource %s, which global.coco.trustee.resources does not list (known: %s)", r.Path, strings.Join(known, ", "))
			case profile != "" && c.profiles[profile] != nil && !slices.Contains(who, profile):
				d.Errorf(pos, r.Object, "fetches KBS resource %s, but its pod runs with init-data profile %s, which may not read it (readers: %s): Trustee would refuse it; add %s to the profiles of %s in global.coco.trustee.resources, or run the pod with another profile", r.Path, profile, readerList(who), profile, resourceName(r.Path))
			}
		}
	}
	for _, name := range used {
		p := c.profiles[name]
		if p == nil {
			continue
		}
		seen := map[string]bool{}
		for _, ref := range profileRefs(p) {
			if seen[ref] {
				continue
			}
			seen[ref] = true
			who, ok := readers[ref]
			switch {
			case !ok:
				d.Errorf(p.Pos, "global.coco.initdata.profiles."+name, "the init-data of profile %s (its exec allow-list or image security policy) names KBS resource %s, which global.coco.trustee.resources does not list (known: %s)", name, ref, strings.Join(known, ", "))
			case !slices.Contains(who, name):
				d.Errorf(p.Pos, "global.coco.initdata.profiles."+name, "the init-data of profile %s (its exec allow-list or image security policy) names KBS resource %s, which profile %s may not read (readers: %s): add %s to the profiles of %s in global.coco.trustee.resources", name, ref, name, readerList(who), name, resourceName(ref))
			}
		}
	}
}

// profileRefs are the KBS resources a profile's own init-data names: in aa.toml and cdh.toml (the image
// security policy), in its agent policy source (the exec allow-list) and in the exec allow-list the values add.
// The containers the render writes into policy_data belong to the workloads, which are checked with the
// profile their pods run with.
func profileRefs(p *Profile) []string {
	var refs []string
	for _, text := range p.NamingTexts() {
		refs = append(refs, workloads.ResourceRefs(text)...)
	}
	return refs
}

func readerList(who []string) string {
	if len(who) == 0 {
		return "none"
	}
	return strings.Join(who, ", ")
}

// resourceName is the secret of a resource path: kbsres1 of default/kbsres1/key1.
func resourceName(path string) string {
	parts := strings.Split(path, "/")
	if len(parts) == 3 {
		return parts[1]
	}
	return path
}

// posOr returns p, or q when p is unknown.
func posOr(p, q srcpos.Pos) srcpos.Pos {
	if p.IsZero() {
		return q
	}
	return p
}
