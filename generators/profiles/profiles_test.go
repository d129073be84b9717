package profiles

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// sources are the built-in pattern's profile sources, as the load phase would pass them.
func sources(t *testing.T) map[string]Source {
	t.Helper()
	out := map[string]Source{}
	for _, rel := range []string{"policies/agent/default.rego", model.DefaultAATemplate, model.DefaultCDHTemplate} {
		data, err := os.ReadFile("../../" + rel)
		if err != nil {
			t.Fatal(err)
		}
		out[rel] = Source{Name: rel, Data: data}
	}
	return out
}

func profile() model.Profile {
	return model.Profile{Name: "default", Pos: srcpos.Pos{File: "values-global.yaml", Line: 7, Col: 9}, AgentPolicy: "default",
		PolicyPos: srcpos.Pos{File: "values-global.yaml", Line: 8, Col: 24}, Algorithm: "sha256",
		AA: model.DefaultAATemplate, CDH: model.DefaultCDHTemplate,
		ExecAllowList: []model.ExecCommand{{Args: []string{"cat", "/sealed/kbs:///default/kbsres1/key1"}}}}
}

// TestBuildAndFinalize: a profile's init-data carries the KBS endpoint and the agent policy with its exec
// allow-list, and the encoding and digests are those of the same TOML.
func TestBuildAndFinalize(t *testing.T) {
	in := Input{Profiles: []model.Profile{profile()}, KBSURL: "https://kbs.apps.example.com", SecurityPolicyFlavour: "insecure", Files: sources(t)}
	out, d := Build(in)
	if d.HasErrors() || len(out) != 1 {
		t.Fatalf("build: %v", d.Sorted())
	}
	p := out["default"]
	ok, fd := p.Finalize(nil)
	if !ok || fd.HasErrors() {
		t.Fatalf("finalize: %v", fd.Sorted())
	}
	if !bytes.Contains(p.TOML, []byte("https://kbs.apps.example.com")) || !bytes.Contains(p.Policy, []byte(`"/sealed/kbs:///default/kbsres1/key1"`)) {
		t.Errorf("the init-data lacks the KBS URL or the exec allow-list:\n%s", p.TOML)
	}
	dec, err := initdata.Decode([]byte(p.Encoded))
	if err != nil || !bytes.Equal(dec.TOML, p.TOML) || dec.Digests != p.Digests {
		t.Errorf("the encoding is not of the TOML: %v", err)
	}
	if texts := strings.Join(p.NamingTexts(), "\n"); !strings.Contains(texts, "kbs:///default/kbsres1/key1") {
		t.Errorf("naming texts lack the exec allow-list: %q", texts)
	}
}

// TestBuildReportsMissingSources: a source the load phase could not read is an error at the value that names
// it, and no profile is returned.
func TestBuildReportsMissingSources(t *testing.T) {
	files := sources(t)
	files["policies/agent/default.rego"] = Source{Name: "policies/agent/default.rego", Err: errors.New("policies/agent/default.rego: file does not exist")}
	delete(files, model.DefaultCDHTemplate)
	out, d := Build(Input{Profiles: []model.Profile{profile()}, KBSURL: "https://kbs.example.com", Files: files})
	if out != nil {
		t.Errorf("profiles %v", out)
	}
	var got []string
	for _, x := range d.Sorted() {
		got = append(got, x.String())
	}
	want := []string{
		"values-global.yaml:7:9: error: global.coco.initdata.profiles.default.cdh: " + model.DefaultCDHTemplate + " was not loaded",
		"values-global.yaml:8:24: error: global.coco.initdata.profiles.default.agentPolicy: policies/agent/default.rego: file does not exist",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
