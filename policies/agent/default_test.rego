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

# The policy is locked in: no replacement, not even by an identical or an allow-all policy.
test_set_policy_denied if {
	agent_policy.SetPolicyRequest == false with input as {"policy": "package agent_policy\n\ndefault ExecProcessRequest := true\n"}
	agent_policy.SetPolicyRequest == false with input as {}
}

test_diagnostic_data_denied if {
	agent_policy.GetDiagnosticDataRequest == false with input as {"container_id": "9f2c4e1d7a"}
}

######################################################################################################
# CreateContainerRequest

sandbox_id := "3b8e2f0a9c4d6e1f7a5b2c8d0e4f6a1b3c5d7e9f0a2b4c6d8e0f1a3b5c7d9e1f"

container_id := "c0ffee4a1b2c3d4e5f60718293a4b5c6d7e8f90123456789abcdef0123456789"

rootfs(id) := concat("", ["/run/kata-containers/", id, "/rootfs"])

shared_file(name) := concat("", ["/run/kata-containers/shared/containers/", container_id, "-8c2e4a6b0d1f3e5a-", name])

default_caps := agent_policy.policy_data.common.default_capabilities

# guest_pull(id, image, metadata) is the storage through which the runtime asks the guest to pull image.
guest_pull(id, image, metadata) := {
	"driver": "image_guest_pull",
	"driver_options": [concat("", ["image_guest_pull=", json.marshal({"metadata": metadata})])],
	"source": image,
	"fstype": "overlay",
	"options": [],
	"mount_point": rootfs(id),
	"fs_group": null,
}

runtime_mounts := [
	{"destination": "/proc", "source": "proc", "type_": "proc", "options": ["nosuid", "noexec", "nodev"]},
	{"destination": "/dev", "source": "tmpfs", "type_": "tmpfs", "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
	{"destination": "/dev/pts", "source": "devpts", "type_": "devpts", "options": ["nosuid", "noexec", "newinstance"]},
	{"destination": "/dev/mqueue", "source": "mqueue", "type_": "mqueue", "options": ["nosuid", "noexec", "nodev"]},
	{"destination": "/sys", "source": "sysfs", "type_": "sysfs", "options": ["nosuid", "noexec", "nodev", "ro"]},
	{"destination": "/dev/shm", "source": "/run/kata-containers/sandbox/shm", "type_": "bind", "options": ["rbind"]},
	{"destination": "/etc/resolv.conf", "source": shared_file("resolv.conf"), "type_": "bind", "options": ["rbind", "ro"]},
]

oci(id, annotations, args, user, caps, mounts) := {
	"Version": "1.1.0",
	"Annotations": annotations,
	"Hooks": null,
	"Hostname": "web-5d8f7c9b6-x2k4p",
	"Root": {"Path": rootfs(id), "Readonly": false},
	"Mounts": mounts,
	"Process": {
		"Terminal": false,
		"User": user,
		"Args": args,
		"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOSTNAME=web-5d8f7c9b6-x2k4p"],
		"Cwd": "/",
		"Capabilities": {"Ambient": [], "Bounding": caps, "Effective": caps, "Inheritable": [], "Permitted": caps},
		"NoNewPrivileges": true,
		"ApparmorProfile": "",
		"SelinuxLabel": "",
	},
	"Linux": {
		"Namespaces": [{"Type": "ipc", "Path": ""}, {"Type": "uts", "Path": ""}, {"Type": "mount", "Path": ""}],
		"MaskedPaths": ["/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/sched_debug", "/proc/scsi", "/sys/firmware"],
		"ReadonlyPaths": ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"],
		"Devices": [],
		"Sysctl": {},
	},
	"Solaris": null,
	"Windows": null,
}

create_request(id, oci_spec, storages) := {
	"container_id": id,
	"exec_id": id,
	"string_user": null,
	"devices": [],
	"storages": storages,
	"OCI": oci_spec,
	"sandbox_pidns": false,
	"shared_mounts": [],
}

sandbox_annotations := {
	"io.kubernetes.cri-o.ContainerType": "sandbox",
	"io.kubernetes.cri-o.SandboxID": sandbox_id,
	"io.kubernetes.pod.namespace": "demo",
}

