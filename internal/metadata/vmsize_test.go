package metadata

import (
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/node"
)

// flavours parses a values snippet and returns global.coco.azure.{defaultVMFlavour,VMFlavours}.
func flavours(t *testing.T, src string) (def, list *node.Node) {
	t.Helper()
	root, err := node.Parse("values.yaml", []byte(src), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return root.Path("global", "coco", "azure", "defaultVMFlavour"), root.Path("global", "coco", "azure", "VMFlavours")
}

const (
	defPath  = "global.coco.azure.defaultVMFlavour"
	listPath = "global.coco.azure.VMFlavours"
)

func TestVMSizes(t *testing.T) {
	const pre = "global:\n  coco:\n    azure:\n"
	cases := []struct {
		name      string
		src       string
		wantSizes []string // default first, then the list
		wantDiags []string
	}{
		{
			name:      "upstream's values",
			src:       pre + "      defaultVMFlavour: Standard_DC2as_v5\n      VMFlavours: \"Standard_DC2as_v5,Standard_DC4as_v5,Standard_DC8as_v5,Standard_DC16as_v5\"\n",
			wantSizes: []string{"Standard_DC2as_v5", "Standard_DC2as_v5", "Standard_DC4as_v5", "Standard_DC8as_v5", "Standard_DC16as_v5"},
		},
		{
			name:      "a YAML list with TDX and GPU sizes",
			src:       pre + "      defaultVMFlavour: Standard_DC4es_v5\n      VMFlavours:\n        - Standard_DC4es_v5\n        - Standard_NCC40ads_H100_v5\n",
			wantSizes: []string{"Standard_DC4es_v5", "Standard_DC4es_v5", "Standard_NCC40ads_H100_v5"},
		},
		{
			name:      "no list: the default alone",
			src:       pre + "      defaultVMFlavour: Standard_DC2as_v5\n      VMFlavours: \"\"\n",
			wantSizes: []string{"Standard_DC2as_v5"},
		},
		{
			name:      "spaces after the commas",
			src:       pre + "      defaultVMFlavour: Standard_DC2as_v5\n      VMFlavours: \"Standard_DC2as_v5, Standard_DC4as_v5\"\n",
			wantSizes: []string{"Standard_DC2as_v5"},
			wantDiags: []string{`values.yaml:5:19: error: global.coco.azure.VMFlavours: "Standard_DC2as_v5, Standard_DC4as_v5" has spaces: the cloud-api-adaptor splits AZURE_INSTANCE_SIZES on commas without trimming, so a size after a space never matches; write "Standard_DC2as_v5,Standard_DC4as_v5"`},
		},
		{
			name:      "an empty entry",
			src:       pre + "      VMFlavours: Standard_DC2as_v5,,Standard_DC4as_v5\n",
			wantSizes: []string{"Standard_DC2as_v5", "Standard_DC4as_v5"},
			wantDiags: []string{`values.yaml:4:19: error: global.coco.azure.VMFlavours: "Standard_DC2as_v5,,Standard_DC4as_v5" has an empty entry (entry 2): remove the extra comma`},
		},
		{
			name:      "a name in lower case",
			src:       pre + "      VMFlavours: standard_DC2as_v5\n",
			wantDiags: []string{`values.yaml:4:19: error: global.coco.azure.VMFlavours: "standard_DC2as_v5" is not ` + VMSizeRule + `; did you mean "Standard_DC2as_v5"?`},
		},
		{
			name:      "a list item with a comma, another with a number",
			src:       pre + "      VMFlavours:\n        - Standard_DC2as_v5,Standard_DC4as_v5\n        - 4\n",
			wantDiags: []string{`values.yaml:5:11: error: global.coco.azure.VMFlavours[0]: "Standard_DC2as_v5,Standard_DC4as_v5": write one VM size per list item`, `values.yaml:6:11: error: global.coco.azure.VMFlavours[1]: must be a VM size name, not a int`},
		},
		{
			name:      "the default outside the list",
			src:       pre + "      defaultVMFlavour: Standard_DC8as_v5\n      VMFlavours: Standard_DC2as_v5,Standard_DC4as_v5\n",
			wantSizes: []string{"Standard_DC8as_v5", "Standard_DC2as_v5", "Standard_DC4as_v5"},
			wantDiags: []string{`values.yaml:4:25: error: global.coco.azure.defaultVMFlavour: Standard_DC8as_v5 is not among the allowed VM sizes (Standard_DC2as_v5,Standard_DC4as_v5): peer pods could not start with the default size; add it to the list or choose one of them`},
		},
		{
			name:      "a list as the default",
			src:       pre + "      defaultVMFlavour: Standard_DC2as_v5,Standard_DC4as_v5\n",
			wantDiags: []string{`values.yaml:4:25: error: global.coco.azure.defaultVMFlavour: "Standard_DC2as_v5,Standard_DC4as_v5" is a list: the default is one VM size (e.g. Standard_DC2as_v5)`},
		},
		{
			name:      "a size twice",
			src:       pre + "      VMFlavours: Standard_DC2as_v5,Standard_DC2as_v5\n",
			wantSizes: []string{"Standard_DC2as_v5", "Standard_DC2as_v5"},
			wantDiags: []string{"values.yaml:4:19: warning: global.coco.azure.VMFlavours: Standard_DC2as_v5 is listed twice"},
		},
		{
			name:      "a map",
			src:       pre + "      VMFlavours: {a: b}\n",
			wantDiags: []string{`values.yaml:4:19: error: global.coco.azure.VMFlavours: must be a comma-separated string of VM sizes (e.g. "Standard_DC2as_v5,Standard_DC4as_v5") or a list, not a map`},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defN, listN := flavours(t, c.src)
			d := &diag.List{}
			list, listOK := CheckVMSizeList(listN, listPath, d)
			var got []string
			if def, ok := CheckVMSize(defN, defPath, d); ok {
				CheckDefaultVMSize(def, defPath, list, d)
				got = append(got, def.Name)
			}
			for _, s := range list {
				got = append(got, s.Name)
				if s.Pos.File != "values.yaml" || s.Pos.Line == 0 {
					t.Errorf("%s has no position: %v", s.Name, s.Pos)
				}
			}
			if !slices.Equal(got, c.wantSizes) {
				t.Errorf("sizes %q, want %q", got, c.wantSizes)
			}
			if gotD := diagLines(d); !slices.Equal(gotD, c.wantDiags) {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(gotD, "\n"), strings.Join(c.wantDiags, "\n"))
			}
			if listOK == hasError(c.wantDiags, listPath) {
				t.Errorf("CheckVMSizeList ok = %v with diagnostics %q", listOK, c.wantDiags)
			}
		})
	}
}

