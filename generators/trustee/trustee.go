// Package trustee renders the objects of the trustee application: the KbsConfig that the trustee operator
// deploys the key broker (KBS) and the attestation service from, the KBS configuration, the resource and
// attestation policies, the reference values that bind the rendered init-data, the KBS TLS certificate and
// Route, and the ExternalSecrets that bring the KBS resources and the admin key from Vault.
//
// No secret value is ever rendered: secrets are ExternalSecrets that name a Vault path and a property.
// Render is a pure function: the choices, facts, policies and digests come in, objects go out.
package trustee

import (
	"cmp"
	"fmt"
	"path"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/release"
	"github.com/cocogen/cocogen/internal/rvps"
	"github.com/cocogen/cocogen/internal/srcpos"
)

// Names of the objects the KbsConfig refers to.
const (
	KbsConfigName         = "kbsconfig"
	ConfigMapKBSConfig    = "kbs-config"
	ConfigMapResource     = "resource-policy"
	ConfigMapAttestation  = "attestation-policy"
	ConfigMapGPU          = "attestation-policy-gpu"
	ConfigMapRefValues    = rvps.ConfigMapName
	SecretAdminKey        = "kbs-auth-public-key"
	SecretTLS             = "kbs-tls"
	SecretCA              = "kbs-ca"
	SecretToken           = "attestation-token"
	IssuerCA              = "kbs-ca"
	IssuerACME            = "kbs-acme"
	IssuerTokenSelfSigned = "attestation-token-selfsigned"
	RouteName             = "kbs"
	ServiceName           = "kbs-service" // created by the trustee operator
	ServicePort           = 8080
)

// Keys of the ConfigMaps in the layout of every release whose configuration cocogen writes
// (release.LayoutStorage: trustee-operator v0.21.0, Red Hat's 1.2.x): the operator mounts kbs-config.toml at
// /etc/kbs-config, the attestation policy as default_cpu.rego, the resource policy as resource-policy.rego,
// the reference values key reference_value into the RVPS store, and each named Secret under /etc/<volume>.
// Render takes them from the release (Input.Release.Layout); TestLayoutKeys keeps these equal.
const (
	keyKBSConfig = "kbs-config.toml"
	// KeyResource, KeyAttestation and KeyRefValues are the keys of the resource policy, the attestation
	// policy and the RVPS store in their ConfigMaps.
	KeyResource    = "resource-policy.rego"
	KeyAttestation = "default_cpu.rego"
	// KeyAttestationGPU is the key of the GPU attestation policy in its ConfigMap: the operator mounts it as
	// default_gpu.rego beside default_cpu.rego (kbsGpuAttestationPolicyConfigMapName; trustee-operator v0.21.0
	// and openshift/trustee-operator v1.2.0 internal/controller/kbsconfig_controller.go, with subPath
	// default_gpu.rego), the policy the attestation service evaluates for evidence of class gpu.
	KeyAttestationGPU = "default_gpu.rego"
	KeyRefValues      = rvps.StoreKey
	adminKeyField     = "publicKey"
)

// Annotations on the reference values ConfigMap: which init-data profiles they bind.
const AnnotationProfiles = "cocogen.io/initdata-profiles"

// Trust anchor modes (metadata kbs.trustAnchor.mode) decide where the KBS certificate comes from.
const (
	TLSCA     = "ca"     // a CA in Git (public half) and Vault (key) issues the leaf through cert-manager
	TLSPublic = "public" // an ACME issuer (e.g. Let's Encrypt); the guest trusts public roots
	TLSLeaf   = "leaf"   // the pinned leaf (Git) and its key (Vault)
)

// ReferenceValue is one RVPS reference value (its Expiration, when empty, is Input.Expiration).
type ReferenceValue = rvps.ReferenceValue

// Resource is one KBS resource secret and its keys.
type Resource struct {
	Name string
	Keys []string
}

