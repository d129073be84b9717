package secrets

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	dynamicfake "k8s.io/client-go/dynamic/fake"

	"github.com/cocogen/cocogen/internal/metadata"
	"github.com/cocogen/cocogen/internal/srcpos"
)

var spec = Spec{
	Pattern: "cocogen", VaultMount: "secret", VaultPrefix: "hub", TrustAnchorMode: "ca", CertificatePath: "values/kbs-ca.crt",
	Resources: []Resource{
		{Name: "attestation-status", Keys: []string{"status", "random"}},
		{Name: "kbsres1", Keys: []string{"key1", "key2", "key3"}},
		{Name: "security-policy", Keys: []string{"insecure", "signed", "reject"}},
	},
}

var now = time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)

func mustInit(t *testing.T, o InitOptions) *InitResult {
	t.Helper()
	if o.Now.IsZero() {
		o.Now = now
	}
	r, err := Init(o)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func encode(t *testing.T, f *File) []byte {
	t.Helper()
	data, err := Encode("header", f)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func value(t *testing.T, f *File, secret, field string) string {
	t.Helper()
	s := f.Find(secret)
	if s == nil || s.Field(field) == nil || s.Field(field).Value == nil {
		t.Fatalf("no value for %s/%s", secret, field)
	}
	return *s.Field(field).Value
}

func TestInitWritesEverythingTheValuesNeed(t *testing.T) {
	r := mustInit(t, InitOptions{Spec: spec})
	if !r.Changed || r.Cert == nil {
		t.Fatalf("a first init must write the file and the certificate")
	}
	data := encode(t, r.File)
	back, err := Parse("values-secret.yaml", data)
	if err != nil {
		t.Fatalf("the written file does not parse: %v\n%s", err, data)
	}
	var names []string
	for _, s := range back.Secrets {
		names = append(names, s.Name+"@"+strings.Join(s.Prefixes(), ","))
	}
	if got, want := strings.Join(names, " "), "kbsPublicKey@hub kbsPrivateKey@kbs-admin kbsCA@hub attestation-status@hub kbsres1@hub security-policy@hub"; got != want {
		t.Errorf("secrets %s, want %s", got, want)
	}

	// The admin key pair: ed25519, public half of the private one.
	block, _ := pem.Decode([]byte(value(t, back, AdminPrivateKey, AdminPrivateKeyField)))
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	block, _ = pem.Decode([]byte(value(t, back, AdminPublicKey, AdminPublicKeyField)))
	p, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !k.(ed25519.PrivateKey).Public().(ed25519.PublicKey).Equal(p) {
		t.Error("kbsPublicKey is not the public half of kbsPrivateKey")
	}

	// The certificate is the CA key's, and the metadata's trust anchor check accepts it in mode ca.
	ca, err := parsePrivateKey(value(t, back, CA, CAField))
	if err != nil {
		t.Fatal(err)
	}
	if err := certMatchesKey(r.Cert, ca); err != nil {
		t.Error(err)
	}
	if strings.Contains(string(r.Cert), "PRIVATE") {
		t.Error("the certificate file holds a private key")
	}
	m := &metadata.Metadata{Source: "cluster-metadata.yaml"}
	m.KBS.TrustAnchor.Mode = metadata.Field{Value: "ca", Set: true}
	m.KBS.TrustAnchor.Certificate = metadata.Field{Value: spec.CertificatePath, Set: true, Pos: srcpos.Pos{File: "cluster-metadata.yaml", Line: 1, Col: 1}}
	if _, d := m.CheckTrustAnchor(r.Cert, now); d.HasErrors() {
		t.Errorf("the trust anchor check refuses the certificate: %v", d.Sorted())
	}

	// Choices get their defaults without a terminal; secrets are random and distinct.
	if got := value(t, back, "attestation-status", "status"); got != "attested" {
		t.Errorf("attestation-status/status = %q", got)
	}
	if got := value(t, back, "security-policy", "insecure"); !strings.Contains(got, "insecureAcceptAnything") {
		t.Errorf("security-policy/insecure = %q", got)
	}
	for _, f := range []string{"signed", "reject"} {
		var pol struct{ Default []struct{ Type string } }
		if err := json.Unmarshal([]byte(value(t, back, "security-policy", f)), &pol); err != nil || len(pol.Default) != 1 || pol.Default[0].Type != "reject" {
			t.Errorf("security-policy/%s does not reject every image: %v %+v", f, err, pol)
		}
	}
	seen := map[string]bool{}
	for _, id := range []string{"kbsres1/key1", "kbsres1/key2", "kbsres1/key3", "attestation-status/random"} {
		s, f, _ := strings.Cut(id, "/")
		v := value(t, back, s, f)
		if raw, err := base64.RawURLEncoding.DecodeString(v); err != nil || len(raw) != 32 || seen[v] {
			t.Errorf("%s is not a fresh 32-byte random value", id)
		}
		seen[v] = true
	}
}

func TestInitKeepsWhatExists(t *testing.T) {
	first := mustInit(t, InitOptions{Spec: spec})
	data := encode(t, first.File)
	existing, err := Parse("f", data)
	if err != nil {
		t.Fatal(err)
	}
	again := mustInit(t, InitOptions{Spec: spec, Existing: existing, ExistingCert: first.Cert})
	if again.Changed || again.Cert != nil || len(again.Notes) != 0 {
		t.Errorf("a second init changed something: changed=%v cert=%v notes=%v", again.Changed, again.Cert != nil, again.Notes)
	}
	if !bytes.Equal(encode(t, again.File), data) {
		t.Error("a second init encodes different bytes")
	}

	t.Run("a new key of a resource is added, the rest kept", func(t *testing.T) {
		sp := spec
		sp.Resources = append([]Resource{}, spec.Resources...)
		sp.Resources[1] = Resource{Name: "kbsres1", Keys: []string{"key1", "key2", "key3", "key4"}}
		sp.Resources = append(sp.Resources, Resource{Name: "passphrase", Keys: []string{"passphrase"}})
		r := mustInit(t, InitOptions{Spec: sp, Existing: existing, ExistingCert: first.Cert})
		if !r.Changed || r.Cert != nil {
			t.Fatalf("changed=%v cert=%v", r.Changed, r.Cert != nil)
		}
		if got := strings.Join(r.Notes, "\n"); got != "kbsres1: added key4\npassphrase: created (passphrase)" {
			t.Errorf("notes:\n%s", got)
		}
		for _, f := range []string{"key1", "key2", "key3"} {
			if value(t, r.File, "kbsres1", f) != value(t, existing, "kbsres1", f) {
				t.Errorf("kbsres1/%s changed", f)
			}
		}
	})
	t.Run("rotating a resource replaces its values and says what it means", func(t *testing.T) {
		r := mustInit(t, InitOptions{Spec: spec, Existing: existing, ExistingCert: first.Cert, Rotate: []string{"kbsres1"}})
		if value(t, r.File, "kbsres1", "key1") == value(t, existing, "kbsres1", "key1") {
			t.Error("kbsres1/key1 kept its value")
		}
		if value(t, r.File, AdminPrivateKey, AdminPrivateKeyField) != value(t, existing, AdminPrivateKey, AdminPrivateKeyField) {
			t.Error("the admin key changed")
		}
		if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "attestation and init-data do not change") {
			t.Errorf("notes %v", r.Notes)
		}
	})
	t.Run("rotating the CA writes a new certificate and warns about init-data", func(t *testing.T) {
		r := mustInit(t, InitOptions{Spec: spec, Existing: existing, ExistingCert: first.Cert, Rotate: []string{CA}})
		if r.Cert == nil || bytes.Equal(r.Cert, first.Cert) || value(t, r.File, CA, CAField) == value(t, existing, CA, CAField) {
			t.Fatal("the CA was not replaced")
		}
		if len(r.Notes) != 1 || !strings.Contains(r.Notes[0], "every init-data profile's digest changes") {
			t.Errorf("notes %v", r.Notes)
		}
	})
	t.Run("rotating the public key replaces the pair", func(t *testing.T) {
		r := mustInit(t, InitOptions{Spec: spec, Existing: existing, ExistingCert: first.Cert, Rotate: []string{AdminPublicKey}})
		if value(t, r.File, AdminPrivateKey, AdminPrivateKeyField) == value(t, existing, AdminPrivateKey, AdminPrivateKeyField) {
			t.Error("the private key was kept")
		}
		if err := checkAdminPair(r.File.Find(AdminPublicKey), r.File.Find(AdminPrivateKey)); err != nil {
			t.Error(err)
		}
	})
	t.Run("a missing certificate is issued again for the same key", func(t *testing.T) {
		r := mustInit(t, InitOptions{Spec: spec, Existing: existing})
		ca, _ := parsePrivateKey(value(t, existing, CA, CAField))
		if r.Cert == nil || certMatchesKey(r.Cert, ca) != nil || r.Changed {
			t.Errorf("cert=%v changed=%v", r.Cert != nil, r.Changed)
		}
	})
	t.Run("a certificate of another key is an error", func(t *testing.T) {
		other := mustInit(t, InitOptions{Spec: spec})
		_, err := Init(InitOptions{Spec: spec, Existing: existing, ExistingCert: other.Cert, Now: now})
		if err == nil || !strings.Contains(err.Error(), "--rotate kbsCA") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("unknown names are errors", func(t *testing.T) {
		for _, o := range []InitOptions{
			{Spec: spec, Rotate: []string{"nope"}},
			{Spec: spec, Values: map[string]string{"kbsres1/nope": "x"}},
			{Spec: spec, Values: map[string]string{"kbsCA/key": "x"}},
		} {
			if _, err := Init(o); err == nil {
				t.Errorf("%+v: no error", o)
			}
		}
	})
	t.Run("a chosen value replaces the field and is asked for nothing else", func(t *testing.T) {
		asked := 0
		r := mustInit(t, InitOptions{Spec: spec, Existing: existing, ExistingCert: first.Cert,
			Values: map[string]string{"security-policy/signed": `{"default":[{"type":"sigstoreSigned"}]}`},
			Ask:    func(string, string, string, string) (string, error) { asked++; return "", nil }})
		if value(t, r.File, "security-policy", "signed") != `{"default":[{"type":"sigstoreSigned"}]}` || asked != 0 {
			t.Errorf("signed = %q, asked %d times", value(t, r.File, "security-policy", "signed"), asked)
		}
	})
}

func TestInitAsksForChoices(t *testing.T) {
	var asked []string
	r := mustInit(t, InitOptions{Spec: spec, Ask: func(s, f, _, def string) (string, error) {
		asked = append(asked, s+"/"+f)
		if f == "status" {
			return "ok-attested", nil
		}
		return "", nil
	}})
	if got := strings.Join(asked, " "); got != "attestation-status/status security-policy/signed" {
		t.Errorf("asked for %s", got)
	}
	if value(t, r.File, "attestation-status", "status") != "ok-attested" || !strings.Contains(value(t, r.File, "security-policy", "signed"), "reject") {
		t.Error("the answers were not taken")
	}
}

func TestParseRefusesWhatTheLoaderRefuses(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"version 1", "secrets: []\n", `version: is ""`},
		{"unknown key", "version: \"2.0\"\nsecret: []\n", "line 2: field secret not found"},
		{"empty prefixes", "version: \"2.0\"\nsecrets:\n- name: a\n  vaultPrefixes: []\n  fields: [{name: x, value: y}]\n", "vaultPrefixes is empty"},
		{"no fields", "version: \"2.0\"\nsecrets:\n- name: a\n", "no fields"},
		{"duplicate", "version: \"2.0\"\nsecrets:\n- {name: a, fields: [{name: x, value: y}]}\n- {name: a, fields: [{name: x, value: y}]}\n", "a second secret"},
		{"value and generate", "version: \"2.0\"\nsecrets:\n- {name: a, fields: [{name: x, value: y, onMissingValue: generate}]}\n", "has a value and onMissingValue: generate"},
		{"path traversal", "version: \"2.0\"\nsecrets:\n- {name: a, vaultPrefixes: [../x], fields: [{name: x, value: y}]}\n", "vault prefix"},
		{"shell in a name", "version: \"2.0\"\nsecrets:\n- {name: a;rm, fields: [{name: x, value: y}]}\n", "use letters"},
		{"two documents", "version: \"2.0\"\nsecrets: []\n---\nx: 1\n", "a second YAML document"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("f.yaml", []byte(c.in))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want %q", err, c.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	r, err := Init(InitOptions{Spec: spec, Now: now})
	if err != nil {
		f.Fatal(err)
	}
	data, err := Encode("h", r.File)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("version: \"2.0\"\nsecrets:\n- {name: a, fields: [{name: x, path: ~/x, base64: true}]}\n"))
	f.Add([]byte("a: &a [*a, *a]\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		file, err := Parse("f", in)
		if err != nil {
			return
		}
		// What parses encodes, and parses again to the same file.
		out, err := Encode("h", file)
		if err != nil {
			t.Fatal(err)
		}
		again, err := Parse("f", out)
		if err != nil {
			t.Fatalf("the encoding of a parsed file does not parse: %v\n%s", err, out)
		}
		if !sameFile(file, again) {
			t.Fatalf("parse(encode(f)) differs from f")
		}
	})
}

// fakeVault is an Executor that plays the Vault pod: it checks the command and reads the token and the
// secret from stdin as the script does.
type fakeVault struct {
	token  string
	stored map[string]map[string]string
	fail   string // a path whose put fails, echoing its input as Vault might
}

func (v *fakeVault) Exec(_ context.Context, ns, pod, _ string, cmd []string, stdin io.Reader, _, stderr io.Writer) error {
	if ns != "vault" || pod != "vault-0" {
		return errors.New("wrong pod")
	}
	if len(cmd) != 6 || cmd[0] != "sh" || cmd[2] != putScript {
		return errors.New("unexpected command")
	}
	in, _ := io.ReadAll(stdin)
	tok, body, _ := strings.Cut(string(in), "\n")
	if tok != v.token {
		return errors.New("permission denied")
	}
	path := cmd[4] + "/data/" + cmd[5]
	if path == v.fail {
		io.WriteString(stderr, "error writing "+string(in))
		return errors.New("command terminated with exit code 2")
	}
	var data map[string]string
	if err := json.Unmarshal([]byte(body), &data); err != nil {
		return err
	}
	v.stored[path] = data
	return nil
}

func vaultKeys(t *testing.T, token string) *dynamicfake.FakeDynamicClient {
	t.Helper()
	js, _ := json.Marshal(map[string]any{"root_token": token, "unseal_keys_hex": []string{"aa"}})
	s := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": UnsealSecret, "namespace": UnsealNamespace},
		"data":     map[string]any{UnsealSecretKey: base64.StdEncoding.EncodeToString(js)},
	}}
	return dynamicfake.NewSimpleDynamicClient(runtime.NewScheme(), s)
}

