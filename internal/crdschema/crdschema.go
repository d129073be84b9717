// Package crdschema validates rendered Kubernetes objects against the schemas of upstream
// CustomResourceDefinitions kept in a folder, so that a field the API server would reject (an unknown field, a
// wrong type, a value outside an enum) is found before Argo CD applies the manifests.
//
// Each served version's openAPIV3Schema is converted into a JSON Schema (see toJSONSchema) and checked with
// github.com/santhosh-tekuri/jsonschema/v6. Load reads only what each file defines; the schema of a kind is read
// again and compiled the first time an object of that kind is validated, because the large CRDs (the Argo CD
// operator's is 2 MB) take long to compile and most callers need a few kinds.
package crdschema

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"

	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
)

// EnvDir is the environment variable that names the CRD folder.
const EnvDir = "COCOGEN_CRDS"

// ErrNoCRD is returned (wrapped) by Validate for an object whose apiVersion and kind no CRD in the set serves.
var ErrNoCRD = errors.New("no CRD")

// Set holds the CRDs of a folder, keyed by apiVersion and kind. It is safe for concurrent use.
type Set struct {
	dir   string
	kinds map[Kind]*version
	// unserved records versions that a CRD defines with served: false, to explain why they are rejected.
	unserved map[Kind]string
}

// Kind names a kind at one API version.
type Kind struct{ APIVersion, Kind string }

// Kinds returns the served kinds, sorted by apiVersion and kind.
func (s *Set) Kinds() []Kind {
	kinds := slices.Collect(maps.Keys(s.kinds))
	slices.SortFunc(kinds, func(a, b Kind) int {
		return cmp.Or(cmp.Compare(a.APIVersion, b.APIVersion), cmp.Compare(a.Kind, b.Kind))
	})
	return kinds
}

// version is one served version of a CRD; its schema is compiled on first use.
type version struct {
	file   string // the CRD file
	crd    string // metadata.name of the CRD
	name   string // the version, v1alpha1
	once   sync.Once
	schema *jsonschema.Schema
	// openAPI is the version's openAPIV3Schema, for defaulting.
	openAPI map[string]any
	err     error
}

// crdFile is the part of a CRD file that Load reads.
type crdFile struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec struct {
		Group string `json:"group"`
		Names struct {
			Kind string `json:"kind"`
		} `json:"names"`
		Versions []struct {
			Name   string `json:"name"`
			Served bool   `json:"served"`
			Schema struct {
				OpenAPIV3Schema json.RawMessage `json:"openAPIV3Schema"`
			} `json:"schema"`
		} `json:"versions"`
	} `json:"spec"`
}

// Load reads every *.yaml and *.yml file under dir (recursively); each must hold one apiextensions.k8s.io/v1
// CustomResourceDefinition. Two files serving the same apiVersion and kind are an error.
func Load(dir string) (*Set, error) {
	s := &Set{dir: dir, kinds: map[Kind]*version{}, unserved: map[Kind]string{}}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return nil
		}
		crd, err := readCRD(path)
		if err != nil {
			return err
		}
		for _, v := range crd.Spec.Versions {
			key := Kind{crd.Spec.Group + "/" + v.Name, crd.Spec.Names.Kind}
			if !v.Served {
				s.unserved[key] = path
				continue
			}
			if prev, ok := s.kinds[key]; ok {
				return fmt.Errorf("%s: %s %s is also defined by %s; keep one CRD per kind", path, key.APIVersion, key.Kind, prev.file)
			}
			s.kinds[key] = &version{file: path, crd: crd.Metadata.Name, name: v.Name}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load CRDs: %w", err)
	}
	return s, nil
}

// docSeparator finds YAML document separators, to reject files that hold more than one document.
var docSeparator = lazyre.New(`(?m)^---[ \t]*(?:#.*)?$`)

// readCRD reads and checks a CRD file.
func readCRD(path string) (*crdFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	docs := 0
	for _, doc := range docSeparator.Split(string(data), -1) {
		if hasContent(doc) {
			docs++
		}
	}
	if docs > 1 {
		return nil, fmt.Errorf("%s: holds %d YAML documents; keep one CRD per file", path, docs)
	}
	var crd crdFile
	if err := yaml.Unmarshal(data, &crd); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if crd.APIVersion != "apiextensions.k8s.io/v1" || crd.Kind != "CustomResourceDefinition" {
		return nil, fmt.Errorf("%s: is %q %q, want an apiextensions.k8s.io/v1 CustomResourceDefinition", path, crd.APIVersion, crd.Kind)
	}
	if crd.Spec.Group == "" || crd.Spec.Names.Kind == "" || len(crd.Spec.Versions) == 0 {
		return nil, fmt.Errorf("%s: CRD %q lacks spec.group, spec.names.kind or spec.versions", path, crd.Metadata.Name)
	}
	return &crd, nil
}

// hasContent reports whether a YAML document holds more than blank lines and comments.
func hasContent(doc string) bool {
	for line := range strings.Lines(doc) {
		if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
			return true
		}
	}
	return false
}

