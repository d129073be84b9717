package crdschema

// applyDefaults sets the defaults of an openAPIV3Schema on an object, as the API server does before it
// validates (structural defaulting): a field that is absent gets its schema's default, in objects that are
// present, recursively, and in the items of lists. Validating without defaults rejects objects that the API
// server accepts (a Route without host fails the CRD's anyOf until wildcardPolicy defaults to None).
func applyDefaults(schema map[string]any, v any) any {
	if schema == nil {
		return v
	}
	switch val := v.(type) {
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		for name, ps := range props {
			p, _ := ps.(map[string]any)
			if p == nil {
				continue
			}
			cur, present := val[name]
			if !present {
				if d, ok := p["default"]; ok {
					val[name] = deepCopy(d)
				}
				continue
			}
			val[name] = applyDefaults(p, cur)
		}
		if ap, ok := schema["additionalProperties"].(map[string]any); ok {
			for k, cur := range val {
				if _, declared := props[k]; !declared {
					val[k] = applyDefaults(ap, cur)
				}
			}
		}
		return val
	case []any:
		items, _ := schema["items"].(map[string]any)
		for i, it := range val {
			val[i] = applyDefaults(items, it)
		}
		return val
	}
	return v
}

func deepCopy(v any) any {
	switch val := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(val))
		for k, x := range val {
			m[k] = deepCopy(x)
		}
		return m
	case []any:
		l := make([]any, len(val))
		for i, x := range val {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}