// Input is what the trustee application is rendered from.
type Input struct {
	Namespace string
	// Release is the trustee-operator release the cluster installs (its row in internal/release): the KBS
	// configuration format, the ConfigMap keys and mount paths, and the annotations its ConfigMaps need.
	Release release.TrusteeRelease
	// KBSHost is the host name of the KBS endpoint (the Route host and the certificate's DNS name).
	KBSHost string
	// TLSMode is one of TLSCA, TLSPublic and TLSLeaf; TrustAnchorPEM is the certificate in Git for ca and leaf.
	TLSMode        string
	TrustAnchorPEM string
	// ACME is global.coco.trustee.acme (server, email, solvers) for TLSPublic.
	ACME    *node.Node
	ACMEPos srcpos.Pos
	// Vault: the ExternalSecrets read <VaultPrefix>/<name> from the store.
	VaultPrefix string
	StoreName   string
	StoreKind   string
	Resources   []Resource
	// ResourcePolicy and AttestationPolicy are the rendered policies (package policy).
	ResourcePolicy    []byte
	AttestationPolicy []byte
	// ReferenceValues and their expiry (YYYY-MM-DDTHH:MM:SSZ); Profiles names the profiles they bind.
	ReferenceValues []ReferenceValue
	Expiration      string
	Profiles        []string
	// Verifiers configures the attestation service's verifiers for bare-metal TEEs (nil on Azure, where the
	// vTPM evidence carries its own endorsements).
	Verifiers *Verifiers
	// JobImage runs the CronJob that restarts the KBS when a Secret it loads at start changes, on
	// ReloadSchedule; no reloader is rendered when JobImage is "".
	JobImage       string
	ReloadSchedule string
	Pos            srcpos.Pos
	Source         string
}

