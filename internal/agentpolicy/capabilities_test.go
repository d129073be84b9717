package agentpolicy

import (
	"slices"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

func TestCapabilitiesByKataVersion(t *testing.T) {
	tests := []struct {
		kata    string
		present []string
		absent  []string
	}{
		{"", []string{"regex.match"}, []string{"base64.decode", "strings.count", "json.marshal_with_options"}},
		{"3.9.0", []string{"regex.match"}, []string{"base64.decode", "strings.count"}},
		{"3.11.0", []string{"strings.count", "json.marshal_with_options"}, []string{"base64url.encode"}},
		{"3.27.9", []string{"strings.count"}, []string{"base64.encode"}},
		{"3.28.0", []string{"base64.encode", "base64url.encode_no_pad"}, nil},
		{"4.1.0", []string{"base64.encode", "strings.count"}, []string{"time.now_ns"}},
	}
	for _, tt := range tests {
		t.Run("kata "+tt.kata, func(t *testing.T) {
			v, err := ParseKataVersion(tt.kata)
			if err != nil {
				t.Fatal(err)
			}
			caps, err := capabilitiesFor(v)
			if err != nil {
				t.Fatal(err)
			}
			has := func(n string) bool {
				return slices.ContainsFunc(caps.Builtins, func(b *ast.Builtin) bool { return b.Name == n })
			}
			for _, n := range tt.present {
				if !has(n) {
					t.Errorf("missing %s", n)
				}
			}
			for _, n := range tt.absent {
				if has(n) {
					t.Errorf("has %s", n)
				}
			}
		})
	}
}

func TestParseKataVersion(t *testing.T) {
	tests := []struct {
		in   string
		want KataVersion
		err  bool
	}{
		{"", KataVersion{}, false},
		{"3.21.0", KataVersion{3, 21, 0}, false},
		{"3.21", KataVersion{3, 21, 0}, false},
		{"v4.1.0", KataVersion{4, 1, 0}, false},
		{"3", KataVersion{}, true},
		{"3.21.0-rc1", KataVersion{}, true},
		{"latest", KataVersion{}, true},
	}
	for _, tt := range tests {
		got, err := ParseKataVersion(tt.in)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseKataVersion(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
	if !(KataVersion{3, 29, 9}).Less(firstRegoV1Release) || (KataVersion{3, 30, 0}).Less(firstRegoV1Release) {
		t.Error("Less orders releases wrongly")
	}
	if !acceptsV0(KataVersion{}) || !acceptsV0(KataVersion{3, 29, 0}) || acceptsV0(KataVersion{3, 30, 0}) {
		t.Error("acceptsV0 disagrees with the dialect table")
	}
}
