package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/resourcemanager/compute/armcompute/v8"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/cocogen/cocogen/internal/azure"
	"github.com/cocogen/cocogen/internal/azure/azuretest"
	"github.com/cocogen/cocogen/internal/metadata"
)

// metadataCLI runs `cocogen metadata ARGS` with fake outside dependencies: a fixed clock, the objects of a
// live cluster, and the Azure SDK's fake resource-SKU server.
func metadataCLI(t *testing.T, deps metadataDeps, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	s := streams{in: strings.NewReader(""), out: &out, err: &errb}
	// The root command, with the metadata command built from the fake dependencies.
	root := newRootCommand(s)
	for _, c := range root.Commands() {
		if c.Name() == "metadata" {
			root.RemoveCommand(c)
		}
	}
	root.AddCommand(newMetadataCommandWith(s, deps))
	code = run(root, append([]string{"metadata"}, args...))
	return code, out.String(), errb.String()
}

func fakeDeps(t *testing.T, objs ...runtime.Object) metadataDeps {
	return metadataDeps{
		now: func() time.Time { return time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC) },
		cluster: func(kubeconfig, context string) (dynamic.Interface, string, error) {
			if kubeconfig != "fake-kubeconfig" {
				return nil, "", errors.New("unexpected kubeconfig " + kubeconfig)
			}
			return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
				{Version: "v1", Resource: "configmaps"}:                                    "ConfigMapList",
				{Group: "config.openshift.io", Version: "v1", Resource: "infrastructures"}: "InfrastructureList",
				{Group: "config.openshift.io", Version: "v1", Resource: "ingresses"}:       "IngressList",
				{Group: "config.openshift.io", Version: "v1", Resource: "clusterversions"}: "ClusterVersionList",
			}, objs...), "https://api.coco.example.com:6443", nil
		},
		azure: func(m *metadata.Metadata) (*azure.Client, error) {
			if m.Azure.SubscriptionID.Value != azuretest.Subscription {
				t.Errorf("Azure asked for subscription %q", m.Azure.SubscriptionID.Value)
			}
			return azure.NewClient(m.Azure.SubscriptionID.Value, azuretest.Credential(),
				azuretest.Server(map[string][][]*armcompute.ResourceSKU{"eastus": azuretest.EastUS()}, http.StatusOK))
		},
	}
}

