// Package review makes rendered and live objects readable for people: Decode rewrites every encoded field
// cocogen knows (init-data in peer-pods-cm and pod annotations, agent policy annotations, the RVPS reference
// values store) into its readable form with its digests, and Compare matches two sets of objects and reports
// what changed, with unified diffs of the decoded YAML and the attestation digests that moved.
package review

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/podtemplate"
	"github.com/cocogen/cocogen/internal/rvps"
)

// DecodedMarker starts every value Decode rewrote, so that decoding twice changes nothing.
const DecodedMarker = "# decoded by cocogen: "

// Decode returns the objects with every recognised encoded field in readable form, keys sorted, and the items
// of List objects as objects of their own. It never decodes Secrets. A field that does not decode is left as it
// is and reported in the returned problems (one line each, naming the object and field).
func Decode(objs []*node.Node) ([]*node.Node, []string) {
	var out []*node.Node
	var problems []string
	for _, o := range objs {
		if o == nil || o.Kind != node.Map {
			continue
		}
		if o.Get("kind").Scalar() == "List" && o.Get("items") != nil {
			items, p := Decode(o.Get("items").Items())
			out = append(out, items...)
			problems = append(problems, p...)
			continue
		}
		d, p := decodeObject(node.Sorted(o))
		out = append(out, d)
		problems = append(problems, p...)
	}
	return out, problems
}

func objectName(o *node.Node) string {
	name := o.Path("metadata", "name").Scalar()
	if ns := o.Path("metadata", "namespace").Scalar(); ns != "" {
		name = ns + "/" + name
	}
	return o.Get("kind").Scalar() + " " + name
}

// decodeObject rewrites the encoded fields of one object (already a private copy with sorted keys).
func decodeObject(o *node.Node) (*node.Node, []string) {
	var problems []string
	fail := func(field string, err error) {
		problems = append(problems, fmt.Sprintf("%s %s: %v", objectName(o), field, err))
	}
	kind := o.Get("kind").Scalar()
	if kind == "Secret" {
		return o, nil
	}
	if kind == "ConfigMap" {
		if data := o.Get("data"); data != nil && data.Kind == node.Map {
			for _, e := range data.Entries() {
				if e.Value.Kind != node.String {
					continue
				}
				switch {
				case e.Key == "INITDATA":
					if s, err := readableInitData(e.Value.Text); err != nil {
						fail("data.INITDATA", err)
					} else {
						data.Set(e.Key, node.NewString(s))
					}
				case e.Key == "reference_value" && o.Path("metadata", "name").Scalar() == rvps.ConfigMapName:
					if s, err := readableReferenceValues(e.Value.Text); err != nil {
						fail("data.reference_value", err)
					} else {
						data.Set(e.Key, node.NewString(s))
					}
				}
			}
		}
	}
	annotate := func(meta *node.Node, prefix string) {
		ann := meta.Get("annotations")
		if ann == nil || ann.Kind != node.Map {
			return
		}
		for _, e := range ann.Entries() {
			if e.Value.Kind != node.String {
				continue
			}
			field := prefix + "metadata.annotations." + e.Key
			switch e.Key {
			case initdata.AnnotationInitData, initdata.AnnotationInitDataRuntime:
				if s, err := readableInitData(e.Value.Text); err != nil {
					fail(field, err)
				} else {
					ann.Set(e.Key, node.NewString(s))
				}
			case initdata.AnnotationAgentPolicy:
				if s, err := readablePolicy(e.Value.Text); err != nil {
					fail(field, err)
				} else {
					ann.Set(e.Key, node.NewString(s))
				}
			}
		}
	}
	if meta := o.Get("metadata"); meta != nil && meta.Kind == node.Map {
		annotate(meta, "")
	}
	// The pod template's annotations (podtemplate: where each kind keeps it; a Pod's are its own, above).
	if tmpl, p := podtemplate.Of(o); tmpl != nil && len(p) > 0 {
		if meta := tmpl.Get("metadata"); meta != nil && meta.Kind == node.Map {
			annotate(meta, strings.Join(p, ".")+".")
		}
	}
	return o, problems
}

// readableInitData turns an encoded init-data value into its TOML, headed by a comment with its encoding and
// digests. A value that is already readable is returned as it is.
func readableInitData(v string) (string, error) {
	if strings.HasPrefix(v, DecodedMarker) {
		return v, nil
	}
	dec, err := initdata.Decode([]byte(v))
	if err != nil {
		return "", err
	}
	d := dec.Digests
	var b strings.Builder
	fmt.Fprintf(&b, "%sinit-data (%s, %d bytes encoded)\n", DecodedMarker, dec.Encoding, len(strings.TrimSpace(v)))
	fmt.Fprintf(&b, "# %s %s\n# azure-pcr8 %s\n# snp-host-data %s\n# tdx-mrconfigid %s\n", d.Algorithm, d.Digest, d.AzurePCR8, d.SNPHostData, d.TDXMRConfigID)
	b.Write(dec.TOML)
	if !bytes.HasSuffix(dec.TOML, []byte("\n")) {
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// readablePolicy turns a base64 agent policy annotation into its Rego.
func readablePolicy(v string) (string, error) {
	if strings.HasPrefix(v, DecodedMarker) {
		return v, nil
	}
	rego, err := initdata.DecodeAgentPolicy([]byte(v))
	if err != nil {
		return "", err
	}
	return DecodedMarker + "agent policy (base64)\n" + strings.TrimSuffix(rego, "\n") + "\n", nil
}

// readableReferenceValues turns the RVPS local JSON store (each value URL-safe base64 of its JSON) into one
// JSON object of the stored values.
func readableReferenceValues(v string) (string, error) {
	var probe map[string]any
	if err := json.Unmarshal([]byte(v), &probe); err != nil {
		return "", fmt.Errorf("not JSON: %w", err)
	}
	for _, x := range probe {
		if _, ok := x.(string); !ok {
			return v, nil // already readable (decoded before, or another format)
		}
	}
	stored, err := rvps.Decode([]byte(v))
	if err != nil {
		return "", err
	}
	out := map[string]any{}
	for name, raw := range stored {
		var val any
		if err := json.Unmarshal(raw, &val); err != nil {
			return "", fmt.Errorf("%s: not JSON: %w", name, err)
		}
		out[name] = val
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return "", err
	}
	return b.String(), nil
}
