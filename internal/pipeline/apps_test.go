package pipeline

import (
	"bytes"
	stdjson "encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer/json"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/release"
	"github.com/cocogen/cocogen/internal/rvps"
	"github.com/cocogen/cocogen/internal/trusteepolicy"
)

// repoCopy copies the parts of the repository a render reads into a temporary directory, so that a test may
// change them.
func repoCopy(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, dir := range []string{"values", "policies", "overlays"} {
		copyTree(t, filepath.Join("../..", dir), filepath.Join(dst, dir))
	}
	return dst
}

func renderAll(t *testing.T, root string) *Result {
	t.Helper()
	res, err := Render(disk(t, root, filepath.Join(root, "values"), Request{All: true}))
	if err != nil {
		t.Fatalf("render: %v", err)
	}
	return res
}

func appObjects(res *Result) []manifest.Object {
	var out []manifest.Object
	for _, a := range res.Apps {
		out = append(out, a.Objects...)
	}
	return out
}

func findObject(objs []manifest.Object, kind, name string) *node.Node {
	for _, o := range objs {
		if o.Kind() == kind && o.Name() == name {
			return o.Node
		}
	}
	return nil
}

// TestSandboxInitDataIsTheDefaultProfile: peer-pods-cm carries the default profile, byte for byte, and the
// Azure IDs follow the resource group rule (subnet: vnetResourceGroup, NSG: resourceGroup).
func TestSandboxInitDataIsTheDefaultProfile(t *testing.T) {
	root := repoCopy(t)
	// Different resource groups, so that the rule is visible.
	md := filepath.Join(root, "values", "cluster-metadata.yaml")
	data, err := os.ReadFile(md)
	if err != nil {
		t.Fatal(err)
	}
	data = bytes.Replace(data, []byte("vnetResourceGroup: coco-x7k2p-rg"), []byte("vnetResourceGroup: coco-net-rg"), 1)
	if err := os.WriteFile(md, data, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Render(disk(t, root, filepath.Join(root, "values"), Request{App: "sandbox"}))
	if err != nil {
		t.Fatal(err)
	}
	cm := findObject(res.Objects, "ConfigMap", "peer-pods-cm")
	if cm == nil {
		t.Fatal("no peer-pods-cm")
	}
	dec, err := initdata.Decode([]byte(cm.Path("data", "INITDATA").Scalar()))
	if err != nil {
		t.Fatal(err)
	}
	p, err := res.Profile(res.DefaultProfile)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(dec.TOML, p.TOML) {
		t.Errorf("INITDATA decodes to other bytes than profile %s", res.DefaultProfile)
	}
	sub := cm.Path("data", "AZURE_SUBNET_ID").Scalar()
	nsg := cm.Path("data", "AZURE_NSG_ID").Scalar()
	if !strings.Contains(sub, "/resourceGroups/coco-net-rg/providers/Microsoft.Network/virtualNetworks/") {
		t.Errorf("subnet ID %s does not use vnetResourceGroup", sub)
	}
	if !strings.Contains(nsg, "/resourceGroups/coco-x7k2p-rg/providers/Microsoft.Network/networkSecurityGroups/") {
		t.Errorf("NSG ID %s does not use resourceGroup", nsg)
	}
	if got := cm.Path("data", "AZURE_RESOURCE_GROUP").Scalar(); got != "coco-x7k2p-rg" {
		t.Errorf("AZURE_RESOURCE_GROUP = %s", got)
	}
	for _, o := range res.Objects {
		if o.App != "sandbox" {
			t.Errorf("%s is not marked as the sandbox application's", o.ID())
		}
	}
}

// TestOneEncoderForEveryCopy: the pod annotation, peer-pods-cm and the reference values all come from the
// same bytes.
func TestOneEncoderForEveryCopy(t *testing.T) {
	res := renderAll(t, "../..")
	objs := appObjects(res)
	def, _ := res.Profile("default")
	debug, _ := res.Profile("debug")
	secure := findObject(objs, "Deployment", "hello-openshift-secure")
	if got := secure.Path("spec", "template", "metadata", "annotations", initdata.AnnotationInitData).Scalar(); got != def.Encoded {
		t.Error("the secure Deployment does not carry the default profile's encoding")
	}
	if got := findObject(objs, "ConfigMap", "peer-pods-cm").Path("data", "INITDATA").Scalar(); got != def.Encoded {
		t.Error("peer-pods-cm does not carry the default profile's encoding")
	}
	kata := findObject(objs, "Deployment", "hello-openshift-kata")
	if got := kata.Path("spec", "template", "metadata", "annotations", initdata.AnnotationInitData).Scalar(); got != debug.Encoded {
		t.Error("the kata Deployment does not carry the debug profile's encoding")
	}
	if findObject(objs, "Deployment", "hello-openshift-standard").Path("spec", "template", "spec", "runtimeClassName") != nil {
		t.Error("the standard Deployment got a runtime class")
	}
	rv := findObject(objs, "ConfigMap", trustee.ConfigMapRefValues)
	stored, err := rvps.Decode([]byte(rv.Path("data", "reference_value").Scalar()))
	if err != nil {
		t.Fatal(err)
	}
	var profiles struct{ Value map[string]map[string]string }
	if err := stdjson.Unmarshal(stored["cocogen_initdata_profiles"], &profiles); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*Profile{def, debug} {
		want := map[string]string{"azure_pcr8": p.Digests.AzurePCR8, "snp_host_data": p.Digests.SNPHostData, "tdx_mrconfigid": p.Digests.TDXMRConfigID}
		if got := profiles.Value[p.Name]; !maps.Equal(got, want) {
			t.Errorf("the reference values bind profile %s as %v, want %v", p.Name, got, want)
		}
	}
}

// TestPolicyChangeChangesExactlyItsCopies: one line of policies/agent/default.rego changes the secure
// Deployment, peer-pods-cm and the reference values, and nothing else.
func TestPolicyChangeChangesExactlyItsCopies(t *testing.T) {
	root := repoCopy(t)
	before := renderAll(t, root)
	replaceIn(t, filepath.Join(root, "policies", "agent", "default.rego"), "default ReadStreamRequest := false", "default ReadStreamRequest := true")
	after := renderAll(t, root)
	changed, removed := changedObjects(before, after)
	digest := after.Profiles["default"].Digests.Digest
	want := []string{
		"apps/v1 Deployment hello-openshift/hello-openshift-secure",
		// kbs-access runs with the cluster default (peer-pods-cm INITDATA) and carries its digest.
		"apps/v1 Deployment kbs-access/kbs-access",
		// The hook that restarts the cloud-api-adaptor, so that it reads the new INITDATA, is named after it.
		"batch/v1 Job openshift-sandboxed-containers-operator/cocogen-caa-restart-" + digest[:16],
		"v1 ConfigMap openshift-sandboxed-containers-operator/peer-pods-cm",
		"v1 ConfigMap trustee-operator-system/rvps-reference-values",
	}
	if !slices.Equal(changed, want) {
		t.Errorf("changed objects:\n  %s\nwant:\n  %s", strings.Join(changed, "\n  "), strings.Join(want, "\n  "))
	}
	old := "batch/v1 Job openshift-sandboxed-containers-operator/cocogen-caa-restart-" + before.Profiles["default"].Digests.Digest[:16]
	if !slices.Equal(removed, []string{old}) {
		t.Errorf("removed objects: %q, want the restart job of the previous digest", removed)
	}
}

// TestCAARestartFollowsTheDefaultProfileOnly: the cloud-api-adaptor restarts (its hook Job changes) when the
// default profile's init-data changes, and for nothing else: not for another profile's policy, not for the
// other peer-pods-cm values, not for a workload.
func TestCAARestartFollowsTheDefaultProfileOnly(t *testing.T) {
	root := repoCopy(t)
	restartJob := func(res *Result) string {
		for _, o := range res.Objects {
			if o.Kind() == "Job" && strings.HasPrefix(o.Name(), "cocogen-caa-restart-") {
				var b bytes.Buffer
				manifest.EncodeOneYAML(&b, o)
				return b.String()
			}
		}
		t.Fatal("no cloud-api-adaptor restart job in the render")
		return ""
	}
	job := restartJob(renderAll(t, root))
	edits := []struct{ what, file, old, new string }{
		{"the debug profile's policy", "policies/agent/debug.rego", "default ReadStreamRequest := true", "default ReadStreamRequest := false"},
		{"the VM sizes", "values/values-global.yaml", "VMFlavours: Standard_DC2as_v5,Standard_DC4as_v5,", "VMFlavours: Standard_DC2as_v5,"},
		{"a workload", "overlays/kbs-access/deployment.yaml", "replicas: 1", "replicas: 2"},
		{"the Trustee resources", "values/values-global.yaml", "passphrase: [passphrase]", "passphrase: [passphrase, other]"},
	}
	for _, e := range edits {
		replaceIn(t, filepath.Join(root, e.file), e.old, e.new)
		if got := restartJob(renderAll(t, root)); got != job {
			t.Errorf("%s changed the restart job:\n%s", e.what, got)
		}
	}
	replaceIn(t, filepath.Join(root, "policies", "agent", "default.rego"), "default ReadStreamRequest := false", "default ReadStreamRequest := true")
	if restartJob(renderAll(t, root)) == job {
		t.Error("a change of the default profile's policy did not change the restart job")
	}
}

// changedObjects returns the objects of after that differ from before or are new (by ID, sorted), and the IDs
// of before that after no longer has.
func changedObjects(before, after *Result) (changed, removed []string) {
	encode := func(res *Result) map[string]string {
		m := map[string]string{}
		for _, o := range res.Objects {
			var b bytes.Buffer
			manifest.EncodeOneYAML(&b, o)
			m[o.ID()] = b.String()
		}
		return m
	}
	b, a := encode(before), encode(after)
	for id, text := range a {
		if b[id] != text {
			changed = append(changed, id)
		}
	}
	for id := range b {
		if _, ok := a[id]; !ok {
			removed = append(removed, id)
		}
	}
	slices.Sort(changed)
	slices.Sort(removed)
	return changed, removed
}

// TestEveryConfidentialPodTemplateCarriesItsDigest: in the render of the built-in pattern, every pod
// template that runs in a TEE (runtime class kata-remote or kata-cc) carries cocogen.io/initdata-digest, and
// it is the digest of the init-data the pod runs: its profile's, or for a peer pod without a profile the
// default profile's, which peer-pods-cm INITDATA carries.
func TestEveryConfidentialPodTemplateCarriesItsDigest(t *testing.T) {
	res := renderAll(t, "../..")
	cm := findObject(appObjects(res), "ConfigMap", "peer-pods-cm")
	dec, err := initdata.Decode([]byte(cm.Path("data", "INITDATA").Scalar()))
	if err != nil {
		t.Fatal(err)
	}
	clusterDefault := string(dec.Algorithm) + ":" + dec.Digests.Digest
	n := 0
	for _, o := range res.Objects {
		tmpl := podTemplate(o.Node)
		rc := tmpl.Path("spec", "runtimeClassName").Scalar()
		if rc != "kata-remote" && rc != "kata-cc" {
			continue
		}
		n++
		ann := tmpl.Path("metadata", "annotations")
		got := ann.Get("cocogen.io/initdata-digest").Scalar()
		want := clusterDefault
		if enc := ann.Get(initdata.AnnotationInitData); enc != nil {
			d, err := initdata.Decode([]byte(enc.Scalar()))
			if err != nil {
				t.Fatalf("%s: %v", o.ID(), err)
			}
			want = string(d.Algorithm) + ":" + d.Digests.Digest
		}
		if got != want {
			t.Errorf("%s: cocogen.io/initdata-digest = %q, want %q", o.ID(), got, want)
		}
	}
	if n < 3 {
		t.Errorf("only %d confidential pod templates in the render", n)
	}
}

// podTemplate returns the pod template of a workload object (the object itself for a Pod), or nil.
func podTemplate(n *node.Node) *node.Node {
	switch n.Path("kind").Scalar() {
	case "Pod":
		return n
	case "CronJob":
		return n.Path("spec", "jobTemplate", "spec", "template")
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job":
		return n.Path("spec", "template")
	}
	return nil
}

// TestWorkloadsDecodeStrictly: the rendered Deployments and Services are valid k8s.io/api objects (unknown
// fields are errors).
func TestWorkloadsDecodeStrictly(t *testing.T) {
	res := renderAll(t, "../..")
	scheme := runtime.NewScheme()
	if err := appsv1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	if err := corev1.AddToScheme(scheme); err != nil {
		t.Fatal(err)
	}
	strict := json.NewSerializerWithOptions(json.DefaultMetaFactory, scheme, scheme, json.SerializerOptions{Yaml: true, Strict: true})
	n := 0
	for _, o := range appObjects(res) {
		if o.Kind() != "Deployment" && o.Kind() != "Service" && o.APIVersion() != "v1" {
			continue
		}
		var b bytes.Buffer
		manifest.EncodeOneYAML(&b, o)
		if _, _, err := strict.Decode(b.Bytes(), nil, nil); err != nil {
			t.Errorf("%s: %v", o.ID(), err)
		}
		n++
	}
	if n < 8 {
		t.Errorf("decoded only %d objects", n)
	}
}

func renderErr(t *testing.T, root string) string {
	t.Helper()
	_, err := Render(disk(t, root, filepath.Join(root, "values"), Request{All: true}))
	if err == nil {
		t.Fatal("the render succeeded")
	}
	de, ok := err.(*diag.Diagnostics)
	if !ok {
		t.Fatalf("not a user error: %v", err)
	}
	var b bytes.Buffer
	_ = diag.Write(&b, "text", de.Items, false)
	return b.String()
}

func replaceIn(t *testing.T, path, old, new string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(data, []byte(old)) {
		t.Fatalf("%s does not contain %q", path, old)
	}
	if err := os.WriteFile(path, bytes.Replace(data, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestCoherenceChecks: a render fails when the applications disagree.
func TestCoherenceChecks(t *testing.T) {
	cases := map[string]struct {
		file, old, new string
		want           string
	}{
		"unknown resource in a workload": {
			"overlays/kbs-access/deployment.yaml", "default/kbsres1/key3", "default/kbsres1/key9",
			"overlays/kbs-access/deployment.yaml:28:82: error: Deployment kbs-access/kbs-access: names KBS resource default/kbsres1/key9, which global.coco.trustee.resources does not list",
		},
		"unknown resource in an exec allow-list": {
			"policies/agent/default.rego", "attestation-status/random", "attestation-status/nonce",
			"names KBS resource default/attestation-status/nonce, which global.coco.trustee.resources does not list",
		},
		"image security policy flavour not served": {
			"values/values-global.yaml", "keys: [insecure, signed, reject]", "keys: [signed, reject]",
			"names KBS resource default/security-policy/insecure",
		},
		"KBS URL elsewhere": {
			"values/cluster-metadata.yaml", "url: https://kbs.apps.coco.example.com", "url: https://kbs.elsewhere.example.com",
			"init-data sends pods to https://kbs.elsewhere.example.com, but the trustee application serves the KBS at https://kbs.apps.coco.example.com",
		},
		"a debug pod fetches a secret of the default profile": {
			"overlays/kbs-access/deployment.yaml", "    metadata:\n      labels:\n        app: kbs-access\n", "    metadata:\n      annotations:\n        coco.io/initdata-profile: debug\n      labels:\n        app: kbs-access\n",
			"overlays/kbs-access/deployment.yaml:30:82: error: Deployment kbs-access/kbs-access: fetches KBS resource default/kbsres1/key3, but its pod runs with init-data profile debug, which may not read it (readers: default): Trustee would refuse it; add debug to the profiles of kbsres1 in global.coco.trustee.resources",
		},
		"a resource names an unknown profile": {
			"values/values-global.yaml", "profiles: [default, debug]", "profiles: [default, debgu]",
			`values/values-global.yaml:58:31: error: global.coco.trustee.resources.attestation-status.profiles: no init-data profile "debgu" (profiles: [debug default]): only pods of the profiles listed here may fetch attestation-status; did you mean "debug"?`,
		},
		"a profile's image security policy it may not read": {
			"values/values-global.yaml", "keys: [insecure, signed, reject]\n          profiles: [default, debug]", "keys: [insecure, signed, reject]\n          profiles: [default]",
			"global.coco.initdata.profiles.debug: the init-data of profile debug (its exec allow-list or image security policy) names KBS resource default/security-policy/insecure, which profile debug may not read (readers: default)",
		},
		"a profile's exec allow-list names a resource it may not read": {
			"values/values-global.yaml", "keys: [status, random]\n          profiles: [default, debug]", "keys: [status, random]\n          profiles: [debug]",
			"global.coco.initdata.profiles.default: the init-data of profile default (its exec allow-list or image security policy) names KBS resource default/attestation-status/random, which profile default may not read (readers: debug)",
		},
		"resource without keys": {
			"values/values-global.yaml", "keys: [status, random]\n", "",
			"values/values-global.yaml:56:9: error: global.coco.trustee.resources.attestation-status.keys: is required",
		},
		"pod VM pinned to nothing": {
			"values/values-global.yaml", "acceptUnpinnedPodVM: true", "podVMPCRs: {}",
			"values/values-global.yaml:45:20: error: global.coco.trustee.referenceValues.podVMPCRs: pins no PCR, so attestation would accept any pod VM image",
		},
		"pinned and unpinned": {
			"values/values-global.yaml", "acceptUnpinnedPodVM: true", "acceptUnpinnedPodVM: true\n        podVMPCRs: {pcr03: [" + strings.Repeat("ab", 32) + "]}",
			"values/values-global.yaml:45:30: error: global.coco.trustee.referenceValues.acceptUnpinnedPodVM: contradicts podVMPCRs",
		},
		"SNP minimum out of range": {
			"values/values-global.yaml", "microcode: 115", "microcode: 256",
			`error: global.coco.trustee.referenceValues.snpMinimumTCB.microcode: must be a number from 0 to 255`,
		},
		"unknown TDX TCB status": {
			"values/values-global.yaml", "tdxTCBStatuses: [UpToDate]", "tdxTCBStatuses: [UpToDat]",
			`error: global.coco.trustee.referenceValues.tdxTCBStatuses[0]: invalid value "UpToDat"`,
		},
		"rollout image": {
			"values/values-global.yaml", "image: image-registry.openshift-image-registry.svc:5000/openshift/cli:latest", "image: 'oc cli'",
			`values/values-global.yaml:71:14: error: global.coco.rollout.image: "oc cli" is not an image reference`,
		},
		"KBS reload schedule": {
			"values/values-global.yaml", `kbsReloadSchedule: "*/5 * * * *"`, `kbsReloadSchedule: "every 5 minutes"`,
			`values/values-global.yaml:72:26: error: global.coco.rollout.kbsReloadSchedule: "every 5 minutes" is not a CronJob schedule of five fields`,
		},
		"unknown rollout key": {
			"values/values-global.yaml", `kbsReloadSchedule: "*/5 * * * *"`, `kbsReloadSchedul: "*/5 * * * *"`,
			`values/values-global.yaml:72:7: error: global.coco.rollout: unknown key "kbsReloadSchedul"; did you mean "kbsReloadSchedule"?`,
		},
		"unknown profile": {
			"overlays/hello-openshift/secure/kustomization.yaml", "coco.io/initdata-profile: default", "coco.io/initdata-profile: defualt",
			`overlays/hello-openshift/secure/kustomization.yaml:22:37: error: Deployment hello-openshift/hello-openshift-secure coco.io/initdata-profile: unknown init-data profile "defualt"`,
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := repoCopy(t)
			replaceIn(t, filepath.Join(root, c.file), c.old, c.new)
			if got := renderErr(t, root); !strings.Contains(got, c.want) {
				t.Errorf("diagnostics:\n%s\nwant a line containing %q", got, c.want)
			}
		})
	}
}

// TestIdenticalProfilesAreRefused: two profiles in use that render the same init-data cannot be told apart by
// Trustee, so which secrets a pod gets would not depend on its profile.
func TestIdenticalProfilesAreRefused(t *testing.T) {
	root := repoCopy(t)
	replaceIn(t, filepath.Join(root, "values/values-global.yaml"), "        debug:\n          agentPolicy: debug\n", "        debug:\n          agentPolicy: debug\n        twin:\n          agentPolicy: debug\n")
	replaceIn(t, filepath.Join(root, "overlays/hello-openshift/secure/kustomization.yaml"), "coco.io/initdata-profile: default", "coco.io/initdata-profile: twin")
	got := renderErr(t, root)
	want := "values/values-global.yaml:34:9: error: global.coco.initdata.profiles.twin: profile twin renders the same init-data as profile debug, so Trustee cannot tell their pods apart"
	if !strings.Contains(got, want) {
		t.Errorf("diagnostics:\n%s\nwant a line containing %q", got, want)
	}
}

// TestOverlayOutsideTheRepositoryIsRefused: a kustomization that reaches outside the repository, or a
// workloads application whose path does, fails the render with a message at the line that says so.
func TestOverlayOutsideTheRepositoryIsRefused(t *testing.T) {
	cases := map[string]struct {
		file, old, new string
		want           string
	}{
		"a kustomization": {"overlays/kbs-access/kustomization.yaml", "  - route.yaml", "  - route.yaml\n  - ../../../etc/passwd",
			`overlays/kbs-access/kustomization.yaml:11:5: error: resources[3]: "../../../etc/passwd" leaves the repository root`},
		"an absolute application path": {"values/values-azure.yaml", "path: overlays/kbs-access", "path: /etc",
			`error: clusterGroup.applications.kbs-access.path: "/etc" is absolute: write the directory relative to the repository root`},
		"an application path with ..": {"values/values-azure.yaml", "path: overlays/kbs-access", "path: ../../etc",
			`error: clusterGroup.applications.kbs-access.path: "../../etc" leaves the repository`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := repoCopy(t)
			replaceIn(t, filepath.Join(root, c.file), c.old, c.new)
			if got := renderErr(t, root); !strings.Contains(strings.ReplaceAll(got, root+"/", ""), c.want) {
				t.Errorf("diagnostics:\n%s\nwant a line containing %q", got, c.want)
			}
		})
	}
}

// TestAppSelection: --app renders one application; unknown names and applications that Argo CD renders are
// errors that say so.
func TestAppSelection(t *testing.T) {
	res, err := Render(disk(t, "../..", "../../values", Request{App: "hello-openshift"}))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 9 {
		t.Errorf("hello-openshift has %d objects, want 9", len(res.Objects))
	}
	for name, want := range map[string]string{
		"helo-openshift": `no application "helo-openshift" rendered by cocogen in cluster group "azure"; did you mean "hello-openshift"?`,
		"vault":          `application "vault" is not rendered by cocogen (it has no cocogen key)`,
	} {
		_, err := Render(disk(t, "../..", "../../values", Request{App: name}))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("--app %s: %v; want %q", name, err, want)
		}
	}
}

// TestCocogenApplicationSource: the tree names the plugin for the applications cocogen renders, with the
// cluster group and the values directory, and the sandbox application leaves AZURE_IMAGE_ID to the operator.
func TestCocogenApplicationSource(t *testing.T) {
	res, err := Render(disk(t, "../..", "../../values", Request{}))
	if err != nil {
		t.Fatal(err)
	}
	sandbox := findObject(res.Objects, "Application", "sandbox")
	src := sandbox.Path("spec", "source")
	if src.Get("plugin").Get("name").Scalar() != "cocogen" || src.Get("path").Scalar() != "." || src.Get("helm") != nil {
		t.Errorf("source = %v", src)
	}
	env := map[string]string{}
	for _, e := range src.Path("plugin", "env").Items() {
		env[e.Get("name").Scalar()] = e.Get("value").Scalar()
	}
	if env["COCOGEN_APP"] != "sandbox" || env["COCOGEN_CLUSTER_GROUP"] != "azure" || len(env) != 2 {
		t.Errorf("plugin env = %v", env)
	}
	ign := sandbox.Path("spec", "ignoreDifferences").Items()
	if len(ign) != 1 || ign[0].Get("name").Scalar() != "peer-pods-cm" || ign[0].Get("jsonPointers").Items()[0].Scalar() != "/data/AZURE_IMAGE_ID" {
		t.Errorf("ignoreDifferences = %v", ign)
	}
	opts := sandbox.Path("spec", "syncPolicy", "syncOptions").Items()
	if len(opts) != 1 || opts[0].Scalar() != "RespectIgnoreDifferences=true" {
		t.Errorf("syncOptions = %v", opts)
	}
	if p := findObject(res.Objects, "Application", "hello-openshift").Path("spec", "source", "path").Scalar(); p != "overlays/hello-openshift" {
		t.Errorf("workloads path = %q", p)
	}
	if findObject(res.Objects, "Application", "trustee").Path("spec", "ignoreDifferences") != nil {
		t.Error("only the sandbox application ignores AZURE_IMAGE_ID")
	}
}

// TestChildEnvCarriesTheRenderInputs: the applications cocogen renders are told to render from the same
// inputs as the tree (except the source keys, which each child derives from its own source).
func TestChildEnvCarriesTheRenderInputs(t *testing.T) {
	root := repoCopy(t)
	mdPath := filepath.Join(root, "clusters", "prod.yaml")
	if err := os.MkdirAll(filepath.Dir(mdPath), 0o755); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(root, "values", "cluster-metadata.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mdPath, md, 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Render(disk(t, root, filepath.Join(root, "values"), Request{
		Metadata: md, MetadataName: "clusters/prod.yaml", MetadataFile: "clusters/prod.yaml",
		Sets:       []string{"global.options.syncPolicy=Automatic"},
		SetStrings: []string{"global.repoURL=https://example.com/fork.git", "global.targetRevision=dev"},
		Facts:      []metadata.Override{{Path: "azure.location", Value: "westeurope"}},
	}))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range findObject(res.Objects, "Application", "sandbox").Path("spec", "source", "plugin", "env").Items() {
		got = append(got, e.Get("name").Scalar()+"="+e.Get("value").Scalar())
	}
	want := []string{"COCOGEN_APP=sandbox", "COCOGEN_CLUSTER_GROUP=azure", "COCOGEN_METADATA=clusters/prod.yaml",
		"COCOGEN_SET=global.options.syncPolicy=Automatic", "COCOGEN_FACT_AZURE_LOCATION=westeurope"}
	if !slices.Equal(got, want) {
		t.Errorf("plugin env:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	src := findObject(res.Objects, "Application", "sandbox").Path("spec", "source")
	if src.Get("repoURL").Scalar() != "https://example.com/fork.git" || src.Get("targetRevision").Scalar() != "dev" {
		t.Errorf("source = %v", src)
	}
}

// TestBoundProfilesAreWhatTheStoreHolds: the check that every profile in use is bound compares the typed
// reference values the trustee application registers (App.bound), and those are what its rendered RVPS store
// holds, profile by profile.
func TestBoundProfilesAreWhatTheStoreHolds(t *testing.T) {
	res := renderAll(t, "../..")
	def, _ := res.Profile("default")
	for i := range res.Apps {
		a := &res.Apps[i]
		if a.Generator != "trustee" {
			continue
		}
		if a.bound["default"] != def.Digests.AzurePCR8 {
			t.Fatalf("the trustee application binds the default profile to %q, want %q", a.bound["default"], def.Digests.AzurePCR8)
		}
		var stored map[string]stdjson.RawMessage
		for _, o := range a.Objects {
			if o.Name() == trustee.ConfigMapRefValues {
				var err error
				if stored, err = rvps.Decode([]byte(o.Node.Path("data", "reference_value").Scalar())); err != nil {
					t.Fatal(err)
				}
			}
		}
		var rv struct{ Value map[string]map[string]string }
		if err := stdjson.Unmarshal(stored[trusteepolicy.RVInitDataProfiles], &rv); err != nil {
			t.Fatal(err)
		}
		inStore := map[string]string{}
		for name, b := range rv.Value {
			inStore[name] = b[trusteepolicy.BindingAzurePCR8]
		}
		if !maps.Equal(inStore, a.bound) {
			t.Errorf("the store binds %v, the checks compare %v", inStore, a.bound)
		}
		if got := registered(nil); len(got) != 0 {
			t.Errorf("no reference values register %v", got)
		}
		return
	}
	t.Fatal("no trustee application")
}

// TestVMSizeChoicesAreCheckedWhereTheyAreWritten: the peer-pods-cm size lists are checked in the values, with
// their positions (peer-pods-cm would carry them as they are).
func TestVMSizeChoicesAreCheckedWhereTheyAreWritten(t *testing.T) {
	cases := map[string]struct{ old, new, want string }{
		"spaces in the size list": {"VMFlavours: Standard_DC2as_v5,Standard_DC4as_v5", "VMFlavours: Standard_DC2as_v5, Standard_DC4as_v5",
			`values/values-global.yaml:23:19: error: global.coco.azure.VMFlavours: "Standard_DC2as_v5, Standard_DC4as_v5,Standard_DC8as_v5,Standard_DC16as_v5" contains spaces`},
		"default not in the list": {"defaultVMFlavour: Standard_DC2as_v5", "defaultVMFlavour: Standard_DC32as_v5",
			"values/values-global.yaml:22:25: error: global.coco.azure.defaultVMFlavour: Standard_DC32as_v5 is not among VMFlavours"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := repoCopy(t)
			replaceIn(t, filepath.Join(root, "values/values-global.yaml"), c.old, c.new)
			if got := renderErr(t, root); !strings.Contains(got, c.want) {
				t.Errorf("diagnostics:\n%s\nwant a line containing %q", got, c.want)
			}
		})
	}
}

