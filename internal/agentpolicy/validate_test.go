package agentpolicy

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// policy builds an agent policy: package, then head (imports, rules), then `default <ep> := true` for every
// entry point not in omit, then tail.
func policy(head, tail string, omit ...string) string {
	var b strings.Builder
	b.WriteString("package agent_policy\n")
	b.WriteString(head)
	for _, ep := range EntryPoints {
		if !slices.Contains(omit, ep) {
			fmt.Fprintf(&b, "default %s := true\n", ep)
		}
	}
	b.WriteString(tail)
	return b.String()
}

// posOf is the position of the first occurrence of marker in src.
func posOf(t *testing.T, src, marker string) srcpos.Pos {
	t.Helper()
	i := strings.Index(src, marker)
	if i < 0 {
		t.Fatalf("marker %q is not in the policy", marker)
	}
	return offsetPos("p.rego", []byte(src), i)
}

func errorsOf(l *diag.List) []diag.Diagnostic {
	var out []diag.Diagnostic
	for _, d := range l.Sorted() {
		if d.Severity == diag.Error {
			out = append(out, d)
		}
	}
	return out
}

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name, kata, src string
	}{
		{"defaults only, no import", "", policy("", "")},
		{"rego.v1 and rules", "", policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if input.process.Args == [\"true\"]\n", "ExecProcessRequest")},
		{"future keywords, the genpolicy way", "3.21.0", policy("import future.keywords.in\nimport future.keywords.every\nimport future.keywords.if\n", "")},
		{"v1-only syntax for a v1 agent", "3.30.0", policy("", "default ExecProcessRequest := false\nExecProcessRequest if { \"sh\" in input.process.Args }\n", "ExecProcessRequest")},
		{"object decision with ops", "", policy("import rego.v1\n", "default CreateContainerRequest := {\"allowed\": false}\nCreateContainerRequest := {\"allowed\": true, \"ops\": [{\"op\": \"add\", \"path\": \"/pstate/x\", \"value\": 1}]} if input.x\n", "CreateContainerRequest")},
		{"base64 for kata 3.28", "3.28.0", policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if base64.decode(input.x) == \"y\"\n", "ExecProcessRequest")},
		{"policy_data last", "", policy("import rego.v1\n", "policy_data := {\n  \"a\": [1, \"b\", null, true]\n}\n\n")},
		{"a future keyword imported twice is fine in v0", "3.29.0", policy("import future.keywords.in\nimport future.keywords\n", "")},
		{"print and regex", "", policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if {\n\tprint(\"exec\", input)\n\tregex.match(`^curl$`, input.process.Args[0])\n}\n", "ExecProcessRequest")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseKataVersion(tt.kata)
			if err != nil {
				t.Fatal(err)
			}
			if errs := errorsOf(Validate("p.rego", []byte(tt.src), Options{Kata: v})); len(errs) > 0 {
				t.Errorf("unexpected errors:\n%v\npolicy:\n%s", errs, tt.src)
			}
		})
	}
}

