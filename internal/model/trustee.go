package model

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/release"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Trustee is global.coco.trustee: how the trustee application configures the key broker and attestation.
type Trustee struct {
	Pos srcpos.Pos
	// Version is the Trustee release the KBS configuration is written for (see TrusteeVersions); VersionPos
	// is zero when the values do not set it.
	Version    string
	VersionPos srcpos.Pos
	// VaultPrefix is the Vault path the ExternalSecrets read below, e.g. secret/data/hub.
	VaultPrefix string
	// Expiration is when the reference values expire (RFC 3339, UTC, seconds: 2027-12-31T00:00:00Z).
	Expiration    string
	ExpirationPos srcpos.Pos
	// PodVMPCRs pins Azure pod VM boot measurements: PCR name (pcr03) → allowed lowercase hex values. It is
	// never empty when set: an empty map is an error, and running unpinned is AcceptUnpinnedPodVM.
	PodVMPCRs    []PCRValues
	PodVMPCRsPos srcpos.Pos
	// Previous are init-data digests that profiles rendered before a change, which pods started with them
	// keep attesting with until each entry's date (referenceValues.previous).
	Previous []PreviousInitData
	// AcceptUnpinnedPodVM is the reviewed choice to let pods attest on any pod VM image the host boots
	// (referenceValues.acceptUnpinnedPodVM: true); every render warns while it is set.
	AcceptUnpinnedPodVM    bool
	AcceptUnpinnedPodVMPos srcpos.Pos
	// SNPLaunchMeasurements and TDXMRTD are the allowed bare-metal launch measurements.
	SNPLaunchMeasurements []string
	TDXMRTD               []string
	// TDXRTMR1 and TDXRTMR2 are the allowed TDX RTMR 1 (kernel, initrd) and RTMR 2 (command line) values;
	// each is checked only when it is set.
	TDXRTMR1, TDXRTMR2 []string
	// SNPMinimumTCB are the lowest SEV-SNP firmware levels the hardware claim accepts, by TCB component
	// (bootloader, tee, snp, microcode); nil when none is set.
	SNPMinimumTCB    map[string]int
	SNPMinimumTCBPos srcpos.Pos
	// TDXTCBStatuses are the TCB statuses of Intel's quote verification that the hardware claim accepts
	// (default UpToDate); TDXMinimumTCBDate the oldest TCB date (YYYY-MM-DDTHH:MM:SSZ), "" for none.
	TDXTCBStatuses    []string
	TDXMinimumTCBDate string
	// NVIDIAGPU pins the NVIDIA GPUs a pod VM may attest with (referenceValues.nvidiaGPU); nil when unset.
	NVIDIAGPU *NVIDIAGPU
	// Resources are the KBS resources: secret name → the keys it holds (default/<name>/<key>).
	Resources []KBSResource
	// ACME configures the ACME issuer of the KBS certificate when the guest trusts public roots.
	ACME *node.Node
}

// NVIDIAGPU is what the attestation policy's GPU submodule compares a GPU's evidence with: the driver and
// VBIOS versions it may report, and its measurements by SPDM measurement index (the claims of Trustee 0.21's
// local NVIDIA verifier: config.driver_version, config.vbios_version and measurements; trustee v0.21.0
// attestation-service/docs/tcb_claims.md, "NVIDIA").
type NVIDIAGPU struct {
	Pos            srcpos.Pos
	DriverVersions []string
	VBIOSVersions  []string
	// Measurements are the allowed values (96 lowercase hex digits, SHA-384) of each pinned measurement, by
	// index ("1" to "255"), sorted by index.
	Measurements []GPUMeasurement
}

// GPUMeasurement are the allowed values of one GPU measurement.
type GPUMeasurement struct {
	Index  string
	Values []string
}

// PCRValues are the allowed values of one PCR.
type PCRValues struct {
	PCR    string
	Values []string
}

