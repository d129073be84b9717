package agentpolicy

import (
	"cmp"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Container is one container a policy admits, as Finalize writes it into policy_data.containers: what a
// CreateContainerRequest for it must carry. The render derives it from a pod template in Git (generators
// workloads), so that a reviewer reads in the rendered policy which images, command lines and privileges a
// profile admits.
type Container struct {
	// Workload and Name say where the container is declared: "Deployment hello-openshift/web" and the
	// container's name. They are for readers; the rules do not compare them.
	Workload string
	Name     string
	// Image is the image reference as the manifest writes it; Images (ImageNames) the forms in which the
	// runtime may hand it to the guest to pull.
	Image string
	// Args is the whole command line (command followed by args), or nil when the manifest sets no command,
	// leaving the command line to the image.
	Args []string
	// Privileged containers may hold every capability and device.
	Privileged bool
	// CapAdd and CapDrop are the manifest's securityContext.capabilities, as CAP_ names (ALL stays ALL).
	CapAdd, CapDrop []string
	// Mounts are the destinations of the container's volume mounts.
	Mounts []string
	// RunAsUser is the UID the manifest sets (nil: none); RunAsNonRoot forbids UID 0.
	RunAsUser    *int64
	RunAsNonRoot bool
	// SandboxPIDNS allows the container into the pod's shared PID namespace (shareProcessNamespace, hostPID).
	SandboxPIDNS bool
	// Pos is where the container's image is written, for diagnostics.
	Pos srcpos.Pos
}

// policyDataContainers is the key of policy_data whose presence says that a policy's rules check containers.
const policyDataContainers = "containers"

// value is the container as a policy_data entry (keys are sorted when written).
func (c Container) value() map[string]any {
	var args any
	if c.Args != nil {
		args = stringList(c.Args)
	}
	var uid any
	if c.RunAsUser != nil {
		uid = *c.RunAsUser
	}
	images, _ := ImageNames(c.Image)
	return map[string]any{
		"workload":        c.Workload,
		"name":            c.Name,
		"images":          stringList(images),
		"args":            args,
		"privileged":      c.Privileged,
		"capabilities":    map[string]any{"add": stringList(sortedUnique(c.CapAdd)), "drop": stringList(sortedUnique(c.CapDrop))},
		"mounts":          stringList(sortedUnique(c.Mounts)),
		"run_as_user":     uid,
		"run_as_non_root": c.RunAsNonRoot,
		"sandbox_pidns":   c.SandboxPIDNS,
	}
}

func stringList(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func sortedUnique(s []string) []string {
	out := slices.Clone(s)
	slices.Sort(out)
	return slices.Compact(out)
}

// sortContainers orders containers by workload, then name, then image, so that policy_data does not depend on
// the order of files in the repository.
func sortContainers(cs []Container) []Container {
	out := slices.Clone(cs)
	slices.SortStableFunc(out, func(a, b Container) int {
		return cmp.Or(cmp.Compare(a.Workload, b.Workload), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Image, b.Image))
	})
	return out
}

// Capability turns a capability as Kubernetes writes it (NET_ADMIN, or CAP_NET_ADMIN) into the OCI name the
// runtime passes to the agent (CAP_NET_ADMIN). ALL stays ALL.
func Capability(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	if s == "ALL" || strings.HasPrefix(s, "CAP_") {
		return s
	}
	return "CAP_" + s
}

// digestRe finds a content digest in an image reference: repo@sha256:<hex>.
var digestRe = lazyre.New(`@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,}$`)

// ImageNames returns the names under which the runtime may ask the guest to pull image: the reference as
// written and its fully qualified form (docker.io and library/ for short names, :latest without a tag or
// digest), in that order and without repeats. byDigest reports whether the reference names a content digest,
// which binds the image; a tag can be moved to another image.
//
// The runtime passes the container's image annotation (containerd io.kubernetes.cri.image-name, CRI-O
// io.kubernetes.cri-o.ImageName) as the source of the image_guest_pull storage (kata-containers 3.21
// src/runtime/virtcontainers/kata_agent.go, handleImageGuestPullBlockVolume); the runtimes fill it with the
// name the kubelet asked for or its fully qualified form.
func ImageNames(image string) (names []string, byDigest bool) {
	image = strings.TrimSpace(image)
	if image == "" {
		return nil, false
	}
	byDigest = digestRe.MatchString(image)
	name, digest := image, ""
	if i := strings.IndexByte(image, '@'); i >= 0 {
		name, digest = image[:i], image[i:]
	}
	domain, rest, found := strings.Cut(name, "/")
	if !found || !(strings.ContainsAny(domain, ".:") || domain == "localhost") {
		domain, rest = "docker.io", name
		if !strings.Contains(rest, "/") {
			rest = "library/" + rest
		}
	}
	last := rest[strings.LastIndexByte(rest, '/')+1:]
	if digest == "" && !strings.Contains(last, ":") {
		rest += ":latest"
	}
	full := domain + "/" + rest + digest
	names = []string{image}
	if full != image {
		names = append(names, full)
	}
	return names, byDigest
}
