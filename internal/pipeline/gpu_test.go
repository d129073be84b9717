package pipeline

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/rvps"
	"github.com/cocogen/cocogen/internal/trusteepolicy"
)

// trusteeObjects renders group from the repository copy root and returns the trustee application's objects.
func trusteeObjects(t *testing.T, root, group string) []manifest.Object {
	t.Helper()
	res, err := renderGroup(t, root, group, "")
	if err != nil {
		t.Fatalf("render %s: %v", group, err)
	}
	for _, a := range res.Apps {
		if a.Name == "trustee" {
			return a.Objects
		}
	}
	t.Fatalf("%s: no trustee application", group)
	return nil
}

func configMapValue(objs []manifest.Object, name, key string) (string, bool) {
	cm := find(objs, "ConfigMap", name)
	if cm == nil {
		return "", false
	}
	n := cm.Node.Path("data", key)
	return n.Scalar(), n != nil
}

// TestGPUEvidenceIsAppraisedAndGated: on a cluster with confidential GPUs the trustee application mounts the
// attestation policy as Trustee's GPU policy too, registers the pinned GPU versions, and writes the GPU
// requirement of a resource into the resource policy; a cluster without GPUs gets none of it.
func TestGPUEvidenceIsAppraisedAndGated(t *testing.T) {
	root := repoCopy(t)
	gpu := trusteeObjects(t, root, "baremetal-gpu")
	cpuPolicy, ok1 := configMapValue(gpu, trustee.ConfigMapAttestation, trustee.KeyAttestation)
	gpuPolicy, ok2 := configMapValue(gpu, trustee.ConfigMapGPU, trustee.KeyAttestationGPU)
	if !ok1 || !ok2 || gpuPolicy != cpuPolicy || !strings.Contains(gpuPolicy, `"nvidia"`) {
		t.Fatalf("the GPU policy (%v) is not the attestation policy (%v) with its GPU submodule", ok2, ok1)
	}
	kbs := find(gpu, "KbsConfig", trustee.KbsConfigName)
	if got := kbs.Node.Path("spec", "kbsGpuAttestationPolicyConfigMapName").Scalar(); got != trustee.ConfigMapGPU {
		t.Errorf("kbsGpuAttestationPolicyConfigMapName = %q", got)
	}
	policy, _ := configMapValue(gpu, trustee.ConfigMapResource, trustee.KeyResource)
	if !strings.Contains(policy, `"default/gpu-model-key/key": {
    "profiles": [
      "default"
    ],
    "requires": [
      "gpu"
    ]
  }`) || !strings.Contains(policy, `"default/credential/regcred": [
    "debug",
    "default"
  ]`) {
		t.Errorf("the resource policy's readers:\n%s", policy[strings.Index(policy, trusteepolicy.ReadersRule+" := "):])
	}
	stored, _ := configMapValue(gpu, trustee.ConfigMapRefValues, trustee.KeyRefValues)
	refs, err := rvps.Decode([]byte(stored))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{
		trusteepolicy.RVNVIDIADriverVersions: `"550.90.07"`,
		trusteepolicy.RVNVIDIAVBIOSVersions:  `"96.00.9f.00.01"`,
	} {
		if !bytes.Contains(refs[id], []byte(want)) {
			t.Errorf("reference value %s = %s, want it to hold %s", id, refs[id], want)
		}
	}
	if _, ok := refs[trusteepolicy.RVNVIDIAGPUMeasurements]; ok {
		t.Error("GPU measurements are registered, but the values pin none")
	}

	plain := trusteeObjects(t, root, "baremetal")
	if _, ok := configMapValue(plain, trustee.ConfigMapGPU, trustee.KeyAttestationGPU); ok {
		t.Error("a cluster without GPUs renders a GPU attestation policy")
	}
	if n := find(plain, "KbsConfig", trustee.KbsConfigName).Node.Path("spec", "kbsGpuAttestationPolicyConfigMapName"); n != nil {
		t.Error("a cluster without GPUs names a GPU attestation policy")
	}
}

// TestRegistryCredentialsReachCDHOnlyWhereSet: a profile's registryCredentials is written into its cdh.toml
// (so its init-data changes), and a profile without it keeps the cdh.toml it had.
func TestRegistryCredentialsReachCDHOnlyWhereSet(t *testing.T) {
	root := repoCopy(t)
	const key = `authenticated_registry_credentials_uri = "kbs:///default/credential/regcred"`
	for group, want := range map[string]bool{"baremetal": true, "baremetal-gpu": true, "azure": false} {
		res, err := renderGroup(t, root, group, "")
		if err != nil {
			t.Fatalf("render %s: %v", group, err)
		}
		for _, name := range []string{"default", "debug"} {
			p, err := res.Profile(name)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(string(p.TOML), key); got != want {
				t.Errorf("%s profile %s: cdh.toml carries the registry credentials: %v, want %v", group, name, got, want)
			}
		}
	}
}