// compileVersion reads the version's schema from its file again and compiles it.
func compileVersion(v *version) (*jsonschema.Schema, map[string]any, error) {
	crd, err := readCRD(v.file)
	if err != nil {
		return nil, nil, err
	}
	var raw json.RawMessage
	for _, cv := range crd.Spec.Versions {
		if cv.Name == v.name && cv.Served {
			raw = cv.Schema.OpenAPIV3Schema
		}
	}
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil, fmt.Errorf("%s: version %s has no schema.openAPIV3Schema", v.file, v.name)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber() // keep bounds such as maximum: 65535 exact
	var openAPI map[string]any
	if err := dec.Decode(&openAPI); err != nil {
		return nil, nil, fmt.Errorf("%s: version %s: %w", v.file, v.name, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	url := "https://" + v.crd + "/" + v.name + ".json"
	if err := c.AddResource(url, toJSONSchema(openAPI)); err != nil {
		return nil, nil, fmt.Errorf("%s: version %s: %w", v.file, v.name, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: version %s: compile schema: %w", v.file, v.name, err)
	}
	return sch, openAPI, nil
}

// Has reports whether a CRD in the set serves apiVersion and kind.
func (s *Set) Has(apiVersion, kind string) bool {
	_, ok := s.kinds[Kind{apiVersion, kind}]
	return ok
}

// Validate checks obj against the CRD that serves its apiVersion and kind. It returns an *Error that lists
// every violation, an error wrapping ErrNoCRD when no CRD serves the kind, or another error when the schema
// cannot be compiled.
//
// Null values in maps are removed before validating, whatever the schema says about nullable: Helm charts emit
// them (spec: null, a parameter's value: null) and the API server drops a null field whose schema is not
// nullable instead of rejecting it. Nulls inside lists are kept and validated.
func (s *Set) Validate(obj *node.Node) error {
	apiVersion, kind := obj.Path("apiVersion").Scalar(), obj.Path("kind").Scalar()
	if apiVersion == "" || kind == "" {
		return errors.New("object has no apiVersion or kind")
	}
	v, ok := s.kinds[Kind{apiVersion, kind}]
	if !ok {
		return fmt.Errorf("%w for %s %s in %s%s", ErrNoCRD, apiVersion, kind, s.dir, s.hint(apiVersion, kind))
	}
	v.once.Do(func() { v.schema, v.openAPI, v.err = compileVersion(v) })
	if v.err != nil {
		return v.err
	}
	err := v.schema.Validate(applyDefaults(v.openAPI, instance(obj)))
	if err == nil {
		return nil
	}
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return fmt.Errorf("validate %s %s: %w", apiVersion, kind, err)
	}
	return &Error{
		Object:     apiVersion + " " + kind + " " + objectName(obj),
		CRD:        v.file,
		Violations: violations(v.schema, obj, verr),
	}
}

// hint says which versions of kind the set does serve, or that the version is not served.
func (s *Set) hint(apiVersion, kind string) string {
	if file, ok := s.unserved[Kind{apiVersion, kind}]; ok {
		return fmt.Sprintf(" (%s defines it with served: false)", file)
	}
	group, _, _ := strings.Cut(apiVersion, "/")
	var served, kinds, similar []string
	for k := range s.kinds {
		if k.Kind == kind && strings.HasPrefix(k.APIVersion, group+"/") {
			served = append(served, k.APIVersion)
		}
		if k.APIVersion == apiVersion {
			kinds = append(kinds, k.Kind)
		}
	}
	if sug := schema.Suggest(kind, kinds); sug != "" {
		similar = append(similar, sug)
	}
	switch {
	case len(served) > 0:
		slices.Sort(served)
		return fmt.Sprintf(" (served versions of %s: %s)", kind, strings.Join(served, ", "))
	case len(similar) > 0:
		slices.Sort(similar)
		return fmt.Sprintf(" (did you mean %s?)", strings.Join(similar, " or "))
	}
	return ""
}

func objectName(obj *node.Node) string {
	name := cmp.Or(obj.Path("metadata", "name").Scalar(), "<unnamed>")
	if ns := obj.Path("metadata", "namespace").Scalar(); ns != "" {
		return ns + "/" + name
	}
	return name
}

// Dir returns the CRD folder: $COCOGEN_CRDS, or else ../shared/crds relative to the repository root (the
// nearest directory at or above the working directory that holds go.mod). ok is false when the folder does not
// exist; dir is still returned so that the caller can name it.
func Dir() (dir string, ok bool) {
	dir = os.Getenv(EnvDir)
	if dir == "" {
		root, err := moduleRoot()
		if err != nil {
			return filepath.Join("..", "shared", "crds"), false
		}
		dir = filepath.Join(root, "..", "shared", "crds")
	}
	st, err := os.Stat(dir)
	return dir, err == nil && st.IsDir()
}

func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory")
		}
		dir = parent
	}
}
