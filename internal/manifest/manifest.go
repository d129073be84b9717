// Package manifest holds rendered Kubernetes objects and writes them in cocogen's one output format: sorted by
// kind order, namespace and name; YAML documents separated by "---" with a "# Source:" comment that names the
// values that produced each object, or one JSON v1 List.
package manifest

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/cocogen/cocogen/internal/node"
)

// Object is one rendered Kubernetes object.
type Object struct {
	Node *node.Node
	// Source says which values produced the object: "values/values-hub.yaml:12:5 clusterGroup.applications.acm".
	Source string
	// App is the application that renders the object ("" for the app-of-apps tree).
	App string
	// Group and Cluster are the cluster group and the cluster (its metadata file clusters/<group>/<name>.yaml)
	// the object is rendered for, set when one output holds several cluster groups (render --all-groups).
	Group, Cluster string
}

// NewObject returns a new object's tree: apiVersion, kind and metadata with the name and, when not "", the
// namespace. Generators add the rest in the order the object is written.
func NewObject(apiVersion, kind, name, namespace string) *node.Node {
	meta := node.NewMapCap(3).Set("name", node.NewString(name))
	if namespace != "" {
		meta.Set("namespace", node.NewString(namespace))
	}
	return node.NewMapCap(5).Set("apiVersion", node.NewString(apiVersion)).Set("kind", node.NewString(kind)).Set("metadata", meta)
}

// APIVersion returns the object's apiVersion.
func (o Object) APIVersion() string { return o.Node.Path("apiVersion").Scalar() }

// Kind returns the object's kind.
func (o Object) Kind() string { return o.Node.Path("kind").Scalar() }

// Name returns metadata.name.
func (o Object) Name() string { return o.Node.Path("metadata", "name").Scalar() }

// Namespace returns metadata.namespace ("" for cluster-scoped objects).
func (o Object) Namespace() string { return o.Node.Path("metadata", "namespace").Scalar() }

// ID identifies an object: apiVersion, kind, namespace and name.
func (o Object) ID() string {
	return o.APIVersion() + " " + o.Kind() + " " + o.Namespace() + "/" + o.Name()
}

// kindOrder puts kinds that others depend on first, in the order Helm installs them (helm.sh/helm/v3 v3.22.1,
// pkg/releaseutil/kind_sorter.go, InstallOrder; checked against it by e2e/helmoracle), then every other kind
// alphabetically, as Helm sorts unknown kinds.
var kindOrder = func() map[string]int {
	kinds := []string{"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
		"PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap",
		"StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
		"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
		"RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
		"HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService"}
	m := make(map[string]int, len(kinds))
	for i, k := range kinds {
		m[k] = i
	}
	return m
}()

func kindRank(kind string) int {
	if r, ok := kindOrder[kind]; ok {
		return r
	}
	return len(kindOrder)
}

// Sort orders objects deterministically: by kind rank, kind, namespace, name, then apiVersion. The keys are
// read once per object, and the sort moves indices, not objects.
func Sort(objs []Object) { copy(objs, Sorted(objs)) }

// Sorted returns the objects in Sort's order in a new slice; it only reads objs, so others may read them
// meanwhile.
func Sorted(objs []Object) []Object {
	type key struct {
		rank                              int
		kind, namespace, name, apiVersion string
	}
	keys := make([]key, len(objs))
	order := make([]int32, len(objs))
	for i, o := range objs {
		kind := o.Kind()
		keys[i] = key{kindRank(kind), kind, o.Namespace(), o.Name(), o.APIVersion()}
		order[i] = int32(i)
	}
	slices.SortStableFunc(order, func(i, j int32) int {
		a, b := &keys[i], &keys[j]
		if a.rank != b.rank {
			return cmp.Compare(a.rank, b.rank)
		}
		if a.kind != b.kind {
			return strings.Compare(a.kind, b.kind)
		}
		if a.namespace != b.namespace {
			return strings.Compare(a.namespace, b.namespace)
		}
		if a.name != b.name {
			return strings.Compare(a.name, b.name)
		}
		return strings.Compare(a.apiVersion, b.apiVersion)
	})
	sorted := make([]Object, len(objs))
	for i, j := range order {
		sorted[i] = objs[j]
	}
	return sorted
}

// A Repeat is an object ID that two rendered objects share. The Validated Patterns clustergroup chart can
// render the same object twice (an imperative service account named like the admin one); Argo CD then applies
// it once and warns about the repeated resource. Identical repeats are written once; different ones cannot be
// applied and are the caller's error.
type Repeat struct {
	ID            string
	First, Second Object
	// Same says both render the same content; Diff is then empty, else it names the first field that differs
	// ("metadata.labels.app").
	Same bool
	Diff string
}