// TestGPUAndRegistryValueErrors: wrong values name the file and line of what to change.
func TestGPUAndRegistryValueErrors(t *testing.T) {
	const file = "values/values-baremetal-gpu.yaml"
	cases := map[string]struct{ old, new, want string }{
		"unknown device class": {
			"          requires: [gpu]", "          requires: [tpu]",
			`values/values-baremetal-gpu.yaml:170:22: error: global.coco.trustee.resources.gpu-model-key.requires[0]: unknown device class "tpu" (valid: gpu)`,
		},
		"empty requirements": {
			"          requires: [gpu]", "          requires: []",
			`values/values-baremetal-gpu.yaml:170:21: error: global.coco.trustee.resources.gpu-model-key.requires: list the device classes whose evidence gpu-model-key needs besides the CPU's (gpu), or remove requires`,
		},
		"VBIOS versions missing": {
			`          vbiosVersions: ["96.00.9f.00.01"]` + "\n", "",
			`values/values-baremetal-gpu.yaml:158:11: error: global.coco.trustee.referenceValues.nvidiaGPU.vbiosVersions: is required`,
		},
		"not a driver version": {
			`driverVersions: ["550.90.07"]`, `driverVersions: ["550 90"]`,
			`values/values-baremetal-gpu.yaml:158:28: error: global.coco.trustee.referenceValues.nvidiaGPU.driverVersions[0]: "550 90" is not a version as the GPU reports it`,
		},
		"measurement index": {
			`vbiosVersions: ["96.00.9f.00.01"]`, `vbiosVersions: ["96.00.9f.00.01"]` + "\n          measurements: {\"0\": [" + strings.Repeat("ab", 48) + "]}",
			`values/values-baremetal-gpu.yaml:160:26: error: global.coco.trustee.referenceValues.nvidiaGPU.measurements.0: "0" is not an SPDM measurement index`,
		},
		"measurement value": {
			`vbiosVersions: ["96.00.9f.00.01"]`, `vbiosVersions: ["96.00.9f.00.01"]` + "\n          measurements: {\"2\": [abcd]}",
			`values/values-baremetal-gpu.yaml:160:32: error: global.coco.trustee.referenceValues.nvidiaGPU.measurements.2[0]: "abcd" is not 96 lowercase hex characters`,
		},
		"registry credentials not a KBS URI": {
			"        default:\n          registryCredentials: kbs:///default/credential/regcred", "        default:\n          registryCredentials: https://quay.io/auth.json",
			`values/values-baremetal-gpu.yaml:148:32: error: global.coco.initdata.profiles.default.registryCredentials: "https://quay.io/auth.json" is not a KBS resource URI: write kbs:///<repository>/<type>/<tag>`,
		},
		"registry credentials not served": {
			"        default:\n          registryCredentials: kbs:///default/credential/regcred", "        default:\n          registryCredentials: kbs:///default/credential/other",
			"names KBS resource default/credential/other, which global.coco.trustee.resources does not list",
		},
		"registry credentials a profile may not read": {
			"keys: [regcred]\n          profiles: [default, debug]", "keys: [regcred]\n          profiles: [default]",
			"global.coco.initdata.profiles.debug: the init-data of profile debug (its exec allow-list or image security policy) names KBS resource default/credential/regcred, which profile debug may not read (readers: default)",
		},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			root := repoCopy(t)
			replaceIn(t, filepath.Join(root, file), c.old, c.new)
			if got := groupErrors(t, root, "baremetal-gpu"); !strings.Contains(got, c.want) {
				t.Errorf("diagnostics:\n%s\nwant a line containing %q", got, c.want)
			}
		})
	}
}

// TestRemoteNVIDIAVerifier: nvidiaVerifier: remote has Trustee send GPU evidence to NVIDIA's remote attestation
// service; an unknown verifier is an error at its line.
func TestRemoteNVIDIAVerifier(t *testing.T) {
	const file = "values/values-baremetal-gpu.yaml"
	kbsConfig := func(root string) string {
		objs := trusteeObjects(t, root, "baremetal-gpu")
		cm := find(objs, "ConfigMap", trustee.ConfigMapKBSConfig)
		return cm.Node.Path("data", "kbs-config.toml").Scalar()
	}
	root := repoCopy(t)
	if cfg := kbsConfig(root); !strings.Contains(cfg, "[attestation_service.verifier_config.nvidia_verifier]\ntype = \"Local\"\n") {
		t.Errorf("default verifier:\n%s", cfg)
	}
	replaceIn(t, filepath.Join(root, file), "      storage: lvms\n", "      storage: lvms\n      nvidiaVerifier: remote\n")
	if cfg := kbsConfig(root); !strings.Contains(cfg, "[attestation_service.verifier_config.nvidia_verifier]\ntype = \"Remote\"\n") {
		t.Errorf("remote verifier:\n%s", cfg)
	}
	replaceIn(t, filepath.Join(root, file), "nvidiaVerifier: remote", "nvidiaVerifier: nras")
	if got, want := groupErrors(t, root, "baremetal-gpu"), `values/values-baremetal-gpu.yaml:141:23: error: global.coco.baremetal.nvidiaVerifier: invalid value "nras"`; !strings.Contains(got, want) {
		t.Errorf("diagnostics:\n%s\nwant a line containing %q", got, want)
	}
}

// groupErrors renders a cluster group of the repository at root that must fail with a user error, and returns
// its diagnostics as text.
func groupErrors(t *testing.T, root, group string) string {
	t.Helper()
	_, err := renderGroup(t, root, group, "")
	var de *diag.Diagnostics
	if !errors.As(err, &de) {
		t.Fatalf("not a user error: %v", err)
	}
	var b bytes.Buffer
	_ = diag.Write(&b, "text", de.Items, false)
	return b.String()
}