# The pause container as CRI-O (OpenShift) creates it for a peer pod.
pause_request := create_request(
	sandbox_id,
	oci(sandbox_id, sandbox_annotations, ["/usr/bin/pod"], {"UID": 65535, "GID": 65535, "AdditionalGids": [], "Username": ""}, default_caps, runtime_mounts),
	[guest_pull(sandbox_id, "pause", sandbox_annotations)],
)

container_annotations(image) := {
	"io.kubernetes.cri-o.ContainerType": "container",
	"io.kubernetes.cri-o.ImageName": image,
	"io.kubernetes.cri-o.SandboxID": sandbox_id,
	"io.kubernetes.pod.namespace": "demo",
}

web_image := "quay.io/example/web:1.4"

web_args := ["/web", "--listen", ":8080"]

web_mounts := array.concat(runtime_mounts, [
	{"destination": "/data", "source": concat("", ["/run/kata-containers/shared/containers/", sandbox_id, "/rootfs/local/data"]), "type_": "bind", "options": ["rbind", "rprivate", "rw"]},
	{"destination": "/var/run/secrets/kubernetes.io/serviceaccount", "source": shared_file("serviceaccount"), "type_": "bind", "options": ["rbind", "rprivate", "ro"]},
])

# The web container as the runtime asks for it: the image pulled in the guest, every capability dropped, UID
# 1000.
web_request := create_request(
	container_id,
	oci(container_id, container_annotations(web_image), web_args, {"UID": 1000, "GID": 1000, "AdditionalGids": [], "Username": ""}, [], web_mounts),
	[
		guest_pull(container_id, web_image, container_annotations(web_image)),
		{"driver": "local", "driver_options": [], "source": "local", "fstype": "local", "options": ["mode=0777"], "mount_point": concat("", ["/run/kata-containers/shared/containers/", sandbox_id, "/rootfs/local/data"]), "fs_group": null},
	],
)

# What cocogen writes into policy_data.containers for the manifests of the test: the web container above,
# and a tool container that leaves its command line to the image, adds NET_ADMIN and runs as UID 1001.
declared := [
	{
		"workload": "Deployment demo/web",
		"name": "web",
		"images": [web_image],
		"args": web_args,
		"privileged": false,
		"capabilities": {"add": [], "drop": ["ALL"]},
		"mounts": ["/data"],
		"run_as_user": null,
		"run_as_non_root": true,
		"sandbox_pidns": false,
	},
	{
		"workload": "Deployment demo/web",
		"name": "tool",
		"images": ["docker.io/library/busybox:1.36", "busybox:1.36"],
		"args": null,
		"privileged": false,
		"capabilities": {"add": ["CAP_NET_ADMIN"], "drop": []},
		"mounts": [],
		"run_as_user": 1001,
		"run_as_non_root": false,
		"sandbox_pidns": false,
	},
]

with_containers := object.union(agent_policy.policy_data, {"containers": declared})

# patched(request, ops) is request with the JSON patch ops applied.
patched(request, ops) := json.patch(request, ops)

allowed_create(request) if {
	agent_policy.CreateContainerRequest == true with input as request with agent_policy.policy_data as with_containers
}

denied_create(request) if {
	agent_policy.CreateContainerRequest == false with input as request with agent_policy.policy_data as with_containers
}

test_create_empty_request_denied if {
	agent_policy.CreateContainerRequest == false with input as {}
	denied_create({})
}

test_create_pause_container_allowed if {
	allowed_create(pause_request)
}

# The pause container of containerd (the cri annotations) is recognised too.
test_create_pause_container_containerd_allowed if {
	containerd := {"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.sandbox-id": sandbox_id}
	allowed_create(patched(pause_request, [
		{"op": "replace", "path": "/OCI/Annotations", "value": containerd},
		{"op": "replace", "path": "/storages/0", "value": guest_pull(sandbox_id, "pause", containerd)},
	]))
}

