package peerpods

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"

	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/release"
	"github.com/cocogen/cocogen/internal/restartjob/restartjobtest"
)

func withRestart() Input {
	in := input()
	in.CAADaemonSet = release.CAADaemonSetOSC
	in.JobImage = "image-registry.openshift-image-registry.svc:5000/openshift/cli:latest"
	in.InitData.Digest = "c9f873bbf8bbe44fbf6f4d19928dab5e5edd19f43cedf285c83f45153643ab78"
	return in
}

func render(t *testing.T, in Input) map[string]manifest.Object {
	t.Helper()
	objs, d := Render(in)
	if d.HasErrors() {
		t.Fatal(d.Sorted())
	}
	out := map[string]manifest.Object{}
	for _, o := range objs {
		out[o.Kind()+" "+o.Name()] = o
	}
	return out
}

func yamlOf(o manifest.Object) string {
	var b bytes.Buffer
	manifest.EncodeOneYAML(&b, o)
	return b.String()
}

// TestRestartObjects: the sandbox application restarts the cloud-api-adaptor with a PostSync hook Job named
// after the default profile's digest, run by a ServiceAccount that may get and patch only the cloud-api-adaptor
// DaemonSet and read only peer-pods-cm. Every object decodes strictly into its Kubernetes type.
func TestRestartObjects(t *testing.T) {
	objs := render(t, withRestart())
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{batchv1.AddToScheme, rbacv1.AddToScheme, corev1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	decoded := map[string]runtime.Object{}
	for _, key := range []string{"ServiceAccount cocogen-caa-restart", "Role cocogen-caa-restart", "RoleBinding cocogen-caa-restart", "Job cocogen-caa-restart-c9f873bbf8bbe44f"} {
		o, ok := objs[key]
		if !ok {
			t.Fatalf("no %s among %v", key, slices.Sorted(func(yield func(string) bool) {
				for k := range objs {
					if !yield(k) {
						return
					}
				}
			}))
		}
		if o.Namespace() != Namespace {
			t.Errorf("%s in namespace %q", key, o.Namespace())
		}
		obj, _, err := strict.Decode([]byte(yamlOf(o)), nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		decoded[key] = obj
	}
	role := decoded["Role cocogen-caa-restart"].(*rbacv1.Role)
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{"apps"}, Resources: []string{"daemonsets"}, ResourceNames: []string{"osc-caa-ds"}, Verbs: []string{"get", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{"peer-pods-cm"}, Verbs: []string{"get"}},
	}
	if len(role.Rules) != len(want) {
		t.Fatalf("rules = %+v", role.Rules)
	}
	for i, r := range role.Rules {
		if !slices.Equal(r.APIGroups, want[i].APIGroups) || !slices.Equal(r.Resources, want[i].Resources) ||
			!slices.Equal(r.ResourceNames, want[i].ResourceNames) || !slices.Equal(r.Verbs, want[i].Verbs) {
			t.Errorf("rule %d = %+v, want %+v", i, r, want[i])
		}
	}
	binding := decoded["RoleBinding cocogen-caa-restart"].(*rbacv1.RoleBinding)
	if binding.RoleRef.Name != "cocogen-caa-restart" || len(binding.Subjects) != 1 || binding.Subjects[0].Name != "cocogen-caa-restart" || binding.Subjects[0].Namespace != Namespace {
		t.Errorf("binding = %+v", binding)
	}
	job := decoded["Job cocogen-caa-restart-c9f873bbf8bbe44f"].(*batchv1.Job)
	if job.Annotations["argocd.argoproj.io/hook"] != "PostSync" || job.Annotations["argocd.argoproj.io/hook-delete-policy"] != "BeforeHookCreation" {
		t.Errorf("hook annotations = %v", job.Annotations)
	}
	pod := job.Spec.Template.Spec
	c := pod.Containers[0]
	if pod.ServiceAccountName != "cocogen-caa-restart" || pod.RestartPolicy != corev1.RestartPolicyNever || c.Image != withRestart().JobImage {
		t.Errorf("pod = %+v", pod)
	}
	env := map[string]string{}
	for _, e := range c.Env {
		env[e.Name] = e.Value
	}
	if env["DAEMONSET"] != "osc-caa-ds" || env["DIGEST"] != "sha256:c9f873bbf8bbe44fbf6f4d19928dab5e5edd19f43cedf285c83f45153643ab78" || env["NAMESPACE"] != Namespace {
		t.Errorf("env = %v", env)
	}
	sc := c.SecurityContext
	if sc == nil || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot ||
		sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || pod.SecurityContext.SeccompProfile == nil {
		t.Errorf("the job does not run restricted: %+v %+v", sc, pod.SecurityContext)
	}

	in := withRestart()
	in.CAADaemonSet = ""
	if objs := render(t, in); len(objs) != 3 {
		t.Errorf("without a DaemonSet name: %d objects, want 3", len(objs))
	}
}

// TestRestartFollowsTheDigestOnly: the restart Job changes with the default profile's digest, and with
// nothing else that peer-pods-cm holds.
func TestRestartFollowsTheDigestOnly(t *testing.T) {
	jobOf := func(in Input) (string, string) {
		for k, o := range render(t, in) {
			if strings.HasPrefix(k, "Job ") {
				return o.Name(), yamlOf(o)
			}
		}
		t.Fatal("no Job")
		return "", ""
	}
	name, job := jobOf(withRestart())
	in := withRestart()
	in.InitData.Digest = "0e1f77c2" + in.InitData.Digest[8:]
	in.InitData.Encoded = "H4sIother"
	if n2, j2 := jobOf(in); n2 == name || j2 == job || n2 != "cocogen-caa-restart-0e1f77c2f8bbe44f" {
		t.Errorf("a new digest: job %s, want another name and spec", n2)
	}
	for what, edit := range map[string]func(*Input){
		"VM sizes":         func(in *Input) { in.Sizes = []string{"Standard_DC2as_v5"} },
		"region":           func(in *Input) { in.Region = "westeurope" },
		"root volume size": func(in *Input) { in.RootVolumeSize = nil },
		"PCR8 annotation":  func(in *Input) { in.InitData.AzurePCR8 = "ef" },
	} {
		in := withRestart()
		edit(&in)
		if n2, j2 := jobOf(in); n2 != name || j2 != job {
			t.Errorf("%s changed the restart job", what)
		}
	}
}

// fakeOC stands in for oc: it answers the script's requests from files in $STATE (the DaemonSet's recorded
// digest, update strategy, peer-pods-cm/version and generation, peer-pods-cm's resourceVersion) and logs
// every patch. A patch of the pod template bumps the generation; a patch while the operator manages the
// DaemonSet plays the operator's rollout (its version annotation takes peer-pods-cm's resourceVersion).
const fakeOC = `#!/bin/bash
s=$STATE
echo "$*" >> "$s/calls"
if [[ -e $s/warn ]]; then echo "Warning: the API server says something" >&2; fi
if [[ -e $s/forbidden ]]; then
  echo 'Error from server (Forbidden): daemonsets.apps "osc-caa-ds" is forbidden' >&2; exit 1
fi
case "$1 $2" in
"get daemonset")
  if [[ ! -e $s/exists ]]; then echo 'Error from server (NotFound): daemonsets.apps "'"$3"'" not found' >&2; exit 1; fi
  tpl=${*: -1}
  case "$tpl" in
  *cocogen.io/initdata-digest*) cat "$s/recorded" ;;
  *updateStrategy*) cat "$s/strategy" ;;
  *peer-pods-cm/version*) cat "$s/version" ;;
  *observedGeneration*) g=$(cat "$s/generation"); echo "$g $g 3 3 3" ;;
  *) echo "unexpected template $tpl" >&2; exit 2 ;;
  esac ;;
"get configmap") cat "$s/cmrv" ;;
"patch daemonset")
  p=${*: -1}
  echo "$p" >> "$s/patches"
  [[ $p =~ \"cocogen.io/initdata-digest\":\"([^\"]*)\" ]] && echo -n "${BASH_REMATCH[1]}" > "$s/recorded"
  if [[ $p == *'"spec"'* ]]; then echo $(( $(cat "$s/generation") + 1 )) > "$s/generation"; fi
  if [[ -s $s/version ]]; then cp "$s/cmrv" "$s/version"; fi ;;
*) echo "unexpected oc $*" >&2; exit 2 ;;
esac
`

func TestRestartScript(t *testing.T) {
	const digest = "sha256:c9f873bbf8bbe44fbf6f4d19928dab5e5edd19f43cedf285c83f45153643ab78"
	cases := []struct {
		name  string
		state map[string]string // files of $STATE; "exists" makes the DaemonSet exist
		code  int
		// patches are the patches the script must send, out a line of its output.
		patches []string
		out     string
	}{
		{name: "no DaemonSet yet", state: map[string]string{}, out: "nothing to restart"},
		{name: "already restarted for the digest", state: map[string]string{"exists": "", "recorded": digest, "strategy": "RollingUpdate", "version": "", "generation": "4"},
			out: "already"},
		{name: "warnings on stderr change nothing", state: map[string]string{"exists": "", "recorded": digest, "strategy": "RollingUpdate", "version": "", "generation": "4", "warn": ""},
			out: "already"},
		{name: "a new digest", state: map[string]string{"exists": "", "recorded": "sha256:0000", "strategy": "RollingUpdate", "version": "", "generation": "4"},
			patches: []string{`{"metadata":{"annotations":{"cocogen.io/initdata-digest":"` + digest + `"}},"spec":{"template":{"metadata":{"annotations":{"cocogen.io/initdata-digest":"` + digest + `"}}}}}`},
			out:     "every pod of DaemonSet osc-caa-ds runs with INITDATA " + digest},
		{name: "first restart", state: map[string]string{"exists": "", "recorded": "", "strategy": "RollingUpdate", "version": "", "generation": "1"},
			patches: []string{`{"metadata":{"annotations":{"cocogen.io/initdata-digest":"` + digest + `"}},"spec":{"template":{"metadata":{"annotations":{"cocogen.io/initdata-digest":"` + digest + `"}}}}}`},
			out:     "was: none recorded"},
		{name: "OnDelete", state: map[string]string{"exists": "", "recorded": "", "strategy": "OnDelete", "version": "", "generation": "1"},
			out: "updates OnDelete"},
		{name: "the operator rolls it", state: map[string]string{"exists": "", "recorded": "sha256:0000", "strategy": "RollingUpdate", "version": "100", "cmrv": "101", "generation": "7"},
			patches: []string{`{"metadata":{"annotations":{"cocogen.io/initdata-digest":"` + digest + `"}}}`},
			out:     "the operator rolls DaemonSet osc-caa-ds"},
		{name: "forbidden", state: map[string]string{"exists": "", "forbidden": ""}, code: 1, out: "(Forbidden)"},
	}
	// The waits never sleep here: every state the fake gives is final.
	sleep := "#!/bin/bash\necho slept >> \"$STATE/calls\"\nexit 0\n"
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := restartjobtest.Run(t, restartScript, fakeOC, map[string]string{"sleep": sleep}, c.state,
				"DAEMONSET=osc-caa-ds", "NAMESPACE=openshift-sandboxed-containers-operator", "DIGEST="+digest)
			if r.Code != c.code || !strings.Contains(r.Out, c.out) {
				t.Errorf("exit %d, output:\n%s\nwant exit %d and %q", r.Code, r.Out, c.code, c.out)
			}
			if !slices.Equal(r.Patches, c.patches) {
				t.Errorf("patches:\n%s\nwant:\n%s", strings.Join(r.Patches, "\n"), strings.Join(c.patches, "\n"))
			}
			if strings.Contains(r.Calls, "slept") {
				t.Errorf("the script waited on a final state:\n%s", r.Calls)
			}
		})
	}
}
