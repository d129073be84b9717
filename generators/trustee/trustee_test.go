package trustee

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/cocogen/cocogen/internal/crdschema/crdschematest"
	"github.com/cocogen/cocogen/internal/diag"
	"github.com/cocogen/cocogen/internal/manifest"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/release"
	"github.com/cocogen/cocogen/internal/rvps"
	"github.com/cocogen/cocogen/internal/srcpos"
)

const testCA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"

// row returns a release row of the tables, failing the test when it is missing.
func row(t testing.TB, catalog, csv string) release.TrusteeRelease {
	t.Helper()
	r, ok := release.Trustee(catalog, csv)
	if !ok {
		t.Fatalf("no row for %s %s", catalog, csv)
	}
	return r
}

func input(mode string) Input {
	r, _ := release.Trustee(release.CatalogRedHat, "trustee-operator.v1.2.0")
	return Input{
		Namespace:         "trustee-operator-system",
		Release:           r,
		KBSHost:           "kbs.apps.example.com",
		TLSMode:           mode,
		TrustAnchorPEM:    testCA,
		VaultPrefix:       "secret/data/hub",
		StoreName:         "vault-backend",
		StoreKind:         "ClusterSecretStore",
		Resources:         []Resource{{Name: "kbsres1", Keys: []string{"key1", "key2"}}, {Name: "security-policy", Keys: []string{"insecure"}}},
		ResourcePolicy:    []byte("package policy\n\ndefault allow := false\n"),
		AttestationPolicy: []byte("package policy\n\ntrust_claims := {}\n"),
		ReferenceValues: []ReferenceValue{
			{Name: "cocogen_snp_launch_measurements", Value: []string{"aa", "bb"}},
			{Name: "cocogen_tdx_tcb_statuses", Value: []string{"UpToDate"}},
		},
		Expiration: "2027-12-31T00:00:00Z",
		Profiles:   []string{"debug", "default"},
		Pos:        srcpos.Pos{File: "values-global.yaml", Line: 30, Col: 5},
		Source:     "values-azure.yaml:80:16 clusterGroup.applications.trustee.cocogen",
	}
}

func find(objs []manifest.Object, kind, name string) *node.Node {
	for _, o := range objs {
		if o.Kind() == kind && o.Name() == name {
			return o.Node
		}
	}
	return nil
}

func mustRender(t *testing.T, in Input) []manifest.Object {
	t.Helper()
	objs, d := Render(in)
	if d.HasErrors() {
		t.Fatal(d.Sorted())
	}
	return objs
}