// TestInitDataAnnotationByKataVersion backs the README's rule, read in kata-containers at each tag:
// runtime.cc_init_data for Kata 3.16 to 3.19, hypervisor.cc_init_data from 3.21 on and when the release is
// unknown; on 3.20 hypervisor.cc_init_data on bare metal, and on peer pods runtime.cc_init_data, which that
// shim ignores (its remote configuration does not enable hypervisor.cc_init_data); none before 3.16.
func TestInitDataAnnotationByKataVersion(t *testing.T) {
	type want struct {
		name    string
		ignored bool
	}
	for _, tc := range []struct {
		kata   string
		remote want
		local  want
	}{
		{"", want{initdata.AnnotationInitData, false}, want{initdata.AnnotationInitData, false}},
		{"3.15.2", want{"", false}, want{"", false}},
		{"3.16.0", want{initdata.AnnotationInitDataRuntime, false}, want{initdata.AnnotationInitDataRuntime, false}},
		{"3.19.1", want{initdata.AnnotationInitDataRuntime, false}, want{initdata.AnnotationInitDataRuntime, false}},
		{"3.20.0", want{initdata.AnnotationInitDataRuntime, true}, want{initdata.AnnotationInitData, false}},
		{"3.21.0", want{initdata.AnnotationInitData, false}, want{initdata.AnnotationInitData, false}},
		{"3.31.0", want{initdata.AnnotationInitData, false}, want{initdata.AnnotationInitData, false}},
	} {
		k, err := agentpolicy.ParseKataVersion(tc.kata)
		if err != nil {
			t.Fatal(err)
		}
		for h, w := range map[release.Hypervisor]want{release.Remote: tc.remote, release.Local: tc.local} {
			if name, ignored := InitDataAnnotation(k, h); name != w.name || ignored != w.ignored {
				t.Errorf("kata %q on %v: %q (ignored %v), want %q (ignored %v)", tc.kata, h, name, ignored, w.name, w.ignored)
			}
		}
	}
}

