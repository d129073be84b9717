package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The baremetal cluster group of the built-in pattern, with its example metadata
// (values/cluster-metadata-baremetal.yaml, the default metadata of that group).
var bareMetal = []string{"render", "--all", "--cluster-group", "baremetal"}

type k8sObject struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name        string            `json:"name"`
		Namespace   string            `json:"namespace"`
		Annotations map[string]string `json:"annotations"`
	} `json:"metadata"`
	Spec json.RawMessage   `json:"spec"`
	Data map[string]string `json:"data"`
}

func renderBareMetal(t *testing.T, args ...string) []k8sObject {
	t.Helper()
	code, out, errOut := cli(t, "", append(args, "-o", "json")...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var list struct{ Items []k8sObject }
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

func TestBareMetalAcceptance(t *testing.T) {
	atRoot(t)
	objs := renderBareMetal(t, bareMetal...)
	withM := renderBareMetal(t, append(bareMetal, "-m", "values/cluster-metadata-baremetal.yaml")...)
	if len(withM) != len(objs) {
		t.Errorf("-m values/cluster-metadata-baremetal.yaml renders %d objects, the group's default metadata %d", len(withM), len(objs))
	}
	code, out, errOut := cli(t, "", "initdata", "digest", "--profile", "default", "--cluster-group", "baremetal", "-o", "json")
	var digests struct {
		SNPHostData   string `json:"snpHostData"`
		TDXMRConfigID string `json:"tdxMrConfigId"`
	}
	if err := json.Unmarshal([]byte(out), &digests); code != 0 || err != nil {
		t.Fatalf("initdata digest: exit %d, %v: %s", code, err, errOut)
	}
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(digests.SNPHostData) || !regexp.MustCompile(`^[0-9a-f]{96}$`).MatchString(digests.TDXMRConfigID) {
		t.Fatalf("initdata digest: HOST_DATA %q, MRCONFIGID %q", digests.SNPHostData, digests.TDXMRConfigID)
	}
	var kata, rvps, secure, kbsConfig *k8sObject
	for i := range objs {
		o := &objs[i]
		raw, _ := json.Marshal(o)
		if strings.Contains(string(raw), "peer-pods-cm") || strings.Contains(string(raw), "kata-remote") {
			t.Errorf("%s %s names peer-pods-cm or kata-remote: bare metal has no peer pods", o.Kind, o.Metadata.Name)
		}
		switch {
		case o.Kind == "KataConfig":
			kata = o
		case o.Kind == "ConfigMap" && o.Metadata.Name == "rvps-reference-values":
			rvps = o
		case o.Kind == "ConfigMap" && o.Metadata.Name == "kbs-config":
			kbsConfig = o
		case o.Kind == "Deployment" && o.Metadata.Name == "hello-openshift-secure":
			secure = o
		}
	}
	if kata == nil || rvps == nil || secure == nil || kbsConfig == nil {
		t.Fatalf("missing objects: KataConfig %v, rvps-reference-values %v, hello-openshift-secure %v, kbs-config %v", kata != nil, rvps != nil, secure != nil, kbsConfig != nil)
	}
	var ks struct {
		EnablePeerPods       *bool `json:"enablePeerPods"`
		CheckNodeEligibility bool  `json:"checkNodeEligibility"`
	}
	if err := json.Unmarshal(kata.Spec, &ks); err != nil || ks.EnablePeerPods == nil || *ks.EnablePeerPods || !ks.CheckNodeEligibility {
		t.Errorf("KataConfig spec %s: want enablePeerPods false and checkNodeEligibility true", kata.Spec)
	}
	checkConfidentialPod(t, "hello-openshift-secure", secure.Spec, "kata-cc", "8192")
	var refs []struct {
		Name  string          `json:"name"`
		Value json.RawMessage `json:"value"`
	}
	if err := json.Unmarshal([]byte(rvps.Data["reference-values.json"]), &refs); err != nil {
		t.Fatalf("reference-values.json: %v", err)
	}
	found := false
	for _, r := range refs {
		if r.Name == "cocogen_initdata_profiles" {
			found = true
			var profiles map[string]map[string]string
			if err := json.Unmarshal(r.Value, &profiles); err != nil {
				t.Fatal(err)
			}
			if got := profiles["default"]; got["snp_host_data"] != digests.SNPHostData || got["tdx_mrconfigid"] != digests.TDXMRConfigID {
				t.Errorf("reference values of profile default %v, want HOST_DATA %s and MRCONFIGID %s", got, digests.SNPHostData, digests.TDXMRConfigID)
			}
		}
	}
	if !found {
		t.Errorf("rvps-reference-values has no cocogen_initdata_profiles: %s", rvps.Data["reference-values.json"])
	}
	cfg := kbsConfig.Data["kbs-config.toml"]
	for _, want := range []string{"[attestation_service.verifier_config.dcap_verifier]", `collateral_service = "https://api.trustedservices.intel.com/sgx/certification/v4/"`, "[[attestation_service.verifier_config.snp_verifier.vcek_sources]]"} {
		if !strings.Contains(cfg, want) {
			t.Errorf("kbs-config.toml has no %s", want)
		}
	}
}

// TestBareMetalRenderGolden keeps the baremetal group's render under review (go test ./cmd/cocogen -update
// rewrites it).
func TestBareMetalRenderGolden(t *testing.T) {
	atRoot(t)
	code, out, errOut := cli(t, "", bareMetal...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	golden := filepath.Join(pkgDir, "testdata", "render-builtin-baremetal.yaml")
	if *update {
		if err := os.WriteFile(golden, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != out {
		t.Errorf("output differs from %s (go test ./cmd/cocogen -update rewrites it)", golden)
	}
}

func TestPolicyEvalTrusteeBareMetal(t *testing.T) {
	atRoot(t)
	debug := map[string]string{
		"snp": `{"snp": {"policy_debug_allowed": true}}`,
		"tdx": `{"tdx": {"td_attributes": {"debug": true}}}`,
	}
	for _, group := range [][]string{nil, {"--cluster-group", "baremetal"}} {
		for tee, claims := range debug {
			args := append([]string{"policy", "eval", "trustee", "--tee", tee, "--profile", "default", "--resource", "default/kbsres1/key1"}, group...)
			code, out, errOut := cli(t, "", args...)
			if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: released\n") {
				t.Errorf("%v: exit %d\n%s%s", args, code, out, errOut)
			}
			code, out, _ = cli(t, claims, append(args, "--claims", "-")...)
			if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: denied\n") || !strings.Contains(out, "hardware 97 (contraindicated)") {
				t.Errorf("%v with %s: exit %d\n%s", args, claims, code, out)
			}
			code, out, _ = cli(t, "", append(args[:len(args):len(args)], "--profile", "debug")...)
			if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: denied\n") {
				t.Errorf("%v --profile debug: exit %d\n%s", args, code, out)
			}
		}
	}
	// The default TEE of the baremetal group is one of its hosts'.
	code, out, _ := cli(t, "", "policy", "eval", "trustee", "--cluster-group", "baremetal", "--profile", "default", "--resource", "default/kbsres1/key1")
	if code != 0 || !strings.Contains(out, "guest: profile default on snp\n") {
		t.Errorf("default TEE of the baremetal group: exit %d\n%s", code, out)
	}
}

// TestBareMetalGPUAcceptance: the baremetal-gpu group configures the GPU operator for confidential GPUs in Kata
// pod VMs, runs the CUDA sample in kata-cc-nvidia-gpu with its profile's init-data, and has Trustee verify
// NVIDIA evidence.
func TestBareMetalGPUAcceptance(t *testing.T) {
	atRoot(t)
	objs := renderBareMetal(t, "render", "--all", "--cluster-group", "baremetal-gpu")
	var policy, job, kbsConfig *k8sObject
	iommu := 0
	for i := range objs {
		o := &objs[i]
		switch {
		case o.Kind == "ClusterPolicy":
			policy = o
		case o.Kind == "Job" && o.Metadata.Name == "gpu-vectoradd":
			job = o
		case o.Kind == "ConfigMap" && o.Metadata.Name == "kbs-config":
			kbsConfig = o
		case o.Kind == "MachineConfig" && strings.Contains(string(o.Spec), "intel_iommu=on"):
			iommu++
		}
	}
	if policy == nil || job == nil || kbsConfig == nil || iommu != 1 {
		t.Fatalf("ClusterPolicy %v, Job gpu-vectoradd %v, kbs-config %v, IOMMU MachineConfigs %d", policy != nil, job != nil, kbsConfig != nil, iommu)
	}
	var ps struct {
		SandboxWorkloads struct {
			Enabled bool   `json:"enabled"`
			Mode    string `json:"mode"`
		} `json:"sandboxWorkloads"`
		CCManager struct {
			DefaultMode string `json:"defaultMode"`
		} `json:"ccManager"`
	}
	if err := json.Unmarshal(policy.Spec, &ps); err != nil || !ps.SandboxWorkloads.Enabled || ps.SandboxWorkloads.Mode != "kata" || ps.CCManager.DefaultMode != "on" {
		t.Errorf("ClusterPolicy spec %s", policy.Spec)
	}
	checkConfidentialPod(t, "gpu-vectoradd", job.Spec, "kata-cc-nvidia-gpu", "32768")
	if !strings.Contains(kbsConfig.Data["kbs-config.toml"], "[attestation_service.verifier_config.nvidia_verifier]\ntype = \"Local\"") {
		t.Errorf("kbs-config.toml has no local NVIDIA verifier")
	}
}

// TestPolicyEvalTrusteeGPU: a resource gated on CPU and GPU evidence is released to a guest whose CPU and GPU
// both attest, and denied without a GPU, with a GPU whose driver or VBIOS the values do not list, with a GPU
// of another architecture, and to a profile that may not read it; an ungated resource needs no GPU.
func TestPolicyEvalTrusteeGPU(t *testing.T) {
	atRoot(t)
	const gated = "default/gpu-model-key/key"
	base := []string{"policy", "eval", "trustee", "--cluster-group", "baremetal-gpu", "--profile", "default"}
	run := func(stdin string, extra ...string) (int, string, string) {
		return cli(t, stdin, append(append([]string{}, base...), extra...)...)
	}
	for _, tee := range []string{"tdx", "snp"} {
		code, out, errOut := run("", "--tee", tee, "--gpu", "--resource", gated)
		if code != 0 || !strings.HasPrefix(out, gated+": released\n") || !strings.Contains(out, "gpu0 ear.status: affirming\n") {
			t.Errorf("%s with a GPU: exit %d\n%s%s", tee, code, out, errOut)
		}
		code, out, _ = run("", "--tee", tee, "--resource", gated)
		if code != 0 || !strings.HasPrefix(out, gated+": denied\n") || !strings.Contains(out, "requires the evidence of a GPU besides the CPU's") {
			t.Errorf("%s without a GPU: exit %d\n%s", tee, code, out)
		}
	}
	for claims, want := range map[string]string{
		`{"nvidia": {"config": {"driver_version": "470.82.01"}}}`:     "configuration 96 (contraindicated)",
		`{"nvidia": {"config": {"vbios_version": "96.00.30.00.01"}}}`: "configuration 96 (contraindicated)",
		`{"nvidia": {"arch": "Blackwell"}}`:                           "hardware 97 (contraindicated)",
	} {
		code, out, _ := run(claims, "--tee", "tdx", "--gpu-claims", "-", "--resource", gated)
		if code != 0 || !strings.HasPrefix(out, gated+": denied\n") || !strings.Contains(out, "the GPU's submod gpu0 is contraindicated") || !strings.Contains(out, want) {
			t.Errorf("GPU claims %s: exit %d\n%s", claims, code, out)
		}
	}
	// A bad GPU denies every resource, gated or not: KBS needs every submod affirming.
	code, out, _ := run(`{"nvidia": {"config": {"driver_version": "470.82.01"}}}`, "--tee", "tdx", "--gpu-claims", "-", "--resource", "default/kbsres1/key1")
	if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: denied\n") {
		t.Errorf("ungated resource with a bad GPU: exit %d\n%s", code, out)
	}
	code, out, _ = run("", "--tee", "tdx", "--resource", "default/kbsres1/key1")
	if code != 0 || !strings.HasPrefix(out, "default/kbsres1/key1: released\n") {
		t.Errorf("ungated resource without a GPU: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, "", "policy", "eval", "trustee", "--cluster-group", "baremetal-gpu", "--profile", "debug", "--tee", "tdx", "--gpu", "--resource", gated)
	if code != 0 || !strings.HasPrefix(out, gated+": denied\n") || !strings.Contains(out, "profile debug may not read") {
		t.Errorf("debug profile with a GPU: exit %d\n%s", code, out)
	}
	// The JSON output carries the GPU's appraisal and the requirement.
	code, out, _ = run("", "--tee", "tdx", "--gpu", "--resource", gated, "-o", "json")
	var r struct {
		Decision string   `json:"decision"`
		Requires []string `json:"requires"`
		GPU      struct {
			Status      string           `json:"status"`
			TrustVector map[string]int64 `json:"trustVector"`
		} `json:"gpu"`
		Token struct {
			Submods map[string]any `json:"submods"`
		} `json:"token"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || code != 0 || r.Decision != "released" || r.GPU.Status != "affirming" || r.GPU.TrustVector["hardware"] != 2 || len(r.Requires) != 1 || r.Token.Submods["gpu0"] == nil || r.Token.Submods["cpu0"] == nil {
		t.Errorf("json: exit %d, %v\n%s", code, err, out)
	}
	// With NVIDIA's remote attestation service as the verifier, the GPU's evidence is NRAS's claims: a GPU in
	// debug mode, or one that does not boot securely, is denied.
	remote := []string{"--set", "global.coco.baremetal.nvidiaVerifier=remote", "--tee", "tdx", "--resource", gated}
	code, out, _ = run("", append(remote, "--gpu")...)
	if code != 0 || !strings.HasPrefix(out, gated+": released\n") || !strings.Contains(out, "gpu0 trust vector: executables 3 (affirming)") {
		t.Errorf("remote verifier: exit %d\n%s", code, out)
	}
	for _, claims := range []string{`{"nvidia": {"dbgstat": "enabled"}}`, `{"nvidia": {"secboot": false}}`} {
		code, out, _ = run(claims, append(remote, "--gpu-claims", "-")...)
		if code != 0 || !strings.HasPrefix(out, gated+": denied\n") || !strings.Contains(out, "configuration 96 (contraindicated)") {
			t.Errorf("remote verifier, %s: exit %d\n%s", claims, code, out)
		}
	}
	// A group without GPU hosts has no GPU policy to appraise a GPU with.
	code, _, errOut := cli(t, "", "policy", "eval", "trustee", "--cluster-group", "baremetal", "--profile", "default", "--gpu", "--resource", "default/kbsres1/key1")
	if code != 1 || !strings.Contains(errOut, "renders no GPU attestation policy (attestation-policy-gpu)") {
		t.Errorf("--gpu on the baremetal group: exit %d\n%s", code, errOut)
	}
	code, _, errOut = cli(t, "{}", append(append([]string{}, base...), "--claims", "-", "--gpu-claims", "-", "--resource", gated)...)
	if code != 2 || !strings.Contains(errOut, "--claims and --gpu-claims cannot both read stdin") {
		t.Errorf("both from stdin: exit %d\n%s", code, errOut)
	}
}

// checkConfidentialPod checks the pod template of a workload's spec (spec.template): the runtime class, an
// init-data annotation and the guest memory annotation (MiB).
func checkConfidentialPod(t *testing.T, name string, spec json.RawMessage, runtimeClass, memory string) {
	t.Helper()
	var w struct {
		Template struct {
			Metadata struct {
				Annotations map[string]string `json:"annotations"`
			} `json:"metadata"`
			Spec struct {
				RuntimeClassName string `json:"runtimeClassName"`
			} `json:"spec"`
		} `json:"template"`
	}
	if err := json.Unmarshal(spec, &w); err != nil {
		t.Fatal(err)
	}
	ann := w.Template.Metadata.Annotations
	if w.Template.Spec.RuntimeClassName != runtimeClass || ann["io.katacontainers.config.hypervisor.cc_init_data"] == "" || ann["io.katacontainers.config.hypervisor.default_memory"] != memory {
		t.Errorf("%s: runtime class %q, annotations %v", name, w.Template.Spec.RuntimeClassName, ann)
	}
}