// TestValidateRejects has one case per rejection rule: the first error must be at the marker and match want.
func TestValidateRejects(t *testing.T) {
	tests := []struct {
		name string
		kata string
		src  string
		at   string // the error is at the first occurrence of this text; "" means line 1, column 1
		want string // regexp over the message
	}{
		{
			name: "time.now_ns is not in regorus",
			src:  policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if time.now_ns() > 0\n", "ExecProcessRequest"),
			at:   "time.now_ns()",
			want: `^builtin time\.now_ns is not available to the kata agent: its Rego engine \(regorus`,
		},
		{
			name: "crypto.sha256 is not in regorus",
			src:  policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if crypto.sha256(\"x\") == input.h\n", "ExecProcessRequest"),
			at:   "crypto.sha256",
			want: `^builtin crypto\.sha256 is not available to the kata agent`,
		},
		{
			name: "http.send is not in regorus",
			src:  policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if {\n\tr := http.send({\"method\": \"get\", \"url\": \"http://x\"})\n\tr.status_code == 200\n}\n", "ExecProcessRequest"),
			at:   "http.send",
			want: `^builtin http\.send is not available to the kata agent`,
		},
		{
			name: "base64 before kata 3.28",
			kata: "3.21.0",
			src:  policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if base64.decode(input.x) == \"y\"\n", "ExecProcessRequest"),
			at:   "base64.decode",
			want: `^builtin base64\.decode is not available to the kata 3\.21\.0 agent: its Rego engine \(regorus\) has it only from kata 3\.28\.0$`,
		},
		{
			name: "base64 when the release is not known",
			src:  policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if base64.decode(input.x) == \"y\"\n", "ExecProcessRequest"),
			at:   "base64.decode",
			want: `^builtin base64\.decode is not available to the kata agent before 3\.28\.0 .*set the kata version`,
		},
		{
			name: "missing entry point",
			src:  policy("", "", "GetMetricsRequest"),
			at:   "package",
			want: "^GetMetricsRequest is not defined: the agent fails every GetMetricsRequest with an internal error; add `default GetMetricsRequest := false`",
		},
		{
			name: "entry point undefined for an empty request",
			src:  policy("import rego.v1\n", "ExecProcessRequest if input.process.Args == [\"true\"]\n", "ExecProcessRequest"),
			at:   "ExecProcessRequest if",
			want: "^ExecProcessRequest is undefined for an empty request: .*add `default ExecProcessRequest := false`",
		},
		{
			name: "entry point is a string",
			src:  policy("", "default ExecProcessRequest := \"no\"\n", "ExecProcessRequest"),
			at:   "default ExecProcessRequest",
			want: `^ExecProcessRequest must be a boolean or an object \{"allowed": bool, "ops": \[JSON patch\]\}; it evaluates to "no"$`,
		},
		{
			name: "entry point is a set",
			src:  policy("import rego.v1\n", "ExecProcessRequest contains \"x\"\n", "ExecProcessRequest"),
			at:   "ExecProcessRequest contains",
			want: `^ExecProcessRequest must be a boolean or an object .*; it evaluates to \["x"\]$`,
		},
		{
			name: "object without allowed",
			src:  policy("", "default CreateContainerRequest := {\"ok\": true}\n", "CreateContainerRequest"),
			at:   "default CreateContainerRequest",
			want: `^CreateContainerRequest must be .*; the object has no "allowed" key$`,
		},
		{
			name: "ops is not a JSON patch",
			src:  policy("", "default CreateContainerRequest := {\"allowed\": true, \"ops\": [{\"op\": \"merge\", \"path\": \"/a\"}]}\n", "CreateContainerRequest"),
			at:   "default CreateContainerRequest",
			want: `^CreateContainerRequest must be .*; ops\[0\]\.op is "merge"; want add, remove, replace, move, copy or test$`,
		},
		{
			name: "two values for one entry point",
			src:  policy("import rego.v1\n", "ExecProcessRequest := true\nExecProcessRequest := false if true\n", "ExecProcessRequest"),
			at:   "ExecProcessRequest := false if",
			want: `^ExecProcessRequest: evaluating it for an empty request fails: rule data\.agent_policy\.ExecProcessRequest produced conflicting values: true at p\.rego:\d+ false at p\.rego:\d+$`,
		},
		{
			name: "wrong package",
			src:  strings.Replace(policy("", ""), "package agent_policy", "package agent", 1),
			at:   "package",
			want: `^the package must be agent_policy: the agent queries data\.agent_policy\.<request>; this policy declares package agent$`,
		},
		{
			name: "rego.v1 mixed with future.keywords",
			src:  policy("import rego.v1\nimport future.keywords.in\n", ""),
			at:   "import future.keywords.in",
			want: "^`import future.keywords.in` cannot be combined with `import rego.v1` \\(line 2\\): the kata agent's Rego engine rejects the mix; keep only `import rego.v1`$",
		},
		{
			name: "future.keywords mixed with a later rego.v1",
			src:  policy("import future.keywords\nimport rego.v1\n", ""),
			at:   "import future.keywords",
			want: "^`import future.keywords` cannot be combined with `import rego.v1` \\(line 3\\)",
		},
		{
			name: "future keyword imported twice",
			src:  policy("import future.keywords.if\nimport future.keywords.in\nimport future.keywords.if\n", ""),
			at:   "import future.keywords.if\ndefault",
			want: `^future keyword "if" is already imported at line 2: the Rego engine of kata 3\.30 and later rejects a repeated keyword import$`,
		},
		{
			name: "rego.v1 imported twice",
			kata: "3.21.0",
			src:  policy("import rego.v1\nimport rego.v1\n", ""),
			at:   "import rego.v1\ndefault",
			want: "^`import rego.v1` is already at line 2: the kata agent's Rego engine rejects a repeated import$",
		},
		{
			name: "rule body without if (Rego v0 only)",
			src:  policy("", "default ExecProcessRequest := false\nExecProcessRequest { input.x }\n", "ExecProcessRequest"),
			at:   "ExecProcessRequest {",
			want: "^`if` keyword is required before rule body$",
		},
		{
			name: "v0 syntax for a v0 agent must parse as v1 too",
			kata: "3.21.0",
			src:  policy("", "default ExecProcessRequest := false\nExecProcessRequest { input.x }\n", "ExecProcessRequest"),
			at:   "ExecProcessRequest {",
			want: "^as Rego v1, which kata 3.30 and later parse \\(a policy must keep working after an upgrade\\): `if` keyword is required before rule body$",
		},
		{
			name: "v1 syntax without import for a v0 agent",
			kata: "3.29.0",
			src:  policy("", "default ExecProcessRequest := false\nExecProcessRequest if { input.x }\n", "ExecProcessRequest"),
			at:   "ExecProcessRequest if",
			want: `^as Rego v0, the dialect of kata before 3\.30: `,
		},
		{
			name: "v1 syntax without import when the release is not known",
			src:  policy("", "default ExecProcessRequest := false\nExecProcessRequest if { input.x }\n", "ExecProcessRequest"),
			at:   "ExecProcessRequest if",
			want: `^as Rego v0, the dialect of kata before 3\.30 \(set the kata version to check for one release only\): `,
		},
		{
			name: "keyword after a dot",
			src:  policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if input.in\n", "ExecProcessRequest"),
			at:   "in\n",
			want: `unexpected in keyword`,
		},
		{
			name: "template string",
			kata: "4.1.0",
			src:  policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if $\"{input.x}\" == \"y\"\n", "ExecProcessRequest"),
			at:   "$\"",
			want: `template strings`,
		},
		{
			name: "policy_data not last",
			src:  policy("import rego.v1\n", "policy_data := {\"a\": 1}\ndefault ExecProcessRequest := false\n", "ExecProcessRequest"),
			at:   "policy_data := {",
			want: `^policy_data must be the last rule of the policy \(Trustee reads it as JSON to the end of the file\), but ExecProcessRequest follows at line \d+$`,
		},
		{
			name: "policy_data with a trailing comma",
			src:  policy("import rego.v1\n", "policy_data := {\n  \"a\": [1, 2,],\n}\n"),
			at:   "]",
			want: `^policy_data is not plain JSON, so Trustee cannot read it: invalid character ']' looking for beginning of value$`,
		},
		{
			name: "comment after policy_data",
			src:  policy("import rego.v1\n", "policy_data := {\"a\": 1}\n# the end\n"),
			at:   "# the end",
			want: `^policy_data is not plain JSON, so Trustee cannot read it: only whitespace may follow the policy_data object .* found "# the end"$`,
		},
		{
			name: "policy_data without the exact spelling",
			src:  policy("import rego.v1\n", "policy_data:={\"a\": 1}\n"),
			at:   "policy_data:=",
			want: "^write policy_data as `policy_data := {`",
		},
		{
			name: "policy_data spelled in a comment first",
			src:  policy("import rego.v1\n# policy_data := { is below\n", "policy_data := {\"a\": 1}\n"),
			at:   "policy_data := { is",
			want: "^this is the first `policy_data := {` in the file, so Trustee takes it for the policy_data rule \\(line \\d+\\): reword it$",
		},
		{
			name: "policy_data defined twice",
			src:  policy("import rego.v1\n", "policy_data[\"a\"] := 1\npolicy_data[\"b\"] := 2\n"),
			at:   "policy_data[\"b\"]",
			want: "^policy_data is already defined at line \\d+",
		},
		{
			name: "kata without regorus",
			kata: "3.4.0",
			src:  policy("", ""),
			at:   "",
			want: `^kata 3\.4\.0 runs OPA in the guest, not regorus`,
		},
		{
			name: "not UTF-8",
			src:  policy("# caf\xe9\n", ""),
			at:   "\xe9",
			want: `^the policy is not valid UTF-8 text$`,
		},
		{
			name: "line too long",
			src:  policy("# "+strings.Repeat("x", maxLineRunes)+"\n", ""),
			at:   strings.Repeat("x", maxLineRunes-1) + "x\n",
			want: `^the line has 65537 characters; the kata agent's Rego engine accepts at most 65535 per line$`,
		},
		{
			name: "empty file",
			src:  "",
			at:   "",
			want: `empty`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := ParseKataVersion(tt.kata)
			if err != nil {
				t.Fatal(err)
			}
			errs := errorsOf(Validate("p.rego", []byte(tt.src), Options{Kata: v}))
			if len(errs) == 0 {
				t.Fatalf("no error; policy:\n%s", tt.src)
			}
			got := errs[0]
			want := srcpos.Pos{File: "p.rego", Line: 1, Col: 1}
			switch {
			case tt.name == "kata without regorus":
				want = srcpos.Pos{File: "p.rego"}
			case tt.name == "line too long":
				want = srcpos.Pos{File: "p.rego", Line: 2, Col: maxLineRunes + 1}
			case tt.at != "":
				want = posOf(t, tt.src, tt.at)
			}
			if got.Pos != want {
				t.Errorf("error at %s, want %s: %s", got.Pos, want, got)
			}
			if !regexp.MustCompile(tt.want).MatchString(got.Msg) {
				t.Errorf("message %q does not match %q", got.Msg, tt.want)
			}
		})
	}
}

