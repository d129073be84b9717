package model

import (
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Imperative is clusterGroup.imperative: the Ansible jobs the chart runs as a CronJob, and their RBAC.
type Imperative struct {
	Jobs                                     []ImperativeJob
	Image                                    string
	Namespace                                string
	ValuesConfigMap                          string
	CronJobName                              string
	JobName                                  string
	ImagePullPolicy                          string
	ActiveDeadlineSeconds                    *node.Node
	Schedule                                 string
	InsecureUnsealVaultInsideClusterSchedule string
	Verbosity                                string
	ExtraPlaybookArgs                        []*node.Node
	ServiceAccountCreate                     bool
	ServiceAccountName                       string
	ClusterRoleName                          string
	ClusterRoleYaml                          *node.Node // rules: a YAML list, or empty for the default
	RoleName                                 string
	RoleYaml                                 *node.Node
	AdminServiceAccountCreate                bool
	AdminServiceAccountName                  string
	AdminClusterRoleName                     string
	VaultNamespace                           string
	AnsibleDevMode                           AnsibleDevMode
}

// AnsibleDevMode installs collections before the playbooks run.
type AnsibleDevMode struct {
	Enabled             bool
	RequirementsFile    string
	RequirementsContent string
	AnsibleCfgFile      string
	AnsibleCfgContent   string
}

// ImperativeJob is one playbook run, in list order.
type ImperativeJob struct {
	Pos       srcpos.Pos
	Name      string
	Playbook  string
	Timeout   *node.Node
	Image     string
	Tags      string
	Extravars []*node.Node
	Verbosity string
}

var (
	imperativeKeys = []string{"jobs", "image", "ansibleDevMode", "namespace", "valuesConfigMap", "cronJobName",
		"jobName", "imagePullPolicy", "activeDeadlineSeconds", "schedule", "insecureUnsealVaultInsideClusterSchedule",
		"verbosity", "extraPlaybookArgs", "serviceAccountCreate", "serviceAccountName", "clusterRoleName",
		"clusterRoleYaml", "roleName", "roleYaml", "adminServiceAccountCreate", "adminServiceAccountName",
		"adminClusterRoleName", "vaultNamespace"}
	// The chart's schema does not allow disabled on a job (its template would honour it), so neither do we.
	imperativeJobKeys  = []string{"name", "playbook", "timeout", "image", "tags", "extravars", "verbosity"}
	ansibleDevModeKeys = []string{"enabled", "requirementsFile", "requirementsContent", "ansibleCfgFile", "ansibleCfgContent"}
	verbosities        = []string{"", "-v", "-vv", "-vvv", "-vvvv"}
	pullPolicies       = []string{"Always", "IfNotPresent", "Never"}
)

func (dc decoder) imperative(n *node.Node, out *Imperative) {
	const path = "clusterGroup.imperative"
	if !dc.c.Map(n, path, true, imperativeKeys...) {
		return
	}
	out.Image = dc.str(n, path, "image")
	out.Namespace = dc.str(n, path, "namespace")
	if out.Namespace != "imperative" && out.Namespace != "" {
		dc.c.Enum(n.Get("namespace"), schema.Join(path, "namespace"), out.Namespace, "imperative")
	}
	out.ValuesConfigMap = dc.str(n, path, "valuesConfigMap")
	out.CronJobName = dc.str(n, path, "cronJobName")
	out.JobName = dc.str(n, path, "jobName")
	out.ImagePullPolicy = dc.str(n, path, "imagePullPolicy")
	if out.ImagePullPolicy != "" {
		dc.c.Enum(n.Get("imagePullPolicy"), schema.Join(path, "imagePullPolicy"), out.ImagePullPolicy, pullPolicies...)
	}
	out.ActiveDeadlineSeconds = dc.integer(n, path, "activeDeadlineSeconds")
	out.Schedule = dc.str(n, path, "schedule")
	out.InsecureUnsealVaultInsideClusterSchedule = dc.str(n, path, "insecureUnsealVaultInsideClusterSchedule")
	out.Verbosity = dc.str(n, path, "verbosity")
	dc.c.Enum(n.Get("verbosity"), schema.Join(path, "verbosity"), out.Verbosity, verbosities...)
	if items, ok := dc.c.StringList(n.Get("extraPlaybookArgs"), schema.Join(path, "extraPlaybookArgs")); ok {
		out.ExtraPlaybookArgs = items
	}
	out.ServiceAccountCreate = dc.boolean(n, path, "serviceAccountCreate")
	out.ServiceAccountName = dc.str(n, path, "serviceAccountName")
	out.ClusterRoleName = dc.str(n, path, "clusterRoleName")
	out.ClusterRoleYaml = dc.rules(n, path, "clusterRoleYaml")
	out.RoleName = dc.str(n, path, "roleName")
	out.RoleYaml = dc.rules(n, path, "roleYaml")
	out.AdminServiceAccountCreate = dc.boolean(n, path, "adminServiceAccountCreate")
	out.AdminServiceAccountName = dc.str(n, path, "adminServiceAccountName")
	out.AdminClusterRoleName = dc.str(n, path, "adminClusterRoleName")
	out.VaultNamespace = dc.str(n, path, "vaultNamespace")
	if adm := n.Get("ansibleDevMode"); dc.c.Map(adm, schema.Join(path, "ansibleDevMode"), true, ansibleDevModeKeys...) {
		p := schema.Join(path, "ansibleDevMode")
		out.AnsibleDevMode = AnsibleDevMode{
			Enabled:             dc.boolean(adm, p, "enabled"),
			RequirementsFile:    dc.str(adm, p, "requirementsFile"),
			RequirementsContent: dc.str(adm, p, "requirementsContent"),
			AnsibleCfgFile:      dc.str(adm, p, "ansibleCfgFile"),
			AnsibleCfgContent:   dc.str(adm, p, "ansibleCfgContent"),
		}
	}
	jobs := n.Get("jobs")
	if jobs.IsNull() {
		return
	}
	if jobs.Kind != node.List {
		// The chart runs the jobs in list order; a map would lose it.
		dc.errorf(jobs, schema.Join(path, "jobs"), "must be a list (the jobs run in list order), not a %s", jobs.Kind)
		return
	}
	for i, it := range jobs.Items() {
		p := schema.Index(schema.Join(path, "jobs"), i)
		if !dc.c.Map(it, p, false, imperativeJobKeys...) {
			continue
		}
		j := ImperativeJob{
			Pos:       it.Pos,
			Name:      dc.str(it, p, "name"),
			Playbook:  dc.str(it, p, "playbook"),
			Timeout:   it.Get("timeout"),
			Image:     dc.str(it, p, "image"),
			Tags:      dc.str(it, p, "tags"),
			Verbosity: dc.str(it, p, "verbosity"),
		}
		if t := j.Timeout; !t.IsNull() && t.Kind != node.Int && t.Kind != node.String {
			dc.errorf(t, schema.Join(p, "timeout"), "must be a number of seconds, not a %s", t.Kind)
		}
		if items, ok := dc.c.StringList(it.Get("extravars"), schema.Join(p, "extravars")); ok {
			j.Extravars = items
		}
		if j.Name == "" {
			dc.errorf(it, p, "name is required")
		}
		if j.Playbook == "" {
			dc.errorf(it, p, "playbook is required")
		}
		out.Jobs = append(out.Jobs, j)
	}
}

// integer reads an optional integer key (kept raw: the chart prints it as given).
func (dc decoder) integer(m *node.Node, path, key string) *node.Node {
	n := m.Get(key)
	if n.IsNull() {
		return nil
	}
	if n.Kind != node.Int {
		dc.errorf(n, schema.Join(path, key), "must be an integer, not %s %q", n.Kind, n.Src)
	}
	return n
}

// rules reads clusterRoleYaml / roleYaml: empty (the default rules) or a list of RBAC rules.
func (dc decoder) rules(m *node.Node, path, key string) *node.Node {
	n := m.Get(key)
	if !n.Truthy() {
		return nil
	}
	if n.Kind != node.List {
		dc.errorf(n, schema.Join(path, key), "must be a list of RBAC rules (apiGroups, resources, verbs), not a %s", n.Kind)
		return nil
	}
	for i, it := range n.Items() {
		dc.c.Map(it, schema.Index(schema.Join(path, key), i), false, rbacRuleKeys...)
	}
	return n
}

var rbacRuleKeys = []string{"apiGroups", "resources", "verbs", "resourceNames", "nonResourceURLs"}
