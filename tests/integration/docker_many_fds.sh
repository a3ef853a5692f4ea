#!/usr/bin/env bash
# gantryd holding more than 1024 fds (as with ~500 running containers) still serves clients (no select() in its server); a detached container costs it no request thread or fd.
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
# `docker run -d` opens a wait before start and hangs up after it: that wait must end with the
# client, not hold a thread, a socket and a pipe until the container exits.
test_detached_hold_nothing() {
	local fd0 th0 fd1 th1 i
	fd0=$(find "/proc/$E2E_PID/fd" -mindepth 1 | wc -l)
	th0=$(find "/proc/$E2E_PID/task" -mindepth 1 -maxdepth 1 | wc -l)
	for ((i = 0; i < 10; i++)); do
		dk run -d --network none busybox sleep 60 >/dev/null
	done
	sleep 0.5
	fd1=$(find "/proc/$E2E_PID/fd" -mindepth 1 | wc -l)
	th1=$(find "/proc/$E2E_PID/task" -mindepth 1 -maxdepth 1 | wc -l)
	t_log "10 detached containers: gantryd fds $fd0 -> $fd1, threads $th0 -> $th1"
	assert_ok test $((fd1 - fd0)) -le 15
	assert_ok test $((th1 - th0)) -le 12
	# shellcheck disable=SC2046
	dk rm -f $(dk ps -q) >/dev/null
}
t_run fds_above_1024 test_fds_above_1024
t_run clients_served test_clients_served
t_run detached_hold_nothing test_detached_hold_nothing
stop_daemon
t_summary
