package initdata

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/parts")

// templates reads the repository's own aa.toml and cdh.toml templates.
func templates(t *testing.T) (aa, cdh []byte) {
	t.Helper()
	aa, err := os.ReadFile(filepath.Join("..", "..", AATemplatePath))
	if err != nil {
		t.Fatal(err)
	}
	cdh, err = os.ReadFile(filepath.Join("..", "..", CDHTemplatePath))
	if err != nil {
		t.Fatal(err)
	}
	return aa, cdh
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./internal/initdata -update writes it)", err)
	}
	if string(want) != string(got) {
		t.Errorf("%s differs (go test ./internal/initdata -update rewrites it); got:\n%s", path, got)
	}
}

// TestRenderPartsGolden renders the repository's templates in the CA and the public-CA mode, and the whole
// init-data document built from them, whose digest an attestation policy would pin.
func TestRenderPartsGolden(t *testing.T) {
	aaTmpl, cdhTmpl := templates(t)
	ca := string(readTestdata(t, "kbs-ca.crt"))
	cases := []struct {
		name string
		data PartsData
	}{
		{"ca", PartsData{KBSURL: "https://kbs.apps.coco.example.com", TrustAnchor: ca, SecurityPolicyFlavour: "signed"}},
		{"public", PartsData{KBSURL: "https://kbs.apps.coco.example.com", SecurityPolicyFlavour: "insecure"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			aa, cdh, err := RenderParts(aaTmpl, cdhTmpl, c.data)
			if err != nil {
				t.Fatal(err)
			}
			aa2, cdh2, _ := RenderParts(aaTmpl, cdhTmpl, c.data)
			if string(aa) != string(aa2) || string(cdh) != string(cdh2) {
				t.Errorf("two renders differ")
			}
			dir := filepath.Join("testdata", "parts", c.name)
			golden(t, filepath.Join(dir, "aa.toml"), aa)
			golden(t, filepath.Join(dir, "cdh.toml"), cdh)
			hasCert := strings.Contains(string(aa), "cert = ") || strings.Contains(string(cdh), "kbs_cert = ")
			if hasCert != (c.data.TrustAnchor != "") {
				t.Errorf("certificate embedded: %v, want %v", hasCert, c.data.TrustAnchor != "")
			}
			if strings.Contains(string(aa)+string(cdh), "{{") || strings.Contains(string(aa)+string(cdh), "cocogen renders") {
				t.Errorf("template syntax or comments leaked into the output")
			}
			doc, err := Render(Document{Algorithm: SHA256, AA: string(aa), CDH: string(cdh)})
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "initdata.toml"), doc)
			d, err := Decode([]byte(Encode(doc)))
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := d.Get(KeyCDH); got != string(cdh) {
				t.Errorf("cdh.toml does not survive the init-data round trip")
			}
		})
	}
}

func TestRenderPartsPEMIsCanonical(t *testing.T) {
	aaTmpl, cdhTmpl := templates(t)
	ca := string(readTestdata(t, "kbs-ca.crt"))
	want, _, err := RenderParts(aaTmpl, cdhTmpl, PartsData{KBSURL: "https://kbs.example.com", TrustAnchor: ca, SecurityPolicyFlavour: "signed"})
	if err != nil {
		t.Fatal(err)
	}
	for name, pemText := range map[string]string{
		"CRLF line ends":           strings.ReplaceAll(ca, "\n", "\r\n"),
		"openssl text around it":   "Certificate:\n    Data:\n        Version: 3 (0x2)\n" + ca + "\n\n",
		"no final newline":         strings.TrimSpace(ca),
		"surrounded by blank line": "\n\n" + ca + "\n\n",
	} {
		got, _, err := RenderParts(aaTmpl, cdhTmpl, PartsData{KBSURL: "https://kbs.example.com", TrustAnchor: pemText, SecurityPolicyFlavour: "signed"})
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if string(got) != string(want) {
			t.Errorf("%s: output differs:\n%s", name, got)
		}
	}
	// Two certificates (a CA bundle) stay two.
	second := testCertificate(t)
	aa, _, err := RenderParts(aaTmpl, cdhTmpl, PartsData{KBSURL: "https://kbs.example.com", TrustAnchor: ca + second, SecurityPolicyFlavour: "signed"})
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(aa), "-----BEGIN CERTIFICATE-----"); n != 2 {
		t.Errorf("%d certificates in aa.toml, want 2", n)
	}
}

