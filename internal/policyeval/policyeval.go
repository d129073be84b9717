// Package policyeval answers, locally, what the guest or Trustee would decide with the policies a render
// produces: Agent evaluates the agent policy of an init-data profile (the bytes its init-data carries) for
// one request to the kata agent; Trustee builds the attestation-service input of a guest started with a
// profile's init-data, runs the rendered attestation policy with the rendered reference values, then the
// rendered KBS resource policy for one resource. Both read everything from a pipeline.Result, so that they use
// exactly the bytes the render writes, and evaluate with the Rego engine and capability limits that the
// render validates with (agentpolicy, trusteepolicy).
package policyeval

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/cocogen/cocogen/generators/trustee"
	"github.com/cocogen/cocogen/internal/agentpolicy"
	"github.com/cocogen/cocogen/internal/initdata"
	"github.com/cocogen/cocogen/internal/model"
	"github.com/cocogen/cocogen/internal/node"
	"github.com/cocogen/cocogen/internal/pipeline"
	"github.com/cocogen/cocogen/internal/rvps"
	"github.com/cocogen/cocogen/internal/trusteepolicy"
)

// AgentResult is the agent's decision for one request under a profile's policy.
type AgentResult struct {
	Profile  string                    `json:"profile"`
	Request  string                    `json:"request"`
	Allowed  bool                      `json:"allowed"`
	Decision string                    `json:"decision"` // allowed or denied
	Value    any                       `json:"value"`    // what the entry point evaluated to (null: undefined)
	Rule     *agentpolicy.DecidingRule `json:"rule"`
	Prints   []string                  `json:"prints"`
	Problem  string                    `json:"problem,omitempty"`
	// AllowFailures is true when AllowRequestsFailingPolicy turned a denial into an allow.
	AllowFailures bool `json:"allowRequestsFailingPolicy,omitempty"`
}

// Agent decides request (a message name the agent asks its policy about, e.g. ExecProcessRequest) with input
// (the request's JSON as the agent hands it to the policy; nil is an empty request) under the agent policy of
// profile.
func Agent(ctx context.Context, res *pipeline.Result, profile, request string, input any) (*AgentResult, error) {
	p, err := res.Profile(profile)
	if err != nil {
		return nil, err
	}
	if input == nil {
		input = map[string]any{}
	}
	d, err := agentpolicy.Decide(ctx, p.PolicyFile, p.Policy, request, input, agentpolicy.Options{Kata: p.Kata})
	if err != nil {
		return nil, err
	}
	out := &AgentResult{
		Profile: profile, Request: request, Allowed: d.Allowed, Decision: "denied", Value: d.Value, Rule: d.Rule,
		Prints: d.Prints, Problem: d.Problem, AllowFailures: d.AllowFailures,
	}
	if out.Prints == nil {
		out.Prints = []string{}
	}
	if d.Allowed {
		out.Decision = "allowed"
	}
	return out, nil
}

// TrusteeResult is what Trustee decides for a guest of a profile that asks for a resource.
type TrusteeResult struct {
	Profile string `json:"profile"`
	// InitData is the digest of the guest's init-data when it is not the profile's current one.
	InitData string `json:"initData,omitempty"`
	TEE      string `json:"tee"`
	Resource string `json:"resource"`
	Released bool   `json:"released"`
	Decision string `json:"decision"` // released or denied
	Reason   string `json:"reason"`
	// TrustVector and Status are the attestation policy's appraisal.
	TrustVector map[string]int64 `json:"trustVector"`
	Status      string           `json:"status"`
	// Profile the token names (cocogen.initdata-profile), and the profiles that may fetch the resource.
	TokenProfile string   `json:"tokenProfile"`
	Readers      []string `json:"readers"`
	// Evidence is the attestation policy's input; Token the claims the resource policy sees.
	Evidence map[string]any `json:"evidence"`
	Token    map[string]any `json:"token"`
	// GPU is the appraisal of the guest's GPU (gpu0), when it has one.
	GPU *GPUResult `json:"gpu,omitempty"`
	// Requires are the device classes whose evidence the resource needs besides the CPU's.
	Requires []string `json:"requires,omitempty"`
}

