package secrets

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"
	"time"
)

// The Vault secrets the pattern reads besides the KBS resources, as generators/trustee names them.
const (
	// AdminPublicKey holds the KBS admin public key (field publicKey); the KBS accepts only admin tokens signed
	// by its private half.
	AdminPublicKey      = "kbsPublicKey"
	AdminPublicKeyField = "publicKey"
	// AdminPrivateKey holds the private half (field privateKey), for whoever signs admin tokens. It is stored
	// under its own Vault prefix, AdminPrivatePrefix, which no ExternalSecrets role of the pattern may read
	// (the hub role reads hub/, global/ and pushsecrets/), so a backup in Vault does not hand the KBS admin
	// API to anything that reads the KBS resources.
	AdminPrivateKey      = "kbsPrivateKey"
	AdminPrivateKeyField = "privateKey"
	AdminPrivatePrefix   = "kbs-admin"
	// CA holds the KBS CA's private key (field key); its certificate is in the repository.
	CA      = "kbsCA"
	CAField = "key"
)

// Resource is a KBS resource the values list: a Vault secret and its keys.
type Resource struct {
	Name string
	Keys []string
}

// Spec is what the repository says the secrets file must hold.
type Spec struct {
	Pattern string
	// VaultMount and VaultPrefix place the secrets the ExternalSecrets read: <mount>/data/<prefix>/<name>.
	VaultMount, VaultPrefix string
	// TrustAnchorMode is the metadata's kbs.trustAnchor.mode; in mode ca the file holds the CA key and the
	// repository its certificate (CertificatePath).
	TrustAnchorMode string
	CertificatePath string
	Resources       []Resource
	// RegistryCredentials are the KBS resource fields (secret/field) that init-data names as the registry
	// credentials of image pulls (a profile's registryCredentials): a registry auth file, which a user gives
	// rather than a random generator makes.
	RegistryCredentials []string
}

// InitOptions say how to create or update the file.
type InitOptions struct {
	Spec Spec
	// Existing is the file as it is (nil: none yet), ExistingCert the certificate at Spec.CertificatePath
	// (nil: none).
	Existing     *File
	ExistingCert []byte
	// Rotate names the secrets to replace.
	Rotate []string
	// Values are chosen values, by secret/field; they replace what the file has.
	Values map[string]string
	// Ask asks for a value a user must choose (nil: the default is taken).
	Ask func(secret, field, description, def string) (string, error)
	// Rand is the randomness of keys and generated values (nil: crypto/rand).
	Rand io.Reader
	// Now is the start of the CA certificate's validity.
	Now time.Time
}

// InitResult is the new state.
type InitResult struct {
	File *File
	// Changed is set when File differs from Existing; Cert is the certificate to write (nil: keep the file).
	Changed bool
	Cert    []byte
	// Notes say what changed and what it means, one line each; they never hold a value.
	Notes []string
}

// Names returns the names of the secrets the spec asks for, in file order.
func (s Spec) Names() []string {
	names := []string{AdminPublicKey, AdminPrivateKey}
	if s.TrustAnchorMode == "ca" {
		names = append(names, CA)
	}
	for _, r := range s.Resources {
		names = append(names, r.Name)
	}
	return names
}

// choices are the KBS resource fields a user decides rather than a random generator, with their defaults.
// The image signature policies are containers-policy.json documents (containers/image
// docs/containers-policy.json.5.md: default, a list of requirements of type insecureAcceptAnything, reject or
// sigstoreSigned): insecure accepts every image, reject none, and signed starts as reject until the user gives
// the policy that names their signing keys.
var choices = map[string]struct{ description, def string }{
	"attestation-status/status": {"the text a workload reads after a successful attestation", "attested"},
	"security-policy/insecure":  {"the image signature policy that accepts any image (containers-policy.json)", `{"default":[{"type":"insecureAcceptAnything"}],"transports":{}}`},
	"security-policy/reject":    {"the image signature policy that accepts no image (containers-policy.json)", `{"default":[{"type":"reject"}],"transports":{}}`},
	"security-policy/signed":    {"the image signature policy that accepts your signed images (containers-policy.json naming your sigstore keys; until you give it, it rejects every image)", `{"default":[{"type":"reject"}],"transports":{}}`},
}

