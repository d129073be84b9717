# Unit tests of attestation.rego: run with `cocogen policy test` (or `go test ./...`).
#
# Trustee's query_reference_value is replaced by reference_value, which answers from
# data.reference_values: each test sets that object with `with` to what the provider holds.
package attestation_policy_test

import data.policy.attestation

# reference_value stands in for query_reference_value: the value registered under id, or null when there is
# none, as Trustee answers.
reference_value(id) := object.get(data.reference_values, id, null)

# PCR values of a test Azure VM: pcr(n) is 64 hex digits.
pcr(n) := concat("", [sprintf("%02x", [n]) | some _ in numbers.range(1, 32)])

pcrs := {sprintf("pcr%02d", [n]): pcr(n) | some n in numbers.range(0, 23)}

rendered_pcr8 := "6f1c38ad25b03c3d3d8ba1e5de0e8ce1a5ae6e6b1e10e98c5de3a3e5c1b7c9f2"

other_pcr8 := "0c4e02fa1ba81ab1d3b2b8d7c6e0bb1e5b0d2e28c22e1aa8f5d2f0cf2e5cb6a1"

host_data := "9a4d0bd1f0b1e0a1c0ba5e03eb5b3c3b84a3d2c1d6e2f7b1a2e4d3c2b1a0f9e8"

mr_config_id := concat("", ["5d8a3e1b7c2f4a6d9e0b1c3a5f7e9d2b4c6a8e0f1d3b5a7c9e2f4d6b8a0c1e3f", "5d8a3e1b7c2f4a6d9e0b1c3a5f7e9d2b"])

measurement := concat("", ["ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45", "ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45"])

mr_td := concat("", ["7e2a4c6e8a0c2e4a6c8e0a2c4e6a8c0e2a4c6e8a0c2e4a6c", "8e0a2c4e6a8c0e2a4c6e8a0c2e4a6c8e0a2c4e6a8c0e2a4c"])

# azure(tee, pcr8) is the input for an Azure confidential VM of type tee whose vTPM reports pcr8 as PCR8.
azure(tee, pcr8) := {
	tee: {
		"tpm": object.union(pcrs, {"pcr08": pcr8}),
		"report_data": "00",
	},
	"init_data": "",
	"init_data_claims": {},
	"report_data": "00",
	"runtime_data_claims": {},
}

snp_input(init_data) := {
	"snp": {"measurement": measurement, "policy_debug_allowed": 0, "reported_tcb_snp": 24},
	"init_data": init_data,
	"init_data_claims": {},
	"report_data": "00",
	"runtime_data_claims": {},
}

tdx_input(init_data) := {
	"tdx": {"quote": {"body": {"mr_td": mr_td, "mr_config_id": init_data}}},
	"init_data": init_data,
	"init_data_claims": {},
	"report_data": "00",
	"runtime_data_claims": {},
}

# What cocogen registers for the test cluster.
registered := {
	"cocogen_initdata_azure_pcr8": [other_pcr8, rendered_pcr8],
	"cocogen_initdata_snp_host_data": [host_data],
	"cocogen_initdata_tdx_mrconfigid": [mr_config_id],
	"cocogen_pod_vm_pcrs": {"pcr03": [pcr(3)], "pcr09": [pcr(1), pcr(9)], "pcr11": [pcr(11)]},
	"cocogen_snp_launch_measurements": [measurement],
	"cocogen_tdx_mr_td": [mr_td],
}

# registered_with(id, value) is what cocogen registers, with value under id instead.
registered_with(id, value) := object.union(object.remove(registered, [id]), {id: value})

claim_names := {
	"executables", "hardware", "configuration", "file-system",
	"instance-identity", "runtime-opaque", "storage-opaque", "sourced-data",
}

test_azure_snp_rendered_init_data if {
	claims := attestation.trust_claims with input as azure("az-snp-vtpm", rendered_pcr8)
		with query_reference_value as reference_value
		with data.reference_values as registered
	claims.hardware == 2
	claims.configuration == 2
	claims.executables == 3
}

test_azure_snp_other_init_data_contraindicated if {
	claims := attestation.trust_claims with input as azure("az-snp-vtpm", other_pcr8)
		with query_reference_value as reference_value
		with data.reference_values as registered_with("cocogen_initdata_azure_pcr8", [rendered_pcr8])
	claims.configuration == 96
	claims.hardware == 2
}

test_azure_snp_no_init_data_registered if {
	every registered_pcr8 in [null, "not a list", {"a": rendered_pcr8}] {
		claims := attestation.trust_claims with input as azure("az-snp-vtpm", rendered_pcr8)
			with query_reference_value as reference_value
			with data.reference_values as registered_with("cocogen_initdata_azure_pcr8", registered_pcr8)
		claims.configuration == 36
		claims.hardware == 2
	}
}

test_azure_snp_nothing_registered if {
	claims := attestation.trust_claims with input as azure("az-snp-vtpm", rendered_pcr8)
		with query_reference_value as reference_value
		with data.reference_values as {}
	claims == {
		"executables": 33, "hardware": 2, "configuration": 36, "file-system": 0,
		"instance-identity": 0, "runtime-opaque": 0, "storage-opaque": 0, "sourced-data": 0,
	}
}

test_azure_without_pcr8 if {
	claims := attestation.trust_claims with input as {"az-snp-vtpm": {"tpm": object.remove(pcrs, ["pcr08"])}}
		with query_reference_value as reference_value
		with data.reference_values as registered
	claims.configuration == 36
	claims.hardware == 2
}