// GPUResult is what the GPU policy (default_gpu) makes of the guest's GPU.
type GPUResult struct {
	TrustVector map[string]int64 `json:"trustVector"`
	Status      string           `json:"status"`
	Evidence    map[string]any   `json:"evidence"`
	// Problem is why the attestation service would fail the attestation for this GPU's appraisal.
	Problem string `json:"problem,omitempty"`
}

// TrusteeOptions say which guest asks for what.
type TrusteeOptions struct {
	Profile string
	// Resource is repository/type/tag.
	Resource string
	// TEE is one of trusteepolicy.TEEs; "" picks the pattern's: az-snp-vtpm when it runs peer pods (a
	// sandbox application on Azure), the first TEE of a bare-metal cluster's hosts (snp, then tdx), else snp.
	TEE string
	// Claims, when set, is merged over the guest's evidence (a JSON merge patch, RFC 7396: null removes).
	Claims map[string]any
	// InitData, when set, is the digest (<algorithm>:<hex>) of the init-data the guest booted with, instead
	// of the profile's current one: e.g. one that referenceValues.previous keeps.
	InitData string
	// At is the time of the attestation (zero: now).
	At time.Time
	// GPU gives the guest an NVIDIA GPU whose evidence (trusteepolicy.GPUEvidence) comes beside the CPU's;
	// GPUClaims, when set, is merged over that evidence (a JSON merge patch) and implies GPU.
	GPU       bool
	GPUClaims map[string]any
}

// Trustee runs the rendered Trustee policies for a guest started with the init-data of o.Profile on o.TEE
// that asks for o.Resource.
func Trustee(ctx context.Context, res *pipeline.Result, o TrusteeOptions) (*TrusteeResult, error) {
	p, err := res.Profile(o.Profile)
	if err != nil {
		return nil, err
	}
	path := strings.Split(o.Resource, "/")
	if len(path) != 3 || slices.Contains(path, "") {
		return nil, fmt.Errorf("resource %q is not REPOSITORY/TYPE/TAG, e.g. default/kbsres1/key1", o.Resource)
	}
	tee := o.TEE
	if tee == "" {
		switch {
		case res.PeerPods:
			tee = "az-snp-vtpm"
		case len(res.BareMetalTEEs) > 0:
			tee = res.BareMetalTEEs[0]
		default:
			tee = "snp"
		}
	}
	if !slices.Contains(trusteepolicy.TEEs, tee) {
		return nil, fmt.Errorf("unknown TEE %q (valid: %s)", tee, strings.Join(trusteepolicy.TEEs, ", "))
	}
	app, err := trusteeApp(res)
	if err != nil {
		return nil, err
	}
	attestation, resource, refs, err := trusteeBytes(app)
	if err != nil {
		return nil, err
	}
	gpuPolicy, hasGPUPolicy := configMapData(app, trustee.ConfigMapGPU, trustee.KeyAttestationGPU)
	withGPU := o.GPU || o.GPUClaims != nil
	if withGPU && !hasGPUPolicy {
		return nil, fmt.Errorf("the trustee application of cluster group %s renders no GPU attestation policy (%s), because its metadata lists no GPU hosts (baremetal.gpuNodes): Trustee would appraise a GPU with its built-in default_gpu policy, which cocogen does not evaluate", res.Group, trustee.ConfigMapGPU)
	}
	digests := p.Digests
	if o.InitData != "" {
		alg, hex, _ := strings.Cut(o.InitData, ":")
		if digests, err = initdata.DigestsOf(initdata.Algorithm(alg), hex); err != nil {
			return nil, fmt.Errorf("init-data digest %q: %w (write <algorithm>:<hex>, as cocogen.io/initdata-digest shows it)", o.InitData, err)
		}
	}
	b := trusteepolicy.Binding{AzurePCR8: digests.AzurePCR8, SNPHostData: digests.SNPHostData, TDXMRConfigID: digests.TDXMRConfigID}
	if !o.At.IsZero() {
		ctx = trusteepolicy.WithTime(ctx, o.At)
	}
	evidence, err := trusteepolicy.GuestEvidence(tee, b, refs)
	if err != nil {
		return nil, err
	}
	if o.Claims != nil {
		evidence, _ = mergePatch(evidence, o.Claims).(map[string]any)
		if evidence == nil {
			evidence = map[string]any{}
		}
	}
	out := &TrusteeResult{Profile: o.Profile, InitData: o.InitData, TEE: tee, Resource: o.Resource, Decision: "denied", Evidence: evidence, Readers: []string{}}
	a, err := trusteepolicy.Attest(ctx, "attestation-policy/"+trustee.KeyAttestation, attestation, evidence, refs)
	if err != nil {
		out.Reason = "the attestation fails: " + err.Error()
		return out, nil
	}
	out.TrustVector, out.Status = a.TrustVector, a.Status
	var gpus []*trusteepolicy.Appraisal
	if withGPU {
		ev := trusteepolicy.GPUEvidence(refs, remoteNVIDIAVerifier(app))
		if o.GPUClaims != nil {
			ev, _ = mergePatch(ev, o.GPUClaims).(map[string]any)
			if ev == nil {
				ev = map[string]any{}
			}
		}
		out.GPU = &GPUResult{Evidence: ev}
		g, err := trusteepolicy.Attest(ctx, trustee.ConfigMapGPU+"/"+trustee.KeyAttestationGPU, []byte(gpuPolicy), ev, refs)
		if err != nil {
			out.GPU.Problem = err.Error()
			out.Reason = "the attestation fails: the GPU's appraisal: " + err.Error()
			return out, nil
		}
		out.GPU.TrustVector, out.GPU.Status = g.TrustVector, g.Status
		gpus = append(gpus, g)
	}
	out.Token = trusteepolicy.Token(a, gpus...)
	r, err := trusteepolicy.Decide(ctx, "resource-policy/"+trustee.KeyResource, resource, out.Token, path)
	if err != nil {
		return nil, err
	}
	out.Released, out.TokenProfile, out.Requires = r.Released, r.Profile, r.Requires
	if r.Readers != nil {
		out.Readers = r.Readers
	}
	if out.Released {
		out.Decision = "released"
	}
	out.Reason = reason(out, r)
	return out, nil
}

