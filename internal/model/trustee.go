package model

import (
	"regexp"
	"slices"
	"time"

	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/schema"
)

// Trustee is global.coco.trustee: how the trustee application configures the key broker and attestation.
type Trustee struct {
	Pos node.Pos
	// Version is the Trustee release the KBS configuration is written for (see TrusteeVersions).
	Version    string
	VersionPos node.Pos
	// VaultPrefix is the Vault path the ExternalSecrets read below, e.g. secret/data/hub.
	VaultPrefix string
	// Expiration is when the reference values expire (RFC 3339, UTC, seconds: 2027-12-31T00:00:00Z).
	Expiration    string
	ExpirationPos node.Pos
	// PodVMPCRs pins Azure pod VM boot measurements: PCR name (pcr03) → allowed lowercase hex values.
	PodVMPCRs    []PCRValues
	PodVMPCRsPos node.Pos
	// PodVMPCRsSet is true when podVMPCRs is written, even as {} (a reviewed choice to pin nothing).
	PodVMPCRsSet bool
	// SNPLaunchMeasurements and TDXMRTD are the allowed bare-metal launch measurements.
	SNPLaunchMeasurements []string
	TDXMRTD               []string
	// Resources are the KBS resources: secret name → the keys it holds (default/<name>/<key>).
	Resources []KBSResource
	// ACME configures the ACME issuer of the KBS certificate when the guest trusts public roots.
	ACME *node.Node
}

// PCRValues are the allowed values of one PCR.
type PCRValues struct {
	PCR    string
	Values []string
}

// KBSResource is one KBS resource secret.
type KBSResource struct {
	Name string
	Keys []string
	Pos  node.Pos
}

// TrusteeVersions are the Trustee releases whose configuration format cocogen writes.
var TrusteeVersions = []string{"0.21"}