func TestRenderValidatesAgainstCRDs(t *testing.T) {
	s := crdschematest.Load(t)
	acme, err := node.Parse("v.yaml", []byte("server: https://acme-staging-v02.api.letsencrypt.org/directory\nemail: ops@example.com\nsolvers:\n  - dns01:\n      route53:\n        region: us-east-1\n"), node.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	for _, mode := range []string{TLSCA, TLSPublic, TLSLeaf} {
		t.Run(mode, func(t *testing.T) {
			in := input(mode)
			in.ACME = acme
			kinds := map[string]int{}
			for _, o := range mustRender(t, in) {
				kinds[o.Kind()]++
				if !s.Has(o.APIVersion(), o.Kind()) {
					if o.APIVersion() != "v1" {
						t.Errorf("%s: no CRD to validate against", o.ID())
					}
					continue
				}
				if err := s.Validate(o.Node); err != nil {
					t.Error(err)
				}
			}
			for _, k := range []string{"KbsConfig", "Route", "ExternalSecret", "Certificate", "Issuer", "ConfigMap"} {
				if kinds[k] == 0 {
					t.Errorf("no %s rendered (kinds: %v)", k, kinds)
				}
			}
		})
	}
}

func TestKbsConfigWiring(t *testing.T) {
	objs := mustRender(t, input(TLSCA))
	kc := find(objs, "KbsConfig", KbsConfigName)
	if kc == nil {
		t.Fatal("no KbsConfig")
	}
	spec := kc.Get("spec")
	// Every ConfigMap and Secret the KbsConfig names is rendered here (or made by cert-manager from a
	// rendered Certificate).
	for _, k := range []string{"kbsConfigMapName", "kbsResourcePolicyConfigMapName", "kbsAttestationPolicyConfigMapName", "kbsRvpsRefValuesConfigMapName"} {
		if find(objs, "ConfigMap", spec.Get(k).Scalar()) == nil {
			t.Errorf("%s names %q, which is not rendered", k, spec.Get(k).Scalar())
		}
	}
	for _, k := range []string{"kbsHttpsCertSecretName", "kbsHttpsKeySecretName", "kbsAttestationCertSecretName", "kbsAttestationKeySecretName"} {
		name := spec.Get(k).Scalar()
		found := false
		for _, o := range objs {
			if o.Kind() == "Certificate" && o.Node.Path("spec", "secretName").Scalar() == name {
				found = true
			}
		}
		if !found {
			t.Errorf("%s names %q, which no Certificate writes", k, name)
		}
	}
	if find(objs, "ExternalSecret", spec.Get("kbsAuthSecretName").Scalar()) == nil {
		t.Error("the admin key secret is not an ExternalSecret")
	}
	var res []string
	for _, it := range spec.Get("kbsSecretResources").Items() {
		res = append(res, it.Scalar())
		if find(objs, "ExternalSecret", it.Scalar()) == nil {
			t.Errorf("resource %s is not an ExternalSecret", it.Scalar())
		}
	}
	if strings.Join(res, ",") != "kbsres1,security-policy" {
		t.Errorf("kbsSecretResources = %v", res)
	}
	if r := find(objs, "Route", RouteName); r.Path("spec", "host").Scalar() != "kbs.apps.example.com" || r.Path("spec", "tls", "termination").Scalar() != "passthrough" {
		t.Errorf("route = %v", r)
	}
}

func TestNoSecretValuesRendered(t *testing.T) {
	for _, mode := range []string{TLSCA, TLSLeaf} {
		for _, o := range mustRender(t, input(mode)) {
			if o.Kind() == "Secret" {
				t.Errorf("%s: a Secret is rendered", o.ID())
			}
			if o.Kind() != "ExternalSecret" {
				continue
			}
			for _, it := range o.Node.Path("spec", "data").Items() {
				if it.Path("remoteRef", "key").Scalar() == "" || it.Path("remoteRef", "property").Scalar() == "" {
					t.Errorf("%s: entry without a Vault reference: %v", o.ID(), it)
				}
			}
			// A template may only hold the public certificate from Git and references to fetched properties.
			if data := o.Node.Path("spec", "target", "template", "data"); data != nil {
				for _, e := range data.Entries() {
					v := e.Value.Scalar()
					if strings.Contains(v, "PRIVATE KEY") || (e.Key == "tls.key" && v != "{{ .key }}") {
						t.Errorf("%s: template %s holds a value: %q", o.ID(), e.Key, v)
					}
				}
			}
		}
	}
}

func TestCAModeUsesTheTrustAnchorFromGit(t *testing.T) {
	objs := mustRender(t, input(TLSCA))
	ca := find(objs, "ExternalSecret", SecretCA)
	if got := ca.Path("spec", "target", "template", "data", "tls.crt").Scalar(); got != testCA {
		t.Errorf("CA certificate = %q", got)
	}
	cert := find(objs, "Certificate", SecretTLS)
	if cert.Path("spec", "issuerRef", "name").Scalar() != IssuerCA || cert.Path("spec", "dnsNames").Items()[0].Scalar() != "kbs.apps.example.com" {
		t.Errorf("certificate = %v", cert)
	}
}

func TestKBSConfigIsTOML(t *testing.T) {
	var cfg map[string]any
	if _, err := toml.Decode(KBSConfig(input(TLSCA).Release), &cfg); err != nil {
		t.Fatal(err)
	}
	admin := cfg["admin"].(map[string]any)
	if admin["authorization_mode"] != "AuthenticatedAuthorization" {
		t.Errorf("admin = %v", admin)
	}
	plugins := cfg["plugins"].([]map[string]any)
	if len(plugins) != 1 || plugins[0]["name"] != "resource" || plugins[0]["storage_backend_type"] != "kvstorage" {
		t.Errorf("plugins = %v", plugins)
	}
	objs := mustRender(t, input(TLSCA))
	if got := find(objs, "ConfigMap", ConfigMapKBSConfig).Path("data", keyKBSConfig).Scalar(); got != KBSConfig(input(TLSCA).Release) {
		t.Error("the ConfigMap does not carry KBSConfig()")
	}
}

func TestReferenceValuesStore(t *testing.T) {
	objs := mustRender(t, input(TLSCA))
	cm := find(objs, "ConfigMap", ConfigMapRefValues)
	stored, err := rvps.Decode([]byte(cm.Path("data", KeyRefValues).Scalar()))
	if err != nil {
		t.Fatal(err)
	}
	var rv struct {
		Version, Name, Expiration string
		Value                     []string
	}
	if err := json.Unmarshal(stored["cocogen_snp_launch_measurements"], &rv); err != nil {
		t.Fatal(err)
	}
	if rv.Version != "0.1.0" || rv.Name != "cocogen_snp_launch_measurements" || rv.Expiration != "2027-12-31T00:00:00Z" || strings.Join(rv.Value, ",") != "aa,bb" {
		t.Errorf("stored reference value = %+v", rv)
	}
	var readable []map[string]any
	if err := json.Unmarshal([]byte(cm.Path("data", rvps.ReadableKey).Scalar()), &readable); err != nil {
		t.Fatal(err)
	}
	if len(readable) != 2 || readable[0]["name"] != "cocogen_snp_launch_measurements" {
		t.Errorf("readable twin = %v", readable)
	}
	if got := cm.Path("metadata", "annotations", AnnotationProfiles).Scalar(); got != "debug,default" {
		t.Errorf("profiles annotation = %q", got)
	}
}

func TestRenderErrors(t *testing.T) {
	cases := map[string]struct {
		edit func(*Input)
		want string
	}{
		"version": {func(in *Input) { in.Release, _ = release.Trustee(release.CatalogRedHat, "trustee-operator.v1.1.0") },
			`Trustee 0.21 only, not of trustee-operator.v1.1.0 (Trustee 0.18): cocogen writes the KBS configuration of Trustee 0.21`},
		"no expiry":    {func(in *Input) { in.Expiration = "" }, "expiration: is required"},
		"acme missing": {func(in *Input) { in.TLSMode = TLSPublic }, "global.coco.trustee.acme: the KBS trust anchor mode is public"},
		"no host":      {func(in *Input) { in.KBSHost = "" }, "the KBS host is unknown"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			in := input(TLSCA)
			c.edit(&in)
			objs, d := Render(in)
			var msgs []string
			for _, x := range d.Sorted() {
				if x.Severity == diag.Error {
					msgs = append(msgs, x.String())
				}
			}
			if objs != nil || !strings.Contains(strings.Join(msgs, "\n"), c.want) {
				t.Errorf("objects %d, errors %q; want %q", len(objs), msgs, c.want)
			}
		})
	}
}

