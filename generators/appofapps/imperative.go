package appofapps

import (
	"strings"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
	"github.com/cocogen/cocogen/internal/tpl"
)

// The imperative objects of the clustergroup chart: a namespace where Ansible playbooks run as CronJobs, with
// a copy of the cluster group's values, service accounts and RBAC, the vault unseal job on hubs and the
// install-plan approver.

const (
	caBundlesPath = "/tmp/ca-bundles"
	valuesPath    = "/values/values.yaml"
)

// imperative renders the imperative objects. The legacy enabled: plumbing switch leaves out the namespace
// and the vault objects (UsesVault checks it).
func (r *renderer) imperative() {
	if r.v.Enabled != "plumbing" {
		r.imperativeNamespace()
	}
	imp := &r.v.ClusterGroup.Imperative
	ns := imp.Namespace
	src := "clusterGroup.imperative"
	pos := r.v.Tree.Path("clusterGroup", "imperative").PosOr(r.v.Tree.Pos)
	meta := func(name string) *node.Node {
		return node.NewMapCap(2).Set("name", str(name)).Set("namespace", str(ns))
	}
	sa := func(name string) *node.Node {
		return node.NewList(node.NewMap().Set("kind", str("ServiceAccount")).Set("name", str(name)).Set("namespace", str(ns)))
	}
	roleRef := func(kind, name string) *node.Node {
		return node.NewMap().Set("apiGroup", str("rbac.authorization.k8s.io")).Set("kind", str(kind)).Set("name", str(name))
	}
	// A service account's name carries the position of the values that chose it (for the repeated-object
	// warning when both accounts share a name); its Source stays that of the imperative block.
	saMeta := func(name string, keys ...string) *node.Node {
		m := meta(name)
		for _, k := range keys {
			if p := r.v.Tree.Path("clusterGroup", "imperative", k).PosOr(srcpos.Pos{}); p.File != "" && !strings.HasPrefix(p.File, "<") {
				m.Get("name").Pos = p
				break
			}
		}
		return m
	}
	if imp.ServiceAccountCreate {
		r.emit(object("v1", "ServiceAccount").Set("metadata", saMeta(imp.ServiceAccountName, "serviceAccountName", "serviceAccountCreate")), pos, src)
		rules := lit("- apiGroups: ['*']\n  resources: ['*']\n  verbs: [get, list, watch]\n")
		if imp.ClusterRoleYaml != nil {
			rules = node.Sorted(imp.ClusterRoleYaml)
		}
		r.emit(object("rbac.authorization.k8s.io/v1", "ClusterRole").
			Set("metadata", node.NewMap().Set("name", str(imp.ClusterRoleName))).Set("rules", rules), pos, src)
		r.emit(object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding").
			Set("metadata", node.NewMap().Set("name", str(ns+"-cluster-rolebinding"))).
			Set("roleRef", roleRef("ClusterRole", imp.ClusterRoleName)).
			Set("subjects", sa(imp.ServiceAccountName)), pos, src)
		r.emit(object("rbac.authorization.k8s.io/v1", "RoleBinding").
			Set("metadata", meta(ns+"-rolebinding")).
			Set("roleRef", roleRef("Role", imp.RoleName)).
			Set("subjects", sa(imp.ServiceAccountName)), pos, src)
	}
	if imp.AdminServiceAccountCreate {
		r.emit(object("v1", "ServiceAccount").Set("metadata", saMeta(imp.AdminServiceAccountName, "adminServiceAccountName", "adminServiceAccountCreate")), pos, src)
		r.emit(object("rbac.authorization.k8s.io/v1", "ClusterRole").
			Set("metadata", node.NewMap().Set("name", str(imp.AdminClusterRoleName))).
			Set("rules", lit("- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n")), pos, src)
		r.emit(object("rbac.authorization.k8s.io/v1", "ClusterRoleBinding").
			Set("metadata", node.NewMap().Set("name", str(ns+"-admin-clusterrolebinding"))).
			Set("roleRef", roleRef("ClusterRole", imp.AdminClusterRoleName)).
			Set("subjects", sa(imp.AdminServiceAccountName)), pos, src)
	}
	roleRules := lit("- apiGroups: ['*']\n  resources: ['*']\n  verbs: ['*']\n")
	if imp.RoleYaml != nil {
		roleRules = node.Sorted(imp.RoleYaml)
	}
	r.emit(object("rbac.authorization.k8s.io/v1", "Role").Set("metadata", meta(imp.RoleName)).Set("rules", roleRules), pos, src)
	r.valuesConfigMap(pos)
	r.emit(object("v1", "ConfigMap").Set("metadata", meta("trusted-ca-bundle").
		Set("annotations", node.NewNull()).
		Set("labels", node.NewMap().Set("config.openshift.io/inject-trusted-cabundle", str("true")))), pos, src)
	if len(imp.Jobs) > 0 {
		var steps []*node.Node
		for _, j := range imp.Jobs {
			args := []string{"timeout", timeout(j.Timeout), "ansible-playbook"}
			if j.Verbosity != "" {
				args = append(args, j.Verbosity)
			}
			if j.Tags != "" {
				args = append(args, "-t", j.Tags)
			}
			args = append(args, "-e", "@"+valuesPath)
			for _, e := range j.Extravars {
				args = append(args, "-e", tpl.HelmString(e))
			}
			args = append(args, r.extraPlaybookArgs()...)
			args = append(args, j.Playbook)
			image := j.Image
			if image == "" {
				image = imp.Image
			}
			steps = append(steps, r.playbookContainer(j.Name, image, args))
		}
		r.emit(r.cronJob(imp.CronJobName, imp.Schedule, imp.JobName, imp.ServiceAccountName, steps), pos, "clusterGroup.imperative.jobs")
	}
	if r.v.UsesVault() {
		args := []string{"timeout", "600", "ansible-playbook"}
		if imp.Verbosity != "" {
			args = append(args, imp.Verbosity)
		}
		args = append(args, "-e", "@"+valuesPath)
		args = append(args, r.extraPlaybookArgs()...)
		args = append(args, "-t", "vault_init,vault_unseal,vault_secrets_init,vault_spokes_init,vault_jwt", "rhvp.cluster_utils.vault")
		r.emit(r.cronJob("unsealvault-cronjob", imp.InsecureUnsealVaultInsideClusterSchedule, "unsealvault-job", imp.ServiceAccountName,
			[]*node.Node{r.playbookContainer("unseal-playbook", imp.Image, args)}), pos, src)
		if imp.ServiceAccountCreate {
			vns := imp.VaultNamespace
			r.emit(object("rbac.authorization.k8s.io/v1", "Role").
				Set("metadata", node.NewMap().Set("name", str("vault-pod-exec")).Set("namespace", str(vns))).
				Set("rules", lit("- apiGroups: ['']\n  resources: [pods/exec]\n  verbs: [create, get]\n")), pos, src)
			r.emit(object("rbac.authorization.k8s.io/v1", "RoleBinding").
				Set("metadata", node.NewMap().Set("name", str(ns+"-vault-exec-rolebinding")).Set("namespace", str(vns))).
				Set("roleRef", roleRef("Role", "vault-pod-exec")).
				Set("subjects", sa(imp.ServiceAccountName)), pos, src)
		}
	}
	if r.v.Global.Options.AutoApproveManualInstallPlans {
		args := []string{"timeout", "600", "ansible-playbook"}
		if imp.Verbosity != "" {
			args = append(args, imp.Verbosity)
		}
		args = append(args, "-e", "@"+valuesPath)
		args = append(args, r.extraPlaybookArgs()...)
		args = append(args, "rhvp.cluster_utils.auto_approve_installplans")
		r.emit(r.cronJob("auto-approve-installplans-cronjob", "*/5 * * * *", "auto-approve-installplans-job", imp.AdminServiceAccountName,
			[]*node.Node{r.playbookContainer("auto-approve-installplans", imp.Image, args)}), pos, "global.options.autoApproveManualInstallPlans")
	}
}

