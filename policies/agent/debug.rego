# Kata agent policy for debugging Confidential Containers pods: the agent in the pod VM allows every request,
# on purpose. The demo needs kubectl exec (to curl the confidential data hub from inside the pod) and kubectl
# logs; this policy also lets the host replace it (SetPolicyRequest), create containers of its own, copy files
# anywhere below /run/kata-containers and read diagnostic data. It protects nothing from the host: use it only
# for pods whose secrets do not matter, while finding out why a pod does not start or attest.
#
# Trustee knows which profile a pod VM booted with, and releases to this one only the KBS resources that
# name it in global.coco.trustee.resources (in the built-in pattern: the image security policy and the
# attestation status, never kbsres1 or passphrase).
#
# It is only `default` lines, which every agent parses (Rego v0 before kata 3.30, v1 after) and OPA too.
# Every entry point of the current agent is listed: a name left out would fail that request with an internal
# error.
#
# The source declares the sub-package agent_policy.debug_policy so that every policy of this directory can be
# tested together (`opa test policies/`); cocogen renders it as `package agent_policy`, the package the agent
# queries.
package agent_policy.debug_policy

default AddARPNeighborsRequest := true

default AddSwapPathRequest := true

default AddSwapRequest := true

default CloseStdinRequest := true

default CopyFileRequest := true

default CreateContainerRequest := true

default CreateSandboxRequest := true

default DestroySandboxRequest := true

default ExecProcessRequest := true

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

default ReadStreamRequest := true

default RemoveContainerRequest := true

default RemoveStaleVirtiofsShareMountsRequest := true

default ReseedRandomDevRequest := true

default ResizeVolumeRequest := true

default ResumeContainerRequest := true

default SetGuestDateTimeRequest := true

default SetIPTablesRequest := true

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

default WriteStreamRequest := true