// Render returns the trustee objects.
func Render(in Input) ([]manifest.Object, *diag.List) {
	d := &diag.List{}
	r := in.Release
	if !r.Writes() || r.Format != release.WrittenFormat {
		d.Errorf(in.Pos, "global.coco.trustee.version", "cocogen writes the configuration of Trustee %s only, not of %s (Trustee %s): %s", release.WrittenFormat, cmp.Or(r.CSV, r.Product), r.Format, r.Unsupported)
		return nil, d
	}
	l := r.Layout
	if in.KBSHost == "" {
		d.Errorf(in.Pos, "kbs.url", "the KBS host is unknown: set kbs.url or cluster.appsDomain in the metadata")
	}
	if in.Expiration == "" {
		d.Errorf(in.Pos, "global.coco.trustee.referenceValues.expiration", "is required: when the reference values expire (YYYY-MM-DDTHH:MM:SSZ); renew it with the policies")
	}
	if d.HasErrors() {
		return nil, d
	}
	var objs []*node.Node
	add := func(n *node.Node) { objs = append(objs, n) }

	kbsConfig := KBSConfig(r) + in.Verifiers.config()
	if _, err := toml.Decode(kbsConfig, new(map[string]any)); err != nil {
		d.Errorf(in.Pos, "", "internal error: the KBS configuration is not TOML: %v", err)
		return nil, d
	}
	// The ConfigMaps the KbsConfig names carry what the release asks of them (Red Hat's 1.2.x: the
	// annotation that stops its migration from deleting or rewriting them).
	cmAnn := func() *node.Node {
		if len(r.ConfigMapAnnotations) == 0 {
			return nil
		}
		a := node.NewMap()
		for _, x := range r.ConfigMapAnnotations {
			a.Set(x.Key, str(x.Value))
		}
		return a
	}
	add(configMap(in.Namespace, ConfigMapKBSConfig, cmAnn(), str(l.KBSConfigKey), str(kbsConfig)))
	add(configMap(in.Namespace, ConfigMapResource, cmAnn(), str(l.ResourcePolicyKey), str(string(in.ResourcePolicy))))
	add(configMap(in.Namespace, ConfigMapAttestation, cmAnn(), str(l.AttestationPolicyKey), str(string(in.AttestationPolicy))))
	gpus := in.Verifiers != nil && in.Verifiers.NVIDIA
	if gpus {
		// The same policy appraises the GPUs: its GPU submodule recognises their evidence (input.nvidia).
		add(configMap(in.Namespace, ConfigMapGPU, cmAnn(), str(KeyAttestationGPU), str(string(in.AttestationPolicy))))
	}
	stored, readable, err := rvps.Encode(in.ReferenceValues, in.Expiration)
	if err != nil {
		d.Errorf(in.Pos, "", "reference values: %v", err)
		return nil, d
	}
	rvAnn := node.NewMap().Set(AnnotationProfiles, str(strings.Join(in.Profiles, ",")))
	if a := cmAnn(); a != nil {
		for _, e := range a.Entries() {
			rvAnn.Set(e.Key, e.Value)
		}
	}
	add(configMap(in.Namespace, ConfigMapRefValues, node.Sorted(rvAnn), str(l.RefValuesKey), str(stored), str(rvps.ReadableKey), str(readable)))

	// Secrets from Vault: the admin public key and every KBS resource, key by key, so that the Secret holds
	// exactly the keys that Git lists (and the checks across applications can rely on them).
	add(externalSecret(in, SecretAdminKey, "kbsPublicKey", []string{adminKeyField}, nil))
	secretNames := make([]*node.Node, 0, len(in.Resources))
	for _, r := range in.Resources {
		add(externalSecret(in, r.Name, r.Name, r.Keys, nil))
		secretNames = append(secretNames, str(r.Name))
	}

	switch in.TLSMode {
	case TLSCA:
		// The CA certificate comes from Git (the same bytes init-data embeds), its key from Vault.
		add(tlsFromVault(in, SecretCA, "kbsCA"))
		add(issuer(in.Namespace, IssuerCA, node.NewMap().Set("ca", node.NewMap().Set("secretName", str(SecretCA)))))
		add(certificate(in.Namespace, SecretTLS, IssuerCA, in.KBSHost))
	case TLSPublic:
		acme, ok := acmeSpec(in, d)
		if !ok {
			return nil, d
		}
		add(issuer(in.Namespace, IssuerACME, node.NewMap().Set("acme", acme)))
		add(certificate(in.Namespace, SecretTLS, IssuerACME, in.KBSHost))
	case TLSLeaf:
		add(tlsFromVault(in, SecretTLS, "kbsTLS"))
	default:
		d.Errorf(in.Pos, "kbs.trustAnchor.mode", "unknown trust anchor mode %q", in.TLSMode)
		return nil, d
	}

	// The attestation token signer: Trustee 0.21 signs EAR tokens with a P-256 key and the KBS trusts the
	// certificate that comes with it.
	add(issuer(in.Namespace, IssuerTokenSelfSigned, node.NewMap().Set("selfSigned", node.NewMap())))
	add(object("cert-manager.io/v1", "Certificate", in.Namespace, SecretToken, "2").
		Set("spec", node.NewMap().
			Set("commonName", str("kbs-attestation-token")).
			Set("duration", str("8760h")).
			Set("issuerRef", node.NewMap().Set("kind", str("Issuer")).Set("name", str(IssuerTokenSelfSigned))).
			Set("privateKey", node.NewMap().Set("algorithm", str("ECDSA")).Set("encoding", str("PKCS8")).Set("rotationPolicy", str("Always")).Set("size", node.NewInt(256))).
			Set("renewBefore", str("720h")).
			Set("secretName", str(SecretToken))))

	add(object("route.openshift.io/v1", "Route", in.Namespace, RouteName, "3").
		Set("spec", node.NewMap().
			Set("host", str(in.KBSHost)).
			Set("port", node.NewMap().Set("targetPort", str("kbs-port"))).
			Set("tls", node.NewMap().Set("insecureEdgeTerminationPolicy", str("None")).Set("termination", str("passthrough"))).
			Set("to", node.NewMap().Set("kind", str("Service")).Set("name", str(ServiceName)).Set("weight", node.NewInt(100)))))

	spec := node.NewMap().
		Set("kbsAttestationCertSecretName", str(SecretToken)).
		Set("kbsAttestationKeySecretName", str(SecretToken)).
		Set("kbsAttestationPolicyConfigMapName", str(ConfigMapAttestation)).
		Set("kbsAuthSecretName", str(SecretAdminKey)).
		Set("kbsConfigMapName", str(ConfigMapKBSConfig)).
		Set("kbsDeploymentType", str("AllInOneDeployment"))
	if gpus {
		spec.Set("kbsGpuAttestationPolicyConfigMapName", str(ConfigMapGPU))
	}
	spec.Set("kbsHttpsCertSecretName", str(SecretTLS)).
		Set("kbsHttpsKeySecretName", str(SecretTLS)).
		Set("kbsResourcePolicyConfigMapName", str(ConfigMapResource)).
		Set("kbsRvpsRefValuesConfigMapName", str(ConfigMapRefValues)).
		Set("kbsSecretResources", node.NewList(secretNames...)).
		Set("kbsServiceType", str("ClusterIP"))
	add(object("confidentialcontainers.org/v1alpha1", "KbsConfig", in.Namespace, KbsConfigName, "3").Set("spec", spec))

	if in.JobImage != "" {
		// The Secrets the KBS loads at start: TLS, the admin key, the token signer and every resource.
		mounted := []string{SecretTLS, SecretAdminKey, SecretToken}
		for _, r := range in.Resources {
			mounted = append(mounted, r.Name)
		}
		objs = append(objs, reloadObjects(in, mounted, in.ReloadSchedule)...)
	}

	out := make([]manifest.Object, len(objs))
	for i, o := range objs {
		out[i] = manifest.Object{Node: o, Source: in.Source}
	}
	return out, d
}

