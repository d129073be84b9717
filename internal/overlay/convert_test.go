package overlay

import (
	"bytes"
	"testing"
	"testing/fstest"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/repo"
)

// trickyOverlay holds values whose type or order kustomize's own YAML output changes: YAML 1.1 booleans,
// floats that are integers, octal and huge numbers, timestamps, merge keys, keys that sort by number, an
// empty map and list, nulls, and a JSON patch (which makes kustomize rebuild the object without positions).
var trickyOverlay = fstest.MapFS{
	"overlays/t/kustomization.yaml": {Data: []byte(`resources:
  - cm.yaml
  - deploy.yaml
patches:
  - target:
      kind: Deployment
    patch: |-
      - op: add
        path: /spec/template/metadata/annotations
        value:
          coco.io/initdata-profile: debug
`)},
	"overlays/t/cm.yaml": {Data: []byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: tricky
  labels: &l
    a10: x
    a2: y
    B: z
    _u: w
    "1": one
data:
  yes: yes
  "on": on
  one: 1.0
  half: 0.5
  big: 1e21
  octal: 0777
  huge: 18446744073709551615
  date: 2001-12-14
  quoted: "2001-12-14"
  nothing: ~
  empty: ""
  emptyMap: {}
  emptyList: []
  merged:
    <<: *l
    a2: own
`)},
	"overlays/t/deploy.yaml": {Data: []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1
`)},
}

// TestConvertedObjectsAreKustomizesOutput: the objects converted from kustomize's nodes are, value for value
// and key for key, what kustomize's own YAML output (Resource.AsYAML) parses to.
func TestConvertedObjectsAreKustomizesOutput(t *testing.T) {
	root := repo.New(trickyOverlay, "", "")
	src, d := Load(root, "overlays/t", Options{})
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	res, d := src.Build()
	if d.HasErrors() {
		t.Fatal(d.Err())
	}
	want := kustomizeOutput(t, src)
	if len(want) != len(res.Resources) {
		t.Fatalf("%d objects, kustomize printed %d", len(res.Resources), len(want))
	}
	for i, r := range res.Resources {
		var got, exp bytes.Buffer
		node.EncodeYAML(&got, r.Node)
		node.EncodeYAML(&exp, want[i])
		if got.String() != exp.String() {
			t.Errorf("object %d:\n%s\nkustomize printed\n%s", i, got.String(), exp.String())
		}
		if !node.Equal(r.Node, want[i]) {
			t.Errorf("object %d: values differ", i)
		}
	}
	// Positions: a value of a manifest carries its line in that manifest; the profile, which the JSON patch
	// writes, its line inside the kustomization's inline patch.
	for _, r := range res.Resources {
		switch r.Node.Get("kind").Scalar() {
		case "ConfigMap":
			if p := r.Node.Path("data", "half").Pos; p.String() != "overlays/t/cm.yaml:15:9" {
				t.Errorf("data.half at %s", p)
			}
		case "Deployment":
			if p := r.Node.Path("spec", "template", "metadata", "annotations", "coco.io/initdata-profile").Pos; p.String() != "overlays/t/kustomization.yaml:11:37" {
				t.Errorf("the profile at %s", p)
			}
			image := r.Node.Path("spec", "template", "spec", "containers").Items()[0].Get("image")
			if image.Pos.String() != "overlays/t/deploy.yaml:13:18" {
				t.Errorf("the image at %s", image.Pos)
			}
		}
	}
}

func TestKeyLess(t *testing.T) {
	sorted := []string{"_u", "1", "2", "10", "a", "a2", "a10", "aB", "ab", "b", "é"}
	for i := range sorted {
		for j := range sorted {
			if got := keyLess(sorted[i], sorted[j]); got != (i < j) {
				t.Errorf("keyLess(%q, %q) = %v", sorted[i], sorted[j], got)
			}
		}
	}
}
