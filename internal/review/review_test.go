package review

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestUnified(t *testing.T) {
	a := "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\n"
	b := "a\nb\nc\nD\ne\nf\ng\nh\ni\nj\nk\n"
	got := Unified("old", "new", a, b, 2)
	want := `--- old
+++ new
@@ -2,5 +2,5 @@
 b
 c
-d
+D
 e
 f
@@ -9,2 +9,3 @@
 i
 j
+k
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	if Unified("x", "y", a, a, 3) != "" {
		t.Error("equal texts give a diff")
	}
	// From nothing and to nothing.
	if got := Unified("/dev/null", "new", "", "x\ny\n", 3); got != "--- /dev/null\n+++ new\n@@ -0,0 +1,2 @@\n+x\n+y\n" {
		t.Errorf("added: %q", got)
	}
}

// FuzzUnified checks that applying the diff's lines gives back both sides.
func FuzzUnified(f *testing.F) {
	f.Add("a\nb\nc\n", "a\nc\nd\n")
	f.Add("", "x\n")
	f.Fuzz(func(t *testing.T, a, b string) {
		if strings.ContainsRune(a, '\r') || strings.ContainsRune(b, '\r') {
			return
		}
		a, b = strings.TrimSuffix(a, "\n")+"\n", strings.TrimSuffix(b, "\n")+"\n"
		if a == "\n" {
			a = ""
		}
		if b == "\n" {
			b = ""
		}
		ops := lineOps(splitLines(a), splitLines(b))
		var ra, rb []string
		al, bl := splitLines(a), splitLines(b)
		i, j := 0, 0
		for _, op := range ops {
			switch op {
			case ' ':
				if al[i] != bl[j] {
					t.Fatalf("kept lines differ: %q %q", al[i], bl[j])
				}
				ra, rb = append(ra, al[i]), append(rb, bl[j])
				i, j = i+1, j+1
			case '-':
				ra = append(ra, al[i])
				i++
			case '+':
				rb = append(rb, bl[j])
				j++
			}
		}
		if strings.Join(ra, "\n") != strings.Join(al, "\n") || strings.Join(rb, "\n") != strings.Join(bl, "\n") {
			t.Fatal("the edit script does not rebuild the inputs")
		}
	})
}

const toml1 = "version = \"0.1.0\"\nalgorithm = \"sha256\"\n\n[data]\n\"policy.rego\" = '''\npackage agent_policy\n\ndefault ExecProcessRequest := false\n'''\n"

func stream(t *testing.T, src string) []*node.Node {
	t.Helper()
	docs, err := node.ParseStream("s.yaml", []byte(src), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

func objects(t *testing.T, encoded string) string {
	return `apiVersion: v1
kind: ConfigMap
metadata:
  name: peer-pods-cm
  namespace: openshift-sandboxed-containers-operator
data:
  INITDATA: ` + encoded + `
  VXLAN_PORT: "9000"
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: p
    annotations:
      io.katacontainers.config.hypervisor.cc_init_data: ` + encoded + `
      io.katacontainers.config.agent.policy: cGFja2FnZSBhZ2VudF9wb2xpY3kK
- apiVersion: v1
  kind: Secret
  metadata: {name: s}
  data:
    INITDATA: ` + encoded + `
`
}

func TestDecodeIsReadableAndIdempotent(t *testing.T) {
	enc := initdata.Encode([]byte(toml1))
	docs, problems := Decode(stream(t, objects(t, enc)))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	if len(docs) != 3 {
		t.Fatalf("got %d objects, want 3 (the List's items flattened)", len(docs))
	}
	var b bytes.Buffer
	for _, d := range docs {
		b.WriteString("---\n")
		node.EncodeYAML(&b, d)
	}
	out := b.String()
	if strings.Count(out, enc) != 1 {
		t.Errorf("the encoded value should remain only in the Secret:\n%s", out)
	}
	for _, want := range []string{"default ExecProcessRequest := false", DecodedMarker + "agent policy", "package agent_policy", "# azure-pcr8 "} {
		if !strings.Contains(out, want) {
			t.Errorf("decoded output lacks %q", want)
		}
	}
	again, problems := Decode(stream(t, out))
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var b2 bytes.Buffer
	for _, d := range again {
		b2.WriteString("---\n")
		node.EncodeYAML(&b2, d)
	}
	if b2.String() != out {
		t.Errorf("decoding twice changed the text:\n%s", Unified("once", "twice", out, b2.String(), 2))
	}
}

func TestDecodeReportsBrokenValues(t *testing.T) {
	_, problems := Decode(stream(t, objects(t, "H4sIAAAA-not-base64")))
	if len(problems) != 2 || !strings.Contains(problems[0], "ConfigMap openshift-sandboxed-containers-operator/peer-pods-cm data.INITDATA") {
		t.Errorf("problems = %q", problems)
	}
}

// goldenStates are two small renders: the policy of profile default changes (so peer-pods-cm changes), one
// object is added and one removed.
func goldenStates(t *testing.T) (State, State) {
	mk := func(src, app string) manifest.Object {
		n, err := node.Parse("o.yaml", []byte(src), node.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		return manifest.Object{Node: n, App: app}
	}
	toml2 := strings.Replace(toml1, "ExecProcessRequest := false", "ExecProcessRequest := true", 1)
	cm := func(toml string) string {
		return "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: peer-pods-cm\n  namespace: openshift-sandboxed-containers-operator\ndata:\n  INITDATA: " + initdata.Encode([]byte(toml)) + "\n"
	}
	d1, _ := initdata.ComputeDigests(initdata.SHA256, []byte(toml1))
	d2, _ := initdata.ComputeDigests(initdata.SHA256, []byte(toml2))
	ns := "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: %s\n"
	base := State{Name: "main (1111111)", Objects: []manifest.Object{
		mk(cm(toml1), "sandbox"), mk(strings.Replace(ns, "%s", "old", 1), ""), mk(strings.Replace(ns, "%s", "same", 1), ""),
	}, Profiles: map[string]ProfileDigest{"default": {"sha256", d1.Digest, d1.AzurePCR8}, "debug": {"sha256", "aa", "bb"}}}
	head := State{Name: "working tree", Objects: []manifest.Object{
		mk(cm(toml2), "sandbox"), mk(strings.Replace(ns, "%s", "new", 1), ""), mk(strings.Replace(ns, "%s", "same", 1), ""),
	}, Profiles: map[string]ProfileDigest{"default": {"sha256", d2.Digest, d2.AzurePCR8}, "debug": {"sha256", "aa", "bb"}}}
	base.Used, head.Used = []string{"debug", "default"}, []string{"debug", "default"}
	base.Previous = []PreviousDigest{{Profile: "debug", Digest: "sha256:" + strings.Repeat("c", 64), Until: "2026-01-01T00:00:00Z"}}
	head.Previous = []PreviousDigest{{Profile: "debug", Digest: "sha256:" + strings.Repeat("d", 64), Until: "2027-01-02T00:00:00Z"}}
	head.Keep = "cocogen initdata keep --base main"
	return base, head
}

// TestComparePrevious: the report lists the init-data each state keeps for pods started before a change, and
// the profiles in use whose init-data moved without the head keeping the base's, with the command that does.
func TestComparePrevious(t *testing.T) {
	base, head := goldenStates(t)
	r := Compare(base, head)
	want := []PreviousChange{
		{PreviousDigest: head.Previous[0], Status: KeptNew},
		{PreviousDigest: base.Previous[0], Status: KeptDropped},
	}
	if !slices.Equal(r.Previous, want) {
		t.Errorf("previous: %+v, want %+v", r.Previous, want)
	}
	if len(r.Unkept) != 1 || r.Unkept[0].Profile != "default" || r.Unkept[0].Digest != "sha256:"+base.Profiles["default"].Digest || r.Keep != head.Keep {
		t.Errorf("unkept: %+v, keep %q", r.Unkept, r.Keep)
	}
	// The head keeps the base's digest: nothing is unkept, and the entry shows as new.
	head.Previous = append(head.Previous, PreviousDigest{Profile: "default", Digest: "sha256:" + base.Profiles["default"].Digest, Until: "2027-01-01T00:00:00Z"})
	if r := Compare(base, head); len(r.Unkept) != 0 || r.Keep != "" || len(r.Previous) != 3 {
		t.Errorf("kept: %+v", r)
	}
	// A profile that no application runs needs nothing kept.
	base.Used = []string{"debug"}
	head.Previous = head.Previous[:1]
	if r := Compare(base, head); len(r.Unkept) != 0 {
		t.Errorf("unkept for a profile not in use: %+v", r.Unkept)
	}
}

func TestCompare(t *testing.T) {
	base, head := goldenStates(t)
	r := Compare(base, head)
	if r.Count(Changed) != 1 || r.Count(Added) != 1 || r.Count(Removed) != 1 {
		t.Errorf("changes: %+v", r.Changes)
	}
	if len(r.Digests) != 1 || r.Digests[0].Name != "default" {
		t.Errorf("digests: %+v", r.Digests)
	}
	if r.ReferenceValues != "none" {
		t.Errorf("reference values: %s", r.ReferenceValues)
	}
	same := Compare(base, base)
	if !same.Empty() {
		t.Errorf("a state compared with itself differs: %+v", same)
	}
}

// TestFormatsGolden keeps the three report formats stable (go test ./internal/review -update rewrites them).
func TestFormatsGolden(t *testing.T) {
	base, head := goldenStates(t)
	r := Compare(base, head)
	ansi := regexp.MustCompile("\x1b\\[")
	for _, c := range []struct {
		format, file string
		color        bool
	}{{"text", "diff.txt", false}, {"text", "diff-color.txt", true}, {"markdown", "diff.md", false}, {"json", "diff.json", false}} {
		var b bytes.Buffer
		if err := Write(&b, c.format, &r, c.color); err != nil {
			t.Fatal(err)
		}
		if c.color != ansi.Match(b.Bytes()) {
			t.Errorf("%s: colour %v, but ANSI escapes present: %v", c.file, c.color, ansi.Match(b.Bytes()))
		}
		path := filepath.Join("testdata", c.file)
		if *update {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if b.String() != string(want) {
			t.Errorf("%s differs (go test ./internal/review -update):\n%s", path, Unified("want", "got", string(want), b.String(), 2))
		}
	}
	var b bytes.Buffer
	empty := Compare(base, base)
	if err := Write(&b, "markdown", &empty, false); err != nil || !strings.Contains(b.String(), "No differences") {
		t.Errorf("empty markdown: %q %v", b.String(), err)
	}
}

// FuzzDecode: any YAML stream decodes without panicking, and decoding its output changes nothing.
func FuzzDecode(f *testing.F) {
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: peer-pods-cm}\ndata: {INITDATA: H4sI}\n")
	f.Add("kind: List\nitems:\n- kind: Pod\n  metadata:\n    annotations:\n      io.katacontainers.config.agent.policy: cGFja2FnZQ==\n")
	f.Add("kind: ConfigMap\nmetadata: {name: rvps-reference-values}\ndata: {reference_value: '{\"a\": \"e30=\"}'}\n")
	f.Fuzz(func(t *testing.T, src string) {
		docs, err := node.ParseStream("f.yaml", []byte(src), node.Limits{MaxBytes: 1 << 16, MaxNodes: 5000, MaxDepth: 30})
		if err != nil {
			return
		}
		out, _ := Decode(docs)
		var b bytes.Buffer
		for _, d := range out {
			b.WriteString("---\n")
			node.EncodeYAML(&b, d)
		}
		again, err := node.ParseStream("again.yaml", b.Bytes(), node.Limits{MaxBytes: 1 << 20, MaxNodes: 50000, MaxDepth: 40})
		if err != nil {
			t.Fatalf("decoded output does not parse: %v\n%s", err, b.String())
		}
		out2, _ := Decode(again)
		var b2 bytes.Buffer
		for _, d := range out2 {
			b2.WriteString("---\n")
			node.EncodeYAML(&b2, d)
		}
		if b.String() != b2.String() {
			t.Fatalf("not idempotent:\n%s", Unified("once", "twice", b.String(), b2.String(), 2))
		}
	})
}
