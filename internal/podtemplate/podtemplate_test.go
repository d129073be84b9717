package podtemplate

import (
	"reflect"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/cocogen/cocogen/internal/node"
)

// TestPathsAreThePodTemplateSpecs checks every path of a Kubernetes kind against the upstream Go types: the
// JSON fields it names lead to a PodTemplateSpec (for a Pod, the object carries ObjectMeta and a PodSpec).
func TestPathsAreThePodTemplateSpecs(t *testing.T) {
	types := map[string]reflect.Type{
		"Pod":                   reflect.TypeFor[corev1.Pod](),
		"Deployment":            reflect.TypeFor[appsv1.Deployment](),
		"ReplicaSet":            reflect.TypeFor[appsv1.ReplicaSet](),
		"StatefulSet":           reflect.TypeFor[appsv1.StatefulSet](),
		"DaemonSet":             reflect.TypeFor[appsv1.DaemonSet](),
		"Job":                   reflect.TypeFor[batchv1.Job](),
		"CronJob":               reflect.TypeFor[batchv1.CronJob](),
		"ReplicationController": reflect.TypeFor[corev1.ReplicationController](),
	}
	for kind, typ := range types {
		path, ok := Path(kind)
		if !ok {
			t.Errorf("%s: no pod template", kind)
			continue
		}
		cur := typ
		for _, key := range path {
			f, found := jsonField(cur, key)
			if !found {
				t.Fatalf("%s: %s has no JSON field %q", kind, cur, key)
			}
			cur = f
			for cur.Kind() == reflect.Pointer {
				cur = cur.Elem()
			}
		}
		want := reflect.TypeFor[corev1.PodTemplateSpec]()
		if kind == "Pod" {
			if _, ok := jsonField(cur, "spec"); !ok || cur != reflect.TypeFor[corev1.Pod]() {
				t.Errorf("Pod: the template is not the object itself")
			}
			continue
		}
		if cur != want {
			t.Errorf("%s: %s leads to %s, want %s", kind, strings.Join(path, "."), cur, want)
		}
	}
	// The kinds outside k8s.io/api keep their template where their CRDs do (see the package comment).
	for _, kind := range []string{"DeploymentConfig", "Rollout"} {
		if p, _ := Path(kind); strings.Join(p, ".") != "spec.template" {
			t.Errorf("%s: %v", kind, p)
		}
	}
	if len(Kinds()) != len(types)+2 {
		t.Errorf("kinds %v: every kind needs a check here", Kinds())
	}
}

func jsonField(t reflect.Type, name string) (reflect.Type, bool) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("json"), ",")[0]
		if tag == name {
			return f.Type, true
		}
		if f.Anonymous && tag == "" {
			if ft, ok := jsonField(f.Type, name); ok {
				return ft, true
			}
		}
	}
	return nil, false
}

func TestOf(t *testing.T) {
	parse := func(src string) *node.Node {
		n, err := node.Parse("t.yaml", []byte(src), node.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	cases := map[string]struct {
		src  string
		want string // the template's metadata.name, "" for none
	}{
		"cron job":           {"kind: CronJob\nspec: {jobTemplate: {spec: {template: {metadata: {name: t}}}}}", "t"},
		"pod":                {"kind: Pod\nmetadata: {name: p}", "p"},
		"deployment config":  {"kind: DeploymentConfig\nspec: {template: {metadata: {name: d}}}", "d"},
		"config map":         {"kind: ConfigMap\nspec: {template: {metadata: {name: x}}}", ""},
		"template not a map": {"kind: Deployment\nspec: {template: []}", ""},
		"no spec":            {"kind: Deployment\nmetadata: {name: d}", ""},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			tmpl, _ := Of(parse(c.src))
			if got := tmpl.Path("metadata", "name").Scalar(); got != c.want || (c.want == "") != (tmpl == nil) {
				t.Errorf("template %v, want name %q", tmpl, c.want)
			}
		})
	}
}
