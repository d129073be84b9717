package collect

import (
	"bytes"
	"context"
	"errors"
	"maps"
	"os"
	"slices"
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/srcpos"
)

func diagLines(l *diag.List) []string {
	var out []string
	for _, d := range l.Sorted() {
		out = append(out, d.String())
	}
	return out
}

func read(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// handWritten is the metadata a person wrote for the same cluster: the pattern's example file.
func handWritten(t *testing.T) *metadata.Metadata {
	t.Helper()
	m, d := metadata.Parse("values/cluster-metadata.yaml", read(t, "../../values/cluster-metadata.yaml"))
	if m == nil {
		t.Fatalf("the example metadata: %q", diagLines(d))
	}
	return m
}

func azureFacts(m *metadata.Metadata) map[string]string {
	out := map[string]string{}
	for k, v := range m.Facts() {
		if strings.HasPrefix(k, "azure.") {
			out[k] = v
		}
	}
	return out
}

func peerPods(t *testing.T, m *metadata.Metadata) metadata.PeerPodsAzure {
	t.Helper()
	var d diag.List
	pp, ok := m.PeerPods(&d)
	if !ok {
		t.Fatalf("PeerPods: %q", diagLines(&d))
	}
	pp.Pos = srcpos.Pos{} // the files differ; the entries must not
	return pp
}

func TestCloudConfPositions(t *testing.T) {
	const name = "testdata/cloud-conf-ipi.json"
	o, d := CloudConf(name, read(t, name))
	if d.HasErrors() {
		t.Fatalf("%q", diagLines(d))
	}
	var got []string
	for _, x := range o {
		got = append(got, x.Path+"="+x.Value+"@"+x.Pos.String())
	}
	// Tabs count as one column, as editors that show file:line:col count them.
	want := []string{
		"azure.cloud=AzurePublicCloud@" + name + ":2:11",
		"azure.subscriptionId=6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a34@" + name + ":10:20",
		"azure.tenantId=0c9a7b4e-5d2f-4a1c-8e6b-3f7d9a2c1b58@" + name + ":3:14",
		"azure.location=eastus@" + name + ":12:14",
		"azure.resourceGroup=coco-x7k2p-rg@" + name + ":11:19",
		"azure.vnetResourceGroup=coco-x7k2p-rg@" + name + ":14:23",
		"azure.vnetName=coco-x7k2p-vnet@" + name + ":13:14",
		"azure.subnetName=coco-x7k2p-worker-subnet@" + name + ":15:16",
		"azure.securityGroupName=coco-x7k2p-nsg@" + name + ":16:23",
	}
	if !slices.Equal(got, want) {
		t.Errorf("overrides:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestCollectedEqualsHandWritten is the acceptance test: metadata collected from a real-shaped cloud.conf gives
// the same Azure facts, and so the same peer-pods-cm entries, as the hand-written example.
func TestCollectedEqualsHandWritten(t *testing.T) {
	const name = "testdata/cloud-conf-ipi.json"
	m, d := Metadata(Sources{CloudConf: read(t, name), CloudConfName: name})
	if m == nil || d.HasErrors() {
		t.Fatalf("%q", diagLines(d))
	}
	want := handWritten(t)
	if got, w := azureFacts(m), azureFacts(want); !maps.Equal(got, w) {
		t.Errorf("collected %v\nwant %v", got, w)
	}
	if got, w := peerPods(t, m), peerPods(t, want); got != w {
		t.Errorf("peer pods %+v\nwant %+v", got, w)
	}
	// And the file written from it reads back as the same facts.
	back, bd := metadata.Parse("collected.yaml", metadata.Format(m))
	if back == nil || !maps.Equal(back.Facts(), m.Facts()) {
		t.Errorf("Format does not read back: %q", diagLines(bd))
	}
}

func TestCloudConfRejects(t *testing.T) {
	cases := []struct {
		name string
		data string
		want []string
	}{
		{"a display name as location", string(read(t, "testdata/cloud-conf-bad-location.json")),
			[]string{`c.json:6:17: error: azure.location: "West Europe" is not an Azure region name; did you mean "westeurope"? (the region name, not its display name)`}},
		{"a number where a name belongs", "{\n  \"location\": \"eastus\",\n  \"vnetName\": 42\n}\n",
			[]string{`c.json:3:15: error: vnetName: must be a string, not 42`}},
		{"broken JSON", "{\n  \"location\": \"eastus\",\n  \"vnetName\": \n}\n",
			[]string{`c.json:4:1: error: not a cloud.conf: invalid JSON: invalid character '}' looking for beginning of value`}},
		{"an array", "[1]\n", []string{"c.json:1:1: error: not a cloud.conf: the JSON must be an object ({...})"}},
		{"two objects", "{\"location\": \"eastus\"} {}", []string{"c.json:1:24: error: not a cloud.conf: text after the JSON object"}},
		{"the AWS cloud config", "{\"region\": \"us-east-1\"}", []string{"c.json: error: holds none of the Azure keys cocogen reads (cloud, subscriptionId, tenantId, location, resourceGroup, vnetResourceGroup, vnetName, subnetName, securityGroupName): is it the Azure cloud.conf?"}},
		{"a GUID with a typo", "{\"subscriptionId\": \"6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a3\", \"location\": \"eastus\"}",
			[]string{`c.json:1:20: error: azure.subscriptionId: "6d3f0e2a-1b4c-4e8f-9a7d-2c5b8e1f0a3" is not a subscription ID: a GUID (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, d := Metadata(Sources{CloudConf: []byte(c.data), CloudConfName: "c.json"})
			if m != nil {
				t.Errorf("accepted")
			}
			if got := diagLines(d); !slices.Equal(got, c.want) {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestMissingAzureFactsAreWarnings(t *testing.T) {
	m, d := Metadata(Sources{CloudConf: []byte(`{"cloud": "AzurePublicCloud", "location": "eastus", "subnetName": ""}`), CloudConfName: "c.json"})
	if m == nil || d.HasErrors() {
		t.Fatalf("%q", diagLines(d))
	}
	got := diagLines(d)
	if len(got) != 1 || !strings.HasPrefix(got[0], "c.json:1:11: warning: azure: peer pods on Azure need azure.subscriptionId, azure.resourceGroup,") {
		t.Errorf("diagnostics %q", got)
	}
}

func TestLayering(t *testing.T) {
	base := []byte("apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\ngit:\n  repoURL: https://github.com/me/cocogen.git\ncluster:\n  appsDomain: apps.old.example.com\nazure:\n  location: westus\n")
	cl := &Cluster{
		CloudConf: []byte(`{"location": "northeurope", "vnetName": "live-vnet"}`),
		Facts:     []metadata.Override{{Path: "cluster.appsDomain", Value: "apps.new.example.com"}},
	}
	cases := []struct {
		name string
		src  Sources
		want map[string]string
	}{
		{"the cluster over the file", Sources{Base: base, BaseName: "b.yaml", Cluster: cl}, map[string]string{
			"git.repoURL": "https://github.com/me/cocogen.git", "cluster.appsDomain": "apps.new.example.com",
			"azure.location": "northeurope", "azure.vnetName": "live-vnet"}},
		{"a cloud.conf file replaces the cluster's", Sources{Base: base, BaseName: "b.yaml", Cluster: cl, CloudConf: []byte(`{"location": "eastus"}`), CloudConfName: "c.json"}, map[string]string{
			"git.repoURL": "https://github.com/me/cocogen.git", "cluster.appsDomain": "apps.new.example.com", "azure.location": "eastus"}},
		{"facts over everything", Sources{Base: base, BaseName: "b.yaml", Cluster: cl, Facts: []metadata.Override{{Path: "azure.location", Value: "swedencentral"}}}, map[string]string{
			"git.repoURL": "https://github.com/me/cocogen.git", "cluster.appsDomain": "apps.new.example.com",
			"azure.location": "swedencentral", "azure.vnetName": "live-vnet"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, d := Metadata(c.src)
			if m == nil {
				t.Fatalf("%q", diagLines(d))
			}
			if got := m.Facts(); !maps.Equal(got, c.want) {
				t.Errorf("facts %v\nwant %v", got, c.want)
			}
		})
	}
}

// openshift returns the objects of an OpenShift cluster on Azure as the API server serves them.
func openshift(cloudConf string) []runtime.Object {
	obj := func(apiVersion, kind, ns, name string, fields map[string]any) *unstructured.Unstructured {
		u := &unstructured.Unstructured{Object: map[string]any{"apiVersion": apiVersion, "kind": kind}}
		u.SetName(name)
		u.SetNamespace(ns)
		for k, v := range fields {
			u.Object[k] = v
		}
		return u
	}
	return []runtime.Object{
		obj("v1", "ConfigMap", CloudConfNamespace, CloudConfName, map[string]any{"data": map[string]any{CloudConfKey: cloudConf}}),
		obj("config.openshift.io/v1", "Infrastructure", "", "cluster", map[string]any{
			"spec":   map[string]any{"platformSpec": map[string]any{"type": "Azure"}},
			"status": map[string]any{"infrastructureName": "coco-x7k2p", "platformStatus": map[string]any{"type": "Azure", "azure": map[string]any{"cloudName": "AzurePublicCloud"}}},
		}),
		obj("config.openshift.io/v1", "Ingress", "", "cluster", map[string]any{"spec": map[string]any{"domain": "apps.coco.example.com"}}),
		obj("config.openshift.io/v1", "ClusterVersion", "", "version", map[string]any{"status": map[string]any{"history": []any{
			map[string]any{"state": "Partial", "version": "4.20.1"},
			map[string]any{"state": "Completed", "version": "4.19.12"},
			map[string]any{"state": "Completed", "version": "4.18.20"},
		}}}),
	}
}

func fakeClient(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		configMaps: "ConfigMapList", infrastructures: "InfrastructureList", ingresses: "IngressList", clusterVersions: "ClusterVersionList",
	}, objs...)
}

func TestReadCluster(t *testing.T) {
	cloudConf := string(read(t, "testdata/cloud-conf-ipi.json"))
	cl, d, err := ReadCluster(context.Background(), fakeClient(openshift(cloudConf)...))
	if err != nil || len(d.Sorted()) != 0 {
		t.Fatalf("err %v, diagnostics %q", err, diagLines(d))
	}
	var got []string
	for _, f := range cl.Facts {
		got = append(got, f.Path+"="+f.Value+"@"+f.Pos.String())
	}
	want := []string{
		"cluster.platform=Azure@" + SourceInfrastructure,
		"cluster.appsDomain=apps.coco.example.com@" + SourceIngress,
		"cluster.version=4.19@" + SourceClusterVersion, // the newest completed update, not the partial one
	}
	if !slices.Equal(got, want) {
		t.Errorf("facts %q, want %q", got, want)
	}
	if string(cl.CloudConf) != cloudConf {
		t.Errorf("cloud.conf not read from the ConfigMap")
	}
	// Everything the live cluster says equals the hand-written metadata's cluster and Azure facts.
	m, md := Metadata(Sources{Cluster: cl})
	if m == nil || md.HasErrors() {
		t.Fatalf("%q", diagLines(md))
	}
	hw := handWritten(t)
	for _, k := range []string{"cluster.platform", "cluster.appsDomain", "cluster.version"} {
		if m.Facts()[k] != hw.Facts()[k] {
			t.Errorf("%s = %q, hand-written %q", k, m.Facts()[k], hw.Facts()[k])
		}
	}
	if !maps.Equal(azureFacts(m), azureFacts(hw)) {
		t.Errorf("azure facts %v, hand-written %v", azureFacts(m), azureFacts(hw))
	}
	if m.Azure.Location.Pos.String() != SourceCloudConf+":12:14" {
		t.Errorf("a fact from the live cloud.conf is positioned at %s", m.Azure.Location.Pos)
	}
}

func TestReadClusterThatIsNotOpenShift(t *testing.T) {
	// A plain Kubernetes cluster: nothing is found; every object is a warning and no fact is made up.
	cl, d, err := ReadCluster(context.Background(), fakeClient())
	if err != nil {
		t.Fatal(err)
	}
	if len(cl.Facts) != 0 || cl.CloudConf != nil {
		t.Errorf("facts from nothing: %+v", cl)
	}
	got := diagLines(d)
	if len(got) != 4 || !strings.Contains(got[0], "warning: not found on the cluster") {
		t.Errorf("diagnostics %q", got)
	}
}

func TestReadClusterErrors(t *testing.T) {
	c := fakeClient(openshift("{}")...)
	c.PrependReactor("get", "ingresses", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "config.openshift.io", Resource: "ingresses"}, "cluster", errors.New("no RBAC"))
	})
	c.PrependReactor("get", "clusterversions", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("connection refused")
	})
	_, _, err := ReadCluster(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "read "+SourceClusterVersion+": connection refused") {
		t.Errorf("err = %v, want the API error with the object it was reading", err)
	}
	c = fakeClient(openshift("{}")...)
	c.PrependReactor("get", "ingresses", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "config.openshift.io", Resource: "ingresses"}, "cluster", errors.New("no RBAC"))
	})
	cl, d, err := ReadCluster(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	got := diagLines(d)
	if len(got) != 1 || !strings.HasPrefix(got[0], SourceIngress+": warning: you may not read it") {
		t.Errorf("diagnostics %q", got)
	}
	for _, f := range cl.Facts {
		if f.Path == "cluster.appsDomain" {
			t.Errorf("a forbidden object gave a fact")
		}
	}
}

func FuzzCloudConf(f *testing.F) {
	for _, name := range []string{"testdata/cloud-conf-ipi.json", "testdata/cloud-conf-bad-location.json"} {
		if data, err := os.ReadFile(name); err == nil {
			f.Add(data)
		}
	}
	for _, s := range []string{"", "{}", "[", `{"location": 1}`, "{\"location\":\n\"eastus\"} x", `{"a": {"b": [1, {"c": "d"}]}, "vnetName": "v\u00e9"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		lines := bytes.Count(data, []byte("\n")) + 1
		o, d := CloudConf("f.json", data)
		for _, x := range d.Sorted() {
			if x.Pos.Line > lines || x.Pos.Line < 0 {
				t.Fatalf("diagnostic outside the file: %s", x)
			}
		}
		for _, x := range o {
			if !strings.HasPrefix(x.Path, "azure.") || x.Value == "" || x.Pos.Line < 1 || x.Pos.Line > lines || x.Pos.Col < 1 {
				t.Fatalf("bad fact %+v", x)
			}
		}
	})
}
