package pipeline

import (
	"cmp"
	"encoding/json"
	"net/url"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/generators/workloads"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/regolimit"
	"github.com/cocogen/cocogen/internal/repo"
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
		if a.Generator == model.GenSandbox && c.v.CoCo.InitData.Default != "" {
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

func renderTrustee(c appContext, a *model.Application, others []App) ([]manifest.Object, *diag.List) {
	d := &diag.List{}
	if !needMetadata(c, a, d) {
		return nil, d
	}
	t := c.v.CoCo.Trustee
	if t.Version == "" {
		t.Version = model.TrusteeVersions[len(model.TrusteeVersions)-1]
	}
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
		return nil, d
	}
	in := trustee.Input{
		Namespace:   cmp.Or(a.Namespace, "trustee-operator-system"),
		Version:     t.Version,
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
	var ok bool
	if in.ResourcePolicy, ok = trusteePolicy(c.root, c.meter, resourcePolicyPath, trusteepolicy.Resource, d); !ok {
		return nil, d
	}
	if in.AttestationPolicy, ok = trusteePolicy(c.root, c.meter, attestationPolicyPath, trusteepolicy.Attestation, d); !ok {
		return nil, d
	}

	// Reference values: the init-data bindings of every profile in use, from the digests of the same bytes
	// that peer-pods-cm and the pod annotations carry.
	used := usedProfiles(c, others)
	if len(used) == 0 {
		d.Warnf(a.CoCoGenPos, "clusterGroup.applications."+a.Key, "no application of this cluster group uses an init-data profile, so no init-data can attest")
	}
	var pcr8, hostData, mrConfig []string
	for _, name := range used {
		p := c.profiles[name]
		if p == nil {
			continue // reported by the application that names it
		}
		pcr8 = append(pcr8, p.Digests.AzurePCR8)
		hostData = append(hostData, p.Digests.SNPHostData)
		mrConfig = append(mrConfig, p.Digests.TDXMRConfigID)
	}
	pcrs := map[string]any{}
	for _, p := range t.PodVMPCRs {
		pcrs[p.PCR] = p.Values
	}
	if len(pcrs) == 0 && c.v.Global.Tree.Get("clusterPlatform").Scalar() == "Azure" {
		const msg = "no pod VM boot measurements are pinned: attestation checks the TEE and the init-data, not which pod VM image booted (set pcr03, pcr09, pcr11 from your pod VM image build)"
		if t.PodVMPCRsSet {
			// Written as {} in the values: a reviewed choice, shown with -v.
			d.Infof(posOr(t.PodVMPCRsPos, pos), "global.coco.trustee.referenceValues.podVMPCRs", "%s", msg)
		} else {
			d.Warnf(pos, "global.coco.trustee.referenceValues.podVMPCRs", "%s; write podVMPCRs: {} to accept that", msg)
		}
	}
	in.ReferenceValues = []trustee.ReferenceValue{
		{Name: trusteepolicy.RVInitDataAzurePCR8, Value: uniqueSorted(pcr8)},
		{Name: trusteepolicy.RVInitDataSNPHostData, Value: uniqueSorted(hostData)},
		{Name: trusteepolicy.RVInitDataTDXMRConfigID, Value: uniqueSorted(mrConfig)},
		{Name: trusteepolicy.RVPodVMPCRs, Value: pcrs},
	}
	if len(t.SNPLaunchMeasurements) > 0 {
		in.ReferenceValues = append(in.ReferenceValues, trustee.ReferenceValue{Name: trusteepolicy.RVSNPLaunchMeasurements, Value: uniqueSorted(t.SNPLaunchMeasurements)})
	}
	if len(t.TDXMRTD) > 0 {
		in.ReferenceValues = append(in.ReferenceValues, trustee.ReferenceValue{Name: trusteepolicy.RVTDXMRTD, Value: uniqueSorted(t.TDXMRTD)})
	}
	in.Profiles = used
	objs, td := trustee.Render(in)
	d.Append(td)
	return objs, d
}

func uniqueSorted(s []string) []string {
	out := append([]string{}, s...)
	slices.Sort(out)
	return slices.Compact(out)
}

// trusteePolicy reads a Trustee policy from the repository, validates it and returns it as Trustee loads it
// (package policy).
func trusteePolicy(root *repo.Root, meter *regolimit.Meter, rel string, kind trusteepolicy.Kind, d *diag.List) ([]byte, bool) {
	src, err := root.ReadFile(rel)
	if err != nil {
		d.Errorf(node.Pos{File: root.Display(rel)}, "", "the trustee application needs this policy: %v", err)
		return nil, false
	}
	vd := trusteepolicy.ValidateWith(root.Display(rel), src, kind, meter)
	d.Append(vd)
	if vd.HasErrors() {
		return nil, false
	}
	out, err := trusteepolicy.Render(src)
	if err != nil {
		d.Errorf(node.Pos{File: root.Display(rel)}, "", "%v", err)
		return nil, false
	}
	return out, true
}

// checkApps checks what must agree across applications: every profile a workload uses is bound by
// Trustee's reference values, the KBS URL that init-data names is the kbs Route of this cluster, and every
// KBS resource that a workload or a profile (exec allow-list, image security policy) names exists.
func checkApps(c appContext, apps []App, d *diag.List) {
	var tr *App
	for i := range apps {
		if apps[i].Generator == model.GenTrustee {
			tr = &apps[i]
		}
	}
	used := usedProfiles(c, apps)
	if tr == nil {
		if len(used) > 0 && c.meta != nil {
			d.Warnf(c.v.ClusterGroup.NamePos, "clusterGroup.applications", "no trustee application in this cluster group: the KBS at %s must hold reference values for the profiles %s, which cocogen cannot check", c.meta.KBSURL(), strings.Join(used, ", "))
		}
		return
	}
	// Read back what the trustee application renders: every profile in use must have its PCR8 among the
	// reference values of the RVPS store (the stored form, as Trustee reads it).
	bound := boundPCR8(tr)
	checkBound := func(profile string, pos node.Pos, what string) {
		p := c.profiles[profile]
		if p != nil && !bound[p.Digests.AzurePCR8] {
			d.Errorf(pos, what, "init-data profile %s (PCR8 %s) has no reference value in the trustee application's %s", profile, p.Digests.AzurePCR8, trustee.ConfigMapRefValues)
		}
	}
	for _, a := range apps {
		if a.Generator == model.GenSandbox {
			checkBound(c.v.CoCo.InitData.Default, c.v.CoCo.InitData.DefaultPos, "global.coco.initdata.default")
		}
		for _, u := range a.Uses {
			checkBound(u.Profile, node.Pos{File: u.File}, u.Object)
		}
	}
	// The KBS URL in init-data must reach this cluster's kbs Route.
	if c.meta != nil {
		raw := c.meta.KBSURL()
		u, err := url.Parse(raw)
		host := kbsRouteHost(c)
		switch {
		case err != nil || u.Scheme != "https":
			d.Errorf(posOr(c.meta.KBS.URL.Pos, node.Pos{File: c.meta.Source}), "kbs.url", "%q is not an https URL", raw)
		case u.Hostname() != host || (u.Port() != "" && u.Port() != "443"):
			d.Errorf(posOr(c.meta.KBS.URL.Pos, node.Pos{File: c.meta.Source}), "kbs.url", "init-data sends pods to %s, but the trustee application serves the KBS at https://%s (the kbs Route of this cluster): set kbs.url to it, or remove kbs.url to use the default", raw, host)
		}
	}
	// Every KBS resource that is named must exist.
	exists := func(p string) bool {
		parts := strings.Split(p, "/")
		if len(parts) != 3 || parts[0] != "default" {
			return false
		}
		r, ok := c.v.CoCo.Trustee.Resource(parts[1])
		return ok && slices.Contains(r.Keys, parts[2])
	}
	known := func() string {
		var all []string
		for _, r := range c.v.CoCo.Trustee.Resources {
			for _, k := range r.Keys {
				all = append(all, "default/"+r.Name+"/"+k)
			}
		}
		return strings.Join(all, ", ")
	}
	for _, a := range apps {
		for _, r := range a.Refs {
			if !exists(r.Path) {
				d.Errorf(node.Pos{File: r.File}, r.Object, "names KBS resource %s, which global.coco.trustee.resources does not list (known: %s)", r.Path, known())
			}
		}
	}
	for _, name := range used {
		p := c.profiles[name]
		if p == nil {
			continue
		}
		seen := map[string]bool{}
		for _, ref := range workloads.ResourceRefs(string(p.TOML)) {
			if seen[ref] {
				continue
			}
			seen[ref] = true
			if !exists(ref) {
				d.Errorf(p.Pos, "global.coco.initdata.profiles."+name, "the init-data of profile %s (its exec allow-list or image security policy) names KBS resource %s, which global.coco.trustee.resources does not list (known: %s)", name, ref, known())
			}
		}
	}
}

// boundPCR8 returns the PCR8 values in the reference values that the trustee application renders.
func boundPCR8(tr *App) map[string]bool {
	out := map[string]bool{}
	for _, o := range tr.Objects {
		if o.Kind() != "ConfigMap" || o.Name() != trustee.ConfigMapRefValues {
			continue
		}
		stored, err := trustee.DecodeStored([]byte(o.Node.Path("data", "reference_value").Scalar()))
		if err != nil {
			return out
		}
		var rv struct{ Value []string }
		if json.Unmarshal(stored[trusteepolicy.RVInitDataAzurePCR8], &rv) == nil {
			for _, v := range rv.Value {
				out[v] = true
			}
		}
	}
	return out
}

// posOr returns p, or q when p is unknown.
func posOr(p, q node.Pos) node.Pos {
	if p.IsZero() {
		return q
	}
	return p
}
