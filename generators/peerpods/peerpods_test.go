package peerpods

import (
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/crdschema/crdschematest"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/srcpos"
)

func input() Input {
	return Input{
		Platform:      "Azure",
		Region:        "eastus",
		ResourceGroup: "rg",
		SubnetID:      "/subscriptions/s/resourceGroups/vrg/providers/Microsoft.Network/virtualNetworks/v/subnets/w",
		NSGID:         "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/n",
		FactsPos:      srcpos.Pos{File: "cluster-metadata.yaml", Line: 20, Col: 3},
		DefaultSize:   "Standard_DC2as_v5",
		Sizes:         []string{"Standard_DC2as_v5", "Standard_DC4as_v5"},
		SizesPos:      srcpos.Pos{File: "values-global.yaml", Line: 7, Col: 20},
		InitData:      InitData{Profile: "default", Algorithm: "sha256", Encoded: "H4sI", Digest: "ab", AzurePCR8: "cd"},
		Source:        "values-azure.yaml:3:5 clusterGroup.applications.sandbox",
	}
}

func errs(d *diag.List) []string {
	var out []string
	for _, x := range d.Sorted() {
		if x.Severity == diag.Error {
			out = append(out, x.String())
		}
	}
	return out
}

func TestRenderPeerPodsConfigMap(t *testing.T) {
	objs, d := Render(input())
	if e := errs(d); len(e) > 0 {
		t.Fatal(e)
	}
	if len(objs) != 3 {
		t.Fatalf("got %d objects", len(objs))
	}
	cm := objs[0].Node
	want := map[string]string{
		"CLOUD_PROVIDER": "azure", "VXLAN_PORT": "9000", "AZURE_INSTANCE_SIZE": "Standard_DC2as_v5",
		"AZURE_INSTANCE_SIZES": "Standard_DC2as_v5,Standard_DC4as_v5", "AZURE_REGION": "eastus",
		"AZURE_RESOURCE_GROUP": "rg", "AZURE_SUBNET_ID": input().SubnetID, "AZURE_NSG_ID": input().NSGID,
		"DISABLECVM": "false", "PROXY_TIMEOUT": "5m", "INITDATA": "H4sI",
	}
	data := cm.Get("data")
	if data.Len() != len(want) {
		t.Errorf("data has %d keys, want %d", data.Len(), len(want))
	}
	for k, v := range want {
		if got := data.Get(k).Scalar(); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if data.Get("AZURE_IMAGE_ID") != nil {
		t.Error("AZURE_IMAGE_ID is the operator's to write")
	}
	ann := cm.Path("metadata", "annotations")
	if ann.Get(AnnotationProfile).Scalar() != "default" || ann.Get(AnnotationDigest).Scalar() != "sha256:ab" || ann.Get(AnnotationPCR8).Scalar() != "cd" {
		t.Errorf("annotations = %v", ann)
	}
}

func TestRenderOptionalKeys(t *testing.T) {
	in := input()
	tags, err := node.Parse("v.yaml", []byte("team: coco\nenv: dev\n"), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	in.Tags = tags
	in.RootVolumeSize = node.NewInt(30)
	objs, d := Render(in)
	if e := errs(d); len(e) > 0 {
		t.Fatal(e)
	}
	data := objs[0].Node.Get("data")
	if got := data.Get("TAGS").Scalar(); got != "env=dev,team=coco" {
		t.Errorf("TAGS = %q", got)
	}
	if got := data.Get("ROOT_VOLUME_SIZE").Scalar(); got != "30" {
		t.Errorf("ROOT_VOLUME_SIZE = %q", got)
	}
}

func TestRenderLints(t *testing.T) {
	cases := map[string]struct {
		edit func(*Input)
		want string
	}{
		"no default":   {func(in *Input) { in.DefaultSize = "" }, "defaultVMFlavour: is required"},
		"no init-data": {func(in *Input) { in.InitData.Encoded = "" }, "peer pods need a default init-data profile"},
		"not Azure":    {func(in *Input) { in.Platform = "AWS" }, "Azure only"},
		"tag with comma": {func(in *Input) {
			in.Tags, _ = node.Parse("v.yaml", []byte("team: a,b\n"), node.DefaultLimits)
		}, "v.yaml:1:1: error: global.coco.azure.tags.team"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := input()
			c.edit(&in)
			objs, d := Render(in)
			e := errs(d)
			if objs != nil || len(e) == 0 || !strings.Contains(strings.Join(e, "\n"), c.want) {
				t.Errorf("objects %d, errors %q; want one containing %q", len(objs), e, c.want)
			}
		})
	}
}

func TestKataConfigMatchesCRD(t *testing.T) {
	s := crdschematest.Load(t)
	objs, d := Render(input())
	if d.HasErrors() {
		t.Fatal(d.Sorted())
	}
	checked := 0
	for _, o := range objs {
		if !s.Has(o.APIVersion(), o.Kind()) {
			continue
		}
		checked++
		if err := s.Validate(o.Node); err != nil {
			t.Error(err)
		}
	}
	if checked != 1 {
		t.Errorf("validated %d objects against CRDs, want the KataConfig", checked)
	}
}
