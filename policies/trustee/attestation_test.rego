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

# The init-data bindings of two profiles: default and debug.
default_binding := {
	"azure_pcr8": "6f1c38ad25b03c3d3d8ba1e5de0e8ce1a5ae6e6b1e10e98c5de3a3e5c1b7c9f2",
	"snp_host_data": "9a4d0bd1f0b1e0a1c0ba5e03eb5b3c3b84a3d2c1d6e2f7b1a2e4d3c2b1a0f9e8",
	"tdx_mrconfigid": concat("", ["5d8a3e1b7c2f4a6d9e0b1c3a5f7e9d2b4c6a8e0f1d3b5a7c9e2f4d6b8a0c1e3f", "5d8a3e1b7c2f4a6d9e0b1c3a5f7e9d2b"]),
}

debug_binding := {
	"azure_pcr8": "0c4e02fa1ba81ab1d3b2b8d7c6e0bb1e5b0d2e28c22e1aa8f5d2f0cf2e5cb6a1",
	"snp_host_data": "1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbccddeeff001",
	"tdx_mrconfigid": concat("", ["0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9", "0a1b2c3d4e5f60718293a4b5c6d7e8f9"]),
}

unknown_pcr8 := "c3a9d41e7b2f08a65d1e9c3b7f4a2e8d6c0b5a1f9e3d7c2b8a4f0e6d1c5b9a37"

measurement := concat("", ["ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45", "ab01cd23ef45ab01cd23ef45ab01cd23ef45ab01cd23ef45"])

mr_td := concat("", ["7e2a4c6e8a0c2e4a6c8e0a2c4e6a8c0e2a4c6e8a0c2e4a6c", "8e0a2c4e6a8c0e2a4c6e8a0c2e4a6c8e0a2c4e6a8c0e2a4c"])

# azure_snp(pcr8) is the input for an Azure SEV-SNP confidential VM whose vTPM reports pcr8 as PCR8: the
# Azure verifier writes every report field as a string.
azure_snp(pcr8) := {
	"az-snp-vtpm": {
		"tpm": object.union(pcrs, {"pcr08": pcr8}),
		"policy_debug_allowed": "false",
		"policy_migrate_ma": "false",
		"policy_smt_allowed": "true",
		"reported_tcb_bootloader": "4",
		"reported_tcb_tee": "0",
		"reported_tcb_snp": "22",
		"reported_tcb_microcode": "213",
		"measurement": "pRJhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAxMjM0NTY3ODlhYmNk",
	},
	"init_data": pcr8,
	"init_data_claims": null,
	"report_data": "00",
	"runtime_data_claims": {},
}

tdx_claims(mr_config_id) := {
	"quote": {
		"header": {"tee_type": "81000000", "vendor_id": "939a7233f79c4ca9940a0db3957f0607"},
		"body": {"mr_td": mr_td, "mr_config_id": mr_config_id},
	},
	"td_attributes": {"debug": false, "septve_disable": true},
	"tcb_status": "UpToDate",
	"tcb_date": "2025-11-12T00:00:00Z",
	"collateral_expiration_status": "0",
}

azure_tdx(pcr8) := {
	"az-tdx-vtpm": object.union(tdx_claims("00"), {"tpm": object.union(pcrs, {"pcr08": pcr8})}),
	"init_data": pcr8,
	"init_data_claims": null,
	"report_data": "00",
	"runtime_data_claims": {},
}

# The bare-metal SEV-SNP verifier writes booleans and numbers.
snp_input(host_data) := {
	"snp": {
		"measurement": measurement,
		"policy_debug_allowed": false,
		"policy_migrate_ma": false,
		"reported_tcb_bootloader": 4,
		"reported_tcb_tee": 0,
		"reported_tcb_snp": 22,
		"reported_tcb_microcode": 213,
	},
	"init_data": host_data,
	"init_data_claims": null,
	"report_data": "00",
	"runtime_data_claims": {},
}

tdx_input(mr_config_id) := {
	"tdx": tdx_claims(mr_config_id),
	"init_data": mr_config_id,
	"init_data_claims": null,
	"report_data": "00",
	"runtime_data_claims": {},
}

