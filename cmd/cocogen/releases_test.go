package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cocogen/cocogen/internal/node"
)

// secureAnnotations renders hello-openshift with args and returns the pod template annotations of the secure
// Deployment.
func secureAnnotations(t *testing.T, args ...string) (*node.Node, string) {
	t.Helper()
	code, out, errOut := cli(t, "", append([]string{"render", "--app", "hello-openshift", "-o", "json"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	list, err := node.Parse("out.json", []byte(out), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range list.Get("items").Items() {
		if it.Get("kind").Scalar() == "Deployment" && it.Path("metadata", "name").Scalar() == "hello-openshift-secure" {
			return it.Path("spec", "template", "metadata", "annotations"), errOut
		}
	}
	t.Fatal("no hello-openshift-secure Deployment")
	return nil, ""
}

func keys(n *node.Node) []string {
	var out []string
	for _, e := range n.Entries() {
		out = append(out, e.Key)
	}
	return out
}

// The init-data annotation follows the Kata release (internal/release/kata.go): with no sandboxed containers
// CSV pinned, the metadata's kata.version decides, and a pod never gets both names.
func TestInitDataAnnotationFollowsKataVersion(t *testing.T) {
	atRoot(t)
	const (
		runtimeName    = "io.katacontainers.config.runtime.cc_init_data"
		hypervisorName = "io.katacontainers.config.hypervisor.cc_init_data"
	)
	for _, tc := range []struct {
		kata, want, not string
		// warns: the debug pod's VM boots with the default init-data, which Kata 3.20 peer pods get.
		warns bool
	}{
		{"3.19.1", runtimeName, hypervisorName, false},
		{"3.20.0", runtimeName, hypervisorName, true},
		{"3.21.0", hypervisorName, runtimeName, false},
	} {
		t.Run(tc.kata, func(t *testing.T) {
			ann, errOut := secureAnnotations(t, "--set", "clusterGroup.subscriptions.sandboxed-containers.csv=null", "--fact", "kata.version="+tc.kata)
			if ann.Get(tc.want).Scalar() == "" || ann.Get(tc.not) != nil {
				t.Errorf("annotations %v: want %s only", keys(ann), tc.want)
			}
			warned := strings.Contains(errOut, "overlays/hello-openshift/kata/kustomization.yaml:22:37: warning: Deployment hello-openshift/hello-openshift-kata coco.io/initdata-profile: Kata 3.20.0 (from kata.version \"3.20.0\" at --fact) reads no per-pod init-data on peer pods")
			if warned != tc.warns {
				t.Errorf("warning about the debug pod: %v, want %v\n%s", warned, tc.warns, errOut)
			}
		})
	}
	// The built-in pattern pins sandboxed-containers-operator.v1.13.0 (Kata 3.21 or later).
	if ann, _ := secureAnnotations(t); ann.Get(hypervisorName) == nil || ann.Get(runtimeName) != nil {
		t.Errorf("built-in: annotations %v", keys(ann))
	}
	code, out, errOut := cli(t, "", "render", "--app", "hello-openshift", "--set", "clusterGroup.subscriptions.sandboxed-containers.csv=null", "--fact", "kata.version=3.15.0")
	if code != 1 || out != "" || !strings.Contains(errOut, "reads no init-data annotation (Kata 3.16 or later is needed)") {
		t.Errorf("kata 3.15: exit %d\n%s", code, errOut)
	}
}

// Where the values pin a CSV and the metadata or global.coco.trustee.version say something else, the render
// fails at the CSV's line and names the other line.
func TestReleasePinsDisagree(t *testing.T) {
	atRoot(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"kata.version outside the pinned sandboxed containers release", []string{"--fact", "kata.version=3.20.0"},
			`values/values-azure.yaml:30:12: error: clusterGroup.subscriptions.sandboxed-containers.csv: sandboxed-containers-operator.v1.13.0 runs with Kata 3.21 or later (the Kata of the OpenShift releases it supports), but the cluster metadata says kata.version "3.20.0" at --fact`},
		{"an OSC release cocogen does not know", []string{"--set", "clusterGroup.subscriptions.sandboxed-containers.csv=sandboxed-containers-operator.v1.99.0"},
			`--set clusterGroup.subscriptions.sandboxed-containers.csv: error: clusterGroup.subscriptions.sandboxed-containers.csv: unknown OpenShift sandboxed containers CSV "sandboxed-containers-operator.v1.99.0": cocogen knows the Kata releases of sandboxed-containers-operator.v1.9.0,`},
		{"trustee version against the pinned operator", []string{"--set-string", "global.coco.trustee.version=0.18"},
			`values/values-azure.yaml:35:12: error: clusterGroup.subscriptions.trustee.csv: trustee-operator.v1.2.0 installs Red Hat build of Trustee 1.2, which reads the KBS configuration of Trustee 0.21, but global.coco.trustee.version (--set-string global.coco.trustee.version) says "0.18": remove global.coco.trustee.version or make it "0.21"`},
		{"a trustee version cocogen does not write, unpinned", []string{"--set", "clusterGroup.subscriptions.trustee.csv=null", "--set-string", "global.coco.trustee.version=0.18"},
			`error: global.coco.trustee.version: says 0.18, the format of Red Hat build of Trustee 1.1 (trustee-operator.v1.1.0)`},
		{"a Red Hat release cocogen does not write", []string{"--set", "clusterGroup.subscriptions.trustee.csv=trustee-operator.v1.1.0"},
			`error: clusterGroup.subscriptions.trustee.csv: trustee-operator.v1.1.0 installs Red Hat build of Trustee 1.1 (Trustee 0.18): cocogen writes the KBS configuration of Trustee 0.21`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errOut := cli(t, "", append([]string{"render", "--all"}, tc.args...)...)
			if code != 1 || out != "" || !strings.Contains(errOut, tc.want) {
				t.Errorf("exit %d, stdout %d bytes\n%s\nwant %s", code, len(out), errOut, tc.want)
			}
		})
	}
}

// Acceptance: a trustee-operator CSV that the tables do not know fails the render at its values line, listing
// the known ones.
func TestUnknownTrusteeCSVInValues(t *testing.T) {
	root := copyTree(t)
	values := filepath.Join(root, "values", "values-azure.yaml")
	src, err := os.ReadFile(values)
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(string(src), "csv: trustee-operator.v1.2.0", "csv: trustee-operator.v9.9.9", 1)
	if edited == string(src) {
		t.Fatal("the built-in values no longer pin trustee-operator.v1.2.0")
	}
	if err := os.WriteFile(values, []byte(edited), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	for _, args := range [][]string{{"render"}, {"render", "--all"}, {"render", "--app", "trustee"}} {
		code, out, errOut := cli(t, "", append(args, "--repo-root", ".")...)
		want := `values/values-azure.yaml:35:12: error: clusterGroup.subscriptions.trustee.csv: unknown trustee-operator CSV "trustee-operator.v9.9.9" from redhat-operators: the KBS configuration format changes between releases, and cocogen knows the releases of trustee-operator.v0.3.0, trustee-operator.v0.4.0, trustee-operator.v0.4.1, trustee-operator.v0.4.2, trustee-operator.v1.0.0, trustee-operator.v1.1.0, trustee-operator.v1.2.0, trustee-operator.v1.2.1`
		if code != 1 || out != "" || !strings.Contains(errOut, want) {
			t.Errorf("%v: exit %d, stdout %d bytes\n%s", args, code, len(out), errOut)
		}
	}
}

// writeCert writes a PEM certificate for the KBS host, signed by parent (self-signed when nil), and returns it
// with its key.
func writeCert(t *testing.T, path string, cn string, ca bool, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(365 * 24 * time.Hour),
		IsCA: ca, BasicConstraintsValid: true,
	}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign
	} else {
		tmpl.DNSNames = []string{"kbs.apps.coco.example.com"}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

// Mode leaf pins the KBS certificate as the guest's TLS root, which only a self-signed certificate can be.
func TestLeafModeNeedsASelfSignedCertificate(t *testing.T) {
	root := copyTree(t)
	ca, caKey := writeCert(t, filepath.Join(root, "values", "test-ca.crt"), "test CA", true, nil, nil)
	writeCert(t, filepath.Join(root, "values", "kbs-signed.crt"), "kbs", false, ca, caKey)
	writeCert(t, filepath.Join(root, "values", "kbs-self.crt"), "kbs", false, nil, nil)
	// The repository root is the directory with .git, as in a clone.
	if err := os.Mkdir(filepath.Join(root, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(root)
	leaf := func(cert string) []string {
		return []string{"--fact", "kbs.trustAnchor.mode=leaf", "--fact", "kbs.trustAnchor.certificate=values/" + cert}
	}
	const want = "error: kbs.trustAnchor.certificate: values/kbs-signed.crt: certificate 1 (CN=kbs) is signed by CN=test CA, not self-signed: the guest adds the pinned certificate as a TLS root"
	for _, args := range [][]string{
		append([]string{"render", "--all"}, leaf("kbs-signed.crt")...),
		append([]string{"metadata", "check"}, leaf("kbs-signed.crt")...),
	} {
		code, out, errOut := cli(t, "", args...)
		if code != 1 || !strings.Contains(errOut, want) || (args[0] == "render" && out != "") {
			t.Errorf("%v: exit %d\n%s%s", args[:2], code, out, errOut)
		}
	}
	code, out, errOut := cli(t, "", append([]string{"render", "--all"}, leaf("kbs-self.crt")...)...)
	if code != 0 || !strings.Contains(out, "name: kbs-tls") || strings.Contains(errOut, "error") {
		t.Errorf("a self-signed leaf: exit %d\n%s", code, errOut)
	}
}

// Acceptance: cocogen version lists the Trustee and sandboxed containers rows, in text and in JSON.
func TestVersionListsReleaseRows(t *testing.T) {
	code, out, _ := cli(t, "", "version")
	for _, want := range []string{
		"trustee-operator.v1.2.0   redhat-operators     Red Hat build of Trustee 1.2",
		"trustee-operator.v1.1.0   redhat-operators     Red Hat build of Trustee 1.1",
		"trustee-operator.v0.21.0  community-operators  Trustee operator 0.21 (community)",
		"sandboxed-containers-operator.v1.13.0  3.21 or later  hypervisor.cc_init_data  osc-caa-ds     confidential=true  renders",
		"sandboxed-containers-operator.v1.10.0  3.16 to 3.19   runtime.cc_init_data",
		"3.20           io.katacontainers.config.runtime.cc_init_data (ignored",
	} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("version lacks %q (exit %d):\n%s", want, code, out)
		}
	}
	code, out, _ = cli(t, "", "version", "-o", "json")
	var v versionInfo
	if code != 0 || json.Unmarshal([]byte(out), &v) != nil {
		t.Fatalf("version -o json: exit %d", code)
	}
	found := 0
	for _, r := range v.Releases.Trustee {
		if r.CSV == "trustee-operator.v1.2.0" && r.Catalog == "redhat-operators" && r.Format == "0.21" && r.Writes && r.Verified == "source" {
			found++
		}
	}
	for _, r := range v.Releases.Sandboxed {
		if r.CSV == "sandboxed-containers-operator.v1.13.0" && r.CAADaemonSet == "osc-caa-ds" && r.Supported {
			found++
		}
	}
	if found != 2 || len(v.Releases.KataInit) != 4 {
		t.Errorf("releases in JSON: %+v", v.Releases)
	}
}
