// Package manifest holds rendered Kubernetes objects and writes them in cocogen's one output format: sorted by
// kind order, namespace and name; YAML documents separated by "---" with a "# Source:" comment that names the
// values that produced each object, or one JSON v1 List.
package manifest

import (
	"bytes"
	"cmp"
	"fmt"
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

// Sort orders objects deterministically: by kind rank, kind, namespace, name, then apiVersion.
func Sort(objs []Object) {
	type keyed struct {
		rank                              int
		kind, namespace, name, apiVersion string
		obj                               Object
	}
	ks := make([]keyed, len(objs))
	for i, o := range objs {
		ks[i] = keyed{kindRank(o.Kind()), o.Kind(), o.Namespace(), o.Name(), o.APIVersion(), o}
	}
	slices.SortStableFunc(ks, func(a, b keyed) int {
		return cmp.Or(
			cmp.Compare(a.rank, b.rank),
			cmp.Compare(a.kind, b.kind),
			cmp.Compare(a.namespace, b.namespace),
			cmp.Compare(a.name, b.name),
			cmp.Compare(a.apiVersion, b.apiVersion),
		)
	})
	for i := range ks {
		objs[i] = ks[i].obj
	}
}

// Duplicates returns the IDs that occur more than once (after Sort, neighbours share IDs).
func Duplicates(objs []Object) []string {
	var dups []string
	for i := 1; i < len(objs); i++ {
		if objs[i].ID() == objs[i-1].ID() && (len(dups) == 0 || dups[len(dups)-1] != objs[i].ID()) {
			dups = append(dups, objs[i].ID())
		}
	}
	return dups
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

// EncodeYAML writes a YAML stream: every document starts with "---" and a "# Source:" comment. Large streams
// are encoded in parallel chunks and joined in order, so the bytes are the same as a sequential encoding.
func EncodeYAML(buf *bytes.Buffer, objs []Object) {
	const perChunk = 256
	chunks := (len(objs) + perChunk - 1) / perChunk
	workers := min(runtime.GOMAXPROCS(0), chunks)
	if workers <= 1 {
		buf.Grow(len(objs) * bytesPerObject)
		encodeChunk(buf, objs)
		return
	}
	parts := make([]bytes.Buffer, chunks)
	var wg sync.WaitGroup
	next := make(chan int, chunks)
	for i := range chunks {
		next <- i
	}
	close(next)
	for range workers {
		wg.Go(func() {
			for i := range next {
				part := objs[i*perChunk : min((i+1)*perChunk, len(objs))]
				parts[i].Grow(len(part) * bytesPerObject)
				encodeChunk(&parts[i], part)
			}
		})
	}
	wg.Wait()
	total := 0
	for i := range parts {
		total += parts[i].Len()
	}
	buf.Grow(total)
	for i := range parts {
		buf.Write(parts[i].Bytes())
	}
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
	if o.App != "" {
		buf.WriteString("# Application: ")
		buf.WriteString(o.App)
		buf.WriteByte('\n')
	}
	if o.Source != "" {
		buf.WriteString("# Source: ")
		buf.WriteString(strings.ReplaceAll(o.Source, "\n", " "))
		buf.WriteByte('\n')
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
// objects (no namespace starts with _, so the two never meet).
func FileName(o Object, ext string) string {
	ns := o.Namespace()
	if ns == "" {
		ns = "_cluster"
	}
	name := safe(ns) + "/" + strings.ToLower(safe(o.Kind())) + "-" + safe(o.Name()) + "." + ext
	if o.App != "" {
		name = "_apps/" + safe(o.App) + "/" + name
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
