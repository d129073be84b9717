package release

import (
	"slices"
	"strings"
)

// TrusteePackage is the OLM package of the Trustee operator, Red Hat's build and the community one alike.
const TrusteePackage = "trustee-operator"

// Catalog sources the trustee-operator package is installed from. The Red Hat and the community operator
// share the package name and some CSV names (trustee-operator.v0.3.0), so a row is found by both.
const (
	CatalogRedHat    = "redhat-operators"
	CatalogCommunity = "community-operators"
)

// WrittenFormat is the KBS configuration format cocogen writes: Trustee 0.21's (see KBS config in
// generators/trustee).
const WrittenFormat = "0.21"

// AdminForm is how a KBS release reads its [admin] table.
type AdminForm string

const (
	// AdminAuthorizationMode: authorization_mode = "AuthenticatedAuthorization" with
	// [admin.authentication.bearer_jwt] and [admin.authorization.regex_acl] (trustee v0.21.0
	// kbs/src/admin/mod.rs, #[serde(tag = "authorization_mode", deny_unknown_fields)]).
	AdminAuthorizationMode AdminForm = "authorization_mode"
	// AdminTypeTag: type = "Simple" with [[admin.personas]] id, public_key_path (trustee v0.16.0–v0.20.0
	// kbs/src/admin/mod.rs, #[serde(tag = "type")]); an [admin] table without type is refused.
	AdminTypeTag AdminForm = "type"
	// AdminPublicKey: insecure_api and auth_public_key (trustee v0.15.0 kbs/src/admin/config.rs).
	AdminPublicKey AdminForm = "auth_public_key"
)

// RefValueStore is the format of the reference values ConfigMap the operator mounts into the RVPS.
type RefValueStore string

const (
	// RefValuesObject: key reference_value, a JSON object from name to the URL-safe base64 of the stored
	// reference value's JSON (trustee v0.21.0 deps/key-value-storage/src/local_json/mod.rs).
	RefValuesObject RefValueStore = "reference_value: object of URL-safe base64 JSON (LocalJson store)"
	// RefValuesList: key reference-values.json, a JSON list of {name, expiration, value} (trustee v0.18.0
	// rvps LocalJson file_path).
	RefValuesList RefValueStore = "reference-values.json: list of {name, expiration, value}"
)

// Layout is where an operator release mounts what the KbsConfig names and the keys it reads from each
// ConfigMap; the KBS configuration names these paths.
type Layout struct {
	KBSConfigKey, KBSConfigPath                 string
	ResourcePolicyKey, ResourcePolicyPath       string
	AttestationPolicyKey, AttestationPolicyPath string
	RefValuesKey, RefValuesPath                 string
	// StorageDir is the KBS storage backend's directory (resources, policies, sessions); "" before the
	// storage backend existed.
	StorageDir string
	// HTTPSKey, HTTPSCert, AdminKey, TokenKey and TokenCert are the directories the KbsConfig's Secrets are
	// mounted at (kbsHttpsKeySecretName, kbsHttpsCertSecretName, kbsAuthSecretName,
	// kbsAttestationKeySecretName, kbsAttestationCertSecretName).
	HTTPSKey, HTTPSCert, AdminKey, TokenKey, TokenCert string
}

// secretDirs are the same in every operator release (internal/controller/kbsconfig_controller.go: each Secret
// volume at /etc/<volume name>).
var secretDirs = Layout{HTTPSKey: "/etc/https-key", HTTPSCert: "/etc/https-cert", AdminKey: "/etc/auth-secret",
	TokenKey: "/etc/attestation-key", TokenCert: "/etc/attestation-cert"}

func withSecrets(l Layout) Layout {
	l.HTTPSKey, l.HTTPSCert, l.AdminKey, l.TokenKey, l.TokenCert = secretDirs.HTTPSKey, secretDirs.HTTPSCert, secretDirs.AdminKey, secretDirs.TokenKey, secretDirs.TokenCert
	return l
}

