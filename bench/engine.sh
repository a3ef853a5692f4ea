#!/usr/bin/env bash
# gantryd against a private dockerd in one run: `docker run --rm` latency, idle daemon PSS, memory per running container.
# Env: N runs each for the latency (default 20), C containers each for the memory (default 20),
#      GANTRYD (default /usr/local/bin/gantryd), DOCKER (the CLI, default /usr/local/bin/docker),
#      GANTRY (the gantry CLI, default /usr/local/bin/gantry; its row is skipped when absent).
# Both daemons get private roots and sockets (tests/gantryd_lib.sh) and are stopped by pid at exit.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../tests/lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../tests/gantryd_lib.sh"
N=${N:-20}
C=${C:-20}
# The gantry CLI beside the gantryd under test (a build dir), else the installed one.
if [[ -z ${GANTRY:-} ]]; then
	GANTRY=/usr/local/bin/gantry
	[[ $GANTRYD == */cmd/gantryd/gantryd && -x ${GANTRYD%/gantryd/gantryd}/gantry/gantry ]] &&
		GANTRY=${GANTRYD%/gantryd/gantryd}/gantry/gantry
fi

if [[ $(id -u) -ne 0 ]]; then
	echo "bench/engine.sh: needs root" >&2
	exit 1
fi

# Starts TARGET and keeps its variables in state[TARGET]; nothing is kept when it is absent.
declare -A state=()
start_one() {
	local why
	TARGET=$1
	if ! why=$(e2e_missing); then
		echo "# $1: not run: $why" >&2
		return 1
	fi
	if ! "start_$1"; then
		echo "# $1 did not start (log above)" >&2
		E2E_CGROUP_PARENT=/$E2E_CGROUP_PARENT_REL
		t_defer "$(e2e_state) e2e_stop"
		return 1
	fi
	E2E_CGROUP_PARENT=/$E2E_CGROUP_PARENT_REL
	t_defer "$(e2e_state) e2e_stop"
	state[$1]=$(e2e_state)
	dk load -i "$bbtar" >/dev/null || { echo "# $1: docker load failed" >&2; unset "state[$1]"; return 1; }
}
use() { eval "${state[$1]}"; }

bbtar=$(mktemp -d /tmp/gantry-bench-img.XXXXXX)/busybox.tar
t_defer "rm -rf '${bbtar%/*}'"
bash "$here/../scripts/make-busybox-image.sh" "$bbtar" >/dev/null

