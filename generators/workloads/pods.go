package workloads

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/podtemplate"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// PeerPodsRuntimeClass is the runtime class of peer pods: a pod that names it without naming an init-data
// profile runs with the cluster's default init-data (peer-pods-cm INITDATA), which the cloud-api-adaptor uses
// for every pod without the init-data annotation.
const PeerPodsRuntimeClass = "kata-remote"

// LocalRuntimeClass is the runtime class of confidential pods on bare metal (a Kata VM in the node's TEE).
// Kata on bare metal has no cluster-wide init-data: a pod gets init-data only from its annotation.
const LocalRuntimeClass = "kata-cc"

// LocalGPURuntimeClass is the runtime class of confidential pods with a GPU on bare metal: kata-cc with an
// NVIDIA GPU passed through to the pod VM (the sandboxed containers operator creates it beside kata-cc). Like
// kata-cc, it has no cluster-wide init-data.
const LocalGPURuntimeClass = "kata-cc-nvidia-gpu"

// isLocal reports whether a runtime class runs a Kata VM in the node's own TEE.
func isLocal(rc string) bool { return rc == LocalRuntimeClass || rc == LocalGPURuntimeClass }

// Defaults say which init-data profile a confidential pod template that names none runs with.
type Defaults struct {
	// PeerPods is the profile of peer-pods-cm INITDATA, which the cloud-api-adaptor gives every peer pod
	// (kata-remote) without an init-data annotation; "" when the render does not write peer-pods-cm.
	PeerPods string
	// Local is the profile that cocogen injects into kata-cc pod templates that name none: there is no
	// cluster default on bare metal, so the render plays its part; "" when there is no default profile.
	Local string
}

// For returns the profile a pod template with runtime class rc and no profile annotation runs with ("" for
// none that cocogen knows), and whether cocogen injects it (true) or the cluster supplies it (false).
func (d Defaults) For(rc string) (profile string, injected bool) {
	switch rc {
	case PeerPodsRuntimeClass:
		return d.PeerPods, false
	case LocalRuntimeClass, LocalGPURuntimeClass:
		return d.Local, true
	}
	return "", false
}

// IsConfidential reports whether a runtime class runs pods in a TEE with init-data.
func IsConfidential(rc string) bool { return rc == PeerPodsRuntimeClass || isLocal(rc) }

// Pod is a pod template of an overlay, read before init-data is injected: which init-data profile it runs
// with and what its containers are. The render derives the containers an agent policy admits from it.
type Pod struct {
	Object string // Deployment hello-openshift/hello-openshift-secure
	File   string
	// Profile is the init-data profile the pod runs with: the one its annotation names, or the default for a
	// confidential pod without the annotation (see Defaults); "" for a pod without init-data (runc, or a kata
	// runtime class that is not confidential) or whose default cocogen does not know.
	Profile string
	// ByAnnotation is true when the pod's annotation names the profile.
	ByAnnotation bool
	// ShareProcessNamespace is spec.shareProcessNamespace or spec.hostPID: the containers share the pod's PID
	// namespace.
	ShareProcessNamespace bool
	Containers            []Container
}

// Container is one container (or init container) of a pod template.
type Container struct {
	Name  string
	Init  bool
	Image string
	// ImagePos is where the manifests write the image, zero when kustomize wrote it (an images: entry).
	ImagePos srcpos.Pos
	// Command and Args are the manifest's; HasCommand is false when it leaves the entrypoint to the image.
	Command, Args []string
	HasCommand    bool
	Privileged    bool
	// CapAdd and CapDrop are securityContext.capabilities as written (NET_ADMIN, ALL).
	CapAdd, CapDrop []string
	// RunAsUser and RunAsNonRoot come from the container's securityContext, else the pod's.
	RunAsUser    *int64
	RunAsNonRoot bool
	// MountPaths are the mountPath of every volumeMount; HostPathMounts those backed by a hostPath volume.
	MountPaths     []string
	HostPathMounts []string
}

