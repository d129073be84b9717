package metadata

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
)

const exampleFile = "../../values/cluster-metadata.yaml"

func diagLines(l *diag.List) []string {
	var out []string
	for _, d := range l.Sorted() {
		out = append(out, d.String())
	}
	return out
}

// param renders a parameter as path=kind:value@position.
func param(p Param) string {
	return p.Path + "=" + p.Value.Kind.String() + ":" + p.Value.Text + "@" + p.Value.Pos.String()
}

func params(m *Metadata) []string {
	var out []string
	for _, p := range m.Params() {
		out = append(out, param(p))
	}
	return out
}

func TestParseExample(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	m, d := Parse("values/cluster-metadata.yaml", data)
	if m == nil || d.HasErrors() || len(d.Sorted()) != 0 {
		t.Fatalf("Parse(example) failed: %q", diagLines(d))
	}
	const f = "values/cluster-metadata.yaml"
	want := []string{
		"global.pattern=string:cocogen@" + f + ":8:9",
		"global.namespace=string:openshift-operators@" + f + ":9:14",
		"global.repoURL=string:https://github.com/cocogen/cocogen.git@" + f + ":11:12",
		"global.targetRevision=string:main@" + f + ":12:19",
		"global.hubClusterDomain=string:apps.coco.example.com@" + f + ":17:15",
		"global.localClusterDomain=string:apps.coco.example.com@" + f + ":17:15",
		"global.clusterDomain=string:coco.example.com@" + f + ":17:15",
		"global.clusterVersion=string:4.19@" + f + ":21:12",
		"global.clusterPlatform=string:Azure@" + f + ":19:13",
		"global.localClusterName=string:coco@" + f + ":17:15",
		"global.multiSourceSupport=bool:true@" + f + ":39:14",
		"global.multiSourceRepoUrl=string:https://charts.validatedpatterns.io/@" + f + ":40:18",
		"global.gitOpsSubNamespace=string:openshift-gitops-operator@" + f + ":37:22",
		"global.vpArgoNamespace=string:vp-gitops@" + f + ":36:18",
		"global.multiSourceTargetRevision=string:0.9.*@" + f + ":41:31",
	}
	if got := params(m); !slices.Equal(got, want) {
		t.Errorf("Params():\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, p := range m.Params() {
		if p.Value.Origin != node.FromFlag {
			t.Errorf("%s has origin %v, want from a flag (typed as Helm types --set)", p.Path, p.Value.Origin)
		}
	}
	if m.Source != "values/cluster-metadata.yaml" {
		t.Errorf("Source = %q", m.Source)
	}
}

func TestParamsDerivations(t *testing.T) {
	const head = "apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\n"
	cases := []struct {
		name string
		src  string
		want []string // path=value, in order
	}{
		{name: "no facts", src: head},
		{
			name: "apps domain only",
			src:  head + "cluster:\n  appsDomain: apps.spoke.example.com\n",
			want: []string{
				"global.hubClusterDomain=apps.spoke.example.com",
				"global.localClusterDomain=apps.spoke.example.com",
				"global.clusterDomain=spoke.example.com",
				"global.localClusterName=spoke",
			},
		},
		{
			name: "cluster name and hub domain given",
			src:  head + "cluster:\n  name: edge-1\n  appsDomain: apps.spoke.example.com\n  hubAppsDomain: apps.hub.example.com\n",
			want: []string{
				"global.hubClusterDomain=apps.hub.example.com",
				"global.localClusterDomain=apps.spoke.example.com",
				"global.clusterDomain=spoke.example.com",
				"global.localClusterName=edge-1",
			},
		},
		{
			name: "hub domain without an apps domain",
			src:  head + "cluster:\n  hubAppsDomain: apps.hub.example.com\n",
			want: []string{"global.hubClusterDomain=apps.hub.example.com"},
		},
		{
			name: "git and booleans",
			src: head + "git:\n  repoURL: git@github.com:me/p.git\n  originURL: ssh://git@example.com/p.git\n  privateRepo: false\n" +
				"gitops:\n  experimentalCapabilities: a,b\n  multiSource:\n    enabled: false\n",
			want: []string{
				"global.repoURL=git@github.com:me/p.git",
				"global.originURL=ssh://git@example.com/p.git",
				"global.privateRepo=false",
				"global.multiSourceSupport=false",
				"global.experimentalCapabilities=a,b",
			},
		},
		{
			name: "null facts are unset",
			src:  head + "pattern:\n  name: null\ncluster:\n  platform: ~\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, d := Parse("m.yaml", []byte(c.src))
			if m == nil {
				t.Fatalf("Parse failed: %q", diagLines(d))
			}
			var got []string
			for _, p := range m.Params() {
				got = append(got, p.Path+"="+p.Value.Text)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("Params():\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	const head = "apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\n"
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown top-level key",
			src:  head + "clustr:\n  appsDomain: apps.a.example.com\n",
			want: []string{`m.yaml:3:1: error: unknown key "clustr"; did you mean "cluster"?`},
		},
		{
			name: "unknown nested key without a close match",
			src:  head + "cluster:\n  region: eastus\n",
			want: []string{`m.yaml:4:3: error: cluster: unknown key "region" (valid keys: appsDomain, hubAppsDomain, name, platform, version)`},
		},
		{
			name: "bare-metal node list with spaces",
			src:  head + "baremetal:\n  tdxNodes: worker-0, worker-1\n",
			want: []string{`m.yaml:4:13: error: baremetal.tdxNodes: "worker-0, worker-1" is not node names separated by commas (worker-0,worker-1)`},
		},
		{
			name: "a host listed for both TEEs",
			src:  head + "baremetal:\n  tdxNodes: worker-0,worker-1\n  snpNodes: worker-1\n",
			want: []string{`m.yaml:5:13: error: baremetal.snpNodes: node worker-1 is listed under tdxNodes too: a host runs one TEE`},
		},
		{
			name: "a GPU host that is not a TEE host",
			src:  head + "baremetal:\n  tdxNodes: worker-0\n  gpuNodes: worker-0,worker-3\n",
			want: []string{`m.yaml:5:13: error: baremetal.gpuNodes: node worker-3 is not a TEE host (tdxNodes, snpNodes): a confidential GPU needs a confidential VM`},
		},
		{
			name: "wrong apiVersion",
			src:  "apiVersion: v1\nkind: ClusterMetadata\n",
			want: []string{"m.yaml:1:1: error: apiVersion: must be cocogen.io/v1alpha1"},
		},
		{
			name: "missing apiVersion and wrong kind",
			src:  "kind: ConfigMap\n",
			want: []string{
				"m.yaml:1:1: error: apiVersion: must be cocogen.io/v1alpha1",
				"m.yaml:1:1: error: kind: must be ClusterMetadata",
			},
		},
		{
			name: "apps domain with two labels",
			src:  head + "cluster:\n  appsDomain: coco.example\n",
			want: []string{`m.yaml:4:15: error: cluster.appsDomain: "coco.example" must be the cluster's apps domain with at least three labels (e.g. apps.mycluster.example.com)`},
		},
		{
			name: "apps domain with an upper-case label",
			src:  head + "cluster:\n  appsDomain: apps.Coco.example.com\n",
			want: []string{`m.yaml:4:15: error: cluster.appsDomain: "apps.Coco.example.com" is not a DNS name (label "Coco")`},
		},
		{
			name: "hub apps domain with an empty label",
			src:  head + "cluster:\n  hubAppsDomain: apps..example.com\n",
			want: []string{`m.yaml:4:18: error: cluster.hubAppsDomain: "apps..example.com" is not a DNS name (label "")`},
		},
		{
			name: "cluster name that is not a DNS label",
			src:  head + "cluster:\n  name: my_cluster\n",
			want: []string{`m.yaml:4:9: error: cluster.name: "my_cluster" is not a DNS label`},
		},
		{
			name: "unquoted version",
			src:  head + "cluster:\n  version: 4.19\n",
			want: []string{"m.yaml:4:12: error: cluster.version: must be a quoted string, not a float (4.19)"},
		},
		{
			name: "version with a patch level",
			src:  head + "cluster:\n  version: \"4.19.3\"\n",
			want: []string{`m.yaml:4:12: error: cluster.version: "4.19.3" is not the OpenShift version as Major.Minor in quotes (e.g. "4.19")`},
		},
		{
			name: "platform in the wrong case",
			src:  head + "cluster:\n  platform: azure\n",
			want: []string{`m.yaml:4:13: error: cluster.platform: invalid value "azure" (valid: ` + strings.Join(Platforms, ", ") + `); did you mean "Azure"?`},
		},
		{
			name: "bad repo URL",
			src:  head + "git:\n  repoURL: github.com/cocogen/cocogen\n",
			want: []string{`m.yaml:4:12: error: git.repoURL: "github.com/cocogen/cocogen" is not a Git URL (https://…, ssh://… or git@host:path)`},
		},
		{
			name: "bad helm repo URL",
			src:  head + "gitops:\n  multiSource:\n    helmRepoURL: ftp://charts\n",
			want: []string{`m.yaml:5:18: error: gitops.multiSource.helmRepoURL: "ftp://charts" is not an https:// URL`},
		},
		{
			name: "revision with a space",
			src:  head + "git:\n  targetRevision: my branch\n",
			want: []string{`m.yaml:4:19: error: git.targetRevision: "my branch" is not a branch, tag or commit`},
		},
		{
			name: "quoted boolean",
			src:  head + "git:\n  privateRepo: \"true\"\n",
			want: []string{`m.yaml:4:16: error: git.privateRepo: must be true or false, not "true"`},
		},
		{
			name: "section that is not a map",
			src:  head + "gitops: vp-gitops\n",
			want: []string{"m.yaml:3:9: error: gitops: must be a map, not a string"},
		},
		{
			name: "every problem is reported",
			src:  "apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\ncluster:\n  platform: aws\n  version: 4.2\n",
			want: []string{
				`m.yaml:4:13: error: cluster.platform: invalid value "aws" (valid: ` + strings.Join(Platforms, ", ") + `); did you mean "AWS"?`,
				"m.yaml:5:12: error: cluster.version: must be a quoted string, not a float (4.2)",
			},
		},
		{
			name: "empty file",
			src:  "# nothing yet\n",
			want: []string{"m.yaml:1:1: error: the metadata file is empty"},
		},
		{
			name: "a list",
			src:  "- a\n",
			want: []string{"m.yaml:1:1: error: must be a map, not a list"},
		},
		{
			name: "invalid YAML",
			src:  head + "cluster: [\n",
			want: []string{"m.yaml:4: error: invalid YAML: did not find expected node content"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, d := Parse("m.yaml", []byte(c.src))
			if m != nil {
				t.Errorf("Parse accepted the file: %+v", m)
			}
			if got := diagLines(d); !slices.Equal(got, c.want) {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(exampleFile); err == nil {
		f.Add(data)
	}
	for _, s := range []string{
		"",
		"apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\ncluster:\n  appsDomain: apps.a.b\n",
		"apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\ncluster:\n  appsDomain: a..b\n  name: ''\n",
		"cluster: {appsDomain: '', hubAppsDomain: x.y.z}\n",
		"a: &a [*a]\n",
		"apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\nazure:\n  location: eastus\n  resourceGroup: 'on'\n  vnetName: \"1e3\"\n",
		"apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\ncluster:\n  platform: BareMetal\nbaremetal:\n  tdxNodes: w0,w1\n  snpNodes: w2\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, d := Parse("fuzz.yaml", data)
		if m == nil {
			if !d.HasErrors() {
				t.Fatalf("Parse rejected %q without an error", data)
			}
			return
		}
		if d.HasErrors() {
			t.Fatalf("Parse accepted %q with errors: %v", data, diagLines(d))
		}
		for _, p := range m.Params() {
			if !strings.HasPrefix(p.Path, "global.") || p.Value == nil {
				t.Fatalf("bad param %+v from %q", p, data)
			}
		}
		// What metadata collect writes must read back as the same facts.
		out := Format(m)
		back, bd := Parse("formatted", out)
		if back == nil || !mapsEqual(back.Facts(), m.Facts()) {
			t.Fatalf("Format of %q does not read back: %v\n%s", data, diagLines(bd), out)
		}
	})
}

func TestEmptyFactsAreUnset(t *testing.T) {
	src := "apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\npattern:\n  name: \"\"\ncluster:\n  name: \"\"\n  appsDomain: apps.c1.example.com\n"
	m, d := Parse("m.yaml", []byte(src))
	if m == nil {
		t.Fatalf("rejected: %v", d.Err())
	}
	got := map[string]string{}
	for _, p := range m.Params() {
		got[p.Path] = p.Value.Text
	}
	if _, ok := got["global.pattern"]; ok {
		t.Errorf("an empty pattern.name must not inject global.pattern")
	}
	if got["global.localClusterName"] != "c1" {
		t.Errorf("an empty cluster.name must fall back to the apps domain: %q", got["global.localClusterName"])
	}
}

func TestBareMetalNodes(t *testing.T) {
	m, d := Parse("m.yaml", []byte("apiVersion: cocogen.io/v1alpha1\nkind: ClusterMetadata\nbaremetal:\n  tdxNodes: worker-0,worker-1.lab\n"))
	if m == nil || d.HasErrors() {
		t.Fatalf("%v", diagLines(d))
	}
	if got := m.BareMetal.Nodes("tdx"); !slices.Equal(got, []string{"worker-0", "worker-1.lab"}) {
		t.Errorf("tdx nodes %v", got)
	}
	if got := m.BareMetal.TEEs(); !slices.Equal(got, []string{"tdx"}) {
		t.Errorf("TEEs %v", got)
	}
	ex, err := os.ReadFile("../../values/cluster-metadata-baremetal.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m, d = Parse("cluster-metadata-baremetal.yaml", ex)
	if m == nil || d.HasErrors() || !slices.Equal(m.BareMetal.TEEs(), []string{"snp", "tdx"}) || m.Cluster.Platform.Value != "BareMetal" {
		t.Fatalf("the bare-metal example: %v", diagLines(d))
	}
}