var (
	trusteeKeys   = []string{"version", "vaultPrefix", "referenceValues", "resources", "acme"}
	refValuesKeys = []string{"expiration", "podVMPCRs", "snpLaunchMeasurements", "tdxMRTD"}
	acmeKeys      = []string{"server", "email", "solvers"}
	expirationRe  = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`)
	pcrNameRe     = regexp.MustCompile(`^pcr(0[0-9]|1[0-9]|2[0-3])$`)
	hexRe         = regexp.MustCompile(`^[0-9a-f]+$`)
	vaultPathRe   = regexp.MustCompile(`^[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*$`)
	secretNameRe  = regexp.MustCompile(`^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$`)
	secretKeyRe   = regexp.MustCompile(`^[-._a-zA-Z0-9]+$`)
)

// Resource returns the KBS resource secret with the given name.
func (t *Trustee) Resource(name string) (*KBSResource, bool) {
	for i := range t.Resources {
		if t.Resources[i].Name == name {
			return &t.Resources[i], true
		}
	}
	return nil, false
}

// trustee decodes global.coco.trustee (absent: Trustee gets the defaults, which need resources to be useful).
func (dc decoder) trustee(n *node.Node, out *Trustee) {
	const path = "global.coco.trustee"
	out.Version = TrusteeVersions[len(TrusteeVersions)-1]
	out.VaultPrefix = "secret/data/hub"
	if n.IsNull() || !dc.c.Map(n, path, false, trusteeKeys...) {
		return
	}
	out.Pos = n.Pos
	if v := n.Get("version"); !v.IsNull() {
		out.Version, out.VersionPos = v.Scalar(), v.Pos
		if !slices.Contains(TrusteeVersions, out.Version) {
			dc.c.Diags.Errorf(v.Pos, schema.Join(path, "version"), "cocogen writes the KBS configuration of Trustee %v, not %q: the configuration format changes between releases (write the version in quotes, e.g. \"0.21\")", TrusteeVersions, v.Src)
		}
	}
	if s := dc.str(n, path, "vaultPrefix"); s != "" {
		if !vaultPathRe.MatchString(s) {
			dc.errorf(n.Get("vaultPrefix"), schema.Join(path, "vaultPrefix"), "%q is not a Vault path such as secret/data/hub", s)
		}
		out.VaultPrefix = s
	}
	if rv := n.Get("referenceValues"); dc.c.Map(rv, schema.Join(path, "referenceValues"), true, refValuesKeys...) {
		p := schema.Join(path, "referenceValues")
		if e := rv.Get("expiration"); !e.IsNull() {
			out.Expiration, out.ExpirationPos = e.Scalar(), e.Pos
			if !expirationRe.MatchString(out.Expiration) {
				dc.errorf(e, schema.Join(p, "expiration"), "%q is not a UTC time as Trustee reads it: YYYY-MM-DDTHH:MM:SSZ, e.g. 2027-12-31T00:00:00Z", e.Src)
			} else if t, err := time.Parse(time.RFC3339, out.Expiration); err != nil {
				dc.errorf(e, schema.Join(p, "expiration"), "%q is not a valid time: %v", e.Src, err)
			} else if !t.After(time.Now()) {
				dc.errorf(e, schema.Join(p, "expiration"), "%s has passed: Trustee ignores expired reference values, so no pod would attest", out.Expiration)
			} else if time.Until(t) < 30*24*time.Hour {
				dc.c.Diags.Warnf(e.Pos, schema.Join(p, "expiration"), "%s is less than 30 days away: pods stop attesting when the reference values expire", out.Expiration)
			}
		}
		if pcrs := rv.Get("podVMPCRs"); dc.c.Map(pcrs, schema.Join(p, "podVMPCRs"), true) {
			out.PodVMPCRsPos = pcrs.PosOr(rv.Pos)
			out.PodVMPCRsSet = pcrs != nil
			for _, e := range sortedByKey(pcrs) {
				pp := schema.Join(schema.Join(p, "podVMPCRs"), e.Key)
				if !pcrNameRe.MatchString(e.Key) {
					dc.c.Diags.Errorf(e.KeyPos, pp, "%q is not a PCR name: pcr00 to pcr23", e.Key)
					continue
				}
				if e.Key == "pcr08" {
					dc.c.Diags.Errorf(e.KeyPos, pp, "PCR 8 binds the init-data: cocogen computes its reference values from the rendered profiles")
					continue
				}
				vals := dc.hexList(e.Value, pp, 64)
				if len(vals) > 0 {
					out.PodVMPCRs = append(out.PodVMPCRs, PCRValues{PCR: e.Key, Values: vals})
				}
			}
		}
		out.SNPLaunchMeasurements = dc.hexList(rv.Get("snpLaunchMeasurements"), schema.Join(p, "snpLaunchMeasurements"), 96)
		out.TDXMRTD = dc.hexList(rv.Get("tdxMRTD"), schema.Join(p, "tdxMRTD"), 96)
	}
	if res := n.Get("resources"); dc.c.Map(res, schema.Join(path, "resources"), true) {
		for _, e := range sortedByKey(res) {
			rp := schema.Join(schema.Join(path, "resources"), e.Key)
			if !secretNameRe.MatchString(e.Key) || len(e.Key) > 253 {
				dc.c.Diags.Errorf(e.KeyPos, rp, "%q is not a valid Secret name (lowercase letters, digits, - and .)", e.Key)
				continue
			}
			keys, ok := dc.c.StringList(e.Value, rp)
			if !ok || len(keys) == 0 {
				if ok {
					dc.c.Diags.Errorf(e.Value.PosOr(e.KeyPos), rp, "list the keys of the secret, e.g. [key1, key2]: each is served as default/%s/<key>", e.Key)
				}
				continue
			}
			r := KBSResource{Name: e.Key, Pos: e.KeyPos}
			for _, k := range keys {
				if !secretKeyRe.MatchString(k.Text) {
					dc.errorf(k, rp, "%q is not a valid Secret key (letters, digits, -, _ and .)", k.Text)
					continue
				}
				if slices.Contains(r.Keys, k.Text) {
					dc.errorf(k, rp, "key %q is listed twice", k.Text)
					continue
				}
				r.Keys = append(r.Keys, k.Text)
			}
			out.Resources = append(out.Resources, r)
		}
	}
	if a := n.Get("acme"); dc.c.Map(a, schema.Join(path, "acme"), true, acmeKeys...) {
		out.ACME = a
	}
}

// hexList reads a list of lowercase hex strings of exactly size characters.
func (dc decoder) hexList(n *node.Node, path string, size int) []string {
	if n.IsNull() {
		return nil
	}
	items, ok := dc.c.StringList(n, path)
	if !ok {
		return nil
	}
	var out []string
	for i, it := range items {
		if !hexRe.MatchString(it.Text) || len(it.Text) != size {
			dc.errorf(it, schema.Index(path, i), "%q is not %d lowercase hex characters", it.Text, size)
			continue
		}
		out = append(out, it.Text)
	}
	return out
}