// registryCredentials is the choice of a registry credentials resource: a container registry auth file as
// the guest's image-rs reads it (guest-components v0.21.0 image-rs/src/auth/mod.rs, DockerConfigFile: an
// object with auths by registry). Its default names no registry, so that images from public registries
// still pull.
var registryCredentials = struct{ description, def string }{
	"the registry auth file ({\"auths\": {...}}) the pod VMs pull images with, e.g. the cluster's pull secret: oc get secret/pull-secret -n openshift-config -o jsonpath='{.data.\\.dockerconfigjson}' | base64 -d",
	`{"auths":{}}`,
}

// asked are the choices worth a prompt (the others have a right default).
var asked = map[string]bool{"attestation-status/status": true, "security-policy/signed": true}

// Init computes the secrets file: what exists is kept, what is missing is created, what Rotate names is
// replaced.
func Init(o InitOptions) (*InitResult, error) {
	if o.Rand == nil {
		o.Rand = rand.Reader
	}
	names := o.Spec.Names()
	existing := o.Existing
	if existing == nil {
		existing = &File{Version: "2.0", BackingStore: "vault"}
	}
	var known []string
	known = append(known, names...)
	for _, s := range existing.Secrets {
		if !slices.Contains(known, s.Name) {
			known = append(known, s.Name)
		}
	}
	rotate := map[string]bool{}
	for _, r := range o.Rotate {
		if !slices.Contains(known, r) {
			return nil, fmt.Errorf("--rotate %s: no such secret (valid: %s)", r, strings.Join(known, ", "))
		}
		if r == AdminPublicKey || r == AdminPrivateKey {
			rotate[AdminPublicKey], rotate[AdminPrivateKey] = true, true
			continue
		}
		rotate[r] = true
	}
	for k := range o.Values {
		sname, fname, ok := strings.Cut(k, "/")
		if !ok || !slices.Contains(names, sname) || sname == AdminPublicKey || sname == AdminPrivateKey || sname == CA {
			return nil, fmt.Errorf("--value %s: not a KBS resource field (SECRET/FIELD of global.coco.trustee.resources)", k)
		}
		if r := findResource(o.Spec.Resources, sname); r == nil || !slices.Contains(r.Keys, fname) {
			return nil, fmt.Errorf("--value %s: %s has no key %s in global.coco.trustee.resources", k, sname, fname)
		}
	}

	out := &File{Version: "2.0", BackingStore: existing.BackingStore, VaultPolicies: existing.VaultPolicies,
		SecretStoreNamespace: existing.SecretStoreNamespace, DefaultLabels: existing.DefaultLabels, DefaultAnnotations: existing.DefaultAnnotations}
	if out.BackingStore == "" && o.Existing == nil {
		out.BackingStore = "vault"
	}
	res := &InitResult{File: out}
	note := func(format string, args ...any) { res.Notes = append(res.Notes, fmt.Sprintf(format, args...)) }
	hub := []string{o.Spec.VaultPrefix}
	mount := ""
	if o.Spec.VaultMount != "secret" {
		mount = o.Spec.VaultMount
	}

	// The admin key pair.
	pub, priv := existing.Find(AdminPublicKey), existing.Find(AdminPrivateKey)
	switch {
	case rotate[AdminPublicKey] || (pub == nil && priv == nil):
		p, k, err := newAdminKey(o.Rand)
		if err != nil {
			return nil, err
		}
		out.Secrets = append(out.Secrets,
			Secret{Name: AdminPublicKey, VaultMount: mount, VaultPrefixes: hub, Fields: []Field{{Name: AdminPublicKeyField, Value: &p}}},
			Secret{Name: AdminPrivateKey, VaultMount: mount, VaultPrefixes: []string{AdminPrivatePrefix}, Fields: []Field{{Name: AdminPrivateKeyField, Value: &k}}})
		if rotate[AdminPublicKey] {
			note("%s, %s: a new KBS admin key pair. Once loaded (cocogen secrets load), the KBS trusts the new public key after the kbs-auth-public-key ExternalSecret refreshes (up to 15 min) and cocogen-kbs-reload restarts the KBS (up to 5 min); admin tokens signed with the old key stop working. Attestation and init-data do not change.", AdminPublicKey, AdminPrivateKey)
		} else {
			note("%s, %s: created (ed25519)", AdminPublicKey, AdminPrivateKey)
		}
	case pub != nil && priv != nil:
		if err := checkAdminPair(pub, priv); err != nil {
			return nil, err
		}
		out.Secrets = append(out.Secrets, *pub, *priv)
	case priv != nil:
		// The public half follows from the private one.
		k := fieldValue(priv, AdminPrivateKeyField)
		if k == nil {
			return nil, fmt.Errorf("secret %s has no value in field %s, so %s cannot be derived: --rotate %s makes a new pair", AdminPrivateKey, AdminPrivateKeyField, AdminPublicKey, AdminPublicKey)
		}
		p, err := adminPublicFromPrivate(*k)
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", AdminPrivateKey, err)
		}
		out.Secrets = append(out.Secrets, Secret{Name: AdminPublicKey, VaultMount: mount, VaultPrefixes: hub, Fields: []Field{{Name: AdminPublicKeyField, Value: &p}}}, *priv)
		note("%s: derived from %s", AdminPublicKey, AdminPrivateKey)
	default:
		return nil, fmt.Errorf("secret %s exists without %s: the private half cannot be recovered; --rotate %s makes a new pair", AdminPublicKey, AdminPrivateKey, AdminPublicKey)
	}

	// The KBS CA.
	if o.Spec.TrustAnchorMode == "ca" {
		ca := existing.Find(CA)
		switch {
		case rotate[CA] || ca == nil:
			key, cert, err := newCA(o.Rand, o.Spec.Pattern, o.Now)
			if err != nil {
				return nil, err
			}
			out.Secrets = append(out.Secrets, Secret{Name: CA, VaultMount: mount, VaultPrefixes: hub, Fields: []Field{{Name: CAField, Value: &key}}})
			res.Cert = cert
			if rotate[CA] {
				note("%s: a new KBS CA, and %s holds its certificate. Init-data embeds that certificate, so every init-data profile's digest changes: commit the file; the render restarts the peer pods and the reference values follow (pods started earlier attest only while trustee.referenceValues.previous keeps their init-data: cocogen initdata keep). Load the key (cocogen secrets load) before Argo CD syncs the commit: cert-manager issues the KBS certificate with it.", CA, o.Spec.CertificatePath)
			} else {
				note("%s: created (ECDSA P-256, valid 10 years); its certificate is %s: commit it (init-data embeds it)", CA, o.Spec.CertificatePath)
			}
		default:
			k := fieldValue(ca, CAField)
			if k == nil {
				out.Secrets = append(out.Secrets, *ca) // a path or a generator: the user's business
				break
			}
			signer, err := parsePrivateKey(*k)
			if err != nil {
				return nil, fmt.Errorf("secret %s, field %s: %w", CA, CAField, err)
			}
			out.Secrets = append(out.Secrets, *ca)
			if len(bytes.TrimSpace(o.ExistingCert)) == 0 {
				cert, err := caCertificate(o.Rand, signer, o.Spec.Pattern, o.Now)
				if err != nil {
					return nil, err
				}
				res.Cert = cert
				note("%s: %s was missing: a new certificate for the existing CA key (init-data changes: commit it)", CA, o.Spec.CertificatePath)
				break
			}
			if err := certMatchesKey(o.ExistingCert, signer); err != nil {
				return nil, fmt.Errorf("%s: %w: restore it from Git, or replace both with --rotate %s", o.Spec.CertificatePath, err, CA)
			}
		}
	}

	// The KBS resources.
	for _, r := range o.Spec.Resources {
		old := existing.Find(r.Name)
		s := Secret{Name: r.Name, VaultMount: mount, VaultPrefixes: hub}
		if old != nil && !rotate[r.Name] {
			s = *old
			s.Fields = slices.Clone(old.Fields)
		}
		var added, replaced []string
		for _, key := range r.Keys {
			id := r.Name + "/" + key
			chosen, hasChoice := o.Values[id]
			f := s.Field(key)
			switch {
			case hasChoice:
				v := chosen
				if f == nil {
					s.Fields = append(s.Fields, Field{Name: key, Value: &v})
					added = append(added, key)
				} else if f.Value == nil || *f.Value != v || f.Path != "" {
					*f = Field{Name: key, Value: &v}
					replaced = append(replaced, key)
				}
			case f != nil:
			default:
				v, err := newResourceValue(o, id)
				if err != nil {
					return nil, err
				}
				s.Fields = append(s.Fields, Field{Name: key, Value: &v})
				added = append(added, key)
			}
		}
		out.Secrets = append(out.Secrets, s)
		switch {
		case rotate[r.Name]:
			note("%s: new values for %s. Once loaded (cocogen secrets load) pods get them at their next fetch from the KBS (the ExternalSecret refreshes within 15 min, then cocogen-kbs-reload restarts the KBS); attestation and init-data do not change.", r.Name, strings.Join(r.Keys, ", "))
		case old == nil:
			note("%s: created (%s)", r.Name, strings.Join(r.Keys, ", "))
		case len(added) > 0 || len(replaced) > 0:
			var parts []string
			if len(added) > 0 {
				parts = append(parts, "added "+strings.Join(added, ", "))
			}
			if len(replaced) > 0 {
				parts = append(parts, "replaced "+strings.Join(replaced, ", ")+" with the given values")
			}
			note("%s: %s", r.Name, strings.Join(parts, "; "))
		}
	}
	// Everything else the file holds stays, in its order.
	for _, s := range existing.Secrets {
		if out.Find(s.Name) == nil {
			out.Secrets = append(out.Secrets, s)
		}
	}
	res.Changed = o.Existing == nil || !sameFile(o.Existing, out)
	return res, nil
}

