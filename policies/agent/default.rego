# Kata agent policy for Confidential Containers pods: the agent in the pod VM answers the requests the host
# needs to run the pod, and refuses the ones that would let the host (or a cluster admin) look inside it or
# change what runs in it:
#
#   - the policy is locked in: SetPolicyRequest is denied, so the host cannot swap it for a permissive one
#     after the pod has attested;
#   - a container is created only if it is one the workloads in Git declare for this profile (its image, its
#     command line, its privileges and its mounts), or the pod's own pause container, which the guest runs
#     from its own image;
#   - files are copied into the pod VM only below the directory where the kata runtime puts a pod's shared
#     files (config maps, secrets, /etc/hosts, ...), never over the guest's own files;
#   - no process may be started in a container (kubectl exec) but the exact command lines in policy_data,
#     nothing may be written to a process's stdin, no container output may be read (kubectl logs) and no
#     diagnostic data (the termination log) may be fetched.
#
# What the host may still do is listed in the README ("Threat model"): stop or starve the pod, pick its
# network, feed it the contents of config maps and secrets, set its environment.
#
# The agent hands each request to this policy as JSON: agent.proto fields in snake_case (container_id,
# storages, sandbox_pidns), the OCI spec under OCI in the PascalCase of oci.proto (OCI.Process.Args,
# OCI.Linux.Namespaces), mounts with destination, source, type_ and options (kata-containers 3.21
# src/libs/protocols/protos/{agent,oci}.proto; the shape genpolicy's rules.rego checks).
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

default CreateSandboxRequest := true

default DestroySandboxRequest := true

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

# The policy is locked in: the agent checks a new policy (the io.katacontainers.config.agent.policy annotation,
# or any SetPolicy call through the agent protocol forwarder) against this rule before it replaces the policy.
default SetPolicyRequest := false

# Since kata 3.29 the host can fetch a container's termination log this way.
default GetDiagnosticDataRequest := false

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

# CopyFileRequest: the kata runtime copies a pod's shared files (config maps, secrets, service account
# tokens, /etc/hosts, /etc/resolv.conf, ...) into the pod VM when it cannot share a file system with it, as
# peer pods cannot. It names each copy <shared dir>/<container id>-<16 random hex>-<file name>, plus the paths
# below it for a directory (kata-containers 3.21 src/runtime/virtcontainers/fs_share_linux.go, ShareFile).
# Nothing else may be written: before kata 4.0 the agent itself accepted any path below /run/kata-containers,
# where the bundles of running containers live.
default CopyFileRequest := false

CopyFileRequest if {
	is_string(input.path)
	regex.match(policy_data.common.copy_file_path, input.path)
	not has_dot_dot_segment(input.path)
	copy_target_allowed
}

# Since kata 3.29 the agent hands the policy a pre-processed request with the file type and, for a symbolic
# link, its target (src/agent/policy/src/policy.rs, PolicyCopyFileRequest). A link may only point to a
# relative path that stays inside the copied tree (config maps link key -> ..data/key), never to a guest path.
copy_target_allowed if {
	object.get(input, "file_type", "") != "Symlink"
}

copy_target_allowed if {
	input.file_type == "Symlink"
	is_string(input.symlink_target)
	not startswith(input.symlink_target, "/")
	not has_dot_dot_segment(input.symlink_target)
}

# has_dot_dot_segment(path) holds when a segment of path is exactly "..".
has_dot_dot_segment(path) if {
	some segment in split(path, "/")
	segment == ".."
}

# CreateContainerRequest: the pod's pause container, or a container that the workloads declare.
default CreateContainerRequest := false

CreateContainerRequest if {
	request_sound
	sandbox_container
}

CreateContainerRequest if {
	request_sound
	some container in policy_data.containers
	declared_container(container)
}

# What every container must satisfy, whichever it is.
request_sound if {
	regex.match("^[A-Za-z0-9][A-Za-z0-9_.-]*$", input.container_id)
	is_null(object.get(input, "string_user", null))
	count(object.get(input, "shared_mounts", [])) == 0
	count(object.get(input, "devices", [])) == 0
	no_hooks
	own_mount_namespace
	not joins_a_namespace
	rootfs_is_the_guest_pull
	every storage in input.storages {
		storage_allowed(storage)
	}
}

# OCI hooks would run a command of the host's choosing in the guest, outside any container.
no_hooks if {
	is_null(object.get(input.OCI, "Hooks", null))
}

