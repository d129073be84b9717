// Package bootstrap builds the objects that start cocogen on an empty OpenShift cluster: the OpenShift GitOps
// operator, an Argo CD instance whose repo-server runs cocogen as a config management plugin sidecar, and
// the root Application that renders the user's fork. It also builds the pieces for an existing instance (the
// sidecar, its ConfigMap, the ArgoCD patch, the Validated Patterns values): deploy/ holds them, written from
// here, so the files cannot drift from what `cocogen bootstrap` applies.
package bootstrap

import (
	"errors"
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

// PluginName is the config management plugin's name (plugin.yaml metadata.name, no spec.version): the
// sidecar's socket is cocogen.sock and Applications say spec.source.plugin.name: cocogen.
const PluginName = "cocogen"

// ConfigMapName is the ConfigMap that carries plugin.yaml; the Validated Patterns clustergroup chart names
// a plugin's ConfigMap argocd-cmp-<plugin>, and so does cocogen.
const ConfigMapName = "argocd-cmp-" + PluginName

// Defaults of Options.
const (
	DefaultArgoNamespace   = "vp-gitops"
	DefaultGitOpsNamespace = "openshift-gitops-operator"
	DefaultChannel         = "gitops-1.21"
	DefaultRevision        = "main"
	DefaultName            = "cocogen"
)

// Options say what to bootstrap.
type Options struct {
	// RepoURL and Revision are the Git repository (the user's fork) and branch the root Application renders.
	RepoURL, Revision string
	// ClusterGroup is the cluster group the root Application renders; empty means main.clusterGroupName.
	ClusterGroup string
	// Image is the cocogen sidecar image.
	Image string
	// Name is the root Application's name.
	Name string
	// ArgoNamespace is the namespace of the Argo CD instance (also its name) and of the Applications; it must
	// be the pattern's global.vpArgoNamespace, where the rendered child Applications live.
	ArgoNamespace string
	// GitOpsNamespace and Channel place and pin the OpenShift GitOps operator.
	GitOpsNamespace, Channel string
	// PluginYAML is the content of plugin.yaml.
	PluginYAML []byte
	// Env are plugin env entries of the root Application after COCOGEN_CLUSTER_GROUP (a hub's ACM policy
	// names the spoke's cluster with COCOGEN_CLUSTER).
	Env []EnvVar
}

// EnvVar is one spec.source.plugin.env entry.
type EnvVar struct{ Name, Value string }

func (o *Options) defaults() {
	if o.Revision == "" {
		o.Revision = DefaultRevision
	}
	if o.Name == "" {
		o.Name = DefaultName
	}
	if o.ArgoNamespace == "" {
		o.ArgoNamespace = DefaultArgoNamespace
	}
	if o.GitOpsNamespace == "" {
		o.GitOpsNamespace = DefaultGitOpsNamespace
	}
	if o.Channel == "" {
		o.Channel = DefaultChannel
	}
}

func (o *Options) validate() error {
	var errs []error
	if o.RepoURL == "" {
		errs = append(errs, errors.New("the repository URL is required (--repo-url): the Git repository Argo CD renders, usually your fork"))
	}
	if o.Image == "" {
		errs = append(errs, errors.New("the sidecar image is required (--image): cocogen built from Containerfile and pushed to a registry the cluster can pull from"))
	}
	if len(o.PluginYAML) == 0 {
		errs = append(errs, errors.New("plugin.yaml is empty"))
	}
	return errors.Join(errs...)
}

// Objects returns everything that bootstrap applies, sorted as cocogen sorts output.
func Objects(o Options) ([]manifest.Object, error) {
	o.defaults()
	if err := o.validate(); err != nil {
		return nil, err
	}
	src := "cocogen bootstrap"
	objs := []manifest.Object{
		{Node: namespace(o.GitOpsNamespace), Source: src},
		{Node: operatorGroup(o.GitOpsNamespace), Source: src},
		{Node: subscription(o), Source: src},
		{Node: namespace(o.ArgoNamespace), Source: src},
		{Node: ConfigMap(o.ArgoNamespace, o.PluginYAML), Source: src},
		{Node: argoCD(o), Source: src},
		{Node: clusterRoleBinding(o.ArgoNamespace), Source: src},
		{Node: rootApplication(o), Source: src},
	}
	manifest.Sort(objs)
	return objs, nil
}

// Spoke returns what brings cocogen up on a cluster that a hub manages, in the three steps a hub's ACM
// policies deliver: the OpenShift GitOps operator (its namespace, OperatorGroup and Subscription), the Argo CD
// instance with the cocogen sidecar (its namespace, the plugin ConfigMap, the ArgoCD and the cluster-admin
// binding), and the root Application. They are the objects of Objects, so a spoke runs the same sidecar as a
// cluster bootstrapped by hand.
func Spoke(o Options) (operator, argo, root []*node.Node, err error) {
	o.defaults()
	if err := o.validate(); err != nil {
		return nil, nil, nil, err
	}
	operator = []*node.Node{namespace(o.GitOpsNamespace), operatorGroup(o.GitOpsNamespace), subscription(o)}
	argo = []*node.Node{namespace(o.ArgoNamespace), ConfigMap(o.ArgoNamespace, o.PluginYAML), argoCD(o), clusterRoleBinding(o.ArgoNamespace)}
	return operator, argo, []*node.Node{rootApplication(o)}, nil
}

// m builds a map from alternating keys and values, keeping their order. A value is a string, bool, int,
// *node.Node, or nil (omitted).
func m(kv ...any) *node.Node {
	n := node.NewMap()
	for i := 0; i+1 < len(kv); i += 2 {
		if v := value(kv[i+1]); v != nil {
			n.Set(kv[i].(string), v)
		}
	}
	return n
}

// l builds a list.
func l(items ...any) *node.Node {
	n := node.NewList()
	for _, it := range items {
		n.Append(value(it))
	}
	return n
}

func value(v any) *node.Node {
	switch v := v.(type) {
	case nil:
		return nil
	case string:
		return node.NewString(v)
	case bool:
		return node.NewBool(v)
	case int:
		return node.NewInt(int64(v))
	case *node.Node:
		return v
	}
	panic(fmt.Sprintf("bootstrap: unsupported value %T", v))
}

func meta(name, ns string) *node.Node {
	if ns == "" {
		return m("name", name)
	}
	return m("name", name, "namespace", ns)
}

func namespace(name string) *node.Node {
	return m("apiVersion", "v1", "kind", "Namespace", "metadata", meta(name, ""))
}

// operatorGroup lets the GitOps operator watch all namespaces (it supports no other install mode).
func operatorGroup(ns string) *node.Node {
	return m("apiVersion", "operators.coreos.com/v1", "kind", "OperatorGroup", "metadata", meta(ns, ns), "spec", node.NewMap())
}

// subscription installs OpenShift GitOps with the Argo CD instance in ArgoNamespace made cluster-scoped
// (it creates cluster-wide objects: Namespaces, Subscriptions) and without the default instance, as the
// Validated Patterns operator does when its instance is not openshift-gitops.
func subscription(o Options) *node.Node {
	return m("apiVersion", "operators.coreos.com/v1alpha1", "kind", "Subscription",
		"metadata", meta("openshift-gitops-operator", o.GitOpsNamespace),
		"spec", m(
			"name", "openshift-gitops-operator",
			"source", "redhat-operators",
			"sourceNamespace", "openshift-marketplace",
			"channel", o.Channel,
			"installPlanApproval", "Automatic",
			"config", m("env", l(
				m("name", "ARGOCD_CLUSTER_CONFIG_NAMESPACES", "value", o.ArgoNamespace),
				m("name", "DISABLE_DEFAULT_ARGOCD_INSTANCE", "value", "true"),
			)),
		))
}

// ConfigMap carries plugin.yaml to the sidecar.
func ConfigMap(ns string, pluginYAML []byte) *node.Node {
	return m("apiVersion", "v1", "kind", "ConfigMap", "metadata", meta(ConfigMapName, ns),
		"data", m("plugin.yaml", string(pluginYAML)))
}

// Sidecar is the cocogen container of the repo-server pod. Its command is the argocd-cmp-server binary that
// the operator's copyutil init container copies from the Argo CD image into the var-files volume (so the
// server always matches the Argo CD version); plugins is the volume whose sockets the repo-server dials.
// Both volumes and copyutil belong to the repo-server Deployment that the operator (and upstream Argo CD's
// manifests) create. The sidecar writes only to its own /tmp (cmp-tmp: never the repo-server's, whose
// checkouts it must not see) and runs with a read-only root filesystem. No runAsUser: OpenShift's
// restricted SCC assigns the user; elsewhere the image's user 999 applies.
func Sidecar(image string) *node.Node {
	return m(
		"name", PluginName,
		"image", image,
		"command", l("/var/run/argocd/argocd-cmp-server"),
		"resources", m(
			"requests", m("cpu", "100m", "memory", "128Mi"),
			"limits", m("memory", "512Mi"),
		),
		"securityContext", m(
			"runAsNonRoot", true,
			"readOnlyRootFilesystem", true,
			"allowPrivilegeEscalation", false,
			"capabilities", m("drop", l("ALL")),
		),
		"volumeMounts", l(
			m("name", "var-files", "mountPath", "/var/run/argocd"),
			m("name", "plugins", "mountPath", "/home/argocd/cmp-server/plugins"),
			m("name", "cmp-tmp", "mountPath", "/tmp"),
			m("name", ConfigMapName, "mountPath", "/home/argocd/cmp-server/config/plugin.yaml", "subPath", "plugin.yaml"),
		),
	)
}

// Volumes are the volumes the sidecar adds to the repo-server pod (var-files and plugins already exist).
func Volumes() *node.Node {
	return l(
		m("name", "cmp-tmp", "emptyDir", node.NewMap()),
		m("name", ConfigMapName, "configMap", m("name", ConfigMapName)),
	)
}

// ArgoCDPatch is a merge patch for an existing ArgoCD instance that adds the sidecar. A merge patch replaces
// lists: spec.repo.sidecarContainers and spec.repo.volumes must not hold anything else already.
func ArgoCDPatch(image string) *node.Node {
	return m("spec", m("repo", m("sidecarContainers", l(Sidecar(image)), "volumes", Volumes())))
}

// argoCD is the Argo CD instance: the sidecar on the repo-server, a route for the UI, and OpenShift login
// where cluster admins are Argo CD admins.
func argoCD(o Options) *node.Node {
	return m("apiVersion", "argoproj.io/v1beta1", "kind", "ArgoCD",
		"metadata", meta(o.ArgoNamespace, o.ArgoNamespace),
		"spec", m(
			"server", m("route", m("enabled", true, "tls", m("termination", "reencrypt", "insecureEdgeTerminationPolicy", "Redirect"))),
			"sso", m("provider", "dex", "dex", m("openShiftOAuth", true)),
			"rbac", m("defaultPolicy", "role:readonly", "policy", "g, system:cluster-admins, role:admin\ng, cluster-admins, role:admin\n", "scopes", "[groups]"),
			"repo", m("sidecarContainers", l(Sidecar(o.Image)), "volumes", Volumes()),
		))
}

// clusterRoleBinding makes the instance's application controller cluster-admin, as the Validated Patterns
// clustergroup chart does: the pattern installs operators and their cluster-scoped objects.
func clusterRoleBinding(ns string) *node.Node {
	return m("apiVersion", "rbac.authorization.k8s.io/v1", "kind", "ClusterRoleBinding",
		"metadata", meta(ns+"-cluster-admin-rolebinding", ""),
		"roleRef", m("apiGroup", "rbac.authorization.k8s.io", "kind", "ClusterRole", "name", "cluster-admin"),
		"subjects", l(m("kind", "ServiceAccount", "name", ns+"-argocd-application-controller", "namespace", ns)),
	)
}

// rootApplication renders the cluster group's app-of-apps tree from the fork with the cocogen plugin. It
// syncs automatically but does not prune, and has no finalizer: deleting it leaves the pattern running.
func rootApplication(o Options) *node.Node {
	plugin := m("name", PluginName)
	if o.ClusterGroup != "" {
		env := l(m("name", "COCOGEN_CLUSTER_GROUP", "value", o.ClusterGroup))
		for _, e := range o.Env {
			env.Append(m("name", e.Name, "value", e.Value))
		}
		plugin = m("name", PluginName, "env", env)
	}
	return m("apiVersion", "argoproj.io/v1alpha1", "kind", "Application",
		"metadata", meta(o.Name, o.ArgoNamespace),
		"spec", m(
			"project", "default",
			"destination", m("name", "in-cluster", "namespace", o.ArgoNamespace),
			"source", m("repoURL", o.RepoURL, "targetRevision", o.Revision, "path", ".", "plugin", plugin),
			"syncPolicy", m("automated", m("selfHeal", true), "retry", m("limit", 20)),
		))
}

// ValidatedPatternsValues is the values snippet that adds the sidecar to a Validated Patterns pattern whose
// clustergroup chart renders the Argo CD instance (clusterGroup.argoCD.configManagementPlugins).
func ValidatedPatternsValues(image string, pluginYAML []byte) *node.Node {
	return m("clusterGroup", m("argoCD", m("configManagementPlugins", l(m(
		"name", PluginName,
		"image", image,
		"pluginConfig", string(pluginYAML),
	)))))
}

// CheckPluginYAML reports what would break the sidecar's plugin.yaml when it travels through the clustergroup
// chart, which renders pluginConfig as a template.
func CheckPluginYAML(pluginYAML []byte) error {
	if strings.Contains(string(pluginYAML), "{{") {
		return errors.New("plugin.yaml must not contain {{: the clustergroup chart renders pluginConfig as a Helm template")
	}
	return nil
}
