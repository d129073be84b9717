package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/dynamic"

	"github.com/cocogen/cocogen/internal/secrets"
)

// cloneBuiltin copies the built-in pattern into a repository under a temporary directory and returns it and
// a home directory beside it.
func cloneBuiltin(t *testing.T) (repo, home string) {
	t.Helper()
	tmp := t.TempDir()
	repo, home = filepath.Join(tmp, "repo"), filepath.Join(tmp, "home")
	for _, d := range []string{"values", "policies", "overlays"} {
		copyDir(t, filepath.Join("../..", d), filepath.Join(repo, d))
	}
	for _, d := range []string{filepath.Join(repo, ".git"), home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return repo, home
}

func runSecrets(t *testing.T, home string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	s := streams{in: strings.NewReader(""), out: &out, err: &errb}
	root := newRootCommand(s)
	for i, c := range root.Commands() {
		if c.Name() == "secrets" {
			root.RemoveCommand(root.Commands()[i])
			break
		}
	}
	root.AddCommand(newSecretsCommandWith(s, secretsDeps{
		now:  func() time.Time { return time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC) },
		home: func() (string, error) { return home, nil },
		cluster: func(string, string) (dynamic.Interface, secrets.Executor, string, error) {
			t.Fatal("no cluster in this test")
			return nil, nil, "", nil
		},
	}))
	code = run(root, args)
	return out.String(), errb.String(), code
}

// TestSecretsInit is the acceptance of issue 17's secrets init: the file has mode 0600 and holds the admin
// private key and the CA key, the certificate is at the metadata's path, a second run leaves both
// byte-identical, --output inside the repository is exit 1, and no private key reaches cocogen render --all.
func TestSecretsInit(t *testing.T) {
	repo, home := cloneBuiltin(t)
	t.Chdir(repo)
	cert := filepath.Join(repo, "values", "kbs-ca.crt")
	placeholder, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	before, stderr, code := runSecrets(t, home, "render", "--all")
	if code != 0 {
		t.Fatalf("render --all: exit %d\n%s", code, stderr)
	}
	out := filepath.Join(t.TempDir(), "values-secret.yaml")
	_, stderr, code = runSecrets(t, home, "secrets", "init", "--output-file", out)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	st, err := os.Stat(out)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", st.Mode().Perm())
	}
	data, _ := os.ReadFile(out)
	f, err := secrets.Parse(out, data)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{secrets.AdminPrivateKey, secrets.CA} {
		if sec := f.Find(s); sec == nil || sec.Fields[0].Value == nil || !strings.Contains(*sec.Fields[0].Value, "PRIVATE KEY") {
			t.Errorf("the file has no private key in %s", s)
		}
	}
	certData, _ := os.ReadFile(cert)
	if bytes.Equal(certData, placeholder) || !bytes.HasPrefix(certData, []byte("-----BEGIN CERTIFICATE-----")) {
		t.Errorf("%s was not replaced by the new CA's certificate", cert)
	}

	_, stderr, code = runSecrets(t, home, "secrets", "init", "--output-file", out)
	if code != 0 || !strings.Contains(stderr, "nothing changed") {
		t.Fatalf("second run: exit %d\n%s", code, stderr)
	}
	data2, _ := os.ReadFile(out)
	cert2, _ := os.ReadFile(cert)
	if !bytes.Equal(data, data2) || !bytes.Equal(certData, cert2) {
		t.Error("a second run changed the file or the certificate")
	}

	for _, inside := range []string{filepath.Join(repo, "values-secret.yaml"), "values/x.yaml", filepath.Join(repo, "values", "..", "y.yaml")} {
		_, stderr, code = runSecrets(t, home, "secrets", "init", "--output", inside)
		if code != 1 || !strings.Contains(stderr, "inside the repository") {
			t.Errorf("--output %s: exit %d\n%s", inside, code, stderr)
		}
		if _, err := os.Stat(inside); err == nil {
			t.Errorf("%s was written", inside)
		}
	}

	// The default file is in the home directory, named after the pattern.
	_, stderr, code = runSecrets(t, home, "secrets", "init")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(home, "values-secret-cocogen.yaml")); err != nil {
		t.Error(err)
	}

	// Render everything: no line of any private key's PEM body appears.
	rendered, stderr, code := runSecrets(t, home, "render", "--all")
	if code != 0 {
		t.Fatalf("render --all: exit %d\n%s", code, stderr)
	}
	var keys []string
	for _, name := range []string{out, filepath.Join(home, "values-secret-cocogen.yaml")} {
		data, _ := os.ReadFile(name)
		f, _ := secrets.Parse(name, data)
		for _, s := range f.Secrets {
			for _, fl := range s.Fields {
				if fl.Value != nil && len(*fl.Value) >= 16 {
					keys = append(keys, *fl.Value)
				}
			}
		}
	}
	body := regexp.MustCompile(`(?s)-----BEGIN [A-Z ]*PRIVATE KEY-----\n(.*?)-----END`)
	n := 0
	for _, k := range keys {
		for _, m := range body.FindAllStringSubmatch(k, -1) {
			for _, line := range strings.Fields(m[1]) {
				n++
				if strings.Contains(rendered, line) {
					t.Errorf("render --all contains a line of a private key")
				}
			}
		}
		if !strings.Contains(k, "-----") && strings.Contains(rendered, k) {
			t.Errorf("render --all contains a secret value")
		}
	}
	if n < 4 || strings.Contains(rendered, "PRIVATE KEY") {
		t.Errorf("checked %d key lines; PRIVATE KEY in the render: %v", n, strings.Contains(rendered, "PRIVATE KEY"))
	}
	if rendered == before {
		t.Error("render --all did not change with the new CA certificate (init-data embeds it)")
	}
}

