# Attestation policy for Trustee's built-in attestation service: it turns the claims of a pod VM's verified
# evidence into an AR4SI trustworthiness vector, which the service signs into the EAR token KBS later checks,
# and tells KBS which init-data profile the pod VM booted with (resource.rego releases a secret only to a token
# whose every submod is affirming, and only to the profiles the secret names).
#
# The service evaluates data.policy.trust_claims, an object with an integer for some of the eight AR4SI claims
# (a key outside those eight fails the attestation), and data.policy.extensions, a list of {name, key, value}
# that it adds to the token's submod under name (trustee v0.21.0 attestation-service/src/ear_token/broker.rs;
# veraison rust-ear src/appraisal.rs writes each extension by name beside ear.status). Each claim value falls
# in a tier: 0 no claim, 2 or 3 affirming, 32 to 95 warning, 96 to 127 contraindicated. The token's status is
# the worst tier of the vector, so every claim below must be affirming or make no claim for a pod VM to get
# secrets.
#
# input holds the claims of one TEE's evidence under its name: input["az-snp-vtpm"] and input["az-tdx-vtpm"] for
# Azure confidential VMs (with the vTPM PCRs as input[tee].tpm.pcr00 ... pcr23, lowercase hex), input.snp and
# input.tdx on bare metal. Beside it are init_data (hex; on bare metal the HOST_DATA or MRCONFIGID that binds
# the init-data, on Azure PCR 8), init_data_claims, report_data and runtime_data_claims (trustee v0.21.0
# ear_token/broker.rs, transform_claims). The claim names are those of Trustee 0.21's verifiers
# (deps/verifier/src/{az_snp_vtpm,az_tdx_vtpm,snp,tdx,intel_dcap}): on Azure SEV-SNP every report field is a
# string ("false", "24"), on bare-metal SEV-SNP a boolean or a number.
#
# A pod VM with NVIDIA GPUs sends each GPU's evidence beside its CPU's (the KBS protocol's additional
# evidence, trustee v0.21.0 kbs/src/attestation/backend.rs), bound to the same nonce. The service appraises
# every device on its own, with the policy of the device's class: default_cpu for the CPU, default_gpu for
# each GPU, whose submods the token names cpu0, gpu0, gpu1, ... (attestation-service/src/ear_token/broker.rs,
# issue; attestation-service/docs/policy.md). cocogen mounts this one policy under both names, so the GPU
# submodule below appraises input.nvidia, the claims of Trustee's NVIDIA verifier (local or remote).
#
# Reference values come from Trustee's reference value provider: query_reference_value(id) returns the value
# cocogen registered under id, or null when there is none:
#   cocogen_initdata_profiles        {profile: {"azure_pcr8", "snp_host_data", "tdx_mrconfigid"}}: how the
#                                    init-data of each profile in use binds to the evidence
#   cocogen_initdata_previous        {profile: [{"azure_pcr8", "snp_host_data", "tdx_mrconfigid", "until"}]}:
#                                    init-data a profile rendered before a change, which pods started with
#                                    it keep attesting with until "until" (YYYY-MM-DDTHH:MM:SSZ)
#   cocogen_pod_vm_pcrs              the PCRs of the pod VM image, by PCR: {"pcr03": [hex, ...], ...} (Azure)
#   cocogen_pod_vm_unpinned          true when the values accept any pod VM image (acceptUnpinnedPodVM)
#   cocogen_snp_launch_measurements  launch measurements of the pod VM (bare-metal SNP)
#   cocogen_tdx_mr_td                MR_TD values of the pod VM (bare-metal TDX)
#   cocogen_tdx_rtmr_1               RTMR 1 values (kernel, initrd) of the pod VM (bare-metal TDX), if pinned
#   cocogen_tdx_rtmr_2               RTMR 2 values (kernel command line) of the pod VM (bare-metal TDX), if pinned
#   cocogen_snp_minimum_tcb          {"bootloader", "microcode", "snp", "tee"}: the lowest SEV-SNP firmware
#   cocogen_tdx_tcb_statuses         the TDX TCB statuses accepted, e.g. ["UpToDate"]
#   cocogen_tdx_minimum_tcb_date     the oldest TDX TCB date accepted, YYYY-MM-DDTHH:MM:SSZ
#   cocogen_nvidia_driver_versions   the NVIDIA driver versions a GPU may report (e.g. "550.90.07")
#   cocogen_nvidia_vbios_versions    the VBIOS versions a GPU may report (e.g. "96.00.9f.00.01")
#   cocogen_nvidia_gpu_measurements  the GPU's measurements, by SPDM measurement index: {"2": [hex, ...], ...}
# A value missing from the provider never matches, and never fails the evaluation either: the claim it would
# have raised keeps its default.
#
# Dialect: the service evaluates the policy with regorus, not OPA, so only builtins regorus has may be used
# (cocogen policy test checks it); Trustee builds regorus with its time builtins. The source declares the sub-package policy.attestation so that both Trustee
# policies of this directory can be tested together (`opa test policies/trustee`); cocogen renders it as
# `package policy`, the package the service queries, and Trustee mounts it as default_cpu.rego.
package policy.attestation