// LayoutStorage is the layout of trustee-operator v0.19.0 and later and of Red Hat's 1.2.x (openshift/trustee-
// operator v1.2.0 internal/controller/common.go and kbsconfig_controller.go; the same in confidential-
// containers/trustee-operator v0.21.0): every store under /opt/confidential-containers/storage.
var LayoutStorage = withSecrets(Layout{
	KBSConfigKey: "kbs-config.toml", KBSConfigPath: "/etc/kbs-config/kbs-config.toml",
	ResourcePolicyKey: "resource-policy.rego", ResourcePolicyPath: "/opt/confidential-containers/storage/kbs/resource-policy.rego",
	AttestationPolicyKey: "default_cpu.rego", AttestationPolicyPath: "/opt/confidential-containers/storage/attestation_service_policy/default_cpu.rego",
	RefValuesKey: "reference_value", RefValuesPath: "/opt/confidential-containers/storage/local_json/reference_value",
	StorageDir: "/opt/confidential-containers/storage",
})

// LayoutLegacy is the layout of trustee-operator v0.18.0 and earlier and of Red Hat's 1.0 and 1.1
// (openshift/trustee-operator v1.1.0 internal/controller/common.go and kbsconfig_controller.go).
var LayoutLegacy = withSecrets(Layout{
	KBSConfigKey: "kbs-config.toml", KBSConfigPath: "/etc/kbs-config/kbs-config.toml",
	ResourcePolicyKey: "policy.rego", ResourcePolicyPath: "/opt/confidential-containers/opa/policy.rego",
	AttestationPolicyKey: "default_cpu.rego", AttestationPolicyPath: "/opt/confidential-containers/attestation-service/policies/opa/default_cpu.rego",
	RefValuesKey: "reference-values.json", RefValuesPath: "/opt/confidential-containers/rvps/reference-values/reference-values.json",
})

// Annotation is a metadata annotation.
type Annotation struct {
	Key, Value string
}

// MigratedAnnotation marks the ConfigMaps that Red Hat's trustee-operator 1.2.x must leave alone: on every
// reconcile it backs up and deletes (policies, KBS configuration) or rewrites (reference values) each ConfigMap
// the KbsConfig names that lacks it, to migrate it from the 1.1 format (openshift/trustee-operator v1.2.0 and
// v1.2.1 internal/controller/migration.go, migrateConfigMapsIfNeeded; docs/upgrade-v1.1-to-v1.2.md).
var MigratedAnnotation = Annotation{Key: "kbs.confidentialcontainers.org/migrated-from-v1.1.0", Value: "v1.2.0"}

// TrusteeRelease is one trustee-operator release.
type TrusteeRelease struct {
	CSV     string
	Catalog string
	// Product names the release: "Red Hat build of Trustee 1.2", "Trustee operator 0.21 (community)".
	Product string
	// Trustee is the upstream Trustee the KBS is built from.
	Trustee string
	// Format is the upstream Trustee release whose KBS configuration format the KBS reads: the value of
	// global.coco.trustee.version that agrees with this row.
	Format    string
	Admin     AdminForm
	RefValues RefValueStore
	Layout    Layout
	// ConfigMapAnnotations go on every ConfigMap the KbsConfig names.
	ConfigMapAnnotations []Annotation
	// Unsupported says why cocogen writes no configuration for this release ("" when it does).
	Unsupported string
	Verified    Evidence
	Sources     []string
}

// Writes reports whether cocogen writes the configuration of this release.
func (r TrusteeRelease) Writes() bool { return r.Unsupported == "" }

// Shared sources of the Trustee rows.
const (
	srcRHCatalog   = "openshift/trustee-fbc v4.19 catalog-template.yaml and catalog.json (channel stable, relatedImages)"
	srcRHBase      = "newest confidential-containers/trustee tag in the history of the openshift/trustee tag (git merge-base)"
	srcRH12Config  = "openshift/trustee v1.2.0 kbs/src/config.rs, kbs/src/admin, deps/key-value-storage: identical to confidential-containers/trustee v0.21.0"
	srcRH12Op      = "openshift/trustee-operator v1.2.0 and v1.2.1 internal/controller/common.go, kbsconfig_controller.go, migration.go; bundle CSV relatedImages trustee-rhel9@sha256:85312d29"
	srcRH11        = "openshift/trustee v1.1.0 (config code identical to confidential-containers/trustee v0.18.0 kbs/src/admin/mod.rs, tag = \"type\"); openshift/trustee-operator v1.1.0 common.go"
	srcUpOp        = "confidential-containers/trustee-operator bundle/manifests/trustee-operator.clusterserviceversion.yaml (KBS_IMAGE_NAME) and internal/controller/common.go at the tag"
	unsupportedFmt = "cocogen writes the KBS configuration of Trustee 0.21 ([admin] authorization_mode, the storage_backend layout)"
)