targets=()
start_one gantryd && targets+=(gantryd)
start_one dockerd && targets+=(dockerd)
if [[ ${#targets[@]} -eq 0 ]]; then
	echo "bench/engine.sh: no daemon to measure" >&2
	exit 1
fi

pss_kib() { # PID... : summed Pss (KiB) from smaps_rollup
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
rss_kib() { # PID... : summed VmRSS (KiB)
	local p sum=0 v
	for p in "$@"; do
		v=$(awk '/^VmRSS:/ {print $2}' "/proc/$p/status" 2>/dev/null)
		sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
mem_available_kib() { awk '/^MemAvailable:/ {print $2}' /proc/meminfo; }
# The daemon's own processes: gantryd alone; dockerd and the containerd it started.
daemon_pids() { # TARGET
	use "$1"
	echo "$E2E_PID" ${E2E_CONTAINERD_PID:+"$E2E_CONTAINERD_PID"}
}
stats() { # prints "median p10 p90" of the numbers on stdin
	sort -n | awk '{a[NR] = $1} END {
		if (NR == 0) { print "- - -"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		p10 = a[int((NR - 1) * 0.1) + 1]; p90 = a[int((NR - 1) * 0.9) + 1]
		printf "%.1f %.1f %.1f\n", m, p10, p90 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx\n", a / b }'; }

tmp=$(mktemp -d /tmp/gantry-bench.XXXXXX)
t_defer "rm -rf '$tmp'"

# ---- latency: docker run --rm (create + start + attach + wait + remove), alternating daemons
for t in "${targets[@]}"; do
	use "$t"
	dk run --rm --network none busybox true >/dev/null 2>&1 # warm-up (page cache, first-run setup)
done
fails=()
for ((i = 0; i < N; i++)); do
	order=("${targets[@]}")
	((i % 2)) && mapfile -t order < <(printf '%s\n' "${targets[@]}" | tac)
	for t in "${order[@]}"; do
		use "$t"
		t0=$(date +%s%N)
		if dk run --rm --network none busybox true >/dev/null 2>>"$tmp/$t.err"; then
			echo $((($(date +%s%N) - t0) / 1000)) >> "$tmp/$t.us"
		else
			fails+=("$t")
		fi
	done
done
declare -A med=()
echo
echo "docker run --rm --network none busybox true ($N runs each, alternating; ms; docker CLI 28 on both)"
printf '  %-10s %6s %10s %8s %8s\n' daemon ok median p10 p90
for t in "${targets[@]}"; do
	read -r m p10 p90 < <(awk '{print $1 / 1000}' "$tmp/$t.us" 2>/dev/null | stats)
	med[$t]=$m
	printf '  %-10s %6s %10s %8s %8s\n' "$t" "$(wc -l < "$tmp/$t.us" 2>/dev/null || echo 0)" "$m" "$p10" "$p90"
	[[ -s $tmp/$t.err ]] && echo "    errors: $(sort -u "$tmp/$t.err" | head -3 | tr '\n' ' ')"
done
echo "  ratio gantryd/dockerd: $(ratio "${med[gantryd]:--}" "${med[dockerd]:--}")"
if [[ -x $GANTRY && -n ${state[gantryd]:-} ]]; then
	use gantryd
	if "$GANTRY" -H "$DOCKER_HOST" run --rm --network none busybox true >/dev/null 2>&1; then
		: > "$tmp/gantry.us"
		for ((i = 0; i < N; i++)); do
			t0=$(date +%s%N)
			"$GANTRY" -H "$DOCKER_HOST" run --rm --network none busybox true >/dev/null 2>&1 &&
				echo $((($(date +%s%N) - t0) / 1000)) >> "$tmp/gantry.us"
		done
		read -r m p10 p90 < <(awk '{print $1 / 1000}' "$tmp/gantry.us" | stats)
		printf '  %-10s %6s %10s %8s %8s   (gantry CLI -> gantryd, run after the rows above)\n' gantry "$(wc -l < "$tmp/gantry.us")" "$m" "$p10" "$p90"
		echo "  ratio gantry CLI on gantryd / docker CLI on dockerd: $(ratio "$m" "${med[dockerd]:--}")"
	else
		echo "  gantry CLI: skipped ($GANTRY run against gantryd failed)"
	fi
else
	echo "  gantry CLI: skipped ($GANTRY not installed yet)"
fi

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
	case $t in gantryd) what="gantryd" ;; dockerd) what="dockerd + containerd" ;; esac
	# shellcheck disable=SC2086
	printf '  %-10s %-28s %8s %8s\n' "$t" "$what" "${idle[$t]}" "$(rss_kib $dpids)"
done
echo "  ratio gantryd/dockerd: $(ratio "${idle[gantryd]:--}" "${idle[dockerd]:--}")"

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
	shims=()
	for id in $(dk ps -q); do
		p=$(e2e_container_pid "$id")
		[[ -n $p ]] && shims+=("$(awk '{print $4}' "/proc/$p/stat")")
	done
	mapfile -t shims < <(printf '%s\n' "${shims[@]}" | sort -u)
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
echo "  (MemAvail -/c: MemAvailable drop over the $C starts / started; includes the container's own sleep, its cgroup"
echo "   and kernel memory; noisy when other work runs on the machine. daemon +PSS/c: the daemon's growth per container.)"
echo
[[ ${#fails[@]} -eq 0 ]] || echo "failed runs: ${fails[*]}"
[[ -z ${state[gantryd]:-} ]] && echo "note: gantryd was not measured (see above)"
exit 0
