# KBS resource policy: decides whether Trustee's key broker (KBS) releases a secret to a pod VM that has
# attested. KBS asks data.policy.allow for every request to a plugin and releases nothing unless the answer is
# the boolean true.
#
# What KBS passes in (Trustee v0.21):
#   input  the claims of the attestation token (EAR) the attestation service issued for the pod VM. Its
#          submods object has one entry per attested device (cpu0, gpu0, ...), each with an "ear.status":
#          affirming, warning, contraindicated or none. The attestation policy (attestation.rego) sets it.
#   data   the request: {"plugin": "resource", "resource-path": [repository, type, tag], "query": {...}}.
#
# The rule: a resource is released only when every attested device is affirming. A token with no submods, a
# device that is only warning, or a request to any other plugin gets nothing.
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
}

# all_affirming holds when the token names at least one attested device and each of them is affirming.
all_affirming if {
	is_object(input.submods)
	count(input.submods) > 0
	every submod in input.submods {
		submod["ear.status"] == "affirming"
	}
}
