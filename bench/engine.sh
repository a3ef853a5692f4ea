#!/usr/bin/env bash
# gantryd against a private dockerd in one run: `docker run --rm` latency, idle daemon PSS, memory per running container.
# Env: N runs each for the latency (default 20), C containers each for the memory (default 100),
#      GANTRYD (default /usr/local/bin/gantryd), DOCKER (the CLI, default /usr/local/bin/docker),
#      GANTRY (the gantry CLI, default /usr/local/bin/gantry; its row is skipped when absent).
# Both daemons get private roots and sockets (tests/gantryd_lib.sh) and are stopped by pid at exit.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../tests/lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../tests/gantryd_lib.sh"
# shellcheck source=bench/engine_lib.sh
. "$here/engine_lib.sh"
N=${N:-20}
C=${C:-100}
bench_start_targets

tmp=$(mktemp -d /tmp/gantry-bench.XXXXXX)
t_defer "rm -rf '$tmp'"

# ---- latency: `run --rm` (create + attach + wait + start + remove); the three rows alternate
# in one loop, so that the load of the machine falls on each alike:
#   gantry  = the gantry CLI on gantryd, gantryd = the docker CLI on gantryd, dockerd = docker on dockerd.
rows=()
if [[ -n ${state[gantryd]:-} && -x $GANTRY ]]; then
	use gantryd
	if "$GANTRY" -H "$DOCKER_HOST" run --rm --network none busybox true >/dev/null 2>"$tmp/gantry.err"; then
		rows+=(gantry)
	else
		echo "# gantry CLI: skipped ($GANTRY run against gantryd failed: $(head -1 "$tmp/gantry.err"))" >&2
	fi
