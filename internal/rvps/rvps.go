// Package rvps holds the format of the reference value store of Trustee's reference value provider service
// (RVPS), as cocogen writes it into the rvps-reference-values ConfigMap and reads it back for reviews and
// checks: a JSON object from a reference value's name to the URL-safe base64 of that reference value's JSON.
//
// Format facts: a reference value is {"version", "name", "expiration", "value"} (confidential-containers/trustee
// v0.21.0, rvps/src/reference_value.rs, struct ReferenceValue); the store file is the key-value map of the
// LocalJson backend (deps/key-value-storage/src/local_json/mod.rs), values base64url-encoded.
package rvps

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
)

// Where the store lives in a render: the ConfigMap the KbsConfig names (kbsRvpsRefValuesConfigMapName), its key
// for the store, and the key of the readable twin cocogen writes beside it for reviews.
const (
	ConfigMapName = "rvps-reference-values"
	StoreKey      = "reference_value"
	// ReadableKey is the readable twin of the store. Red Hat's 1.2.x operator would take a
	// reference-values.json key for a 1.1 store and rewrite the ConfigMap, unless the ConfigMap carries
	// release.MigratedAnnotation, which the 1.2.x rows put on it.
	ReadableKey = "reference-values.json"
)

// version is the version of the stored reference value format (rvps/src/reference_value.rs, default_version).
const version = "0.1.0"

// ReferenceValue is one RVPS reference value.
type ReferenceValue struct {
	Name  string
	Value any // JSON: a list of strings or an object
	// Expiration is when this value expires (RFC 3339), when it is not the store's default.
	Expiration string
}

// stored is a reference value as the RVPS stores it.
type stored struct {
	Version    string `json:"version"`
	Name       string `json:"name"`
	Expiration string `json:"expiration"`
	Value      any    `json:"value"`
}

// Encode returns the store (an object from name to the URL-safe base64 of the stored reference value's JSON)
// and its readable twin (the same values as a plain JSON list), both sorted by name. expiration is the default
// expiration of a value that names none.
func Encode(rvs []ReferenceValue, expiration string) (store, readable string, err error) {
	sorted := slices.SortedStableFunc(slices.Values(rvs), func(a, b ReferenceValue) int { return cmp.Compare(a.Name, b.Name) })
	enc := map[string]string{}
	var list []stored
	for _, rv := range sorted {
		s := stored{Version: version, Name: rv.Name, Expiration: cmp.Or(rv.Expiration, expiration), Value: rv.Value}
		b, err := json.Marshal(s)
		if err != nil {
			return "", "", err
		}
		enc[rv.Name] = base64.URLEncoding.EncodeToString(b)
		list = append(list, s)
	}
	sb, err := indented(enc)
	if err != nil {
		return "", "", err
	}
	rb, err := indented(list)
	if err != nil {
		return "", "", err
	}
	return sb, rb, nil
}

func indented(v any) (string, error) {
	var b bytes.Buffer
	e := json.NewEncoder(&b)
	e.SetIndent("", "  ")
	e.SetEscapeHTML(false)
	if err := e.Encode(v); err != nil {
		return "", err
	}
	return b.String(), nil
}

// Decode reads a store back into its reference values' JSON, by name.
func Decode(data []byte) (map[string]json.RawMessage, error) {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("not the RVPS local JSON store (an object of base64 strings): %w", err)
	}
	out := map[string]json.RawMessage{}
	for k, v := range m {
		b, err := base64.URLEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k, err)
		}
		out[k] = b
	}
	return out, nil
}
