// Package baremetal renders the objects of the sandbox application on a cluster whose own hosts run the pod
// VMs in Intel TDX or AMD SEV-SNP (platform BareMetal or None): Node Feature Discovery and the rules that
// label TEE hosts, the MachineConfigs that turn TDX on in the host kernel, the SGX device plugin that Intel's
// quote generation needs, the storage the pattern's volumes bind to, the operator's feature gates and a
// KataConfig without peer pods. Init-data reaches each pod through its annotation (the workloads
// application): there is no peer-pods-cm on bare metal.
//
// Render is a pure function: facts and choices come in, objects go out.
package baremetal

import (
	"fmt"
	"slices"
	"strings"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Namespaces of the operators whose objects the host application renders.
const (
	SandboxNamespace = "openshift-sandboxed-containers-operator"
	NFDNamespace     = "openshift-nfd"
	StorageNamespace = "openshift-storage"
)

// Node labels that the NodeFeatureRule writes on TEE hosts. The names are those that the OpenShift sandboxed
// containers operator and Intel's device plugins select on (intel.feature.node.kubernetes.io/tdx and /sgx,
// amd.feature.node.kubernetes.io/snp; validatedpatterns/coco-pattern charts/all/intel-dcap, node selector
// of the quote generation service).
const (
	LabelTDX = "intel.feature.node.kubernetes.io/tdx"
	LabelSGX = "intel.feature.node.kubernetes.io/sgx"
	LabelSNP = "amd.feature.node.kubernetes.io/snp"
)

// Input is what the host objects are rendered from.
type Input struct {
	// TDXNodes and SNPNodes are the hosts of each TEE (metadata baremetal.tdxNodes, baremetal.snpNodes).
	TDXNodes, SNPNodes []string
	// GPUNodes are the TEE hosts with NVIDIA GPUs in confidential computing mode (metadata baremetal.gpuNodes).
	GPUNodes []string
	FactsPos srcpos.Pos
	// OpenShiftVersion (Major.Minor) picks the Node Feature Discovery operand image of the release; "" leaves
	// the operator's default.
	OpenShiftVersion string
	// Storage is lvms, hpp or none (global.coco.baremetal.storage).
	Storage string
	// MachineConfigRoles are the pools whose hosts get the TDX kernel arguments.
	MachineConfigRoles []string
	Source             string
}

// Render returns the host objects.
func Render(in Input) ([]manifest.Object, *diag.List) {
	d := &diag.List{}
	if len(in.TDXNodes) == 0 && len(in.SNPNodes) == 0 {
		d.Errorf(in.FactsPos, "baremetal", "no TEE hosts: list the nodes that run confidential pods in the metadata (baremetal.tdxNodes, baremetal.snpNodes); the KataConfig installs the kata-cc runtime on those nodes only")
		return nil, d
	}
	var objs []*node.Node
	objs = append(objs, kataConfig(in), featureGates(), nfdInstance(in), featureRule(in))
	if len(in.TDXNodes) > 0 {
		for _, role := range in.MachineConfigRoles {
			objs = append(objs, tdxMachineConfig(role))
		}
		objs = append(objs, sgxDevicePlugin())
	}
	if len(in.GPUNodes) > 0 {
		for _, role := range in.MachineConfigRoles {
			objs = append(objs, iommuMachineConfig(role))
		}
		objs = append(objs, gpuClusterPolicy())
	}
	switch in.Storage {
	case "lvms":
		objs = append(objs, lvmCluster())
	case "hpp":
		objs = append(objs, hostPathProvisioner(), hostPathStorageClass())
	}
	out := make([]manifest.Object, len(objs))
	for i, o := range objs {
		out[i] = manifest.Object{Node: o, Source: in.Source}
	}
	return out, d
}

func str(s string) *node.Node { return node.NewString(s) }

var object = manifest.NewObject

func wave(o *node.Node, w string) *node.Node {
	o.Get("metadata").Set("annotations", node.NewMap().Set("argocd.argoproj.io/sync-wave", str(w)))
	return o
}

func strings2List(ss []string) *node.Node {
	l := node.NewList()
	for _, s := range ss {
		l.Append(str(s))
	}
	return l
}

// kataConfig installs Kata on the TEE hosts, without peer pods: the operator then creates the kata-cc runtime
// class, which runs each pod in a VM of the host's TEE (KataConfig v1, kataconfiguration.openshift.io, the CRD
// of openshift/sandboxed-containers-operator). checkNodeEligibility has the operator check the NFD labels.
func kataConfig(in Input) *node.Node {
	hosts := slices.Concat(in.TDXNodes, in.SNPNodes)
	slices.Sort(hosts)
	selector := node.NewMap().Set("matchExpressions", node.NewList(node.NewMap().
		Set("key", str("kubernetes.io/hostname")).
		Set("operator", str("In")).
		Set("values", strings2List(hosts))))
	// After NFD has labelled the hosts and the MachineConfigs have rebooted them.
	return wave(object("kataconfiguration.openshift.io/v1", "KataConfig", "default-kata-config", ""), "100").
		Set("spec", node.NewMap().
			Set("checkNodeEligibility", node.NewBool(true)).
			Set("enablePeerPods", node.NewBool(false)).
			Set("kataConfigPoolSelector", selector))
}

// featureGates turns on the operator's confidential containers support (the same ConfigMap as on Azure).
func featureGates() *node.Node {
	return wave(object("v1", "ConfigMap", "osc-feature-gates", SandboxNamespace), "1").
		Set("data", node.NewMap().Set("confidential", str("true")))
}

// nfdInstance runs Node Feature Discovery (NodeFeatureDiscovery v1, nfd.openshift.io; the operand image of the
// OpenShift release as validatedpatterns/coco-pattern charts/all/baremetal/templates/nfd-instance.yaml
// names it).
func nfdInstance(in Input) *node.Node {
	operand := node.NewMap()
	if in.OpenShiftVersion != "" {
		operand.Set("image", str("registry.redhat.io/openshift4/ose-node-feature-discovery-rhel9:v"+in.OpenShiftVersion))
	}
	operand.Set("servicePort", node.NewInt(12000))
	return wave(object("nfd.openshift.io/v1", "NodeFeatureDiscovery", "nfd-instance", NFDNamespace), "5").
		Set("spec", node.NewMap().Set("operand", operand))
}

// featureRule labels TEE hosts from the CPU features NFD discovers (feature cpu.security: tdx.enabled,
// sev.snp.enabled, sgx.enabled, and their key counts; kubernetes-sigs/node-feature-discovery
// docs/usage/customization-guide.md). Each rule lists matchFeatures directly: the OpenShift operator drops
// an unknown matchAll silently and the rule then matches every node (validatedpatterns/coco-pattern
// docs/nfd-matchall-bug.md).
func featureRule(in Input) *node.Node {
	rules := node.NewList()
	exists := func() *node.Node { return node.NewMap().Set("op", str("Exists")) }
	rule := func(name, label string, resources *node.Node, cpuid []string, security string) *node.Node {
		ids := node.NewMap()
		for _, f := range cpuid {
			ids.Set(f, exists())
		}
		r := node.NewMap().Set("name", str(name))
		if resources != nil {
			r.Set("extendedResources", resources)
		}
		return r.Set("labels", node.NewMap().Set(label, str("true"))).
			Set("matchFeatures", node.NewList(
				node.NewMap().Set("feature", str("cpu.cpuid")).Set("matchExpressions", ids),
				node.NewMap().Set("feature", str("cpu.security")).Set("matchExpressions", node.NewMap().Set(security, exists()))))
	}
	if len(in.SNPNodes) > 0 {
		rules.Append(rule("cocogen.amd.sev-snp", LabelSNP,
			node.NewMap().Set("sev-snp.amd.com/esids", str("@cpu.security.sev.encrypted_state_ids")), []string{"SVM"}, "sev.snp.enabled"))
	}
	if len(in.TDXNodes) > 0 {
		rules.Append(rule("cocogen.intel.sgx", LabelSGX,
			node.NewMap().Set("sgx.intel.com/epc", str("@cpu.security.sgx.epc")), []string{"SGX", "SGXLC"}, "sgx.enabled"))
		rules.Append(rule("cocogen.intel.tdx", LabelTDX,
			node.NewMap().Set("tdx.intel.com/keys", str("@cpu.security.tdx.total_keys")), []string{"VMX"}, "tdx.enabled"))
	}
	return wave(object("nfd.openshift.io/v1alpha1", "NodeFeatureRule", "cocogen-tee-hosts", NFDNamespace), "5").
		Set("spec", node.NewMap().Set("rules", rules))
}

// tdxConfigFile is the Kata drop-in that the TDX MachineConfig writes: QEMU reaches the host's quote
// generation service over its Unix socket (port 0), not vsock (validatedpatterns/coco-pattern
// charts/all/baremetal/templates/vsock-mco.yaml, decoded).
const tdxConfigFile = "[hypervisor.qemu]\ntdx_quote_generation_service_socket_port=0\n"

// tdxMachineConfig turns TDX on in the host kernel of a pool (kvm_intel.tdx=1; nohibernate, which TDX hosts
// need) and writes the Kata TDX drop-in (MachineConfig v1, machineconfiguration.openshift.io; Ignition 3.2.0).
// The pool's hosts reboot once when it is applied.
func tdxMachineConfig(role string) *node.Node {
	o := object("machineconfiguration.openshift.io/v1", "MachineConfig", "99-cocogen-tdx-"+role, "")
	o.Get("metadata").Set("labels", node.NewMap().Set("machineconfiguration.openshift.io/role", str(role)))
	file := node.NewMap().
		Set("contents", node.NewMap().Set("source", str("data:,"+urlEscape(tdxConfigFile)))).
		Set("mode", node.NewInt(0o644)).
		Set("overwrite", node.NewBool(true)).
		Set("path", str("/etc/kata-containers/kata-tdx/config.d/96-cocogen-qgs.toml"))
	return o.Set("spec", node.NewMap().
		Set("config", node.NewMap().
			Set("ignition", node.NewMap().Set("version", str("3.2.0"))).
			Set("storage", node.NewMap().Set("files", node.NewList(file)))).
		Set("kernelArguments", strings2List([]string{"kvm_intel.tdx=1", "nohibernate"})))
}

// urlEscape writes text as an RFC 2397 data URL payload (Ignition reads data:,<percent-encoded>).
func urlEscape(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.IndexByte("-_.~", c) >= 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// sgxDevicePlugin exposes the SGX enclave devices to Intel's quote generation service, which signs TDX quotes
// on the host (SgxDevicePlugin v1, deviceplugin.intel.com; intel/intel-device-plugins-for-kubernetes, the
// operator of the intel-device-plugins subscription).
func sgxDevicePlugin() *node.Node {
	return wave(object("deviceplugin.intel.com/v1", "SgxDevicePlugin", "sgxdeviceplugin", ""), "10").
		Set("spec", node.NewMap().
			Set("enclaveLimit", node.NewInt(110)).
			Set("logLevel", node.NewInt(4)).
			Set("nodeSelector", node.NewMap().Set(LabelSGX, str("true"))).
			Set("provisionLimit", node.NewInt(110)))
}

// lvmCluster gives the cluster a default storage class from the hosts' free disks (LVMCluster v1alpha1,
// lvm.topolvm.io; the LVM Storage operator names its class lvms-<device class>). Immediate binding, as
// validatedpatterns/coco-pattern charts/hub/storage/templates/lvmcluster.yaml chose, so that a volume is bound
// before its pod is scheduled.
func lvmCluster() *node.Node {
	dc := node.NewMap().
		Set("default", node.NewBool(true)).
		Set("name", str("vg1")).
		Set("thinPoolConfig", node.NewMap().
			Set("name", str("thin-pool-1")).
			Set("overprovisionRatio", node.NewInt(10)).
			Set("sizePercent", node.NewInt(90)))
	return wave(object("lvm.topolvm.io/v1alpha1", "LVMCluster", "lvmcluster", StorageNamespace), "5").
		Set("spec", node.NewMap().Set("storage", node.NewMap().Set("deviceClasses", node.NewList(dc))))
}

// hostPathProvisioner provisions volumes from a directory of each host (HostPathProvisioner v1beta1,
// hostpathprovisioner.kubevirt.io), with the default storage class below.
func hostPathProvisioner() *node.Node {
	pool := node.NewMap().Set("name", str("local")).Set("path", str("/var/hpvolumes"))
	return wave(object("hostpathprovisioner.kubevirt.io/v1beta1", "HostPathProvisioner", "hostpath-provisioner", ""), "5").
		Set("spec", node.NewMap().
			Set("imagePullPolicy", str("IfNotPresent")).
			Set("storagePools", node.NewList(pool)).
			Set("workload", node.NewMap().Set("nodeSelector", node.NewMap().Set("kubernetes.io/os", str("linux")))))
}

func hostPathStorageClass() *node.Node {
	o := object("storage.k8s.io/v1", "StorageClass", "hostpath-csi", "")
	o.Get("metadata").Set("annotations", node.NewMap().Set("storageclass.kubernetes.io/is-default-class", str("true")))
	return o.Set("parameters", node.NewMap().Set("storagePool", str("local"))).
		Set("provisioner", str("kubevirt.io.hostpath-provisioner")).
		Set("reclaimPolicy", str("Delete")).
		Set("volumeBindingMode", str("WaitForFirstConsumer"))
}

// iommuMachineConfig turns the IOMMU on in the host kernel of a pool, so that the GPU operator's VFIO manager
// can pass whole GPUs to pod VMs (validatedpatterns/coco-pattern charts/all/nvidia-gpu/templates/iommu-mco.yaml
// names both vendors' arguments: each kernel ignores the other's).
func iommuMachineConfig(role string) *node.Node {
	o := object("machineconfiguration.openshift.io/v1", "MachineConfig", "100-cocogen-iommu-"+role, "")
	o.Get("metadata").Set("labels", node.NewMap().Set("machineconfiguration.openshift.io/role", str(role)))
	return o.Set("spec", node.NewMap().Set("kernelArguments", strings2List([]string{"amd_iommu=on", "intel_iommu=on"})))
}

// GPURuntimeClass is the runtime class of confidential pods with a GPU (a Kata VM in the host's TEE with a
// GPU passed through), which the sandboxed containers operator creates beside kata-cc.
const GPURuntimeClass = "kata-cc-nvidia-gpu"

// GPUResource is the extended resource of a whole GPU for a pod VM, as the ClusterPolicy's sandbox device
// plugin names it (P_GPU_ALIAS).
const GPUResource = "nvidia.com/pgpu"

// gpuClusterPolicy configures the NVIDIA GPU operator for confidential GPUs in Kata pod VMs (ClusterPolicy v1,
// nvidia.com; NVIDIA/gpu-operator v26.7.0 CRD): the GPUs are bound to VFIO and passed whole to pod VMs
// (sandboxWorkloads mode kata, vm-passthrough), the confidential computing manager turns CC mode on, and
// the sandbox device plugin offers them as nvidia.com/pgpu. Nothing runs GPU code on the host: the host
// driver, toolkit, device plugin and DCGM are off (the guest image carries its own driver).
func gpuClusterPolicy() *node.Node {
	off := func() *node.Node { return node.NewMap().Set("enabled", node.NewBool(false)) }
	on := func() *node.Node { return node.NewMap().Set("enabled", node.NewBool(true)) }
	env := func(name, value string) *node.Node {
		return node.NewList(node.NewMap().Set("name", str(name)).Set("value", str(value)))
	}
	return wave(object("nvidia.com/v1", "ClusterPolicy", "gpu-cluster-policy", ""), "110").
		Set("spec", node.NewMap().
			Set("ccManager", node.NewMap().Set("defaultMode", str("on")).Set("enabled", node.NewBool(true))).
			Set("cdi", node.NewMap().Set("default", node.NewBool(false)).Set("enabled", node.NewBool(true))).
			Set("daemonsets", node.NewMap().
				Set("rollingUpdate", node.NewMap().Set("maxUnavailable", str("1"))).
				Set("updateStrategy", str("RollingUpdate"))).
			Set("dcgm", off()).
			Set("dcgmExporter", off()).
			Set("devicePlugin", off()).
			Set("driver", off()).
			Set("gfd", on()).
			Set("kataSandboxDevicePlugin", on().Set("env", env("P_GPU_ALIAS", strings.TrimPrefix(GPUResource, "nvidia.com/")))).
			Set("nodeStatusExporter", on()).
			Set("operator", node.NewMap().Set("defaultRuntime", str("crio")).Set("use_ocp_driver_toolkit", node.NewBool(true))).
			Set("sandboxWorkloads", node.NewMap().
				Set("defaultWorkload", str("vm-passthrough")).
				Set("enabled", node.NewBool(true)).
				Set("mode", str("kata"))).
			Set("toolkit", off()).
			Set("vfioManager", on()))
}
