package crdschema_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/crdschema"
)

// widget is a valid object of testdata/crds/example.com/widgets.yaml, whose fields each exercise one rule of
// the OpenAPI to JSON Schema conversion. The cases below change one line of it.
const widget = `apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
  namespace: demo
  labels:
    app: w
spec:
  size: 3
  mode: fast
  replicas: 5
  aliases: [a, null]
  tags: [a, b]
  extra: {known: k, anything: {deep: 1}}
  labels: {a: b}
  template: {apiVersion: v1, kind: Pod, metadata: {name: p, labels: {a: b}}, spec: {image: x}}
  source: {url: https://example.com}
`

func widgetWith(old, new string) string {
	if !strings.Contains(widget, old) {
		panic("widget has no " + old)
	}
	return strings.Replace(widget, old, new, 1)
}

func TestConversionRules(t *testing.T) {
	s, err := crdschema.Load("testdata/crds")
	if err != nil {
		t.Fatal(err)
	}
	runValidationCases(t, s, []validationCase{
		{name: "valid", object: widget},
		{name: "int-or-string takes a string", object: widgetWith("size: 3", "size: 50%")},
		{name: "int-or-string rejects a bool", object: widgetWith("size: 3", "size: true"),
			want: []violation{{"spec.size", "got boolean, want integer or string"}}},
		{name: "required", object: widgetWith("  size: 3\n", ""),
			want: []violation{{"spec.size", "required field is missing"}}},
		{name: "null fields are dropped", object: widgetWith("  mode: fast\n", "  mode: null\n  labels2: null\n")},
		{name: "null spec is dropped", object: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: null\n"},
		{name: "null list item of a non-nullable schema", object: widgetWith("tags: [a, b]", "tags: [a, null]"),
			want: []violation{{"spec.tags[1]", "got null, want string"}}},
		{name: "enum", object: widgetWith("mode: fast", "mode: medium"),
			want: []violation{{"spec.mode", "value must be one of 'fast', 'slow'"}}},
		{name: "exclusive minimum", object: widgetWith("replicas: 5", "replicas: 0"),
			want: []violation{{"spec.replicas", "must be > 0, got 0"}}},
		{name: "maximum", object: widgetWith("replicas: 5", "replicas: 6"),
			want: []violation{{"spec.replicas", "must be <= 5, got 6"}}},
		{name: "integer", object: widgetWith("replicas: 5", "replicas: 2.5"),
			want: []violation{{"spec.replicas", "want integer"}}},
		{name: "list-type set", object: widgetWith("tags: [a, b]", "tags: [a, a]"),
			want: []violation{{"spec.tags", "items at 0 and 1 are equal"}}},
		{name: "preserve-unknown-fields still checks known fields", object: widgetWith("known: k", "known: 5"),
			want: []violation{{"spec.extra.known", "want string"}}},
		{name: "additionalProperties schema", object: widgetWith("labels: {a: b}", "labels: {a: 1}"),
			want: []violation{{"spec.labels.a", "want string"}}},
		{name: "embedded resource is closed below its metadata", object: widgetWith("image: x", "imag: x"),
			want: []violation{{"spec.template.spec.imag", `unknown field "imag" (did you mean "image"?)`}}},
		{name: "pattern", object: widgetWith("url: https://example.com", "url: http://example.com"),
			want: []violation{{"spec.source.url", "does not match pattern '^https://'"}}},
		{name: "anyOf branches may name a subset of the properties", object: widgetWith("url: https://example.com", "path: p")},
		{name: "anyOf", object: widgetWith("source: {url: https://example.com}", "source: {}"),
			want: []violation{{"spec.source", "must match any of 2 alternatives: (missing property 'url') or (missing property 'path')"}}},
		{name: "unknown top-level field", object: widget + "specc: {}\n",
			want: []violation{{"specc", `did you mean "spec"?`}}},
		{name: "unknown field lists the known ones", object: widgetWith("mode: fast", "zzzzzz: fast"),
			want: []violation{{"spec.zzzzzz", "known fields: aliases, extra, labels, mode, note, replicas, size, source, tags, template"}}},
		{name: "metadata keeps the CRD's constraints and allows the rest", object: widgetWith("name: w", "name: much-too-long"),
			want: []violation{{"metadata.name", "must be at most 10 characters long, got 13"}}},
		{name: "metadata annotations are strings", object: widgetWith("    app: w\n", "    app: w\n  annotations: {num: 1}\n"),
			want: []violation{{"metadata.annotations.num", "want string"}}},
		{name: "version not served", object: widgetWith("example.com/v1", "example.com/v1beta1"),
			noCRD: true, want: []violation{{msg: "served: false"}}},
		{name: "kind typo", object: widgetWith("kind: Widget", "kind: Widgit"),
			noCRD: true, want: []violation{{msg: "did you mean Widget?"}}},
	})
}

func TestLoadErrors(t *testing.T) {
	valid, err := os.ReadFile("testdata/crds/example.com/widgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		want  string
	}{
		{name: "not a CRD", files: map[string]string{"a.yaml": "apiVersion: v1\nkind: ConfigMap\n"},
			want: `a.yaml: is "v1" "ConfigMap", want an apiextensions.k8s.io/v1 CustomResourceDefinition`},
		{name: "two documents", files: map[string]string{"a.yaml": string(valid) + "---\n" + string(valid)},
			want: "a.yaml: holds 2 YAML documents; keep one CRD per file"},
		{name: "same kind twice", files: map[string]string{"a.yaml": string(valid), "b/c.yml": string(valid)},
			want: "example.com/v1 Widget is also defined by"},
		{name: "invalid YAML", files: map[string]string{"a.yaml": "spec: [\n"},
			want: "a.yaml: "},
		{name: "missing folder", want: "no such file or directory"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			if c.files == nil {
				dir = filepath.Join(dir, "missing")
			}
			for name, content := range c.files {
				p := filepath.Join(dir, name)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := crdschema.Load(dir)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

// TestLoadIgnoresOtherFiles checks that files that are not YAML (the folder's README) are skipped and that a
// leading "---" and comments do not count as documents.
func TestLoadIgnoresOtherFiles(t *testing.T) {
	valid, err := os.ReadFile("testdata/crds/example.com/widgets.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for name, content := range map[string]string{
		"README.md":             "# not a CRD\n",
		"example.com/w.yaml":    "# comment\n---\n" + string(valid) + "---\n# trailing comment\n",
		"example.com/notes.txt": "apiVersion: v1\n",
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s, err := crdschema.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Kinds(); len(got) != 1 || got[0] != (crdschema.Kind{APIVersion: "example.com/v1", Kind: "Widget"}) {
		t.Errorf("Kinds() = %v, want only example.com/v1 Widget", got)
	}
}
