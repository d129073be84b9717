package metadata

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 10, 1, 12, 0, 0, 0, time.UTC)

type certSpec struct {
	cn        string
	ca        bool
	dns       []string
	notBefore time.Time
	notAfter  time.Time
	keyUsage  x509.KeyUsage
	// signer signs the certificate (a CA's PEM certificate and key from makeCert); nil: self-signed.
	signer *signer
	// forgeIssuer names the certificate's subject as its issuer but signs it with another key.
	forgeIssuer bool
}

type signer struct {
	cert, key []byte
}

// makeCert returns a certificate as PEM (self-signed unless s.signer signs it), and its key as PEM.
func makeCert(t *testing.T, s certSpec) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if s.notBefore.IsZero() {
		s.notBefore = now.Add(-24 * time.Hour)
	}
	if s.notAfter.IsZero() {
		s.notAfter = now.Add(365 * 24 * time.Hour)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: s.cn},
		NotBefore:             s.notBefore,
		NotAfter:              s.notAfter,
		IsCA:                  s.ca,
		BasicConstraintsValid: true,
		DNSNames:              s.dns,
		KeyUsage:              s.keyUsage,
	}
	if s.ca && s.keyUsage == 0 {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	}
	parent, signKey := tmpl, any(key)
	if s.signer != nil {
		cb, _ := pem.Decode(s.signer.cert)
		kb, _ := pem.Decode(s.signer.key)
		if parent, err = x509.ParseCertificate(cb.Bytes); err != nil {
			t.Fatal(err)
		}
		if signKey, err = x509.ParseECPrivateKey(kb.Bytes); err != nil {
			t.Fatal(err)
		}
	}
	if s.forgeIssuer {
		if signKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader); err != nil {
			t.Fatal(err)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, signKey)
	if err != nil {
		t.Fatal(err)
	}
	kd, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

func withTrustAnchor(t *testing.T, mode string) *Metadata {
	t.Helper()
	src := head + "cluster:\n  appsDomain: apps.coco.example.com\nkbs:\n  trustAnchor:\n    mode: " + mode + "\n"
	if mode != "public" {
		src += "    certificate: values/kbs.crt\n"
	}
	m, d := Parse("m.yaml", []byte(src))
	if m == nil {
		t.Fatalf("rejected: %q", diagLines(d))
	}
	return m
}