// TestContainerWarnings: what a manifest leaves to the host in a confidential pod is a warning at its line,
// and the default profile's policy admits the containers as the manifests declare them (digest-pinned images
// are not warned about; a debug pod's containers are not in the default policy).
func TestContainerWarnings(t *testing.T) {
	root := repoCopy(t)
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	deployment := filepath.Join(root, "overlays/kbs-access/deployment.yaml")
	replaceIn(t, deployment, "image: registry.access.redhat.com/ubi9/ubi-minimal:9.6", "image: registry.access.redhat.com/ubi9/ubi-minimal@"+digest)
	replaceIn(t, deployment, "          command: [python3, -m, http.server, \"8080\", --directory, /shared]\n", "")
	replaceIn(t, deployment, "      volumes:\n", "      volumes:\n        - name: host\n          hostPath:\n            path: /var/log\n")
	replaceIn(t, deployment, "            - name: shared\n              mountPath: /shared\n              readOnly: true\n", "            - name: shared\n              mountPath: /shared\n              readOnly: true\n            - name: host\n              mountPath: /host\n")
	res := renderAll(t, root)
	var got []string
	for _, d := range res.Diagnostics {
		if strings.Contains(d.Pos.File, "kbs-access") {
			got = append(got, strings.TrimPrefix(d.String(), root+"/"))
		}
	}
	want := []string{
		"overlays/kbs-access/deployment.yaml:41:18: warning: container web of Deployment kbs-access/kbs-access: image registry.access.redhat.com/ubi9/python-312:9.6 is named by tag: the agent policy of profile default admits whatever image the tag points to when the pod starts; pin it by digest (registry.access.redhat.com/ubi9/python-312:9.6@sha256:...)",
		"overlays/kbs-access/deployment.yaml:41:18: warning: container web of Deployment kbs-access/kbs-access: mounts a hostPath volume at /host: its content comes from the host, which a confidential pod does not trust",
		"overlays/kbs-access/deployment.yaml:41:18: warning: container web of Deployment kbs-access/kbs-access: sets no command, so its command line comes from the image, which cocogen cannot read: the agent policy of profile default admits any command line for it; set command (and args)",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	def, _ := res.Profile("default")
	var workloads []string
	for _, c := range def.Containers {
		workloads = append(workloads, c.Workload+" "+c.Name)
		if c.Name == "web" && (c.Args != nil || !slices.Contains(c.Mounts, "/host")) {
			t.Errorf("web: %+v", c)
		}
	}
	if strings.Join(workloads, ", ") != "Deployment hello-openshift/hello-openshift-secure hello-openshift, Deployment kbs-access/kbs-access fetch-secret, Deployment kbs-access/kbs-access web" {
		t.Errorf("the default profile admits %v", workloads)
	}
	if dbg, _ := res.Profile("debug"); len(dbg.Containers) != 0 || dbg.ChecksContainers {
		t.Errorf("the debug profile's policy lists containers: %+v", dbg.Containers)
	}
	if !bytes.Contains(def.Policy, []byte(`"registry.access.redhat.com/ubi9/ubi-minimal@`+digest+`"`)) {
		t.Error("the default policy does not admit the digest-pinned image")
	}
}

// keepPrevious writes referenceValues.previous into the values of a repository copy.
func keepPrevious(t *testing.T, root, entries string) {
	t.Helper()
	replaceIn(t, filepath.Join(root, "values/values-global.yaml"), "        expiration: \"2027-12-31T00:00:00Z\"\n",
		"        expiration: \"2027-12-31T00:00:00Z\"\n        previous:\n"+entries)
}

// fixedClock is a render clock at t (YYYY-MM-DDTHH:MM:SSZ).
func fixedClock(t *testing.T, at string) func() time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339, at)
	if err != nil {
		t.Fatal(err)
	}
	return func() time.Time { return tm }
}

