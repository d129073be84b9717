package pipeline

import (
	"github.com/cocogen/cocogen/generators/workloads"
	"github.com/cocogen/cocogen/internal/release"
)

// podDefaults are the profiles that confidential pods without the profile annotation run with: peer pods get
// the default profile when the cluster group renders peer-pods-cm (a sandbox application), else none that
// cocogen knows; kata-cc pods get the default profile injected, since Kata on bare metal has no cluster
// default.
func podDefaults(c appContext) workloads.Defaults {
	out := workloads.Defaults{Local: c.v.CoCo.InitData.Default}
	if rendersPeerPods(c) {
		out.PeerPods = c.v.CoCo.InitData.Default
	}
	return out
}

// caaDaemonSet is the name of the cloud-api-adaptor DaemonSet that the cluster's sandboxed containers
// operator runs: the pinned release's (internal/release), else the name every supported release uses.
func (c appContext) caaDaemonSet() string {
	if c.rel.sandboxed != nil && c.rel.sandboxed.CAADaemonSet != "" {
		return c.rel.sandboxed.CAADaemonSet
	}
	return release.CAADaemonSetOSC
}
