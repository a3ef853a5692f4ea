#!/usr/bin/env bash
# The JSON shapes gantryd answers against a private dockerd's, key by key: the same containers, images and networks inspected on both.
# Every key path dockerd's answer has (array indices folded to []) must be in gantryd's too, and
# the values a user reads (state, config, host config) must agree where they do not depend on
# the daemon (ids, times, paths).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"

tmp=$(mktemp -d /tmp/gantry-shape.XXXXXX)
t_defer "rm -rf '$tmp'"
declare -A st=()
bb=$(e2e_busybox_tar)
for TARGET in dockerd gantryd; do
	start_daemon
	st[$TARGET]=$(e2e_state)
	dk load -i "$bb" >/dev/null || { t_fail "${TARGET}_load" "docker load failed"; t_summary; }
done
on() { eval "${st[$1]}"; }

# Key paths of a JSON document, one per line: a.b.c, arrays as [].
paths() { jq -r '[paths | map(if type == "number" then "[]" else tostring end) | join(".")] | unique[]'; }

# Both daemons run ARGS...; the inspect answers land in $tmp/<target>.json.
inspect_both() { # KIND NAME CREATE-COMMAND...
	local kind=$1 name=$2 t
	shift 2
	for t in dockerd gantryd; do
		on "$t"
		"$@" >/dev/null 2>"$tmp/$t.err" || true # (a container may exit non-zero on purpose)
		dk "$kind" inspect "$name" > "$tmp/$t.all" || { echo "$t: $* made no $name:" \
			"$(cat "$tmp/$t.err")" >&2; return 1; }
		jq '.[0]' "$tmp/$t.all" > "$tmp/$t.json"
	done
}

# Fails listing the key paths dockerd has and gantryd lacks (minus the allowed ones).
assert_same_keys() { # WHAT [ALLOWED-REGEX]
	local missing
	missing=$(comm -23 <(paths < "$tmp/dockerd.json") <(paths < "$tmp/gantryd.json") |
		grep -Ev "${2:-^$}" || true)
	[[ -z $missing ]] && return 0
	echo "$1: keys dockerd has and gantryd lacks (with dockerd's value):" >&2
	local p
	for p in $missing; do
		echo "  $p = $(jq -c --arg p "$p" 'getpath($p | split(".") | map(select(. != "[]")))' \
			"$tmp/dockerd.json" 2>/dev/null)" >&2
	done
	return 1
}

# The same value at jq PATH on both.
assert_same() { # JQ-PATH
	local d g
	d=$(jq -c "$1" "$tmp/dockerd.json")
	g=$(jq -c "$1" "$tmp/gantryd.json")
	assert_eq "$g" "$d" "$1"
}

test_container_running() {
	inspect_both container shape1 dk run -d --name shape1 --network none -e A=1 -l k=v \
		-w /tmp -u 1:1 --memory 64m --pids-limit 50 --restart on-failure:2 \
		--health-cmd true --health-interval 1s busybox sleep 300
	assert_same_keys "running container" '^(GraphDriver\.Data\..*|NetworkSettings\.SandboxKey)$'
	local p
	for p in .Path .Args .State.Status .State.Running .Config.Env .Config.Labels \
		.Config.WorkingDir .Config.User .Config.Cmd .Config.Image .HostConfig.Memory \
		.HostConfig.PidsLimit .HostConfig.RestartPolicy .HostConfig.NetworkMode \
		.Config.Healthcheck .Name .RestartCount .Driver .Platform; do
		assert_same "$p"
	done
}

test_container_exited() {
	inspect_both container shape2 dk run --name shape2 --network none busybox sh -c 'exit 3'
	assert_same_keys "exited container" '^(GraphDriver\.Data\..*)$'
	assert_same .State.Status
	assert_same .State.ExitCode
	assert_same .State.OOMKilled
}

test_container_docker_py() {
	# docker-py sends a far smaller HostConfig than the CLI: the daemon fills in the rest.
	inspect_both container shape3 python3 -c 'import docker
docker.from_env().containers.create("busybox", "true", name="shape3", network_mode="none")'
	assert_same_keys "docker-py container" '^(GraphDriver\.Data\..*)$'
	assert_same .HostConfig.LogConfig
	assert_same .HostConfig.RestartPolicy
	assert_same .Config.Cmd
}

test_image() {
	inspect_both image busybox:latest true
	assert_same_keys "image" '^(GraphDriver\.Data\..*|Descriptor.*)$'
	assert_same .Id
	assert_same .RepoTags
	assert_same .Config.Cmd
	assert_same .Os
	assert_same .Architecture
	assert_same .RootFS
}

test_network() {
	local sub
	sub="10.$((RANDOM % 200 + 20)).$((RANDOM % 250)).0/24"
	inspect_both network shapenet dk network create --subnet "$sub" --label a=b shapenet
	assert_same_keys "network" '^(IPAM\.Config\.\[\]\.Gateway)$'
	assert_same .Name
	assert_same .Driver
	assert_same .Scope
	assert_same .Labels
	assert_same .IPAM.Config[0].Subnet
	assert_same .Internal
	local t
	for t in dockerd gantryd; do on "$t"; dk network rm shapenet >/dev/null; done
}

t_run container_running_shape test_container_running
t_run container_exited_shape test_container_exited
t_run container_docker_py_shape test_container_docker_py
t_run image_shape test_image
t_run network_shape test_network
for t in gantryd dockerd; do on "$t"; stop_daemon; done
t_summary