func TestCheckTrustAnchor(t *testing.T) {
	ca, caKey := makeCert(t, certSpec{cn: "coco CA", ca: true})
	leaf, _ := makeCert(t, certSpec{cn: "kbs", dns: []string{"kbs.apps.coco.example.com"}})
	otherLeaf, _ := makeCert(t, certSpec{cn: "kbs", dns: []string{"kbs.apps.other.example.com"}})
	expired, _ := makeCert(t, certSpec{cn: "old CA", ca: true, notAfter: now.Add(-48 * time.Hour), notBefore: now.Add(-400 * 24 * time.Hour)})
	soon, _ := makeCert(t, certSpec{cn: "short CA", ca: true, notAfter: now.Add(10*24*time.Hour + time.Hour)})
	future, _ := makeCert(t, certSpec{cn: "new CA", ca: true, notBefore: now.Add(24 * time.Hour)})
	noSign, _ := makeCert(t, certSpec{cn: "odd CA", ca: true, keyUsage: x509.KeyUsageDigitalSignature})
	caBlock, _ := pem.Decode(ca)
	// A leaf that the CA signed: the guest adds the pinned certificate as a TLS root, so only a self-signed
	// leaf can work in mode leaf.
	signedLeaf, _ := makeCert(t, certSpec{cn: "kbs", dns: []string{"kbs.apps.coco.example.com"}, signer: &signer{cert: ca, key: caKey}})
	forgedLeaf, _ := makeCert(t, certSpec{cn: "kbs", dns: []string{"kbs.apps.coco.example.com"}, forgeIssuer: true})
	const at = "m.yaml:8:18: "
	cases := []struct {
		name string
		mode string
		data []byte
		want []string // diagnostics; empty means accepted without any
	}{
		{name: "a CA", mode: "ca", data: ca},
		{name: "a bundle of two CAs", mode: "ca", data: append(append([]byte{}, ca...), ca...)},
		{name: "the pinned leaf", mode: "leaf", data: leaf},
		{name: "public mode reads nothing", mode: "public", data: nil},
		{name: "a leaf in ca mode", mode: "ca", data: leaf,
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: certificate 1 (CN=kbs) is not a CA certificate: mode ca needs the CA that signs the KBS certificate; to pin the KBS certificate itself, use mode leaf"}},
		{name: "a CA in leaf mode", mode: "leaf", data: ca,
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: certificate 1 (CN=coco CA) is a CA certificate: mode leaf pins the KBS certificate itself; for a CA, use mode ca"}},
		{name: "a CA-signed leaf in leaf mode", mode: "leaf", data: signedLeaf,
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: certificate 1 (CN=kbs) is signed by CN=coco CA, not self-signed: the guest adds the pinned certificate as a TLS root, and a root must sign itself, so this leaf would never verify; pin a self-signed KBS certificate, or use mode ca with the CA that signed it (init-data then survives renewals)"}},
		{name: "a leaf that names itself as issuer but another key signed", mode: "leaf", data: forgedLeaf,
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: certificate 1 (CN=kbs) names itself as its issuer but is not signed with its own key: the guest adds the pinned certificate as a TLS root, and a root must sign itself, so this leaf would never verify; pin a self-signed KBS certificate, or use mode ca with the CA that signed it (init-data then survives renewals)"}},
		{name: "a leaf for another host", mode: "leaf", data: otherLeaf,
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: the certificate does not name the KBS host kbs.apps.coco.example.com (it names kbs.apps.other.example.com)"}},
		{name: "a private key next to the certificate", mode: "ca", data: append(append([]byte{}, ca...), caKey...),
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: PEM block 2 is a EC PRIVATE KEY: never commit the key; keep only the certificate in Git"}},
		{name: "a malformed certificate", mode: "ca", data: []byte("-----BEGIN CERTIFICATE-----\nTUlJQm9vdA==\n-----END CERTIFICATE-----\n"),
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: certificate 1 does not parse: x509: malformed certificate"}},
		{name: "DER instead of PEM", mode: "ca", data: caBlock.Bytes,
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: the certificate is DER, not PEM: convert it with openssl x509 -inform der -in values/kbs.crt -out values/kbs.crt"}},
		{name: "not a certificate at all", mode: "ca", data: []byte("hello\n"),
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: no PEM certificate found (a block starting with -----BEGIN CERTIFICATE-----)"}},
		{name: "an empty file", mode: "leaf", data: []byte("\n"),
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: the file is empty: it must hold the PEM certificate (-----BEGIN CERTIFICATE-----)"}},
		{name: "a public key", mode: "ca", data: []byte("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: PEM block 1 is a PUBLIC KEY, not a CERTIFICATE"}},
		{name: "text after the certificate", mode: "ca", data: append(append([]byte{}, ca...), "trailing words\n"...),
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: text after the last PEM block: the file must hold PEM certificates only"}},
		{name: "an expired CA", mode: "ca", data: expired,
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: certificate 1 (CN=old CA) expired on 2026-09-29"}},
		{name: "a CA not valid yet", mode: "ca", data: future,
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: certificate 1 (CN=new CA) is not valid before 2026-10-02"}},
		{name: "a CA that cannot sign", mode: "ca", data: noSign,
			want: []string{at + "error: kbs.trustAnchor.certificate: values/kbs.crt: certificate 1 (CN=odd CA) is a CA that may not sign certificates (its key usage lacks keyCertSign)"}},
		{name: "a CA that expires soon", mode: "ca", data: soon,
			want: []string{at + "warning: kbs.trustAnchor.certificate: values/kbs.crt: certificate 1 (CN=short CA) expires on 2026-10-11, in 10 days: renew it (init-data, and so the attestation reference values, change with it)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := withTrustAnchor(t, c.mode)
			ta, d := m.CheckTrustAnchor(c.data, now)
			got := diagLines(d)
			if strings.Join(got, "\n") != strings.Join(c.want, "\n") {
				t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(c.want, "\n"))
			}
			if d.HasErrors() != (ta == nil) {
				t.Errorf("trust anchor %v with errors %v", ta, d.HasErrors())
			}
			if ta != nil {
				if ta.Mode != c.mode {
					t.Errorf("mode %s, want %s", ta.Mode, c.mode)
				}
				if c.mode != "public" && (string(ta.PEM) != string(c.data) || len(ta.Certificates) == 0) {
					t.Errorf("the PEM must be kept byte for byte, with its certificates parsed")
				}
			}
		})
	}
}

// TestExampleCAIsValid keeps the CA committed with the example metadata usable.
func TestExampleCAIsValid(t *testing.T) {
	data, err := os.ReadFile(exampleFile)
	if err != nil {
		t.Fatal(err)
	}
	m, _ := Parse("values/cluster-metadata.yaml", data)
	pemData, err := os.ReadFile("../../" + m.KBS.TrustAnchor.Certificate.Value)
	if err != nil {
		t.Fatal(err)
	}
	ta, d := m.CheckTrustAnchor(pemData, time.Now())
	if ta == nil || len(d.Sorted()) != 0 {
		t.Errorf("the example trust anchor: %q", diagLines(d))
	}
}