# What cocogen registers for the test cluster.
registered := {
	"cocogen_initdata_profiles": {"default": default_binding, "debug": debug_binding},
	"cocogen_pod_vm_pcrs": {"pcr03": [pcr(3)], "pcr09": [pcr(1), pcr(9)], "pcr11": [pcr(11)]},
	"cocogen_snp_launch_measurements": [measurement],
	"cocogen_snp_minimum_tcb": {"bootloader": 3, "microcode": 115, "snp": 8, "tee": 0},
	"cocogen_tdx_mr_td": [mr_td],
	"cocogen_tdx_tcb_statuses": ["UpToDate"],
}

# registered_with(id, value) is what cocogen registers, with value under id instead (null: nothing).
registered_with(id, value) := object.union(object.remove(registered, [id]), {id: value}) if {
	value != null
} else := object.remove(registered, [id])

claim_names := {
	"executables", "hardware", "configuration", "file-system",
	"instance-identity", "runtime-opaque", "storage-opaque", "sourced-data",
}

# claims_of(evidence, refs) and profile_of(evidence, refs): the trust claims and the extensions for evidence
# while the provider holds refs.
claims_of(evidence, refs) := claims if {
	claims := attestation.trust_claims with input as evidence
		with query_reference_value as reference_value
		with data.reference_values as refs
}

profile_of(evidence, refs) := extensions if {
	extensions := attestation.extensions with input as evidence
		with query_reference_value as reference_value
		with data.reference_values as refs
}

profile_claim(name) := [{"name": "cocogen.initdata-profile", "key": -70100, "value": name}]

######################################################################################################
# The init-data profile (configuration, and the claim that tells KBS the profile)

test_azure_snp_default_profile if {
	claims := claims_of(azure_snp(default_binding.azure_pcr8), registered)
	claims.hardware == 2
	claims.configuration == 2
	claims.executables == 3
	profile_of(azure_snp(default_binding.azure_pcr8), registered) == profile_claim("default")
}

test_azure_snp_debug_profile if {
	claims := claims_of(azure_snp(debug_binding.azure_pcr8), registered)
	claims.configuration == 2
	profile_of(azure_snp(debug_binding.azure_pcr8), registered) == profile_claim("debug")
}

# Init-data that Git does not render (a host that points the pod VM at another KBS or loosens its policy).
test_azure_snp_unknown_init_data_contraindicated if {
	claims := claims_of(azure_snp(unknown_pcr8), registered)
	claims.configuration == 96
	claims.hardware == 2
	profile_of(azure_snp(unknown_pcr8), registered) == []
}

test_no_profiles_registered if {
	every profiles in [null, "not an object", ["default"]] {
		claims := claims_of(azure_snp(default_binding.azure_pcr8), registered_with("cocogen_initdata_profiles", profiles))
		claims.configuration == 36
		profile_of(azure_snp(default_binding.azure_pcr8), registered_with("cocogen_initdata_profiles", profiles)) == []
	}
}

# Two profiles with the same binding: no profile is recognised (the render refuses such profiles).
test_ambiguous_profile if {
	refs := registered_with("cocogen_initdata_profiles", {"default": default_binding, "copy": default_binding})
	claims_of(azure_snp(default_binding.azure_pcr8), refs).configuration == 96
	profile_of(azure_snp(default_binding.azure_pcr8), refs) == []
}

# Init-data of the default profile before a change, kept for the pods that started with it.
old_default_binding := {
	"azure_pcr8": "e1d2c3b4a5968778695a4b3c2d1e0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e",
	"snp_host_data": "2f3e4d5c6b7a8998a7b6c5d4e3f201122334455667788990aabbccddeeff1122",
	"tdx_mrconfigid": concat("", ["3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091a2b", "3c4d5e6f708192a3b4c5d6e7f8091a2b"]),
	"until": "2026-07-01T00:00:00Z",
}

with_previous(entries) := registered_with("cocogen_initdata_previous", {"default": entries})

# claims_at and profile_at are claims_of and profile_of at a time (YYYY-MM-DDTHH:MM:SSZ) of the attestation.
claims_at(evidence, refs, at) := claims if {
	now := time.parse_rfc3339_ns(at)
	claims := attestation.trust_claims with input as evidence
		with query_reference_value as reference_value
		with data.reference_values as refs
		with time.now_ns as now
}

profile_at(evidence, refs, at) := extensions if {
	now := time.parse_rfc3339_ns(at)
	extensions := attestation.extensions with input as evidence
		with query_reference_value as reference_value
		with data.reference_values as refs
		with time.now_ns as now
}