# Without the guest's own pause image, a container marked as the sandbox would run what the host provides.
test_create_pause_container_not_pulled_in_the_guest_denied if {
	denied_create(patched(pause_request, [{"op": "replace", "path": "/storages", "value": []}]))
	denied_create(patched(pause_request, [{"op": "replace", "path": "/storages/0/driver", "value": "virtio-fs"}]))
	marked_container := object.union(sandbox_annotations, {"io.kubernetes.cri-o.ContainerType": "container"})
	denied_create(patched(pause_request, [{"op": "replace", "path": "/storages/0", "value": guest_pull(sandbox_id, "quay.io/evil/pause:1", marked_container)}]))
}

test_create_declared_container_allowed if {
	allowed_create(web_request)
}

test_create_declared_container_with_fewer_capabilities_allowed if {
	tool := patched(web_request, [
		{"op": "replace", "path": "/storages/0/source", "value": "docker.io/library/busybox:1.36"},
		{"op": "replace", "path": "/OCI/Process/Args", "value": ["sh", "-c", "anything the image says"]},
		{"op": "replace", "path": "/OCI/Process/User/UID", "value": 1001},
		{"op": "replace", "path": "/OCI/Process/Capabilities/Bounding", "value": ["CAP_NET_ADMIN", "CAP_CHOWN"]},
		{"op": "remove", "path": "/OCI/Mounts/7"},
	])
	allowed_create(tool)
}

# The host adds a container of its own to the pod: an image no workload declares.
test_create_undeclared_image_denied if {
	denied_create(patched(web_request, [{"op": "replace", "path": "/storages/0/source", "value": "quay.io/attacker/shell:latest"}]))
	denied_create(patched(web_request, [{"op": "replace", "path": "/storages/0/source", "value": "quay.io/example/web:1.5"}]))
}

# The annotation says the image, but what the guest pulls is the storage's source.
test_create_image_name_annotation_is_not_enough if {
	denied_create(patched(web_request, [
		{"op": "replace", "path": "/storages/0/source", "value": "quay.io/attacker/shell:latest"},
		{"op": "replace", "path": "/OCI/Annotations/io.kubernetes.cri-o.ImageName", "value": web_image},
	]))
}

test_create_other_command_line_denied if {
	every args in [["/bin/sh"], ["/web"], ["/web", "--listen", ":8080", "--debug"], array.concat(["sh", "-c"], [concat(" ", web_args)])] {
		denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Process/Args", "value": args}]))
	}
}

test_create_extra_capability_denied if {
	every caps in [["CAP_SYS_ADMIN"], ["CAP_NET_RAW"], default_caps] {
		denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Process/Capabilities/Permitted", "value": caps}]))
	}
	denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Process/Capabilities/Ambient", "value": ["CAP_SYS_PTRACE"]}]))
}

# A privileged container: every capability, no masked paths, devices.
test_create_privileged_denied if {
	denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Linux/MaskedPaths", "value": []}]))
	denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Linux/Devices", "value": [{"Path": "/dev/vda", "Type": "b", "Major": 253, "Minor": 0}]}]))
	denied_create(patched(web_request, [{"op": "replace", "path": "/devices", "value": [{"id": "0", "type_": "blk", "vm_path": "/dev/vdb", "container_path": "/dev/xvda", "options": []}]}]))
}

test_create_privileged_when_declared_allowed if {
	privileged := [object.union(declared[0], {"privileged": true})]
	agent_policy.CreateContainerRequest == true with input as patched(web_request, [
		{"op": "replace", "path": "/OCI/Linux/MaskedPaths", "value": []},
		{"op": "replace", "path": "/OCI/Process/Capabilities/Bounding", "value": ["CAP_SYS_ADMIN"]},
	])
		with agent_policy.policy_data as object.union(agent_policy.policy_data, {"containers": privileged})
}

test_create_wrong_user_denied if {
	denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Process/User/UID", "value": 0}]))
	tool := patched(web_request, [{"op": "replace", "path": "/storages/0/source", "value": "busybox:1.36"}, {"op": "remove", "path": "/OCI/Mounts/7"}])
	denied_create(patched(tool, [{"op": "replace", "path": "/OCI/Process/User/UID", "value": 1002}]))
}

