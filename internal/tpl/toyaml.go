package tpl

import (
	"encoding/json"
	"unicode/utf8"

	yamlv2 "go.yaml.in/yaml/v2"
)

// toYAMLDirect gives the bytes of sigs.k8s.io/yaml.Marshal(v) without its JSON round trip. That function
// marshals v to JSON, reads the JSON back with yaml.v2 and marshals the result with yaml.v2;
// this builds the same maps directly: strings as they are, numbers as yaml.v2 reads their JSON text, objects
// as plain maps whose keys yaml.v2 sorts as it does after the round trip. ok is false for a value it does not
// handle (another Go type, a string that is not valid UTF-8, which JSON would rewrite); the caller then takes
// the slow path. A differential fuzz test keeps the two equal.
func toYAMLDirect(v any) (string, bool) {
	conv, ok := jsonShape(v)
	if !ok {
		return "", false
	}
	out, err := yamlv2.Marshal(conv)
	if err != nil {
		return "", false
	}
	return string(out), true
}

func jsonShape(v any) (any, bool) {
	switch x := v.(type) {
	case nil, bool:
		return x, true
	case string:
		return x, utf8.ValidString(x)
	case int, int64, float64:
		// JSON text of the number, read as yaml.v2 reads a plain scalar (1 is an int, 1.5 and 1e+21 floats).
		b, err := json.Marshal(x)
		if err != nil {
			return nil, false
		}
		var out any
		if err := yamlv2.Unmarshal(b, &out); err != nil {
			return nil, false
		}
		return out, true
	case map[string]any:
		if x == nil {
			return nil, true // JSON null
		}
		// A plain map, as yaml.v2 reads a JSON object: yaml.v2 sorts its keys when it writes them.
		m := make(map[any]any, len(x))
		for k, val := range x {
			if !utf8.ValidString(k) {
				return nil, false
			}
			cv, ok := jsonShape(val)
			if !ok {
				return nil, false
			}
			m[k] = cv
		}
		return m, true
	case []any:
		if x == nil {
			return nil, true // JSON null
		}
		out := make([]any, len(x))
		for i, it := range x {
			cv, ok := jsonShape(it)
			if !ok {
				return nil, false
			}
			out[i] = cv
		}
		return out, true
	}
	return nil, false
}