// imperativeNamespace is the namespace the chart always creates for its imperative jobs (unless the user
// declares it among the namespaces).
func (r *renderer) imperativeNamespace() {
	name := r.v.ClusterGroup.Imperative.Namespace
	if name == "" {
		return
	}
	for _, ns := range r.v.ClusterGroup.Namespaces {
		if ns.Name == name && !ns.Disabled {
			return
		}
	}
	labels := node.NewMap().Set("name", str(name)).Set("argocd.argoproj.io/managed-by", str(r.argoNS))
	obj := object("v1", "Namespace").Set("metadata", node.NewMap().Set("labels", labels).Set("name", str(name)))
	r.emit(obj, r.v.Tree.Path("clusterGroup", "imperative", "namespace").PosOr(r.v.Tree.Pos), "clusterGroup.imperative.namespace")
}

// timeout prints a job's timeout as the chart does: the value, or 600.
func timeout(t *node.Node) string {
	if !t.Truthy() {
		return "600"
	}
	return tpl.HelmString(t)
}

func (r *renderer) extraPlaybookArgs() []string {
	var out []string
	for _, a := range r.v.ClusterGroup.Imperative.ExtraPlaybookArgs {
		out = append(out, tpl.HelmString(a))
	}
	return out
}

// valuesConfigMap holds the whole values tree, template-evaluated, for the playbooks (-e @/values/values.yaml).
func (r *renderer) valuesConfigMap(pos srcpos.Pos) {
	imp := &r.v.ClusterGroup.Imperative
	res := r.valuesText()
	if res.err != nil {
		if res.path != "" {
			r.d.Errorf(res.pos, res.path, "the values ConfigMap of clusterGroup.imperative evaluates every template in the values: %v", res.err)
		} else {
			r.d.Errorf(pos, "clusterGroup.imperative", "the values ConfigMap evaluates every template in the values: %v", res.err)
		}
		return
	}
	text := res.text
	data := strings.TrimRight(text, "\n") + "\n"
	cm := object("v1", "ConfigMap").
		Set("metadata", node.NewMap().Set("name", str(imp.ValuesConfigMap+"-"+r.v.ClusterGroup.Name)).Set("namespace", str(imp.Namespace))).
		Set("data", node.NewMap().Set("values.yaml", str(data)))
	r.emit(cm, pos, "clusterGroup.imperative.valuesConfigMap")
}

