package overlay

import (
	"bytes"
	"fmt"
	"strings"
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
	if msg := differsFromKustomize(res, want); msg != "" {
		t.Fatal(msg)
	}
	for i, r := range res.Resources {
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

// FuzzConvert checks the conversion against kustomize's own output on any manifest kustomize builds: every
// object converted from kustomize's nodes must encode to the bytes that its printed YAML parses to.
func FuzzConvert(f *testing.F) {
	f.Add(trickyOverlay["overlays/t/cm.yaml"].Data)
	f.Add([]byte("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  x: !!binary aGVsbG8=\n  y: !!str 12\n  z: 0x1F\n  w: .inf\n"))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems:\n  - {apiVersion: v1, kind: ConfigMap, metadata: {name: b}, data: {k: '010', n: -0.0}}\n"))
	f.Fuzz(func(t *testing.T, manifest []byte) {
		mem := fstest.MapFS{
			"overlays/f/kustomization.yaml": {Data: []byte("resources:\n  - m.yaml\n")},
			"overlays/f/m.yaml":             {Data: manifest},
		}
		src, d := Load(repo.New(mem, "", ""), "overlays/f", Options{})
		if d.HasErrors() {
			return // refused before kustomize runs
		}
		res, d := src.Build()
		want, werr := kustomizeOutputErr(src)
		if d.HasErrors() {
			if werr == nil && res == nil && !strings.Contains(d.Err().Error(), "kustomize") && len(want) > 0 {
				// The conversion refused what kustomize prints: only values JSON cannot hold may be refused.
				for _, it := range d.Sorted() {
					if !strings.Contains(it.Msg, "json") && !strings.Contains(it.Msg, "not a string") && !strings.Contains(it.Msg, "budget") && !strings.Contains(it.Msg, "alias") {
						t.Fatalf("refused %q: %v", manifest, d.Err())
					}
				}
			}
			return
		}
		if werr != nil {
			t.Fatalf("converted what kustomize cannot print (%v): %q", werr, manifest)
		}
		if msg := differsFromKustomize(res, want); msg != "" {
			t.Fatalf("%s\nmanifest %q", msg, manifest)
		}
	})
}

// differsFromKustomize says how the converted objects differ from what kustomize printed, as YAML, or "" when
// they do not.
func differsFromKustomize(res *Result, want []*node.Node) string {
	if len(want) != len(res.Resources) {
		return fmt.Sprintf("%d objects, kustomize printed %d", len(res.Resources), len(want))
	}
	for i, r := range res.Resources {
		var got, exp bytes.Buffer
		node.EncodeYAML(&got, r.Node)
		node.EncodeYAML(&exp, want[i])
		if got.String() != exp.String() {
			return fmt.Sprintf("object %d:\n%s\nkustomize printed\n%s", i, got.String(), exp.String())
		}
	}
	return ""
}
