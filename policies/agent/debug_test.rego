# Unit tests of debug.rego: run with `cocogen policy test` (or `go test ./...`), or upstream with `opa test policies/`.
package debug_policy_test

import rego.v1

import data.agent_policy.debug_policy as agent_policy

exec_request(args) := {
	"container_id": "9f2c4e1d7a",
	"exec_id": "b41e",
	"string_user": null,
	"process": {"Terminal": true, "Args": args, "Env": [], "Cwd": "/"},
}

test_exec_shell_allowed if {
	agent_policy.ExecProcessRequest with input as exec_request(["sh"])
	agent_policy.ExecProcessRequest with input as exec_request(["/bin/sh", "-c", "cat /etc/passwd"])
}

test_logs_allowed if {
	agent_policy.ReadStreamRequest with input as {"container_id": "9f2c4e1d7a", "exec_id": "", "len": 32768}
}

test_stdin_allowed if {
	agent_policy.WriteStreamRequest with input as {"container_id": "9f2c4e1d7a", "exec_id": "b41e", "data": "aWQK"}
}

# Every request of the current agent (kata 4.1.0 src/agent/src/rpc.rs, plus SetPolicyRequest).
requests := {
	"AddARPNeighborsRequest", "AddSwapPathRequest", "AddSwapRequest", "CloseStdinRequest", "CopyFileRequest",
	"CreateContainerRequest", "CreateSandboxRequest", "DestroySandboxRequest", "ExecProcessRequest",
	"GetDiagnosticDataRequest", "GetIPTablesRequest", "GetMetricsRequest", "GetOOMEventRequest", "GuestDetailsRequest",
	"ListInterfacesRequest", "ListRoutesRequest", "MemAgentCompactConfig", "MemAgentMemcgConfig",
	"MemHotplugByProbeRequest", "OnlineCPUMemRequest", "PauseContainerRequest", "ReadStreamRequest",
	"RemoveContainerRequest", "RemoveStaleVirtiofsShareMountsRequest", "ReseedRandomDevRequest", "ResizeVolumeRequest",
	"ResumeContainerRequest", "SetGuestDateTimeRequest", "SetIPTablesRequest", "SetPolicyRequest",
	"SignalProcessRequest", "StartContainerRequest", "StatsContainerRequest", "TtyWinResizeRequest",
	"UpdateContainerRequest", "UpdateEphemeralMountsRequest", "UpdateInterfaceRequest", "UpdateRoutesRequest",
	"VolumeStatsRequest", "WaitProcessRequest", "WriteStreamRequest",
}

test_every_request_allowed if {
	count(requests) == 41
	every name in requests {
		agent_policy[name] == true with input as {}
	}
}

test_policy_defines_only_the_requests if {
	object.keys(agent_policy) == requests
}
