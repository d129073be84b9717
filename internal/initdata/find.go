package initdata

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/podtemplate"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Where encoded init-data and policies travel in Kubernetes objects.
const (
	// AnnotationInitData carries a pod's init-data (Kata 3.21 and later, and 3.20 on bare metal; OpenShift
	// sandboxed containers 1.11 and later). Which name a release reads: release.InitDataRules.
	AnnotationInitData = "io.katacontainers.config.hypervisor.cc_init_data"
	// AnnotationInitDataRuntime is the earlier name, read only by Kata 3.16 to 3.19 (sandboxed containers
	// 1.9 and 1.10). The two names are never both right for one cluster.
	AnnotationInitDataRuntime = "io.katacontainers.config.runtime.cc_init_data"
	// AnnotationAgentPolicy carries a Kata agent policy as base64 of the Rego text, without gzip.
	AnnotationAgentPolicy = "io.katacontainers.config.agent.policy"
	// ConfigMapKey is the peer-pods-cm key of the default init-data of every peer pod.
	ConfigMapKey = "INITDATA"
)

// Content is what an encoded field holds.
type Content string

// The contents of encoded fields.
const (
	ContentInitData    Content = "init-data"
	ContentAgentPolicy Content = "agent-policy"
)

// Field is one encoded value found in a Kubernetes object.
type Field struct {
	Kind, Namespace, Name string
	// Path is the field inside the object: data.INITDATA, or
	// spec.template.metadata.annotations["io.katacontainers.config.hypervisor.cc_init_data"].
	Path    string
	Pos     srcpos.Pos
	Content Content
	Value   string
}

// Object names the object: "Deployment hello-openshift/hello", or the kind alone when it has no name.
func (f Field) Object() string {
	name := f.Name
	if f.Namespace != "" {
		name = f.Namespace + "/" + name
	}
	return strings.TrimSpace(f.Kind + " " + name)
}

// String names the object and the field.
func (f Field) String() string { return f.Object() + " " + f.Path }

var (
	// objectStreamRe recognises Kubernetes YAML: a top-level apiVersion or kind key in some document.
	objectStreamRe = regexp.MustCompile(`(?m)^(apiVersion|kind)\s*:`)
	// tomlStartRe recognises the first line of a TOML document: a key and =, or a table header.
	tomlStartRe = regexp.MustCompile(`^\s*(\[|[A-Za-z0-9_."'-]+\s*=)`)
)

// IsObjectStream reports whether data looks like Kubernetes objects (YAML, possibly several documents)
// rather than an encoded blob or TOML: a top-level apiVersion or kind key, and a first line (after blank
// lines, comments and ---) that is not TOML. Init-data TOML may well hold such lines inside a string.
func IsObjectStream(data []byte) bool {
	if !objectStreamRe.Match(data) {
		return false
	}
	for line := range bytes.Lines(data) {
		t := bytes.TrimSpace(line)
		if len(t) == 0 || t[0] == '#' || bytes.Equal(t, []byte("---")) {
			continue
		}
		return !tomlStartRe.Match(t)
	}
	return false
}

// Find returns the encoded init-data and agent policies of a stream of Kubernetes objects: INITDATA in
// ConfigMaps (peer-pods-cm) and the init-data and policy annotations of any object and of its pod template
// (where package podtemplate says its kind keeps one), in the order of the stream. Diagnostics cover YAML errors, values that are not strings, empty values, the
// pre-3.20 annotation name and annotations over Kubernetes' size limit.
func Find(file string, data []byte) ([]Field, *diag.List) {
	f := &finder{file: file, diags: &diag.List{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			f.diags.Add(yamlDiagnostic(file, err))
			break
		}
		if len(doc.Content) == 0 {
			continue
		}
		root := doc.Content[0]
		if root.Kind == yaml.MappingNode {
			f.object(root)
		}
	}
	return f.fields, f.diags
}

var yamlErrorRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

// yamlDiagnostic turns a yaml.v3 error into a positioned diagnostic.
func yamlDiagnostic(file string, err error) diag.Diagnostic {
	d := diag.Diagnostic{Severity: diag.Error, Pos: srcpos.Pos{File: file}, Msg: "invalid YAML: " + err.Error()}
	if m := yamlErrorRe.FindStringSubmatch(err.Error()); m != nil {
		d.Pos.Line, _ = strconv.Atoi(m[1])
		// yaml.v3 counts the lines of parser errors (unlike scanner errors) from zero.
		if d.Pos.Line > 0 && strings.HasPrefix(m[2], "did not find expected") {
			d.Pos.Line++
		}
		d.Msg = "invalid YAML: " + m[2]
	}
	return d
}

type finder struct {
	file   string
	fields []Field
	diags  *diag.List
}

type objectRef struct {
	kind, namespace, name string
	// templateMeta is the path of the metadata of the object's pod template (podtemplate.Path), "" when the
	// kind has none apart from the object itself.
	templateMeta string
}

func (f *finder) pos(n *yaml.Node) srcpos.Pos {
	return srcpos.Pos{File: f.file, Line: n.Line, Col: n.Column}
}