// trusteeReleases are the trustee-operator releases cocogen knows: Red Hat's stable channel and the community
// operator's tags.
var trusteeReleases = []TrusteeRelease{
	{
		CSV: "trustee-operator.v0.3.0", Catalog: CatalogRedHat, Product: "Red Hat build of Trustee 0.3 (technology preview)",
		Trustee: "0.9 (newest upstream tag in openshift/trustee v0.3.0)", Format: "0.9", Admin: AdminPublicKey, RefValues: RefValuesList, Layout: LayoutLegacy,
		Unsupported: unsupportedFmt + "; this release reads [admin] auth_public_key and the pre-storage-backend layout",
		Verified:    FromSource, Sources: []string{srcRHCatalog, srcRHBase, "openshift/trustee v0.3.0 kbs/src/admin/config.rs", "openshift/trustee-operator v0.3.0 internal/controller/common.go"},
	},
	{
		CSV: "trustee-operator.v0.4.0", Catalog: CatalogRedHat, Product: "Red Hat build of Trustee 0.4 (technology preview)",
		Trustee: "0.13", Format: "0.13", Admin: AdminPublicKey, RefValues: RefValuesList, Layout: LayoutLegacy,
		Unsupported: unsupportedFmt + "; this release reads [admin] auth_public_key and the pre-storage-backend layout",
		Verified:    FromSource, Sources: []string{srcRHCatalog, srcRHBase, "openshift/trustee v0.4.0 kbs/src/admin/config.rs", "openshift/trustee-operator v0.4.0 internal/controller/common.go"},
	},
	{
		CSV: "trustee-operator.v0.4.1", Catalog: CatalogRedHat, Product: "Red Hat build of Trustee 0.4.1",
		Trustee: "0.13", Format: "0.13", Admin: AdminPublicKey, RefValues: RefValuesList, Layout: LayoutLegacy,
		Unsupported: unsupportedFmt + "; this release reads [admin] auth_public_key and the pre-storage-backend layout",
		Verified:    FromSource, Sources: []string{srcRHCatalog, srcRHBase, "openshift/trustee v0.4.1 kbs/src/admin/config.rs", "openshift/trustee-operator v0.4.1 internal/controller/common.go"},
	},
	{
		CSV: "trustee-operator.v0.4.2", Catalog: CatalogRedHat, Product: "Red Hat build of Trustee 0.4.2",
		Trustee: "0.13", Format: "0.13", Admin: AdminPublicKey, RefValues: RefValuesList, Layout: LayoutLegacy,
		Unsupported: unsupportedFmt + "; this release reads [admin] auth_public_key and the pre-storage-backend layout",
		Verified:    FromSource, Sources: []string{srcRHCatalog, srcRHBase, "openshift/trustee v0.4.2 kbs/src/admin/config.rs", "openshift/trustee-operator v0.4.2 internal/controller/common.go"},
	},
	{
		CSV: "trustee-operator.v1.0.0", Catalog: CatalogRedHat, Product: "Red Hat build of Trustee 1.0",
		Trustee: "0.15 (with backports)", Format: "0.15", Admin: AdminPublicKey, RefValues: RefValuesList, Layout: LayoutLegacy,
		Unsupported: unsupportedFmt + "; Trustee 1.0 reads [admin] auth_public_key and the pre-storage-backend layout",
		Verified:    FromSource, Sources: []string{srcRHCatalog, srcRHBase, "openshift/trustee v1.0.0 kbs/src/admin/config.rs", "openshift/trustee-operator v1.0.0 internal/controller/common.go, config/templates/kbs-config-restricted.toml"},
	},
	{
		CSV: "trustee-operator.v1.1.0", Catalog: CatalogRedHat, Product: "Red Hat build of Trustee 1.1",
		Trustee: "0.18", Format: "0.18", Admin: AdminTypeTag, RefValues: RefValuesList, Layout: LayoutLegacy,
		Unsupported: unsupportedFmt + "; Trustee 1.1 reads [admin] as a tagged table (type = \"Simple\" with [[admin.personas]]) and refuses authorization_mode, and its operator mounts the policies and reference values at the 1.1 paths",
		Verified:    FromSource, Sources: []string{srcRHCatalog, srcRHBase, srcRH11},
	},
	{
		CSV: "trustee-operator.v1.2.0", Catalog: CatalogRedHat, Product: "Red Hat build of Trustee 1.2",
		Trustee: "0.21 configuration (upstream main of 2026-06-09, between v0.20.0 and v0.21.0)", Format: "0.21",
		Admin: AdminAuthorizationMode, RefValues: RefValuesObject, Layout: LayoutStorage,
		ConfigMapAnnotations: []Annotation{MigratedAnnotation},
		Verified:             FromSource, Sources: []string{srcRHCatalog, srcRHBase, srcRH12Config, srcRH12Op},
	},
	{
		CSV: "trustee-operator.v1.2.1", Catalog: CatalogRedHat, Product: "Red Hat build of Trustee 1.2.1",
		Trustee: "0.21 configuration (the trustee-rhel9 image of 1.2.0)", Format: "0.21",
		Admin: AdminAuthorizationMode, RefValues: RefValuesObject, Layout: LayoutStorage,
		ConfigMapAnnotations: []Annotation{MigratedAnnotation},
		Verified:             FromSource, Sources: []string{srcRHCatalog, srcRH12Config, srcRH12Op},
	},
	{
		CSV: "trustee-operator.v0.17.0", Catalog: CatalogCommunity, Product: "Trustee operator 0.17 (community)",
		Trustee: "0.17", Format: "0.17", Admin: AdminTypeTag, RefValues: RefValuesList, Layout: LayoutLegacy,
		Unsupported: unsupportedFmt + "; Trustee 0.17 reads [admin] as a tagged table (type = ...) and refuses authorization_mode",
		Verified:    FromSource, Sources: []string{srcUpOp + " v0.17.0 (key-broker-service:built-in-as-v0.17.0)", "confidential-containers/trustee v0.17.0 kbs/src/admin/mod.rs"},
	},
	{
		CSV: "trustee-operator.v0.18.0", Catalog: CatalogCommunity, Product: "Trustee operator 0.18 (community)",
		Trustee: "0.18", Format: "0.18", Admin: AdminTypeTag, RefValues: RefValuesList, Layout: LayoutLegacy,
		Unsupported: unsupportedFmt + "; Trustee 0.18 reads [admin] as a tagged table (type = ...) and refuses authorization_mode",
		Verified:    FromSource, Sources: []string{srcUpOp + " v0.18.0 (key-broker-service:built-in-as-v0.18.0)", "confidential-containers/trustee v0.18.0 kbs/src/admin/mod.rs"},
	},
	{
		CSV: "trustee-operator.v0.19.0", Catalog: CatalogCommunity, Product: "Trustee operator 0.19 (community)",
		Trustee: "0.19", Format: "0.19", Admin: AdminTypeTag, RefValues: RefValuesObject, Layout: LayoutStorage,
		Unsupported: unsupportedFmt + "; Trustee 0.19 reads [admin] as a tagged table (type = ...) and names the resource plugin's backend type, not storage_backend_type",
		Verified:    FromSource, Sources: []string{srcUpOp + " v0.19.0 (key-broker-service:built-in-as-v0.19.0-trustee-operator)", "confidential-containers/trustee v0.19.0 kbs/src/admin/mod.rs"},
	},
	{
		CSV: "trustee-operator.v0.21.0", Catalog: CatalogCommunity, Product: "Trustee operator 0.21 (community)",
		Trustee: "0.21 (staged-images/kbs:b2442c22, upstream main of 2026-06-09; the same configuration code as v0.21.0)", Format: "0.21",
		Admin: AdminAuthorizationMode, RefValues: RefValuesObject, Layout: LayoutStorage,
		Verified: FromSource, Sources: []string{srcUpOp + " v0.21.0", "confidential-containers/trustee v0.21.0 kbs/src/config.rs, kbs/src/admin/mod.rs, kbs/docs/config.md"},
	},
}