no_hooks if {
	is_object(input.OCI.Hooks)
	every _, hooks in input.OCI.Hooks {
		count(hooks) == 0
	}
}

# Without a mount namespace of its own a container would see every mount of the guest, the confidential
# data hub's among them.
own_mount_namespace if {
	some namespace in input.OCI.Linux.Namespaces
	namespace.Type in {"mount", "mnt"}
	namespace.Path == ""
}

# The agent itself places a container into the pod's IPC, UTS and PID namespaces (src/agent/src/rpc.rs,
# update_container_namespaces); a path to any other namespace would join one of the guest's.
joins_a_namespace if {
	some namespace in input.OCI.Linux.Namespaces
	not namespace.Type in {"ipc", "uts", "network", "cgroup"}
	namespace.Path != ""
}

# The image is pulled inside the guest: exactly one storage of driver image_guest_pull, mounted where the
# agent takes the container's root file system from (/run/kata-containers/<container id>/rootfs), and the OCI
# root is that directory. A root file system the host provides (a shared directory) is never used.
guest_pull := pulls[0] if {
	pulls := [storage | some storage in input.storages; storage.driver == "image_guest_pull"]
	count(pulls) == 1
}

rootfs_is_the_guest_pull if {
	root := concat("", ["/run/kata-containers/", input.container_id, "/rootfs"])
	guest_pull.mount_point == root
	input.OCI.Root.Path == root
}

# Every other storage is mounted below the directories of the pod's shared files and volumes.
storage_allowed(storage) if {
	storage.driver == "image_guest_pull"
}

storage_allowed(storage) if {
	storage.driver != "image_guest_pull"
	under_shared_path(storage.mount_point)
}

under_shared_path(path) if {
	is_string(path)
	not has_dot_dot_segment(path)
	some prefix in policy_data.common.shared_paths
	startswith(path, prefix)
}

# The annotations that mark a pod's sandbox (pause) container: containerd's and CRI-O's, the two the agent
# reads (src/agent/src/confidential_data_hub/image.rs, K8S_CONTAINER_TYPE_KEYS).
sandbox_marked(annotations) if {
	some key in {"io.kubernetes.cri.container-type", "io.kubernetes.cri-o.ContainerType"}
	annotations[key] == "sandbox"
}

# The metadata the runtime passes with a guest pull: image_guest_pull=<JSON> among the driver options.
guest_pull_metadata := metadata if {
	some option in guest_pull.driver_options
	startswith(option, "image_guest_pull=")
	metadata := json.unmarshal(substring(option, count("image_guest_pull="), -1)).metadata
	is_object(metadata)
}

# The pause container: when both the OCI annotations and the guest pull mark it as the sandbox, the agent
# unpacks the pause image the guest carries and runs the process of that image, not the one in the request
# (image.rs, unpack_pause_image and get_process). Its mounts are the runtime's own.
sandbox_container if {
	sandbox_marked(input.OCI.Annotations)
	sandbox_marked(guest_pull_metadata)
	mounts_allowed([])
}

# A container of the workloads: the image the guest pulls, the command line, the privileges, the user and
# the mounts are the ones the manifest in Git declares.
declared_container(container) if {
	not sandbox_marked(input.OCI.Annotations)
	not sandbox_marked(guest_pull_metadata)
	guest_pull.source in container.images
	command_line_allowed(container)
	user_allowed(container)
	privileges_allowed(container)
	pid_namespace_allowed(container)
	mounts_allowed(container.mounts)
}

# A null args means the manifest leaves the command line to the image, which cocogen cannot read; the render
# warns about it.
command_line_allowed(container) if {
	is_null(container.args)
}

command_line_allowed(container) if {
	is_array(container.args)
	input.OCI.Process.Args == container.args
}

user_allowed(container) if {
	uid_allowed(container.run_as_user)
	not root_denied(container)
}

uid_allowed(uid) if {
	is_null(uid)
}

uid_allowed(uid) if {
	input.OCI.Process.User.UID == uid
}

root_denied(container) if {
	container.run_as_non_root == true
	input.OCI.Process.User.UID == 0
}

# A privileged container may hold every capability and device; any other holds only the runtime's default
# capabilities minus those the manifest drops plus those it adds, no device, and keeps the kernel's sensitive
# files masked.
privileges_allowed(container) if {
	container.privileged == true
}

