#!/usr/bin/env bash
# gantryd holding more than 1024 fds (as with ~500 running containers) still serves clients: no select() in its server.
# Test functions are called through t_run (SC2317).
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
T_TIMEOUT=${T_TIMEOUT:-60}

if [[ $TARGET != gantryd ]]; then
	t_skip "many_fds" "a gantryd scenario"
	t_summary
fi
# 1100 descriptors open in the daemon from its start: every socket it makes (its listener,
# each client connection) is then numbered above FD_SETSIZE (1024), which select() cannot watch.
# This is how a gantryd with 500 containers (two fds per shim) sees its clients.
if [[ $(ulimit -n) -lt 4096 ]] && ! ulimit -n 4096 2>/dev/null; then
	t_skip "many_fds" "RLIMIT_NOFILE $(ulimit -n) cannot be raised to 4096"
	t_summary
fi
held=()
for ((i = 0; i < 1100; i++)); do
	exec {fd}</dev/null
	held+=("$fd")
done
start_daemon
for fd in "${held[@]}"; do exec {fd}<&-; done

test_fds_above_1024() {
	local n
	n=$(find "/proc/$E2E_PID/fd" -mindepth 1 | wc -l)
	assert_ok test "$n" -ge 1100
}
test_clients_served() {
	dk load -i "$(e2e_busybox_tar)" >/dev/null
	assert_eq "$(dk run --rm --network none busybox echo hi)" "hi" "docker run --rm answered"
	local i out
	for ((i = 0; i < 20; i++)); do
		out=$(dk version --format '{{.Server.APIVersion}}') || break
	done
	assert_eq "$i" 20 "20 docker version in a row"
	assert_eq "$out" "1.44" "API version"
}
t_run fds_above_1024 test_fds_above_1024
t_run clients_served test_clients_served
stop_daemon
t_summary
