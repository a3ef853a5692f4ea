#!/usr/bin/env bash
# kill -9 of gantryd loses nothing: 20 running containers, one exits while the daemon is down, the restarted daemon re-adopts them all.
# Test functions are called through t_run (SC2317); $(...) in single quotes is for the container shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
T_TIMEOUT=${T_TIMEOUT:-180}
N=20

if [[ $TARGET != gantryd ]]; then
	t_skip "crash_restart" "a gantryd scenario"
	t_summary
fi
start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null
shared=$E2E_TMP/shared
mkdir -p "$shared"

# Each prints a counter every 0.2 s; c7 exits with 7 once the file "stop" shows up.
for ((i = 1; i <= N; i++)); do
	dk run -d --name "c$i" -v "$shared:/shared" busybox sh -c \
		'i=0; while true; do i=$((i+1)); echo "tick $i"; [ -f /shared/stop ] && [ "$HOSTNAME" = "$(cat /shared/who)" ] && exit 7; sleep 0.2; done' >/dev/null
done
dk inspect -f '{{.Config.Hostname}}' c7 > "$shared/who"
sleep 1
e2e_crash
touch "$shared/stop" # c7 exits while no daemon runs
sleep 1.5
e2e_restart

test_listed() {
	assert_eq "$(dk ps -q | wc -l)" $((N - 1)) "19 running after the restart"
	assert_match "$(dk ps -a --format '{{.Names}} {{.Status}}' -f name=^c7$)" '^c7 Exited \(7\) ' "c7: exited with 7"
	assert_ne "$(dk inspect -f '{{.State.FinishedAt}}' c7)" "0001-01-01T00:00:00Z" "c7: its end time"
	local i
	for ((i = 1; i <= N; i++)); do
		[[ $i -eq 7 ]] && continue
		assert_eq "$(dk inspect -f '{{.State.Status}}' "c$i")" running "c$i running"
	done
}

test_logs_continuous() {
	local i logs prev=0 n gaps=0
	sleep 0.6
	for i in 1 13 20; do
		logs=$(dk logs "c$i")
		prev=0
		gaps=0
		while read -r _ n; do
			[[ $n -eq $((prev + 1)) ]] || gaps=$((gaps + 1))
			prev=$n
		done <<<"$logs"
		assert_eq "$gaps" 0 "c$i: no line lost or repeated across the crash"
		assert_ne "$prev" 0 "c$i: its log has lines"
	done
	# The log goes on after the restart.
	local before after
	before=$(dk logs c1 | wc -l)
	sleep 0.6
	after=$(dk logs c1 | wc -l)
	(( after > before )) || t_fail "c1's log stopped growing after the restart ($before -> $after)"
}

test_stop_rm() {
	local i ids=()
	for ((i = 1; i <= N; i++)); do ids+=("c$i"); done
	dk stop -t 1 "${ids[@]}" >/dev/null
	assert_eq "$(dk ps -q | wc -l)" 0 "all stopped"
	dk rm "${ids[@]}" >/dev/null
	assert_eq "$(dk ps -aq | wc -l)" 0 "all removed"
}

t_run "$TARGET:crash_all_listed" test_listed
t_run "$TARGET:crash_logs_continuous" test_logs_continuous
t_run "$TARGET:crash_stop_rm" test_stop_rm

# SIGTERM while clients block in wait, attach, logs -f and events: the daemon goes at once,
# the container and its shim stay, the next daemon adopts them.
dk run -d -i --name blocked busybox sh -c 'while true; do echo x; sleep 0.2; done' >/dev/null
shim=$(t_pids_mentioning "$E2E_TMP/" | while read -r p; do [[ $(cat "/proc/$p/comm" 2>/dev/null) == gantry-shim ]] && echo "$p"; done | head -1)
for w in "wait blocked" "attach blocked" "logs -f blocked" "events"; do
	# shellcheck disable=SC2086
	(dk $w >/dev/null 2>&1 &)
done
(curl -s --unix-socket "$E2E_SOCK" -X POST 'http://d/containers/blocked/wait?condition=removed' >/dev/null 2>&1 &)
sleep 1
t0=$(date +%s%N)
kill -TERM "$E2E_PID"
for ((i = 0; i < 100; i++)); do t_alive "$E2E_PID" || break; sleep 0.05; done
wait "$E2E_PID" 2>/dev/null
term_ms=$((($(date +%s%N) - t0) / 1000000))
e2e_restart

test_sigterm_blocked() {
	(( term_ms < 2000 )) || t_fail "SIGTERM with blocked clients took ${term_ms} ms"
	if [[ -z $shim ]] || ! t_alive "$shim"; then t_fail "the shim ($shim) did not outlive the daemon"; fi
	assert_eq "$(dk inspect -f '{{.State.Status}}' blocked)" running "adopted by the next daemon"
	dk rm -f blocked >/dev/null
}
t_run "$TARGET:sigterm_with_blocked_clients" test_sigterm_blocked
stop_daemon
t_summary
