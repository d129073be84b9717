// Package workloads turns the objects of a kustomize overlay into confidential workloads at render time: a
// pod template that names an init-data profile (annotation coco.io/initdata-profile) gets that profile's
// encoded init-data under the annotation name the cluster's Kata version reads, and the runtime class of
// confidential pods on the cluster's platform. It replaces an admission webhook: the value is in Git, the
// same bytes as peer-pods-cm and the Trustee reference values, and a reviewer sees it change.
//
// Inject is a pure function: objects, profiles and cluster facts in; objects and diagnostics out.
package workloads

import (
	"fmt"
	"sort"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/podtemplate"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Annotations that cocogen reads and writes on pod templates.
const (
	// AnnotationProfile opts a pod in: its value names an init-data profile of global.coco.initdata.profiles.
	AnnotationProfile = "coco.io/initdata-profile"
	// AnnotationDigest is the readable twin of the encoded init-data: <algorithm>:<hex digest of the TOML>.
	AnnotationDigest = "cocogen.io/initdata-digest"
)

// Profile is what a pod template gets for one init-data profile.
type Profile struct {
	Encoded   string
	Algorithm string
	Digest    string
}

// Object is one object of the overlay and the repository file it was read from.
type Object struct {
	Node *node.Node
	File string
}

// Options are the cluster facts that decide what is injected.
type Options struct {
	// InitDataAnnotation is the annotation name the cluster's Kata reads (see AnnotationFor).
	InitDataAnnotation string
	// RuntimeClass is the runtime class of confidential pods on the platform ("" means pods must set one).
	RuntimeClass string
	// Platform names the cluster platform in messages.
	Platform string
	// App and Dir name the application and its overlay (for the # Source: comment and messages).
	App, Dir string
	// Defaults are the profiles of confidential pod templates that name none.
	Defaults Defaults
	// DefaultMemory is the pod VM memory in MiB that a kata-cc pod template gets as
	// io.katacontainers.config.hypervisor.default_memory when it sets none ("": no annotation).
	DefaultMemory string
}

// AnnotationMemory is the Kata annotation of the pod VM's memory in MiB (kata-containers
// src/libs/kata-types/src/annotations/mod.rs, KATA_ANNO_CFG_HYPERVISOR_DEFAULT_MEMORY).
const AnnotationMemory = "io.katacontainers.config.hypervisor.default_memory"

// Use records that a pod template uses a profile, for the checks across applications.
type Use struct {
	Profile string
	Object  string // Deployment hello-openshift/hello-openshift-secure
	File    string
	// Pos is where the manifests name the profile (the annotation's value), zero when they do not.
	Pos srcpos.Pos
}

// Result is what Inject returns.
type Result struct {
	Objects []manifest.Object
	Uses    []Use
	// Refs are the KBS resources that the objects name (CDH URLs and kbs:/// URIs in any string).
	Refs []ResourceRef
}

// ResourceRef is one KBS resource named by a workload.
type ResourceRef struct {
	Path   string // <repository>/<type>/<tag>, e.g. default/kbsres1/key3
	Object string
	File   string
	// Pos is the position of the string that names it, zero when kustomize wrote the string.
	Pos srcpos.Pos
}

// resourceRefRe finds KBS resource paths in text: the CDH's local URL and kbs:/// resource URIs.
var resourceRefRe = lazyre.New(`(?:127\.0\.0\.1:8006/cdh/resource/|kbs:///)([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)`)

// ResourceRefs returns the KBS resource paths named in text, in order.
func ResourceRefs(text string) []string {
	var out []string
	for _, m := range resourceRefRe.FindAllStringSubmatch(text, -1) {
		out = append(out, m[1])
	}
	return out
}

// walkStrings calls fn for every string scalar under n.
func walkStrings(n *node.Node, fn func(*node.Node)) {
	if n == nil {
		return
	}
	switch n.Kind {
	case node.Map:
		for _, e := range n.Entries() {
			walkStrings(e.Value, fn)
		}
	case node.List:
		for _, it := range n.Items() {
			walkStrings(it, fn)
		}
	case node.String:
		fn(n)
	}
}

// RuntimeClassFor returns the runtime class of confidential pods on a platform: kata-remote for peer pods on
// the clouds, kata-cc on bare metal, "" where cocogen does not know (the pod must name one).
func RuntimeClassFor(platform string) string {
	switch platform {
	case "Azure", "AWS":
		return "kata-remote"
	case "BareMetal", "None":
		return "kata-cc"
	}
	return ""
}

// Inject returns the objects with init-data and runtime classes set on every pod template that names a
// profile, and the digest of the init-data it runs on every confidential pod template that names none (see
// markDefault). Any other template is left as it is.
func Inject(objs []Object, profiles map[string]Profile, o Options) (Result, *diag.List) {
	d := &diag.List{}
	names := make([]string, 0, len(profiles))
	for n := range profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	var res Result
	for _, obj := range objs {
		n := obj.Node
		kind := n.Path("kind").Scalar()
		id := fmt.Sprintf("%s %s", kind, qualified(n))
		pos := srcpos.Pos{File: obj.File}
		src := o.App + " " + o.Dir
		if obj.File != "" {
			src = obj.File + " (application " + o.App + ")"
		}
		res.Objects = append(res.Objects, manifest.Object{Node: n, Source: src})
		walkStrings(n, func(s *node.Node) {
			for _, p := range ResourceRefs(s.Text) {
				res.Refs = append(res.Refs, ResourceRef{Path: p, Object: id, File: obj.File, Pos: s.Pos})
			}
		})
		tmplPath, ok := podtemplate.Path(kind)
		if !ok {
			if n.Path("metadata", "annotations", AnnotationProfile) != nil {
				d.Errorf(pos, id, "%s is set on a %s, which has no pod template: put it on the pod template of a Deployment, StatefulSet, DaemonSet, Job, CronJob or Pod", AnnotationProfile, kind)
			}
			continue
		}
		tmpl := n.Path(tmplPath...)
		if tmpl == nil || tmpl.Kind != node.Map {
			continue
		}
		annotations := tmpl.Get("metadata").Get("annotations")
		profile := annotations.Get(AnnotationProfile)
		if profile == nil {
			if len(tmplPath) > 0 && n.Path("metadata", "annotations", AnnotationProfile) != nil {
				d.Errorf(pos, id, "%s is on the %s itself, where it has no effect: put it on the pod template (%s.metadata.annotations)", AnnotationProfile, kind, strings.Join(tmplPath, "."))
			}
			if name, ok := markDefault(tmpl, profiles, o, pos, id, d); ok {
				res.Uses = append(res.Uses, Use{Profile: name, Object: id, File: obj.File})
				injectProfile(tmpl, name, profiles[name], o, pos, id, d)
			}
			continue
		}
		name := profile.Scalar()
		p, ok := profiles[name]
		if !ok {
			at := profile.Pos
			if at.IsZero() {
				at = pos
			}
			d.Errorf(at, id+" "+AnnotationProfile, "unknown init-data profile %q (profiles in global.coco.initdata.profiles: %s)", name, strings.Join(names, ", "))
			continue
		}
		res.Uses = append(res.Uses, Use{Profile: name, Object: id, File: obj.File, Pos: profile.Pos})
		injectProfile(tmpl, name, p, o, pos, id, d)
	}
	return res, d
}

// injectProfile puts a profile's encoded init-data and its digest on a pod template and gives it the
// platform's confidential runtime class.
func injectProfile(tmpl *node.Node, name string, p Profile, o Options, pos srcpos.Pos, id string, d *diag.List) {
	if o.InitDataAnnotation == "" {
		d.Errorf(pos, id, "the cluster's Kata version reads no init-data annotation (Kata 3.16 or later is needed): set kata.version in the cluster metadata")
		return
	}
	meta, ann := templateAnnotations(tmpl)
	for _, k := range []string{initdata.AnnotationInitData, initdata.AnnotationInitDataRuntime} {
		if v := ann.Get(k); v != nil {
			what := "a value set by hand wins over profile " + name
			if k != o.InitDataAnnotation {
				what = fmt.Sprintf("the cluster's Kata reads %s instead, so this pod may start without init-data", o.InitDataAnnotation)
			}
			d.Warnf(pos, id+" "+k, "is already set on the pod template: %s", what)
		}
	}
	if !hasInitData(ann) {
		ann.Set(o.InitDataAnnotation, node.NewString(p.Encoded))
		ann.Set(AnnotationDigest, node.NewString(p.Algorithm+":"+p.Digest))
		meta.Set("annotations", node.Sorted(ann))
	}
	sizes := map[string]string{}
	for _, e := range meta.Get("annotations").Entries() {
		sizes[e.Key] = e.Value.Scalar()
	}
	if err := initdata.CheckAnnotationsSize(sizes); err != nil {
		d.Errorf(pos, id, "pod template: %v", err)
	}
	spec := tmpl.Get("spec")
	if spec == nil || spec.Kind != node.Map {
		return
	}
	defer setMemory(tmpl, o)
	switch rc := spec.Get("runtimeClassName").Scalar(); {
	case rc == "" && o.RuntimeClass == "":
		d.Errorf(pos, id, "set spec.runtimeClassName on the pod template: cocogen knows no confidential runtime class for platform %q, and without one the pod runs as an ordinary container and ignores its init-data", o.Platform)
	case rc == "":
		spec.Set("runtimeClassName", node.NewString(o.RuntimeClass))
	case rc == LocalGPURuntimeClass && o.RuntimeClass == LocalRuntimeClass:
		// A pod with a GPU on bare metal: the GPU variant of the platform's class.
	case o.RuntimeClass != "" && rc != o.RuntimeClass:
		d.Warnf(pos, id+" spec.runtimeClassName", "is %q, set by hand, and wins; confidential pods on %s use %s", rc, o.Platform, o.RuntimeClass)
	}
}

// setMemory gives a kata-cc pod template the default pod VM memory when it sets none.
func setMemory(tmpl *node.Node, o Options) {
	if o.DefaultMemory == "" || !isLocal(tmpl.Path("spec", "runtimeClassName").Scalar()) {
		return
	}
	meta, ann := templateAnnotations(tmpl)
	if ann.Get(AnnotationMemory) != nil {
		return
	}
	ann.Set(AnnotationMemory, node.NewString(o.DefaultMemory))
	meta.Set("annotations", node.Sorted(ann))
}

// markDefault handles a pod template that names no profile. A confidential one (runtime class kata-remote or
// kata-cc) gets the digest of the init-data it will run as cocogen.io/initdata-digest, so that a change of
// that init-data changes the template and rolls the pod:
//
//   - init-data set by hand on the template: the digest of that value;
//   - a peer pod (kata-remote): the digest of peer-pods-cm INITDATA (Defaults.PeerPods), which the
//     cloud-api-adaptor gives every peer pod without the annotation; the template keeps no init-data of its own;
//   - kata-cc: Kata on bare metal has no cluster default, so the caller injects the default profile
//     (Defaults.Local): markDefault returns it with ok true.
//
// Where cocogen cannot know the init-data, a warning says so.
func markDefault(tmpl *node.Node, profiles map[string]Profile, o Options, pos srcpos.Pos, id string, d *diag.List) (inject string, ok bool) {
	spec := tmpl.Get("spec")
	rc := spec.Get("runtimeClassName").Scalar()
	if !IsConfidential(rc) {
		return "", false
	}
	ann := tmpl.Get("metadata").Get("annotations")
	if hasInitData(ann) {
		for _, k := range []string{initdata.AnnotationInitData, initdata.AnnotationInitDataRuntime} {
			v := ann.Get(k)
			if v == nil {
				continue
			}
			dec, err := initdata.Decode([]byte(v.Scalar()))
			if err != nil {
				d.Warnf(pos, id+" "+k, "init-data set by hand does not decode (%v): the guest refuses it, and cocogen cannot write its digest", err)
				return "", false
			}
			setDigest(tmpl, string(dec.Algorithm)+":"+dec.Digests.Digest, pos, id, d)
			return "", false
		}
	}
	name, injected := o.Defaults.For(rc)
	p, known := profiles[name]
	switch {
	case name == "" && injected:
		d.Warnf(pos, id, "runs with runtime class %s and names no init-data profile, and there is no default profile (global.coco.initdata.default): it starts without init-data and cannot attest; name one with %s", rc, AnnotationProfile)
	case name == "":
		d.Warnf(pos, id, "runs as a peer pod (%s) with the cluster's peer-pods-cm INITDATA, which this cluster group does not render: cocogen cannot tell which init-data it runs, and a change of it does not restart the pod; name a profile with %s", rc, AnnotationProfile)
	case !known:
		// The default profile is not among the profiles: global.coco.initdata.default is reported where it
		// is written.
	case injected:
		return name, true
	default:
		setDigest(tmpl, p.Algorithm+":"+p.Digest, pos, id, d)
	}
	return "", false
}

// templateAnnotations returns a pod template's metadata, created when it is missing, and its annotations (a
// new map, not yet set, when there are none); callers set the annotations back when they change them.
func templateAnnotations(tmpl *node.Node) (meta, ann *node.Node) {
	meta = tmpl.Get("metadata")
	if meta == nil || meta.Kind != node.Map {
		meta = node.NewMap()
		tmpl.Set("metadata", meta)
	}
	ann = meta.Get("annotations")
	if ann == nil || ann.Kind != node.Map {
		ann = node.NewMap()
	}
	return meta, ann
}

// setDigest writes cocogen.io/initdata-digest on a pod template; a different value set by hand is replaced,
// with a warning.
func setDigest(tmpl *node.Node, digest string, pos srcpos.Pos, id string, d *diag.List) {
	meta, ann := templateAnnotations(tmpl)
	if v := ann.Get(AnnotationDigest); v != nil && v.Scalar() != digest {
		d.Warnf(pos, id+" "+AnnotationDigest, "is %q, set by hand; cocogen writes the digest of the init-data the pod runs with, %s", v.Scalar(), digest)
	}
	ann.Set(AnnotationDigest, node.NewString(digest))
	meta.Set("annotations", node.Sorted(ann))
}

func qualified(n *node.Node) string {
	name := n.Path("metadata", "name").Scalar()
	if ns := n.Path("metadata", "namespace").Scalar(); ns != "" {
		return ns + "/" + name
	}
	return name
}
