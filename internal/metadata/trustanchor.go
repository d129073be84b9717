package metadata

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// ExpiryWarning is how long before a trust anchor expires that a check warns about it.
const ExpiryWarning = 30 * 24 * time.Hour

// TrustAnchor is what the guest trusts the KBS certificate with, checked.
type TrustAnchor struct {
	Mode string // ca, public or leaf
	// PEM is the certificate file as read from the repository (nil in public mode): init-data embeds these
	// bytes, so that its digest changes only when the file does.
	PEM          []byte
	Certificates []*x509.Certificate
}

// CheckTrustAnchor checks the certificate that kbs.trustAnchor.certificate names; data is that file's content,
// read by the caller inside the repository (internal/repo). The file must hold PEM certificates and nothing
// else (a private key is an error); in ca mode every certificate must be a CA, in leaf mode the first must
// not be one and must name the KBS host. A certificate that has expired, or is not valid yet, at now is an
// error; one that expires within ExpiryWarning is a warning. Diagnostics point at the certificate key of the
// metadata. In public mode nothing is embedded and data is ignored.
func (m *Metadata) CheckTrustAnchor(data []byte, now time.Time) (*TrustAnchor, *diag.List) {
	d := &diag.List{}
	mode := m.TrustAnchorMode()
	if mode == "public" {
		return &TrustAnchor{Mode: mode}, d
	}
	cert := m.KBS.TrustAnchor.Certificate
	pos, path := cert.Pos, "kbs.trustAnchor.certificate"
	if pos.IsZero() {
		pos = srcpos.Pos{File: m.Source}
	}
	name := cert.Value
	if name == "" {
		name = "the trust anchor"
	}
	fail := func(format string, args ...any) (*TrustAnchor, *diag.List) {
		d.Errorf(pos, path, "%s: %s", name, fmt.Sprintf(format, args...))
		return nil, d
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return fail("the file is empty: it must hold the PEM certificate (-----BEGIN CERTIFICATE-----)")
	}
	var certs []*x509.Certificate
	rest := data
	for i := 1; ; i++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case strings.Contains(block.Type, "PRIVATE KEY"):
			return fail("PEM block %d is a %s: never commit the key; keep only the certificate in Git", i, block.Type)
		case block.Type != "CERTIFICATE":
			return fail("PEM block %d is a %s, not a CERTIFICATE", i, block.Type)
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fail("certificate %d does not parse: %v", i, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		if _, err := x509.ParseCertificate(data); err == nil {
			return fail("the certificate is DER, not PEM: convert it with openssl x509 -inform der -in %s -out %s", name, name)
		}
		return fail("no PEM certificate found (a block starting with -----BEGIN CERTIFICATE-----)")
	}
	if len(bytes.TrimSpace(rest)) > 0 {
		return fail("text after the last PEM block: the file must hold PEM certificates only")
	}
	switch mode {
	case "ca":
		for i, c := range certs {
			if !c.IsCA || !c.BasicConstraintsValid {
				return fail("certificate %d (%s) is not a CA certificate: mode ca needs the CA that signs the KBS certificate; to pin the KBS certificate itself, use mode leaf", i+1, subject(c))
			}
			if c.KeyUsage != 0 && c.KeyUsage&x509.KeyUsageCertSign == 0 {
				return fail("certificate %d (%s) is a CA that may not sign certificates (its key usage lacks keyCertSign)", i+1, subject(c))
			}
		}
	case "leaf":
		c := certs[0]
		if c.IsCA {
			return fail("certificate 1 (%s) is a CA certificate: mode leaf pins the KBS certificate itself; for a CA, use mode ca", subject(c))
		}
		// The guest's attestation agent (and the CDH) add the pinned certificate to the TLS client as a root
		// (guest-components v0.21.0 attestation-agent/kbs_protocol/src/builder.rs, add_root_certificate), and a
		// TLS client accepts a root only as the self-signed end of the chain it builds: a leaf that a CA signed
		// names that CA as its issuer, so no chain from the KBS reaches it and the guest never trusts the KBS.
		if !selfSigned(c) {
			why := "is signed by " + issuer(c) + ", not self-signed"
			if bytes.Equal(c.RawIssuer, c.RawSubject) {
				why = "names itself as its issuer but is not signed with its own key"
			}
			return fail("certificate 1 (%s) %s: the guest adds the pinned certificate as a TLS root, and a root must sign itself, so this leaf would never verify; pin a self-signed KBS certificate, or use mode ca with the CA that signed it (init-data then survives renewals)", subject(c), why)
		}
		if host := kbsHost(m.KBSURL()); host != "" {
			if err := c.VerifyHostname(host); err != nil {
				return fail("the certificate does not name the KBS host %s (it names %s)", host, strings.Join(c.DNSNames, ", "))
			}
		}
		if len(certs) > 1 {
			d.Warnf(pos, path, "%s: holds %d certificates; mode leaf pins the first", name, len(certs))
		}
	}
	for i, c := range certs {
		switch {
		case now.After(c.NotAfter):
			return fail("certificate %d (%s) expired on %s", i+1, subject(c), c.NotAfter.UTC().Format(time.DateOnly))
		case now.Before(c.NotBefore):
			return fail("certificate %d (%s) is not valid before %s", i+1, subject(c), c.NotBefore.UTC().Format(time.DateOnly))
		case c.NotAfter.Sub(now) < ExpiryWarning:
			d.Warnf(pos, path, "%s: certificate %d (%s) expires on %s, in %d days: renew it (init-data, and so the attestation reference values, change with it)",
				name, i+1, subject(c), c.NotAfter.UTC().Format(time.DateOnly), int(c.NotAfter.Sub(now).Hours()/24))
		}
	}
	return &TrustAnchor{Mode: mode, PEM: data, Certificates: certs}, d
}

// selfSigned reports whether c names itself as its issuer and its signature verifies with its own key.
func selfSigned(c *x509.Certificate) bool {
	return bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature) == nil
}

// issuer names the issuer of c for messages.
func issuer(c *x509.Certificate) string {
	if c.Issuer.CommonName != "" {
		return "CN=" + c.Issuer.CommonName
	}
	if s := c.Issuer.String(); s != "" {
		return s
	}
	return "an issuer without a name"
}

func subject(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "no subject"
}

func kbsHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Hostname()
}
