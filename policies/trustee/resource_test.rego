# Unit tests of resource.rego: run with `cocogen policy test` (or `go test ./...`).
package resource_policy_test

import data.policy.resource

# token(statuses, profile) is the claims of an EAR token with one submod per entry of statuses (name:
# ear.status), as KBS passes them to the policy after it has verified the token; cpu0 carries the init-data
# profile the attestation policy recognised ("" for none).
token(statuses, profile) := {
	"eat_profile": "tag:github.com,2023:veraison/ear",
	"iat": 1767225600,
	"ear.verifier-id": {"build": "attestation-service 0.21.0", "developer": "https://confidentialcontainers.org"},
	"submods": {name: submod(name, status, profile) | some name, status in statuses},
}

submod(name, status, profile) := object.union(
	{
		"ear.status": status,
		"ear.trustworthiness-vector": {"executables": 3, "hardware": 2, "configuration": 2},
		"ear.veraison.annotated-evidence": {"snp": {"measurement": "6b02"}},
	},
	{"cocogen.initdata-profile": profile | name == "cpu0"; profile != ""},
)

# What cocogen renders from the values: kbsres1 for the default profile only (the list shorthand), the
# attestation status for both profiles.
readers := {
	"default/attestation-status/status": ["debug", "default"],
	"default/gpu-secret/key": {"profiles": ["default"], "requires": ["gpu"]},
	"default/kbsres1/key1": ["default"],
	"default/kbsres1/key3": ["default"],
}

request(path) := {"plugin": "resource", "resource-path": path, "query": {}}

# allowed(claims, req) and denied(claims, req): KBS's answer for the token claims and the request (data).
allowed(claims, req) if {
	resource.allow with input as claims
		with data.plugin as object.get(req, "plugin", null)
		with data["resource-path"] as object.get(req, "resource-path", null)
		with resource.resource_readers as readers
}

denied(claims, req) if {
	resource.allow == false with input as claims
		with data.plugin as object.get(req, "plugin", null)
		with data["resource-path"] as object.get(req, "resource-path", null)
		with resource.resource_readers as readers
}

key1 := ["default", "kbsres1", "key1"]

status := ["default", "attestation-status", "status"]

test_default_profile_gets_its_resources if {
	allowed(token({"cpu0": "affirming"}, "default"), request(key1))
	allowed(token({"cpu0": "affirming"}, "default"), request(status))
	allowed(token({"cpu0": "affirming", "gpu0": "affirming"}, "default"), request(["default", "kbsres1", "key3"]))
}

# The debug profile (oc exec works there) gets only what names it.
test_debug_profile_gets_only_what_names_it if {
	denied(token({"cpu0": "affirming"}, "debug"), request(key1))
	allowed(token({"cpu0": "affirming"}, "debug"), request(status))
}

# An affirming token whose init-data is no profile of Git's (or that says nothing about it) gets nothing.
test_unknown_profile_denied if {
	every profile in ["", "prod", "Default", "default "] {
		denied(token({"cpu0": "affirming"}, profile), request(key1))
	}
	denied(object.union(token({"cpu0": "affirming"}, ""), {"submods": {"cpu0": {"cocogen.initdata-profile": ["default"]}}}), request(key1))
}

# The profile must come from the cpu0 submod, whose attestation policy sets it.
test_profile_of_another_submod_denied if {
	claims := {"submods": {
		"cpu0": {"ear.status": "affirming"},
		"gpu0": {"ear.status": "affirming", "cocogen.initdata-profile": "default"},
	}}
	denied(claims, request(key1))
}

test_resource_not_served_denied if {
	every path in [
		["default", "kbsres1", "key2"],
		["default", "kbsres1"],
		["default", "kbsres1", "key1", "x"],
		["default/kbsres1", "key1", ""],
		["default", "kbsres1/key1", ""],
		"default/kbsres1/key1",
		[],
		null,
	] {
		denied(token({"cpu0": "affirming"}, "default"), request(path))
	}
}

test_one_warning_submod_denied if {
	denied(token({"cpu0": "affirming", "gpu0": "warning"}, "default"), request(key1))
}

test_other_statuses_denied if {
	every status in ["warning", "contraindicated", "none", "Affirming", "", null, 2] {
		denied(token({"cpu0": status}, "default"), request(key1))
	}
}

test_empty_submods_denied if {
	denied(token({}, "default"), request(key1))
}

test_missing_or_malformed_submods_denied if {
	every claims in [{}, {"submods": null}, {"submods": []}, {"submods": ["affirming"]}, {"submods": "affirming"}] {
		denied(claims, request(key1))
	}
}

test_submod_without_status_denied if {
	denied({"submods": {"cpu0": {"ear.trustworthiness-vector": {}, "cocogen.initdata-profile": "default"}}}, request(key1))
}

test_other_plugin_denied if {
	denied(token({"cpu0": "affirming"}, "default"), {"plugin": "sample", "resource-path": key1})
	denied(token({"cpu0": "affirming"}, "default"), {"resource-path": key1})
}

# The source itself names no reader: cocogen fills resource_readers when it renders the policy.
test_source_releases_nothing if {
	resource.resource_readers == {}
	resource.allow == false with input as token({"cpu0": "affirming"}, "default")
		with data.plugin as "resource"
		with data["resource-path"] as key1
}

######################################################################################################
# Resources that require a GPU's evidence (requires: [gpu])

gpu_secret := ["default", "gpu-secret", "key"]

test_gpu_resource_released_with_cpu_and_gpu_evidence if {
	allowed(token({"cpu0": "affirming", "gpu0": "affirming"}, "default"), request(gpu_secret))
	allowed(token({"cpu0": "affirming", "gpu0": "affirming", "gpu1": "affirming"}, "default"), request(gpu_secret))
}

test_gpu_resource_denied_without_gpu_evidence if {
	denied(token({"cpu0": "affirming"}, "default"), request(gpu_secret))
	# Only a submod of class gpu counts: gpu followed by its index.
	every name in ["gpu", "gpux", "xgpu0", "gpu0a", "switch0", "cpu1", "GPU0"] {
		denied(token({"cpu0": "affirming", name: "affirming"}, "default"), request(gpu_secret))
	}
}

test_gpu_resource_denied_with_a_weak_gpu if {
	every status in ["warning", "contraindicated", "none"] {
		denied(token({"cpu0": "affirming", "gpu0": status}, "default"), request(gpu_secret))
		denied(token({"cpu0": "affirming", "gpu0": "affirming", "gpu1": status}, "default"), request(gpu_secret))
	}
}

test_gpu_resource_keeps_the_cpu_rules if {
	denied(token({"cpu0": "warning", "gpu0": "affirming"}, "default"), request(gpu_secret))
	denied(token({"cpu0": "affirming", "gpu0": "affirming"}, "debug"), request(gpu_secret))
	denied({"submods": {"gpu0": {"ear.status": "affirming", "cocogen.initdata-profile": "default"}}}, request(gpu_secret))
}

# A resource whose entry is an object without a list of profiles, or with requirements that are not a list,
# releases nothing.
test_malformed_entries_release_nothing if {
	every entry in [{"requires": ["gpu"]}, {"profiles": ["default"]}, {"profiles": ["default"], "requires": "gpu"}, {"profiles": "default", "requires": []}, "default", null] {
		resource.allow == false with input as token({"cpu0": "affirming", "gpu0": "affirming"}, "default")
			with data.plugin as "resource"
			with data["resource-path"] as gpu_secret
			with resource.resource_readers as {"default/gpu-secret/key": entry}
	}
}
