package agentpolicy

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

func TestImageNames(t *testing.T) {
	const digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tc := range []struct {
		image    string
		want     []string
		byDigest bool
	}{
		{"quay.io/openshifttest/hello-openshift:1.2.0", []string{"quay.io/openshifttest/hello-openshift:1.2.0"}, false},
		{"nginx", []string{"nginx", "docker.io/library/nginx:latest"}, false},
		{"nginx:1.27", []string{"nginx:1.27", "docker.io/library/nginx:1.27"}, false},
		{"bitnami/redis", []string{"bitnami/redis", "docker.io/bitnami/redis:latest"}, false},
		{"localhost/app", []string{"localhost/app", "localhost/app:latest"}, false},
		{"registry.example.com:5000/team/app", []string{"registry.example.com:5000/team/app", "registry.example.com:5000/team/app:latest"}, false},
		{"quay.io/a/b@" + digest, []string{"quay.io/a/b@" + digest}, true},
		{"quay.io/a/b:1.0@" + digest, []string{"quay.io/a/b:1.0@" + digest}, true},
		{"redis@" + digest, []string{"redis@" + digest, "docker.io/library/redis@" + digest}, true},
		{"quay.io/a/b@sha256:short", []string{"quay.io/a/b@sha256:short"}, false},
		{"", nil, false},
	} {
		got, byDigest := ImageNames(tc.image)
		if !slices.Equal(got, tc.want) || byDigest != tc.byDigest {
			t.Errorf("ImageNames(%q) = %q, %v; want %q, %v", tc.image, got, byDigest, tc.want, tc.byDigest)
		}
	}
}

func TestCapability(t *testing.T) {
	for in, want := range map[string]string{"NET_ADMIN": "CAP_NET_ADMIN", "cap_sys_admin": "CAP_SYS_ADMIN", "ALL": "ALL", " all ": "ALL", "CAP_KILL": "CAP_KILL"} {
		if got := Capability(in); got != want {
			t.Errorf("Capability(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestFinalizeWritesContainers: the containers become policy_data.containers, sorted, in the form the rules
// of default.rego read, and the policy then admits exactly them; a policy without the key gets none.
func TestFinalizeWritesContainers(t *testing.T) {
	uid := int64(1001)
	containers := []Container{
		{Workload: "Deployment demo/web", Name: "web", Image: "nginx:1.27", Args: []string{"nginx", "-g", "daemon off;"}, CapDrop: []string{"ALL"}, Mounts: []string{"/data", "/cache", "/data"}, RunAsNonRoot: true},
		{Workload: "Deployment demo/api", Name: "api", Image: "quay.io/example/api:2", CapAdd: []string{"CAP_NET_BIND_SERVICE"}, RunAsUser: &uid, SandboxPIDNS: true},
	}
	out, d := Finalize("default.rego", readPolicy(t, "default.rego"), PolicyData{Containers: containers}, Options{Kata: KataVersion{3, 21, 0}})
	if d.HasErrors() || len(d.Sorted()) > 0 {
		t.Fatalf("diagnostics: %v", d.Sorted())
	}
	again, _ := Finalize("default.rego", readPolicy(t, "default.rego"), PolicyData{Containers: []Container{containers[1], containers[0]}}, Options{Kata: KataVersion{3, 21, 0}})
	if string(out) != string(again) {
		t.Error("the order of the containers changes the policy")
	}
	mod, err := ast.ParseModule("p.rego", string(out))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := rego.New(rego.ParsedModule(mod), rego.Query("data.agent_policy.policy_data.containers")).Eval(context.Background())
	if err != nil || len(rs) != 1 {
		t.Fatalf("eval: %v %v", rs, err)
	}
	got, _ := json.Marshal(rs[0].Expressions[0].Value)
	want := `[{"args":null,"capabilities":{"add":["CAP_NET_BIND_SERVICE"],"drop":[]},"images":["quay.io/example/api:2"],"mounts":[],"name":"api","privileged":false,"run_as_non_root":false,"run_as_user":1001,"sandbox_pidns":true,"workload":"Deployment demo/api"},` +
		`{"args":["nginx","-g","daemon off;"],"capabilities":{"add":[],"drop":["ALL"]},"images":["nginx:1.27","docker.io/library/nginx:1.27"],"mounts":["/cache","/data"],"name":"web","privileged":false,"run_as_non_root":true,"run_as_user":null,"sandbox_pidns":false,"workload":"Deployment demo/web"}]`
	if string(got) != want {
		t.Errorf("policy_data.containers:\n%s\nwant\n%s", got, want)
	}
	if !ChecksContainers(readPolicy(t, "default.rego")) || ChecksContainers(readPolicy(t, "debug.rego")) {
		t.Error("default.rego checks containers, debug.rego does not")
	}
	dbg, d := Finalize("debug.rego", readPolicy(t, "debug.rego"), PolicyData{Containers: containers}, Options{})
	if d.HasErrors() || strings.Contains(string(dbg), "nginx") {
		t.Errorf("a policy without policy_data.containers got containers: %v", d.Sorted())
	}
}
