# KBS resource policy: decides whether Trustee's key broker (KBS) releases a secret to a pod VM that has
# attested. KBS asks data.policy.allow for every request to a plugin and releases nothing unless the answer is
# the boolean true.
#
# What KBS passes in (trustee v0.21.0 kbs/src/api_server.rs):
#   input  the claims of the attestation token (EAR) the attestation service issued for the pod VM. Its
#          submods object has one entry per attested device (cpu0, gpu0, ...), each with an "ear.status":
#          affirming, warning, contraindicated or none, and the claims the attestation policy added
#          (attestation.rego): cpu0 carries "cocogen.initdata-profile", the init-data profile the pod VM
#          booted with.
#   data   the request: {"plugin": "resource", "resource-path": [repository, type, tag], "query": {...}}.
#
# The rule: a resource is released only when every attested device is affirming and the pod VM booted with
# the init-data of a profile that the resource names (global.coco.trustee.resources); a resource that
# requires the evidence of a device class (requires: [gpu]) also needs at least one submod of that class in
# the token (gpu0, gpu1, ...: the attestation service names submods by class and index). A token with no
# submods, a device that is only warning, a pod VM whose init-data is not one of Git's profiles, a profile the
# resource does not name, a path that is not served, or a request to any other plugin gets nothing.
#
# Dialect: Trustee evaluates the policy with regorus, not OPA, so only builtins regorus has may be used
# (cocogen policy test checks it). The source declares the sub-package policy.resource so that both Trustee
# policies of this directory can be tested together (`opa test policies/trustee`); cocogen renders it as
# `package policy`, the package KBS queries, and Trustee mounts it as resource-policy.rego.
package policy.resource

default allow := false

allow if {
	data.plugin == "resource"
	all_affirming
	initdata_profile in readers
	every class in required_classes {
		attested(class)
	}
}

# all_affirming holds when the token names at least one attested device and each of them is affirming.
all_affirming if {
	is_object(input.submods)
	count(input.submods) > 0
	every submod in input.submods {
		submod["ear.status"] == "affirming"
	}
}

# initdata_profile is the profile the attestation policy recognised in the pod VM's evidence.
initdata_profile := profile if {
	profile := input.submods.cpu0["cocogen.initdata-profile"]
	is_string(profile)
}

# requested is the resource asked for as repository/type/tag: three non-empty path segments.
requested := concat("/", path) if {
	path := data["resource-path"]
	is_array(path)
	count(path) == 3
	every segment in path {
		is_string(segment)
		segment != ""
		not contains(segment, "/")
	}
}

# readers are the profiles that may fetch the requested resource, required_classes the device classes whose
# evidence it needs besides the CPU's: an entry of resource_readers is the list of readers, or for a resource
# that requires more evidence {"profiles": [...], "requires": [...]}.
readers := entry if {
	entry := resource_readers[requested]
	is_array(entry)
}

readers := profiles if {
	profiles := object.get(resource_readers, [requested, "profiles"], null)
	is_array(profiles)
}

required_classes := [] if {
	is_array(resource_readers[requested])
} else := classes if {
	classes := object.get(resource_readers, [requested, "requires"], null)
	is_array(classes)
}

# attested(class) holds when the token has a submod of the device class, named class and an index (gpu0),
# that is affirming.
attested(class) if {
	regex.match(`^[a-z]+$`, class)
	some name, submod in input.submods
	regex.match(concat("", ["^", class, "[0-9]+$"]), name)
	submod["ear.status"] == "affirming"
}

# resource_readers must stay the last rule of this file, written as plain JSON: cocogen replaces the object
# below with the one it renders from global.coco.trustee.resources, every served resource
# (repository/type/tag) with the sorted names of the profiles that may fetch it (a list written without
# profiles: the default profile only), or {"profiles": [...], "requires": ["gpu"]} for a resource that also
# needs a GPU's evidence, so that the rendered policy shows who gets which secret. Empty, as here, it
# releases nothing.
resource_readers := {}