func findResource(rs []Resource, name string) *Resource {
	for i := range rs {
		if rs[i].Name == name {
			return &rs[i]
		}
	}
	return nil
}

func fieldValue(s *Secret, name string) *string {
	if f := s.Field(name); f != nil && f.Path == "" {
		return f.Value
	}
	return nil
}

// sameFile compares two files by their encoding.
func sameFile(a, b *File) bool {
	x, err1 := Encode("", a)
	y, err2 := Encode("", b)
	return err1 == nil && err2 == nil && bytes.Equal(x, y)
}

// newResourceValue is the value of a KBS resource field nobody chose: asked for where a user must decide,
// else random (32 bytes, URL-safe base64 without padding).
func newResourceValue(o InitOptions, id string) (string, error) {
	c, ok := choices[id]
	ask := asked[id]
	if slices.Contains(o.Spec.RegistryCredentials, id) {
		c, ok, ask = registryCredentials, true, true
	}
	if ok {
		if ask && o.Ask != nil {
			sname, fname, _ := strings.Cut(id, "/")
			v, err := o.Ask(sname, fname, c.description, c.def)
			if err != nil {
				return "", err
			}
			if v != "" {
				return v, nil
			}
		}
		return c.def, nil
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(o.Rand, b); err != nil {
		return "", fmt.Errorf("random value for %s: %w", id, err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// newAdminKey makes the KBS admin key pair: ed25519, the public key as PEM SubjectPublicKeyInfo and the
// private key as PEM PKCS#8. Trustee 0.21's KBS reads the admin public key as EC, RSA or Ed25519 PEM
// (confidential-containers/trustee v0.21.0 kbs/src/crypto/jwt.rs) and its own tests sign admin tokens with an
// ed25519 key (kbs/test/Makefile: openssl genpkey -algorithm ed25519).
func newAdminKey(r io.Reader) (pub, priv string, err error) {
	p, k, err := ed25519.GenerateKey(r)
	if err != nil {
		return "", "", fmt.Errorf("admin key: %w", err)
	}
	return encodeKeyPair(p, k)
}

func encodeKeyPair(p ed25519.PublicKey, k ed25519.PrivateKey) (pub, priv string, err error) {
	pd, err := x509.MarshalPKIXPublicKey(p)
	if err != nil {
		return "", "", err
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pd})), string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})), nil
}