# Evidence without vTPM PCRs matches nothing, not even the empty pin set.
test_azure_without_tpm if {
	claims := attestation.trust_claims with input as {"az-snp-vtpm": {"report_data": "00"}}
		with query_reference_value as reference_value
		with data.reference_values as registered_with("cocogen_pod_vm_pcrs", {})
	claims.hardware == 2
	claims.configuration == 36
	claims.executables == 33
}

test_azure_pod_vm_pcrs_empty_object_matches if {
	claims := attestation.trust_claims with input as azure("az-snp-vtpm", rendered_pcr8)
		with query_reference_value as reference_value
		with data.reference_values as registered_with("cocogen_pod_vm_pcrs", {})
	claims.executables == 3
}

test_azure_pod_vm_pcr_mismatch if {
	mismatches := [
		{"pcr03": [pcr(4)]},
		{"pcr03": [pcr(3)], "pcr11": [pcr(12)]},
		{"pcr03": []},
		{"pcr03": pcr(3)},
		{"pcr24": [pcr(24)]},
	]
	every pinned in mismatches {
		claims := attestation.trust_claims with input as azure("az-snp-vtpm", rendered_pcr8)
			with query_reference_value as reference_value
			with data.reference_values as registered_with("cocogen_pod_vm_pcrs", pinned)
		claims.executables == 33
		claims.configuration == 2
	}
}

test_azure_pod_vm_pcrs_not_registered if {
	every pinned in [null, [pcr(3)], "pcr03"] {
		claims := attestation.trust_claims with input as azure("az-snp-vtpm", rendered_pcr8)
			with query_reference_value as reference_value
			with data.reference_values as registered_with("cocogen_pod_vm_pcrs", pinned)
		claims.executables == 33
	}
}

test_azure_tdx if {
	claims := attestation.trust_claims with input as azure("az-tdx-vtpm", rendered_pcr8)
		with query_reference_value as reference_value
		with data.reference_values as registered
	claims.hardware == 2
	claims.configuration == 2
	claims.executables == 3

	other := attestation.trust_claims with input as azure("az-tdx-vtpm", other_pcr8)
		with query_reference_value as reference_value
		with data.reference_values as registered_with("cocogen_initdata_azure_pcr8", [rendered_pcr8])
	other.configuration == 96
}

test_snp if {
	claims := attestation.trust_claims with input as snp_input(host_data)
		with query_reference_value as reference_value
		with data.reference_values as registered
	claims.hardware == 2
	claims.configuration == 2
	claims.executables == 3
}

test_snp_other_host_data_contraindicated if {
	claims := attestation.trust_claims with input as snp_input(concat("", ["00", substring(host_data, 2, -1)]))
		with query_reference_value as reference_value
		with data.reference_values as registered
	claims.configuration == 96
	claims.executables == 3
}

test_snp_unknown_measurement if {
	claims := attestation.trust_claims with input as object.union(snp_input(host_data), {"snp": {"measurement": mr_td}})
		with query_reference_value as reference_value
		with data.reference_values as registered
	claims.executables == 33
	claims.configuration == 2
}

test_snp_nothing_registered if {
	claims := attestation.trust_claims with input as snp_input(host_data)
		with query_reference_value as reference_value
		with data.reference_values as {}
	claims.hardware == 2
	claims.configuration == 36
	claims.executables == 33
}

test_tdx if {
	claims := attestation.trust_claims with input as tdx_input(mr_config_id)
		with query_reference_value as reference_value
		with data.reference_values as registered
	claims.hardware == 2
	claims.configuration == 2
	claims.executables == 3
}

test_tdx_other_mrconfigid_and_mr_td if {
	claims := attestation.trust_claims with input as object.union(tdx_input(host_data), {"tdx": {"quote": {"body": {"mr_td": measurement}}}})
		with query_reference_value as reference_value
		with data.reference_values as registered
	claims.hardware == 2
	claims.configuration == 96
	claims.executables == 33
}

# SNP reference values do not vouch for TDX evidence, and the other way round.
test_reference_values_per_tee if {
	claims := attestation.trust_claims with input as tdx_input(host_data)
		with query_reference_value as reference_value
		with data.reference_values as {"cocogen_initdata_snp_host_data": [host_data], "cocogen_tdx_mr_td": []}
	claims.configuration == 36
	claims.executables == 33
}

test_unknown_tee if {
	every evidence in [{}, {"sample": {"svn": "1"}}, {"snp": "not an object"}, {"init_data": host_data}] {
		claims := attestation.trust_claims with input as evidence
			with query_reference_value as reference_value
			with data.reference_values as registered
		claims.hardware == 97
		claims.configuration == 36
		claims.executables == 33
	}
}

test_trust_claims_keys if {
	every evidence in [{}, azure("az-snp-vtpm", rendered_pcr8), azure("az-tdx-vtpm", other_pcr8), snp_input(host_data), tdx_input(mr_config_id)] {
		claims := attestation.trust_claims with input as evidence
			with query_reference_value as reference_value
			with data.reference_values as registered
		{name | some name, _ in claims} == claim_names
		every value in claims {
			is_number(value)
			value >= 0
			value <= 127
		}
	}
}

test_extensions_empty if {
	attestation.extensions == []
}
