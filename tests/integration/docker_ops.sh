#!/usr/bin/env bash
# pause, unpause, rename, update, restart, stop -s, attach, import -c/-m, ps filters and --init through the real docker CLI against gantryd (TARGET=dockerd: the same against a private dockerd).
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

# restart: a new StartedAt, running again, and dockerd's event sequence ending in "restart".
test_restart() {
	dk run -d --name rst busybox sleep 1000 >/dev/null
	local a b t0 t1 ev i
	a=$(dk inspect -f '{{.State.StartedAt}}' rst)
	t0=$(date +%s)
	sleep 1.1
	assert_eq "$(dk restart -t 1 rst)" rst "docker restart prints the name"
	t1=$(($(date +%s) + 1))
	b=$(dk inspect -f '{{.State.StartedAt}} {{.State.Running}}' rst)
	assert_ne "${b% *}" "$a" "StartedAt changed"
	assert_eq "${b#* }" true "running again"
	ev=$(dk events --since "$t0" --until "$t1" --filter container=rst --format '{{.Action}}' | tr '\n' ' ')
	assert_match "$ev" 'kill .*die .*stop .*start restart $' "events: kill, die, stop, start, restart"
	dk rm -f rst >/dev/null
	# --rm: a restart's stop does not remove it, as dockerd's restart turns AutoRemove off.
	dk run -d --rm --name rstrm busybox sleep 1000 >/dev/null
	assert_eq "$(dk restart -t 0 rstrm)" rstrm "restart of a --rm container"
	assert_eq "$(dk inspect -f '{{.State.Running}} {{.HostConfig.AutoRemove}}' rstrm)" "true true" "it runs again, still --rm"
	dk stop -t 0 rstrm >/dev/null
	for ((i = 0; i < 50; i++)); do dk inspect rstrm >/dev/null 2>&1 || break; sleep 0.1; done
	assert_contains "$(rc_out dk inspect rstrm)" "No such object: rstrm" "a plain stop removes it"
}