# Hooks run a command of the host's choosing in the guest.
test_create_hooks_denied if {
	hooks := {"Prestart": [{"Path": "/bin/sh", "Args": ["sh", "-c", "cat /run/confidential-containers/cdh.toml"], "Env": [], "Timeout": 0}]}
	denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Hooks", "value": hooks}]))
	allowed_create(patched(web_request, [{"op": "replace", "path": "/OCI/Hooks", "value": {"Prestart": [], "Poststart": []}}]))
}

test_create_guest_path_mount_denied if {
	every source in ["/run/confidential-containers", "/", "/run/kata-containers/shared/containers/../../peerpod", "/run/peerpod/aa.toml"] {
		denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Mounts/7/source", "value": source}]))
	}
}

test_create_undeclared_mount_destination_denied if {
	denied_create(patched(web_request, [{"op": "add", "path": "/OCI/Mounts/-", "value": {"destination": "/etc/ld.so.preload", "source": shared_file("preload"), "type_": "bind", "options": ["rbind"]}}]))
	denied_create(patched(pause_request, [{"op": "add", "path": "/OCI/Mounts/-", "value": {"destination": "/data", "source": shared_file("data"), "type_": "bind", "options": ["rbind"]}}]))
}

test_create_shared_guest_namespaces_denied if {
	denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Linux/Namespaces", "value": [{"Type": "ipc", "Path": ""}, {"Type": "uts", "Path": ""}]}]))
	denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Linux/Namespaces/2/Path", "value": "/proc/1/ns/mnt"}]))
	denied_create(patched(web_request, [{"op": "add", "path": "/OCI/Linux/Namespaces/-", "value": {"Type": "pid", "Path": "/proc/1/ns/pid"}}]))
	allowed_create(patched(web_request, [{"op": "add", "path": "/OCI/Linux/Namespaces/-", "value": {"Type": "network", "Path": "/var/run/netns/cni-5f1c2a3b"}}]))
}

test_create_sandbox_pidns_only_when_declared if {
	denied_create(patched(web_request, [{"op": "replace", "path": "/sandbox_pidns", "value": true}]))
	shared := [object.union(declared[0], {"sandbox_pidns": true})]
	agent_policy.CreateContainerRequest == true with input as patched(web_request, [{"op": "replace", "path": "/sandbox_pidns", "value": true}])
		with agent_policy.policy_data as object.union(agent_policy.policy_data, {"containers": shared})
}

# The root file system must be the image the guest pulled.
test_create_root_file_system_from_the_host_denied if {
	denied_create(patched(web_request, [{"op": "replace", "path": "/OCI/Root/Path", "value": concat("", ["/run/kata-containers/shared/containers/", container_id, "/rootfs"])}]))
	denied_create(patched(web_request, [{"op": "replace", "path": "/storages/0/mount_point", "value": "/run/kata-containers/other/rootfs"}]))
	denied_create(patched(web_request, [{"op": "add", "path": "/storages/-", "value": guest_pull(container_id, web_image, container_annotations(web_image))}]))
	denied_create(patched(web_request, [{"op": "add", "path": "/storages/-", "value": {"driver": "virtio-fs", "driver_options": [], "source": "kataShared", "fstype": "virtiofs", "options": [], "mount_point": rootfs(container_id), "fs_group": null}}]))
	denied_create(patched(web_request, [{"op": "replace", "path": "/container_id", "value": "../../run/peerpod"}]))
}

test_create_odd_fields_denied if {
	denied_create(patched(web_request, [{"op": "replace", "path": "/string_user", "value": {"uid": "0", "gid": "0"}}]))
	denied_create(patched(web_request, [{"op": "replace", "path": "/shared_mounts", "value": [{"name": "x", "src_ctr": "a", "src_path": "/", "dst_ctr": "b", "dst_path": "/x"}]}]))
}

# No container is admitted when the workloads declare none (the source's own list is empty).
test_create_nothing_declared if {
	count(agent_policy.policy_data.containers) == 0
	agent_policy.CreateContainerRequest == false with input as web_request
	agent_policy.CreateContainerRequest == true with input as pause_request
}

######################################################################################################
# CopyFileRequest

copy_request(path, file_type, target) := {
	"path": path,
	"file_type": file_type,
	"symlink_target": target,
	"file_size": 42,
	"file_mode": 33188,
	"dir_mode": 493,
	"uid": 0,
	"gid": 0,
	"offset": 0,
}

