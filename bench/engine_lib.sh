# Helpers of bench/engine.sh and bench/engine_scale.sh: a private gantryd and dockerd side by side, memory readings, medians.
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2153
#
# Source after tests/lib.sh and tests/gantryd_lib.sh. bench_start_targets starts both daemons
# (each on its own roots and socket), loads busybox into each and leaves the names of those that
# run in targets[]; `use T` switches DOCKER_HOST and the E2E_* variables to daemon T. Both are
# stopped by pid at exit (the defers of tests/lib.sh).

if [[ $(id -u) -ne 0 ]]; then
	echo "bench: needs root" >&2
	exit 1
fi
# The gantry CLI beside the gantryd under test (a build dir), else the installed one.
if [[ -z ${GANTRY:-} ]]; then
	GANTRY=/usr/local/bin/gantry
	[[ $GANTRYD == */cmd/gantryd/gantryd && -x ${GANTRYD%/gantryd/gantryd}/gantry/gantry ]] &&
		GANTRY=${GANTRYD%/gantryd/gantryd}/gantry/gantry
fi

# Starts TARGET and keeps its variables in state[TARGET]; nothing is kept when it is absent.
declare -A state=()
targets=()
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

# Both daemons, busybox loaded; exits when neither runs.
bench_start_targets() {
	bbtar=$(mktemp -d /tmp/gantry-bench-img.XXXXXX)/busybox.tar
	t_defer "rm -rf '${bbtar%/*}'"
	bash "$E2E_TOP/scripts/make-busybox-image.sh" "$bbtar" >/dev/null
	start_one gantryd && targets+=(gantryd)
	start_one dockerd && targets+=(dockerd)
	if [[ ${#targets[@]} -eq 0 ]]; then
		echo "bench: no daemon to measure" >&2
		exit 1
	fi
}

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
daemon_what() { case $1 in gantryd) echo "gantryd" ;; dockerd) echo "dockerd + containerd" ;; esac; }
# Shims of the current daemon's running containers (the parent of each container's init).
shim_pids() {
	local id p
	for id in $(dk ps -q); do
		p=$(e2e_container_pid "$id")
		[[ -n $p ]] && awk '{print $4}' "/proc/$p/stat"
	done | sort -u
}
stats() { # prints "median p10 p90" of the numbers on stdin
	sort -n | awk '{a[NR] = $1} END {
		if (NR == 0) { print "- - -"; exit }
		m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
		p10 = a[int((NR - 1) * 0.1) + 1]; p90 = a[int((NR - 1) * 0.9) + 1]
		printf "%.1f %.1f %.1f\n", m, p10, p90 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx\n", a / b }'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
