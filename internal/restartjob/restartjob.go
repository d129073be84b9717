// Package restartjob builds the objects of the small jobs that carry a change to a component that reads its
// configuration only at start (the cloud-api-adaptor, the KBS): a ServiceAccount, a Role that allows exactly
// the requests of the job's script on exactly the named objects, its RoleBinding, and a pod template that runs
// the script as an unprivileged user under the restricted pod security profile.
//
// The generators that use it (peerpods, trustee) write the scripts; this package only makes the objects.
package restartjob

import (
	"github.com/cocogen/cocogen/internal/node"
)

// Rule is one Role rule: verbs on the named objects of one resource.
type Rule struct {
	APIGroup string // "" for the core group
	Resource string
	Names    []string
	Verbs    []string
}

// Env is one environment variable of the job's container.
type Env struct {
	Name, Value string
}

// Spec describes one job.
type Spec struct {
	// Namespace is where the job, its ServiceAccount and its Role live; Name names all three.
	Namespace string
	Name      string
	Rules     []Rule
	// Image runs Script with bash; Env are its variables (NAMESPACE is always set to Namespace).
	Image  string
	Script string
	Env    []Env
}

func str(s string) *node.Node { return node.NewString(s) }

func strs(ss []string) *node.Node {
	l := node.NewList()
	for _, s := range ss {
		l.Append(str(s))
	}
	return l
}

func meta(namespace, name string) *node.Node {
	return node.NewMap().Set("name", str(name)).Set("namespace", str(namespace))
}

// RBAC returns the ServiceAccount, the Role and the RoleBinding of the job. The Role names every object it
// allows (resourceNames), so the job can touch nothing else, not even list what else exists.
func RBAC(s Spec) []*node.Node {
	sa := node.NewMap().
		Set("apiVersion", str("v1")).
		Set("kind", str("ServiceAccount")).
		Set("metadata", meta(s.Namespace, s.Name))
	rules := node.NewList()
	for _, r := range s.Rules {
		rules.Append(node.NewMap().
			Set("apiGroups", strs([]string{r.APIGroup})).
			Set("resources", strs([]string{r.Resource})).
			Set("resourceNames", strs(r.Names)).
			Set("verbs", strs(r.Verbs)))
	}
	role := node.NewMap().
		Set("apiVersion", str("rbac.authorization.k8s.io/v1")).
		Set("kind", str("Role")).
		Set("metadata", meta(s.Namespace, s.Name)).
		Set("rules", rules)
	binding := node.NewMap().
		Set("apiVersion", str("rbac.authorization.k8s.io/v1")).
		Set("kind", str("RoleBinding")).
		Set("metadata", meta(s.Namespace, s.Name)).
		Set("roleRef", node.NewMap().Set("apiGroup", str("rbac.authorization.k8s.io")).Set("kind", str("Role")).Set("name", str(s.Name))).
		Set("subjects", node.NewList(node.NewMap().Set("kind", str("ServiceAccount")).Set("name", str(s.Name)).Set("namespace", str(s.Namespace))))
	return []*node.Node{sa, role, binding}
}

// PodTemplate returns the pod template that runs the script: restartPolicy Never, the job's ServiceAccount,
// a non-root user with no capabilities and no privilege escalation, a read-only root file system with an
// in-memory /tmp as HOME (where oc keeps its cache), and small resource requests.
func PodTemplate(s Spec) *node.Node {
	env := node.NewList(node.NewMap().Set("name", str("HOME")).Set("value", str("/tmp")),
		node.NewMap().Set("name", str("NAMESPACE")).Set("value", str(s.Namespace)))
	for _, e := range s.Env {
		env.Append(node.NewMap().Set("name", str(e.Name)).Set("value", str(e.Value)))
	}
	container := node.NewMap().
		Set("name", str(s.Name)).
		Set("image", str(s.Image)).
		Set("command", strs([]string{"/bin/bash", "-c", s.Script})).
		Set("env", env).
		Set("resources", node.NewMap().
			Set("limits", node.NewMap().Set("memory", str("256Mi"))).
			Set("requests", node.NewMap().Set("cpu", str("10m")).Set("memory", str("64Mi")))).
		Set("securityContext", node.NewMap().
			Set("allowPrivilegeEscalation", node.NewBool(false)).
			Set("capabilities", node.NewMap().Set("drop", strs([]string{"ALL"}))).
			Set("readOnlyRootFilesystem", node.NewBool(true)).
			Set("runAsNonRoot", node.NewBool(true))).
		Set("volumeMounts", node.NewList(node.NewMap().Set("mountPath", str("/tmp")).Set("name", str("tmp"))))
	return node.NewMap().
		Set("metadata", node.NewMap().Set("labels", node.NewMap().Set("app.kubernetes.io/name", str(s.Name)))).
		Set("spec", node.NewMap().
			Set("containers", node.NewList(container)).
			Set("restartPolicy", str("Never")).
			Set("securityContext", node.NewMap().
				Set("runAsNonRoot", node.NewBool(true)).
				Set("seccompProfile", node.NewMap().Set("type", str("RuntimeDefault")))).
			Set("serviceAccountName", str(s.Name)).
			Set("volumes", node.NewList(node.NewMap().
				Set("emptyDir", node.NewMap().Set("medium", str("Memory")).Set("sizeLimit", str("16Mi"))).
				Set("name", str("tmp")))))
}