func adminPublicFromPrivate(privPEM string) (string, error) {
	k, err := parsePrivateKey(privPEM)
	if err != nil {
		return "", err
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return "", errors.New("not an ed25519 key")
	}
	pub, _, err := encodeKeyPair(ek.Public().(ed25519.PublicKey), ek)
	return pub, err
}

// checkAdminPair checks that the public key is the private key's, when both are values in the file.
func checkAdminPair(pub, priv *Secret) error {
	p, k := fieldValue(pub, AdminPublicKeyField), fieldValue(priv, AdminPrivateKeyField)
	if p == nil || k == nil {
		return nil
	}
	want, err := adminPublicFromPrivate(*k)
	if err != nil {
		return fmt.Errorf("secret %s: %w", AdminPrivateKey, err)
	}
	if strings.TrimSpace(want) != strings.TrimSpace(*p) {
		return fmt.Errorf("secret %s is not the public half of %s: --rotate %s makes a new pair", AdminPublicKey, AdminPrivateKey, AdminPublicKey)
	}
	return nil
}

func parsePrivateKey(s string) (crypto.Signer, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("no PEM private key")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		if signer, ok := k.(crypto.Signer); ok {
			return signer, nil
		}
		return nil, errors.New("the key cannot sign")
	}
	if k, err := x509.ParseECPrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("the %s block is not a PKCS#8, EC or PKCS#1 private key", block.Type)
}