# The daemon speaks API 1.42 or later (stop/restart ?signal=, dockerd 23's ps expose filter).
api_142() {
	local v
	v=$(dk version -f '{{.Server.APIVersion}}')
	[[ ${v%%.*} -gt 1 || ${v#*.} -ge 42 ]]
}

# stop -s / restart -s: the signal given, not SIGTERM, reaches the command's trap.
test_stop_signal() {
	local i
	if ! api_142; then
		t_log "daemon API $(dk version -f '{{.Server.APIVersion}}') < 1.42: docker sends no stop signal"
		return 0
	fi
	dk run -d --name sig busybox sh -c 'trap "echo got; exit 3" USR1; echo ready; while true; do sleep 0.1; done' >/dev/null
	for ((i = 0; i < 50; i++)); do [[ $(dk logs sig) == *ready* ]] && break; sleep 0.1; done
	assert_eq "$(dk stop -s SIGUSR1 -t 30 sig)" sig "docker stop -s"
	assert_eq "$(dk inspect -f '{{.State.ExitCode}}' sig)" 3 "the trap's exit code"
	assert_contains "$(dk logs sig)" got "the trap ran"
	dk start sig >/dev/null
	for ((i = 0; i < 50; i++)); do [[ $(dk logs sig | grep -c ready) == 2 ]] && break; sleep 0.1; done
	assert_eq "$(dk restart -s USR1 -t 30 sig)" sig "docker restart -s"
	assert_eq "$(dk logs sig | grep -c got)" 2 "restart -s: the trap ran again"
	assert_contains "$(rc_out dk stop -s SIGNOPE sig)" "Invalid signal: SIGNOPE" "an unknown signal: 400 with its name"
	assert_eq "$(dk inspect -f '{{.State.Running}}' sig)" true "an unknown signal stops nothing"
	dk rm -f sig >/dev/null
}

# attach: output reaches us, stdin reaches the container, its exit code is docker's.
test_attach() {
	local out rc=0
	dk run -d -i --name att busybox sh -c 'while read l; do echo "got $l"; [ "$l" = quit ] && exit 4; done' >/dev/null
	# The input comes once the attach is up (dockerd 20.10 ends the stream at our stdin's EOF).
	out=$( (sleep 1; printf 'hello\n'; sleep 0.5; printf 'quit\n'; sleep 1) | dk attach att) || rc=$?
	assert_eq "$out" "got hello"$'\n'"got quit" "docker attach: stdin in, stdout out"
	assert_eq "$rc" 4 "docker attach: exit code"
	dk rm -f att >/dev/null
}

# import -c/-m: the CMD and ENV set, the message in history.
test_import_changes() {
	local id out
	dk create --name impsrc busybox true >/dev/null
	dk export impsrc > "$E2E_TMP/impsrc.tar"
	id=$(dk import -c 'CMD ["echo","hi"]' -c 'ENV GREETING=hello' -m 'made by import' - imp:changes < "$E2E_TMP/impsrc.tar")
	assert_match "$id" '^sha256:[0-9a-f]{64}$' "docker import prints the id"
	assert_eq "$(dk run --rm imp:changes)" hi "the imported CMD runs"
	assert_eq "$(dk run --rm imp:changes sh -c 'echo $GREETING')" hello "the imported ENV"
	out=$(dk history imp:changes)
	assert_match "$(head -1 <<<"$out")" '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$' "docker history header"
	assert_match "$(sed -n 2p <<<"$out")" "^${id:7:12} .* made by import\$" "docker history row"
	assert_eq "$(dk history --format '{{.Comment}}' imp:changes)" "made by import" "history comment"
	assert_eq "$(dk image inspect -f '{{json .Config.Cmd}}' imp:changes)" '["echo","hi"]' "inspect Config.Cmd"
	assert_contains "$(rc_out dk import -c 'NOPE x' - imp:bad < "$E2E_TMP/impsrc.tar")" "not a valid change command" "a bad change"
	dk rm impsrc >/dev/null
	dk rmi imp:changes >/dev/null
}

# docker ps --filter before/since/health/network/volume/publish/expose: each its own set.
test_ps_filters() {
	local i vol=$E2E_TMP/psvol
	mkdir -p "$vol"
	dk create --name pa busybox true >/dev/null
	dk create --name pb busybox true >/dev/null
	dk create --name pc busybox true >/dev/null
	# Only this test's containers: what an earlier failed test left does not count.
	names() { dk ps --format '{{.Names}}' -f 'name=^/?p[abchn]$' "$@" | sort | tr '\n' ' '; }
	assert_eq "$(names -a -f before=pb)" "pa " "before"
	assert_eq "$(names -a -f since=pb)" "pc " "since"
	assert_eq "$(names -f since=pa)" "" "since without -a: stopped ones not listed"
	dk run -d --name ph --health-cmd true --health-interval 200ms busybox sleep 1000 >/dev/null
	dk run -d --name pn --network none -v "$vol:/data" --expose 7000-7001 busybox sleep 1000 >/dev/null
	for ((i = 0; i < 50; i++)); do
		[[ $(dk inspect -f '{{.State.Health.Status}}' ph) == healthy ]] && break
		sleep 0.1
	done
	assert_eq "$(names -f health=healthy)" "ph " "health=healthy"
	assert_eq "$(names -f health=none)" "pn " "health=none"
	assert_eq "$(names -f network=none)" "pn " "network=none"
	assert_eq "$(names -f volume=/data)" "pn " "volume"
	if api_142; then # dockerd 20.10 matched expose against the network's ports
		assert_eq "$(names -f expose=7001/tcp)" "pn " "expose"
		assert_eq "$(names -f expose=6990-7000)" "pn " "expose range"
	fi
	assert_eq "$(names -f expose=7002)" "" "expose: another port"
	assert_eq "$(names -f publish=7001)" "" "publish: nothing published"
	assert_contains "$(rc_out dk ps -f health=bogus)" "Unrecognised filter value for health: bogus" "bad health value"
	assert_match "$(rc_out dk ps -f bogus=1)" "[Ii]nvalid filter 'bogus'" "unknown filter key (dockerd 20.10: Invalid)"
	assert_contains "$(rc_out dk ps -f publish=80:80)" "filter for 'publish' should not contain ':': 80:80" "publish with a ':'"
	assert_contains "$(rc_out dk ps -f expose=abc)" 'error while looking up for expose abc: strconv.ParseUint: parsing "abc": invalid syntax' "a bad port"
	dk rm -f pa pb pc ph pn >/dev/null
}

t_run "$TARGET:ops_pause_unpause" test_pause_unpause
t_run "$TARGET:ops_rename" test_rename
t_run "$TARGET:ops_init" test_init
t_run "$TARGET:ops_update" test_update
t_run "$TARGET:ops_restart" test_restart
t_run "$TARGET:ops_stop_signal" test_stop_signal
t_run "$TARGET:ops_attach" test_attach
t_run "$TARGET:ops_import_changes" test_import_changes
t_run "$TARGET:ops_ps_filters" test_ps_filters
stop_daemon
t_summary