fi
rows+=("${targets[@]}")
# Timed by bash's own clock (EPOCHREALTIME): no `date` process inside the window, and every
# row runs its CLI directly (no timeout wrapper), so only the command itself is measured.
run_row() { # ROW: one timed run, its microseconds appended to $tmp/ROW.us
	local t0 rc
	case $1 in
	gantry) use gantryd ;;
	*) use "$1" ;;
	esac
	t0=${EPOCHREALTIME/./}
	if [[ $1 == gantry ]]; then
		"$GANTRY" -H "$DOCKER_HOST" run --rm --network none busybox true >/dev/null 2>>"$tmp/$1.err"
	else
		"$DOCKER" run --rm --network none busybox true >/dev/null 2>>"$tmp/$1.err"
	fi
	rc=$?
	[[ $rc -eq 0 ]] && echo $((${EPOCHREALTIME/./} - t0)) >> "$tmp/$1.us"
	return $rc
}
for t in "${rows[@]}"; do run_row "$t" 2>/dev/null; done # warm-up (page cache, first-run setup)
rm -f "$tmp"/*.us "$tmp"/*.err
fails=()
for ((i = 0; i < N; i++)); do
	order=("${rows[@]}")
	((i % 2)) && mapfile -t order < <(printf '%s\n' "${rows[@]}" | tac)
	for t in "${order[@]}"; do
		run_row "$t" || fails+=("$t")
	done
done
declare -A med=()
declare -A what=([gantry]="gantry CLI -> gantryd" [gantryd]="docker CLI -> gantryd" [dockerd]="docker CLI -> dockerd")
echo
echo "run --rm --network none busybox true ($N runs each, alternating; ms; docker CLI $("$DOCKER" version -f '{{.Client.Version}}' 2>/dev/null))"
printf '  %-10s %-24s %4s %9s %8s %8s\n' row client ok median p10 p90
for t in "${rows[@]}"; do
	read -r m p10 p90 < <(awk '{print $1 / 1000}' "$tmp/$t.us" 2>/dev/null | stats)
	med[$t]=$m
	printf '  %-10s %-24s %4s %9s %8s %8s\n' "$t" "${what[$t]}" "$(wc -l < "$tmp/$t.us" 2>/dev/null || echo 0)" "$m" "$p10" "$p90"
	[[ -s $tmp/$t.err ]] && echo "    errors: $(sort -u "$tmp/$t.err" | head -3 | tr '\n' ' ')"
done
echo "  ratio gantry CLI on gantryd / docker CLI on dockerd:  $(ratio "${med[gantry]:--}" "${med[dockerd]:--}")   (target <= 0.05)"
echo "  ratio docker CLI on gantryd / docker CLI on dockerd:  $(ratio "${med[gantryd]:--}" "${med[dockerd]:--}")   (target <= 0.25)"


# ---- idle daemon memory, after the runs above (image loaded, no container)
sleep 1
echo
echo "idle daemon memory (KiB; PSS = Pss from /proc/PID/smaps_rollup)"
printf '  %-10s %-28s %8s %8s\n' daemon processes PSS RSS
declare -A idle=()
for t in "${targets[@]}"; do
	dpids=$(daemon_pids "$t")
	# shellcheck disable=SC2086
	idle[$t]=$(pss_kib $dpids)
	# shellcheck disable=SC2086
	printf '  %-10s %-28s %8s %8s\n' "$t" "$(daemon_what "$t")" "${idle[$t]}" "$(rss_kib $dpids)"
done
echo "  ratio gantryd/dockerd: $(ratio "${idle[gantryd]:--}" "${idle[dockerd]:--}")   (target: gantryd <= 4096 KiB)"

# ---- per running container: C `sleep 300` on one daemon at a time (so MemAvailable deltas do not mix)
echo
echo "per running container ($C x 'docker run -d --network none busybox sleep 300' each; KiB)"
printf '  %-10s %7s %-22s %12s %12s %14s %16s\n' daemon started shim "PSS/shim" "RSS/shim" "daemon +PSS/c" "MemAvail -/c"
for t in "${targets[@]}"; do
	use "$t"
	sync
	sleep 1
	dpids=$(daemon_pids "$t")
	# shellcheck disable=SC2086
	d0=$(pss_kib $dpids)
	m0=$(mem_available_kib)
	started=0
	for ((i = 0; i < C; i++)); do
		dk run -d --network none busybox sleep 300 >/dev/null 2>>"$tmp/$t.err" && started=$((started + 1))
	done
	sleep 2
	m1=$(mem_available_kib)
	# shellcheck disable=SC2086
	d1=$(pss_kib $dpids)
	# The shim is the parent of each container's init: gantry-shim or containerd-shim-runc-v2.
	mapfile -t shims < <(shim_pids)
	name=$(cat "/proc/${shims[0]:-0}/comm" 2>/dev/null || echo "?")
	ns=${#shims[@]}
	if [[ $started -gt 0 && $ns -gt 0 ]]; then
		printf '  %-10s %7s %-22s %12s %12s %14s %16s\n' "$t" "$started" "$name x$ns" \
			$(($(pss_kib "${shims[@]}") / ns)) $(($(rss_kib "${shims[@]}") / ns)) \
			$(((d1 - d0) / started)) $(((m0 - m1) / started))
	else
		printf '  %-10s %7s %-22s (no container started: %s)\n' "$t" "$started" "-" "$(sort -u "$tmp/$t.err" | head -1)"
	fi
	# shellcheck disable=SC2046
	dk rm -f $(dk ps -aq) >/dev/null 2>&1 || true
done
echo "  (targets: PSS/shim <= 300 KiB, MemAvail -/c <= 1536 KiB."
echo "   MemAvail -/c: MemAvailable drop over the $C starts / started; includes the container's own sleep, its cgroup"
echo "   and kernel memory; noisy when other work runs on the machine. daemon +PSS/c: the daemon's growth per container.)"
echo
[[ ${#fails[@]} -eq 0 ]] || echo "failed runs: ${fails[*]}"
[[ -z ${state[gantryd]:-} ]] && echo "note: gantryd was not measured (see above)"
exit 0
