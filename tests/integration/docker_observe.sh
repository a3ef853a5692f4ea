#!/usr/bin/env bash
# Observing containers with the real docker CLI: events, stats, top, system df, info, port (TARGET=dockerd: the same against dockerd).
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
IMG=busybox:latest
bbtar=$(e2e_busybox_tar)
dk load -i "$bbtar" >/dev/null

# docker events between two instants, one "Type Action exitCode signal" line each, for actor $1.
events_of() { # NAME SINCE UNTIL [FILTER ARGS...]
	local name=$1 since=$2 until=$3
	shift 3
	dk events --since "$since" --until "$until" --filter "container=$name" "$@" \
		--format '{{.Type}} {{.Action}} {{index .Actor.Attributes "exitCode"}} {{index .Actor.Attributes "signal"}}'
}

test_events_lifecycle() {
	local t0 t1 out
	t0=$(date +%s)
	dk run --name obs_ev --label obs=yes busybox sh -c 'exit 3' >/dev/null 2>&1 || true
	dk rm obs_ev >/dev/null
	sleep 1
	t1=$(date +%s)
	out=$(events_of obs_ev "$t0" "$t1" --filter type=container)
	# dockerd also reports attach (docker run attaches); keep the lifecycle actions only.
	assert_eq "$(grep -Ev '^container (attach|resize)' <<<"$out")" "container create  
container start  
container die 3 
container destroy  " "create/start/die(3)/destroy in order"
	out=$(events_of obs_ev "$t0" "$t1" --filter event=die)
	assert_eq "$out" "container die 3 " "event=die filter"
	out=$(dk events --since "$t0" --until "$t1" --filter label=obs=yes --filter event=create \
		--format '{{.Actor.Attributes.name}} {{.Actor.Attributes.image}} {{.Actor.Attributes.obs}}')
	assert_eq "$out" "obs_ev busybox yes" "label filter and attributes"
	out=$(dk events --since "$t0" --until "$t1" --filter label=obs=no --format '{{.Action}}')
	assert_eq "$out" "" "a label that does not match"
	# Durations and RFC 3339 times as the CLI takes them.
	out=$(events_of obs_ev 10m "$(date -u -d "@$t1" +%Y-%m-%dT%H:%M:%SZ)" --filter event=destroy)
	assert_eq "$out" "container destroy  " "--since 10m --until RFC 3339"
	out=$(dk events --since "$t0" --until "$t1" --filter image=busybox --filter event=start \
		--format '{{.Actor.Attributes.name}}')
	assert_contains "$out" "obs_ev" "image filter"
}

test_events_stop_kill() {
	local t0 t1 out
	dk run -d --name obs_stop busybox sleep 60 >/dev/null
	sleep 1
	t0=$(date +%s)
	dk stop -t 1 obs_stop >/dev/null
	dk start obs_stop >/dev/null
	dk kill -s USR1 obs_stop >/dev/null
	dk rm -f obs_stop >/dev/null
	sleep 1
	t1=$(date +%s)
	out=$(events_of obs_stop "$t0" "$t1")
	# sleep as pid 1 has no handlers, so the kernel drops TERM and USR1: stop needs its KILL.
	assert_eq "$out" "container kill  15
container kill  9
container die 137 
container stop  
container start  
container kill  10
container kill  9
container die 137 
container destroy  " "stop/start/kill/rm -f"
}

test_events_images() {
	local t0 t1 out id
	id=$(dk image inspect -f '{{.Id}}' "$IMG")
	sleep 1
	t0=$(date +%s)
	dk tag "$IMG" obs:1
	dk rmi obs:1 >/dev/null
	dk save "$IMG" -o "$E2E_TMP/save.tar"
	dk rmi "$IMG" >/dev/null
	dk load -i "$bbtar" >/dev/null
	sleep 1
	t1=$(date +%s)
	out=$(dk events --since "$t0" --until "$t1" --filter type=image \
		--format '{{.Action}} {{.Actor.ID}} {{.Actor.Attributes.name}}')
	assert_eq "$out" "tag $id obs:1
untag $id $id
save $id $id
untag $id $id
delete $id $id
load $id $id" "image events"
	out=$(dk events --since "$t0" --until "$t1" --filter image=obs:1 --format '{{.Action}}')
	assert_eq "$out" "tag" "image filter on the tag's name"
}

