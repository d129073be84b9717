package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/node"
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
	values, err := trustee.DecodeStored([]byte(stored))
	if err != nil {
		t.Fatalf("reference values: %v", err)
	}
	var pcr8 struct{ Value []string }
	if err := json.Unmarshal(values["cocogen_initdata_azure_pcr8"], &pcr8); err != nil {
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
		found := false
		for _, v := range pcr8.Value {
			found = found || v == d.AzurePcr8
		}
		if !found {
			t.Errorf("profile %s: PCR8 %s is not among the reference values %v", profile, d.AzurePcr8, pcr8.Value)
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