// reason explains a decision of the resource policy from what its explaining rules say.
func reason(out *TrusteeResult, r *trusteepolicy.Release) string {
	weak := func(vector map[string]int64) string {
		var w []string
		for _, k := range trusteepolicy.ClaimNames {
			if v := vector[k]; trusteepolicy.Tier(v) != "affirming" && trusteepolicy.Tier(v) != "none" {
				w = append(w, fmt.Sprintf("%s %d (%s)", k, v, trusteepolicy.Tier(v)))
			}
		}
		return strings.Join(w, ", ")
	}
	gpuAffirming := out.GPU != nil && out.GPU.Status == "affirming"
	switch {
	case out.Released && len(r.Requires) > 0:
		return fmt.Sprintf("the token is affirming for cpu0 and gpu0 and names profile %s, which may read %s (it requires the evidence of: %s)", r.Profile, out.Resource, strings.Join(r.Requires, ", "))
	case out.Released:
		return fmt.Sprintf("the token is affirming and names profile %s, which may read %s", r.Profile, out.Resource)
	case !r.AllAffirming && out.Status != "affirming":
		return fmt.Sprintf("the token is %s, not affirming: %s", out.Status, weak(out.TrustVector))
	case !r.AllAffirming && out.GPU != nil && !gpuAffirming:
		return fmt.Sprintf("the GPU's submod gpu0 is %s, not affirming (KBS needs every submod affirming): %s", out.GPU.Status, weak(out.GPU.TrustVector))
	case !r.AllAffirming:
		return "the token's submods are not all affirming"
	case r.Profile == "":
		return "the token names no init-data profile: the guest's init-data is none that Git renders for a profile in use"
	case !r.Served:
		return fmt.Sprintf("%s is not a resource of global.coco.trustee.resources", out.Resource)
	case !slices.Contains(r.Readers, r.Profile):
		return fmt.Sprintf("profile %s may not read %s (readers: %s)", r.Profile, out.Resource, strings.Join(r.Readers, ", "))
	case slices.Contains(r.Requires, "gpu") && out.GPU == nil:
		return fmt.Sprintf("%s requires the evidence of a GPU besides the CPU's (requires: gpu), and the token has no gpu submod (give the guest a GPU with --gpu)", out.Resource)
	}
	return "the resource policy denies it (allow is false)"
}

