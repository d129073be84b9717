package trusteepolicy

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
)

// TEEs are the TEEs the pattern targets, by the name Trustee's verifiers give their claims: Azure confidential
// VMs with a vTPM (SEV-SNP and TDX) for peer pods, and bare-metal SEV-SNP and TDX.
var TEEs = []string{"az-snp-vtpm", "az-tdx-vtpm", "snp", "tdx"}

// Binding is how one init-data document shows in each TEE's evidence (lowercase hex): PCR 8 of an Azure vTPM,
// the HOST_DATA of an SEV-SNP report, the MRCONFIGID of a TDX quote.
type Binding struct {
	AzurePCR8     string
	SNPHostData   string
	TDXMRConfigID string
}

// Value returns the binding as it is registered in RVInitDataProfiles.
func (b Binding) Value() map[string]any {
	return map[string]any{BindingAzurePCR8: b.AzurePCR8, BindingSNPHostData: b.SNPHostData, BindingTDXMRConfigID: b.TDXMRConfigID}
}

// snpTCBOfTestData is the reported TCB of the Azure SEV-SNP report in Trustee's verifier test data (trustee
// v0.21.0 deps/verifier/test_data/az-snp-vtpm/hcl-report.bin): the firmware levels a guest reports when the
// reference values set no minimum.
var snpTCBOfTestData = map[string]int{"bootloader": 3, "tee": 0, "snp": 8, "microcode": 115}

// GuestEvidence returns the input that Trustee 0.21's attestation service gives its attestation policy for a
// sound guest of the TEE tee whose init-data binds as b, and that matches every reference value in refs (the
// values cocogen registers, by id): its image measurements are the first registered ones, its firmware is at
// the registered minimum, debugging is off, its TDX TCB status is the first accepted one. Measurements that
// nothing pins are filler values.
//
// The shape is the verifier's claims of that TEE (trustee v0.21.0 deps/verifier/src: az_snp_vtpm
// parse_tee_evidence_az and extend_claim, az_tdx_vtpm, snp parse_tee_evidence, tdx/claims.rs
// generate_parsed_claim, intel_dcap/claims.rs prepare_custom_claims_map) after the attestation service's
// transform_claims (attestation-service/src/ear_token/broker.rs): init_data and report_data lifted out of the
// TEE's claims, init_data_claims null (the peer pod's attestation agent sends no init-data document),
// runtime_data_claims the KBS protocol's nonce and TEE public key.
func GuestEvidence(tee string, b Binding, refs map[string]any) (map[string]any, error) {
	reportData := hexOf(0x5a, 64)
	var claims map[string]any
	var initData string
	switch tee {
	case "az-snp-vtpm":
		claims = azureSNPClaims(refs)
		claims["tpm"] = vtpm(refs, b.AzurePCR8)
		initData = b.AzurePCR8
	case "az-tdx-vtpm":
		claims = tdxClaims(refs, hexOf(0, 48), hexOf(0xd7, 48))
		claims["tpm"] = vtpm(refs, b.AzurePCR8)
		initData = b.AzurePCR8
	case "snp":
		claims = snpClaims(refs)
		claims["measurement"] = firstOr(refs, RVSNPLaunchMeasurements, hexOf(0x6b, 48))
		initData = b.SNPHostData
	case "tdx":
		claims = tdxClaims(refs, b.TDXMRConfigID, firstOr(refs, RVTDXMRTD, hexOf(0x7e, 48)))
		initData = b.TDXMRConfigID
	default:
		return nil, fmt.Errorf("unknown TEE %q (valid: %s)", tee, strings.Join(TEEs, ", "))
	}
	return map[string]any{
		tee:                claims,
		"init_data":        initData,
		"init_data_claims": nil,
		"report_data":      reportData,
		"runtime_data_claims": map[string]any{
			"nonce": base64.StdEncoding.EncodeToString([]byte("cocogen-policy-eval-nonce")),
			"tee-pubkey": map[string]any{
				"alg": "ECDH-ES+A256KW", "crv": "P-256", "kty": "EC",
				"x": base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("x", 32))),
				"y": base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("y", 32))),
			},
		},
	}, nil
}

