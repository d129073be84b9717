package peerpods

import (
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/restartjob"
)

// RestartName names the ServiceAccount, Role and RoleBinding of the cloud-api-adaptor restart, and prefixes
// its Job.
const RestartName = "cocogen-caa-restart"

// Annotations of the restart Job (Argo CD sync hooks: argo-cd docs/user-guide/resource_hooks.md). A PostSync
// hook runs after every resource of the sync is applied and healthy, so peer-pods-cm already holds the new
// INITDATA; BeforeHookCreation deletes the Job of the previous sync of the same name before it is created
// again.
const (
	annotationHook       = "argocd.argoproj.io/hook"
	annotationHookDelete = "argocd.argoproj.io/hook-delete-policy"
)

// restartScript restarts the cloud-api-adaptor DaemonSet once per INITDATA digest. The cloud-api-adaptor
// reads INITDATA from its environment, which the DaemonSet fills from peer-pods-cm (envFrom) when a pod
// starts (sandboxed-containers-operator controllers/peerpods.go, configureCAA; cloud-api-adaptor
// cmd/cloud-api-adaptor/main.go reads it into -initdata at start): a new peer-pods-cm reaches new peer pods
// only after the DaemonSet's pods restart.
//
// The script records the digest it restarted for on the DaemonSet's own annotations (metadata, which the
// operator does not rewrite), so that Argo CD may run it at every sync: it does nothing when the digest is
// already recorded, when the DaemonSet does not exist yet (the operator will create it from the current
// peer-pods-cm), or when the DaemonSet updates OnDelete (an administrator's choice to restart each node by
// hand). Operator releases that roll the DaemonSet themselves when peer-pods-cm changes stamp its pod
// template with peer-pods-cm/version (sandboxed-containers-operator PR #1950): then the script only records
// the digest and waits for that rollout, so that the pods do not restart twice. Otherwise it restarts the
// pods the way `oc rollout restart` does, by changing a pod template annotation, which rolls one node at a
// time (the operator's RollingUpdate, maxUnavailable 1), and waits until every pod runs the new template.
//
// A restarted cloud-api-adaptor loses track of the peer pod VMs it was serving (sandboxed-containers-operator
// PR #1917): peer pods running on a node while its cloud-api-adaptor restarts must be restarted too.
const restartScript = `set -euo pipefail
ds=$DAEMONSET
err=$(mktemp)
ask() { oc get daemonset "$ds" -n "$NAMESPACE" -o "go-template=$1" 2>"$err"; }
if ! recorded=$(ask '{{with .metadata.annotations}}{{or (index . "cocogen.io/initdata-digest") ""}}{{end}}'); then
  if grep -q '(NotFound)' "$err"; then
    echo "no DaemonSet $ds in $NAMESPACE yet: the sandboxed containers operator creates it from peer-pods-cm as it is now; nothing to restart"
    exit 0
  fi
  cat "$err" >&2
  exit 1
fi
if [[ $recorded == "$DIGEST" ]]; then
  echo "DaemonSet $ds was restarted for INITDATA $DIGEST already; nothing to do"
  exit 0
fi
strategy=$(ask '{{.spec.updateStrategy.type}}')
if [[ $strategy == OnDelete ]]; then
  echo "DaemonSet $ds updates OnDelete: its pods load INITDATA $DIGEST only when an administrator deletes them, node by node"
  exit 0
fi
version='{{with .spec.template.metadata.annotations}}{{or (index . "peer-pods-cm/version") ""}}{{end}}'
record='"metadata":{"annotations":{"cocogen.io/initdata-digest":"'"$DIGEST"'"}}'
if [[ -n $(ask "$version") ]]; then
  echo "the operator rolls DaemonSet $ds when peer-pods-cm changes; recording INITDATA $DIGEST and waiting for that rollout"
  oc patch daemonset "$ds" -n "$NAMESPACE" --type merge -p "{$record}"
  want=$(oc get configmap peer-pods-cm -n "$NAMESPACE" -o 'go-template={{.metadata.resourceVersion}}')
  until [[ $(ask "$version") == "$want" ]]; do sleep 5; done
else
  echo "restarting DaemonSet $ds for INITDATA $DIGEST (was: ${recorded:-none recorded})"
  oc patch daemonset "$ds" -n "$NAMESPACE" --type merge -p "{$record,\"spec\":{\"template\":{$record}}}"
fi
status='{{.metadata.generation}} {{or .status.observedGeneration 0}} {{or .status.desiredNumberScheduled 0}} {{or .status.updatedNumberScheduled 0}} {{or .status.numberAvailable 0}}'
while true; do
  if out=$(ask "$status") && read -r generation observed desired updated available <<<"$out" &&
    [[ "$generation $observed $desired $updated $available" =~ ^[0-9]+( [0-9]+){4}$ ]] &&
    ((observed >= generation && updated == desired && available == desired)); then
    echo "every pod of DaemonSet $ds runs with INITDATA $DIGEST ($desired nodes)"
    exit 0
  fi
  echo "waiting for DaemonSet $ds: ${updated:-?} of ${desired:-?} pods updated, ${available:-?} available"
  sleep 10
done
`

// restartObjects returns the objects that restart the cloud-api-adaptor when the default init-data changes:
// a ServiceAccount whose Role may get and patch only the cloud-api-adaptor DaemonSet and get only
// peer-pods-cm, and an Argo CD PostSync hook Job whose name carries the digest, so that the sandbox
// application's objects change with the default profile's digest and with nothing else.
func restartObjects(in Input) []*node.Node {
	spec := restartjob.Spec{
		Namespace: Namespace,
		Name:      RestartName,
		Rules: []restartjob.Rule{
			{APIGroup: "apps", Resource: "daemonsets", Names: []string{in.CAADaemonSet}, Verbs: []string{"get", "patch"}},
			{APIGroup: "", Resource: "configmaps", Names: []string{"peer-pods-cm"}, Verbs: []string{"get"}},
		},
		Image:  in.JobImage,
		Script: restartScript,
		Env: []restartjob.Env{
			{Name: "DAEMONSET", Value: in.CAADaemonSet},
			{Name: "DIGEST", Value: in.InitData.Algorithm + ":" + in.InitData.Digest},
		},
	}
	objs := restartjob.RBAC(spec)
	job := node.NewMap().
		Set("apiVersion", str("batch/v1")).
		Set("kind", str("Job")).
		Set("metadata", node.NewMap().
			Set("name", str(RestartJobName(in.InitData.Digest))).
			Set("namespace", str(Namespace)).
			Set("annotations", node.NewMap().
				Set(annotationHook, str("PostSync")).
				Set(annotationHookDelete, str("BeforeHookCreation")).
				Set(AnnotationDigest, str(in.InitData.Algorithm+":"+in.InitData.Digest)))).
		Set("spec", node.NewMap().
			// A rollout takes one node at a time; 30 minutes fit some 60 worker nodes.
			Set("activeDeadlineSeconds", node.NewInt(1800)).
			Set("backoffLimit", node.NewInt(1)).
			Set("template", restartjob.PodTemplate(spec)).
			// Jobs of earlier digests are not Argo CD's to delete (another name): the TTL controller does.
			Set("ttlSecondsAfterFinished", node.NewInt(86400)))
	return append(objs, job)
}

// RestartJobName is the name of the restart Job for an init-data digest (hex): the prefix and its first 16
// hex characters.
func RestartJobName(digest string) string {
	if len(digest) > 16 {
		digest = digest[:16]
	}
	return RestartName + "-" + digest
}