# A live `docker events` sees what happens after it starts, then ends at --until.
test_events_follow() {
	local out pid until
	until=$(($(date +%s) + 4))
	dk events --until "$until" --filter container=obs_live --format '{{.Action}}' >"$E2E_TMP/live" &
	pid=$!
	sleep 1
	dk create --name obs_live busybox true >/dev/null
	dk rm obs_live >/dev/null
	wait "$pid"
	assert_eq "$(cat "$E2E_TMP/live")" "create
destroy" "streamed events end at --until"
	assert_fails dk events --since 10 --until 5
}

test_stats() {
	local out line mem lim pct pids
	dk run -d --name obs_stats -m 64m busybox sh -c 'x=$(head -c 4000000 /dev/zero | tr "\0" a); sleep 60' >/dev/null
	sleep 1
	out=$(dk stats --no-stream --format '{{.Name}}|{{.CPUPerc}}|{{.MemUsage}}|{{.PIDs}}' obs_stats)
	IFS='|' read -r line pct mem pids <<<"$out"
	assert_eq "$line" obs_stats "stats name"
	assert_match "$pct" '^[0-9]+\.[0-9]+%$' "cpu percent"
	lim=${mem#* / }
	assert_eq "$lim" "64MiB" "memory limit from -m 64m"
	assert_match "${mem%% / *}" '^[0-9.]+[KM]iB$' "memory usage"
	assert_ne "${mem%% / *}" "0B" "non-zero usage"
	assert_match "$pids" '^[1-9][0-9]*$' "pids"
	# The raw API answer: dockerd's shape, one object for stream=false.
	out=$(curl -sf --unix-socket "$E2E_SOCK" "http://d/containers/obs_stats/stats?stream=false")
	assert_eq "$(jq -r '.name' <<<"$out")" "/obs_stats" "name field"
	assert_eq "$(jq -r '.memory_stats.limit' <<<"$out")" "67108864" "memory_stats.limit"
	assert_eq "$(jq -r '.cpu_stats.cpu_usage.total_usage > 0' <<<"$out")" true "cpu usage"
	assert_eq "$(jq -r '.precpu_stats.system_cpu_usage > 0' <<<"$out")" true "precpu filled"
	assert_eq "$(jq -r '.cpu_stats.online_cpus' <<<"$out")" "$(nproc)" "online_cpus"
	assert_eq "$(jq -r '.pids_stats.current >= 1' <<<"$out")" true "pids_stats"
	out=$(curl -sf --max-time 10 --unix-socket "$E2E_SOCK" "http://d/containers/obs_stats/stats?stream=true" | head -2 | wc -l) || true
	assert_eq "$out" 2 "streamed stats: one object a second"
	assert_fails dk stats --no-stream nosuchcontainer
}

test_top() {
	local out
	dk run -d --name obs_top busybox sleep 61 >/dev/null
	out=$(dk top obs_top)
	assert_match "$(head -1 <<<"$out")" '^UID +PID +PPID +C +STIME +TTY +TIME +CMD' "top titles"
	assert_contains "$out" "sleep 61" "top lists the sleep"
	assert_eq "$(wc -l <<<"$out")" 2 "only the container's process"
	out=$(dk top obs_top -o pid,comm)
	assert_match "$(tail -1 <<<"$out")" '^[0-9]+ +sleep$' "ps_args"
	dk stop -t 0 obs_top >/dev/null
	out=$(dk top obs_top 2>&1) || true
	assert_contains "$out" "is not running" "top of a stopped container"
}

test_df_info() {
	local out
	dk create --name obs_df busybox true >/dev/null
	out=$(dk system df)
	assert_match "$out" 'TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE' "df header"
	assert_match "$out" 'Images +1 +1 ' "one image, used"
	assert_match "$out" 'Containers +1 +0 ' "one container, not running"
	out=$(dk system df -v --format '{{json .}}')
	assert_eq "$(jq -r '.Images | length' <<<"$out")" 1 "df -v images"
	assert_eq "$(dk info -f '{{.Containers}} {{.ContainersStopped}} {{.Images}}')" "1 1 1" "info counts"
	assert_eq "$(dk info -f '{{.Driver}} {{.CgroupDriver}}')" "overlay2 cgroupfs" "info driver"
	assert_eq "$(dk info -f '{{.NCPU}}')" "$(nproc)" "info NCPU"
	assert_match "$(dk info -f '{{.MemTotal}}')" '^[1-9][0-9]+$' "info MemTotal"
	assert_eq "$(dk info -f '{{.KernelVersion}}')" "$(uname -r)" "info kernel"
	assert_ne "$(dk info -f '{{.OperatingSystem}}')" "" "info OperatingSystem"
	assert_eq "$(dk info -f '{{.CgroupVersion}}')" "1" "hybrid host: cgroup v1"
	out=$(dk info 2>&1)
	assert_contains "$out" "Storage Driver: overlay2" "info text"
	assert_contains "$out" "Total Memory:" "info memory"
	out=$(dk port obs_df 2>&1) || true
	assert_eq "$out" "" "port of a container without published ports"
}

# The gantry CLI prints what the docker CLI prints for the same daemon.
test_gantry_cli() {
	local t0 out want
	dk run -d --name obs_g -m 32m --label k=v busybox sleep 62 >/dev/null
	sleep 1
	t0=$(date +%s)
	dk stop -t 0 obs_g >/dev/null
	dk start obs_g >/dev/null
	sleep 1
	out=$(g stats --no-stream --format '{{.Name}} {{.MemUsage}} {{.PIDs}}' obs_g)
	assert_match "$out" '^obs_g [0-9.]+[KM]iB / 32MiB 1$' "gantry stats --format"
	out=$(g stats --no-stream)
	assert_match "$(head -1 <<<"$out")" '^CONTAINER ID +NAME +CPU % +MEM USAGE / LIMIT +MEM % +NET I/O +BLOCK I/O +PIDS$' "gantry stats header"
	assert_match "$(tail -1 <<<"$out")" ' obs_g +[0-9.]+% +[0-9.]+[KM]iB / 32MiB +[0-9.]+% +[0-9.]+[kMG]?B / [0-9.]+[kMG]?B ' "gantry stats row"
	assert_eq "$(g top obs_g)" "$(dk top obs_g)" "gantry top = docker top"
	assert_eq "$(g top obs_g -o pid,args)" "$(dk top obs_g -o pid,args)" "gantry top with ps args"
	assert_eq "$(g system df)" "$(dk system df)" "gantry system df = docker system df"
	want=$(dk events --since "$t0" --until "$(($(date +%s) + 1))" --filter container=obs_g)
	out=$(g events --since "$t0" --until "$(($(date +%s) + 1))" --filter container=obs_g)
	assert_eq "$out" "$want" "gantry events = docker events"
	assert_contains "$out" "container die " "events show the die"
	assert_contains "$out" "exitCode=137, image=busybox, k=v, name=obs_g" "sorted attributes"
	out=$(g events --since "$t0" --until "$(($(date +%s) + 1))" -f event=start --format '{{.Actor.Attributes.name}}')
	assert_eq "$out" "obs_g" "gantry events --format"
	assert_eq "$(g info | sed -n 2p)" " Containers: 1" "gantry info"
}

scenario() { # NAME FN
	[[ -z ${SCENARIOS:-} || " $SCENARIOS " == *" $1 "* ]] || return 0
	t_run "$TARGET:observe_$1" "$2"
	local left
	left=$(dk ps -aq)
	if [[ -n $left ]]; then
		# shellcheck disable=SC2086
		dk rm -f $left >/dev/null 2>&1 || true
	fi
}

scenario events_lifecycle test_events_lifecycle
scenario events_stop_kill test_events_stop_kill
scenario events_follow test_events_follow
scenario events_images test_events_images
scenario stats test_stats
scenario top test_top
scenario df_info test_df_info
if [[ -x ${GANTRY:-} ]]; then
	g() { timeout 60 "$GANTRY" -H "$DOCKER_HOST" "$@"; }
	scenario gantry_cli test_gantry_cli
fi
stop_daemon
t_summary