// Dedupe removes from sorted objects every object that repeats an earlier one identically, and returns the
// objects left and every repeat, identical or not, in output order.
func Dedupe(objs []Object) ([]Object, []Repeat) {
	// Most renders repeat nothing: look before building anything.
	repeats := false
	for i := 1; i < len(objs) && !repeats; i++ {
		repeats = sameID(objs[i-1], objs[i])
	}
	if !repeats {
		return objs, nil
	}
	var reps []Repeat
	out := objs[:0:0]
	for i, o := range objs {
		if i > 0 && o.ID() == objs[i-1].ID() {
			// Compare with the first object of the run: that is the one that is kept.
			first := out[len(out)-1]
			for j := len(out) - 1; j >= 0 && out[j].ID() == o.ID(); j-- {
				first = out[j]
			}
			diff, same := firstDiff(first.Node, o.Node, "")
			reps = append(reps, Repeat{ID: o.ID(), First: first, Second: o, Same: same, Diff: diff})
			if same {
				continue
			}
		}
		out = append(out, o)
	}
	if len(reps) == 0 {
		return objs, nil
	}
	return out, reps
}

// sameID reports whether a and b have the same ID, without building it.
func sameID(a, b Object) bool {
	return a.Kind() == b.Kind() && a.Name() == b.Name() && a.Namespace() == b.Namespace() && a.APIVersion() == b.APIVersion()
}

// firstDiff compares two objects as the API server would (map keys in any order, list items in order, scalars
// by kind and text) and returns the path of the first difference.
func firstDiff(a, b *node.Node, at string) (string, bool) {
	join := func(k string) string {
		if at == "" {
			return k
		}
		return at + "." + k
	}
	if a.IsNull() || b.IsNull() {
		return at, a.IsNull() && b.IsNull()
	}
	if a.Kind != b.Kind {
		return at, false
	}
	switch a.Kind {
	case node.Map:
		if a.Len() != b.Len() {
			for _, e := range a.Entries() {
				if _, ok := b.Lookup(e.Key); !ok {
					return join(e.Key), false
				}
			}
			for _, e := range b.Entries() {
				if _, ok := a.Lookup(e.Key); !ok {
					return join(e.Key), false
				}
			}
		}
		keys := make([]string, 0, a.Len())
		for _, e := range a.Entries() {
			keys = append(keys, e.Key)
		}
		slices.Sort(keys)
		for _, k := range keys {
			bv, ok := b.Lookup(k)
			if !ok {
				return join(k), false
			}
			av, _ := a.Lookup(k)
			if d, same := firstDiff(av, bv, join(k)); !same {
				return d, false
			}
		}
		return "", true
	case node.List:
		ai, bi := a.Items(), b.Items()
		for i := range min(len(ai), len(bi)) {
			if d, same := firstDiff(ai[i], bi[i], fmt.Sprintf("%s[%d]", at, i)); !same {
				return d, false
			}
		}
		if len(ai) != len(bi) {
			return fmt.Sprintf("%s[%d]", at, min(len(ai), len(bi))), false
		}
		return "", true
	}
	if a.Text != b.Text {
		return at, false
	}
	return "", true
}

// Formats lists the manifest output formats.
var Formats = []string{"yaml", "json"}

// Encode writes objects in the given format.
func Encode(buf *bytes.Buffer, format string, objs []Object) error {
	switch format {
	case "yaml":
		EncodeYAML(buf, objs)
		return nil
	case "json":
		return EncodeJSON(buf, objs)
	}
	return fmt.Errorf("unknown output format %q (valid: %s)", format, strings.Join(Formats, ", "))
}

// EncodeYAML writes a YAML stream into buf: every document starts with "---" and a "# Source:" comment. It is
// WriteYAML into a buffer: large streams are encoded in parallel chunks and appended in order, so the bytes
// are the same as a sequential encoding.
func EncodeYAML(buf *bytes.Buffer, objs []Object) {
	_ = WriteYAML(buf, objs) // a bytes.Buffer takes every write (or panics when out of memory)
}