// snpTCB is the reported TCB of a guest: the registered minimum, else the levels of Trustee's test data.
func snpTCB(refs map[string]any) map[string]int {
	out := maps.Clone(snpTCBOfTestData)
	if m, ok := refs[RVSNPMinimumTCB].(map[string]any); ok {
		for k, v := range m {
			if n, ok := number(v); ok {
				out[k] = n
			}
		}
	}
	return out
}

// azureSNPClaims are the claims of an Azure SEV-SNP report: every field a string.
func azureSNPClaims(refs map[string]any) map[string]any {
	c := map[string]any{
		"policy_abi_major":      "0",
		"policy_abi_minor":      "31",
		"policy_smt_allowed":    "true",
		"policy_migrate_ma":     "false",
		"policy_debug_allowed":  "false",
		"policy_single_socket":  "false",
		"platform_tsme_enabled": "false",
		"platform_smt_enabled":  "true",
		"measurement":           base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xa5", 48))),
	}
	for k, v := range snpTCB(refs) {
		c["reported_tcb_"+k] = strconv.Itoa(v)
	}
	return c
}

// snpClaims are the claims of a bare-metal SEV-SNP report: booleans and numbers.
func snpClaims(refs map[string]any) map[string]any {
	c := map[string]any{
		"policy_abi_major":      0,
		"policy_abi_minor":      31,
		"policy_smt_allowed":    true,
		"policy_migrate_ma":     false,
		"policy_debug_allowed":  false,
		"policy_single_socket":  false,
		"platform_tsme_enabled": false,
		"platform_smt_enabled":  true,
	}
	for k, v := range snpTCB(refs) {
		c["reported_tcb_"+k] = v
	}
	return c
}

// tdxClaims are the claims of a TDX quote verified with Intel's collateral.
func tdxClaims(refs map[string]any, mrConfigID, mrTD string) map[string]any {
	status := "UpToDate"
	if l, ok := refs[RVTDXTCBStatuses].([]any); ok && len(l) > 0 {
		if s, ok := l[0].(string); ok {
			status = s
		}
	}
	date := "2025-08-13T00:00:00Z"
	if s, ok := refs[RVTDXMinimumTCBDate].(string); ok {
		date = s
	}
	return map[string]any{
		"quote": map[string]any{
			"header": map[string]any{
				"version": "0400", "att_key_type": "0200", "tee_type": "81000000", "reserved": "00000000",
				"vendor_id": "939a7233f79c4ca9940a0db3957f0607", "user_data": hexOf(0x11, 20),
			},
			"body": map[string]any{
				"tcb_svn": hexOf(0x05, 16), "mr_seam": hexOf(0x3e, 48), "mrsigner_seam": hexOf(0, 48),
				"seam_attributes": hexOf(0, 8), "td_attributes": "0000001000000000", "xfam": "e702060000000000",
				"mr_td": mrTD, "mr_config_id": mrConfigID, "mr_owner": hexOf(0, 48), "mr_owner_config": hexOf(0, 48),
				"rtmr_0": hexOf(0x10, 48), "rtmr_1": firstOr(refs, RVTDXRTMR1, hexOf(0x11, 48)), "rtmr_2": firstOr(refs, RVTDXRTMR2, hexOf(0x12, 48)), "rtmr_3": hexOf(0, 48),
				"report_data": hexOf(0x5a, 64),
			},
		},
		"td_attributes": map[string]any{
			"debug": false, "septve_disable": true, "protection_keys": false, "key_locker": false, "perfmon": false,
		},
		"tcb_status":                   status,
		"tcb_date":                     date,
		"collateral_expiration_status": "0",
		"advisory_ids":                 []any{},
	}
}

// vtpm are the PCRs of an Azure vTPM: PCR 8 binds the init-data, every pinned PCR holds its first registered
// value, the others filler.
func vtpm(refs map[string]any, pcr8 string) map[string]any {
	pcrs := map[string]any{}
	for i := range 24 {
		pcrs[fmt.Sprintf("pcr%02d", i)] = hexOf(byte(0xc0+i), 32)
	}
	if pinned, ok := refs[RVPodVMPCRs].(map[string]any); ok {
		for pcr, values := range pinned {
			if l, ok := values.([]any); ok && len(l) > 0 {
				pcrs[pcr] = l[0]
			}
		}
	}
	pcrs["pcr08"] = pcr8
	return pcrs
}