// playbookContainer is one init container running a playbook from the cloned pattern repository.
func (r *renderer) playbookContainer(name, image string, args []string) *node.Node {
	return node.NewMap().
		Set("name", str(name)).
		Set("image", str(image)).
		Set("imagePullPolicy", str(r.v.ClusterGroup.Imperative.ImagePullPolicy)).
		Set("env", lit("- name: HOME\n  value: /git/home\n")).
		Set("workingDir", str("/git/repo")).
		Set("command", strList(args...)).
		Set("volumeMounts", r.jobVolumeMounts())
}

func (r *renderer) jobVolumeMounts() *node.Node {
	return lit(`- name: git
  mountPath: /git
- name: values-volume
  mountPath: /values/values.yaml
  subPath: values.yaml
- name: kube-root-ca
  mountPath: /var/run/kube-root-ca
- name: trusted-ca-bundle
  mountPath: /var/run/trusted-ca
- name: trusted-hub-bundle
  mountPath: /var/run/trusted-hub
- name: ca-bundles
  mountPath: /etc/pki/tls/certs
`)
}

// cronJob wraps playbook containers: they run after the CA bundle is assembled and the pattern repository is
// cloned, and a final container marks the job done.
func (r *renderer) cronJob(name, schedule, jobName, serviceAccount string, steps []*node.Node) *node.Node {
	imp := &r.v.ClusterGroup.Imperative
	init := node.NewList(r.fetchCAContainer(), r.gitInitContainer())
	if imp.AnsibleDevMode.Enabled {
		init.Append(r.ansibleDevModeContainer())
	}
	init.Append(steps...)
	done := node.NewMap().
		Set("name", str("done")).
		Set("image", str(imp.Image)).
		Set("imagePullPolicy", str(imp.ImagePullPolicy)).
		Set("command", strList("sh", "-c", "echo", "done", `\n`))
	podSpec := node.NewMap().
		Set("serviceAccountName", str(serviceAccount)).
		Set("initContainers", init).
		Set("containers", node.NewList(done)).
		Set("volumes", r.jobVolumes()).
		Set("restartPolicy", str("Never"))
	jobSpec := node.NewMap().
		Set("activeDeadlineSeconds", r.deadline()).
		Set("template", node.NewMap().Set("metadata", node.NewMap().Set("name", str(jobName))).Set("spec", podSpec))
	spec := node.NewMap().
		Set("schedule", str(schedule)).
		Set("concurrencyPolicy", str("Forbid")).
		Set("jobTemplate", node.NewMap().Set("spec", jobSpec))
	return object("batch/v1", "CronJob").
		Set("metadata", node.NewMap().Set("name", str(name)).Set("namespace", str(imp.Namespace))).
		Set("spec", spec)
}