func TestLoad(t *testing.T) {
	r := mustInit(t, InitOptions{Spec: spec})
	file := r.File
	file.Secrets = append(file.Secrets, Secret{Name: "fromfile", VaultPrefixes: []string{"hub", "global"}, Fields: []Field{{Name: "content", Path: "~/content.txt", Base64: true}}})
	readFile := func(p string) ([]byte, error) {
		if p != "~/content.txt" {
			return nil, errors.New("no such file")
		}
		return []byte("file-content"), nil
	}
	v := &fakeVault{token: "hvs.root", stored: map[string]map[string]string{}}
	var progress bytes.Buffer
	res, err := Load(context.Background(), file, LoadOptions{Dynamic: vaultKeys(t, "hvs.root"), Exec: v, ReadFile: readFile, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	if res.Secrets != 8 || len(res.Paths) != 8 {
		t.Errorf("stored %d of %d secrets", len(res.Paths), res.Secrets)
	}
	if got := v.stored["secret/data/hub/kbsres1"]["key2"]; got != value(t, file, "kbsres1", "key2") {
		t.Errorf("kbsres1/key2 stored as %q", got)
	}
	if _, ok := v.stored["secret/data/kbs-admin/kbsPrivateKey"]; !ok {
		t.Error("the admin private key is not under kbs-admin/")
	}
	if _, ok := v.stored["secret/data/hub/kbsPrivateKey"]; ok {
		t.Error("the admin private key is under hub/, where the ExternalSecrets read")
	}
	if got := v.stored["secret/data/global/fromfile"]["content"]; got != base64.StdEncoding.EncodeToString([]byte("file-content")) {
		t.Errorf("a base64 path field stored as %q", got)
	}
	for _, line := range strings.Split(strings.TrimSpace(progress.String()), "\n") {
		if !strings.HasPrefix(line, "stored secret/data/") {
			t.Errorf("progress line %q", line)
		}
	}
	for _, s := range file.Secrets {
		for _, f := range s.Fields {
			if f.Value != nil && strings.Contains(progress.String(), strings.TrimSpace(*f.Value)) {
				t.Errorf("progress shows the value of %s/%s", s.Name, f.Name)
			}
		}
	}

	t.Run("errors never show the token or a value", func(t *testing.T) {
		v := &fakeVault{token: "hvs.root", stored: map[string]map[string]string{}, fail: "secret/data/hub/kbsres1"}
		_, err := Load(context.Background(), file, LoadOptions{Dynamic: vaultKeys(t, "hvs.root"), Exec: v, ReadFile: readFile})
		if err == nil || !strings.Contains(err.Error(), "store secret/data/hub/kbsres1") {
			t.Fatalf("err = %v", err)
		}
		if strings.Contains(err.Error(), "hvs.root") || strings.Contains(err.Error(), value(t, file, "kbsres1", "key1")) {
			t.Errorf("the error shows a secret: %v", err)
		}
	})
	t.Run("no unseal secret", func(t *testing.T) {
		_, err := Load(context.Background(), file, LoadOptions{Dynamic: dynamicfake.NewSimpleDynamicClient(runtime.NewScheme()), Exec: v, ReadFile: readFile})
		if err == nil || !strings.Contains(err.Error(), "secret imperative/vaultkeys not found") {
			t.Errorf("err = %v", err)
		}
	})
	t.Run("a field to generate is refused before Vault is touched", func(t *testing.T) {
		f := &File{Version: "2.0", Secrets: []Secret{{Name: "a", Fields: []Field{{Name: "x", OnMissingValue: "generate"}}}}}
		v := &fakeVault{token: "hvs.root", stored: map[string]map[string]string{}}
		_, err := Load(context.Background(), f, LoadOptions{Dynamic: vaultKeys(t, "hvs.root"), Exec: v})
		if err == nil || !strings.Contains(err.Error(), "generate is not supported") || len(v.stored) != 0 {
			t.Errorf("err = %v, stored %d", err, len(v.stored))
		}
	})
}

func TestRootTokenFormat(t *testing.T) {
	c := vaultKeys(t, "hvs.abc")
	tok, err := RootToken(context.Background(), c)
	if err != nil || tok != "hvs.abc" {
		t.Fatalf("%q, %v", tok, err)
	}
	s, _ := c.Resource(secretsGVR).Namespace(UnsealNamespace).Get(context.Background(), UnsealSecret, metav1.GetOptions{})
	s.Object["data"] = map[string]any{UnsealSecretKey: "not base64!"}
	if _, err := c.Resource(secretsGVR).Namespace(UnsealNamespace).Update(context.Background(), s, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := RootToken(context.Background(), c); err == nil || !strings.Contains(err.Error(), "not base64") {
		t.Errorf("err = %v", err)
	}
}

// TestInitAsksForRegistryCredentials: a resource field that init-data names as registry credentials is a
// registry auth file the user gives (asked for; by default one that names no registry), never a random value.
func TestInitAsksForRegistryCredentials(t *testing.T) {
	s := spec
	s.Resources = append(append([]Resource{}, spec.Resources...), Resource{Name: "credential", Keys: []string{"regcred"}})
	s.RegistryCredentials = []string{"credential/regcred"}
	var asked []string
	r := mustInit(t, InitOptions{Spec: s, Ask: func(secret, field, description, def string) (string, error) {
		asked = append(asked, secret+"/"+field)
		if field == "regcred" && (def != `{"auths":{}}` || !strings.Contains(description, "pull-secret")) {
			t.Errorf("regcred asked with default %q and description %q", def, description)
		}
		return "", nil
	}})
	if !slices.Contains(asked, "credential/regcred") {
		t.Errorf("asked for %v", asked)
	}
	if got := value(t, r.File, "credential", "regcred"); got != `{"auths":{}}` {
		t.Errorf("regcred = %q", got)
	}
	// Chosen with --value, it is taken as it is; without a terminal, the default is.
	auth := `{"auths":{"quay.io":{"auth":"eDp5"}}}`
	r = mustInit(t, InitOptions{Spec: s, Values: map[string]string{"credential/regcred": auth}})
	if got := value(t, r.File, "credential", "regcred"); got != auth {
		t.Errorf("regcred = %q, want the chosen value", got)
	}
	r = mustInit(t, InitOptions{Spec: s})
	if got := value(t, r.File, "credential", "regcred"); got != `{"auths":{}}` {
		t.Errorf("regcred without a terminal = %q", got)
	}
	// The same field without the registry-credentials mark is a random value.
	s.RegistryCredentials = nil
	r = mustInit(t, InitOptions{Spec: s})
	if got := value(t, r.File, "credential", "regcred"); strings.HasPrefix(got, "{") || len(got) != 43 {
		t.Errorf("an ordinary field = %q, want 32 random bytes", got)
	}
}
