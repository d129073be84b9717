package agentpolicy

// EntryPoints are the names the current kata agent asks its policy about: for each request the agent queries
// data.agent_policy.<name>, where <name> is the protobuf message name of the request. A name the policy leaves
// undefined makes that call fail with an internal error, so every policy must define all of them.
//
// Source: kata-containers 4.1.0 (commit 7c6ba40, 2026-08-22), src/agent/src/rpc.rs — every is_allowed(&req)
// and is_allowed_with_entrypoint(...) call (ReadStdout and ReadStderr both send ReadStreamRequest;
// MemAgentMemcgSet and MemAgentCompactSet pass their config message, gated since 4.0.0) — plus
// SetPolicyRequest, which src/agent/src/policy.rs::do_set_policy checks against the current policy before
// replacing it. Legacy names that older policies still define (PullImageRequest, StartTracingRequest,
// StopTracingRequest) are never queried and are not required; defining them is harmless.
var EntryPoints = []string{
	"AddARPNeighborsRequest",
	"AddSwapPathRequest",
	"AddSwapRequest",
	"CloseStdinRequest",
	"CopyFileRequest",
	"CreateContainerRequest",
	"CreateSandboxRequest",
	"DestroySandboxRequest",
	"ExecProcessRequest",
	"GetDiagnosticDataRequest",
	"GetIPTablesRequest",
	"GetMetricsRequest",
	"GetOOMEventRequest",
	"GuestDetailsRequest",
	"ListInterfacesRequest",
	"ListRoutesRequest",
	"MemAgentCompactConfig",
	"MemAgentMemcgConfig",
	"MemHotplugByProbeRequest",
	"OnlineCPUMemRequest",
	"PauseContainerRequest",
	"ReadStreamRequest",
	"RemoveContainerRequest",
	"RemoveStaleVirtiofsShareMountsRequest",
	"ReseedRandomDevRequest",
	"ResizeVolumeRequest",
	"ResumeContainerRequest",
	"SetGuestDateTimeRequest",
	"SetIPTablesRequest",
	"SetPolicyRequest",
	"SignalProcessRequest",
	"StartContainerRequest",
	"StatsContainerRequest",
	"TtyWinResizeRequest",
	"UpdateContainerRequest",
	"UpdateEphemeralMountsRequest",
	"UpdateInterfaceRequest",
	"UpdateRoutesRequest",
	"VolumeStatsRequest",
	"WaitProcessRequest",
	"WriteStreamRequest",
}

// allowFailures is the agent's debug switch: when it evaluates to true, every denial and every undefined result
// is turned into "allowed" (src/agent/policy/src/policy.rs, update_allow_failures_flag). It is optional.
const allowFailures = "AllowRequestsFailingPolicy"