# A pod VM started with the default profile's previous init-data attests as the default profile until the
# entry's time, on every TEE, and the current init-data still does.
test_previous_init_data_within_its_window if {
	refs := with_previous([old_default_binding])
	at := "2026-06-30T23:59:59Z"
	claims_at(azure_snp(old_default_binding.azure_pcr8), refs, at).configuration == 2
	profile_at(azure_snp(old_default_binding.azure_pcr8), refs, at) == profile_claim("default")
	claims_at(snp_input(old_default_binding.snp_host_data), refs, at).configuration == 2
	claims_at(tdx_input(old_default_binding.tdx_mrconfigid), refs, at).configuration == 2
	profile_at(azure_snp(default_binding.azure_pcr8), refs, at) == profile_claim("default")
}

# From its time on, the previous init-data is init-data Git does not render.
test_previous_init_data_after_its_window if {
	refs := with_previous([old_default_binding])
	every at in ["2026-07-01T00:00:00Z", "2027-01-01T00:00:00Z"] {
		claims_at(azure_snp(old_default_binding.azure_pcr8), refs, at).configuration == 96
		profile_at(azure_snp(old_default_binding.azure_pcr8), refs, at) == []
	}
	claims_at(azure_snp(default_binding.azure_pcr8), refs, "2027-01-01T00:00:00Z").configuration == 2
}

# An entry without a time Trustee can read never matches.
test_previous_init_data_without_a_valid_time if {
	every until in [null, 1782864000, "2026-07-01", "soon"] {
		entry := object.union(old_default_binding, {"until": until})
		claims_at(azure_snp(old_default_binding.azure_pcr8), with_previous([entry]), "2026-01-01T00:00:00Z").configuration == 96
	}
	every previous in [null, "not an object", {"default": old_default_binding}] {
		refs := registered_with("cocogen_initdata_previous", previous)
		claims_at(azure_snp(old_default_binding.azure_pcr8), refs, "2026-01-01T00:00:00Z").configuration == 96
	}
}

# Previous init-data of one profile that another profile renders now: no profile is recognised (the render
# refuses it).
test_previous_init_data_of_another_profile_is_ambiguous if {
	entry := object.union(debug_binding, {"until": "2026-07-01T00:00:00Z"})
	refs := with_previous([entry])
	claims_at(azure_snp(debug_binding.azure_pcr8), refs, "2026-01-01T00:00:00Z").configuration == 96
	profile_at(azure_snp(debug_binding.azure_pcr8), refs, "2026-01-01T00:00:00Z") == []
}

test_azure_without_pcr8 if {
	claims := object.remove(azure_snp(default_binding.azure_pcr8)["az-snp-vtpm"], ["tpm"])
	evidence := {"az-snp-vtpm": object.union(claims, {"tpm": object.remove(pcrs, ["pcr08"])})}
	claims_of(evidence, registered).configuration == 36
	profile_of(evidence, registered) == []
}

test_snp_profile if {
	claims := claims_of(snp_input(default_binding.snp_host_data), registered)
	claims == {
		"executables": 3, "hardware": 2, "configuration": 2, "file-system": 0,
		"instance-identity": 0, "runtime-opaque": 0, "storage-opaque": 0, "sourced-data": 0,
	}
	profile_of(snp_input(debug_binding.snp_host_data), registered) == profile_claim("debug")
}

test_snp_other_host_data_contraindicated if {
	claims_of(snp_input(concat("", ["00", substring(default_binding.snp_host_data, 2, -1)])), registered).configuration == 96
}

test_tdx_profile if {
	claims := claims_of(tdx_input(default_binding.tdx_mrconfigid), registered)
	claims.hardware == 2
	claims.configuration == 2
	claims.executables == 3
	profile_of(tdx_input(default_binding.tdx_mrconfigid), registered) == profile_claim("default")
}

# A binding of one TEE does not vouch for another's: SNP HOST_DATA is not an MRCONFIGID.
test_bindings_per_tee if {
	claims_of(tdx_input(default_binding.snp_host_data), registered).configuration == 96
	claims_of(azure_snp(default_binding.snp_host_data), registered).configuration == 96
}

######################################################################################################
# executables: the pod VM image

