package appofapps

import (
	"strings"
	"unicode"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/tpl"
)

// The Argo CD plumbing of the clustergroup chart: the per-cluster-group Argo CD instance (when
// global.singleArgoCD is false) with its namespace, console link and cluster-admin binding; the binding of the
// cluster-wide instance; the trusted CA bundle; and the ConfigMaps of config management plugins.

func (r *renderer) plumbing() {
	g := r.global
	vpArgo := tpl.HelmString(g("vpArgoNamespace"))
	cg := &r.v.ClusterGroup
	pos := r.v.Tree.Path("clusterGroup", "argoCD").PosOr(r.v.Tree.Pos)
	groupNS := r.v.Global.Pattern + "-" + cg.Name

	r.emit(object("v1", "ConfigMap").
		Set("metadata", node.NewMap().Set("name", str("trusted-ca-bundle")).Set("namespace", str(r.argoNS)).
			Set("labels", node.NewMap().Set("config.openshift.io/inject-trusted-cabundle", str("true")))), pos, "clusterGroup")
	r.emit(clusterAdminBinding(vpArgo+"-cluster-admin-rolebinding", vpArgo, vpArgo+"-argocd-application-controller", vpArgo+"-argocd-server"),
		r.v.Global.Tree.Pos, "global.vpArgoNamespace")

	for _, c := range cg.ArgoCD.ConfigManagementPlugins {
		if c.PluginConfig == "" {
			continue
		}
		text, err := r.eng.Render(c.PluginConfig)
		if err != nil {
			r.d.Errorf(c.Pos, "clusterGroup.argoCD.configManagementPlugins", "pluginConfig: template: %v", err)
			continue
		}
		r.emit(object("v1", "ConfigMap").
			Set("metadata", node.NewMap().Set("name", str("argocd-cmp-"+c.Name)).Set("namespace", str(groupNS))).
			Set("data", node.NewMap().Set("plugin.yaml", str(strings.TrimRight(text, "\n")+"\n"))), c.Pos, "clusterGroup.argoCD.configManagementPlugins."+c.Name)
	}

	if r.v.Global.SingleArgoCD {
		return
	}
	r.emit(object("v1", "Namespace").
		Set("metadata", node.NewMap().Set("labels", node.NewMap().Set("name", str(groupNS))).Set("name", str(groupNS))).
		Set("spec", node.NewMap()), r.v.ClusterGroup.NamePos, "global.singleArgoCD")
	r.emit(clusterAdminBinding(groupNS+"-cluster-admin-rolebinding", groupNS,
		cg.Name+"-gitops-argocd-application-controller", cg.Name+"-gitops-argocd-server", cg.Name+"-gitops-argocd-dex-server"),
		r.v.ClusterGroup.NamePos, "global.singleArgoCD")
	r.emit(r.argoCDInstance(groupNS), pos, "clusterGroup.argoCD")
	domain := tpl.HelmString(tpl.Coalesce(g("localClusterDomain"), g("hubClusterDomain")))
	title := Title(cg.Name)
	r.emit(object("console.openshift.io/v1", "ConsoleLink").
		Set("metadata", node.NewMap().Set("name", str(cg.Name+"-gitops-link")).Set("namespace", str(groupNS))).
		Set("spec", node.NewMap().
			Set("applicationMenu", node.NewMap().Set("section", str("OpenShift GitOps"))).
			Set("href", str("https://"+cg.Name+"-gitops-server-"+groupNS+"."+domain)).
			Set("location", str("ApplicationMenu")).
			Set("text", str(title+" ArgoCD"))), r.v.ClusterGroup.NamePos, "global.singleArgoCD")
}

func clusterAdminBinding(name, namespace string, serviceAccounts ...string) *node.Node {
	subjects := node.NewList()
	for _, sa := range serviceAccounts {
		subjects.Append(node.NewMap().Set("kind", str("ServiceAccount")).Set("name", str(sa)).Set("namespace", str(namespace)))
	}
	return object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding").
		Set("metadata", node.NewMap().Set("name", str(name))).
		Set("roleRef", node.NewMap().Set("apiGroup", str("rbac.authorization.k8s.io")).Set("kind", str("ClusterRole")).Set("name", str("cluster-admin"))).
		Set("subjects", subjects)
}