func (r *renderer) deadline() *node.Node {
	d := r.v.ClusterGroup.Imperative.ActiveDeadlineSeconds
	if d == nil {
		return node.NewNull()
	}
	return tpl.Unquoted(d)
}

func (r *renderer) jobVolumes() *node.Node {
	imp := &r.v.ClusterGroup.Imperative
	v := lit(`- name: git
  emptyDir: {}
- name: values-volume
  configMap:
    name: VALUES
- name: kube-root-ca
  configMap:
    name: kube-root-ca.crt
- name: trusted-ca-bundle
  configMap:
    name: trusted-ca-bundle
    optional: true
- name: trusted-hub-bundle
  configMap:
    name: trusted-hub-bundle
    optional: true
- name: ca-bundles
  emptyDir: {}
`)
	v.Items()[1].Get("configMap").Set("name", str(imp.ValuesConfigMap+"-"+r.v.ClusterGroup.Name))
	return v
}

// fetchCAContainer concatenates the cluster's CA bundles into one file that git and Ansible trust.
func (r *renderer) fetchCAContainer() *node.Node {
	imp := &r.v.ClusterGroup.Imperative
	return node.NewMap().
		Set("name", str("fetch-ca")).
		Set("image", str(imp.Image)).
		Set("imagePullPolicy", str(imp.ImagePullPolicy)).
		Set("env", lit("- name: HOME\n  value: /git/home\n")).
		// The chart writes the command as a folded block scalar (">-"), which joins its two lines with a space
		// (validatedpatterns/clustergroup-chart templates/imperative/_helpers.tpl, v0.9.0 to v0.9.55).
		Set("command", strList("sh", "-c", concatCABundles+"; ls -l "+caBundlesPath+"/")).
		Set("volumeMounts", lit(`- mountPath: /var/run/kube-root-ca
  name: kube-root-ca
- mountPath: /var/run/trusted-ca
  name: trusted-ca-bundle
- mountPath: /var/run/trusted-hub
  name: trusted-hub-bundle
- mountPath: /tmp/ca-bundles
  name: ca-bundles
`))
}

// concatCABundles joins the kube root CA, the cluster's trusted CA bundle and the hub's CA (each may be absent).
const concatCABundles = "cat /var/run/kube-root-ca/ca.crt /var/run/trusted-ca/ca-bundle.crt /var/run/trusted-hub/hub-kube-root-ca.crt > " + caBundlesPath + "/ca-bundle.crt || true"