test_azure_pinned_pcrs_match if {
	claims_of(azure_snp(default_binding.azure_pcr8), registered).executables == 3
	claims_of(azure_tdx(default_binding.azure_pcr8), registered).executables == 3
}

test_azure_pinned_pcr_mismatch if {
	mismatches := [
		{"pcr03": [pcr(4)]},
		{"pcr03": [pcr(3)], "pcr11": [pcr(12)]},
		{"pcr03": []},
		{"pcr03": pcr(3)},
		{"pcr24": [pcr(24)]},
	]
	every pinned in mismatches {
		claims := claims_of(azure_snp(default_binding.azure_pcr8), registered_with("cocogen_pod_vm_pcrs", pinned))
		claims.executables == 33
		claims.configuration == 2
	}
}

# Pinning nothing never affirms: an empty object, or nothing registered, leaves executables at 33.
test_azure_nothing_pinned if {
	every pinned in [{}, null, [pcr(3)], "pcr03"] {
		claims_of(azure_snp(default_binding.azure_pcr8), registered_with("cocogen_pod_vm_pcrs", pinned)).executables == 33
	}
}

# Running unpinned is the values' explicit choice: executables makes no claim (0), so the token stays
# affirming on the other claims and says that the image was not checked.
test_azure_unpinned_by_choice if {
	refs := object.union(registered_with("cocogen_pod_vm_pcrs", null), {"cocogen_pod_vm_unpinned": true})
	claims := claims_of(azure_snp(default_binding.azure_pcr8), refs)
	claims.executables == 0
	claims.hardware == 2
	claims.configuration == 2
	claims_of(azure_snp(default_binding.azure_pcr8), object.union(registered_with("cocogen_pod_vm_pcrs", null), {"cocogen_pod_vm_unpinned": "true"})).executables == 33
}

# Pinned PCRs win over the unpinned switch (the render refuses both at once).
test_azure_pinned_and_unpinned if {
	refs := object.union(registered, {"cocogen_pod_vm_unpinned": true})
	claims_of(azure_snp(default_binding.azure_pcr8), registered_with("cocogen_pod_vm_pcrs", {"pcr03": [pcr(4)]})).executables == 33
	claims_of(azure_snp(default_binding.azure_pcr8), object.union(refs, {"cocogen_pod_vm_pcrs": {"pcr03": [pcr(4)]}})).executables == 33
}

# Bare metal unpinned by choice: no claim on the image (0) while no launch measurement of that TEE is
# registered; a registered one wins, and the switch must be the boolean true.
test_bare_metal_unpinned_by_choice if {
	unpinned := object.union(object.remove(registered, ["cocogen_snp_launch_measurements", "cocogen_tdx_mr_td"]), {"cocogen_pod_vm_unpinned": true})
	snp := claims_of(snp_input(default_binding.snp_host_data), unpinned)
	snp.executables == 0
	snp.hardware == 2
	snp.configuration == 2
	tdx := claims_of(tdx_input(default_binding.tdx_mrconfigid), unpinned)
	tdx.executables == 0
	tdx.hardware == 2
	claims_of(snp_input(default_binding.snp_host_data), object.union(unpinned, {"cocogen_pod_vm_unpinned": "true"})).executables == 33
	pinned := object.union(registered, {"cocogen_pod_vm_unpinned": true})
	claims_of(object.union(snp_input(default_binding.snp_host_data), {"snp": {"measurement": mr_td}}), pinned).executables == 33
	claims_of(object.union(tdx_input(default_binding.tdx_mrconfigid), {"tdx": {"quote": {"body": {"mr_td": measurement}}}}), pinned).executables == 33
}

test_snp_unknown_measurement if {
	claims := claims_of(object.union(snp_input(default_binding.snp_host_data), {"snp": {"measurement": mr_td}}), registered)
	claims.executables == 33
	claims.configuration == 2
}

# RTMR 1 and 2 are checked where they are pinned: a match affirms, another value does not.
test_tdx_rtmrs if {
	rtmr1 := concat("", ["11", mr_td])
	pinned := object.union(registered, {"cocogen_tdx_rtmr_1": [substring(rtmr1, 0, 96)]})
	claims_of(object.union(tdx_input(default_binding.tdx_mrconfigid), {"tdx": {"quote": {"body": {"rtmr_1": substring(rtmr1, 0, 96)}}}}), pinned).executables == 3
	claims_of(object.union(tdx_input(default_binding.tdx_mrconfigid), {"tdx": {"quote": {"body": {"rtmr_1": mr_td}}}}), pinned).executables == 33
	claims_of(tdx_input(default_binding.tdx_mrconfigid), registered).executables == 3
}

