package release

import (
	"slices"
	"strings"
)

// SandboxedPackage is the OLM package of OpenShift sandboxed containers.
const SandboxedPackage = "sandboxed-containers-operator"

// CAA DaemonSet names: the cloud-api-adaptor that creates the peer-pod VMs and reads peer-pods-cm when it
// starts (a change to peer-pods-cm reaches new pod VMs only after the DaemonSet restarts).
const (
	// CAADaemonSetOSC is the DaemonSet OSC 1.10 and later run (OSC 1.10 documentation, "Updating the peer pods
	// config map": oc set env ds/osc-caa-ds; the operator's own tests name it so; openshift/
	// sandboxed-containers-operator controllers/peerpods.go: caaDsName = "osc-caa-ds", in the operator's
	// namespace).
	CAADaemonSetOSC = "osc-caa-ds"
	// CAADaemonSetPeerPodConfig is the DaemonSet of the peerpodconfig-ctrl controller that OSC 1.7 and 1.8
	// embedded (openshift/sandboxed-containers-operator release-1.7 and devel 1.8.0,
	// must-gather/must-gather-requirements.md).
	CAADaemonSetPeerPodConfig = "peerpodconfig-ctrl-caa-daemon"
)

// Gate is one entry of the operator's feature gates ConfigMap osc-feature-gates.
type Gate struct {
	Name, Value string
}

// SandboxedRelease is one OpenShift sandboxed containers (OSC) operator release.
type SandboxedRelease struct {
	// CSV is the ClusterServiceVersion name, e.g. sandboxed-containers-operator.v1.13.0.
	CSV string
	OSC string
	// Kata are the Kata Containers releases the cluster's nodes can run with this operator. The Kata shim
	// is not part of the operator: it comes from the sandboxed-containers RHCOS extension of the OpenShift
	// release ("Upgrade OpenShift Container Platform to update the Kata runtime", OSC documentation,
	// "Upgrading"), so an operator release runs with the Kata of every OpenShift z-stream it supports.
	// cocogen uses the range when the cluster metadata names no kata.version, and checks kata.version
	// against it when it does.
	Kata Range
	// KataSeen are Kata builds recorded with this operator release (RPM versions), for the README.
	KataSeen string
	// InitDataAnnotation is the annotation this release's documentation puts init-data in.
	InitDataAnnotation string
	// CAADaemonSet is the cloud-api-adaptor DaemonSet in openshift-sandboxed-containers-operator.
	CAADaemonSet string
	// FeatureGates are the osc-feature-gates entries peer pods with confidential containers need.
	FeatureGates []Gate
	// Unsupported says why cocogen renders nothing for this release ("" when it does).
	Unsupported string
	Verified    Evidence
	Sources     []string
}

var confidentialGate = []Gate{{"confidential", "true"}}

// Shared sources of the sandboxed containers rows.
const (
	srcOSCCatalog  = "openshift/sandboxed-containers-operator fbc/v4.19 and fbc/v4.22 catalog-template.yaml (channel stable)"
	srcOSCGate     = "openshift/sandboxed-containers-operator devel (1.8.0) controllers/fg_handler.go ConfidentialFeatureGate; validatedpatterns/coco-pattern v3.1.0 osc-feature-gates confidential: \"true\""
	srcOSCUpgrade  = "docs.redhat.com OpenShift sandboxed containers 1.10 and 1.11, \"Upgrading\": the Kata runtime comes from the RHCOS extension of the OpenShift release"
	srcOSC110Init  = "docs.redhat.com OpenShift sandboxed containers 1.10, Deploying confidential containers, \"Applying initdata to a pod\": io.katacontainers.config.runtime.cc_init_data on kata-remote"
	srcOSC110CAA   = "docs.redhat.com OpenShift sandboxed containers 1.10, Deploying confidential containers, \"Updating the peer pods config map\": restart ds/osc-caa-ds"
	srcOSC111Init  = "docs.redhat.com OpenShift sandboxed containers 1.11, Deploying confidential containers, \"Applying initdata to a pod\": io.katacontainers.config.hypervisor.cc_init_data on kata-remote"
	srcRHCOS41919  = "OpenShift 4.19.19 RHCOS extensions: kata-containers-3.17.0-4.rhaos4.19; 4.19.20: kata-containers-3.21.0-3.rhaos4.19 (a scan of the OpenShift mirror)"
	srcCoCoPattern = "validatedpatterns/coco-pattern v3.1.0 (PR #77): OSC 1.12 with hypervisor.cc_init_data injected into kata-remote pods"
	srcOSC113      = "validatedpatterns/coco-pattern PR #101 pins sandboxed-containers-operator.v1.13.0; a recorded deployment (OpenShift 4.22.15, OSC 1.13.0) runs kata-containers-3.31.0-5.rhaos4.22"
)

