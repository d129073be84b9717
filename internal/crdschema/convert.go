package crdschema

import "maps"

// toJSONSchema converts the openAPIV3Schema of one CRD version into a JSON Schema (draft 2020-12), the way
// kubeconform's openapi2jsonschema does in strict mode, so that a JSON Schema validator rejects what the API
// server rejects:
//
//   - an object schema that lists properties and does not set x-kubernetes-preserve-unknown-fields: true gets
//     additionalProperties: false, so an unknown field is an error (kubectl's default --validate=strict);
//   - x-kubernetes-int-or-string: true accepts an integer or a string;
//   - nullable: true also accepts null;
//   - OpenAPI 3.0's boolean exclusiveMinimum/exclusiveMaximum become draft 2020-12's numeric ones;
//   - x-kubernetes-list-type: set becomes uniqueItems: true;
//   - x-kubernetes-embedded-resource: true allows the embedded object's apiVersion, kind and metadata;
//   - the top level allows apiVersion, kind and metadata (see objectMeta), which every object has and most CRD
//     schemas declare as a bare "type: object".
//
// Kept as they are: type, enum, required, items, properties, additionalProperties, format (not asserted),
// pattern, min/max constraints, multipleOf, uniqueItems, allOf/anyOf/oneOf/not. Left out: descriptions,
// defaults and examples (they do not validate and hold most of a CRD's bytes) and what JSON Schema cannot
// express: x-kubernetes-validations (CEL rules) and the key uniqueness of x-kubernetes-list-type: map.
func toJSONSchema(openAPI map[string]any) map[string]any {
	s := convert(openAPI, false)
	props, _ := s["properties"].(map[string]any)
	props = maps.Clone(props)
	if props == nil {
		props = map[string]any{}
	}
	props["apiVersion"] = map[string]any{"type": "string"}
	props["kind"] = map[string]any{"type": "string"}
	props["metadata"] = objectMeta(props["metadata"])
	s["properties"] = props
	return s
}

// objectMeta is the schema of an object's metadata: the CRD's own metadata schema (the API server allows only
// constraints on name and generateName there) without additionalProperties, since the full ObjectMeta has many
// more fields, plus the types the API server enforces for the common fields.
func objectMeta(declared any) map[string]any {
	m := map[string]any{"type": "object"}
	props := map[string]any{}
	if d, ok := declared.(map[string]any); ok {
		if p, ok := d["properties"].(map[string]any); ok {
			maps.Copy(props, p)
		}
	}
	str := map[string]any{"type": "string"}
	strMap := map[string]any{"type": "object", "additionalProperties": str}
	for k, v := range map[string]any{
		"name":         str,
		"generateName": str,
		"namespace":    str,
		"labels":       strMap,
		"annotations":  strMap,
		"finalizers":   map[string]any{"type": "array", "items": str},
	} {
		if _, ok := props[k]; !ok {
			props[k] = v
		}
	}
	m["properties"] = props
	return m
}

// convert converts one schema node. inJunctor is true below allOf, anyOf, oneOf and not: Kubernetes requires
// the branches of a structural schema to hold only value constraints, and properties named there are also
// declared beside the junctor, so closing them with additionalProperties: false would reject valid objects.
func convert(in map[string]any, inJunctor bool) map[string]any {
	out := map[string]any{}
	for _, k := range []string{"type", "enum", "required", "format", "pattern", "minLength", "maxLength",
		"minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties", "multipleOf"} {
		if v, ok := in[k]; ok {
			out[k] = v
		}
	}
	for _, b := range []struct{ bound, exclusive string }{{"minimum", "exclusiveMinimum"}, {"maximum", "exclusiveMaximum"}} {
		v, ok := in[b.bound]
		if !ok {
			continue
		}
		if ex, _ := in[b.exclusive].(bool); ex {
			out[b.exclusive] = v
		} else {
			out[b.bound] = v
		}
	}
	if isTrue(in["x-kubernetes-int-or-string"]) {
		out["type"] = []any{"integer", "string"}
	}
	if isTrue(in["nullable"]) {
		switch t := out["type"].(type) {
		case string:
			out["type"] = []any{t, "null"}
		case []any:
			out["type"] = append(t, "null")
		}
		if e, ok := out["enum"].([]any); ok {
			out["enum"] = append(e, nil)
		}
	}
	if in["x-kubernetes-list-type"] == "set" {
		out["uniqueItems"] = true
	}

	props, hasProps := in["properties"].(map[string]any)
	if hasProps {
		converted := make(map[string]any, len(props)+3)
		for k, v := range props {
			if p, ok := v.(map[string]any); ok {
				converted[k] = convert(p, inJunctor)
			}
		}
		if isTrue(in["x-kubernetes-embedded-resource"]) {
			converted["apiVersion"] = map[string]any{"type": "string"}
			converted["kind"] = map[string]any{"type": "string"}
			converted["metadata"] = objectMeta(converted["metadata"])
		}
		out["properties"] = converted
	}
	switch ap := in["additionalProperties"].(type) {
	case bool:
		out["additionalProperties"] = ap
	case map[string]any:
		out["additionalProperties"] = convert(ap, inJunctor)
	case nil:
		if hasProps && !inJunctor && !isTrue(in["x-kubernetes-preserve-unknown-fields"]) {
			out["additionalProperties"] = false
		}
	}
	if items, ok := in["items"].(map[string]any); ok {
		out["items"] = convert(items, inJunctor)
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		list, ok := in[k].([]any)
		if !ok {
			continue
		}
		branches := make([]any, 0, len(list))
		for _, b := range list {
			if m, ok := b.(map[string]any); ok {
				branches = append(branches, convert(m, true))
			}
		}
		out[k] = branches
	}
	if not, ok := in["not"].(map[string]any); ok {
		out["not"] = convert(not, true)
	}
	return out
}

func isTrue(v any) bool { b, _ := v.(bool); return b }