func TestValidateWarnsAboutAllowRequestsFailingPolicy(t *testing.T) {
	src := policy("", "default AllowRequestsFailingPolicy := true\n")
	l := Validate("p.rego", []byte(src), Options{})
	ds := l.Sorted()
	if len(ds) != 1 || ds[0].Severity != diag.Warning || ds[0].Pos != posOf(t, src, "default AllowRequestsFailingPolicy") ||
		!strings.Contains(ds[0].Msg, "AllowRequestsFailingPolicy is true") {
		t.Errorf("got %v", ds)
	}
}

// TestShippedPoliciesAreValid checks the repository's agent policies for every supported kata release range.
func TestShippedPoliciesAreValid(t *testing.T) {
	for _, name := range []string{"default.rego", "debug.rego"} {
		src, err := os.ReadFile("../../policies/agent/" + name)
		if err != nil {
			t.Fatal(err)
		}
		for _, kata := range []string{"", "3.5.0", "3.21.0", "3.29.0", "3.30.0", "4.1.0"} {
			v, _ := ParseKataVersion(kata)
			if ds := Validate(name, src, Options{Kata: v}).Sorted(); len(ds) > 0 {
				t.Errorf("%s for kata %q: %v", name, kata, ds)
			}
		}
	}
}

// TestValidateReportsEveryProblem: a policy that calls time.now_ns and lacks GetMetricsRequest gets both
// errors, each naming what is wrong, at its own position.
func TestValidateReportsEveryProblem(t *testing.T) {
	src := policy("import rego.v1\n", "default ExecProcessRequest := false\nExecProcessRequest if time.now_ns() > 0\n", "ExecProcessRequest", "GetMetricsRequest")
	errs := errorsOf(Validate("p.rego", []byte(src), Options{Kata: KataVersion{4, 1, 0}}))
	var got []string
	for _, d := range errs {
		got = append(got, d.String())
	}
	at := posOf(t, src, "time.now_ns")
	want := []string{
		"p.rego:1:1: error: GetMetricsRequest is not defined: the agent fails every GetMetricsRequest with an internal error; add `default GetMetricsRequest := false` (or true)",
		at.String() + ": error: builtin time.now_ns is not available to the kata agent: its Rego engine (regorus, built with features arc, base64, base64url, regex, std) does not implement it",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestLineLimitOnlyFromKata330(t *testing.T) {
	src := []byte(policy("# "+strings.Repeat("x", maxLineRunes)+"\n", ""))
	if errs := errorsOf(Validate("p.rego", src, Options{Kata: KataVersion{3, 29, 0}})); len(errs) != 0 {
		t.Errorf("kata 3.29 has no line limit: %v", errs)
	}
	if errs := errorsOf(Validate("p.rego", src, Options{Kata: KataVersion{3, 30, 0}})); len(errs) != 1 {
		t.Errorf("kata 3.30 limits lines: %v", errs)
	}
}