func str(s string) *node.Node { return node.NewString(s) }

func object(apiVersion, kind, namespace, name, wave string) *node.Node {
	o := manifest.NewObject(apiVersion, kind, name, namespace)
	if wave != "" {
		o.Get("metadata").Set("annotations", node.NewMap().Set("argocd.argoproj.io/sync-wave", str(wave)))
	}
	return o
}

func configMap(namespace, name string, annotations *node.Node, kv ...*node.Node) *node.Node {
	cm := object("v1", "ConfigMap", namespace, name, "")
	if annotations != nil {
		cm.Get("metadata").Set("annotations", annotations)
	}
	data := node.NewMap()
	for i := 0; i+1 < len(kv); i += 2 {
		data.Set(kv[i].Text, kv[i+1])
	}
	return cm.Set("data", data)
}

func issuer(namespace, name string, spec *node.Node) *node.Node {
	return object("cert-manager.io/v1", "Issuer", namespace, name, "1").Set("spec", spec)
}

// certificate is the KBS serving certificate for host; its Secret is mounted as the KBS key and certificate.
func certificate(namespace, name, issuerName, host string) *node.Node {
	return object("cert-manager.io/v1", "Certificate", namespace, name, "2").
		Set("spec", node.NewMap().
			Set("dnsNames", node.NewList(str(host))).
			Set("duration", str("2160h")).
			Set("issuerRef", node.NewMap().Set("kind", str("Issuer")).Set("name", str(issuerName))).
			Set("privateKey", node.NewMap().Set("algorithm", str("ECDSA")).Set("rotationPolicy", str("Always")).Set("size", node.NewInt(256))).
			Set("renewBefore", str("360h")).
			Set("secretName", str(name)))
}

// tlsFromVault makes the kubernetes.io/tls Secret name from the trust anchor certificate in Git and its
// private key, the property key of the Vault secret vaultName.
func tlsFromVault(in Input, name, vaultName string) *node.Node {
	tmpl := node.NewMap().
		Set("engineVersion", str("v2")).
		Set("type", str("kubernetes.io/tls")).
		Set("data", node.NewMap().
			Set("tls.crt", str(in.TrustAnchorPEM)).
			Set("tls.key", str("{{ .key }}")))
	return externalSecret(in, name, vaultName, []string{"key"}, tmpl)
}

// externalSecret makes the Secret name from the Vault secret <prefix>/<vaultName>, one Secret key per
// property, before everything that mounts it (sync wave 0). template, when set, builds the Secret from those
// properties (ESO template engine v2).
func externalSecret(in Input, name, vaultName string, keys []string, template *node.Node) *node.Node {
	data := node.NewList()
	for _, k := range keys {
		data.Append(node.NewMap().
			Set("remoteRef", node.NewMap().Set("key", str(in.VaultPrefix+"/"+vaultName)).Set("property", str(k))).
			Set("secretKey", str(k)))
	}
	target := node.NewMap().Set("creationPolicy", str("Owner")).Set("name", str(name))
	if template != nil {
		target.Set("template", template)
	}
	return object("external-secrets.io/v1", "ExternalSecret", in.Namespace, name, "0").
		Set("spec", node.NewMap().
			Set("data", data).
			Set("refreshInterval", str("15m")).
			Set("secretStoreRef", node.NewMap().Set("kind", str(in.StoreKind)).Set("name", str(in.StoreName))).
			Set("target", target))
}