func hasError(ds []string, path string) bool {
	for _, d := range ds {
		if strings.Contains(d, "error: "+path) {
			return true
		}
	}
	return false
}

func TestJoinVMSizes(t *testing.T) {
	got := JoinVMSizes([]VMSize{{Name: "Standard_DC2as_v5"}, {Name: "Standard_DC4as_v5"}})
	if got != "Standard_DC2as_v5,Standard_DC4as_v5" {
		t.Errorf("JoinVMSizes = %q", got)
	}
}

// TestVMSizeNameRule pins the one VM size rule (IsVMSizeName) on names the compute API uses and on near misses.
func TestVMSizeNameRule(t *testing.T) {
	for _, name := range []string{"Standard_DC2as_v5", "Standard_DC4es_v6", "Standard_NCC40ads_H100_v5", "Standard_E4-2ds_v4",
		"Standard_M416-208s_v2", "Standard_EC2as_v5", "Standard_A1"} {
		if !IsVMSizeName(name) {
			t.Errorf("%s is an Azure VM size name, but the rule refuses it", name)
		}
	}
	for _, name := range []string{"DC2as_v5", "standard_DC2as_v5", "Standard_", "Standard_DC2as_v5 ", "Standard_DC2as__v5",
		"Standard_DC2as-v5-x", "Basic_A0", "Standard_DC2as_v5,Standard_DC4as_v5", "Standard DC2as v5"} {
		if IsVMSizeName(name) {
			t.Errorf("%q is not an Azure VM size name, but the rule accepts it", name)
		}
	}
}
