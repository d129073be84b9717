package trusteepolicy

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"sub-package", "package policy.resource\n\ndefault allow := false\n", "package policy\n\ndefault allow := false\n"},
		{"comments and blank lines first", "# KBS policy\n\n  # more\npackage policy.attestation\nx := 1\n", "# KBS policy\n\n  # more\npackage policy\nx := 1\n"},
		{"trailing comment kept", "package policy.resource # rendered as policy\n", "package policy # rendered as policy\n"},
		{"indented, tabs", "\tpackage\tpolicy.resource\t\nx := 1", "\tpackage\tpolicy\t\nx := 1"},
		{"CRLF line ends", "package policy.resource\r\nx := 1\r\n", "package policy\r\nx := 1\r\n"},
		{"no newline at the end", "package policy.resource", "package policy"},
		{"already rendered", "package policy\n\ndefault allow := false\n", "package policy\n\ndefault allow := false\n"},
		{"later lines untouched", "package policy.a\n\nx := \"package policy.b\"\n# package policy.c\n", "package policy\n\nx := \"package policy.b\"\n# package policy.c\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render([]byte(tt.src))
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Render:\n%q\nwant\n%q", got, tt.want)
			}
			again, err := Render(got)
			if err != nil || string(again) != tt.want {
				t.Errorf("rendering twice gives %q, %v", again, err)
			}
		})
	}
}

func TestRenderDoesNotAlias(t *testing.T) {
	src := []byte("package policy\n")
	out, err := Render(src)
	if err != nil {
		t.Fatal(err)
	}
	out[0] = 'P'
	if src[0] != 'p' {
		t.Error("Render returned its input slice: changing the result changed the source")
	}
}

func TestRenderErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{"empty", "", "no package clause"},
		{"only comments", "# nothing\n\n", "no package clause"},
		{"other package", "package kbs\n", "line 1: \"package kbs\": the package must be"},
		{"agent policy", "# x\npackage agent_policy.default_policy\n", "line 2: \"package agent_policy.default_policy\": the package must be"},
		{"two levels", "package policy.a.b\n", "line 1: \"package policy.a.b\""},
		{"prefix of another name", "package policyx\n", "the package must be"},
		{"bracket form", "package policy[\"resource\"]\n", "on one line"},
		{"rule before package", "x := 1\npackage policy\n", "line 1: \"x := 1\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := Render([]byte(tt.src))
			if err == nil {
				t.Fatalf("no error; rendered %q", out)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

// FuzzRender checks that Render never panics, renders idempotently, and changes nothing but the package line.
func FuzzRender(f *testing.F) {
	for _, s := range []string{
		"package policy.resource\n\ndefault allow := false\n",
		"# c\r\npackage policy.attestation # x\r\nx := 1\r\n",
		"package policy\n",
		"package policy.a.b\n",
		"",
		"\n\n\t\n",
		"package\tpolicy.x",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		out, err := Render(src)
		if err != nil {
			return
		}
		again, err := Render(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("rendering %q twice: %q, %v", out, again, err)
		}
		if bytes.Count(out, []byte("\n")) != bytes.Count(src, []byte("\n")) {
			t.Fatalf("line count changed: %q -> %q", src, out)
		}
		removed := len(src) - len(out)
		if removed < 0 || !bytes.Contains(src, []byte("package")) {
			t.Fatalf("%q -> %q", src, out)
		}
		// What was removed is one ".name" right after "policy": the rest is byte for byte the same.
		i := 0
		for i < len(out) && out[i] == src[i] {
			i++
		}
		if removed > 0 && (!bytes.HasSuffix(src[:i], []byte("policy")) || src[i] != '.' || !bytes.Equal(src[i+removed:], out[i:])) {
			t.Fatalf("%q -> %q changes more than the package", src, out)
		}
	})
}

// TestRenderResource: the readers replace the source's resource_readers object in canonical form, nothing
// else changes, and Readers reads them back.
func TestRenderResource(t *testing.T) {
	src := readPolicy(t, resourcePolicy)
	readers := map[string][]string{
		"default/kbsres1/key1":              {"default"},
		"default/attestation-status/status": {"default", "debug", "default"},
		"default/gpu-secret/key":            {"default"},
	}
	requires := map[string][]string{"default/gpu-secret/key": {"gpu"}, "default/kbsres1/key1": {}}
	out, gated, err := RenderResource(src, readers, requires)
	if err != nil || !gated {
		t.Fatalf("RenderResource: %v (gated %v)", err, gated)
	}
	head, _, _ := bytes.Cut(src, []byte(readersStart))
	rendered, _ := Render(head)
	if !bytes.HasPrefix(out, rendered) {
		t.Error("the rules before resource_readers changed")
	}
	wantTail := `resource_readers := {
  "default/attestation-status/status": [
    "debug",
    "default"
  ],
  "default/gpu-secret/key": {
    "profiles": [
      "default"
    ],
    "requires": [
      "gpu"
    ]
  },
  "default/kbsres1/key1": [
    "default"
  ]
}
`
	if !strings.HasSuffix(string(out), wantTail) {
		t.Errorf("rendered readers:\n%s", out[len(rendered):])
	}
	got, ok, err := Readers(out)
	if err != nil || !ok || len(got) != 3 || strings.Join(got["default/attestation-status/status"], ",") != "debug,default" || strings.Join(got["default/gpu-secret/key"], ",") != "default" {
		t.Errorf("Readers = %v, %v, %v", got, ok, err)
	}
	again, _, _ := RenderResource(out, readers, requires)
	if !bytes.Equal(again, out) {
		t.Error("rendering the rendered policy again changes it")
	}
	if ds := Validate("resource.rego", out, Resource).Sorted(); len(ds) > 0 {
		t.Errorf("the rendered policy does not validate: %v", ds)
	}
}

func TestRenderResourceErrors(t *testing.T) {
	for name, tc := range map[string]struct{ src, want string }{
		"not JSON":              {"package policy\n\ndefault allow := false\n\nresource_readers := {\"a\": [1,]}\n", "line 5: resource_readers must be plain JSON"},
		"not last":              {"package policy\n\nresource_readers := {}\n\ndefault allow := false\n", "line 3: resource_readers must be the last rule of the policy (cocogen rewrites it to the end of the file), but \"default allow := false\" follows"},
		"wrong shape":           {"package policy\n\nresource_readers := {\"a\": \"default\"}\n", "line 3: resource_readers must be plain JSON, an object from repository/type/tag to a list of profile names"},
		"unknown field":         {"package policy\n\nresource_readers := {\"a\": {\"profiles\": [], \"needs\": []}}\n", `unknown field "needs"`},
		"repeated in a comment": {"package policy\n\n# resource_readers := {} is filled by cocogen\nresource_readers := {}\n", "line 3: the first `resource_readers := {` of the file must start the resource_readers rule"},
		"package missing":       {"resource_readers := {}\n", "the package must be"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := RenderResource([]byte(tc.src), nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want %q", err, tc.want)
			}
			if name != "package missing" {
				got := errorsOf(Validate("p.rego", []byte(tc.src), Resource))
				if len(got) == 0 || !strings.Contains(got[0], tc.want) {
					t.Errorf("Validate: %v, want %q", got, tc.want)
				}
			}
		})
	}
	out, gated, err := RenderResource([]byte("package policy.resource\n\ndefault allow := false\n"), map[string][]string{"a/b/c": {"x"}}, nil)
	if err != nil || gated || string(out) != "package policy\n\ndefault allow := false\n" {
		t.Errorf("a policy without resource_readers: %q, %v, %v", out, gated, err)
	}
}

