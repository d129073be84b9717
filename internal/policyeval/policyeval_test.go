package policyeval

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/pipeline"
	"github.com/cocogen/cocogen/internal/repo"
)

var (
	builtinOnce sync.Once
	builtin     *pipeline.Result
	builtinErr  error
)

// render is the built-in pattern, rendered once for the tests of this file.
func render(t *testing.T) *pipeline.Result {
	t.Helper()
	builtinOnce.Do(func() {
		builtin, builtinErr = pipeline.Render(disk(t, "../..", "../../values", pipeline.Request{All: true}))
	})
	if builtinErr != nil {
		t.Fatal(builtinErr)
	}
	return builtin
}

func readJSON(t *testing.T, name string) any {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// TestAgentDecisions: the built-in profiles decide the requests the README and the issue name, each by the
// rule the policy source shows.
func TestAgentDecisions(t *testing.T) {
	res := render(t)
	for _, tc := range []struct {
		profile, request string
		input            any
		allowed          bool
		rule             string
	}{
		{"default", "SetPolicyRequest", nil, false, "default SetPolicyRequest := false"},
		{"default", "ExecProcessRequest", nil, false, "default ExecProcessRequest := false"},
		{"default", "CreateContainerRequest", nil, false, "default CreateContainerRequest := false"},
		{"default", "GetDiagnosticDataRequest", nil, false, "default GetDiagnosticDataRequest := false"},
		{"default", "ReadStreamRequest", nil, false, "default ReadStreamRequest := false"},
		{"default", "CopyFileRequest", map[string]any{"path": "/run/kata-containers/x/config.json"}, false, "default CopyFileRequest := false"},
		{"default", "StartContainerRequest", nil, true, "default StartContainerRequest := true"},
		{"default", "ExecProcessRequest", map[string]any{"process": map[string]any{"Args": []any{"curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"}}}, true, "ExecProcessRequest if {"},
		{"debug", "ExecProcessRequest", nil, true, "default ExecProcessRequest := true"},
		{"debug", "SetPolicyRequest", nil, true, "default SetPolicyRequest := true"},
	} {
		r, err := Agent(context.Background(), res, tc.profile, tc.request, tc.input)
		if err != nil {
			t.Fatal(err)
		}
		if r.Allowed != tc.allowed || r.Rule == nil || r.Rule.Text != tc.rule || r.Problem != "" {
			t.Errorf("%s %s: allowed %v by %+v (%s), want %v by %q", tc.profile, tc.request, r.Allowed, r.Rule, r.Problem, tc.allowed, tc.rule)
		}
		wantFile := "policies/agent/" + tc.profile + ".rego"
		if r.Rule != nil && (!strings.HasSuffix(r.Rule.File, wantFile) || r.Rule.Line < 1) {
			t.Errorf("%s %s: rule at %s:%d, want a line of %s", tc.profile, tc.request, r.Rule.File, r.Rule.Line, wantFile)
		}
	}
	if _, err := Agent(context.Background(), res, "default", "PullImageRequest", nil); err == nil || !strings.Contains(err.Error(), "ExecProcessRequest") {
		t.Errorf("an unknown request: %v", err)
	}
	if _, err := Agent(context.Background(), res, "prod", "ExecProcessRequest", nil); err == nil || !strings.Contains(err.Error(), `no init-data profile "prod"`) {
		t.Errorf("an unknown profile: %v", err)
	}
}

// TestAgentEvaluatesTheEncodedPolicy: the policy Agent evaluates is the policy.rego that the encoded
// init-data of peer-pods-cm carries, byte for byte.
func TestAgentEvaluatesTheEncodedPolicy(t *testing.T) {
	res := render(t)
	for _, a := range res.Apps {
		for _, o := range a.Objects {
			if o.Kind() != "ConfigMap" || o.Name() != "peer-pods-cm" {
				continue
			}
			doc, err := initdata.Decode([]byte(o.Node.Path("data", "INITDATA").Scalar()))
			if err != nil {
				t.Fatal(err)
			}
			policy, _ := doc.Get(initdata.KeyPolicy)
			def, _ := res.Profile(res.DefaultProfile)
			if policy != string(def.Policy) || !strings.Contains(policy, "default SetPolicyRequest := false\n") {
				t.Error("peer-pods-cm carries another policy than the one eval evaluates, or one that is not locked in")
			}
			return
		}
	}
	t.Fatal("no peer-pods-cm")
}

// TestAgentCreateContainer: the rendered default policy admits the pause container and the containers that
// the kbs-access manifest declares, as the runtime would ask for them, and nothing the host adds.
func TestAgentCreateContainer(t *testing.T) {
	res := render(t)
	decide := func(req any) bool {
		t.Helper()
		r, err := Agent(context.Background(), res, "default", "CreateContainerRequest", req)
		if err != nil {
			t.Fatal(err)
		}
		return r.Allowed
	}
	pause := readJSON(t, "testdata/create-pause.json")
	web := readJSON(t, "testdata/create-kbs-access-web.json")
	if !decide(pause) {
		t.Error("the pause container is denied")
	}
	if !decide(web) {
		t.Error("the kbs-access web container, as declared, is denied")
	}
	if r, _ := Agent(context.Background(), res, "debug", "CreateContainerRequest", web); !r.Allowed {
		t.Error("the debug profile denies a container")
	}
	patch := func(f func(m map[string]any)) any {
		var m map[string]any
		b, _ := json.Marshal(web)
		_ = json.Unmarshal(b, &m)
		f(m)
		return m
	}
	for what, req := range map[string]any{
		"the host's own image": patch(func(m map[string]any) {
			m["storages"].([]any)[0].(map[string]any)["source"] = "quay.io/attacker/shell:latest"
		}),
		"a shell instead of the web server": patch(func(m map[string]any) {
			m["OCI"].(map[string]any)["Process"].(map[string]any)["Args"] = []any{"sh", "-c", "cat /shared/index.html"}
		}),
		"the guest's secrets mounted into the web root": patch(func(m map[string]any) {
			oci := m["OCI"].(map[string]any)
			oci["Mounts"] = append(oci["Mounts"].([]any), map[string]any{"destination": "/shared/cdh", "source": "/run/confidential-containers", "type_": "bind", "options": []any{"rbind"}})
		}),
		"CAP_SYS_ADMIN": patch(func(m map[string]any) {
			m["OCI"].(map[string]any)["Process"].(map[string]any)["Capabilities"].(map[string]any)["Effective"] = []any{"CAP_SYS_ADMIN"}
		}),
		"root": patch(func(m map[string]any) {
			m["OCI"].(map[string]any)["Process"].(map[string]any)["User"].(map[string]any)["UID"] = 0
		}),
	} {
		if decide(req) {
			t.Errorf("%s is allowed", what)
		}
	}
}

// TestEveryEntryPointDecides: every request the agent checks gets a decision from both built-in profiles,
// never a problem the agent would turn into an internal error.
func TestEveryEntryPointDecides(t *testing.T) {
	res := render(t)
	for _, profile := range res.ProfileNames {
		for _, ep := range agentpolicy.EntryPoints {
			r, err := Agent(context.Background(), res, profile, ep, nil)
			if err != nil || r.Problem != "" || r.Rule == nil {
				t.Errorf("%s %s: %v %+v", profile, ep, err, r)
			}
		}
	}
}

// TestTrusteeDecisions: with the built-in pattern, the default profile gets kbsres1 and the debug profile
// does not; a guest that allows debugging, whose firmware is old, or that booted other init-data gets
// nothing.
func TestTrusteeDecisions(t *testing.T) {
	res := render(t)
	for _, tc := range []struct {
		o        TrusteeOptions
		released bool
		reason   string
	}{
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1"}, true, "the token is affirming and names profile default, which may read default/kbsres1/key1"},
		{TrusteeOptions{Profile: "debug", Resource: "default/kbsres1/key1"}, false, "profile debug may not read default/kbsres1/key1 (readers: default)"},
		{TrusteeOptions{Profile: "debug", Resource: "default/security-policy/insecure"}, true, "the token is affirming and names profile debug"},
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key9"}, false, "default/kbsres1/key9 is not a resource of global.coco.trustee.resources"},
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", TEE: "az-tdx-vtpm"}, true, ""},
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", Claims: map[string]any{"az-snp-vtpm": map[string]any{"policy_debug_allowed": "true"}}}, false, "the token is contraindicated, not affirming: hardware 97 (contraindicated)"},
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", Claims: map[string]any{"az-snp-vtpm": map[string]any{"reported_tcb_microcode": "114"}}}, false, "hardware 97"},
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", Claims: map[string]any{"az-snp-vtpm": map[string]any{"tpm": map[string]any{"pcr08": strings.Repeat("ab", 32)}}}}, false, "configuration 96 (contraindicated)"},
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", Claims: map[string]any{"az-snp-vtpm": nil, "sample": map[string]any{"svn": "1"}}}, false, "hardware 97 (contraindicated)"},
		// Bare-metal TDX and SEV-SNP: the built-in pattern pins no launch measurement and accepts any pod VM
		// image (acceptUnpinnedPodVM): no claim on the image; debugging still denies.
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", TEE: "tdx"}, true, "the token is affirming"},
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", TEE: "snp"}, true, "the token is affirming"},
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", TEE: "tdx", Claims: map[string]any{"tdx": map[string]any{"td_attributes": map[string]any{"debug": true}}}}, false, "hardware 97 (contraindicated)"},
		{TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", TEE: "snp", Claims: map[string]any{"snp": map[string]any{"policy_debug_allowed": true}}}, false, "hardware 97 (contraindicated)"},
	} {
		r, err := Trustee(context.Background(), res, tc.o)
		if err != nil {
			t.Fatal(err)
		}
		if r.Released != tc.released || !strings.Contains(r.Reason, tc.reason) {
			t.Errorf("%+v: released %v (%s), want %v (%s)", tc.o, r.Released, r.Reason, tc.released, tc.reason)
		}
		if r.Token != nil && r.Token["submods"].(map[string]any)["cpu0"].(map[string]any)["ear.status"] != r.Status {
			t.Errorf("%+v: the token's status is not the appraisal's", tc.o)
		}
	}
	for _, o := range []TrusteeOptions{
		{Profile: "prod", Resource: "default/kbsres1/key1"},
		{Profile: "default", Resource: "default/kbsres1"},
		{Profile: "default", Resource: "default/kbsres1/key1", TEE: "sgx"},
	} {
		if _, err := Trustee(context.Background(), res, o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

func TestMergePatch(t *testing.T) {
	target := map[string]any{"a": map[string]any{"b": 1, "c": 2}, "d": 3}
	got, _ := json.Marshal(mergePatch(target, map[string]any{"a": map[string]any{"b": nil, "e": 4}, "d": []any{5}}))
	if string(got) != `{"a":{"c":2,"e":4},"d":[5]}` {
		t.Errorf("mergePatch: %s", got)
	}
	if _, ok := target["a"].(map[string]any)["b"]; !ok {
		t.Error("mergePatch changed its target")
	}
}

// TestPreviousInitDataAttestsUntilItsTime: a pod that started with the default profile's init-data before a
// policy change gets its secrets from the rendered policies while referenceValues.previous keeps that
// init-data, up to the entry's time, and not after; a guest with any other init-data never does.
func TestPreviousInitDataAttestsUntilItsTime(t *testing.T) {
	root := t.TempDir()
	for _, dir := range []string{"values", "policies", "overlays"} {
		if err := os.CopyFS(filepath.Join(root, dir), os.DirFS(filepath.Join("../..", dir))); err != nil {
			t.Fatal(err)
		}
	}
	old := render(t).Profiles["default"].Digests.Digest
	edit := func(rel, from, to string) {
		p := filepath.Join(root, rel)
		data, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(data), from) {
			t.Fatalf("%s: %v, or no %q", rel, err, from)
		}
		if err := os.WriteFile(p, []byte(strings.Replace(string(data), from, to, 1)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	edit("policies/agent/default.rego", "default ReadStreamRequest := false", "default ReadStreamRequest := true")
	edit("values/values-global.yaml", "        expiration: \"2027-12-31T00:00:00Z\"\n",
		"        expiration: \"2027-12-31T00:00:00Z\"\n        previous:\n          - {profile: default, digest: \"sha256:"+old+"\", until: \"2026-12-14T00:00:00Z\"}\n")
	res, err := pipeline.Render(disk(t, root, filepath.Join(root, "values"), pipeline.Request{All: true}))
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		initData, at string
		released     bool
	}{
		{"sha256:" + old, "2026-12-13T23:59:59Z", true},
		{"sha256:" + old, "2026-12-14T00:00:00Z", false},
		{"", "2027-06-01T00:00:00Z", true}, // the current init-data
		{"sha256:" + strings.Repeat("0", 64), "2026-12-01T00:00:00Z", false},
	} {
		for _, tee := range []string{"az-snp-vtpm", "snp", "tdx"} {
			r, err := Trustee(context.Background(), res, TrusteeOptions{Profile: "default", Resource: "default/kbsres1/key1", TEE: tee, InitData: c.initData, At: at(c.at)})
			if err != nil {
				t.Fatal(err)
			}
			// The binding decides configuration on every TEE; on bare metal the built-in pattern pins no pod VM
			// measurement, so only Azure releases the secret.
			configuration := map[bool]int64{true: 2, false: 96}[c.released]
			if r.TrustVector["configuration"] != configuration || (c.released && r.TokenProfile != "default") ||
				(tee == "az-snp-vtpm" && r.Released != c.released) {
				t.Errorf("%s init-data %q at %s: %s (%s), configuration %d; want released %v", tee, c.initData, c.at, r.Decision, r.Reason, r.TrustVector["configuration"], c.released)
			}
		}
	}
}

// disk points req at a repository on disk, as the commands do (repo.Locate).
func disk(t testing.TB, root, valuesDir string, req pipeline.Request) pipeline.Request {
	t.Helper()
	loc, err := repo.Locate(root, valuesDir)
	if err != nil {
		t.Fatal(err)
	}
	req.At(loc, valuesDir)
	return req
}