# Defaults, for evidence this policy does not recognise:
#   executables 33    warning: the runtime holds executables that are not recognised
#   hardware 97       contraindicated: the hardware or firmware is not recognised
#   configuration 36  warning: the configuration is not recognised
# The other five claims are not made (0).
default executables := 33

default hardware := 97

default configuration := 36

default file_system := 0

default instance_identity := 0

default runtime_opaque := 0

default storage_opaque := 0

default sourced_data := 0

trust_claims := {
	"executables": executables,
	"hardware": hardware,
	"configuration": configuration,
	"file-system": file_system,
	"instance-identity": instance_identity,
	"runtime-opaque": runtime_opaque,
	"storage-opaque": storage_opaque,
	"sourced-data": sourced_data,
}

# The token's cpu0 submod carries the init-data profile the pod VM booted with as the claim
# "cocogen.initdata-profile", which the resource policy compares with the profiles a secret names. The key is
# the claim's integer label in EAR's CBOR form, from the private-use range.
profile_extension := "cocogen.initdata-profile"

extensions := [{"name": profile_extension, "key": -70100, "value": initdata_profile}] if {
	initdata_profile
} else := []

# tee names the TEE the evidence comes from; it is undefined for any other. The service evaluates the policy
# once per TEE, and the else chain keeps tee single-valued even for input that names several, so that no two
# of the rules below can both apply.
tee := "az-snp-vtpm" if {
	is_object(input["az-snp-vtpm"])
} else := "az-tdx-vtpm" if {
	is_object(input["az-tdx-vtpm"])
} else := "snp" if {
	is_object(input.snp)
} else := "tdx" if {
	is_object(input.tdx)
} else := "nvidia" if {
	is_object(input.nvidia)
}

azure_tees := {"az-snp-vtpm", "az-tdx-vtpm"}

tdx_tees := {"az-tdx-vtpm", "tdx"}

# tpm holds the vTPM PCRs of an Azure confidential VM.
tpm := input[tee].tpm if {
	tee in azure_tees
	is_object(input[tee].tpm)
}

# reference_list(id) and reference_object(id) are the list or the object registered under id. They are
# undefined when the provider has none (null) or something else, so that a comparison with them is then
# simply false.
reference_list(id) := value if {
	value := query_reference_value(id)
	is_array(value)
}

reference_object(id) := value if {
	value := query_reference_value(id)
	is_object(value)
}

######################################################################################################
# configuration: the init-data profile

# binding is how the pod's init-data shows in the evidence, under the name cocogen registers it with: PCR 8 on
# Azure (sha256 of 32 zero bytes followed by the init-data digest), HOST_DATA on SNP, MRCONFIGID on TDX.
binding := {"field": "azure_pcr8", "value": tpm.pcr08} if {
	tee in azure_tees
}

binding := {"field": "snp_host_data", "value": input.init_data} if {
	tee == "snp"
}

binding := {"field": "tdx_mrconfigid", "value": input.init_data} if {
	tee == "tdx"
}

registered_profiles := reference_object("cocogen_initdata_profiles")

matching_profiles contains name if {
	some name, bindings in registered_profiles
	is_object(bindings)
	bindings[binding.field] == binding.value
}

