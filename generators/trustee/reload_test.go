package trustee

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"

	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/restartjob/restartjobtest"
)

func withReload() Input {
	in := input(TLSCA)
	in.JobImage = "image-registry.openshift-image-registry.svc:5000/openshift/cli:latest"
	in.ReloadSchedule = "*/5 * * * *"
	return in
}

// TestReloadObjects: the trustee application renders the KBS reloader: a CronJob on the schedule of the
// values, run by a ServiceAccount whose Role may read exactly the Secrets the KBS mounts (TLS, admin key, token
// signer, every resource; not the CA's key, which only cert-manager reads) and get and patch exactly the KBS
// configuration ConfigMap. Every object decodes strictly into its Kubernetes type.
func TestReloadObjects(t *testing.T) {
	objs := mustRender(t, withReload())
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{batchv1.AddToScheme, rbacv1.AddToScheme, corev1.AddToScheme} {
		if err := add(scheme); err != nil {
			t.Fatal(err)
		}
	}
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	decoded := map[string]runtime.Object{}
	for _, o := range objs {
		if o.Name() != ReloadName {
			continue
		}
		var b bytes.Buffer
		manifest.EncodeOneYAML(&b, o)
		obj, _, err := strict.Decode(b.Bytes(), nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", o.ID(), err)
		}
		decoded[o.Kind()] = obj
	}
	if len(decoded) != 4 {
		t.Fatalf("reloader objects: %v", decoded)
	}
	role := decoded["Role"].(*rbacv1.Role)
	secrets := []string{"attestation-token", "kbs-auth-public-key", "kbs-tls", "kbsres1", "security-policy"}
	want := []rbacv1.PolicyRule{
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, ResourceNames: []string{ConfigMapKBSConfig}, Verbs: []string{"get", "patch"}},
		{APIGroups: []string{""}, Resources: []string{"secrets"}, ResourceNames: secrets, Verbs: []string{"get"}},
	}
	if len(role.Rules) != 2 {
		t.Fatalf("rules: %+v", role.Rules)
	}
	for i, r := range role.Rules {
		if !slices.Equal(r.APIGroups, want[i].APIGroups) || !slices.Equal(r.Resources, want[i].Resources) ||
			!slices.Equal(r.ResourceNames, want[i].ResourceNames) || !slices.Equal(r.Verbs, want[i].Verbs) {
			t.Errorf("rule %d = %+v, want %+v", i, r, want[i])
		}
	}
	cron := decoded["CronJob"].(*batchv1.CronJob)
	pod := cron.Spec.JobTemplate.Spec.Template.Spec
	env := map[string]string{}
	for _, e := range pod.Containers[0].Env {
		env[e.Name] = e.Value
	}
	if cron.Spec.Schedule != "*/5 * * * *" || cron.Spec.ConcurrencyPolicy != batchv1.ForbidConcurrent || pod.ServiceAccountName != ReloadName ||
		env["SECRETS"] != strings.Join(secrets, " ") || env["CONFIGMAP"] != ConfigMapKBSConfig || env["NAMESPACE"] != "trustee-operator-system" {
		t.Errorf("cron job: %+v, env %v", cron.Spec, env)
	}
	// The KbsConfig mounts exactly the Secrets the reloader watches.
	kbs := find(objs, "KbsConfig", KbsConfigName).Get("spec")
	var mounted []string
	for _, k := range []string{"kbsAuthSecretName", "kbsHttpsCertSecretName", "kbsHttpsKeySecretName", "kbsAttestationCertSecretName", "kbsAttestationKeySecretName"} {
		mounted = append(mounted, kbs.Get(k).Scalar())
	}
	for _, it := range kbs.Get("kbsSecretResources").Items() {
		mounted = append(mounted, it.Scalar())
	}
	slices.Sort(mounted)
	if !slices.Equal(slices.Compact(mounted), secrets) {
		t.Errorf("the KbsConfig mounts %v, the reloader watches %v", mounted, secrets)
	}
	if objs := mustRender(t, input(TLSCA)); find(objs, "CronJob", ReloadName) != nil {
		t.Error("a reloader without an image")
	}
}

// fakeOC answers the reloader's requests from $STATE: the file cm (the recorded hash; absent: no ConfigMap),
// secret-<name> (a resourceVersion; absent: no Secret); it logs every patch.
const fakeOC = `#!/bin/bash
s=$STATE
if [[ -e $s/warn ]]; then echo "Warning: the API server says something" >&2; fi
if [[ -e $s/forbidden ]]; then echo 'Error from server (Forbidden): secrets "kbs-tls" is forbidden' >&2; exit 1; fi
case "$1 $2" in
"get configmap")
  [[ -e $s/cm ]] || { echo 'Error from server (NotFound): configmaps "kbs-config" not found' >&2; exit 1; }
  cat "$s/cm" ;;
"get secret")
  [[ -e $s/secret-$3 ]] || { echo 'Error from server (NotFound): secrets "'"$3"'" not found' >&2; exit 1; }
  cat "$s/secret-$3" ;;
"patch configmap") echo "${*: -1}" >> "$s/patches" ;;
*) echo "unexpected oc $*" >&2; exit 2 ;;
esac
`

func TestReloadScript(t *testing.T) {
	hash := func(versions string) string {
		sum := sha256.Sum256([]byte(versions))
		return hex.EncodeToString(sum[:])
	}
	current := hash("kbs-tls=10 kbsres1=20 ")
	patch := func(h string) string { return `{"metadata":{"annotations":{"cocogen.io/kbs-secrets":"` + h + `"}}}` }
	cases := []struct {
		name    string
		state   map[string]string
		code    int
		patches []string
		out     string
	}{
		{name: "no ConfigMap yet", state: map[string]string{}, out: "no KBS to restart"},
		{name: "nothing changed", state: map[string]string{"cm": current, "secret-kbs-tls": "10", "secret-kbsres1": "20"}, out: "runs with the Secrets as they are"},
		{name: "warnings on stderr change nothing", state: map[string]string{"cm": current, "secret-kbs-tls": "10", "secret-kbsres1": "20", "warn": ""}, out: "as they are"},
		{name: "a renewed certificate", state: map[string]string{"cm": current, "secret-kbs-tls": "11", "secret-kbsres1": "20"},
			patches: []string{patch(hash("kbs-tls=11 kbsres1=20 "))}, out: "Secrets changed"},
		{name: "the first run", state: map[string]string{"cm": "", "secret-kbs-tls": "10", "secret-kbsres1": "20"},
			patches: []string{patch(current)}, out: "the first run"},
		{name: "a Secret not synced yet", state: map[string]string{"cm": current, "secret-kbs-tls": "10"},
			patches: []string{patch(hash("kbs-tls=10 kbsres1=none "))}, out: "kbsres1=none"},
		{name: "forbidden", state: map[string]string{"cm": current, "forbidden": ""}, code: 1, out: "(Forbidden)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := restartjobtest.Run(t, reloadScript, fakeOC, nil, c.state,
				"CONFIGMAP=kbs-config", "SECRETS=kbs-tls kbsres1", "NAMESPACE=trustee-operator-system")
			if r.Code != c.code || !strings.Contains(r.Out, c.out) {
				t.Errorf("exit %d, output:\n%s\nwant exit %d and %q", r.Code, r.Out, c.code, c.out)
			}
			if !slices.Equal(r.Patches, c.patches) {
				t.Errorf("patches:\n%s\nwant:\n%s", strings.Join(r.Patches, "\n"), strings.Join(c.patches, "\n"))
			}
		})
	}
}
