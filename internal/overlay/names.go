package overlay

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
)

// Object names become file names and URL path segments in tools that handle the output (cocogen's own
// --output-dir among them), so a name such as ../../.. is refused where it is written, as the API server
// would refuse it at apply time.

// rbacKinds are named by path segments (system:aggregate-to-edit) rather than DNS subdomains.
var rbacKinds = map[string]bool{"Role": true, "ClusterRole": true, "RoleBinding": true, "ClusterRoleBinding": true}

// nameProblem says what is wrong with the name of an object of kind, or "".
func nameProblem(apiVersion, kind, name string) string {
	if rbacKinds[kind] && strings.HasPrefix(apiVersion, "rbac.authorization.k8s.io/") {
		switch {
		case name == "." || name == "..":
			return "is not a valid name: it may not be . or .."
		case strings.ContainsAny(name, "/%"):
			return "is not a valid name: it may not contain / or %"
		}
		return ""
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return "is not a valid Kubernetes name: " + strings.Join(errs, "; ")
	}
	return ""
}

// namespaceProblem says what is wrong with a namespace name, or "".
func namespaceProblem(ns string) string {
	if errs := validation.IsDNS1123Label(ns); len(errs) > 0 {
		return "is not a valid namespace name: " + strings.Join(errs, "; ")
	}
	return ""
}

// affixProblem says what is wrong with a namePrefix or nameSuffix, or "": it may only hold the characters of a
// DNS subdomain.
func affixProblem(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return "may only hold lowercase letters, digits, '-' and '.': it becomes part of object names"
		}
	}
	return ""
}

// checkNames reports an object whose metadata.name or metadata.namespace is not a valid name, at the line
// that writes it.
func checkNames(d *diag.List, obj *node.Node) {
	meta := obj.Get("metadata")
	kind := obj.Get("kind").Scalar()
	// kustomize reads YAML 1.2: a scalar's name is its text as written.
	if n := meta.Get("name"); n.IsScalar() && n.Src != "" {
		if msg := nameProblem(obj.Get("apiVersion").Scalar(), kind, n.Src); msg != "" {
			d.Errorf(n.Pos, kind+" metadata.name", "%q %s", n.Src, msg)
		}
	}
	if ns := meta.Get("namespace"); ns.IsScalar() && ns.Src != "" {
		if msg := namespaceProblem(ns.Src); msg != "" {
			d.Errorf(ns.Pos, kind+" metadata.namespace", "%q %s", ns.Src, msg)
		}
	}
}
