package overlay

import (
	"strings"
	"testing"
)

// TestKustomizationKeysGivenTwice: a key given twice in a kustomization (or, since kustomize matches keys
// without regard to case, twice under two spellings) is an error at the second one instead of a silent choice
// of which namespace the objects go to.
func TestKustomizationKeysGivenTwice(t *testing.T) {
	k := "overlays/app/kustomization.yaml"
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n"
	cases := []struct{ name, kustomization, want string }{
		{"same spelling", "namespace: team-a\nresources: [cm.yaml]\nnamespace: kube-system\n",
			k + `:3:1: error: key "namespace" is defined twice in this map`},
		{"another case", "namespace: team-a\nresources: [cm.yaml]\nNamespace: kube-system\n",
			k + `:3:1: error: namespace: is given twice (as "namespace" on line 1 and as "Namespace" here)`},
		{"nested, another case", "resources: [cm.yaml]\npatches:\n  - path: p.yaml\n    PATH: q.yaml\n",
			k + `:4:5: error: patches[0].path: is given twice`},
		{"unknown field", "resources: [cm.yaml]\nresource: [other.yaml]\n",
			k + `:2:1: error: resource: unknown field "resource" of a kustomization`},
		{"wrong shape", "resources: cm.yaml\n",
			k + `:1:12: error: resources: is a string; the kustomization wants a list here`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, _ := writeRepo(t, map[string]string{k: c.kustomization, "overlays/app/cm.yaml": cm, "overlays/app/p.yaml": cm, "overlays/app/q.yaml": cm})
			res, err := buildErr(root, "overlays/app", Options{})
			if err == nil {
				t.Fatalf("built %d objects", len(res.Resources))
			}
			if msg := strings.ReplaceAll(err.Error(), root.Display(""), ""); !strings.Contains(msg, c.want) {
				t.Errorf("diagnostics lack %q:\n%s", c.want, msg)
			}
		})
	}
}

// TestInvalidNamesAreErrorsWhereTheyAreWritten: an object named ../../.. (or in a namespace that is not a
// namespace name) is an error at the manifest line that names it, whether the manifest writes it or a
// kustomization's transformation makes it.
func TestInvalidNamesAreErrorsWhereTheyAreWritten(t *testing.T) {
	k := "overlays/app/kustomization.yaml"
	obj := func(name, ns string) string {
		s := "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: " + name + "\n"
		if ns != "" {
			s += "  namespace: " + ns + "\n"
		}
		return s
	}
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"name", map[string]string{k: "resources: [cm.yaml]\n", "overlays/app/cm.yaml": obj("../../..", "")},
			`overlays/app/cm.yaml:4:9: error: ConfigMap metadata.name: "../../.." is not a valid Kubernetes name`},
		{"name in a List", map[string]string{k: "resources: [cm.yaml]\n", "overlays/app/cm.yaml": "apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: Secret\n    metadata: {name: a/b}\n"},
			`overlays/app/cm.yaml:6:22: error: Secret metadata.name: "a/b" is not a valid Kubernetes name`},
		{"namespace", map[string]string{k: "resources: [cm.yaml]\n", "overlays/app/cm.yaml": obj("cm", "../kube-system")},
			`overlays/app/cm.yaml:5:14: error: ConfigMap metadata.namespace: "../kube-system" is not a valid namespace name`},
		{"kustomization namespace", map[string]string{k: "namespace: ../../etc\nresources: [cm.yaml]\n", "overlays/app/cm.yaml": obj("cm", "")},
			k + `:1:12: error: namespace: "../../etc" is not a valid namespace name`},
		{"name prefix", map[string]string{k: "namePrefix: ../\nresources: [cm.yaml]\n", "overlays/app/cm.yaml": obj("cm", "")},
			k + `:1:13: error: namePrefix: "../" may only hold lowercase letters`},
		{"a patch that renames", map[string]string{k: "resources: [cm.yaml]\npatches:\n  - target: {kind: ConfigMap}\n    patch: |-\n      - op: replace\n        path: /metadata/name\n        value: ../../x\n", "overlays/app/cm.yaml": obj("cm", "")},
			`overlays/app/cm.yaml:4:9: error: ConfigMap metadata.name: "../../x" (after the kustomizations' transformations) is not a valid Kubernetes name`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, _ := writeRepo(t, c.files)
			res, err := buildErr(root, "overlays/app", Options{})
			if err == nil {
				t.Fatalf("built %d objects", len(res.Resources))
			}
			if msg := strings.ReplaceAll(err.Error(), root.Display(""), ""); !strings.Contains(msg, c.want) {
				t.Errorf("diagnostics lack %q:\n%s", c.want, msg)
			}
		})
	}
	// Names that Kubernetes accepts pass: RBAC objects are named by path segments.
	root, _ := writeRepo(t, map[string]string{k: "resources: [rbac.yaml]\n", "overlays/app/rbac.yaml": "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: system:aggregate-to-view-widgets\n"})
	if _, err := buildErr(root, "overlays/app", Options{}); err != nil {
		t.Errorf("a valid RBAC name: %v", err)
	}
}