test_copy_shared_files_allowed if {
	agent_policy.CopyFileRequest with input as copy_request(shared_file("resolv.conf"), "Regular", null)
	agent_policy.CopyFileRequest with input as copy_request(concat("/", [shared_file("config"), "..2026_01_01_00_00_00.123456789", "app.yaml"]), "Regular", null)
	agent_policy.CopyFileRequest with input as copy_request(shared_file("config"), "Directory", null)
	agent_policy.CopyFileRequest with input as copy_request(concat("/", [shared_file("config"), "app.yaml"]), "Symlink", "..data/app.yaml")
}

# Before kata 3.29 the agent passed the raw request: no file_type.
test_copy_old_request_shape_allowed if {
	agent_policy.CopyFileRequest with input as {"path": shared_file("hosts"), "file_size": 42, "file_mode": 33188, "dir_mode": 493, "uid": 0, "gid": 0, "offset": 0, "data": "MTI3LjAuMC4x"}
}

test_copy_elsewhere_denied if {
	every path in [
		concat("", ["/run/kata-containers/", container_id, "/config.json"]),
		"/run/kata-containers/shared/containers/hosts",
		concat("", ["/run/kata-containers/shared/containers/", container_id, "/rootfs/etc/passwd"]),
		concat("/", [shared_file("config"), "..", "..", "..", "..", "etc", "ld.so.preload"]),
		"/run/confidential-containers/cdh.toml",
		"/etc/kata-opa/default-policy.rego",
		"",
	] {
		agent_policy.CopyFileRequest == false with input as copy_request(path, "Regular", null)
	}
	agent_policy.CopyFileRequest == false with input as {}
}

test_copy_symlink_out_of_the_tree_denied if {
	every target in ["/run/confidential-containers", "../../../../etc", "..data/../../x"] {
		agent_policy.CopyFileRequest == false with input as copy_request(shared_file("config/key"), "Symlink", target)
	}
	agent_policy.CopyFileRequest == false with input as copy_request(shared_file("config/key"), "Symlink", null)
}

######################################################################################################
# Every entry point

denied_requests := {
	"CopyFileRequest", "CreateContainerRequest", "ExecProcessRequest", "GetDiagnosticDataRequest",
	"ReadStreamRequest", "SetPolicyRequest", "WriteStreamRequest",
}

# Every other request of the current agent (kata 4.1.0 src/agent/src/rpc.rs).
allowed_requests := {
	"AddARPNeighborsRequest", "AddSwapPathRequest", "AddSwapRequest", "CloseStdinRequest",
	"CreateSandboxRequest", "DestroySandboxRequest", "GetIPTablesRequest", "GetMetricsRequest", "GetOOMEventRequest",
	"GuestDetailsRequest", "ListInterfacesRequest", "ListRoutesRequest", "MemAgentCompactConfig", "MemAgentMemcgConfig",
	"MemHotplugByProbeRequest", "OnlineCPUMemRequest", "PauseContainerRequest", "RemoveContainerRequest",
	"RemoveStaleVirtiofsShareMountsRequest", "ReseedRandomDevRequest", "ResizeVolumeRequest", "ResumeContainerRequest",
	"SetGuestDateTimeRequest", "SetIPTablesRequest", "SignalProcessRequest", "StartContainerRequest",
	"StatsContainerRequest", "TtyWinResizeRequest", "UpdateContainerRequest", "UpdateEphemeralMountsRequest",
	"UpdateInterfaceRequest", "UpdateRoutesRequest", "VolumeStatsRequest", "WaitProcessRequest",
}

test_every_other_request_allowed if {
	count(allowed_requests) == 34
	every name in allowed_requests {
		agent_policy[name] == true with input as {}
	}
}

test_denied_requests_denied_for_an_empty_request if {
	count(denied_requests) == 7
	every name in denied_requests {
		agent_policy[name] == false with input as {}
	}
}

# The policy defines exactly the tested requests: a new entry point needs a test.
test_policy_defines_only_tested_requests if {
	entry_points := {name |
		some name, _ in agent_policy
		regex.match("^[A-Z]", name)
	}
	entry_points == allowed_requests | denied_requests
}
