# Unit tests of resource.rego: run with `cocogen policy test` (or `go test ./...`).
package resource_policy_test

import data.policy.resource

# token(statuses) is the claims of an EAR token with one submod per entry of statuses (name: ear.status), as
# KBS passes them to the policy after it has verified the token.
token(statuses) := {
	"eat_profile": "tag:github.com,2023:veraison/ear",
	"iat": 1767225600,
	"ear.verifier-id": {"build": "attestation-service 0.21.0", "developer": "https://confidentialcontainers.org"},
	"submods": {name: submod(status) | some name, status in statuses},
}

submod(status) := {
	"ear.status": status,
	"ear.trustworthiness-vector": {"executables": 3, "hardware": 2, "configuration": 2},
	"ear.veraison.annotated-evidence": {"snp": {"measurement": "6b02"}},
}

resource_path := ["default", "kbsres1", "key1"]

test_all_affirming_gets_resource if {
	resource.allow with input as token({"cpu0": "affirming", "gpu0": "affirming"})
		with data.plugin as "resource"
		with data["resource-path"] as resource_path
}

test_one_affirming_cpu_gets_resource if {
	resource.allow with input as token({"cpu0": "affirming"})
		with data.plugin as "resource"
		with data["resource-path"] as resource_path
}

test_one_warning_submod_denied if {
	resource.allow == false with input as token({"cpu0": "affirming", "gpu0": "warning"})
		with data.plugin as "resource"
		with data["resource-path"] as resource_path
}

test_other_statuses_denied if {
	every status in ["warning", "contraindicated", "none", "Affirming", "", null, 2] {
		resource.allow == false with input as token({"cpu0": status})
			with data.plugin as "resource"
			with data["resource-path"] as resource_path
	}
}

test_empty_submods_denied if {
	resource.allow == false with input as token({})
		with data.plugin as "resource"
		with data["resource-path"] as resource_path
}

test_missing_or_malformed_submods_denied if {
	every claims in [{}, {"submods": null}, {"submods": []}, {"submods": ["affirming"]}, {"submods": "affirming"}] {
		resource.allow == false with input as claims
			with data.plugin as "resource"
			with data["resource-path"] as resource_path
	}
}

test_submod_without_status_denied if {
	resource.allow == false with input as {"submods": {"cpu0": {"ear.trustworthiness-vector": {}}}}
		with data.plugin as "resource"
		with data["resource-path"] as resource_path
}

test_other_plugin_denied if {
	resource.allow == false with input as token({"cpu0": "affirming"})
		with data.plugin as "sample"
}

test_no_plugin_denied if {
	resource.allow == false with input as token({"cpu0": "affirming"})
}