// UnpinnedTrustee is the row cocogen writes for when the values pin no trustee-operator CSV: the 0.21 format,
// with the annotation that keeps Red Hat's 1.2.x operator from migrating the ConfigMaps (the community
// operator ignores it).
var UnpinnedTrustee = TrusteeRelease{
	Product: "Trustee 0.21 (no trustee-operator CSV pinned)", Trustee: "0.21", Format: WrittenFormat,
	Admin: AdminAuthorizationMode, RefValues: RefValuesObject, Layout: LayoutStorage,
	ConfigMapAnnotations: []Annotation{MigratedAnnotation},
	Verified:             FromSource, Sources: []string{"confidential-containers/trustee v0.21.0", srcRH12Op},
}

// Trustee returns the row of a trustee-operator CSV from a catalog source ("" is redhat-operators, the
// clustergroup chart's default).
func Trustee(catalog, csv string) (TrusteeRelease, bool) {
	if catalog == "" {
		catalog = CatalogRedHat
	}
	i := slices.IndexFunc(trusteeReleases, func(r TrusteeRelease) bool { return r.CSV == csv && r.Catalog == catalog })
	if i < 0 {
		return TrusteeRelease{}, false
	}
	return trusteeReleases[i], true
}

// TrusteeReleases returns every row: Red Hat's, then the community operator's.
func TrusteeReleases() []TrusteeRelease { return slices.Clone(trusteeReleases) }

