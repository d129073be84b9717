package pipeline

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cocogen/cocogen/internal/initdata"
)

// TestBuiltinPatternProfiles renders the repository's own init-data profiles and checks that what is encoded
// decodes to the readable TOML, that the digests are those of the same bytes, and that the TOML carries the
// metadata's KBS endpoint and trust anchor.
func TestBuiltinPatternProfiles(t *testing.T) {
	res, err := Render(disk(t, "../..", "../../values", Request{}))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(res.ProfileNames, ","); got != "debug,default" {
		t.Fatalf("profiles %s", got)
	}
	ca, err := os.ReadFile("../../values/kbs-ca.crt")
	if err != nil {
		t.Fatal(err)
	}
	caBody := strings.Split(strings.TrimSpace(string(ca)), "\n")[1] // a line of the base64 body
	for _, name := range res.ProfileNames {
		p, err := res.Profile(name)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := initdata.Decode([]byte(p.Encoded))
		if err != nil {
			t.Fatalf("%s: encoded init-data does not decode: %v", name, err)
		}
		if !bytes.Equal(dec.TOML, p.TOML) {
			t.Errorf("%s: decoded TOML differs from the rendered TOML", name)
		}
		want, _ := initdata.ComputeDigests(initdata.SHA256, p.TOML)
		if dec.Digests != want || p.Digests != want {
			t.Errorf("%s: digests disagree: %+v / %+v / %+v", name, p.Digests, dec.Digests, want)
		}
		text := string(p.TOML)
		for _, s := range []string{"https://kbs.apps.coco.example.com", caBody, "kbs:///default/security-policy/insecure", "package agent_policy"} {
			if !strings.Contains(text, s) {
				t.Errorf("%s: init-data lacks %q", name, s)
			}
		}
	}
	def, _ := res.Profile("default")
	dbg, _ := res.Profile("debug")
	if def.Digests.Digest == dbg.Digests.Digest {
		t.Errorf("default and debug profiles have the same digest")
	}
	if _, err := res.Profile("nope"); err == nil || !strings.Contains(err.Error(), "debug") {
		t.Errorf("unknown profile: %v", err)
	}
}

// TestProfileErrorsPointAtTheirSource breaks the sources of a profile in a copy of the repository and checks
// the diagnostics name the file and position.
func TestProfileErrorsPointAtTheirSource(t *testing.T) {
	cases := []struct {
		name, file, old, new, want string
	}{
		{"policy with a forbidden builtin", "policies/agent/default.rego", "default AddARPNeighborsRequest := true",
			"default AddARPNeighborsRequest := true\n\nnow := time.now_ns()", "time.now_ns"},
		{"profile naming a missing policy", "values/values-global.yaml", "agentPolicy: debug", "agentPolicy: debg", "policies/agent/debg.rego"},
		{"unknown default profile", "values/values-global.yaml", "default: default", "default: defualt", `did you mean "default"?`},
		{"bad algorithm", "values/values-global.yaml", "agentPolicy: debug", "agentPolicy: debug\n          algorithm: md5", `invalid value "md5"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, sub := range []string{"values", "policies"} {
				copyTree(t, filepath.Join("../..", sub), filepath.Join(dir, sub))
			}
			p := filepath.Join(dir, c.file)
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(data, []byte(c.old)) {
				t.Fatalf("%s has no %q", c.file, c.old)
			}
			if err := os.WriteFile(p, bytes.Replace(data, []byte(c.old), []byte(c.new), 1), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err = Render(disk(t, dir, filepath.Join(dir, "values"), Request{}))
			if err == nil || !IsUserError(err) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an input error containing %q, got %v", c.want, err)
			}
		})
	}
}

func copyTree(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
}