// storedPrevious reads cocogen_initdata_previous back from the trustee application's stored reference values.
func storedPrevious(t *testing.T, res *Result) (value map[string][]map[string]string, expiration string) {
	t.Helper()
	cm := findObject(appObjects(res), "ConfigMap", trustee.ConfigMapRefValues)
	stored, err := rvps.Decode([]byte(cm.Path("data", "reference_value").Scalar()))
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := stored["cocogen_initdata_previous"]
	if !ok {
		return nil, ""
	}
	var rv struct {
		Expiration string
		Value      map[string][]map[string]string
	}
	if err := stdjson.Unmarshal(raw, &rv); err != nil {
		t.Fatal(err)
	}
	return rv.Value, rv.Expiration
}

// TestPreviousInitDataIsBoundUntilItsTime: after a policy change, the init-data the default profile rendered
// before stays in the reference values, with the bindings of its digest and its time, while the values keep
// it; the render is the same at any time (the clock only decides warnings). The clock is the render's one
// clock, which also checks the trust anchor: every time here lies within the example CA's validity.
func TestPreviousInitDataIsBoundUntilItsTime(t *testing.T) {
	root := repoCopy(t)
	before := renderAll(t, root).Profiles["default"].Digests
	replaceIn(t, filepath.Join(root, "policies/agent/default.rego"), "default ReadStreamRequest := false", "default ReadStreamRequest := true")
	keepPrevious(t, root, "          - profile: default\n            digest: sha256:"+before.Digest+"\n            until: \"2027-01-14T00:00:00Z\"\n")
	render := func(at string) (*Result, []string) {
		res, err := Render(disk(t, root, filepath.Join(root, "values"), Request{All: true, Now: fixedClock(t, at)}))
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		var ws []string
		for _, d := range res.Diagnostics {
			if strings.Contains(d.Path, "previous") {
				ws = append(ws, d.String())
			}
		}
		return res, ws
	}
	res, warnings := render("2027-01-07T12:00:00Z")
	if len(warnings) > 0 {
		t.Errorf("warnings within the window: %q", warnings)
	}
	if res.Profiles["default"].Digests.Digest == before.Digest {
		t.Fatal("the policy change did not change the digest")
	}
	value, expiration := storedPrevious(t, res)
	want := []map[string]string{{"azure_pcr8": before.AzurePCR8, "snp_host_data": before.SNPHostData, "tdx_mrconfigid": before.TDXMRConfigID, "until": "2027-01-14T00:00:00Z"}}
	if len(value) != 1 || !slices.EqualFunc(value["default"], want, maps.Equal) || expiration != "2027-01-14T00:00:00Z" {
		t.Errorf("stored previous = %v (expiration %s), want default: %v", value, expiration, want)
	}
	if len(res.Previous) != 1 || res.Previous[0].Digest != before.Digest {
		t.Errorf("Result.Previous = %+v", res.Previous)
	}
	later, warnings := render("2027-01-15T00:00:00Z")
	if len(warnings) != 1 || !strings.Contains(warnings[0], "values/values-global.yaml:44:20: warning: global.coco.trustee.referenceValues.previous[0].until: 2027-01-14T00:00:00Z has passed") {
		t.Errorf("warnings after the window: %q", warnings)
	}
	if a, b := storedPrevious(t, later); !maps.EqualFunc(a, value, func(x, y []map[string]string) bool { return slices.EqualFunc(x, y, maps.Equal) }) || b != expiration {
		t.Error("the render changed with the clock")
	}
	if _, warnings := render("2026-12-01T00:00:00Z"); len(warnings) != 1 || !strings.Contains(warnings[0], "for 44 more days") {
		t.Errorf("a window far ahead: %q", warnings)
	}
}

