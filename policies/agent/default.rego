# Kata agent policy for Confidential Containers pods: the agent in the pod VM answers the requests the host
# needs to run the pod, and refuses the ones that would let the host (or a cluster admin) look inside it:
# running processes in a container (kubectl exec), reading its output (kubectl logs) and writing to its stdin.
# The only processes the host may start are the exact command lines in policy_data below.
#
# Dialect: the kata agent loads this file into regorus, not OPA. `import rego.v1` makes it parse the same in
# every agent (Rego v0 before kata 3.30, v1 from 3.30 on) and in OPA. Only builtins the agent's regorus has may
# be used (cocogen policy check enforces it); never add `import future.keywords...` next to `import rego.v1`.
#
# Each entry point is the protobuf message name of a request; the agent asks data.agent_policy.<name> and
# fails the request with an internal error if the result is undefined, so every name has a default.
#
# The source declares the sub-package agent_policy.default_policy so that every policy of this directory can be
# tested together (`opa test policies/`); cocogen renders it as `package agent_policy`, the package the agent
# queries.
package agent_policy.default_policy

import rego.v1

default AddARPNeighborsRequest := true

default AddSwapPathRequest := true

default AddSwapRequest := true

default CloseStdinRequest := true

default CopyFileRequest := true

default CreateContainerRequest := true

default CreateSandboxRequest := true

default DestroySandboxRequest := true

default GetDiagnosticDataRequest := true

default GetIPTablesRequest := true

default GetMetricsRequest := true

default GetOOMEventRequest := true

default GuestDetailsRequest := true

default ListInterfacesRequest := true

default ListRoutesRequest := true

default MemAgentCompactConfig := true

default MemAgentMemcgConfig := true

default MemHotplugByProbeRequest := true

default OnlineCPUMemRequest := true

default PauseContainerRequest := true

default RemoveContainerRequest := true

default RemoveStaleVirtiofsShareMountsRequest := true

default ReseedRandomDevRequest := true

default ResizeVolumeRequest := true

default ResumeContainerRequest := true

default SetGuestDateTimeRequest := true

default SetIPTablesRequest := true

# The host may replace this policy with another one (the io.katacontainers.config.agent.policy annotation).
# That keeps the pattern's behaviour; set it to false to lock this policy in for the life of the pod.
default SetPolicyRequest := true

default SignalProcessRequest := true

default StartContainerRequest := true

default StatsContainerRequest := true

default TtyWinResizeRequest := true

default UpdateContainerRequest := true

default UpdateEphemeralMountsRequest := true

default UpdateInterfaceRequest := true

default UpdateRoutesRequest := true

default VolumeStatsRequest := true

default WaitProcessRequest := true

# kubectl logs: the agent answers a denied read with empty data, so the container's pipes never fill up.
default ReadStreamRequest := false

# Writing to a process's stdin (kubectl exec -i, kubectl attach).
default WriteStreamRequest := false

# kubectl exec and exec probes: denied unless the whole argv is one of the allowed commands.
default ExecProcessRequest := false

ExecProcessRequest if {
	some allowed in policy_data.request_defaults.ExecProcessRequest.allowed_commands
	allowed == input.process.Args
}

# policy_data must stay the last rule of this file, written as plain JSON (keys sorted, two-space indent, no
# trailing commas, nothing after it; opa fmt would add trailing commas here): Trustee's attestation service
# reads it as JSON from the brace below to the end of the file (finding this rule by its first line, which no
# comment may repeat) and puts it into the attestation token. allowed_commands holds whole argv arrays, compared
# with the request's process.Args as a whole. cocogen appends the commands the values allow to this list when
# it renders the init-data (agentpolicy.Finalize); the two below let a pod check its own attestation.
policy_data := {
  "request_defaults": {
    "ExecProcessRequest": {
      "allowed_commands": [
        [
          "curl",
          "http://127.0.0.1:8006/cdh/resource/default/attestation-status/status"
        ],
        [
          "curl",
          "http://127.0.0.1:8006/cdh/resource/default/attestation-status/random"
        ]
      ]
    }
  }
}