test_tdx_unknown_mr_td if {
	claims_of(object.union(tdx_input(default_binding.tdx_mrconfigid), {"tdx": {"quote": {"body": {"mr_td": measurement}}}}), registered).executables == 33
}

######################################################################################################
# hardware: debugging off, firmware at or above the minimum

test_azure_snp_debug_allowed if {
	every field in ["policy_debug_allowed", "policy_migrate_ma"] {
		evidence := object.union(azure_snp(default_binding.azure_pcr8), {"az-snp-vtpm": {field: "true"}})
		claims_of(evidence, registered).hardware == 97
	}
}

test_snp_debug_allowed if {
	claims_of(object.union(snp_input(default_binding.snp_host_data), {"snp": {"policy_debug_allowed": true}}), registered).hardware == 97
	claims_of(object.union(snp_input(default_binding.snp_host_data), {"snp": {"policy_migrate_ma": true}}), registered).hardware == 97
}

test_snp_tcb_below_minimum if {
	every component in ["bootloader", "tee", "snp", "microcode"] {
		minimum := object.union(registered.cocogen_snp_minimum_tcb, {component: 250})
		refs := registered_with("cocogen_snp_minimum_tcb", minimum)
		claims_of(azure_snp(default_binding.azure_pcr8), refs).hardware == 97
		claims_of(snp_input(default_binding.snp_host_data), refs).hardware == 97
	}
}

test_snp_tcb_at_minimum if {
	refs := registered_with("cocogen_snp_minimum_tcb", {"bootloader": 4, "tee": 0, "snp": 22, "microcode": 213})
	claims_of(azure_snp(default_binding.azure_pcr8), refs).hardware == 2
	claims_of(snp_input(default_binding.snp_host_data), refs).hardware == 2
}

test_snp_tcb_missing_from_evidence if {
	evidence := {"az-snp-vtpm": object.remove(azure_snp(default_binding.azure_pcr8)["az-snp-vtpm"], ["reported_tcb_snp"])}
	claims_of(evidence, registered).hardware == 97
}

test_snp_without_minimum if {
	claims_of(azure_snp(default_binding.azure_pcr8), registered_with("cocogen_snp_minimum_tcb", null)).hardware == 2
	claims_of(azure_snp(default_binding.azure_pcr8), registered_with("cocogen_snp_minimum_tcb", [3, 0, 8, 115])).hardware == 97
}

test_tdx_hardware if {
	claims_of(tdx_input(default_binding.tdx_mrconfigid), registered).hardware == 2
	claims_of(azure_tdx(default_binding.azure_pcr8), registered).hardware == 2
}

test_tdx_debug_or_stale if {
	every change in [
		{"td_attributes": {"debug": true}},
		{"tcb_status": "OutOfDate"},
		{"collateral_expiration_status": "1"},
		{"quote": {"header": {"tee_type": "00000000"}}},
		{"quote": {"header": {"vendor_id": "00000000000000000000000000000000"}}},
	] {
		claims_of(object.union(tdx_input(default_binding.tdx_mrconfigid), {"tdx": change}), registered).hardware == 97
		claims_of(object.union(azure_tdx(default_binding.azure_pcr8), {"az-tdx-vtpm": change}), registered).hardware == 97
	}
}

test_tdx_accepted_statuses_and_date if {
	out_of_date := object.union(tdx_input(default_binding.tdx_mrconfigid), {"tdx": {"tcb_status": "OutOfDate"}})
	claims_of(out_of_date, registered_with("cocogen_tdx_tcb_statuses", ["UpToDate", "OutOfDate"])).hardware == 2
	claims_of(tdx_input(default_binding.tdx_mrconfigid), registered_with("cocogen_tdx_tcb_statuses", null)).hardware == 97
	claims_of(tdx_input(default_binding.tdx_mrconfigid), object.union(registered, {"cocogen_tdx_minimum_tcb_date": "2025-11-12T00:00:00Z"})).hardware == 2
	claims_of(tdx_input(default_binding.tdx_mrconfigid), object.union(registered, {"cocogen_tdx_minimum_tcb_date": "2026-01-01T00:00:00Z"})).hardware == 97
}

