// Package podtemplate says where Kubernetes objects keep their pod template: the one rule that the workloads
// generator (which injects init-data), review (which decodes it) and initdata.Find (which finds it in
// manifests) share.
//
// A pod template is a PodTemplateSpec: the metadata (whose annotations carry init-data and the profile
// annotation) and the spec of the pods an object runs. The kinds are those whose pods a cluster runs from
// the template, matched by kind name (the API group is not checked, as no other group reuses these names for
// something else in practice):
//
//   - Pod: the object itself (k8s.io/api core/v1 Pod: metadata, spec);
//   - Deployment, ReplicaSet, StatefulSet, DaemonSet (apps/v1), Job (batch/v1), ReplicationController
//     (core/v1), DeploymentConfig (OpenShift apps.openshift.io/v1) and Rollout (Argo Rollouts
//     argoproj.io/v1alpha1): spec.template;
//   - CronJob (batch/v1): spec.jobTemplate.spec.template.
//
// Sources: k8s.io/api v0.34 apps/v1, batch/v1 and core/v1 types.go (the Template and JobTemplate fields);
// openshift/api apps/v1 types.go (DeploymentConfigSpec.Template); argoproj/argo-rollouts
// pkg/apis/rollouts/v1alpha1/types.go (RolloutSpec.Template).
package podtemplate

import (
	"slices"
	"sort"

	"github.com/cocogen/cocogen/internal/node"
)

// paths are where each kind keeps its pod template; nil is the object itself.
var paths = map[string][]string{
	"Pod":                   nil,
	"Deployment":            {"spec", "template"},
	"ReplicaSet":            {"spec", "template"},
	"StatefulSet":           {"spec", "template"},
	"DaemonSet":             {"spec", "template"},
	"Job":                   {"spec", "template"},
	"ReplicationController": {"spec", "template"},
	"DeploymentConfig":      {"spec", "template"},
	"Rollout":               {"spec", "template"},
	"CronJob":               {"spec", "jobTemplate", "spec", "template"},
}

// Path returns where objects of kind keep their pod template (nil for a Pod, which is its own template) and
// whether the kind has one.
func Path(kind string) ([]string, bool) {
	p, ok := paths[kind]
	return slices.Clone(p), ok
}

// Kinds returns the kinds that have a pod template, sorted.
func Kinds() []string {
	out := make([]string, 0, len(paths))
	for k := range paths {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Of returns the pod template of obj and its path, or nil when obj's kind has none or obj does not hold a
// map there.
func Of(obj *node.Node) (tmpl *node.Node, path []string) {
	path, ok := Path(obj.Get("kind").Scalar())
	if !ok {
		return nil, nil
	}
	tmpl = obj.Path(path...)
	if tmpl == nil || tmpl.Kind != node.Map {
		return nil, nil
	}
	return tmpl, path
}
