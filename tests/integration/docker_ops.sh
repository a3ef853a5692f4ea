#!/usr/bin/env bash
# pause, unpause, rename, update and --init through the real docker CLI against gantryd (TARGET=dockerd: the same against a private dockerd).
# Test functions are called through t_run (SC2317); $(...) in single quotes is for the container shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
T_TIMEOUT=${T_TIMEOUT:-120}

start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null

rc_out() {
	local rc=0 out
	out=$("$@" 2>&1) || rc=$?
	printf 'rc=%s\n%s\n' "$rc" "$out"
}

counter() { dk exec "$1" cat /tmp/count; }

test_pause_unpause() {
	dk run -d --name ticker busybox sh -c 'i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.05; done' >/dev/null
	sleep 0.5
	dk pause ticker >/dev/null
	assert_eq "$(dk inspect -f '{{.State.Status}} {{.State.Paused}}' ticker)" "paused true" "inspect shows paused"
	assert_match "$(dk ps --format '{{.Status}}' -f name=ticker)" 'Up .* \(Paused\)' "ps shows (Paused)"
	local cg freezer
	cg=$(e2e_cgroup_dir freezer "$(dk inspect -f '{{.Id}}' ticker)")
	freezer=$(cat "$cg/freezer.state" 2>/dev/null || cat "$cg/cgroup.freeze")
	assert_match "$freezer" '^(FROZEN|1)$' "the host's freezer holds the container"
	assert_contains "$(rc_out dk pause ticker)" "is already paused" "pause twice: conflict"
	assert_contains "$(rc_out dk exec ticker true)" "is paused" "no exec while paused"
	dk unpause ticker >/dev/null
	local a b
	a=$(counter ticker)
	sleep 0.5
	b=$(counter ticker)
	assert_ne "$a" "$b" "the process runs again after unpause"
	assert_contains "$(rc_out dk unpause ticker)" "is not paused" "unpause of a running container: conflict"
	dk pause ticker >/dev/null
	dk kill ticker >/dev/null
	assert_eq "$(dk wait ticker)" 137 "kill of a paused container ends it"
	assert_contains "$(rc_out dk pause ticker)" "is not running" "pause of a stopped container: conflict"
	dk rm ticker >/dev/null
}

test_rename() {
	dk run -d --name before busybox sleep 1000 >/dev/null
	dk run -d --name other busybox sleep 1000 >/dev/null
	dk rename before after
	assert_eq "$(dk ps --format '{{.Names}}' -f name=after)" after "ps shows the new name"
	assert_eq "$(dk inspect -f '{{.Name}}' after)" /after "inspect shows the new name"
	assert_contains "$(rc_out dk inspect before)" "No such object: before" "the old name is gone"
	assert_contains "$(rc_out dk rename after other)" "is already in use" "rename onto a used name: conflict"
	assert_contains "$(rc_out dk rename after 'bad name')" "Invalid container name" "invalid name"
	dk rm -f after other >/dev/null
}

zombies() { dk exec "$1" sh -c 'ps -o stat | grep -c "^Z"' || true; }

test_init() {
	assert_eq "$(dk run --rm --init busybox sh -c 'cat /proc/1/comm')" docker-init "--init: the init is pid 1"
	local rc=0
	dk run --rm --init busybox sh -c 'exit 7' || rc=$?
	assert_eq "$rc" 7 "--init passes the command's exit code on"
	# An orphan whose parent (pid 1 without --init: sleep) never reaps stays a zombie.
	dk run -d --name reaped --init busybox sh -c '(sleep 0.1 &); exec sleep 1000' >/dev/null
	dk run -d --name unreaped busybox sh -c '(sleep 0.1 &); exec sleep 1000' >/dev/null
	sleep 1
	assert_eq "$(zombies reaped)" 0 "--init reaps orphans"
	assert_eq "$(zombies unreaped)" 1 "without --init the zombie stays"
	local t0 t1
	t0=$(date +%s%N)
	dk stop reaped >/dev/null
	t1=$(date +%s%N)
	assert_eq "$(dk inspect -f '{{.State.ExitCode}}' reaped)" 143 "SIGTERM reaches the command through the init"
	(( (t1 - t0) / 1000000 < 5000 )) || t_fail "stop took $(( (t1 - t0) / 1000000 )) ms: the init did not forward SIGTERM"
	dk rm -f reaped unreaped >/dev/null
}

test_update() {
	dk run -d --name upd -m 64m busybox sleep 1000 >/dev/null
	local id cg
	id=$(dk inspect -f '{{.Id}}' upd)
	dk update -m 128m --memory-swap 256m --pids-limit 50 --restart on-failure:2 upd >/dev/null
	cg=$(e2e_cgroup_dir memory "$id")
	assert_eq "$(cat "$cg/memory.limit_in_bytes" 2>/dev/null || cat "$cg/memory.max")" 134217728 "the running cgroup takes the new limit"
	assert_eq "$(dk inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}}' upd)" \
		"134217728 50 on-failure" "inspect shows the update"
	assert_contains "$(rc_out dk update -m 1k upd)" "Minimum memory limit allowed is 6MB" "too small a limit"
	dk restart -t 0 upd >/dev/null
	assert_eq "$(cat "$cg/memory.limit_in_bytes" 2>/dev/null || cat "$cg/memory.max")" 134217728 "a restart keeps the update"
	dk rm -f upd >/dev/null
}

t_run "$TARGET:ops_pause_unpause" test_pause_unpause
t_run "$TARGET:ops_rename" test_rename
t_run "$TARGET:ops_init" test_init
t_run "$TARGET:ops_update" test_update
stop_daemon
t_summary
