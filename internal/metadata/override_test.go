package metadata

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/srcpos"
)

func TestEnvName(t *testing.T) {
	cases := map[string]string{
		"azure.location":                              "COCOGEN_FACT_AZURE_LOCATION",
		"azure.vnetResourceGroup":                     "COCOGEN_FACT_AZURE_VNET_RESOURCE_GROUP",
		"azure.subscriptionId":                        "COCOGEN_FACT_AZURE_SUBSCRIPTION_ID",
		"git.repoURL":                                 "COCOGEN_FACT_GIT_REPO_URL",
		"gitops.multiSource.helmRepoURL":              "COCOGEN_FACT_GITOPS_MULTI_SOURCE_HELM_REPO_URL",
		"kbs.trustAnchor.mode":                        "COCOGEN_FACT_KBS_TRUST_ANCHOR_MODE",
		"kbs.url":                                     "COCOGEN_FACT_KBS_URL",
		"gitops.multiSource.clusterGroupChartVersion": "COCOGEN_FACT_GITOPS_MULTI_SOURCE_CLUSTER_GROUP_CHART_VERSION",
	}
	for path, want := range cases {
		if got := EnvName(path); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", path, got, want)
		}
	}
	// Every fact has its own name, and the name leads back to the fact.
	seen := map[string]string{}
	for _, p := range Keys() {
		n := EnvName(p)
		if other, dup := seen[n]; dup {
			t.Errorf("%s and %s share the env name %s", p, other, n)
		}
		seen[n] = p
		o, ok, err := OverrideFromEnv(n, "x")
		if !ok || err != nil || o.Path != p || o.Pos.File != "ARGOCD_ENV_"+n {
			t.Errorf("OverrideFromEnv(%s) = %+v, %v, %v", n, o, ok, err)
		}
	}
}

func TestOverrideFromEnvRejects(t *testing.T) {
	if _, ok, err := OverrideFromEnv("COCOGEN_SET", "a=b"); ok || err != nil {
		t.Errorf("a name outside the prefix is not cocogen's fact: ok=%v err=%v", ok, err)
	}
	_, ok, err := OverrideFromEnv("COCOGEN_FACT_AZURE_LOCATOIN", "eastus")
	if !ok || err == nil || !strings.Contains(err.Error(), "did you mean COCOGEN_FACT_AZURE_LOCATION?") {
		t.Errorf("a typo must be an error with the closest name: ok=%v err=%v", ok, err)
	}
}

func TestParseOverride(t *testing.T) {
	pos := srcpos.Pos{File: "--fact"}
	o, err := ParseOverride("gitops.experimentalCapabilities=a=b,c", pos)
	if err != nil || o.Path != "gitops.experimentalCapabilities" || o.Value != "a=b,c" || o.Pos != pos {
		t.Errorf("ParseOverride = %+v, %v", o, err)
	}
	for _, bad := range []string{"azure.location", "=eastus", ""} {
		if _, err := ParseOverride(bad, pos); err == nil {
			t.Errorf("ParseOverride(%q) accepted", bad)
		}
	}
}

func TestLoadLayers(t *testing.T) {
	file := head + "cluster:\n  platform: Azure\n  appsDomain: apps.a.example.com\n" + azureFacts + "git:\n  privateRepo: true\n"
	env := func(path, v string) Override {
		return Override{Path: path, Value: v, Pos: srcpos.Pos{File: "ARGOCD_ENV_" + EnvName(path)}}
	}
	flag := func(path, v string) Override { return Override{Path: path, Value: v, Pos: srcpos.Pos{File: "--fact"}} }
	m, d := Load("m.yaml", []byte(file), []Override{
		env("azure.location", "eastus"),
		flag("azure.location", "northeurope"), // later wins
		env("kata.version", "3.21.0"),         // a section the file does not have
		env("git.privateRepo", "FALSE"),       // booleans from text
		env("cluster.platform", ""),           // an empty value unsets the fact
	})
	if m == nil {
		t.Fatalf("rejected: %q", diagLines(d))
	}
	f := m.Facts()
	if f["azure.location"] != "northeurope" || m.Azure.Location.Pos.File != "--fact" {
		t.Errorf("azure.location = %q from %s, want the last override", f["azure.location"], m.Azure.Location.Pos)
	}
	if f["kata.version"] != "3.21.0" || f["git.privateRepo"] != "false" {
		t.Errorf("facts = %v", f)
	}
	if _, ok := f["cluster.platform"]; ok {
		t.Errorf("an empty override must unset cluster.platform")
	}
	if f["azure.vnetName"] != "prod-abcde-vnet" {
		t.Errorf("facts the overrides do not name must stay: %v", f)
	}
	// The derived values carry the override's position.
	for _, p := range m.Params() {
		if p.Path == "global.privateRepo" && (p.Value.Text != "false" || p.Value.Pos.File != "ARGOCD_ENV_COCOGEN_FACT_GIT_PRIVATE_REPO") {
			t.Errorf("global.privateRepo = %s from %s", p.Value.Text, p.Value.Pos)
		}
	}
}