// The exported keys, which other packages read the rendered ConfigMaps by, are the keys of the layout of every
// release cocogen writes.
func TestLayoutKeys(t *testing.T) {
	for _, r := range release.TrusteeReleases() {
		if !r.Writes() {
			continue
		}
		l := r.Layout
		if l.KBSConfigKey != keyKBSConfig || l.ResourcePolicyKey != KeyResource || l.AttestationPolicyKey != KeyAttestation || l.RefValuesKey != KeyRefValues {
			t.Errorf("%s: layout keys %+v differ from the generator's", r.CSV, l)
		}
	}
}

// The KBS configuration names the paths at which the release's operator mounts the KbsConfig's Secrets and
// ConfigMaps (release.LayoutStorage, read in openshift/trustee-operator v1.2.0 and trustee-operator v0.21.0).
func TestKBSConfigPathsFollowTheLayout(t *testing.T) {
	var cfg struct {
		HTTPServer struct {
			PrivateKey  string `toml:"private_key"`
			Certificate string
		} `toml:"http_server"`
		Admin struct {
			Authentication struct {
				BearerJWT struct {
					IdentityProviders []struct {
						PublicKeyURI string `toml:"public_key_uri"`
					} `toml:"identity_providers"`
				} `toml:"bearer_jwt"`
			}
		}
		AttestationToken struct {
			TrustedCertsPaths []string `toml:"trusted_certs_paths"`
		} `toml:"attestation_token"`
		AttestationService struct {
			Broker struct {
				Signer struct {
					KeyPath  string `toml:"key_path"`
					CertPath string `toml:"cert_path"`
				}
			} `toml:"attestation_token_broker"`
		} `toml:"attestation_service"`
		StorageBackend struct {
			Backends struct {
				LocalFS struct {
					DirPath string `toml:"dir_path"`
				} `toml:"local_fs"`
				LocalJSON struct {
					FileDirPath string `toml:"file_dir_path"`
				} `toml:"local_json"`
			}
		} `toml:"storage_backend"`
	}
	r := row(t, release.CatalogCommunity, "trustee-operator.v0.21.0")
	if _, err := toml.Decode(KBSConfig(r), &cfg); err != nil {
		t.Fatal(err)
	}
	got := []string{cfg.HTTPServer.PrivateKey, cfg.HTTPServer.Certificate, cfg.Admin.Authentication.BearerJWT.IdentityProviders[0].PublicKeyURI,
		cfg.AttestationToken.TrustedCertsPaths[0], cfg.AttestationService.Broker.Signer.KeyPath, cfg.AttestationService.Broker.Signer.CertPath,
		cfg.StorageBackend.Backends.LocalFS.DirPath, cfg.StorageBackend.Backends.LocalJSON.FileDirPath}
	want := []string{"/etc/https-key/tls.key", "/etc/https-cert/tls.crt", "/etc/auth-secret/publicKey",
		"/etc/attestation-cert/tls.crt", "/etc/attestation-key/tls.key", "/etc/attestation-cert/tls.crt",
		"/opt/confidential-containers/storage", "/opt/confidential-containers/storage/local_json"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("paths\n%v\nwant\n%v", got, want)
	}
	// The reference values ConfigMap is mounted where the local JSON store reads the reference_value file.
	if dir := cfg.StorageBackend.Backends.LocalJSON.FileDirPath; dir+"/"+KeyRefValues != r.Layout.RefValuesPath {
		t.Errorf("local_json %s does not hold %s", dir, r.Layout.RefValuesPath)
	}
}

