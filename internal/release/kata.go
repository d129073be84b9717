package release

// The pod annotations that carry init-data (gzip, then standard base64 of the init-data TOML).
const (
	AnnotationHypervisor = "io.katacontainers.config.hypervisor.cc_init_data"
	AnnotationRuntime    = "io.katacontainers.config.runtime.cc_init_data"
)

// Hypervisor is where Kata starts the pod VM, which decides the shim's configuration file and so which
// hypervisor annotations it accepts.
type Hypervisor int

const (
	// Remote is peer pods: the shim's configuration-remote.toml, the VM created by cloud-api-adaptor
	// (runtime class kata-remote).
	Remote Hypervisor = iota
	// Local is a VM on the node (bare metal, runtime class kata-cc): the CoCo configurations.
	Local
)

func (h Hypervisor) String() string {
	if h == Local {
		return "bare metal (kata-cc)"
	}
	return "peer pods (kata-remote)"
}

// InitDataRule is how the Kata shims of a range of releases read a pod's init-data.
type InitDataRule struct {
	Releases Range
	// Remote and Local are the annotation to write for each hypervisor; "" when none works.
	Remote, Local string
	// RemoteIgnored is true when the shim does not read Remote: the pod starts, but its VM boots with the
	// init-data of peer-pods-cm (INITDATA), the cluster default.
	RemoteIgnored bool
	Why           string
	Sources       []string
}

// InitDataRules are the Kata releases and the annotation their shims read, oldest first. Read in
// kata-containers at each tag (src/runtime/virtcontainers/pkg/annotations/annotations.go, the Initdata
// constant; src/runtime/pkg/oci/utils.go, addHypervisorInitdataOverrides and addAnnotations;
// src/runtime/config/configuration-remote.toml.in and src/runtime/Makefile, enable_annotations).
var InitDataRules = []InitDataRule{
	{
		Releases: Range{V(0, 0, 0), V(3, 15, 0)},
		Why:      "the Go shim knows io.katacontainers.config.runtime.cc_init_data but does not read it (3.15.0 has no addHypervisorInitdataOverrides); gzip-compressed init-data is decoded from 3.16.0 on",
		Sources:  []string{"kata-containers 3.15.0 src/runtime/pkg/oci/utils.go", "kata-containers commit 91bb6b7c34 (first in 3.16.0)"},
	},
	{
		Releases: Range{V(3, 16, 0), V(3, 19, 0)},
		Remote:   AnnotationRuntime, Local: AnnotationRuntime,
		Why:     "the Go shim decodes runtime.cc_init_data (gzip, base64); runtime.* annotations are not filtered by enable_annotations",
		Sources: []string{"kata-containers commit 91bb6b7c34 (3.16.0) src/runtime/pkg/oci/utils.go addHypervisorInitdataOverrides", "kata-containers 3.19.1 src/runtime/virtcontainers/pkg/annotations/annotations.go Initdata = runtime.cc_init_data"},
	},
	{
		Releases: Range{V(3, 20, 0), V(3, 20, 0)},
		Remote:   AnnotationRuntime, RemoteIgnored: true, Local: AnnotationHypervisor,
		Why:     "3.20.0 renamed the annotation to hypervisor.cc_init_data, which the shim refuses unless enable_annotations lists cc_init_data: the CoCo configurations do (bare metal), configuration-remote.toml does not (peer pods: \"annotation ... is not enabled\"); runtime.cc_init_data is no longer read, so a peer pod starts with peer-pods-cm's INITDATA",
		Sources: []string{"kata-containers 3.20.0 src/runtime/virtcontainers/pkg/annotations/annotations.go (commit 93ec470928)", "kata-containers 3.20.0 src/runtime/config/configuration-remote.toml.in enable_annotations", "kata-containers 3.20.0 src/runtime/Makefile DEFENABLEANNOTATIONS_COCO (commit 208cec429a)"},
	},
	{
		Releases: Range{V(3, 21, 0), Version{}},
		Remote:   AnnotationHypervisor, Local: AnnotationHypervisor,
		Why:     "configuration-remote.toml enables cc_init_data from 3.21.0 on",
		Sources: []string{"kata-containers commit 081823b388 (3.21.0) src/runtime/config/configuration-remote.toml.in", "kata-containers 3.31.0 src/runtime/config/configuration-remote.toml.in"},
	},
}

// InitDataRuleFor returns the rule of a Kata release.
func InitDataRuleFor(v Version) InitDataRule {
	for _, r := range InitDataRules {
		if r.Releases.Contains(v) {
			return r
		}
	}
	return InitDataRules[len(InitDataRules)-1]
}

// annotation is the rule's annotation for a hypervisor and whether the shim ignores it.
func (r InitDataRule) annotation(h Hypervisor) (name string, ignored bool) {
	if h == Local {
		return r.Local, false
	}
	return r.Remote, r.RemoteIgnored
}

// InitDataAnnotation returns the annotation a pod's init-data goes in for a Kata release and hypervisor, ""
// when the release reads none, and whether the shim ignores it (the pod VM then boots with the cluster
// default init-data of peer-pods-cm).
func InitDataAnnotation(v Version, h Hypervisor) (name string, ignored bool) {
	return InitDataRuleFor(v).annotation(h)
}

// SameInitDataAnnotation returns the annotation of the releases in r when every one of them reads init-data
// the same way (ok), so that a range of releases (a sandboxed containers row without an exact Kata release)
// decides the annotation.
func SameInitDataAnnotation(r Range, h Hypervisor) (name string, ignored, ok bool) {
	first := true
	for _, rule := range InitDataRules {
		if !overlaps(rule.Releases, r) {
			continue
		}
		n, ig := rule.annotation(h)
		if first {
			name, ignored, first = n, ig, false
			continue
		}
		if n != name || ig != ignored {
			return "", false, false
		}
	}
	return name, ignored, !first
}

// overlaps reports whether two ranges share a release.
func overlaps(a, b Range) bool {
	return below(a.Min, b) && below(b.Min, a)
}

// below reports whether v is older than the end of r (the first release after it).
func below(v Version, r Range) bool {
	return r.Max.IsZero() || v.Less(V(r.Max.Major, r.Max.Minor+1, 0))
}