test_unknown_tee if {
	every evidence in [{}, {"sample": {"svn": "1"}}, {"snp": "not an object"}, {"init_data": default_binding.snp_host_data}] {
		claims := claims_of(evidence, registered)
		claims.hardware == 97
		claims.configuration == 36
		claims.executables == 33
		profile_of(evidence, registered) == []
	}
}

test_trust_claims_keys if {
	every evidence in [{}, azure_snp(default_binding.azure_pcr8), azure_tdx(unknown_pcr8), snp_input(default_binding.snp_host_data), tdx_input(default_binding.tdx_mrconfigid), gpu_input, nras_input] {
		claims := claims_of(evidence, registered)
		{name | some name, _ in claims} == claim_names
		every value in claims {
			is_number(value)
			value >= 0
			value <= 127
		}
	}
}

######################################################################################################
# The GPU submodule

gpu_measurement(n) := concat("", [sprintf("%02x", [n]) | some _ in numbers.range(1, 48)])

# gpu_input is what the attestation service gives the GPU policy for one Hopper GPU that Trustee's local
# NVIDIA verifier accepted: the GPU's claims under nvidia, nothing else (no init-data, no report data).
gpu_input := {"nvidia": {
	"arch": "Hopper",
	"uuid": "GPU-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
	"measurements": {"1": gpu_measurement(1), "2": gpu_measurement(2), "3": gpu_measurement(3)},
	"config": {
		"driver_version": "550.90.07",
		"vbios_version": "96.00.9f.00.01",
		"fwid": "f5c384aebb579217a2c66b17ed0f28e6",
		"protected_pcie_status": "U",
	},
}}

gpu_registered := object.union(registered, {
	"cocogen_nvidia_driver_versions": ["535.104.05", "550.90.07"],
	"cocogen_nvidia_vbios_versions": ["96.00.9f.00.01"],
	"cocogen_nvidia_gpu_measurements": {"2": [gpu_measurement(2)], "3": [gpu_measurement(9), gpu_measurement(3)]},
})

gpu_with(change) := object.union(gpu_input, {"nvidia": change})

test_gpu_affirming if {
	claims := claims_of(gpu_input, gpu_registered)
	claims.hardware == 2
	claims.configuration == 2
	claims.executables == 3
	profile_of(gpu_input, gpu_registered) == []
}

# The GPU's evidence is appraised by the GPU rules only, and the CPU's by the CPU rules only.
test_gpu_and_cpu_rules_apart if {
	claims_of(gpu_input, registered_with("cocogen_initdata_profiles", null)).hardware == 2
	claims_of(snp_input(default_binding.snp_host_data), gpu_registered) == claims_of(snp_input(default_binding.snp_host_data), registered)
}

test_gpu_other_architecture if {
	every change in [{"arch": "Blackwell"}, {"arch": "LS10"}, {"config": {"fwid": ""}}, {"config": {"fwid": null}}] {
		claims_of(gpu_with(change), gpu_registered).hardware == 97
	}
}

test_gpu_driver_or_vbios_not_listed if {
	claims_of(gpu_with({"config": {"driver_version": "470.82.01"}}), gpu_registered).configuration == 96
	claims_of(gpu_with({"config": {"vbios_version": "96.00.30.00.01"}}), gpu_registered).configuration == 96
	claims_of(object.remove(gpu_input, ["nvidia"]), gpu_registered).configuration == 36
}

test_gpu_versions_not_pinned if {
	claims_of(gpu_input, registered).configuration == 36
	only_driver := object.remove(gpu_registered, ["cocogen_nvidia_vbios_versions"])
	claims_of(gpu_input, only_driver).configuration == 36
	claims_of(gpu_with({"config": {"driver_version": "470.82.01"}}), only_driver).configuration == 96
}

test_gpu_measurement_mismatch if {
	claims_of(gpu_with({"measurements": {"3": gpu_measurement(4)}}), gpu_registered).executables == 96
	claims_of(gpu_with({"measurements": {"2": null}}), gpu_registered).executables == 96
	# Index 1 is not pinned: any value passes.
	claims_of(gpu_with({"measurements": {"1": gpu_measurement(7)}}), gpu_registered).executables == 3
}