func mapGet(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

func scalarValue(n *yaml.Node) string {
	if n != nil && n.Kind == yaml.ScalarNode {
		return n.Value
	}
	return ""
}

// isObject reports whether a mapping is a Kubernetes object (in a List's items, say).
func isObject(n *yaml.Node) bool {
	return n.Kind == yaml.MappingNode && mapGet(n, "kind") != nil && mapGet(n, "apiVersion") != nil
}

func (f *finder) object(n *yaml.Node) {
	md := mapGet(n, "metadata")
	obj := objectRef{kind: scalarValue(mapGet(n, "kind")), namespace: scalarValue(mapGet(md, "namespace")), name: scalarValue(mapGet(md, "name"))}
	if p, ok := podtemplate.Path(obj.kind); ok && len(p) > 0 {
		obj.templateMeta = strings.Join(p, ".") + ".metadata"
	}
	f.walk(n, obj, "")
}

func (f *finder) walk(n *yaml.Node, obj objectRef, path string) {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			key, v := n.Content[i].Value, n.Content[i+1]
			p := key
			if path != "" {
				p = path + "." + key
			}
			switch {
			case v.Kind == yaml.AliasNode:
				// Aliases are not followed: real manifests do not use them for these fields, and following
				// them would let a small document expand without bound.
			case key == "annotations" && (path == "metadata" || path == obj.templateMeta) && v.Kind == yaml.MappingNode:
				f.annotations(v, obj, p)
			case path == "" && key == "data" && obj.kind == "ConfigMap" && v.Kind == yaml.MappingNode:
				if val := mapGet(v, ConfigMapKey); val != nil {
					f.field(val, obj, "data."+ConfigMapKey, ContentInitData)
				}
			default:
				f.walk(v, obj, p)
			}
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			if isObject(item) {
				f.object(item)
				continue
			}
			f.walk(item, obj, path+"["+strconv.Itoa(i)+"]")
		}
	}
}

func (f *finder) annotations(m *yaml.Node, obj objectRef, path string) {
	size := 0
	var initData []string
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		size += len(k.Value) + len(scalarValue(v))
		field := path + "[" + strconv.Quote(k.Value) + "]"
		switch k.Value {
		case AnnotationInitData:
			initData = append(initData, k.Value)
			f.field(v, obj, field, ContentInitData)
		case AnnotationInitDataRuntime:
			initData = append(initData, k.Value)
			f.diags.Warnf(f.pos(k), obj.String()+" "+field, "only Kata 3.16 to 3.19 (OpenShift sandboxed containers 1.9 and 1.10) read this name; Kata 3.20 and later read %s", AnnotationInitData)
			f.field(v, obj, field, ContentInitData)
		case AnnotationAgentPolicy:
			f.field(v, obj, field, ContentAgentPolicy)
		}
	}
	if len(initData) == 2 {
		f.diags.Warnf(f.pos(m), obj.String()+" "+path, "both %s and %s are set: a cluster reads one of them, and the other can fail the pod (\"annotation is not enabled\"); keep the one for the cluster's Kata version", AnnotationInitData, AnnotationInitDataRuntime)
	}
	if size > MaxAnnotationsSize {
		f.diags.Warnf(f.pos(m), obj.String()+" "+path, "the annotations total %d bytes (keys and values), more than Kubernetes' limit of %d: the API server will reject this object", size, MaxAnnotationsSize)
	}
}

func (o objectRef) String() string {
	return Field{Kind: o.kind, Namespace: o.namespace, Name: o.name}.Object()
}

func (f *finder) field(v *yaml.Node, obj objectRef, path string, content Content) {
	where := obj.String() + " " + path
	if v.Kind != yaml.ScalarNode || (v.Tag != "!!str" && v.Tag != "!!null") {
		f.diags.Errorf(f.pos(v), where, "must be a string (the encoded %s)", content)
		return
	}
	if strings.TrimSpace(v.Value) == "" {
		f.diags.Warnf(f.pos(v), where, "is empty: Kata ignores it")
		return
	}
	f.fields = append(f.fields, Field{
		Kind: obj.kind, Namespace: obj.namespace, Name: obj.name,
		Path: path, Pos: f.pos(v), Content: content, Value: v.Value,
	})
}

// DecodeAgentPolicy decodes the value of the agent policy annotation: standard padded base64 of the Rego text,
// without gzip (the Kata shim hands the decoded bytes to the agent as they are).
func DecodeAgentPolicy(value []byte) (string, error) {
	text := bytes.TrimLeftFunc(value, isSpace)
	lead := len(value) - len(text)
	text = bytes.TrimRightFunc(text, isSpace)
	if len(text) == 0 {
		return "", errors.New("empty: there is no policy (Kata ignores an empty annotation)")
	}
	raw, err := decodeBase64(text, lead)
	if err != nil {
		return "", err
	}
	if isGzip(raw) {
		return "", errors.New("the base64 text decodes to gzip data: the agent policy annotation is base64 of the Rego text without gzip (gzip is for init-data), and the agent would receive the compressed bytes")
	}
	if !utf8.Valid(raw) {
		return "", fmt.Errorf("the base64 text decodes to %d bytes that are not UTF-8 Rego text", len(raw))
	}
	return string(raw), nil
}