// trusteeApp is the render's trustee application.
func trusteeApp(res *pipeline.Result) (*pipeline.App, error) {
	for i := range res.Apps {
		if res.Apps[i].Generator == model.GenTrustee {
			return &res.Apps[i], nil
		}
	}
	return nil, fmt.Errorf("the cluster group %s has no trustee application (an application with cocogen: trustee)", res.Group)
}

// trusteeBytes reads back what the trustee application renders: the attestation and resource policies as
// Trustee mounts them, and the reference values of the RVPS store, by id.
func trusteeBytes(app *pipeline.App) (attestation, resource []byte, refs map[string]any, err error) {
	data := func(cm, key string) (string, bool) { return configMapData(app, cm, key) }
	a, ok1 := data(trustee.ConfigMapAttestation, trustee.KeyAttestation)
	r, ok2 := data(trustee.ConfigMapResource, trustee.KeyResource)
	s, ok3 := data(trustee.ConfigMapRefValues, trustee.KeyRefValues)
	if !ok1 || !ok2 || !ok3 {
		return nil, nil, nil, fmt.Errorf("the trustee application renders no attestation policy, resource policy or reference values")
	}
	stored, err := rvps.Decode([]byte(s))
	if err != nil {
		return nil, nil, nil, err
	}
	refs = map[string]any{}
	for id, raw := range stored {
		var rv struct {
			Value json.RawMessage `json:"value"`
		}
		if err := json.Unmarshal(raw, &rv); err != nil {
			return nil, nil, nil, fmt.Errorf("reference value %s: %w", id, err)
		}
		dec := json.NewDecoder(strings.NewReader(string(rv.Value)))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, nil, nil, fmt.Errorf("reference value %s: %w", id, err)
		}
		refs[id] = v
	}
	return []byte(a), []byte(r), refs, nil
}

// remoteNVIDIAVerifier reports whether the rendered KBS configuration has Trustee verify GPUs with NVIDIA's
// remote attestation service ([attestation_service.verifier_config.nvidia_verifier] type = "Remote"), whose
// claims the GPU's evidence then carries.
func remoteNVIDIAVerifier(app *pipeline.App) bool {
	var text string
	for _, e := range configMap(app, trustee.ConfigMapKBSConfig).Get("data").Entries() {
		text = e.Value.Scalar() // one key, the release's name for the KBS configuration
	}
	var cfg struct {
		AttestationService struct {
			VerifierConfig struct {
				NVIDIAVerifier struct {
					Type string `toml:"type"`
				} `toml:"nvidia_verifier"`
			} `toml:"verifier_config"`
		} `toml:"attestation_service"`
	}
	if _, err := toml.Decode(text, &cfg); err != nil {
		return false
	}
	return cfg.AttestationService.VerifierConfig.NVIDIAVerifier.Type == "Remote"
}

// configMapData is the value under key of the trustee application's ConfigMap cm.
func configMapData(app *pipeline.App, cm, key string) (string, bool) {
	n := configMap(app, cm).Path("data", key)
	return n.Scalar(), n != nil
}

// configMap is the trustee application's ConfigMap named name (nil when it renders none).
func configMap(app *pipeline.App, name string) *node.Node {
	for _, o := range app.Objects {
		if o.Kind() == "ConfigMap" && o.Name() == name {
			return o.Node
		}
	}
	return nil
}

// mergePatch applies a JSON merge patch (RFC 7396) to target.
func mergePatch(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	out := map[string]any{}
	if ok {
		for k, v := range t {
			out[k] = v
		}
	}
	for k, v := range p {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = mergePatch(out[k], v)
	}
	return out
}