func TestSecretsRotateUnknown(t *testing.T) {
	repo, home := cloneBuiltin(t)
	t.Chdir(repo)
	_, stderr, code := runSecrets(t, home, "secrets", "init", "--rotate", "nope")
	if code != 1 || !strings.Contains(stderr, "--rotate nope: no such secret (valid: kbsPublicKey, kbsPrivateKey, kbsCA, attestation-status, kbsres1, passphrase, security-policy)") {
		t.Errorf("exit %d\n%s", code, stderr)
	}
}

// TestSecretsInitRegistryCredentials: the bare-metal group's profiles name credential/regcred as their
// registry credentials, so secrets init writes a registry auth file there (the one given with --value, else one
// that names no registry), not a random value; the Azure group names none.
func TestSecretsInitRegistryCredentials(t *testing.T) {
	repo, home := cloneBuiltin(t)
	t.Chdir(repo)
	auth := filepath.Join(home, "regcred.json")
	if err := os.WriteFile(auth, []byte(`{"auths":{"quay.io":{"auth":"eDp5"}}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--cluster-group", "baremetal"}, `{"auths":{}}`},
		{[]string{"--cluster-group", "baremetal", "--value", "credential/regcred=@" + auth}, `{"auths":{"quay.io":{"auth":"eDp5"}}}`},
	} {
		out := filepath.Join(t.TempDir(), "values-secret.yaml")
		_, stderr, code := runSecrets(t, home, append([]string{"secrets", "init", "--output-file", out}, c.args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s", c.args, code, stderr)
		}
		data, _ := os.ReadFile(out)
		f, err := secrets.Parse(out, data)
		if err != nil {
			t.Fatal(err)
		}
		sec := f.Find("credential")
		if sec == nil || sec.Field("regcred") == nil || sec.Field("regcred").Value == nil || strings.TrimSpace(*sec.Field("regcred").Value) != c.want {
			t.Errorf("%v: credential/regcred is not %s", c.args, c.want)
		}
	}
	out := filepath.Join(t.TempDir(), "values-secret.yaml")
	if _, stderr, code := runSecrets(t, home, "secrets", "init", "--output-file", out); code != 0 {
		t.Fatalf("azure: exit %d\n%s", code, stderr)
	}
	data, _ := os.ReadFile(out)
	if f, err := secrets.Parse(out, data); err != nil || f.Find("credential") != nil {
		t.Errorf("the azure group has a credential secret: %v", err)
	}
}