// KBSResource is one KBS resource secret.
type KBSResource struct {
	Name string
	Keys []string
	Pos  srcpos.Pos
	// Profiles are the init-data profiles whose pods may fetch the resource; nil for the list shorthand
	// (`name: [key, ...]`), which means the default profile only (Readers).
	Profiles    []string
	ProfilesPos srcpos.Pos
	// ProfilePositions are where each of Profiles is written.
	ProfilePositions []srcpos.Pos
	// Requires are the device classes (DeviceClasses) whose affirming evidence the token must carry besides
	// the CPU's before the resource is released, e.g. [gpu]; nil when only the CPU's is needed.
	Requires    []string
	RequiresPos srcpos.Pos
}

// DeviceClasses are the device classes a resource may require evidence of besides the CPU's: the classes of
// Trustee 0.21's verifiers whose submods the token names by class and index (gpu0, gpu1, ...; trustee v0.21.0
// attestation-service/src/ear_token/broker.rs, issue; deps/verifier/src/nvidia/mod.rs gives a GPU class gpu).
var DeviceClasses = []string{"gpu"}

// Readers returns the init-data profiles that may fetch r: its profiles, or the default profile for the list
// shorthand. The result is sorted.
func (r KBSResource) Readers(defaultProfile string) []string {
	if r.Profiles == nil {
		if defaultProfile == "" {
			return []string{}
		}
		return []string{defaultProfile}
	}
	out := slices.Clone(r.Profiles)
	slices.Sort(out)
	return out
}

// SNPTCBComponents are the components of an SEV-SNP TCB version, as the verifier names its reported_tcb_*
// claims (trustee v0.21.0 deps/verifier/src/snp/mod.rs, parse_tee_evidence).
var SNPTCBComponents = []string{"bootloader", "microcode", "snp", "tee"}

// TDXTCBStatusValues are the TCB statuses Trustee's TDX verifier reports (trustee v0.21.0
// deps/verifier/src/intel_dcap/claims.rs, SgxQlQvResultWrapper).
var TDXTCBStatusValues = []string{
	"UpToDate", "SWHardeningNeeded", "ConfigurationNeeded", "ConfigurationAndSWHardeningNeeded", "OutOfDate",
	"OutOfDateConfigurationNeeded", "TDRelaunchAdvised", "TDRelaunchAdvisedConfigurationNeeded",
}

// TrusteeVersions are the Trustee releases whose configuration format cocogen writes (the formats of the
// release tables, internal/release/trustee.go, that cocogen writes).
var TrusteeVersions = func() []string { _, written := release.TrusteeFormats(); return written }()