func testCertificate(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestRenderPartsErrors(t *testing.T) {
	aaTmpl, cdhTmpl := templates(t)
	ca := string(readTestdata(t, "kbs-ca.crt"))
	ok := PartsData{KBSURL: "https://kbs.example.com", TrustAnchor: ca, SecurityPolicyFlavour: "signed"}
	with := func(f func(*PartsData)) PartsData { d := ok; f(&d); return d }
	cases := []struct {
		name     string
		aa, cdh  string // "" uses the repository's template
		data     PartsData
		want     string
		wantLine string // the template position the message must carry
	}{
		{name: "empty KBS URL", data: with(func(d *PartsData) { d.KBSURL = "" }), want: "init-data parts: the KBS URL is empty"},
		{name: "KBS URL without scheme", data: with(func(d *PartsData) { d.KBSURL = "kbs.example.com" }), want: `init-data parts: the KBS URL "kbs.example.com" is not an http:// or https:// URL`},
		{name: "KBS URL with a quote", data: with(func(d *PartsData) { d.KBSURL = `https://kbs.example.com/"x` }), want: `init-data parts: the KBS URL "https://kbs.example.com/\"x" is not an http:// or https:// URL`},
		{name: "KBS URL with a query", data: with(func(d *PartsData) { d.KBSURL = "https://kbs.example.com/?a=b" }), want: `init-data parts: the KBS URL "https://kbs.example.com/?a=b" has a query, fragment or user part; the guest needs scheme, host, port and path only`},
		{name: "no flavour", data: with(func(d *PartsData) { d.SecurityPolicyFlavour = "" }), want: "init-data parts: the security policy flavour is empty: it names the image security policy resource (e.g. insecure, signed or reject)"},
		{name: "flavour with a slash", data: with(func(d *PartsData) { d.SecurityPolicyFlavour = "a/b" }), want: `init-data parts: the security policy flavour "a/b" is not a KBS resource tag (letters, digits, '.', '_', '-')`},
		{name: "not PEM", data: with(func(d *PartsData) { d.TrustAnchor = "hello" }), want: "init-data parts: trust anchor: no PEM block found: expected -----BEGIN CERTIFICATE-----"},
		{name: "a private key", data: with(func(d *PartsData) {
			d.TrustAnchor = ca + "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF\n-----END PRIVATE KEY-----\n"
		}), want: "init-data parts: trust anchor: PEM block 2 is a PRIVATE KEY, not a CERTIFICATE: only public certificates belong in init-data"},
		{name: "text after the certificate", data: with(func(d *PartsData) { d.TrustAnchor = ca + "trailing words\n" }), want: "init-data parts: trust anchor: unexpected text after PEM block 1"},
		{name: "broken certificate", data: with(func(d *PartsData) { d.TrustAnchor = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n" }), want: "init-data parts: trust anchor: PEM block 1 is not a valid X.509 certificate: x509: malformed certificate"},
		{name: "template syntax", aa: "[token_configs]\n[token_configs.kbs]\nurl = \"{{ .KBSURL }\"\n", data: ok, want: `template: policies/initdata/aa.toml.tmpl:3: unexpected "}" in operand`},
		{name: "unknown field", cdh: "[kbc]\nname = \"cc_kbc\"\nurl = \"{{ .KBSURL }}\"\nx = \"{{ .Nope }}\"\n", data: ok, want: `template: policies/initdata/cdh.toml.tmpl:4:8: executing "policies/initdata/cdh.toml.tmpl" at <.Nope>: can't evaluate field Nope in type initdata.PartsData`},
		{name: "output not TOML: unquoted value", aa: "[token_configs]\n\n[token_configs.kbs]\nurl = {{ .KBSURL }}\n", data: ok, want: `policies/initdata/aa.toml.tmpl:4: the output is not TOML: expected value but found "https" instead (output line 4, column 7: "url = https://kbs.example.com")`},
		{
			name: "output not TOML: after a comment spanning lines",
			cdh:  "{{/* comment\nspanning lines */ -}}\n[kbc]\nname = \"cc_kbc\"\nurl = \"{{ .KBSURL }}\"\n{{- if .TrustAnchor }}\nkbs_cert = '\n{{ .TrustAnchor }}\n'\n{{- end }}\n",
			data: ok, want: `policies/initdata/cdh.toml.tmpl:7: the output is not TOML: strings cannot contain newlines (output line 4, column 13: "kbs_cert = '")`,
		},
		{
			name: "output not TOML: a certificate where a key belongs",
			cdh:  "{{/* comment\nspanning lines */ -}}\n[kbc]\nname = \"cc_kbc\"\nurl = \"{{ .KBSURL }}\"\n{{ .TrustAnchor }}\n",
			data: ok, want: `policies/initdata/cdh.toml.tmpl:6: the output is not TOML:`,
		},
		{
			name: "output not TOML: after a multi-line certificate",
			cdh:  "[kbc]\nname = \"cc_kbc\"\nurl = \"{{ .KBSURL }}\"\n{{- if .TrustAnchor }}\nkbs_cert = \"\"\"\n{{ .TrustAnchor }}\n\"\"\"\n{{- end }}\n\n[image]\nimage_security_policy_uri = kbs:///default/security-policy/{{ .SecurityPolicyFlavour }}\n",
			data: ok, want: `policies/initdata/cdh.toml.tmpl:11: the output is not TOML: expected value but found "kbs" instead (output line 20, column 29: "image_security_policy_uri = kbs:///default/security-policy/signed")`,
		},
		{name: "aa without the KBS URL", aa: "[token_configs]\n", data: ok, want: "policies/initdata/aa.toml.tmpl: the output has no [token_configs.kbs] url: the Attestation Agent needs it to reach the KBS"},
		{name: "aa with another URL", aa: "[token_configs.kbs]\nurl = \"https://other.example.com\"\n", data: ok, want: `policies/initdata/aa.toml.tmpl: [token_configs.kbs] url is "https://other.example.com", not the KBS URL "https://kbs.example.com": write {{ .KBSURL }}`},
		{name: "cdh without kbc", cdh: "socket = \"unix:///run/confidential-containers/cdh.sock\"\n", data: ok, want: "policies/initdata/cdh.toml.tmpl: the output has no [kbc] table: the Confidential Data Hub refuses a configuration file without it"},
		{name: "cdh kbc without name", cdh: "[kbc]\nurl = \"{{ .KBSURL }}\"\n", data: ok, want: `policies/initdata/cdh.toml.tmpl: [kbc] has no name: write name = "cc_kbc"`},
		{name: "cdh kbc without url", cdh: "[kbc]\nname = \"cc_kbc\"\n", data: ok, want: "policies/initdata/cdh.toml.tmpl: [kbc] has no url: the Confidential Data Hub needs it to reach the KBS"},
		{name: "registry credentials not a KBS URI", data: with(func(d *PartsData) { d.RegistryCredentials = "https://quay.io/auth.json" }), want: `init-data parts: the registry credentials "https://quay.io/auth.json" are not a KBS resource URI (kbs:///<repository>/<type>/<tag>)`},
		{name: "registry credentials with a quote", data: with(func(d *PartsData) { d.RegistryCredentials = `kbs:///default/credential/a"b` }), want: `init-data parts: the registry credentials "kbs:///default/credential/a\"b" are not a KBS resource URI (kbs:///<repository>/<type>/<tag>)`},
		{name: "registry credentials the template drops", cdh: "[kbc]\nname = \"cc_kbc\"\nurl = \"{{ .KBSURL }}\"\n", data: with(func(d *PartsData) { d.RegistryCredentials = "kbs:///default/credential/regcred" }), want: `policies/initdata/cdh.toml.tmpl: the profile sets registryCredentials, but the output's [image] authenticated_registry_credentials_uri is "", not "kbs:///default/credential/regcred": write {{ .RegistryCredentials }} there`},
		{name: "cdh with another URL", cdh: "[kbc]\nname = \"cc_kbc\"\nurl = \"http://kbs:8080\"\n", data: ok, want: `policies/initdata/cdh.toml.tmpl: [kbc] url is "http://kbs:8080", not the KBS URL "https://kbs.example.com": write {{ .KBSURL }}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, d := aaTmpl, cdhTmpl
			if c.aa != "" {
				a = []byte(c.aa)
			}
			if c.cdh != "" {
				d = []byte(c.cdh)
			}
			aa, cdh, err := RenderParts(a, d, c.data)
			if err == nil {
				t.Fatalf("accepted:\n%s\n%s", aa, cdh)
			}
			if !strings.HasPrefix(err.Error(), c.want) || (!strings.HasSuffix(c.want, ":") && err.Error() != c.want) {
				t.Errorf("got  %s\nwant %s", err, c.want)
			}
			if aa != nil || cdh != nil {
				t.Errorf("output on error")
			}
		})
	}
}

func TestRenderPartsPublicModeNeedsNoCertificate(t *testing.T) {
	aaTmpl, cdhTmpl := templates(t)
	for _, anchor := range []string{"", " \n"} {
		aa, cdh, err := RenderParts(aaTmpl, cdhTmpl, PartsData{KBSURL: "http://kbs.trustee.svc:8080", TrustAnchor: anchor, SecurityPolicyFlavour: "reject"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(aa), "cert") || strings.Contains(string(cdh), "cert") {
			t.Errorf("a certificate key in public mode:\n%s\n%s", aa, cdh)
		}
		if !strings.Contains(string(cdh), `image_security_policy_uri = "kbs:///default/security-policy/reject"`) {
			t.Errorf("cdh.toml lacks the policy URI:\n%s", cdh)
		}
	}
}

// TestRenderPartsRegistryCredentials: registry credentials add exactly one line to cdh.toml's [image] table,
// and nothing else changes; without them cdh.toml is what it was.
func TestRenderPartsRegistryCredentials(t *testing.T) {
	aaTmpl, cdhTmpl := templates(t)
	data := PartsData{KBSURL: "https://kbs.example.com", TrustAnchor: string(readTestdata(t, "kbs-ca.crt")), SecurityPolicyFlavour: "signed"}
	aa1, without, err := RenderParts(aaTmpl, cdhTmpl, data)
	if err != nil {
		t.Fatal(err)
	}
	data.RegistryCredentials = "kbs:///default/credential/regcred"
	aa2, with, err := RenderParts(aaTmpl, cdhTmpl, data)
	if err != nil {
		t.Fatal(err)
	}
	line := "authenticated_registry_credentials_uri = \"kbs:///default/credential/regcred\"\n"
	if !bytes.Equal(aa1, aa2) || !bytes.Equal(bytes.Replace(with, []byte(line), nil, 1), without) || bytes.Contains(without, []byte("authenticated_registry")) {
		t.Errorf("cdh.toml with registry credentials:\n%s\nwithout:\n%s", with, without)
	}
	var doc struct {
		Image map[string]string `toml:"image"`
	}
	if _, err := toml.Decode(string(with), &doc); err != nil || doc.Image["authenticated_registry_credentials_uri"] != data.RegistryCredentials {
		t.Errorf("[image] = %v, %v", doc.Image, err)
	}
}