// acmeSpec builds the ACME issuer from global.coco.trustee.acme: server and email are required, and solvers
// (cert-manager's own format) because the KBS Route is passthrough and no default solver fits every cluster.
func acmeSpec(in Input, d *diag.List) (*node.Node, bool) {
	const path = "global.coco.trustee.acme"
	a := in.ACME
	if a == nil {
		d.Errorf(in.ACMEPos, path, "the KBS trust anchor mode is public, so the KBS certificate comes from an ACME issuer: set server, email and solvers (cert-manager's ACME solver list; a DNS-01 solver suits the passthrough kbs Route)")
		return nil, false
	}
	ok := true
	for _, k := range []string{"server", "email"} {
		if a.Get(k).Scalar() == "" {
			d.Errorf(a.Pos, path+"."+k, "is required for the ACME issuer")
			ok = false
		}
	}
	solvers := a.Get("solvers")
	if solvers == nil || solvers.Kind != node.List || solvers.Len() == 0 {
		d.Errorf(a.Pos, path+".solvers", "is required: a list of cert-manager ACME solvers (e.g. a dns01 solver of your DNS provider)")
		ok = false
	}
	if !ok {
		return nil, false
	}
	return node.NewMap().
		Set("email", str(a.Get("email").Scalar())).
		Set("privateKeySecretRef", node.NewMap().Set("name", str("kbs-acme-account"))).
		Set("server", str(a.Get("server").Scalar())).
		Set("solvers", node.Sorted(solvers)), true
}

// KBSConfig is the KBS configuration of a release whose format cocogen writes (Trustee 0.21: trustee v0.21.0
// kbs/docs/config.md and kbs/src/config.rs; Red Hat's 1.2.x reads the same, openshift/trustee v1.2.0): TLS
// from the kbs-tls Secret, the admin API only for JWTs signed by the admin key (role admin), attestation
// tokens verified against the token signer's certificate, and the storage layout of the release's operator
// (resources and policies under its storage directory, reference values in the local JSON store at the path
// the operator mounts the reference values ConfigMap). Every path comes from the release's Layout.
func KBSConfig(r release.TrusteeRelease) string {
	l := r.Layout
	var b strings.Builder
	fmt.Fprintf(&b, `# KBS configuration for Trustee %s (%s), written by cocogen (the trustee application).
# Paths are where that operator mounts the Secrets and ConfigMaps that the KbsConfig names.

[http_server]
sockets = ["0.0.0.0:8080"]
insecure_http = false
private_key = %q
certificate = %q

# The admin API accepts only JWTs signed with the admin key (Vault: kbsPublicKey) whose role claim is admin.
[admin]
authorization_mode = "AuthenticatedAuthorization"

[admin.authentication.bearer_jwt]
identity_providers = [{ public_key_uri = %q }]

[admin.authorization.regex_acl]
acls = [{ role = "admin", allowed_endpoints = "^/kbs/v0/.*$" }]

# Attestation tokens must be signed by the token signer below (its certificate is the trust anchor).
[attestation_token]
trusted_certs_paths = [%q]
insecure_header_jwk = false

[attestation_service]
type = "coco_as_builtin"
timeout = 5

[attestation_service.attestation_token_broker]
duration_min = 5

[attestation_service.attestation_token_broker.signer]
key_path = %q
cert_path = %q

# Reference values: the local JSON store, whose %s file the rvps-reference-values ConfigMap is.
[attestation_service.rvps_config]
type = "BuiltIn"
storage_type = "LocalJson"

[storage_backend]
storage_type = "LocalFs"

[storage_backend.backends.local_fs]
dir_path = %q

[storage_backend.backends.local_json]
file_dir_path = %q

[[plugins]]
name = "resource"
storage_backend_type = "kvstorage"
`, r.Format, cmp.Or(r.Product, r.CSV),
		path.Join(l.HTTPSKey, "tls.key"), path.Join(l.HTTPSCert, "tls.crt"),
		path.Join(l.AdminKey, adminKeyField),
		path.Join(l.TokenCert, "tls.crt"),
		path.Join(l.TokenKey, "tls.key"), path.Join(l.TokenCert, "tls.crt"),
		l.RefValuesKey, l.StorageDir, path.Dir(l.RefValuesPath))
	return b.String()
}