// argoCDInstance is the OpenShift GitOps ArgoCD of the cluster group, with the repo server trusting the
// cluster's CA bundles and running the configured plugin sidecars.
func (r *renderer) argoCDInstance(namespace string) *node.Node {
	a := &r.v.ClusterGroup.ArgoCD
	spec := node.NewMap()
	if a.ResourceHealthChecks.Truthy() {
		spec.Set("resourceHealthChecks", node.Sorted(a.ResourceHealthChecks))
	}
	if a.ResourceActions.Truthy() {
		spec.Set("resourceActions", node.Sorted(a.ResourceActions))
	}
	spec.Set("resourceTrackingMethod", r.plain(a.ResourceTrackingMethod))
	spec.Set("applicationInstanceLabelKey", str("argocd.argoproj.io/instance"))
	spec.Set("applicationSet", lit("resources:\n  limits: {cpu: '2', memory: 1Gi}\n  requests: {cpu: 250m, memory: 512Mi}\n"))
	spec.Set("controller", lit("processors: {}\nresources:\n  limits: {cpu: '4', memory: 4Gi}\n  requests: {cpu: 500m, memory: 2Gi}\n"))
	spec.Set("sso", lit("provider: dex\ndex:\n  openShiftOAuth: true\n  resources:\n    limits: {cpu: 500m, memory: 256Mi}\n    requests: {cpu: 250m, memory: 128Mi}\n"))
	spec.Set("initialSSHKnownHosts", node.NewMap())
	if a.RBAC.Truthy() {
		spec.Set("rbac", node.Sorted(a.RBAC))
	} else {
		spec.Set("rbac", node.NewMap().
			Set("defaultPolicy", str("role:readonly")).
			Set("policy", str("g, system:cluster-admins, role:admin\ng, cluster-admins, role:admin\ng, admin, role:admin")).
			Set("scopes", str("[groups, email]")))
	}
	spec.Set("repo", r.argoRepo())
	if a.ResourceExclusions != "" {
		excl := a.ResourceExclusions
		if r.v.Global.ExcludeESO {
			eso := "- apiGroups:\n  - external-secrets.io\n  kinds:\n  - ExternalSecret\n"
			if strings.HasSuffix(excl, "\n") {
				excl += eso
			} else {
				excl += "\n" + strings.TrimSuffix(eso, "\n")
			}
		}
		spec.Set("resourceExclusions", str(excl))
	}
	spec.Set("server", lit(`autoscale: {enabled: false}
grpc: {ingress: {enabled: false}}
ingress: {enabled: false}
resources:
  limits: {cpu: 500m, memory: 256Mi}
  requests: {cpu: 125m, memory: 128Mi}
route:
  enabled: true
  tls: {insecureEdgeTerminationPolicy: Redirect, termination: reencrypt}
service: {type: ''}
`))
	spec.Set("tls", lit("ca: {}\n"))
	meta := node.NewMap().
		Set("finalizers", strList("argoproj.io/finalizer")).
		Set("name", str(r.v.ClusterGroup.Name+"-gitops")).
		Set("namespace", str(namespace)).
		Set("annotations", node.NewMap().Set("argocd.argoproj.io/compare-options", str("IgnoreExtraneous")))
	return object("argoproj.io/v1beta1", "ArgoCD").Set("metadata", meta).Set("spec", spec).Set("status", node.NewNull())
}

