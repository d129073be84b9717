# Unit tests of default.rego: run with `cocogen policy test` (or `go test ./...`), or upstream with `opa test policies/`.
package default_policy_test

import rego.v1

import data.agent_policy.default_policy as agent_policy

status_probe := ["curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"]

random_probe := ["curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/random"]

# An ExecProcessRequest as the agent serialises it: agent.proto fields in snake_case, the OCI process in
# PascalCase.
exec_request(args) := {
	"container_id": "9f2c4e1d7a",
	"exec_id": "b41e",
	"string_user": null,
	"process": {
		"Terminal": false,
		"User": {"UID": 0, "GID": 0, "AdditionalGids": [], "Username": ""},
		"Args": args,
		"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
		"Cwd": "/",
	},
}

test_exec_shell_denied if {
	agent_policy.ExecProcessRequest == false with input as exec_request(["sh"])
	agent_policy.ExecProcessRequest == false with input as exec_request(["/bin/sh", "-c", "id"])
	agent_policy.ExecProcessRequest == false with input as exec_request(["bash", "-i"])
}

test_exec_status_probe_allowed if {
	agent_policy.ExecProcessRequest with input as exec_request(status_probe)
}

test_exec_random_probe_allowed if {
	agent_policy.ExecProcessRequest with input as exec_request(random_probe)
}

test_exec_probe_allowed_in_any_container if {
	agent_policy.ExecProcessRequest with input as object.union(exec_request(status_probe), {"container_id": "other"})
}

# Command lines that look like an allowed one but are not it, argument for argument.
near_misses := [
	["curl"],
	["curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status/"],
	["curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status", "-o", "/tmp/x"],
	["curl", "-s", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"],
	["curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status", ""],
	["curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/statu"],
	["curl", "http://127.0.0.1:8006/cdh/resource/default/kbsres1/key3"],
	["curl", "http://localhost:8006/cdh/resource/default/attestation-status/status"],
	["/usr/bin/curl", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"],
	["CURL", "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"],
	["curl http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"],
	["sh", "-c", "curl http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"],
	[],
]

test_exec_near_miss_denied if {
	every args in near_misses {
		agent_policy.ExecProcessRequest == false with input as exec_request(args)
	}
}

test_exec_without_process_denied if {
	agent_policy.ExecProcessRequest == false with input as {"container_id": "9f2c4e1d7a", "exec_id": "b41e"}
	agent_policy.ExecProcessRequest == false with input as {}
}

test_allow_list_holds_the_attestation_probes if {
	commands := agent_policy.policy_data.request_defaults.ExecProcessRequest.allowed_commands
	status_probe in commands
	random_probe in commands
}

# kubectl logs: ReadStdout and ReadStderr both ask about ReadStreamRequest.
test_logs_denied if {
	agent_policy.ReadStreamRequest == false with input as {"container_id": "9f2c4e1d7a", "exec_id": "", "len": 32768}
}

test_stdin_denied if {
	agent_policy.WriteStreamRequest == false with input as {"container_id": "9f2c4e1d7a", "exec_id": "b41e", "data": "aWQK"}
}

denied_requests := {"ExecProcessRequest", "ReadStreamRequest", "WriteStreamRequest"}

# Every other request of the current agent (kata 4.1.0 src/agent/src/rpc.rs, plus SetPolicyRequest).
allowed_requests := {
	"AddARPNeighborsRequest", "AddSwapPathRequest", "AddSwapRequest", "CloseStdinRequest", "CopyFileRequest",
	"CreateContainerRequest", "CreateSandboxRequest", "DestroySandboxRequest", "GetDiagnosticDataRequest",
	"GetIPTablesRequest", "GetMetricsRequest", "GetOOMEventRequest", "GuestDetailsRequest", "ListInterfacesRequest",
	"ListRoutesRequest", "MemAgentCompactConfig", "MemAgentMemcgConfig", "MemHotplugByProbeRequest",
	"OnlineCPUMemRequest", "PauseContainerRequest", "RemoveContainerRequest", "RemoveStaleVirtiofsShareMountsRequest",
	"ReseedRandomDevRequest", "ResizeVolumeRequest", "ResumeContainerRequest", "SetGuestDateTimeRequest",
	"SetIPTablesRequest", "SetPolicyRequest", "SignalProcessRequest", "StartContainerRequest", "StatsContainerRequest",
	"TtyWinResizeRequest", "UpdateContainerRequest", "UpdateEphemeralMountsRequest", "UpdateInterfaceRequest",
	"UpdateRoutesRequest", "VolumeStatsRequest", "WaitProcessRequest",
}

test_every_other_request_allowed if {
	count(allowed_requests) == 38
	every name in allowed_requests {
		agent_policy[name] == true with input as {}
	}
}

test_other_requests_allowed_whatever_they_ask if {
	agent_policy.CreateContainerRequest with input as {"container_id": "9f2c4e1d7a", "OCI": {"Process": {"Args": ["sh"]}}}
	agent_policy.CopyFileRequest with input as {"path": "/run/kata-containers/shared/containers/x", "file_type": "Regular"}
	agent_policy.SetPolicyRequest with input as {"policy": "package agent_policy\n"}
}

# The policy defines exactly the tested requests (and its data): a new rule needs a test.
test_policy_defines_only_tested_requests if {
	object.keys(agent_policy) == (allowed_requests | denied_requests) | {"policy_data"}
}
