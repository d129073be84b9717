package initdata

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/lazyre"
	"github.com/cocogen/cocogen/internal/node"
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
	objectStreamRe = lazyre.New(`(?m)^(apiVersion|kind)\s*:`)
	// tomlStartRe recognises the first line of a TOML document: a key and =, or a table header.
	tomlStartRe = lazyre.New(`^\s*(\[|[A-Za-z0-9_."'-]+\s*=)`)
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
// (where package podtemplate says its kind keeps one), in the order of the stream. The stream is read by the
// render's own YAML reader (package node, within its default limits), so positions and YAML errors read as
// everywhere else. Diagnostics cover YAML errors, values that are not strings, empty values, the pre-3.20
// annotation name and annotations over Kubernetes' size limit.
func Find(file string, data []byte) ([]Field, *diag.List) {
	f := &finder{file: file, diags: &diag.List{}}
	docs, err := node.ParseStream(file, data, node.DefaultLimits)
	if err != nil {
		f.diags.AddError(err)
		return nil, f.diags
	}
	for _, doc := range docs {
		if doc.Kind == node.Map {
			f.object(doc)
		}
	}
	return f.fields, f.diags
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

// isObject reports whether a map is a Kubernetes object (in a List's items, say).
func isObject(n *node.Node) bool {
	return n.Kind == node.Map && n.Get("kind") != nil && n.Get("apiVersion") != nil
}

func (f *finder) object(n *node.Node) {
	md := n.Get("metadata")
	obj := objectRef{kind: n.Get("kind").Scalar(), namespace: md.Get("namespace").Scalar(), name: md.Get("name").Scalar()}
	if p, ok := podtemplate.Path(obj.kind); ok && len(p) > 0 {
		obj.templateMeta = strings.Join(p, ".") + ".metadata"
	}
	f.walk(n, obj, "")
}

func (f *finder) walk(n *node.Node, obj objectRef, path string) {
	switch n.Kind {
	case node.Map:
		for _, e := range n.Entries() {
			key, v := e.Key, e.Value
			p := key
			if path != "" {
				p = path + "." + key
			}
			switch {
			case key == "annotations" && (path == "metadata" || path == obj.templateMeta) && v.Kind == node.Map:
				f.annotations(v, obj, p)
			case path == "" && key == "data" && obj.kind == "ConfigMap" && v.Kind == node.Map:
				if val := v.Get(ConfigMapKey); val != nil {
					f.field(val, obj, "data."+ConfigMapKey, ContentInitData)
				}
			default:
				f.walk(v, obj, p)
			}
		}
	case node.List:
		for i, item := range n.Items() {
			if isObject(item) {
				f.object(item)
				continue
			}
			f.walk(item, obj, path+"["+strconv.Itoa(i)+"]")
		}
	}
}

func (f *finder) annotations(m *node.Node, obj objectRef, path string) {
	size := 0
	var initData []string
	for _, e := range m.Entries() {
		v := e.Value
		size += len(e.Key) + len(v.Scalar())
		field := path + "[" + strconv.Quote(e.Key) + "]"
		switch e.Key {
		case AnnotationInitData:
			initData = append(initData, e.Key)
			f.field(v, obj, field, ContentInitData)
		case AnnotationInitDataRuntime:
			initData = append(initData, e.Key)
			f.diags.Warnf(e.KeyPos, obj.String()+" "+field, "only Kata 3.16 to 3.19 (OpenShift sandboxed containers 1.9 and 1.10) read this name; Kata 3.20 and later read %s", AnnotationInitData)
			f.field(v, obj, field, ContentInitData)
		case AnnotationAgentPolicy:
			f.field(v, obj, field, ContentAgentPolicy)
		}
	}
	if len(initData) == 2 {
		f.diags.Warnf(m.Pos, obj.String()+" "+path, "both %s and %s are set: a cluster reads one of them, and the other can fail the pod (\"annotation is not enabled\"); keep the one for the cluster's Kata version", AnnotationInitData, AnnotationInitDataRuntime)
	}
	if size > MaxAnnotationsSize {
		f.diags.Warnf(m.Pos, obj.String()+" "+path, "the annotations total %d bytes (keys and values), more than Kubernetes' limit of %d: the API server will reject this object", size, MaxAnnotationsSize)
	}
}

func (o objectRef) String() string {
	return Field{Kind: o.kind, Namespace: o.namespace, Name: o.name}.Object()
}

func (f *finder) field(v *node.Node, obj objectRef, path string, content Content) {
	where := obj.String() + " " + path
	if v.Kind != node.String && v.Kind != node.Null {
		f.diags.Errorf(v.Pos, where, "must be a string (the encoded %s)", content)
		return
	}
	if strings.TrimSpace(v.Text) == "" {
		f.diags.Warnf(v.Pos, where, "is empty: Kata ignores it")
		return
	}
	f.fields = append(f.fields, Field{
		Kind: obj.kind, Namespace: obj.namespace, Name: obj.name,
		Path: path, Pos: v.Pos, Content: content, Value: v.Text,
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