// Pods reads the pod templates of objs. defaults are the profiles of confidential pods without the
// annotation.
func Pods(objs []Object, defaults Defaults) []Pod {
	var out []Pod
	for _, obj := range objs {
		n := obj.Node
		kind := n.Path("kind").Scalar()
		tmpl, _ := podtemplate.Of(n)
		if tmpl == nil {
			continue
		}
		spec := tmpl.Get("spec")
		if spec == nil || spec.Kind != node.Map {
			continue
		}
		pod := Pod{Object: fmt.Sprintf("%s %s", kind, qualified(n)), File: obj.File}
		if p := tmpl.Path("metadata", "annotations", AnnotationProfile); p != nil {
			pod.Profile, pod.ByAnnotation = p.Scalar(), true
		} else if !hasInitData(tmpl.Path("metadata", "annotations")) {
			// A template that carries init-data of its own runs with it, not with a default.
			pod.Profile, _ = defaults.For(spec.Get("runtimeClassName").Scalar())
		}
		pod.ShareProcessNamespace = isTrue(spec.Get("shareProcessNamespace")) || isTrue(spec.Get("hostPID"))
		hostPaths := map[string]bool{}
		for _, v := range spec.Get("volumes").Items() {
			if v.Get("hostPath") != nil {
				hostPaths[v.Get("name").Scalar()] = true
			}
		}
		podSC := spec.Get("securityContext")
		for _, group := range []struct {
			key  string
			init bool
		}{{"initContainers", true}, {"containers", false}} {
			for _, c := range spec.Get(group.key).Items() {
				pod.Containers = append(pod.Containers, container(c, group.init, podSC, hostPaths))
			}
		}
		out = append(out, pod)
	}
	return out
}

func container(c *node.Node, init bool, podSC *node.Node, hostPaths map[string]bool) Container {
	sc := c.Get("securityContext")
	out := Container{
		Name:       c.Get("name").Scalar(),
		Init:       init,
		Image:      c.Get("image").Scalar(),
		ImagePos:   c.Get("image").PosOr(srcpos.Pos{}),
		Command:    scalarList(c.Get("command")),
		Args:       scalarList(c.Get("args")),
		HasCommand: c.Get("command").Len() > 0,
		Privileged: isTrue(sc.Get("privileged")),
		CapAdd:     scalarList(sc.Path("capabilities", "add")),
		CapDrop:    scalarList(sc.Path("capabilities", "drop")),
	}
	for _, s := range []*node.Node{sc, podSC} {
		if out.RunAsUser == nil {
			if u := s.Get("runAsUser"); u != nil && u.Kind == node.Int {
				if v, err := strconv.ParseInt(u.Text, 10, 64); err == nil {
					out.RunAsUser = &v
				}
			}
		}
	}
	if v := sc.Get("runAsNonRoot"); v != nil {
		out.RunAsNonRoot = isTrue(v)
	} else {
		out.RunAsNonRoot = isTrue(podSC.Get("runAsNonRoot"))
	}
	for _, m := range c.Get("volumeMounts").Items() {
		p := m.Get("mountPath").Scalar()
		if p == "" || slices.Contains(out.MountPaths, p) {
			continue
		}
		out.MountPaths = append(out.MountPaths, p)
		if hostPaths[m.Get("name").Scalar()] {
			out.HostPathMounts = append(out.HostPathMounts, p)
		}
	}
	return out
}

// hasInitData reports whether annotations set an init-data annotation (either name Kata has read).
func hasInitData(annotations *node.Node) bool {
	return annotations.Get(initdata.AnnotationInitData) != nil || annotations.Get(initdata.AnnotationInitDataRuntime) != nil
}

// scalarList reads a list of scalars.
func scalarList(n *node.Node) []string {
	var out []string
	for _, it := range n.Items() {
		out = append(out, it.Scalar())
	}
	return out
}

// isTrue reports whether n is the boolean true (Kubernetes rejects any other spelling).
func isTrue(n *node.Node) bool { return n != nil && n.Kind == node.Bool && n.Text == "true" }