// sandboxedReleases are the OSC releases of the stable channel that cocogen knows, oldest first.
var sandboxedReleases = func() []SandboxedRelease {
	var rows []SandboxedRelease
	add := func(r SandboxedRelease, patches ...string) {
		for _, p := range patches {
			r.CSV, r.OSC = SandboxedPackage+".v"+p, p
			r.Sources = slices.Clone(r.Sources)
			rows = append(rows, r)
		}
	}
	add(SandboxedRelease{
		Unsupported: "OSC 1.9 is the technology preview of confidential containers, before the gzip-compressed init-data that cocogen writes (the coco-pattern supports OSC 1.10 and later for this reason: PR #54, \"pre GA releases will no longer work due to introduction of compressed initdata\")",
		Verified:    FromNotes,
		Sources:     []string{srcOSCCatalog, "validatedpatterns/coco-pattern PR #54"},
	}, "1.9.0")
	add(SandboxedRelease{
		Kata: Range{V(3, 16, 0), V(3, 19, 0)}, KataSeen: "3.17.0 (OpenShift 4.19.19)",
		InitDataAnnotation: AnnotationRuntime, CAADaemonSet: CAADaemonSetOSC, FeatureGates: confidentialGate,
		Verified: FromNotes,
		Sources:  []string{srcOSCCatalog, srcOSC110Init, srcOSC110CAA, srcOSCUpgrade, srcRHCOS41919, srcOSCGate},
	}, "1.10.0", "1.10.1", "1.10.2", "1.10.3")
	add(SandboxedRelease{
		Kata: Range{V(3, 21, 0), Version{}}, KataSeen: "3.21.0 (OpenShift 4.19.20)",
		InitDataAnnotation: AnnotationHypervisor, CAADaemonSet: CAADaemonSetOSC, FeatureGates: confidentialGate,
		Verified: FromNotes,
		Sources:  []string{srcOSCCatalog, srcOSC111Init, srcOSC110CAA, srcOSCUpgrade, srcRHCOS41919, srcOSCGate},
	}, "1.11.0", "1.11.1")
	add(SandboxedRelease{
		Kata: Range{V(3, 21, 0), Version{}}, KataSeen: "3.21.0 and later",
		InitDataAnnotation: AnnotationHypervisor, CAADaemonSet: CAADaemonSetOSC, FeatureGates: confidentialGate,
		Verified: FromNotes,
		Sources:  []string{srcOSCCatalog, srcCoCoPattern, srcOSC111Init, srcOSC110CAA, srcOSCUpgrade, srcOSCGate},
	}, "1.12.0", "1.12.1")
	add(SandboxedRelease{
		Kata: Range{V(3, 21, 0), Version{}}, KataSeen: "3.31.0 (OpenShift 4.20.32, 4.22.15)",
		InitDataAnnotation: AnnotationHypervisor, CAADaemonSet: CAADaemonSetOSC, FeatureGates: confidentialGate,
		Verified: FromNotes,
		Sources:  []string{srcOSC113, srcOSC111Init, srcOSC110CAA, srcOSCUpgrade, srcOSCGate},
	}, "1.13.0")
	add(SandboxedRelease{
		Kata: Range{V(3, 21, 0), Version{}}, KataSeen: "3.31.0 (kata-containers-3.31.0-7)",
		InitDataAnnotation: AnnotationHypervisor, CAADaemonSet: CAADaemonSetOSC, FeatureGates: confidentialGate,
		Verified: FromNotes,
		Sources:  []string{"a recorded deployment: single-node OpenShift 4.22.13, OSC 1.13.1, kata-containers-3.31.0-7", srcOSC111Init, srcOSC110CAA, srcOSCUpgrade, srcOSCGate},
	}, "1.13.1")
	return rows
}()

// Sandboxed returns the row of a sandboxed containers CSV.
func Sandboxed(csv string) (SandboxedRelease, bool) {
	i := slices.IndexFunc(sandboxedReleases, func(r SandboxedRelease) bool { return r.CSV == csv })
	if i < 0 {
		return SandboxedRelease{}, false
	}
	return sandboxedReleases[i], true
}

// CAADaemonSet returns the cloud-api-adaptor DaemonSet of the release a CSV pins: the row's, or osc-caa-ds (every
// release cocogen renders for) when the CSV is "" (not pinned) or unknown.
func CAADaemonSet(csv string) string {
	if r, ok := Sandboxed(csv); ok && r.CAADaemonSet != "" {
		return r.CAADaemonSet
	}
	return CAADaemonSetOSC
}

// SandboxedReleases returns every row, oldest first.
func SandboxedReleases() []SandboxedRelease { return slices.Clone(sandboxedReleases) }

// SandboxedCSVs returns the known CSVs, oldest first, for messages.
func SandboxedCSVs() []string {
	out := make([]string, len(sandboxedReleases))
	for i, r := range sandboxedReleases {
		out[i] = r.CSV
	}
	return out
}

// GatesString renders the feature gates as name=value pairs.
func (r SandboxedRelease) GatesString() string {
	var parts []string
	for _, g := range r.FeatureGates {
		parts = append(parts, g.Name+"="+g.Value)
	}
	return strings.Join(parts, ",")
}