privileges_allowed(container) if {
	container.privileged == false
	count(object.get(input.OCI.Linux, "Devices", [])) == 0
	every path in policy_data.common.masked_paths {
		path in input.OCI.Linux.MaskedPaths
	}
	allowed := allowed_capabilities(container)
	every set in ["Ambient", "Bounding", "Effective", "Inheritable", "Permitted"] {
		every capability in process_capabilities(set) {
			capability in allowed
		}
	}
}

allowed_capabilities(container) := {c | some c in container.capabilities.add} if {
	"ALL" in container.capabilities.drop
}

allowed_capabilities(container) := (defaults - dropped) | added if {
	not "ALL" in container.capabilities.drop
	defaults := {c | some c in policy_data.common.default_capabilities}
	dropped := {c | some c in container.capabilities.drop}
	added := {c | some c in container.capabilities.add}
}

process_capabilities(set) := capabilities if {
	capabilities := input.OCI.Process.Capabilities[set]
	is_array(capabilities)
} else := []

# sandbox_pidns puts the container into the pod's shared PID namespace, where it sees the other containers'
# processes: only for pods that ask for it (shareProcessNamespace or hostPID).
pid_namespace_allowed(container) if {
	object.get(input, "sandbox_pidns", false) == false
}

pid_namespace_allowed(container) if {
	container.sandbox_pidns == true
}

# Mounts: each destination is one the runtime always mounts or one of the container's volume mounts, and each
# source that is a path lies below the directories of the pod's shared files and volumes (sources such as
# proc, sysfs or tmpfs name a file system, not a path).
mounts_allowed(declared) if {
	every mount in input.OCI.Mounts {
		mount_destination_allowed(mount.destination, declared)
		mount_source_allowed(mount.source)
	}
}

mount_destination_allowed(destination, declared) if {
	destination in policy_data.common.runtime_mounts
}

mount_destination_allowed(destination, declared) if {
	destination in declared
}

mount_source_allowed(source) if {
	is_string(source)
	not startswith(source, "/")
}

mount_source_allowed(source) if {
	under_shared_path(source)
}

# policy_data must stay the last rule of this file, written as plain JSON (keys sorted, two-space indent, no
# trailing commas, nothing after it; opa fmt would add trailing commas here): Trustee's attestation service
# reads it as JSON from the brace below to the end of the file (finding this rule by its first line, which no
# comment may repeat) and puts it into the attestation token.
#
# containers: cocogen fills it when it renders the init-data, from the pod templates of the workloads that
# use this profile (or run as peer pods with the cluster's default init-data), one entry per container
# (agentpolicy.Finalize). common: what the kata runtime itself sets up for every container; shared_paths are
# where mount sources and storages may lie (the peer pods' agent protocol forwarder mounts its cloud volumes
# at /run/cloud-volumes/<name>, cloud-api-adaptor pkg/forwarder/interceptor: add that prefix to use them).
# request_defaults.ExecProcessRequest.allowed_commands: whole argv arrays, compared with the request's
# process.Args as a whole; cocogen appends the commands the values allow. The two below let a pod check its
# own attestation.
policy_data := {
  "common": {
    "copy_file_path": "^/run/kata-containers/shared/containers/[a-z0-9]{64}-[a-z0-9]{16}-",
    "default_capabilities": [
      "CAP_AUDIT_WRITE",
      "CAP_CHOWN",
      "CAP_DAC_OVERRIDE",
      "CAP_FOWNER",
      "CAP_FSETID",
      "CAP_KILL",
      "CAP_MKNOD",
      "CAP_NET_BIND_SERVICE",
      "CAP_NET_RAW",
      "CAP_SETFCAP",
      "CAP_SETGID",
      "CAP_SETPCAP",
      "CAP_SETUID",
      "CAP_SYS_CHROOT"
    ],
    "masked_paths": [
      "/proc/kcore",
      "/proc/keys",
      "/sys/firmware"
    ],
    "runtime_mounts": [
      "/dev",
      "/dev/mqueue",
      "/dev/pts",
      "/dev/shm",
      "/dev/termination-log",
      "/etc/hostname",
      "/etc/hosts",
      "/etc/resolv.conf",
      "/proc",
      "/run/.containerenv",
      "/run/secrets",
      "/sys",
      "/sys/fs/cgroup",
      "/var/run/secrets/kubernetes.io/serviceaccount"
    ],
    "shared_paths": [
      "/run/kata-containers/sandbox/",
      "/run/kata-containers/shared/containers/"
    ]
  },
  "containers": [],
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