// TestGuestEvidence: the evidence of a sound guest carries the binding where each TEE's verifier puts it and
// matches the registered values, and the attestation policy affirms it with its profile.
func TestGuestEvidence(t *testing.T) {
	b := Binding{AzurePCR8: hexOf(0x08, 32), SNPHostData: hexOf(0x9a, 32), TDXMRConfigID: hexOf(0x5c, 48)}
	refs := map[string]any{
		RVInitDataProfiles:      map[string]any{"default": b.Value()},
		RVPodVMPCRs:             map[string]any{"pcr03": []any{hexOf(0x03, 32)}},
		RVSNPLaunchMeasurements: []any{hexOf(0x6b, 48)},
		RVTDXMRTD:               []any{hexOf(0x02, 48)},
		RVSNPMinimumTCB:         map[string]any{"bootloader": 4, "tee": 1, "snp": 22, "microcode": 213},
		RVTDXTCBStatuses:        []any{"UpToDate"},
	}
	att := compileSource(t, attestationPolicy, func() []byte { out, _ := Render(readPolicy(t, attestationPolicy)); return out }())
	for _, tee := range TEEs {
		in, err := GuestEvidence(tee, b, refs)
		if err != nil {
			t.Fatal(err)
		}
		value, _, err := evalRule(context.Background(), att, TrustClaimsRule, in, map[string]any{}, refs)
		if err != nil {
			t.Fatal(err)
		}
		claims, _ := json.Marshal(value)
		if want := `{"configuration":2,"executables":3,"file-system":0,"hardware":2,"instance-identity":0,"runtime-opaque":0,"sourced-data":0,"storage-opaque":0}`; string(claims) != want {
			t.Errorf("%s: trust claims %s, want %s", tee, claims, want)
		}
	}
	if _, err := GuestEvidence("sgx", b, refs); err == nil || !strings.Contains(err.Error(), "az-snp-vtpm, az-tdx-vtpm, snp, tdx") {
		t.Errorf("unknown TEE: %v", err)
	}
}

// FuzzReaders checks that reading the resource_readers table of a policy never panics, and that a table it
// reads renders back (in the canonical form, with the requirements it had) into a table that reads the same.
func FuzzReaders(f *testing.F) {
	for _, s := range []string{
		`{}`,
		`{"default/kbsres1/key1": ["default"]}`,
		`{"default/gpu-secret/key": {"profiles": ["default"], "requires": ["gpu"]}, "a/b/c": ["x", "y"]}`,
		`{"a/b/c": {"profiles": ["x"]}}`,
		`{"a/b/c": {"requires": ["gpu"], "other": 1}}`,
		`{"a/b/c": null}`,
		`{"a/b/c": "default"}`,
		`[]`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, table string) {
		src := []byte("package policy.resource\n\ndefault allow := false\n\nresource_readers := " + table + "\n")
		readers, ok, err := Readers(src)
		if err != nil || !ok {
			return
		}
		requires := map[string][]string{}
		var raw map[string]map[string]any
		if json.Unmarshal([]byte(table), &raw) == nil {
			for path, entry := range raw {
				if l, ok := entry["requires"].([]any); ok {
					for _, c := range l {
						if s, ok := c.(string); ok {
							requires[path] = append(requires[path], s)
						}
					}
				}
			}
		}
		out, gated, err := RenderResource(src, readers, requires)
		if err != nil || !gated {
			t.Fatalf("RenderResource of a table Readers read: %v (gated %v)", err, gated)
		}
		again, ok, err := Readers(out)
		if err != nil || !ok || len(again) != len(readers) {
			t.Fatalf("the rendered table reads %v, %v, %v; the source read %v", again, ok, err, readers)
		}
		for path, profiles := range readers {
			want := slices.Compact(slices.Sorted(slices.Values(profiles)))
			if !slices.Equal(again[path], want) && !(len(want) == 0 && len(again[path]) == 0) {
				t.Fatalf("%s: %v, want %v", path, again[path], want)
			}
		}
	})
}