// TestPreviousInitDataChecks: entries that Trustee could not use, or that would make two profiles one, are
// errors at their line; an entry that is the current init-data is a warning and is left out.
func TestPreviousInitDataChecks(t *testing.T) {
	res := renderAll(t, "../..")
	debug, def := res.Profiles["debug"].Digests.Digest, res.Profiles["default"].Digests.Digest
	entry := func(profile, digest, until string) string {
		return "          - profile: " + profile + "\n            digest: " + digest + "\n            until: " + until + "\n"
	}
	old := strings.Repeat("ab", 32)
	cases := map[string]struct{ entries, want string }{
		"unknown profile":   {entry("defualt", "sha256:"+old, `"2027-01-01T00:00:00Z"`), `values/values-global.yaml:42:22: error: global.coco.trustee.referenceValues.previous[0].profile: no init-data profile "defualt" (profiles: debug, default); did you mean "default"?`},
		"another profile's": {entry("default", "sha256:"+debug, `"2027-01-01T00:00:00Z"`), "values/values-global.yaml:43:21: error: global.coco.trustee.referenceValues.previous[0].digest: is the init-data profile debug renders now, so Trustee could not tell whether such a pod runs debug or default"},
		"not a digest":      {entry("default", "6a4c0bf3", `"2027-01-01T00:00:00Z"`), `values/values-global.yaml:43:21: error: global.coco.trustee.referenceValues.previous[0].digest: "6a4c0bf3" is not an init-data digest: write <algorithm>:<hex>`},
		"short digest":      {entry("default", "sha384:"+old, `"2027-01-01T00:00:00Z"`), `global.coco.trustee.referenceValues.previous[0].digest: "sha384:` + old + `" is not a sha384 digest: 96 lowercase hex characters`},
		"not a time":        {entry("default", "sha256:"+old, "2027-01-01"), `values/values-global.yaml:44:20: error: global.coco.trustee.referenceValues.previous[0].until: "2027-01-01" is not a UTC time`},
		"twice":             {entry("default", "sha256:"+old, `"2027-01-01T00:00:00Z"`) + entry("debug", "sha256:"+old, `"2027-01-01T00:00:00Z"`), "values/values-global.yaml:46:21: error: global.coco.trustee.referenceValues.previous[1].digest: sha256:" + old + " is listed twice (first as entry 0)"},
		"missing until":     {"          - profile: default\n            digest: sha256:" + old + "\n", "values/values-global.yaml:42:13: error: global.coco.trustee.referenceValues.previous[0].until: is required"},
		"unknown key":       {entry("default", "sha256:"+old, `"2027-01-01T00:00:00Z"`) + "            untill: x\n", `global.coco.trustee.referenceValues.previous[0]: unknown key "untill"; did you mean "until"?`},
		"not a list":        {"          profile: default\n", "global.coco.trustee.referenceValues.previous: must be a list of {profile, digest, until}"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := repoCopy(t)
			keepPrevious(t, root, c.entries)
			if got := renderErr(t, root); !strings.Contains(got, c.want) {
				t.Errorf("diagnostics:\n%s\nwant a line containing %q", got, c.want)
			}
		})
	}
	root := repoCopy(t)
	keepPrevious(t, root, entry("default", "sha256:"+def, `"2027-01-01T00:00:00Z"`))
	res = renderAll(t, root)
	if v, _ := storedPrevious(t, res); v != nil {
		t.Errorf("the current init-data kept as previous: %v", v)
	}
	var found bool
	for _, d := range res.Diagnostics {
		found = found || strings.Contains(d.String(), "previous[0].digest: is the init-data profile default renders now: there is nothing to keep")
	}
	if !found {
		t.Errorf("no warning: %v", res.Diagnostics)
	}
}