// newCA makes the KBS CA: an ECDSA P-256 key (PEM PKCS#8, which cert-manager's CA issuer reads from tls.key)
// and its self-signed certificate.
func newCA(r io.Reader, pattern string, now time.Time) (key string, cert []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), r)
	if err != nil {
		return "", nil, fmt.Errorf("CA key: %w", err)
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", nil, err
	}
	cert, err = caCertificate(r, k, pattern, now)
	if err != nil {
		return "", nil, err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd})), cert, nil
}

// caCertificate is a self-signed CA certificate for key, valid for ten years from now (an hour back, for
// clocks that lag), that may sign only end-entity certificates (path length 0): the KBS certificate.
func caCertificate(r io.Reader, key crypto.Signer, pattern string, now time.Time) ([]byte, error) {
	serial, err := rand.Int(r, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("CA serial: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: pattern + " KBS CA", Organization: []string{"cocogen"}},
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.AddDate(10, 0, 0).UTC(),
		IsCA:                  true,
		BasicConstraintsValid: true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(r, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("CA certificate: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

// certMatchesKey checks that the first certificate of data is key's.
func certMatchesKey(data []byte, key crypto.Signer) error {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return errors.New("no PEM certificate")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return fmt.Errorf("the certificate does not parse: %w", err)
	}
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := key.Public().(equaler); !ok || !e.Equal(c.PublicKey) {
		return fmt.Errorf("the certificate is not the CA key's (secret %s)", CA)
	}
	return nil
}
