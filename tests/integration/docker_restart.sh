#!/usr/bin/env bash
# Restart policies through the real docker CLI against gantryd, across a daemon crash too (TARGET=dockerd: the policy scenarios against a private dockerd).
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

# Waits up to 20 s for `docker inspect -f FORMAT NAME` to print WANT; prints what it saw last.
wait_inspect() { # NAME FORMAT WANT
	local i got
	for ((i = 0; i < 200; i++)); do
		got=$(dk inspect -f "$2" "$1" 2>/dev/null)
		[[ $got == "$3" ]] && break
		sleep 0.1
	done
	echo "$got"
}

test_on_failure() {
	dk run -d --name of --restart on-failure:2 busybox sh -c 'exit 3' >/dev/null
	assert_eq "$(wait_inspect of '{{.State.Status}} {{.RestartCount}} {{.State.ExitCode}}' 'exited 2 3')" \
		"exited 2 3" "on-failure:2: two restarts, then it stays exited with its code"
	sleep 1
	assert_eq "$(dk inspect -f '{{.RestartCount}}' of)" 2 "no third restart"
	dk run -d --name ok --restart on-failure busybox true >/dev/null
	assert_eq "$(wait_inspect ok '{{.State.Status}} {{.RestartCount}}' 'exited 0')" "exited 0" "on-failure: exit 0 is not restarted"
	dk rm of ok >/dev/null
}

test_always_stop() {
	dk run -d --name al --restart always busybox sh -c 'sleep 0.2; exit 1' >/dev/null
	local n
	n=$(wait_inspect al '{{ge .RestartCount 2}}' true)
	assert_eq "$n" true "always: restarted again and again"
	dk stop -t 1 al >/dev/null
	local before
	before=$(dk inspect -f '{{.RestartCount}}' al)
	sleep 1.5
	assert_eq "$(dk inspect -f '{{.State.Status}} {{.RestartCount}}' al)" "exited $before" "stop ends the restarts"
	dk rm al >/dev/null
}

test_validation() {
	assert_contains "$(rc_out dk run --rm --restart always busybox true)" "cannot specify both --restart and --rm" "--rm with --restart"
	assert_contains "$(rc_out dk create --restart always:3 busybox true)" "maximum retry count cannot be used with restart policy 'always'" "count with always"
}

test_after_crash() {
	assert_match "$(dk ps --format '{{.Status}}' -f name=us-running)" '^Up ' "unless-stopped, running: still up"
	assert_eq "$(wait_inspect al-stopped '{{.State.Status}}' running)" running "always, stopped by hand: started at daemon start"
	assert_eq "$(dk inspect -f '{{.State.Status}}' us-stopped)" exited "unless-stopped, stopped by hand: stays stopped"
	assert_eq "$(dk inspect -f '{{.State.Status}}' plain)" exited "no policy: stays stopped"
	dk rm -f us-running us-stopped al-stopped plain >/dev/null
}

t_run "$TARGET:restart_on_failure" test_on_failure
t_run "$TARGET:restart_always_stop" test_always_stop
t_run "$TARGET:restart_validation" test_validation
if [[ $TARGET == gantryd ]]; then
	dk run -d --name us-running --restart unless-stopped busybox sleep 1000 >/dev/null
	dk run -d --name us-stopped --restart unless-stopped busybox sleep 1000 >/dev/null
	dk run -d --name al-stopped --restart always busybox sleep 1000 >/dev/null
	dk run -d --name plain busybox sleep 1000 >/dev/null
	dk stop -t 0 us-stopped al-stopped plain >/dev/null
	e2e_crash
	e2e_restart
	t_run "$TARGET:restart_after_daemon_crash" test_after_crash
fi
stop_daemon
t_summary
