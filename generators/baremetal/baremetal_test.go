package baremetal

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/crdschema/crdschematest"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/srcpos"
)

func kinds(objs []manifest.Object) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Kind()+" "+o.Name())
	}
	return out
}

func TestRender(t *testing.T) {
	s := crdschematest.Load(t)
	tests := []struct {
		name     string
		in       Input
		want     []string // kind and name of every object, in order
		notInOut []string
	}{
		{"tdx and snp with lvms", Input{TDXNodes: []string{"w0"}, SNPNodes: []string{"w1"}, OpenShiftVersion: "4.19", Storage: "lvms", MachineConfigRoles: []string{"worker", "master"}},
			[]string{"KataConfig default-kata-config", "ConfigMap osc-feature-gates", "NodeFeatureDiscovery nfd-instance", "NodeFeatureRule cocogen-tee-hosts",
				"MachineConfig 99-cocogen-tdx-worker", "MachineConfig 99-cocogen-tdx-master", "SgxDevicePlugin sgxdeviceplugin", "LVMCluster lvmcluster"}, nil},
		{"snp only with hpp", Input{SNPNodes: []string{"w1", "w0"}, Storage: "hpp", MachineConfigRoles: []string{"worker"}},
			[]string{"KataConfig default-kata-config", "ConfigMap osc-feature-gates", "NodeFeatureDiscovery nfd-instance", "NodeFeatureRule cocogen-tee-hosts",
				"HostPathProvisioner hostpath-provisioner", "StorageClass hostpath-csi"},
			[]string{"kvm_intel.tdx", LabelTDX, LabelSGX, "image:"}},
		{"tdx only without storage", Input{TDXNodes: []string{"w0"}, Storage: "none", MachineConfigRoles: []string{"worker"}},
			[]string{"KataConfig default-kata-config", "ConfigMap osc-feature-gates", "NodeFeatureDiscovery nfd-instance", "NodeFeatureRule cocogen-tee-hosts",
				"MachineConfig 99-cocogen-tdx-worker", "SgxDevicePlugin sgxdeviceplugin"},
			[]string{LabelSNP, "enablePeerPods: true", "peer-pods-cm"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			objs, d := Render(tc.in)
			if d.HasErrors() {
				t.Fatalf("errors: %v", d.Sorted())
			}
			if got := strings.Join(kinds(objs), ", "); got != strings.Join(tc.want, ", ") {
				t.Errorf("objects:\n got %s\nwant %s", got, strings.Join(tc.want, ", "))
			}
			var buf bytes.Buffer
			manifest.EncodeYAML(&buf, objs)
			for _, s := range tc.notInOut {
				if strings.Contains(buf.String(), s) {
					t.Errorf("output has %q", s)
				}
			}
			if !strings.Contains(buf.String(), "enablePeerPods: false") {
				t.Error("the KataConfig does not turn peer pods off")
			}
			for _, o := range objs {
				if !s.Has(o.APIVersion(), o.Kind()) {
					if o.Kind() != "ConfigMap" && o.Kind() != "StorageClass" {
						t.Errorf("%s: no CRD to validate it against", o.ID())
					}
					continue
				}
				if err := s.Validate(o.Node); err != nil {
					t.Errorf("%v", err)
				}
			}
		})
	}
}

func TestRenderWithoutHosts(t *testing.T) {
	objs, d := Render(Input{Storage: "lvms", FactsPos: srcpos.Pos{File: "values/cluster-metadata-baremetal.yaml", Line: 3, Col: 1}})
	if objs != nil || !d.HasErrors() {
		t.Fatalf("want an error and no objects, got %d objects", len(objs))
	}
	if msg := d.Sorted()[0].String(); !strings.HasPrefix(msg, "values/cluster-metadata-baremetal.yaml:3:1: error:") || !strings.Contains(msg, "baremetal.tdxNodes") {
		t.Errorf("message %q", msg)
	}
}

func TestURLEscape(t *testing.T) {
	if got := urlEscape("[a]\nb=0 c"); got != "%5Ba%5D%0Ab%3D0%20c" {
		t.Errorf("got %s", got)
	}
}

func TestRenderGPU(t *testing.T) {
	s := crdschematest.Load(t)
	objs, d := Render(Input{TDXNodes: []string{"w0"}, GPUNodes: []string{"w0"}, Storage: "none", MachineConfigRoles: []string{"worker"}})
	if d.HasErrors() {
		t.Fatal(d.Sorted())
	}
	want := "KataConfig default-kata-config, ConfigMap osc-feature-gates, NodeFeatureDiscovery nfd-instance, NodeFeatureRule cocogen-tee-hosts, MachineConfig 99-cocogen-tdx-worker, SgxDevicePlugin sgxdeviceplugin, MachineConfig 100-cocogen-iommu-worker, ClusterPolicy gpu-cluster-policy"
	if got := strings.Join(kinds(objs), ", "); got != want {
		t.Errorf("objects:\n got %s\nwant %s", got, want)
	}
	validated := 0
	for _, o := range objs {
		if o.Kind() == "ClusterPolicy" {
			if o.Node.Path("spec", "sandboxWorkloads", "mode").Scalar() != "kata" || o.Node.Path("spec", "ccManager", "defaultMode").Scalar() != "on" {
				t.Errorf("ClusterPolicy is not set up for confidential GPUs in Kata")
			}
		}
		if s.Has(o.APIVersion(), o.Kind()) {
			validated++
			if err := s.Validate(o.Node); err != nil {
				t.Errorf("%v", err)
			}
		}
	}
	if validated != len(objs)-1 { // all but the ConfigMap
		t.Errorf("validated %d of %d objects", validated, len(objs))
	}
}
