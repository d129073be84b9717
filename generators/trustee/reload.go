package trustee

import (
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/restartjob"
)

// ReloadName names the CronJob that restarts the KBS when a Secret it loads at start changes, and its
// ServiceAccount, Role and RoleBinding.
const ReloadName = "cocogen-kbs-reload"

// AnnotationSecrets is the annotation of the KBS configuration ConfigMap in which the reloader records the
// versions of the Secrets the running KBS loaded (a sha256 of their names and resourceVersions).
const AnnotationSecrets = "cocogen.io/kbs-secrets"

// reloadScript restarts the KBS when a Secret it reads changed since the last run. The KBS reads them only
// when it starts: trustee v0.21.0 loads the HTTPS key and certificate once, when it binds its socket
// (kbs/src/http.rs tls_config, kbs/src/api_server.rs), and the trustee operator v0.21.0 copies the KBS resource
// Secrets into the pod with an init container (secret-converter), so a renewed certificate or a changed
// resource reaches the KBS only when its pod restarts. The operator rolls its Deployment trustee-deployment
// when a ConfigMap it mounts changes, by stamping the pod template with their resourceVersions
// (internal/controller/kbsconfig_controller.go, getConfigMapVersionAnnotations, since v0.21.0), but not when a
// Secret does.
//
// So the script hashes the resourceVersions of the Secrets (which change with their data: an update that
// changes nothing leaves the resourceVersion alone) and compares the hash with the one recorded on the KBS
// configuration ConfigMap; when they differ it records the new hash there, which changes that ConfigMap's
// resourceVersion, and the operator restarts the KBS as for any configuration change. It never prints what a
// Secret holds, and it changes nothing but that annotation, which Argo CD does not manage (it is not in the
// rendered ConfigMap, so Argo CD neither reports nor reverts it).
const reloadScript = `set -euo pipefail
err=$(mktemp)
if ! recorded=$(oc get configmap "$CONFIGMAP" -n "$NAMESPACE" -o 'go-template={{with .metadata.annotations}}{{or (index . "` + AnnotationSecrets + `") ""}}{{end}}' 2>"$err"); then
  if grep -q '(NotFound)' "$err"; then
    echo "no ConfigMap $CONFIGMAP in $NAMESPACE yet: no KBS to restart"
    exit 0
  fi
  cat "$err" >&2
  exit 1
fi
versions=""
for s in $SECRETS; do
  if ! v=$(oc get secret "$s" -n "$NAMESPACE" -o 'go-template={{.metadata.resourceVersion}}' 2>"$err"); then
    grep -q '(NotFound)' "$err" || { cat "$err" >&2; exit 1; }
    v=none
  fi
  versions+="$s=$v "
done
hash=$(printf '%s' "$versions" | sha256sum | cut -d' ' -f1)
if [[ $recorded == "$hash" ]]; then
  echo "the KBS runs with the Secrets as they are: ${versions% }"
  exit 0
fi
echo "Secrets changed since ${recorded:-the first run}: ${versions% }; recording them on ConfigMap $CONFIGMAP, and the trustee operator restarts the KBS"
oc patch configmap "$CONFIGMAP" -n "$NAMESPACE" --type merge -p '{"metadata":{"annotations":{"` + AnnotationSecrets + `":"'"$hash"'"}}}'
`

// reloadObjects returns the KBS reloader: a ServiceAccount whose Role may read exactly the Secrets the KBS
// mounts and get and patch exactly the KBS configuration ConfigMap, and a CronJob that runs reloadScript on
// schedule. Kubernetes RBAC cannot grant a Secret's metadata without its data, so the Role lets the job read
// the Secrets it watches; the script reads only their resourceVersions.
func reloadObjects(in Input, secrets []string, schedule string) []*node.Node {
	secrets = slices.Clone(secrets)
	slices.Sort(secrets)
	secrets = slices.Compact(secrets)
	spec := restartjob.Spec{
		Namespace: in.Namespace,
		Name:      ReloadName,
		Rules: []restartjob.Rule{
			{APIGroup: "", Resource: "configmaps", Names: []string{ConfigMapKBSConfig}, Verbs: []string{"get", "patch"}},
			{APIGroup: "", Resource: "secrets", Names: secrets, Verbs: []string{"get"}},
		},
		Image:  in.JobImage,
		Script: reloadScript,
		Env: []restartjob.Env{
			{Name: "CONFIGMAP", Value: ConfigMapKBSConfig},
			{Name: "SECRETS", Value: strings.Join(secrets, " ")},
		},
	}
	cron := object("batch/v1", "CronJob", in.Namespace, ReloadName, "").
		Set("spec", node.NewMap().
			Set("concurrencyPolicy", str("Forbid")).
			Set("failedJobsHistoryLimit", node.NewInt(3)).
			Set("jobTemplate", node.NewMap().Set("spec", node.NewMap().
				// A run takes seconds; a stuck one must not hold back the next.
				Set("activeDeadlineSeconds", node.NewInt(120)).
				Set("backoffLimit", node.NewInt(1)).
				Set("template", restartjob.PodTemplate(spec)))).
			Set("schedule", str(schedule)).
			Set("startingDeadlineSeconds", node.NewInt(120)).
			Set("successfulJobsHistoryLimit", node.NewInt(1)))
	return append(restartjob.RBAC(spec), cron)
}