// Verifiers is the verifier configuration of the built-in attestation service for bare-metal TEEs.
type Verifiers struct {
	// TDXCollateralService is the PCCS (or Intel's PCS) that the TDX verifier fetches collateral from: the PCK
	// certificate chain, TCB info and the quoting enclave's identity; "" when the cluster has no TDX hosts.
	TDXCollateralService string
	// SNP says the cluster has SEV-SNP hosts: the verifier then fetches the VCEK that signed each report from
	// AMD's key distribution service.
	SNP bool
	// NVIDIA says pod VMs carry NVIDIA GPUs in confidential computing mode: the verifier then checks their
	// evidence itself, against NVIDIA's device root certificate built into it (no call to NVIDIA's remote
	// attestation service).
	NVIDIA bool
	// NVIDIARemote sends each GPU's evidence to NVIDIA's remote attestation service instead (NRAS, at its
	// default URL; a licence agreement with NVIDIA is needed), which reports the results of its checks.
	NVIDIARemote bool
}

// config is the [attestation_service.verifier_config] part of the KBS configuration (trustee v0.21.0
// deps/verifier/src/lib.rs VerifierConfig: dcap_verifier is intel_dcap::QcnlConfig {collateral_service,
// use_secure_cert, tcb_update_type}; snp_verifier is snp::SnpVerifierConfig {vcek_sources: [{type = "KDS",
// base_url} | {type = "OfflineStore", path}]}, KDS at AMD's default URL when base_url is absent;
// nvidia_verifier is nvidia::NvidiaVerifierConfig, type "Local" or "Remote" with verifier_url). Red Hat's
// 1.2.x reads the same (openshift/trustee v1.2.0).
func (v *Verifiers) config() string {
	if v == nil || v.TDXCollateralService == "" && !v.SNP && !v.NVIDIA {
		return ""
	}
	var b strings.Builder
	if v.TDXCollateralService != "" {
		fmt.Fprintf(&b, `
# Intel TDX: the collateral that quotes are checked against (PCK certificates, TCB info, QE identity) comes
# from this service (global.coco.baremetal.tdxCollateralService: Intel's PCS, or a PCCS that caches it).
[attestation_service.verifier_config.dcap_verifier]
collateral_service = %q
`, v.TDXCollateralService)
	}
	if v.SNP {
		b.WriteString(`
# AMD SEV-SNP: the VCEK that signs each report is fetched from AMD's key distribution service, whose chain ends
# at the AMD root keys built into the verifier.
[[attestation_service.verifier_config.snp_verifier.vcek_sources]]
type = "KDS"
`)
	}
	switch {
	case v.NVIDIA && v.NVIDIARemote:
		b.WriteString(`
# NVIDIA GPUs: each GPU's evidence is sent to NVIDIA's remote attestation service (NRAS), whose signed results
# (secure boot, debug state, the reference measurements of driver and VBIOS) are the GPU's claims, appraised
# as a submodule of its own in the token (global.coco.baremetal.nvidiaVerifier: remote).
[attestation_service.verifier_config.nvidia_verifier]
type = "Remote"
`)
	case v.NVIDIA:
		b.WriteString(`
# NVIDIA GPUs: each GPU's evidence (its attestation report and certificate chain) is verified locally, up to
# NVIDIA's device root certificate; the GPU's claims are appraised as a submodule of its own in the token.
[attestation_service.verifier_config.nvidia_verifier]
type = "Local"
`)
	}
	return b.String()
}