func TestMetadataCheckBuiltin(t *testing.T) {
	atRoot(t)
	code, out, errOut := cli(t, "", "metadata", "check")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{
		"values/cluster-metadata.yaml: ",
		"  AZURE_SUBNET_ID=/subscriptions/6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a34/resourceGroups/coco-x7k2p-rg/providers/Microsoft.Network/virtualNetworks/coco-x7k2p-vnet/subnets/coco-x7k2p-worker-subnet\n",
		"  AZURE_NSG_ID=/subscriptions/6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a34/resourceGroups/coco-x7k2p-rg/providers/Microsoft.Network/networkSecurityGroups/coco-x7k2p-nsg\n",
		"KBS trust anchor: mode ca, values/kbs-ca.crt (CN=cocogen example KBS CA",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// TestMetadataCheckRejects: bad metadata exits 1 with file:line:col, and nothing else goes wrong quietly.
func TestMetadataCheckRejects(t *testing.T) {
	const good = "apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\n"
	cases := []struct {
		name  string
		files map[string]string
		args  []string
		want  string
	}{
		{
			name:  "unknown key",
			files: map[string]string{"m.yaml": good + "azure:\n  location: eastus\n  vnetname: v1\n"},
			want:  `m.yaml:5:3: error: azure: unknown key "vnetname"; did you mean "vnetName"?`,
		},
		{
			name: "malformed certificate",
			files: map[string]string{
				"m.yaml":     good + "kbs:\n  trustAnchor:\n    mode: ca\n    certificate: kbs-ca.crt\n",
				"kbs-ca.crt": "-----BEGIN CERTIFICATE-----\nTUlJQm9vdA==\n-----END CERTIFICATE-----\n",
			},
			want: "m.yaml:6:18: error: kbs.trustAnchor.certificate: kbs-ca.crt: certificate 1 does not parse: x509: malformed certificate",
		},
		{
			name:  "a certificate outside the repository",
			files: map[string]string{"m.yaml": good + "kbs:\n  trustAnchor:\n    certificate: ../kbs-ca.crt\n"},
			want:  "m.yaml:5:18: error: kbs.trustAnchor.certificate: cannot read ../kbs-ca.crt in the repository",
		},
		{
			name:  "spaces in the size list",
			files: sizesPattern(map[string]string{"m.yaml": good}, "      VMFlavours: Standard_DC2as_v5, Standard_DC4as_v5\n"),
			args:  []string{"--values-dir", ".", "--repo-root", "."},
			want:  `values-global.yaml:7:19: error: global.coco.azure.VMFlavours: "Standard_DC2as_v5, Standard_DC4as_v5" contains spaces`,
		},
		{
			name:  "a bad --fact",
			files: map[string]string{"m.yaml": good},
			args:  []string{"--fact", "azure.location=West Europe"},
			want:  `--fact: error: azure.location: "West Europe" is not an Azure region name; did you mean "westeurope"?`,
		},
		{
			name:  "an Azure cluster without its Azure facts",
			files: map[string]string{"m.yaml": good + "cluster:\n  platform: Azure\n"},
			want:  "m.yaml: error: azure: peer pods on Azure need azure.subscriptionId",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeRepo(t, c.files)
			t.Chdir(dir)
			code, _, errOut := metadataCLI(t, fakeDeps(t), append([]string{"check", "-m", "m.yaml"}, c.args...)...)
			if code != 1 {
				t.Errorf("exit %d, want 1", code)
			}
			if !strings.HasPrefix(errOut, c.want) {
				t.Errorf("stderr:\n%s\nwant it to start with:\n%s", errOut, c.want)
			}
		})
	}
}

// sizesPattern adds to files the smallest pattern that renders, with azure (lines under global.coco.azure, from
// line 7 of values-global.yaml on) as its peer-pod VM size choices.
func sizesPattern(files map[string]string, azure string) map[string]string {
	files["values-global.yaml"] = "global:\n  pattern: p\n  coco:\n    securityPolicyFlavour: reject\n    azure:\n      # sizes\n" + azure +
		"main:\n  clusterGroupName: hub\n"
	files["values-hub.yaml"] = "clusterGroup:\n  name: hub\n  namespaces: []\n  applications: {}\n"
	return files
}

const azureMetadata = "apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\nazure:\n" +
	"  subscriptionId: " + azuretest.Subscription + "\n  location: eastus\n  resourceGroup: rg\n  vnetResourceGroup: rg\n" +
	"  vnetName: vnet\n  subnetName: workers\n  securityGroupName: nsg\n"

// TestMetadataCheckAzure runs against the SDK's fake server: a size missing in the region, a restricted size
// and a non-confidential size each give their own error, at the place the size was given; exit 1.
func TestMetadataCheckAzure(t *testing.T) {
	dir := writeRepo(t, sizesPattern(map[string]string{"m.yaml": azureMetadata}, "      defaultVMFlavour: Standard_DC2as_v5\n"+
		"      VMFlavours: Standard_DC2as_v5,Standard_DC4es_v5,Standard_DC8as_v5,Standard_D2s_v5\n"))
	t.Chdir(dir)
	code, out, errOut := metadataCLI(t, fakeDeps(t), "check", "-m", "m.yaml", "--values-dir", ".", "--repo-root", ".", "--azure", "--size", "Standard_DC64ads_v6")
	if code != 1 {
		t.Errorf("exit %d, want 1", code)
	}
	wantErr := "" +
		"--size: error: Standard_DC64ads_v6 is not offered in region eastus: choose a confidential size the region offers (cocogen metadata check --azure lists them), or another region\n" +
		"values-global.yaml:8:19: error: Standard_D2s_v5 is not a confidential VM size (it has no ConfidentialComputingType capability): peer pods need an AMD SEV-SNP or Intel TDX size to be attested, such as Standard_DC2as_v5 in eastus\n" +
		"values-global.yaml:8:19: error: Standard_DC8as_v5 is restricted in region eastus for subscription " + azuretest.Subscription + " (NotAvailableForSubscription: the subscription may not create it there): request access through an Azure support request, or choose another size or region\n"
	if errOut != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errOut, wantErr)
	}
	for _, want := range []string{
		"VM sizes in eastus for subscription " + azuretest.Subscription + ":\n",
		"  Standard_DC2as_v5    ok                SNP\n",
		"  Standard_DC4es_v5    ok                TDX\n",
		"  Standard_DC8as_v5    restricted        SNP\n",
		"  Standard_D2s_v5      not-confidential  \n",
		"  Standard_DC64ads_v6  missing           \n",
		"confidential VM sizes in eastus:\n",
		"  Standard_DC2as_v5  SNP  2      8          standardDCASv5Family  -\n",
		"  Standard_DC8as_v5  SNP  8      32         standardDCASv5Family  NotAvailableForSubscription\n",
		"  Standard_EC2as_v5  SNP  2      16         standardECASv5Family  zones 2\n",
		"  Standard_DC4es_v5  TDX  4      16         standardDCESv5Family  -\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Standard_DC2s_v3  ") && strings.Contains(out[strings.Index(out, "confidential VM sizes"):], "Standard_DC2s_v3") {
		t.Errorf("an SGX size is listed as a confidential VM size")
	}

	// The same as JSON, and the list of a region's confidential sizes alone.
	code, out, _ = metadataCLI(t, fakeDeps(t), "check", "-m", "m.yaml", "--azure", "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d without sizes to check", code)
	}
	var rep struct {
		Location     string `json:"location"`
		Confidential []struct {
			Name string `json:"name"`
			TEE  string `json:"tee"`
		} `json:"confidentialSizes"`
		PeerPods map[string]string `json:"peerPods"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	if rep.Location != "eastus" || len(rep.Confidential) != 5 || rep.PeerPods["AZURE_REGION"] != "eastus" {
		t.Errorf("report %+v", rep)
	}
}

func TestMetadataCheckAzureNeedsFacts(t *testing.T) {
	dir := writeRepo(t, map[string]string{"m.yaml": "apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\n"})
	t.Chdir(dir)
	code, _, errOut := metadataCLI(t, fakeDeps(t), "check", "-m", "m.yaml", "--azure")
	if code != 1 || !strings.Contains(errOut, "peer pods on Azure need azure.subscriptionId, azure.location") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// TestMetadataCollectCloudConf is the acceptance test of collect: the file written from a real-shaped cloud.conf
// reads back as the hand-written example's Azure facts, so it gives the same peer-pods-cm entries.
func TestMetadataCollectCloudConf(t *testing.T) {
	atRoot(t)
	const cloudConf = "internal/collect/testdata/cloud-conf-ipi.json"
	code, out, errOut := cli(t, "", "metadata", "collect", "--cloud-conf", cloudConf)
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	collected, d := metadata.Parse("collected", []byte(out))
	if collected == nil {
		t.Fatalf("the collected file does not parse: %v\n%s", d.Err(), out)
	}
	hand, _ := metadata.Parse("example", mustRead(t, "values/cluster-metadata.yaml"))
	for _, id := range []func(*metadata.Metadata) (string, bool){(*metadata.Metadata).AzureSubnetID, (*metadata.Metadata).AzureNSGID} {
		a, okA := id(collected)
		b, okB := id(hand)
		if !okA || a != b || !okB {
			t.Errorf("collected %q, hand-written %q", a, b)
		}
	}
	if !strings.HasPrefix(out, "# Cluster metadata: facts about one cluster, collected by `cocogen metadata collect` from\n# cloud.conf "+cloudConf+".\n") {
		t.Errorf("header:\n%s", out)
	}
	if !strings.Contains(out, "\nazure:\n  cloud: AzurePublicCloud  #") || !strings.Contains(out, "\n# git:\n#   repoURL: ") {
		t.Errorf("the file must hold the facts and show the unknown ones commented out:\n%s", out)
	}
	_, again, _ := cli(t, "", "metadata", "collect", "--cloud-conf", cloudConf)
	if again != out {
		t.Errorf("two collects differ")
	}
}

func mustRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestMetadataCollectOutputFile(t *testing.T) {
	dir := writeRepo(t, map[string]string{
		"good.json": `{"location": "eastus", "subscriptionId": "` + azuretest.Subscription + `", "resourceGroup": "rg", "vnetResourceGroup": "rg", "vnetName": "vnet", "subnetName": "w", "securityGroupName": "nsg"}`,
		"bad.json":  "{\n  \"location\": \"eastus\",\n  \"vnetName\": \"-v\"\n}\n",
		"out.yaml":  "previous content\n",
	})
	t.Chdir(dir)
	code, out, errOut := metadataCLI(t, fakeDeps(t), "collect", "--cloud-conf", "bad.json", "--output-file", "out.yaml")
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "bad.json:3:15: error: azure.vnetName: \"-v\" is not an Azure virtual network name") {
		t.Errorf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if got := string(mustRead(t, "out.yaml")); got != "previous content\n" {
		t.Errorf("a failed collect changed the output file: %q", got)
	}
	code, out, errOut = metadataCLI(t, fakeDeps(t), "collect", "--cloud-conf", "good.json", "--output-file", "out.yaml", "--fact", "git.repoURL=https://github.com/me/cocogen.git")
	if code != 0 || out != "" || errOut != "" {
		t.Fatalf("exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	// The old spelling still writes the file, with a deprecation warning.
	code, out, errOut = metadataCLI(t, fakeDeps(t), "collect", "--cloud-conf", "good.json", "--output", "old.yaml")
	if code != 0 || out != "" || !strings.Contains(errOut, "warning: --output FILE is deprecated") || !strings.Contains(errOut, "--output-file") {
		t.Errorf("--output FILE: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	if _, err := os.Stat("old.yaml"); err != nil {
		t.Errorf("--output FILE wrote nothing: %v", err)
	}
	m, d := metadata.Parse("out.yaml", mustRead(t, "out.yaml"))
	if m == nil || m.Git.RepoURL.Value != "https://github.com/me/cocogen.git" || m.Azure.Location.Value != "eastus" {
		t.Errorf("written file: %v", d.Err())
	}
	entries, _ := os.ReadDir(".")
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestMetadataCollectLive(t *testing.T) {
	obj := func(apiVersion, kind, ns, name string, fields map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
		u.SetName(name)
		u.SetNamespace(ns)
		maps.Copy(u.Object, fields)
		return u
	}
	cloudConf := string(mustRead(t, filepath.Join("..", "..", "internal", "collect", "testdata", "cloud-conf-ipi.json")))
	deps := fakeDeps(t,
		obj("v1", "ConfigMap", "openshift-cloud-controller-manager", "cloud-conf", map[string]any{"data": map[string]any{"cloud.conf": cloudConf}}),
		obj("config.openshift.io/v1", "Infrastructure", "", "cluster", map[string]any{"status": map[string]any{"platformStatus": map[string]any{"type": "Azure"}}}),
		obj("config.openshift.io/v1", "Ingress", "", "cluster", map[string]any{"spec": map[string]any{"domain": "apps.coco.example.com"}}),
		obj("config.openshift.io/v1", "ClusterVersion", "", "version", map[string]any{"status": map[string]any{"history": []any{map[string]any{"state": "Completed", "version": "4.19.7"}}}}),
	)
	code, out, errOut := metadataCLI(t, deps, "collect", "--kubeconfig", "fake-kubeconfig")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	m, d := metadata.Parse("collected", []byte(out))
	if m == nil {
		t.Fatalf("%v\n%s", d.Err(), out)
	}
	hand, _ := metadata.Parse("example", mustRead(t, filepath.Join("..", "..", "values", "cluster-metadata.yaml")))
	got, want := m.Facts(), map[string]string{}
	for k, v := range hand.Facts() {
		if strings.HasPrefix(k, "azure.") || strings.HasPrefix(k, "cluster.") {
			want[k] = v
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("collected %v\nwant %v", got, want)
	}
	if !strings.Contains(out, "from\n# the cluster at https://api.coco.example.com:6443.\n") {
		t.Errorf("the header must name the cluster:\n%s", out)
	}
}

func TestMetadataUsage(t *testing.T) {
	for _, args := range [][]string{{"collect"}, {"check", "-o", "yaml"}, {"collect", "--cloud-conf", "a", "--fact", "nokey"}} {
		code, _, errOut := metadataCLI(t, fakeDeps(t), args...)
		if code != 2 || !strings.Contains(errOut, "error: ") {
			t.Errorf("%q: exit %d, stderr %s", args, code, errOut)
		}
	}
}

func TestMetadataCheckSizesOffline(t *testing.T) {
	dir := writeRepo(t, sizesPattern(map[string]string{"m.yaml": azureMetadata},
		"      defaultVMFlavour: Standard_DC2as_v5\n      VMFlavours:\n        - Standard_DC2as_v5\n        - Standard_DC4es_v5\n"))
	t.Chdir(dir)
	code, out, errOut := metadataCLI(t, fakeDeps(t), "check", "-m", "m.yaml", "--values-dir", ".", "--repo-root", ".", "--size", "Standard_EC2as_v5")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "VM sizes (well-formed; --azure asks Azure about them): Standard_DC2as_v5, Standard_DC4es_v5, Standard_EC2as_v5\n") {
		t.Errorf("stdout:\n%s", out)
	}
	// The values as the render layers them: a --set wins over the file.
	code, out, errOut = metadataCLI(t, fakeDeps(t), "check", "-m", "m.yaml", "--values-dir", ".", "--repo-root", ".", "--set", "global.coco.azure.defaultVMFlavour=Standard_DC4es_v5")
	if code != 0 || errOut != "" || !strings.Contains(out, "VM sizes (well-formed; --azure asks Azure about them): Standard_DC4es_v5, Standard_DC2as_v5\n") {
		t.Errorf("with --set: exit %d, stdout %s, stderr %s", code, out, errOut)
	}
	// The default outside the list is an error before anything asks Azure.
	files := sizesPattern(map[string]string{}, "      defaultVMFlavour: Standard_DC8as_v5\n      VMFlavours: Standard_DC2as_v5\n")
	if err := os.WriteFile("values-global.yaml", []byte(files["values-global.yaml"]), 0o644); err != nil {
		t.Fatal(err)
	}
	code, _, errOut = metadataCLI(t, fakeDeps(t), "check", "-m", "m.yaml", "--values-dir", ".", "--repo-root", ".", "--azure")
	if code != 1 || !strings.HasPrefix(errOut, "values-global.yaml:7:25: error: global.coco.azure.defaultVMFlavour: Standard_DC8as_v5 is not among VMFlavours") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	// -f is gone: it layered files by hand.
	if code, _, errOut = metadataCLI(t, fakeDeps(t), "check", "-m", "m.yaml", "-f", "values-global.yaml"); code != 2 || !strings.Contains(errOut, "--values-dir") {
		t.Errorf("-f: exit %d: %s", code, errOut)
	}
}