func (r *renderer) argoRepo() *node.Node {
	a := &r.v.ClusterGroup.ArgoCD
	env := node.NewList()
	if a.Env != nil {
		env = node.Sorted(a.Env)
	}
	fetchCA := node.NewMap().
		Set("command", strList("bash", "-c", concatCABundles)).
		Set("image", str(r.v.ClusterGroup.Imperative.Image)).
		Set("name", str("fetch-ca")).
		Set("resources", node.NewMap()).
		Set("volumeMounts", lit(`- mountPath: /var/run/kube-root-ca
  name: kube-root-ca
- mountPath: /var/run/trusted-ca
  name: trusted-ca-bundle
- mountPath: /var/run/trusted-hub
  name: trusted-hub-bundle
- mountPath: /tmp/ca-bundles
  name: ca-bundles
`))
	inits := node.NewList(fetchCA)
	inits.Append(node.Sorted(a.InitContainers).Items()...)
	mounts := lit("- mountPath: /etc/pki/tls/certs\n  name: ca-bundles\n")
	mounts.Append(node.Sorted(a.VolumeMounts).Items()...)
	volumes := lit(`- configMap: {name: kube-root-ca.crt}
  name: kube-root-ca
- configMap: {name: trusted-ca-bundle, optional: true}
  name: trusted-ca-bundle
- configMap: {name: trusted-hub-bundle, optional: true}
  name: trusted-hub-bundle
- emptyDir: {}
  name: ca-bundles
`)
	volumes.Append(node.Sorted(a.Volumes).Items()...)
	repo := node.NewMap().
		Set("env", env).
		Set("initContainers", inits).
		Set("resources", lit("limits: {cpu: '1', memory: 1Gi}\nrequests: {cpu: 250m, memory: 256Mi}\n")).
		Set("volumeMounts", mounts).
		Set("volumes", volumes)
	if len(a.ConfigManagementPlugins) == 0 {
		return repo
	}
	volumes.Append(node.NewMap().Set("emptyDir", node.NewMap()).Set("name", str("cmp-tmp")))
	sidecars := node.NewList()
	for _, c := range a.ConfigManagementPlugins {
		volumes.Append(node.NewMap().Set("configMap", node.NewMap().Set("name", str("argocd-cmp-"+c.Name))).Set("name", str(c.Name)))
		sc := node.NewMap().Set("name", str(c.Name)).Set("command", strList("/var/run/argocd/argocd-cmp-server"))
		if c.PluginArgs.Truthy() {
			sc.Set("args", node.Sorted(c.PluginArgs))
		}
		pull := c.ImagePullPolicy
		if pull == "" {
			pull = "Always"
		}
		sc.Set("image", str(c.Image)).Set("imagePullPolicy", str(pull)).
			Set("securityContext", node.NewMap().Set("runAsNonRoot", node.NewBool(true)))
		if c.Env.Truthy() {
			sc.Set("env", node.Sorted(c.Env))
		}
		vm := lit(`- mountPath: /var/run/argocd
  name: var-files
- mountPath: /home/argocd/cmp-server/plugins
  name: plugins
- mountPath: /tmp
  name: cmp-tmp
`)
		if c.PluginConfig != "" {
			vm.Append(node.NewMap().Set("mountPath", str("/home/argocd/cmp-server/config/plugin.yaml")).
				Set("subPath", str("plugin.yaml")).Set("name", str(c.Name)))
		}
		vm.Append(node.Sorted(c.VolumeMounts).Items()...)
		sc.Set("volumeMounts", vm)
		sidecars.Append(sc)
	}
	repo.Set("sidecarContainers", sidecars)
	return repo
}

// Title upper-cases the first letter of every word, leaving the other letters alone, as the clustergroup
// chart's title function does (sprig v3.2.3 functions.go maps "title" to the standard library's
// strings.Title): a word starts after any rune that is not a letter, a digit, an underscore or a mark, so
// group trusted-hub reads Trusted-Hub and group my_group My_group.
func Title(s string) string {
	var b strings.Builder
	prev := ' '
	for _, r := range s {
		if isWordSeparator(prev) {
			b.WriteRune(unicode.ToTitle(r))
		} else {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

// isWordSeparator is strings.Title's word boundary (Go 1.26 strings.go isSeparator).
func isWordSeparator(r rune) bool {
	if r <= 0x7F {
		switch {
		case '0' <= r && r <= '9', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', r == '_':
			return false
		}
		return true
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return false
	}
	return unicode.IsSpace(r)
}
