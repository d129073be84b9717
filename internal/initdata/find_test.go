package initdata

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
)

func diagLines(l *diag.List) []string {
	var out []string
	for _, d := range l.Sorted() {
		out = append(out, d.String())
	}
	return out
}

func TestFind(t *testing.T) {
	blob := strings.TrimSpace(string(readTestdata(t, "kata-howto-initdata.b64")))
	policy := base64.StdEncoding.EncodeToString([]byte("package agent_policy\n"))
	stream := fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata:
  name: peer-pods-cm
  namespace: openshift-sandboxed-containers-operator
data:
  CLOUD_PROVIDER: azure
  INITDATA: %[1]s
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: hello
  namespace: hello-openshift
  annotations:
    note: "the Deployment's own annotations hold nothing to decode"
spec:
  template:
    metadata:
      annotations:
        io.katacontainers.config.hypervisor.cc_init_data: %[1]s
        io.katacontainers.config.agent.policy: %[2]s
    spec:
      runtimeClassName: kata-remote
---
# an empty document and a comment
---
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: old
    annotations:
      io.katacontainers.config.runtime.cc_init_data: %[1]s
- apiVersion: v1
  kind: Pod
  metadata:
    name: both
    annotations:
      io.katacontainers.config.hypervisor.cc_init_data: ""
      io.katacontainers.config.runtime.cc_init_data: %[1]s
---
apiVersion: batch/v1
kind: CronJob
metadata:
  name: nightly
spec:
  jobTemplate:
    spec:
      template:
        metadata:
          annotations:
            io.katacontainers.config.agent.policy: 42
---
apiVersion: v1
kind: Secret
metadata:
  name: not-a-configmap
data:
  INITDATA: %[1]s
`, blob, policy)
	fields, diags := Find("objects.yaml", []byte(stream))
	var got []string
	for _, f := range fields {
		got = append(got, fmt.Sprintf("%s %s @%s", f.Content, f, f.Pos))
	}
	want := []string{
		`init-data ConfigMap openshift-sandboxed-containers-operator/peer-pods-cm data.INITDATA @objects.yaml:8:13`,
		`init-data Deployment hello-openshift/hello spec.template.metadata.annotations["io.katacontainers.config.hypervisor.cc_init_data"] @objects.yaml:21:59`,
		`agent-policy Deployment hello-openshift/hello spec.template.metadata.annotations["io.katacontainers.config.agent.policy"] @objects.yaml:22:48`,
		`init-data Pod old metadata.annotations["io.katacontainers.config.runtime.cc_init_data"] @objects.yaml:36:54`,
		`init-data Pod both metadata.annotations["io.katacontainers.config.runtime.cc_init_data"] @objects.yaml:43:54`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("fields:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range fields {
		if f.Content == ContentInitData && f.Value != blob {
			t.Errorf("%s: value %q", f, f.Value)
		}
	}
	wantDiags := []string{
		`objects.yaml:36:7: warning: Pod old metadata.annotations["io.katacontainers.config.runtime.cc_init_data"]: only Kata 3.16 to 3.19 (OpenShift sandboxed containers 1.9 and 1.10) read this name; Kata 3.20 and later read io.katacontainers.config.hypervisor.cc_init_data`,
		`objects.yaml:42:7: warning: Pod both metadata.annotations: both io.katacontainers.config.hypervisor.cc_init_data and io.katacontainers.config.runtime.cc_init_data are set: a cluster reads one of them, and the other can fail the pod ("annotation is not enabled"); keep the one for the cluster's Kata version`,
		`objects.yaml:42:57: warning: Pod both metadata.annotations["io.katacontainers.config.hypervisor.cc_init_data"]: is empty: Kata ignores it`,
		`objects.yaml:43:7: warning: Pod both metadata.annotations["io.katacontainers.config.runtime.cc_init_data"]: only Kata 3.16 to 3.19 (OpenShift sandboxed containers 1.9 and 1.10) read this name; Kata 3.20 and later read io.katacontainers.config.hypervisor.cc_init_data`,
		`objects.yaml:55:52: error: CronJob nightly spec.jobTemplate.spec.template.metadata.annotations["io.katacontainers.config.agent.policy"]: must be a string (the encoded agent-policy)`,
	}
	if g := diagLines(diags); strings.Join(g, "\n") != strings.Join(wantDiags, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(g, "\n"), strings.Join(wantDiags, "\n"))
	}
}