func TestLoadWithoutFile(t *testing.T) {
	m, d := Load("", nil, []Override{{Path: "cluster.appsDomain", Value: "apps.c1.example.com", Pos: srcpos.Pos{File: "--fact"}}})
	if m == nil {
		t.Fatalf("rejected: %q", diagLines(d))
	}
	if got := m.Facts(); len(got) != 1 || got["cluster.appsDomain"] != "apps.c1.example.com" {
		t.Errorf("Facts() = %v", got)
	}
	if m, _ := Load("", nil, nil); m == nil || len(m.Facts()) != 0 {
		t.Errorf("no file and no overrides must be empty metadata")
	}
}

func TestLoadRejectsOverrides(t *testing.T) {
	cases := []struct {
		name string
		o    Override
		want string
	}{
		{"unknown fact", Override{Path: "azure.region", Value: "eastus", Pos: srcpos.Pos{File: "--fact"}},
			`--fact: error: unknown cluster fact "azure.region"`},
		{"a close typo", Override{Path: "azure.locaton", Value: "eastus", Pos: srcpos.Pos{File: "--fact"}},
			`--fact: error: unknown cluster fact "azure.locaton"; did you mean "azure.location"?`},
		{"a section, not a fact", Override{Path: "azure", Value: "x", Pos: srcpos.Pos{File: "--fact"}},
			`--fact: error: unknown cluster fact "azure"`},
		{"invalid value at the env entry", Override{Path: "azure.location", Value: "East US", Pos: srcpos.Pos{File: "ARGOCD_ENV_COCOGEN_FACT_AZURE_LOCATION"}},
			`ARGOCD_ENV_COCOGEN_FACT_AZURE_LOCATION: error: azure.location: "East US" is not an Azure region name; did you mean "eastus"? (the region name, not its display name)`},
		{"a boolean that is not one", Override{Path: "git.privateRepo", Value: "yes", Pos: srcpos.Pos{File: "--fact"}},
			`--fact: error: git.privateRepo: must be true or false, not "yes"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, d := Load("m.yaml", []byte(head), []Override{c.o})
			if m != nil {
				t.Errorf("accepted")
			}
			got := diagLines(d)
			if len(got) != 1 || !strings.HasPrefix(got[0], c.want) {
				t.Errorf("diagnostics %q, want one starting %q", got, c.want)
			}
		})
	}
}

func TestFormatRoundTrip(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	full, _ := Parse("example", data)
	empty, _ := Load("", nil, nil)
	odd, d := Load("", nil, []Override{
		{Path: "gitops.experimentalCapabilities", Value: "a: b # c"},
		{Path: "pattern.name", Value: "true"},
		{Path: "kata.version", Value: "3.21"},
		{Path: "git.targetRevision", Value: "0777"},
		{Path: "azure.resourceGroup", Value: "on"},
	})
	if odd == nil {
		t.Fatalf("rejected: %q", diagLines(d))
	}
	for name, m := range map[string]*Metadata{"example": full, "empty": empty, "values YAML would retype": odd} {
		t.Run(name, func(t *testing.T) {
			out := Format(m, "a header", "")
			if !strings.HasPrefix(string(out), "# a header\n#\napiVersion: ") {
				t.Errorf("header missing:\n%s", out)
			}
			back, d := Parse("formatted", out)
			if back == nil {
				t.Fatalf("Format output does not parse: %q\n%s", diagLines(d), out)
			}
			if got, want := back.Facts(), m.Facts(); !mapsEqual(got, want) {
				t.Errorf("round trip changed the facts:\n got %v\nwant %v\n%s", got, want, out)
			}
			if again := Format(back, "a header", ""); string(again) != string(out) {
				t.Errorf("Format is not stable:\n%s\n---\n%s", out, again)
			}
		})
	}
	// Unknown facts are shown commented out, with their example, so the file says what could be filled in.
	out := string(Format(empty))
	for _, want := range []string{"# azure:\n", "#   location: eastus  # cloud.conf location: AZURE_REGION\n", "#   multiSource:\n#     enabled: true"} {
		if !strings.Contains(out, want) {
			t.Errorf("Format(empty) lacks %q:\n%s", want, out)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestKeysMatchTheParser(t *testing.T) {
	// Every key of the table is read by the parser into a field, and every field is in the table.
	var m Metadata
	fields := m.fields()
	if len(fields) != len(facts) {
		t.Errorf("%d fields, %d facts", len(fields), len(facts))
	}
	for _, p := range Keys() {
		if _, ok := fields[p]; !ok {
			t.Errorf("fact %s has no field", p)
		}
	}
	if !slices.Equal(childKeys("kbs"), []string{"url", "trustAnchor"}) {
		t.Errorf("childKeys(kbs) = %v", childKeys("kbs"))
	}
}