// firstOr is the first value of the list registered under id, else fallback.
func firstOr(refs map[string]any, id, fallback string) string {
	if l, ok := refs[id].([]any); ok && len(l) > 0 {
		if s, ok := l[0].(string); ok {
			return s
		}
	}
	return fallback
}

// number reads a JSON number as an int: from encoding/json (json.Number or float64) or from Go (int).
func number(v any) (int, bool) {
	switch n := v.(type) {
	case int:
		return n, true
	case int64:
		return int(n), true
	case float64:
		return int(n), n == float64(int(n))
	case json.Number:
		i, err := n.Int64()
		return int(i), err == nil
	}
	return 0, false
}

// GPUEvidence returns the input that Trustee 0.21's attestation service gives its GPU policy (default_gpu)
// for a sound NVIDIA GPU that matches every reference value in refs: a Hopper GPU, the only architecture the
// local verifier accepts, that runs the first registered driver and VBIOS versions and whose pinned
// measurements hold their first registered values (the others are filler values). remote gives the claims of
// the remote verifier (NRAS) instead, with every check passed, secure boot on and debugging disabled.
//
// The shape is the local NVIDIA verifier's claims (trustee v0.21.0 deps/verifier/src/nvidia/mod.rs,
// NvDeviceReportAndCertClaim: arch, uuid, measurements by index as lowercase hex, config the report's opaque
// data by NVIDIA's names, spdm_response.rs OpaqueDataType), or NRAS's detached claims with its overall result
// (nvidia/nras_response.rs; the names Trustee's default GPU policy reads, attestation-service/src/ear_token/
// ear_default_policy_gpu.rego), under the TEE name nvidia, after transform_claims
// (attestation-service/src/ear_token/broker.rs): the verifier reports no init_data or report_data for a
// GPU, so nothing is lifted out beside it.
func GPUEvidence(refs map[string]any, remote bool) map[string]any {
	if remote {
		chain := func() map[string]any {
			return map[string]any{"x-nvidia-cert-status": "valid", "x-nvidia-cert-ocsp-status": "good"}
		}
		c := map[string]any{
			"x-nvidia-overall-att-result":                           true,
			"x-nvidia-gpu-arch-check":                               true,
			"x-nvidia-gpu-attestation-report-parsed":                true,
			"x-nvidia-gpu-attestation-report-signature-verified":    true,
			"x-nvidia-gpu-attestation-report-cert-chain-fwid-match": true,
			"x-nvidia-gpu-attestation-report-cert-chain":            chain(),
			"x-nvidia-gpu-vbios-rim-cert-chain":                     chain(),
			"x-nvidia-gpu-driver-version":                           firstOr(refs, RVNVIDIADriverVersions, "550.90.07"),
			"x-nvidia-gpu-vbios-version":                            firstOr(refs, RVNVIDIAVBIOSVersions, "96.00.9f.00.01"),
			"secboot":                                               true,
			"dbgstat":                                               "disabled",
			"measres":                                               "success",
		}
		for _, part := range []string{"driver", "vbios"} {
			for _, check := range []string{"fetched", "measurements-available", "schema-validated", "signature-verified", "version-match"} {
				c["x-nvidia-gpu-"+part+"-rim-"+check] = true
			}
		}
		return map[string]any{GPUTEE: c}
	}
	measurements := map[string]any{}
	for i := 1; i <= 8; i++ {
		measurements[strconv.Itoa(i)] = hexOf(byte(0xa0+i), 48)
	}
	if pinned, ok := refs[RVNVIDIAGPUMeasurements].(map[string]any); ok {
		for index, values := range pinned {
			if l, ok := values.([]any); ok && len(l) > 0 {
				measurements[index] = l[0]
			}
		}
	}
	return map[string]any{
		GPUTEE: map[string]any{
			"arch":         "Hopper",
			"uuid":         "GPU-c0c09e40-0000-4000-8000-00000000c0c0",
			"measurements": measurements,
			"config": map[string]any{
				"driver_version":        firstOr(refs, RVNVIDIADriverVersions, "550.90.07"),
				"vbios_version":         firstOr(refs, RVNVIDIAVBIOSVersions, "96.00.9f.00.01"),
				"fwid":                  hexOf(0xf5, 48),
				"protected_pcie_status": "U",
			},
		},
	}
}

// GPUTEE is the name Trustee gives the claims of NVIDIA GPU evidence (kbs-types Tee::Nvidia).
const GPUTEE = "nvidia"