func TestFindProblems(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []string
	}{
		{"invalid YAML", "apiVersion: v1\nkind: Pod\nmetadata: [\n", []string{"in.yaml:4: error: invalid YAML: did not find expected node content"}},
		{"annotations over the limit", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: big\n  annotations:\n    a: " + strings.Repeat("x", MaxAnnotationsSize) + "\n",
			[]string{"in.yaml:6:5: warning: Pod big metadata.annotations: the annotations total 262145 bytes (keys and values), more than Kubernetes' limit of 262144: the API server will reject this object"}},
		{"aliases are not followed", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n  labels: &l {x: y}\n  annotations: *l\n", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fields, diags := Find("in.yaml", []byte(c.yaml))
			if len(fields) != 0 {
				t.Errorf("fields: %v", fields)
			}
			if g := diagLines(diags); strings.Join(g, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("got  %q\nwant %q", g, c.want)
			}
		})
	}
}

func TestIsObjectStream(t *testing.T) {
	for in, want := range map[string]bool{
		"apiVersion: v1\nkind: Pod\n":          true,
		"# comment\n---\nkind: ConfigMap\n":    true,
		"H4sIAAAAAAAA/6pWKkktLlGyUlAqS8wpTVWq": false,
		"version = \"0.1.0\"\n[data]\n":        false,
		"  kind: Pod\n":                        false,
		"# init-data\nversion = \"0.1.0\"\n[data]\n\"x.yaml\" = '''\nkind: Pod\n'''\n": false,
		"[data]\nx = '''\napiVersion: v1\n'''\n":                                       false,
	} {
		if got := IsObjectStream([]byte(in)); got != want {
			t.Errorf("%q: %v", in, got)
		}
	}
}

func TestDecodeAgentPolicy(t *testing.T) {
	rego := "package agent_policy\n\ndefault ExecProcessRequest := false\n"
	got, err := DecodeAgentPolicy([]byte(base64.StdEncoding.EncodeToString([]byte(rego)) + "\n"))
	if err != nil || got != rego {
		t.Errorf("got %q, %v", got, err)
	}
	cases := []struct {
		name  string
		value string
		want  string
	}{
		{"empty", "", "empty: there is no policy (Kata ignores an empty annotation)"},
		{"gzip", string(b64(gz([]byte(rego)))), "the base64 text decodes to gzip data: the agent policy annotation is base64 of the Rego text without gzip (gzip is for init-data), and the agent would receive the compressed bytes"},
		{"not text", string(b64([]byte{0xff, 0xfe, 0})), "the base64 text decodes to 3 bytes that are not UTF-8 Rego text"},
		{"not base64", "package agent_policy", `not valid base64: ' ' at byte 7 is not in the standard base64 alphabet (A-Z a-z 0-9 + / =)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeAgentPolicy([]byte(c.value))
			if err == nil || err.Error() != c.want {
				t.Errorf("got  %v\nwant %s", err, c.want)
			}
		})
	}
}

// FuzzFind: any stream gives fields or diagnostics, never a panic, and every field points into the stream.
func FuzzFind(f *testing.F) {
	f.Add("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: peer-pods-cm\ndata:\n  INITDATA: H4sIAAAA\n")
	f.Add("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\nspec:\n  template:\n    metadata:\n      annotations:\n        io.katacontainers.config.agent.policy: cGFja2FnZQ==\n")
	f.Add("kind: List\napiVersion: v1\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata:\n    annotations: &a {io.katacontainers.config.hypervisor.cc_init_data: x}\n---\nx: *a\n")
	f.Fuzz(func(t *testing.T, stream string) {
		fields, diags := Find("in.yaml", []byte(stream))
		lines := strings.Count(stream, "\n") + 1
		for _, fd := range fields {
			if fd.Pos.Line < 1 || fd.Pos.Line > lines || fd.Value == "" {
				t.Fatalf("field %s at %s with value %q in a stream of %d lines", fd, fd.Pos, fd.Value, lines)
			}
		}
		if len(fields) == 0 && diags == nil {
			t.Fatal("no diagnostics list")
		}
	})
}
