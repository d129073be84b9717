package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/rvps"
)

// TestSandboxInitDataDecodesToTheDefaultProfile: render --app sandbox | initdata decode gives exactly what
// initdata render --profile default prints.
func TestSandboxInitDataDecodesToTheDefaultProfile(t *testing.T) {
	atRoot(t)
	code, cm, errOut := cli(t, "", "render", "--app", "sandbox")
	if code != 0 {
		t.Fatalf("render --app sandbox: exit %d: %s", code, errOut)
	}
	code, decoded, errOut := cli(t, cm, "initdata", "decode", "-o", "json")
	if code != 0 {
		t.Fatalf("initdata decode: exit %d: %s", code, errOut)
	}
	var docs []struct {
		Name, Field, TOML string
	}
	if err := json.Unmarshal([]byte(decoded), &docs); err != nil {
		t.Fatal(err)
	}
	if len(docs) != 1 || docs[0].Name != "peer-pods-cm" || docs[0].Field != "data.INITDATA" {
		t.Fatalf("decoded %+v", docs)
	}
	code, want, errOut := cli(t, "", "initdata", "render", "--profile", "default")
	if code != 0 {
		t.Fatalf("initdata render: exit %d: %s", code, errOut)
	}
	if docs[0].TOML != want {
		t.Errorf("peer-pods-cm INITDATA decodes to other bytes than initdata render --profile default")
	}
	if strings.Contains(cm, "# Application: sandbox") == false || strings.Contains(cm, "kind: Application\n") {
		t.Errorf("render --app sandbox printed more than the application's objects")
	}
}

// TestReferenceValuesHoldTheDigestsOfUsedProfiles: the RVPS reference values of render --all contain the
// PCR8 that initdata digest prints for each profile in use.
func TestReferenceValuesHoldTheDigestsOfUsedProfiles(t *testing.T) {
	atRoot(t)
	code, out, errOut := cli(t, "", "render", "--all", "--output-dir", filepath.Join(t.TempDir(), "out"))
	if code != 0 || out != "" {
		t.Fatalf("render --all --output-dir: exit %d: %s", code, errOut)
	}
	code, out, errOut = cli(t, "", "render", "--all")
	if code != 0 {
		t.Fatalf("render --all: exit %d: %s", code, errOut)
	}
	var stored string
	for _, doc := range strings.Split(out, "\n---\n") {
		if !strings.Contains(doc, "name: "+trustee.ConfigMapRefValues) {
			continue
		}
		doc = strings.TrimPrefix(doc, "---\n")
		n, err := node.Parse("rv.yaml", []byte(doc), node.DefaultLimits)
		if err != nil {
			t.Fatal(err)
		}
		stored = n.Path("data", "reference_value").Scalar()
	}
	values, err := rvps.Decode([]byte(stored))
	if err != nil {
		t.Fatalf("reference values: %v", err)
	}
	var profiles struct{ Value map[string]map[string]string }
	if err := json.Unmarshal(values["cocogen_initdata_profiles"], &profiles); err != nil {
		t.Fatal(err)
	}
	for _, profile := range []string{"default", "debug"} {
		code, out, errOut := cli(t, "", "initdata", "digest", "--profile", profile, "-o", "json")
		if code != 0 {
			t.Fatalf("initdata digest: %s", errOut)
		}
		var d struct{ AzurePcr8 string }
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatal(err)
		}
		if got := profiles.Value[profile]["azure_pcr8"]; got != d.AzurePcr8 {
			t.Errorf("profile %s: PCR8 %s, but the reference values register %q", profile, d.AzurePcr8, got)
		}
	}
}