// Red Hat's 1.2.x operator deletes or rewrites every ConfigMap the KbsConfig names that lacks its migration
// annotation (openshift/trustee-operator v1.2.0 internal/controller/migration.go); the community operator has
// no such migration.
func TestConfigMapAnnotationsByRelease(t *testing.T) {
	named := []string{ConfigMapKBSConfig, ConfigMapResource, ConfigMapAttestation, ConfigMapRefValues}
	for _, tc := range []struct {
		catalog, csv string
		want         bool
	}{
		{release.CatalogRedHat, "trustee-operator.v1.2.0", true},
		{release.CatalogRedHat, "trustee-operator.v1.2.1", true},
		{release.CatalogCommunity, "trustee-operator.v0.21.0", false},
	} {
		t.Run(tc.csv, func(t *testing.T) {
			in := input(TLSCA)
			in.Release = row(t, tc.catalog, tc.csv)
			objs := mustRender(t, in)
			for _, name := range named {
				cm := find(objs, "ConfigMap", name)
				got := cm.Path("metadata", "annotations", release.MigratedAnnotation.Key).Scalar()
				if (got == release.MigratedAnnotation.Value) != tc.want {
					t.Errorf("%s: migration annotation %q, want present %v", name, got, tc.want)
				}
			}
			if got := find(objs, "ConfigMap", ConfigMapRefValues).Path("metadata", "annotations", AnnotationProfiles).Scalar(); got != "debug,default" {
				t.Errorf("profiles annotation = %q", got)
			}
		})
	}
}
