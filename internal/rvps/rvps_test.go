package rvps

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEncodeDecode(t *testing.T) {
	rvs := []ReferenceValue{
		{Name: "b", Value: []string{"x"}},
		{Name: "a", Value: map[string]any{"k": 1}, Expiration: "2027-01-01T00:00:00Z"},
	}
	store, readable, err := Encode(rvs, "2030-01-01T00:00:00Z")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Index(readable, `"name": "a"`) > strings.Index(readable, `"name": "b"`) {
		t.Errorf("readable twin not sorted by name:\n%s", readable)
	}
	got, err := Decode([]byte(store))
	if err != nil {
		t.Fatal(err)
	}
	var a, b map[string]any
	if err := json.Unmarshal(got["a"], &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got["b"], &b); err != nil {
		t.Fatal(err)
	}
	if a["version"] != "0.1.0" || a["name"] != "a" || a["expiration"] != "2027-01-01T00:00:00Z" {
		t.Errorf("a = %v", a)
	}
	if b["expiration"] != "2030-01-01T00:00:00Z" {
		t.Errorf("b takes the store's default expiration, got %v", b["expiration"])
	}
	for _, bad := range []string{`[]`, `{"a": "%%%"}`, `not json`} {
		if _, err := Decode([]byte(bad)); err == nil {
			t.Errorf("Decode(%s) accepted it", bad)
		}
	}
}
