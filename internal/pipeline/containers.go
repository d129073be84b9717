package pipeline

import (
	"slices"
	"strings"

	"github.com/cocogen/cocogen/generators/workloads"
	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/parallel"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// finishProfiles finishes every init-data profile (profiles.Profile.Finalize) with the containers of the pod templates
// that run with it, read from the built overlays of the workloads applications in values order, and warns
// where the manifests leave a container less bound than the policy could bind it. It reports false when a
// profile cannot be built; the reasons are in d.
func finishProfiles(c appContext, overlays map[string]*builtOverlay, d *diag.List) bool {
	if len(c.profiles) == 0 {
		return true
	}
	byProfile := map[string][]agentpolicy.Container{}
	for _, a := range c.v.ClusterGroup.Applications {
		o := overlays[a.Name]
		if o == nil || a.Disabled || a.CoCoGen != model.GenWorkloads {
			continue
		}
		for _, pod := range o.pods {
			p := c.profiles[pod.Profile]
			if p == nil {
				continue // no init-data, or an unknown profile, which Inject reports
			}
			for _, ctr := range pod.Containers {
				pc := policyContainer(pod, ctr)
				pc.Pos = ctr.ImagePos
				if pc.Pos.IsZero() {
					pc.Pos = srcpos.Pos{File: pod.File}
				}
				warnContainer(p, pod, ctr, pc.Pos, d)
				byProfile[p.Name] = append(byProfile[p.Name], pc)
			}
		}
	}
	// The profiles are independent (each validates its own policy with its own Rego meter): finalize them
	// side by side and report in profile order, so diagnostics read the same as a sequential run.
	names := c.v.CoCo.ProfileNames()
	ds := make([]*diag.List, len(names))
	oks := make([]bool, len(names))
	parallel.Each(len(names), func(i int) {
		p := c.profiles[names[i]]
		if p == nil {
			oks[i] = true
			return
		}
		oks[i], ds[i] = p.Finalize(byProfile[names[i]])
	})
	ok := true
	for i := range names {
		if ds[i] != nil {
			d.Append(ds[i])
		}
		ok = ok && oks[i]
	}
	return ok
}

// policyContainer is what the agent policy admits for a container of a pod template.
func policyContainer(pod workloads.Pod, c workloads.Container) agentpolicy.Container {
	out := agentpolicy.Container{
		Workload:     pod.Object,
		Name:         c.Name,
		Image:        c.Image,
		Privileged:   c.Privileged,
		Mounts:       slices.Clone(c.MountPaths),
		RunAsUser:    c.RunAsUser,
		RunAsNonRoot: c.RunAsNonRoot,
		SandboxPIDNS: pod.ShareProcessNamespace,
	}
	if c.HasCommand {
		out.Args = append(slices.Clone(c.Command), c.Args...)
	}
	for _, cap := range c.CapAdd {
		out.CapAdd = append(out.CapAdd, agentpolicy.Capability(cap))
	}
	for _, cap := range c.CapDrop {
		out.CapDrop = append(out.CapDrop, agentpolicy.Capability(cap))
	}
	return out
}

// warnContainer reports what the manifest leaves open to the host in a confidential pod: an image by tag, a
// command line left to the image (when the profile's policy checks containers), a host path volume.
func warnContainer(p *Profile, pod workloads.Pod, c workloads.Container, pos srcpos.Pos, d *diag.List) {
	what := "container " + c.Name + " of " + pod.Object
	if p.ChecksContainers {
		if _, byDigest := agentpolicy.ImageNames(c.Image); !byDigest {
			d.Warnf(pos, what, "image %s is named by tag: the agent policy of profile %s admits whatever image the tag points to when the pod starts; pin it by digest (%s@sha256:...)", c.Image, p.Name, strings.SplitN(c.Image, "@", 2)[0])
		}
		if !c.HasCommand {
			d.Warnf(pos, what, "sets no command, so its command line comes from the image, which cocogen cannot read: the agent policy of profile %s admits any command line for it; set command (and args)", p.Name)
		}
	}
	for _, m := range c.HostPathMounts {
		d.Warnf(pos, what, "mounts a hostPath volume at %s: its content comes from the host, which a confidential pod does not trust", m)
	}
}