// TrusteeCSVs returns the known CSVs of a catalog source, for messages.
func TrusteeCSVs(catalog string) []string {
	if catalog == "" {
		catalog = CatalogRedHat
	}
	var out []string
	for _, r := range trusteeReleases {
		if r.Catalog == catalog {
			out = append(out, r.CSV)
		}
	}
	return out
}

// TrusteeFormats returns the configuration formats of the known releases, oldest first, and whether cocogen
// writes each: the values global.coco.trustee.version may name.
func TrusteeFormats() (known, written []string) {
	for _, r := range trusteeReleases {
		if !slices.Contains(known, r.Format) {
			known = append(known, r.Format)
		}
		if r.Writes() && !slices.Contains(written, r.Format) {
			written = append(written, r.Format)
		}
	}
	slices.SortFunc(known, compareFormats)
	slices.SortFunc(written, compareFormats)
	return known, written
}

// TrusteeForFormat returns a known release that reads the format (the newest of Red Hat's, else of the
// community operator's), for the message about a format cocogen does not write.
func TrusteeForFormat(format string) (TrusteeRelease, bool) {
	for _, c := range []string{CatalogRedHat, CatalogCommunity} {
		for i := len(trusteeReleases) - 1; i >= 0; i-- {
			if r := trusteeReleases[i]; r.Catalog == c && r.Format == format {
				return r, true
			}
		}
	}
	return TrusteeRelease{}, false
}

// WritingCSVs returns the CSVs whose configuration cocogen writes, for messages: "trustee-operator.v1.2.0,
// trustee-operator.v1.2.1 (redhat-operators), trustee-operator.v0.21.0 (community-operators)".
func WritingCSVs() string {
	var parts []string
	for _, c := range []string{CatalogRedHat, CatalogCommunity} {
		var csvs []string
		for _, r := range trusteeReleases {
			if r.Catalog == c && r.Writes() {
				csvs = append(csvs, r.CSV)
			}
		}
		if len(csvs) > 0 {
			parts = append(parts, strings.Join(csvs, ", ")+" ("+c+")")
		}
	}
	return strings.Join(parts, ", ")
}

func compareFormats(a, b string) int {
	va, ea := ParseVersion(a)
	vb, eb := ParseVersion(b)
	if ea != nil || eb != nil {
		return strings.Compare(a, b)
	}
	return va.Compare(vb)
}