func TestRenderAllGroupsByApplication(t *testing.T) {
	atRoot(t)
	code, out, errOut := cli(t, "", "render", "--all")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	// The tree first, then each application in the order of the tree (map keys sorted, as the chart does), never interleaved.
	var order []string
	for _, line := range strings.Split(out, "\n") {
		if app, ok := strings.CutPrefix(line, "# Application: "); ok && (len(order) == 0 || order[len(order)-1] != app) {
			order = append(order, app)
		}
	}
	if got := strings.Join(order, ","); got != "hello-openshift,kbs-access,sandbox,trustee" {
		t.Errorf("application groups in order %s", got)
	}
	if i := strings.Index(out, "# Application: "); strings.Contains(out[i:], "kind: AppProject") {
		t.Error("a tree object after the first application")
	}
	dir := filepath.Join(t.TempDir(), "out")
	if code, _, errOut := cli(t, "", "render", "--all", "--output-dir", dir); code != 0 {
		t.Fatal(errOut)
	}
	if _, err := os.Stat(filepath.Join(dir, "_apps", "sandbox", "openshift-sandboxed-containers-operator", "configmap-peer-pods-cm.yaml")); err != nil {
		t.Errorf("per-application output: %v", err)
	}
	if code, _, errOut := cli(t, "", "render", "--all", "--app", "sandbox"); code != 2 || !strings.Contains(errOut, "--all and --app exclude each other") {
		t.Errorf("--all --app: exit %d: %s", code, errOut)
	}
}

// TestCollectedMetadataRendersTheSamePeerPodsConfigMap: metadata collected from a cloud.conf renders the same
// peer-pods-cm as the hand-written metadata holding the same facts.
func TestCollectedMetadataRendersTheSamePeerPodsConfigMap(t *testing.T) {
	atRoot(t)
	handWritten, err := os.ReadFile("values/cluster-metadata.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The same facts as values/cluster-metadata.yaml, as the cloud controller writes them (with keys cocogen
	// does not read).
	cloudConf := `{
  "cloud": "AzurePublicCloud",
  "tenantId": "0c9a7b4e-5d2f-4a1c-8e6b-3f7d9a2c1b58",
  "aadClientId": "",
  "subscriptionId": "6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a34",
  "resourceGroup": "coco-x7k2p-rg",
  "location": "eastus",
  "vnetName": "coco-x7k2p-vnet",
  "vnetResourceGroup": "coco-x7k2p-rg",
  "subnetName": "coco-x7k2p-worker-subnet",
  "securityGroupName": "coco-x7k2p-nsg",
  "routeTableName": "coco-x7k2p-node-routetable",
  "cloudProviderBackoff": true,
  "useInstanceMetadata": true,
  "loadBalancerSku": "standard"
}`
	dir := t.TempDir()
	confPath := filepath.Join(dir, "cloud.conf")
	if err := os.WriteFile(confPath, []byte(cloudConf), 0o644); err != nil {
		t.Fatal(err)
	}
	// Start from the hand-written file without its azure section.
	var kept []string
	skip := false
	for _, line := range strings.Split(string(handWritten), "\n") {
		if strings.HasPrefix(line, "azure:") {
			skip = true
			continue
		}
		if skip && (strings.HasPrefix(line, " ") || line == "") {
			continue
		}
		skip = false
		kept = append(kept, line)
	}
	base := filepath.Join(dir, "base.yaml")
	if err := os.WriteFile(base, []byte(strings.Join(kept, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	collected := filepath.Join(dir, "collected.yaml")
	if code, _, errOut := cli(t, "", "metadata", "collect", "-m", base, "--cloud-conf", confPath, "--output-file", collected); code != 0 {
		t.Fatalf("collect: exit %d: %s", code, errOut)
	}
	peerPods := func(args ...string) string {
		code, out, errOut := cli(t, "", append([]string{"render", "--app", "sandbox"}, args...)...)
		if code != 0 {
			t.Fatalf("render %v: exit %d: %s", args, code, errOut)
		}
		for _, doc := range strings.Split(out, "---\n") {
			if strings.Contains(doc, "name: peer-pods-cm") {
				// The # Source: comment names the values, not the metadata: compare the object.
				return doc
			}
		}
		t.Fatal("no peer-pods-cm")
		return ""
	}
	if got, want := peerPods("-m", collected), peerPods(); got != want {
		t.Errorf("peer-pods-cm from collected metadata differs:\n%s\nwant:\n%s", got, want)
	}
}
