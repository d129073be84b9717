// Package manifest holds rendered Kubernetes objects and writes them in cocogen's one output format: sorted by
// kind order, namespace and name; YAML documents separated by "---" with a "# Source:" comment that names the
// values that produced each object, or one JSON v1 List.
package manifest

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/node"
)

// Object is one rendered Kubernetes object.
type Object struct {
	Node *node.Node
	// Source says which values produced the object: "values/values-hub.yaml:12:5 clusterGroup.applications.acm".
	Source string
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

// kindOrder puts kinds that others depend on first (the order Helm installs in), then everything else
// alphabetically.
var kindOrder = func() map[string]int {
	kinds := []string{"Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget",
		"ServiceAccount", "Secret", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
		"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service",
		"DaemonSet", "Pod", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job",
		"CronJob", "IngressClass", "Ingress", "APIService"}
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
	slices.SortStableFunc(objs, func(a, b Object) int {
		return cmp.Or(
			cmp.Compare(kindRank(a.Kind()), kindRank(b.Kind())),
			cmp.Compare(a.Kind(), b.Kind()),
			cmp.Compare(a.Namespace(), b.Namespace()),
			cmp.Compare(a.Name(), b.Name()),
			cmp.Compare(a.APIVersion(), b.APIVersion()),
		)
	})
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

// EncodeYAML writes a YAML stream: every document starts with "---" and a "# Source:" comment.
func EncodeYAML(buf *bytes.Buffer, objs []Object) {
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
// <namespace or _cluster>/<kind>-<name>.yaml.
func FileName(o Object, ext string) string {
	ns := o.Namespace()
	if ns == "" {
		ns = "_cluster"
	}
	return safe(ns) + "/" + strings.ToLower(safe(o.Kind())) + "-" + safe(o.Name()) + "." + ext
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