test_gpu_measurements_not_pinned if {
	refs := object.remove(gpu_registered, ["cocogen_nvidia_gpu_measurements"])
	claims := claims_of(gpu_input, refs)
	claims.executables == 0
	claims.configuration == 2
	claims.hardware == 2
}

# nras_input is what the GPU policy gets for a GPU that NVIDIA's remote attestation service (NRAS) attested
# (the verifier's remote type): NRAS's detached claims with its overall result.
nras_chain := {"x-nvidia-cert-status": "valid", "x-nvidia-cert-ocsp-status": "good"}

nras_input := {"nvidia": {
	"x-nvidia-overall-att-result": true,
	"x-nvidia-gpu-arch-check": true,
	"x-nvidia-gpu-attestation-report-parsed": true,
	"x-nvidia-gpu-attestation-report-signature-verified": true,
	"x-nvidia-gpu-attestation-report-cert-chain-fwid-match": true,
	"x-nvidia-gpu-attestation-report-cert-chain": nras_chain,
	"x-nvidia-gpu-vbios-rim-cert-chain": nras_chain,
	"x-nvidia-gpu-driver-rim-fetched": true,
	"x-nvidia-gpu-driver-rim-measurements-available": true,
	"x-nvidia-gpu-driver-rim-schema-validated": true,
	"x-nvidia-gpu-driver-rim-signature-verified": true,
	"x-nvidia-gpu-driver-rim-version-match": true,
	"x-nvidia-gpu-vbios-rim-fetched": true,
	"x-nvidia-gpu-vbios-rim-measurements-available": true,
	"x-nvidia-gpu-vbios-rim-schema-validated": true,
	"x-nvidia-gpu-vbios-rim-signature-verified": true,
	"x-nvidia-gpu-vbios-rim-version-match": true,
	"x-nvidia-gpu-driver-version": "550.90.07",
	"x-nvidia-gpu-vbios-version": "96.00.9f.00.01",
	"secboot": true,
	"dbgstat": "disabled",
	"measres": "success",
}}

nras_with(change) := object.union(nras_input, {"nvidia": change})

test_nras_gpu_affirming if {
	claims := claims_of(nras_input, gpu_registered)
	claims.hardware == 2
	claims.configuration == 2
	claims.executables == 3
	profile_of(nras_input, gpu_registered) == []
}

test_nras_gpu_debug_or_insecure_boot if {
	every change in [{"dbgstat": "enabled"}, {"dbgstat": null}, {"secboot": false}, {"secboot": null}] {
		claims_of(nras_with(change), gpu_registered).configuration == 96
	}
	# Without pinned versions a GPU in debug mode is contraindicated too.
	claims_of(nras_with({"dbgstat": "enabled"}), registered).configuration == 96
	claims_of(nras_input, registered).configuration == 36
}

test_nras_gpu_report_checks if {
	every change in [
		{"x-nvidia-overall-att-result": false},
		{"x-nvidia-gpu-arch-check": false},
		{"x-nvidia-gpu-attestation-report-signature-verified": false},
		{"x-nvidia-gpu-attestation-report-cert-chain-fwid-match": null},
		{"x-nvidia-gpu-attestation-report-cert-chain": {"x-nvidia-cert-ocsp-status": "revoked"}},
		{"x-nvidia-gpu-attestation-report-cert-chain": {"x-nvidia-cert-status": "expired"}},
	] {
		claims_of(nras_with(change), gpu_registered).hardware == 97
	}
}

test_nras_gpu_measurements if {
	claims_of(nras_with({"measres": "fail"}), gpu_registered).executables == 96
	claims_of(nras_with({"x-nvidia-gpu-driver-rim-signature-verified": false}), gpu_registered).executables == 33
	claims_of(nras_with({"x-nvidia-gpu-vbios-rim-cert-chain": {"x-nvidia-cert-ocsp-status": "revoked"}}), gpu_registered).executables == 33
	# Pinned local measurements do not apply to NRAS's claims.
	claims_of(nras_input, gpu_registered).executables == 3
}

test_nras_gpu_versions if {
	claims_of(nras_with({"x-nvidia-gpu-driver-version": "470.82.01"}), gpu_registered).configuration == 96
	claims_of(nras_with({"x-nvidia-gpu-vbios-version": "96.00.30.00.01"}), gpu_registered).configuration == 96
}