var (
	trusteeKeys   = []string{"version", "vaultPrefix", "referenceValues", "resources", "acme"}
	refValuesKeys = []string{"expiration", "previous", "podVMPCRs", "acceptUnpinnedPodVM", "snpLaunchMeasurements", "tdxMRTD", "tdxRTMR1", "tdxRTMR2", "snpMinimumTCB", "tdxTCBStatuses", "tdxMinimumTCBDate", "nvidiaGPU"}
	nvidiaGPUKeys = []string{"driverVersions", "vbiosVersions", "measurements"}
	gpuIndexRe    = lazyre.New(`^[1-9][0-9]{0,2}$`)
	gpuVersionRe  = lazyre.New(`^[0-9A-Za-z]+([.][0-9A-Za-z]+)*$`)
	resourceKeys  = []string{"keys", "profiles", "requires"}
	acmeKeys      = []string{"server", "email", "solvers"}
	expirationRe  = lazyre.New(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)
	pcrNameRe     = lazyre.New(`^pcr(0[0-9]|1[0-9]|2[0-3])$`)
	hexRe         = lazyre.New(`^[0-9a-f]+$`)
	vaultPathRe   = lazyre.New(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
	secretNameRe  = lazyre.New(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	secretKeyRe   = lazyre.New(`^[-._a-zA-Z0-9]+$`)
)

// Resource returns the KBS resource secret with the given name.
func (t *Trustee) Resource(name string) (*KBSResource, bool) {
	for i := range t.Resources {
		if t.Resources[i].Name == name {
			return &t.Resources[i], true
		}
	}
	return nil, false
}

// trustee decodes global.coco.trustee (absent: Trustee gets the defaults, which need resources to be useful).
func (dc decoder) trustee(n *node.Node, out *Trustee) {
	const path = "global.coco.trustee"
	out.Version = TrusteeVersions[len(TrusteeVersions)-1]
	out.VaultPrefix = "secret/data/hub"
	if n.IsNull() || !dc.c.Map(n, path, false, trusteeKeys...) {
		return
	}
	out.Pos = n.Pos
	if v := n.Get("version"); !v.IsNull() {
		out.Version, out.VersionPos = v.Scalar(), v.Pos
		// A release the tables know is checked against the pinned trustee-operator CSV when cocogen renders
		// (pipeline resolveReleases), and refused there when cocogen does not write its format.
		if known, _ := release.TrusteeFormats(); !slices.Contains(known, out.Version) {
			dc.c.Diags.Errorf(v.Pos, schema.Join(path, "version"), "unknown Trustee release %q: the KBS configuration format changes between releases; cocogen writes the format of Trustee %s and knows the formats of %s (write the version in quotes, e.g. \"0.21\")", v.Src, strings.Join(TrusteeVersions, ", "), strings.Join(known, ", "))
		}
	}
	if s := dc.str(n, path, "vaultPrefix"); s != "" {
		if !vaultPathRe.MatchString(s) {
			dc.errorf(n.Get("vaultPrefix"), schema.Join(path, "vaultPrefix"), "%q is not a Vault path such as secret/data/hub", s)
		}
		out.VaultPrefix = s
	}
	if rv := n.Get("referenceValues"); dc.c.Map(rv, schema.Join(path, "referenceValues"), true, refValuesKeys...) {
		p := schema.Join(path, "referenceValues")
		if e := rv.Get("expiration"); !e.IsNull() {
			out.Expiration, out.ExpirationPos = e.Scalar(), e.Pos
			if !expirationRe.MatchString(out.Expiration) {
				dc.errorf(e, schema.Join(p, "expiration"), "%q is not a UTC time as Trustee reads it: YYYY-MM-DDTHH:MM:SSZ, e.g. 2027-12-31T00:00:00Z", e.Src)
			} else if t, err := time.Parse(time.RFC3339, out.Expiration); err != nil {
				dc.errorf(e, schema.Join(p, "expiration"), "%q is not a valid time: %v", e.Src, err)
			} else if !t.After(dc.now) {
				dc.errorf(e, schema.Join(p, "expiration"), "%s has passed: the reference values say until when Git vouches for them; set a later expiration (a render after this date fails until then)", out.Expiration)
			} else if t.Sub(dc.now) < 30*24*time.Hour {
				dc.c.Diags.Warnf(e.Pos, schema.Join(p, "expiration"), "%s is less than 30 days away: set a later expiration before it passes, or renders fail from that day on", out.Expiration)
			}
		}
		out.Previous = dc.previous(rv.Get("previous"), schema.Join(p, "previous"))
		if pcrs := rv.Get("podVMPCRs"); dc.c.Map(pcrs, schema.Join(p, "podVMPCRs"), true) {
			out.PodVMPCRsPos = pcrs.PosOr(rv.Pos)
			if pcrs.Len() == 0 {
				dc.c.Diags.Errorf(pcrs.Pos, schema.Join(p, "podVMPCRs"), "pins no PCR, so attestation would accept any pod VM image: write the measurements of your pod VM image (cocogen podvm pin), or remove podVMPCRs and set acceptUnpinnedPodVM: true to run unpinned on purpose")
			}
			for _, e := range sortedByKey(pcrs) {
				pp := schema.Join(schema.Join(p, "podVMPCRs"), e.Key)
				if !pcrNameRe.MatchString(e.Key) {
					dc.c.Diags.Errorf(e.KeyPos, pp, "%q is not a PCR name: pcr00 to pcr23", e.Key)
					continue
				}
				if e.Key == "pcr08" {
					dc.c.Diags.Errorf(e.KeyPos, pp, "PCR 8 binds the init-data: cocogen computes its reference values from the rendered profiles")
					continue
				}
				vals := dc.hexList(e.Value, pp, 64)
				if len(vals) == 0 && e.Value.Len() == 0 {
					dc.errorf(e.Value, pp, "list the values PCR %s may hold", strings.TrimPrefix(e.Key, "pcr"))
				}
				if len(vals) > 0 {
					out.PodVMPCRs = append(out.PodVMPCRs, PCRValues{PCR: e.Key, Values: vals})
				}
			}
		}
		if a := rv.Get("acceptUnpinnedPodVM"); !a.IsNull() {
			out.AcceptUnpinnedPodVM = dc.boolean(rv, p, "acceptUnpinnedPodVM")
			out.AcceptUnpinnedPodVMPos = a.Pos
			if out.AcceptUnpinnedPodVM && rv.Get("podVMPCRs") != nil {
				dc.c.Diags.Errorf(a.Pos, schema.Join(p, "acceptUnpinnedPodVM"), "contradicts podVMPCRs: pin the pod VM measurements or accept any pod VM image, not both")
			}
		}
		out.SNPLaunchMeasurements = dc.hexList(rv.Get("snpLaunchMeasurements"), schema.Join(p, "snpLaunchMeasurements"), 96)
		out.TDXMRTD = dc.hexList(rv.Get("tdxMRTD"), schema.Join(p, "tdxMRTD"), 96)
		out.TDXRTMR1 = dc.hexList(rv.Get("tdxRTMR1"), schema.Join(p, "tdxRTMR1"), 96)
		out.TDXRTMR2 = dc.hexList(rv.Get("tdxRTMR2"), schema.Join(p, "tdxRTMR2"), 96)
		if tcb := rv.Get("snpMinimumTCB"); dc.c.Map(tcb, schema.Join(p, "snpMinimumTCB"), true, SNPTCBComponents...) {
			tp := schema.Join(p, "snpMinimumTCB")
			out.SNPMinimumTCB, out.SNPMinimumTCBPos = map[string]int{}, tcb.Pos
			for _, c := range SNPTCBComponents {
				v := tcb.Get(c)
				if v.IsNull() {
					dc.c.Diags.Errorf(tcb.Pos, schema.Join(tp, c), "is required: the lowest %s level the hardware claim accepts (0 to 255)", c)
					continue
				}
				n, err := strconv.Atoi(v.Text)
				if v.Kind != node.Int || err != nil || n < 0 || n > 255 {
					dc.errorf(v, schema.Join(tp, c), "must be a number from 0 to 255 (an SEV-SNP TCB component is one byte), not %q", v.Src)
					continue
				}
				out.SNPMinimumTCB[c] = n
			}
		}
		out.NVIDIAGPU = dc.nvidiaGPU(rv.Get("nvidiaGPU"), schema.Join(p, "nvidiaGPU"))
		out.TDXTCBStatuses = []string{"UpToDate"}
		if st := rv.Get("tdxTCBStatuses"); !st.IsNull() {
			sp := schema.Join(p, "tdxTCBStatuses")
			items, ok := dc.c.StringList(st, sp)
			if ok && len(items) == 0 {
				dc.errorf(st, sp, "list at least one TCB status (UpToDate is the only one without known vulnerabilities)")
			}
			out.TDXTCBStatuses = nil
			for i, it := range items {
				if dc.c.Enum(it, schema.Index(sp, i), it.Text, TDXTCBStatusValues...) && !slices.Contains(out.TDXTCBStatuses, it.Text) {
					out.TDXTCBStatuses = append(out.TDXTCBStatuses, it.Text)
				}
			}
		}
		if dt := rv.Get("tdxMinimumTCBDate"); !dt.IsNull() {
			out.TDXMinimumTCBDate = dt.Scalar()
			if !expirationRe.MatchString(out.TDXMinimumTCBDate) {
				dc.errorf(dt, schema.Join(p, "tdxMinimumTCBDate"), "%q is not a UTC time as Trustee writes TCB dates: YYYY-MM-DDTHH:MM:SSZ, e.g. 2025-08-13T00:00:00Z", dt.Src)
			} else if _, err := time.Parse(time.RFC3339, out.TDXMinimumTCBDate); err != nil {
				dc.errorf(dt, schema.Join(p, "tdxMinimumTCBDate"), "%q is not a valid time: %v", dt.Src, err)
			}
		}
	}
	if res := n.Get("resources"); dc.c.Map(res, schema.Join(path, "resources"), true) {
		for _, e := range sortedByKey(res) {
			rp := schema.Join(schema.Join(path, "resources"), e.Key)
			if !secretNameRe.MatchString(e.Key) || len(e.Key) > 253 {
				dc.c.Diags.Errorf(e.KeyPos, rp, "%q is not a valid Secret name (lowercase letters, digits, - and .)", e.Key)
				continue
			}
			r := KBSResource{Name: e.Key, Pos: e.KeyPos}
			keysNode, kp := e.Value, rp
			if e.Value != nil && e.Value.Kind == node.Map {
				// The long form: {keys: [...], profiles: [...]}.
				dc.c.Keys(e.Value, rp, resourceKeys...)
				keysNode, kp = e.Value.Get("keys"), schema.Join(rp, "keys")
				if keysNode.IsNull() {
					dc.c.Diags.Errorf(e.KeyPos, kp, "is required: the keys of the secret, each served as default/%s/<key>", e.Key)
					continue
				}
				r.Profiles = []string{}
				r.ProfilesPos = e.Value.Get("profiles").PosOr(e.Value.Pos)
				pl := e.Value.Get("profiles")
				items, ok := dc.c.StringList(pl, schema.Join(rp, "profiles"))
				if ok && len(items) == 0 {
					dc.c.Diags.Errorf(r.ProfilesPos, schema.Join(rp, "profiles"), "list the init-data profiles whose pods may fetch %s (or write the keys as a list: the default profile only)", e.Key)
				}
				for i, it := range items {
					if slices.Contains(r.Profiles, it.Text) {
						dc.errorf(it, schema.Index(schema.Join(rp, "profiles"), i), "profile %q is listed twice", it.Text)
						continue
					}
					r.Profiles = append(r.Profiles, it.Text)
					r.ProfilePositions = append(r.ProfilePositions, it.Pos)
				}
				if rq := e.Value.Get("requires"); !rq.IsNull() {
					r.RequiresPos = rq.Pos
					qp := schema.Join(rp, "requires")
					classes, ok := dc.c.StringList(rq, qp)
					if ok && len(classes) == 0 {
						dc.c.Diags.Errorf(rq.Pos, qp, "list the device classes whose evidence %s needs besides the CPU's (%s), or remove requires", e.Key, strings.Join(DeviceClasses, ", "))
					}
					for i, it := range classes {
						switch {
						case !slices.Contains(DeviceClasses, it.Text):
							dc.errorf(it, schema.Index(qp, i), "unknown device class %q (valid: %s): Trustee names the token's submods by device class", it.Text, strings.Join(DeviceClasses, ", "))
						case slices.Contains(r.Requires, it.Text):
							dc.errorf(it, schema.Index(qp, i), "device class %q is listed twice", it.Text)
						default:
							r.Requires = append(r.Requires, it.Text)
						}
					}
				}
			}
			keys, ok := dc.c.StringList(keysNode, kp)
			if !ok || len(keys) == 0 {
				if ok {
					dc.c.Diags.Errorf(keysNode.PosOr(e.KeyPos), kp, "list the keys of the secret, e.g. [key1, key2]: each is served as default/%s/<key>", e.Key)
				}
				continue
			}
			for _, k := range keys {
				if !secretKeyRe.MatchString(k.Text) {
					dc.errorf(k, kp, "%q is not a valid Secret key (letters, digits, -, _ and .)", k.Text)
					continue
				}
				if slices.Contains(r.Keys, k.Text) {
					dc.errorf(k, kp, "key %q is listed twice", k.Text)
					continue
				}
				r.Keys = append(r.Keys, k.Text)
			}
			out.Resources = append(out.Resources, r)
		}
	}
	if a := n.Get("acme"); dc.c.Map(a, schema.Join(path, "acme"), true, acmeKeys...) {
		out.ACME = a
	}
}

// hexList reads a list of lowercase hex strings of exactly size characters.
func (dc decoder) hexList(n *node.Node, path string, size int) []string {
	if n.IsNull() {
		return nil
	}
	items, ok := dc.c.StringList(n, path)
	if !ok {
		return nil
	}
	var out []string
	for i, it := range items {
		if !hexRe.MatchString(it.Text) || len(it.Text) != size {
			dc.errorf(it, schema.Index(path, i), "%q is not %d lowercase hex characters", it.Text, size)
			continue
		}
		out = append(out, it.Text)
	}
	return out
}

// nvidiaGPU decodes referenceValues.nvidiaGPU: driverVersions and vbiosVersions (both required, since the GPU
// submodule affirms a GPU's configuration only when both match) and the optional measurements.
func (dc decoder) nvidiaGPU(n *node.Node, path string) *NVIDIAGPU {
	if n.IsNull() || !dc.c.Map(n, path, false, nvidiaGPUKeys...) {
		return nil
	}
	out := &NVIDIAGPU{Pos: n.Pos}
	versions := func(key, what, example string) []string {
		kp := schema.Join(path, key)
		l := n.Get(key)
		if l.IsNull() {
			dc.c.Diags.Errorf(n.Pos, kp, "is required: the %s versions a GPU may report (e.g. [%s]); the GPU submodule affirms a GPU only when its driver and VBIOS are both listed", what, example)
			return nil
		}
		items, ok := dc.c.StringList(l, kp)
		if ok && len(items) == 0 {
			dc.errorf(l, kp, "list the %s versions a GPU may report (e.g. [%s])", what, example)
		}
		var vs []string
		for i, it := range items {
			switch {
			case !gpuVersionRe.MatchString(it.Text):
				dc.errorf(it, schema.Index(kp, i), "%q is not a version as the GPU reports it (e.g. %s)", it.Text, example)
			case slices.Contains(vs, it.Text):
				dc.errorf(it, schema.Index(kp, i), "%q is listed twice", it.Text)
			default:
				vs = append(vs, it.Text)
			}
		}
		slices.Sort(vs)
		return vs
	}
	out.DriverVersions = versions("driverVersions", "NVIDIA driver", "550.90.07")
	out.VBIOSVersions = versions("vbiosVersions", "VBIOS", "96.00.9f.00.01")
	if m := n.Get("measurements"); dc.c.Map(m, schema.Join(path, "measurements"), true) {
		mp := schema.Join(path, "measurements")
		if m.Len() == 0 {
			dc.errorf(m, mp, "pins no measurement: list the values of each pinned measurement by index, or remove measurements")
		}
		entries := sortedByKey(m)
		slices.SortStableFunc(entries, func(a, b node.Entry) int { return len(a.Key) - len(b.Key) })
		for _, e := range entries {
			ip := schema.Join(mp, e.Key)
			if i, err := strconv.Atoi(e.Key); err != nil || !gpuIndexRe.MatchString(e.Key) || i > 255 {
				dc.c.Diags.Errorf(e.KeyPos, ip, "%q is not an SPDM measurement index (1 to 255, as the GPU's evidence numbers its measurements)", e.Key)
				continue
			}
			vals := dc.hexList(e.Value, ip, 96)
			if len(vals) == 0 && e.Value.Len() == 0 {
				dc.errorf(e.Value, ip, "list the values measurement %s may hold (96 lowercase hex digits)", e.Key)
			}
			if len(vals) > 0 {
				out.Measurements = append(out.Measurements, GPUMeasurement{Index: e.Key, Values: vals})
			}
		}
	}
	return out
}
