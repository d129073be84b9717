# Attestation policy for Trustee's built-in attestation service: it turns the claims of a pod VM's verified
# evidence into an AR4SI trustworthiness vector, which the service signs into the EAR token KBS later checks
# (resource.rego releases secrets only to a token whose every submod is affirming).
#
# The service evaluates data.policy.trust_claims, an object with an integer for some of the eight AR4SI claims
# (a key outside those eight fails the attestation), and data.policy.extensions, a list of extra token claims.
# Each value falls in a tier: 0 no claim, 2 or 3 affirming, 32 to 95 warning, 96 to 127 contraindicated. The
# token's status is the worst tier of the vector, so every claim below must be affirming for a pod VM to get
# secrets.
#
# input holds the claims of one TEE's evidence under its name: input["az-snp-vtpm"] and input["az-tdx-vtpm"] for
# Azure confidential VMs (with the vTPM PCRs as input[tee].tpm.pcr00 ... pcr23, lowercase hex), input.snp and
# input.tdx on bare metal. Beside it are init_data (hex; on bare metal the HOST_DATA or MRCONFIGID that binds
# the init-data), init_data_claims, report_data and runtime_data_claims.
#
# Reference values come from Trustee's reference value provider: query_reference_value(id) returns the value
# cocogen registered under id, or null when there is none. cocogen registers lists of lowercase hex strings,
# and for the pod VM PCRs an object {"pcr03": [hex, ...], ...}:
#   cocogen_initdata_azure_pcr8      PCR8 values of the init-data documents Git renders (Azure)
#   cocogen_initdata_snp_host_data   HOST_DATA values of those documents (bare-metal SNP)
#   cocogen_initdata_tdx_mrconfigid  MRCONFIGID values of those documents (bare-metal TDX)
#   cocogen_pod_vm_pcrs              the PCRs of the pod VM image, by PCR (Azure)
#   cocogen_snp_launch_measurements  launch measurements of the pod VM (bare-metal SNP)
#   cocogen_tdx_mr_td                MR_TD values of the pod VM (bare-metal TDX)
# A value missing from the provider never matches, and never fails the evaluation either: the claim it would
# have raised keeps its default.
#
# Dialect: the service evaluates the policy with regorus, not OPA, so only builtins regorus has may be used
# (cocogen policy test checks it). The source declares the sub-package policy.attestation so that both Trustee
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

extensions := []

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
}

azure_tees := {"az-snp-vtpm", "az-tdx-vtpm"}

# tpm holds the vTPM PCRs of an Azure confidential VM.
tpm := input[tee].tpm if {
	tee in azure_tees
	is_object(input[tee].tpm)
}

# reference_list(id) is the list registered under id. It is undefined when the provider has none (null) or
# something other than a list, so that `x in reference_list(id)` is then simply false.
reference_list(id) := value if {
	value := query_reference_value(id)
	is_array(value)
}

# hardware: before the policy runs, the verifier has checked the TEE report's signature chain up to the
# vendor's root and, on Azure, the vTPM quote against the report.
hardware := 2 if tee

# init_data_binding is the evidence that binds the pod's init-data to the TEE, with the id of the reference
# value listing the bindings of the init-data documents Git renders: PCR8 on Azure (sha256 of 32 zero bytes
# followed by the init-data digest), HOST_DATA on SNP, MRCONFIGID on TDX.
init_data_binding := {"value": tpm.pcr08, "id": "cocogen_initdata_azure_pcr8"} if {
	tee in azure_tees
}

init_data_binding := {"value": input.init_data, "id": "cocogen_initdata_snp_host_data"} if {
	tee == "snp"
}

init_data_binding := {"value": input.init_data, "id": "cocogen_initdata_tdx_mrconfigid"} if {
	tee == "tdx"
}

# configuration: 2 (affirming) when the pod VM runs with init-data that Git renders; 96 (contraindicated) when
# it runs with other init-data, which could point it at another KBS or loosen its agent policy. Without a
# binding, or without a registered list to compare it with, configuration stays 36.
configuration := 2 if {
	init_data_binding.value in reference_list(init_data_binding.id)
}

configuration := 96 if {
	registered := reference_list(init_data_binding.id)
	not init_data_binding.value in registered
}

# executables: 3 (affirming) when the pod VM booted the image cocogen knows.
#
# Azure: every PCR registered for the pod VM image holds one of its registered values. An empty object pins
# no PCR and so matches any image (cocogen warns about it when it renders the reference values); no object
# at all leaves executables at 33.
executables := 3 if {
	tee in azure_tees
	pinned := query_reference_value("cocogen_pod_vm_pcrs")
	is_object(pinned)
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

# Bare-metal TDX: MR_TD, the measurement of the pod VM's firmware.
executables := 3 if {
	tee == "tdx"
	input.tdx.quote.body.mr_td in reference_list("cocogen_tdx_mr_td")
}
