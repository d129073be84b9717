package trusteepolicy

import (
	"bytes"
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