# A pod VM started before its profile's init-data changed attests as that profile until the entry's until
# has passed: then the binding is unknown, and configuration contraindicated. The time is Trustee's, at each
# attestation, so the window ends when the values say even if nobody removes the entry.
matching_profiles contains name if {
	some name, entries in reference_object("cocogen_initdata_previous")
	is_array(entries)
	some entry in entries
	is_object(entry)
	entry[binding.field] == binding.value
	is_string(entry.until)
	regex.match(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$`, entry.until)
	time.now_ns() < time.parse_rfc3339_ns(entry.until)
}

# initdata_profile is the profile whose init-data the pod VM booted with; undefined when none or (which the
# render prevents) more than one matches.
initdata_profile := name if {
	count(matching_profiles) == 1
	some name in matching_profiles
}

# configuration: 2 (affirming) when the pod VM runs with the init-data of a profile in Git; 96
# (contraindicated) when it runs with other init-data, which could point it at another KBS or loosen its
# agent policy. Without a binding, or without registered profiles to compare it with, configuration stays 36.
configuration := 2 if {
	initdata_profile
}

configuration := 96 if {
	registered_profiles
	binding.value
	not initdata_profile
}

######################################################################################################
# executables: the pod VM image

# Azure: 3 (affirming) when the pod VM's PCRs are pinned and each pinned PCR holds one of its registered
# values. Pinning nothing never affirms: with cocogen_pod_vm_unpinned (the values' acceptUnpinnedPodVM) the
# claim is 0, no claim at all, which leaves the token affirming on the strength of the other claims, and the
# token says that the image was not checked.
executables := 3 if {
	tee in azure_tees
	pod_vm_pinned
}

executables := 0 if {
	tee in azure_tees
	not reference_object("cocogen_pod_vm_pcrs")
	query_reference_value("cocogen_pod_vm_unpinned") == true
}

pod_vm_pinned if {
	pinned := reference_object("cocogen_pod_vm_pcrs")
	count(pinned) > 0
	is_object(tpm)
	every pcr, values in pinned {
		is_array(values)
		tpm[pcr] in values
	}
}

# Bare-metal SNP: the launch measurement of the pod VM (firmware, kernel, initrd and command line).
executables := 3 if {
	tee == "snp"
	input.snp.measurement in reference_list("cocogen_snp_launch_measurements")
}

# Bare-metal TDX: MR_TD, the measurement of the pod VM's firmware, and RTMR 1 (kernel, initrd) and RTMR 2
# (kernel command line) where those are pinned too.
executables := 3 if {
	tee == "tdx"
	input.tdx.quote.body.mr_td in reference_list("cocogen_tdx_mr_td")
	tdx_rtmr_1_pinned
	tdx_rtmr_2_pinned
}

tdx_rtmr_1_pinned if input.tdx.quote.body.rtmr_1 in reference_list("cocogen_tdx_rtmr_1")

tdx_rtmr_1_pinned if is_null(query_reference_value("cocogen_tdx_rtmr_1"))

tdx_rtmr_2_pinned if input.tdx.quote.body.rtmr_2 in reference_list("cocogen_tdx_rtmr_2")

tdx_rtmr_2_pinned if is_null(query_reference_value("cocogen_tdx_rtmr_2"))

# Bare metal, by choice: with cocogen_pod_vm_unpinned and no launch measurement registered for the TEE, the
# claim is 0, as on Azure. A TEE whose measurements are registered is never unpinned.
executables := 0 if {
	tee == "snp"
	not reference_list("cocogen_snp_launch_measurements")
	query_reference_value("cocogen_pod_vm_unpinned") == true
}

executables := 0 if {
	tee == "tdx"
	not reference_list("cocogen_tdx_mr_td")
	query_reference_value("cocogen_pod_vm_unpinned") == true
}

######################################################################################################
# hardware: the TEE

# What Trustee's default CPU policy checks for each TEE (trustee v0.21.0
# attestation-service/src/ear_token/ear_default_policy_cpu.rego), with the firmware levels from the values:
# debugging is off, the guest may not be migrated by a migration agent, and the TCB is at or above the
# minimum. The verifier has already checked the report's signature chain up to the vendor's root and, on
# Azure, the vTPM quote against the report.
hardware := 2 if {
	tee == "az-snp-vtpm"
	claims := input["az-snp-vtpm"]
	claims.policy_debug_allowed == "false"
	claims.policy_migrate_ma == "false"
	snp_tcb_at_least_minimum(claims)
}

hardware := 2 if {
	tee == "snp"
	input.snp.policy_debug_allowed == false
	input.snp.policy_migrate_ma == false
	snp_tcb_at_least_minimum(input.snp)
}

# TDX: a quote of a TDX module (tee_type 0x81) signed by Intel's quoting enclave, debugging off, collateral
# that has not expired, a TCB status the values accept and a TCB date not older than their minimum.
hardware := 2 if {
	tee in tdx_tees
	claims := input[tee]
	claims.quote.header.tee_type == "81000000"
	claims.quote.header.vendor_id == "939a7233f79c4ca9940a0db3957f0607"
	claims.td_attributes.debug == false
	claims.collateral_expiration_status == "0"
	claims.tcb_status in reference_list("cocogen_tdx_tcb_statuses")
	tdx_tcb_date_at_least_minimum(claims)
}

# The reported TCB of an SEV-SNP report (reported_tcb_bootloader, ..._microcode, ..._snp, ..._tee) is at or
# above the registered minimum in every component; without a registered minimum any level passes.
snp_tcb_at_least_minimum(claims) if {
	minimum := reference_object("cocogen_snp_minimum_tcb")
	every component, level in minimum {
		to_number(claims[concat("", ["reported_tcb_", component])]) >= level
	}
}

snp_tcb_at_least_minimum(claims) if {
	is_null(query_reference_value("cocogen_snp_minimum_tcb"))
}

# Both dates are written YYYY-MM-DDTHH:MM:SSZ, which sort as text.
tdx_tcb_date_at_least_minimum(claims) if {
	minimum := query_reference_value("cocogen_tdx_minimum_tcb_date")
	is_string(minimum)
	is_string(claims.tcb_date)
	claims.tcb_date >= minimum
}

tdx_tcb_date_at_least_minimum(claims) if {
	is_null(query_reference_value("cocogen_tdx_minimum_tcb_date"))
}

######################################################################################################
# The GPU submodule: an NVIDIA GPU (the token's gpu0, gpu1, ...)
#
# The claims depend on how Trustee verifies the GPU (global.coco.baremetal.nvidiaVerifier).
#
# local (the default): Trustee's local NVIDIA verifier accepts only Hopper GPUs, and returns claims only for a
# report whose signature verifies with a certificate chain that ends at NVIDIA's device root, whose nonce is the
# KBS session's and whose firmware id matches the certificate's (trustee v0.21.0
# deps/verifier/src/nvidia/mod.rs, evaluate_device_locally; report.rs, try_new). What it then reports
# (NvDeviceReportAndCertClaim; attestation-service/docs/tcb_claims.md, "NVIDIA"): arch, uuid, measurements (the
# SPDM measurement blocks as lowercase hex, by index) and config, the report's opaque data by NVIDIA's names
# (spdm_response.rs, OpaqueDataType: driver_version, vbios_version, fwid, ...). It reports no secure boot or
# debug state, so those are not checked; what is pinned is the driver, the VBIOS and the measurements.
#
# remote: NVIDIA's remote attestation service (NRAS) checks the evidence and Trustee passes on its signed
# results as the claims, with the overall result x-nvidia-overall-att-result (nvidia/nras_response.rs, claims;
# the names as Trustee's default GPU policy reads them, attestation-service/src/ear_token/
# ear_default_policy_gpu.rego): the report's certificate chain, signature and firmware id, the architecture
# check, secboot and dbgstat, the driver and VBIOS versions, and the comparison of the measurements with the
# driver's and the VBIOS's reference integrity manifests (RIMs), measres.

gpu := input.nvidia if tee == "nvidia"

# gpu_local: the claims of the local verifier; gpu_remote: those of NRAS.
gpu_local if {
	is_string(gpu.arch)
	is_object(gpu.config)
}

gpu_remote if {
	not gpu_local
	is_boolean(gpu["x-nvidia-overall-att-result"])
}

gpu_driver_version := gpu.config.driver_version if gpu_local

gpu_driver_version := gpu["x-nvidia-gpu-driver-version"] if gpu_remote

gpu_vbios_version := gpu.config.vbios_version if gpu_local

gpu_vbios_version := gpu["x-nvidia-gpu-vbios-version"] if gpu_remote

# hardware: 2 (affirming) for a GPU whose report and certificates check out: with the local verifier, a GPU of
# the architecture it checks, with the firmware id it checked against the certificate; with NRAS, its overall
# result and each check of the report. Anything else keeps the default, 97 (contraindicated).
hardware := 2 if {
	gpu_local
	gpu.arch == "Hopper"
	is_string(gpu.config.fwid)
	gpu.config.fwid != ""
}

hardware := 2 if {
	gpu_remote
	gpu["x-nvidia-overall-att-result"] == true
	every check in [
		"x-nvidia-gpu-arch-check",
		"x-nvidia-gpu-attestation-report-parsed",
		"x-nvidia-gpu-attestation-report-signature-verified",
		"x-nvidia-gpu-attestation-report-cert-chain-fwid-match",
	] {
		gpu[check] == true
	}
	gpu_chain_good("x-nvidia-gpu-attestation-report-cert-chain")
}

# gpu_chain_good(name): NRAS found the certificate chain name valid and not revoked.
gpu_chain_good(name) if {
	gpu[name]["x-nvidia-cert-status"] == "valid"
	gpu[name]["x-nvidia-cert-ocsp-status"] == "good"
}

# configuration: 2 (affirming) when the GPU runs a driver and a VBIOS the values list (and, as NRAS reports
# them, boots securely with debugging disabled); 96 (contraindicated) when a listed version does not match, or
# NRAS reports no secure boot or debugging enabled. With no version listed it stays 36 (warning): a GPU whose
# software nobody pinned does not attest.
configuration := 2 if {
	is_object(gpu)
	gpu_secure
	gpu_driver_version in reference_list("cocogen_nvidia_driver_versions")
	gpu_vbios_version in reference_list("cocogen_nvidia_vbios_versions")
}

configuration := 96 if {
	is_object(gpu)
	gpu_version_refused
}

configuration := 96 if {
	gpu_remote
	not gpu_secure
}

gpu_secure if gpu_local

gpu_secure if {
	gpu_remote
	gpu.secboot == true
	gpu.dbgstat == "disabled"
}

gpu_version_refused if {
	allowed := reference_list("cocogen_nvidia_driver_versions")
	not gpu_driver_version in allowed
}

gpu_version_refused if {
	allowed := reference_list("cocogen_nvidia_vbios_versions")
	not gpu_vbios_version in allowed
}

# executables, local verifier: 3 (affirming) when every pinned measurement of the GPU holds one of its
# registered values, 96 (contraindicated) when one does not. Without pinned measurements the claim is 0, no
# claim: the driver and VBIOS versions above stand for the GPU's software.
executables := 3 if {
	gpu_local
	gpu_measurements_match
}

executables := 96 if {
	gpu_local
	reference_object("cocogen_nvidia_gpu_measurements")
	not gpu_measurements_match
}

executables := 0 if {
	gpu_local
	is_null(query_reference_value("cocogen_nvidia_gpu_measurements"))
}

gpu_measurements_match if {
	pinned := reference_object("cocogen_nvidia_gpu_measurements")
	count(pinned) > 0
	is_object(gpu.measurements)
	every index, values in pinned {
		is_array(values)
		gpu.measurements[index] in values
	}
}

# executables, NRAS: 3 (affirming) when the driver's and the VBIOS's RIMs were fetched, valid and signed, and
# the measurements match them (measres success); 96 (contraindicated) when they do not match. Otherwise the
# default, 33 (warning).
executables := 3 if {
	gpu_remote
	every part in ["driver", "vbios"] {
		every check in ["fetched", "measurements-available", "schema-validated", "signature-verified", "version-match"] {
			gpu[concat("", ["x-nvidia-gpu-", part, "-rim-", check])] == true
		}
	}
	gpu_chain_good("x-nvidia-gpu-vbios-rim-cert-chain")
	gpu.measres == "success"
}

executables := 96 if {
	gpu_remote
	is_string(gpu.measres)
	gpu.measres != "success"
}