// gitInitContainer clones the pattern repository at its revision into /git/repo, with the credentials of the
// vp-private-repo-credentials secret when there is one (https user/password or an ssh key), through the
// cluster-wide proxy when one is configured.
func (r *renderer) gitInitContainer() *node.Node {
	imp := &r.v.ClusterGroup.Imperative
	g := r.global
	argoNS := tpl.HelmString(g("vpArgoNamespace"))
	repoURL := tpl.HelmString(g("repoURL"))
	revision := tpl.HelmString(g("targetRevision"))
	script := strings.Join([]string{
		`set -e`,
		`secret="oc get secret -n ` + argoNS + ` vp-private-repo-credentials"`,
		`url="` + repoURL + `"`,
		`field() { $secret -o go-template="{{if index .data \"$1\"}}{{index .data \"$1\" | base64decode}}{{end}}" 2>/dev/null || true; }`,
		`if $secret >/dev/null 2>&1; then`,
		`  key="$(field sshPrivateKey)"`,
		`  if [ -n "$key" ]; then`,
		`    mkdir -p -m 0700 "$HOME/.ssh" && printf '%s\n' "$key" > "$HOME/.ssh/id_rsa" && chmod 0600 "$HOME/.ssh/id_rsa"`,
		`    git config --global core.sshCommand "ssh -i $HOME/.ssh/id_rsa -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"`,
		`    url="$(printf '%s' "$url" | sed -E 's#^https?://#git@#')"`,
		`  else`,
		`    url="$(printf '%s' "$url" | sed -E "s#^(https?://)#\1$(field username):$(field password)@#")"`,
		`  fi`,
		`fi`,
		`for v in httpProxy:HTTP_PROXY httpsProxy:HTTPS_PROXY noProxy:NO_PROXY; do`,
		`  value="$(oc get proxy.config.openshift.io/cluster -o jsonpath="{.spec.${v%%:*}}" 2>/dev/null || true)"`,
		`  [ -z "$value" ] || export "${v#*:}=$value"`,
		`done`,
		`branch=""`,
		`[ "` + revision + `" = HEAD ] || branch="--branch ` + revision + `"`,
		`mkdir -p /git/repo /git/home`,
		`git clone --recurse-submodules --single-branch --depth 1 $branch -- "$url" /git/repo`,
		`chmod 0770 /git/repo /git/home`,
	}, "\n")
	return node.NewMap().
		Set("name", str("git-init")).
		Set("image", str(imp.Image)).
		Set("imagePullPolicy", str(imp.ImagePullPolicy)).
		Set("env", lit("- name: HOME\n  value: /git/home\n")).
		Set("volumeMounts", lit("- name: git\n  mountPath: /git\n- name: ca-bundles\n  mountPath: /etc/pki/tls/certs\n")).
		Set("command", strList("sh", "-c", script))
}

// ansibleDevModeContainer installs the collections of a requirements file (written from values when given)
// before the playbooks run, and optionally an ansible.cfg.
func (r *renderer) ansibleDevModeContainer() *node.Node {
	imp := &r.v.ClusterGroup.Imperative
	dm := imp.AnsibleDevMode
	var lines []string
	write := func(file, content string) {
		if content == "" {
			return
		}
		lines = append(lines, "cat > "+shellQuote(file)+" <<'COCOGEN_EOF'", strings.TrimRight(content, "\n"), "COCOGEN_EOF")
	}
	write(dm.RequirementsFile, dm.RequirementsContent)
	write(dm.AnsibleCfgFile, dm.AnsibleCfgContent)
	lines = append(lines, "ansible-galaxy collection install -r "+shellQuote(dm.RequirementsFile), "ansible-galaxy collection list")
	return node.NewMap().
		Set("name", str("ansible-dev-mode")).
		Set("image", str(imp.Image)).
		Set("imagePullPolicy", str(imp.ImagePullPolicy)).
		Set("env", lit("- name: HOME\n  value: /git/home\n")).
		Set("workingDir", str("/git/repo")).
		Set("command", strList("sh", "-c", strings.Join(lines, "\n"))).
		Set("volumeMounts", r.jobVolumeMounts())
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