// WriteYAML writes the YAML stream of EncodeYAML to w as it is encoded (render's and generate's standard
// output). Large streams are encoded in chunks on every processor and written in order, so the bytes are the
// same as a sequential encoding; at most a few chunks are held at a time, never the whole stream. Encoding
// cannot fail: an error is w's.
func WriteYAML(w io.Writer, objs []Object) error {
	// Small chunks keep the buffers in flight small (about 150 KB each): fresh memory is what costs most in a
	// short-lived process.
	const perChunk = 64
	chunks := (len(objs) + perChunk - 1) / perChunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		var buf bytes.Buffer
		buf.Grow(len(objs) * bytesPerObject)
		encodeChunk(&buf, objs)
		_, err := w.Write(buf.Bytes())
		return err
	}
	// Chunk i is encoded into a buffer taken from free and handed over on done[i]; the writer returns the
	// buffer once written. With 2 buffers per worker, encoding runs ahead of writing by at most that much.
	done := make([]chan *bytes.Buffer, chunks)
	for i := range done {
		done[i] = make(chan *bytes.Buffer, 1)
	}
	free := make(chan *bytes.Buffer, 2*workers)
	for range 2 * workers {
		b := new(bytes.Buffer)
		b.Grow(perChunk * bytesPerObject)
		free <- b
	}
	next := make(chan int, chunks)
	for i := range chunks {
		next <- i
	}
	close(next)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for {
				// Take a buffer before a chunk: the lowest chunk not yet written then always has a buffer.
				var b *bytes.Buffer
				select {
				case b = <-free:
				case <-stop:
					return
				}
				i, ok := <-next
				if !ok {
					return
				}
				b.Reset()
				encodeChunk(b, objs[i*perChunk:min((i+1)*perChunk, len(objs))])
				done[i] <- b
			}
		})
	}
	var err error
	for i := range chunks {
		b := <-done[i]
		if err == nil {
			_, err = w.Write(b.Bytes())
		}
		if err != nil {
			close(stop)
			break
		}
		free <- b
	}
	wg.Wait()
	return err
}

// bytesPerObject is a generous guess of an encoded object's size (an Application is about 3 KB, a Namespace 200 bytes), so buffers
// rarely grow while encoding.
const bytesPerObject = 2048

func encodeChunk(buf *bytes.Buffer, objs []Object) {
	enc := node.NewYAMLEncoder(buf)
	for _, o := range objs {
		encodeDoc(buf, enc, o)
	}
}

// EncodeOneYAML writes one object as a YAML document.
func EncodeOneYAML(buf *bytes.Buffer, o Object) {
	encodeDoc(buf, node.NewYAMLEncoder(buf), o)
}

func encodeDoc(buf *bytes.Buffer, enc *node.YAMLEncoder, o Object) {
	buf.WriteString("---\n")
	for _, c := range [...]struct{ label, text string }{
		{"# Cluster group: ", o.Group}, {"# Cluster: ", o.Cluster}, {"# Application: ", o.App}, {"# Source: ", o.Source},
	} {
		if c.text != "" {
			buf.WriteString(c.label)
			buf.WriteString(strings.ReplaceAll(c.text, "\n", " "))
			buf.WriteByte('\n')
		}
	}
	enc.Encode(o.Node)
}

// EncodeJSON writes the objects as one Kubernetes v1 List (what kubectl prints for several objects).
func EncodeJSON(buf *bytes.Buffer, objs []Object) error {
	items := node.NewList()
	for _, o := range objs {
		items.Append(o.Node)
	}
	list := node.NewMap().Set("apiVersion", node.NewString("v1")).Set("kind", node.NewString("List")).Set("items", items)
	if err := node.EncodeJSON(buf, list, 0); err != nil {
		return err
	}
	buf.WriteByte('\n')
	return nil
}

// FileName is the path, relative to an output directory, that one object is written to:
// <namespace or _cluster>/<kind>-<name>.yaml for the tree, _apps/<application>/<same> for an application's
// objects (no namespace starts with _, so the two never meet); in a render of several cluster groups, under
// _groups/<group>/ (and _clusters/<cluster>/ for a cluster of the group with its own metadata file).
func FileName(o Object, ext string) string {
	ns := o.Namespace()
	if ns == "" {
		ns = "_cluster"
	}
	name := safe(ns) + "/" + strings.ToLower(safe(o.Kind())) + "-" + safe(o.Name()) + "." + ext
	if o.App != "" {
		name = "_apps/" + safe(o.App) + "/" + name
	}
	if o.Cluster != "" {
		name = "_clusters/" + safe(o.Cluster) + "/" + name
	}
	if o.Group != "" {
		name = "_groups/" + safe(o.Group) + "/" + name
	}
	return name
}

// safe keeps a name usable as one path segment.
func safe(s string) string {
	if s == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r == '_' {
			return r
		}
		return '_'
	}, strings.TrimLeft(s, "."))
}
