#!/usr/bin/env bash
# M containers running at once on gantryd and on a private dockerd (one daemon at a time): time to start them all, memory at M, time to remove them.
# Env: M containers (default 500), P docker CLIs at a time (default 4), DOCKER (the CLI),
#      GANTRYD (default /usr/local/bin/gantryd). Each container: `busybox sleep 3600`, --network none.
# Both daemons get private roots and sockets (tests/gantryd_lib.sh) and are stopped by pid at exit.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../tests/lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../tests/gantryd_lib.sh"
# shellcheck source=bench/engine_lib.sh
. "$here/engine_lib.sh"
M=${M:-500}
P=${P:-4}
# 500 containers: dockerd alone needs a containerd-shim per container, and each daemon holds
# several fds per container.
ulimit -n 65536 2>/dev/null || true
bench_start_targets

tmp=$(mktemp -d /tmp/gantry-bench.XXXXXX)
t_defer "rm -rf '$tmp'"

start_all() { # starts M containers, P CLIs at a time; prints how many started
	seq "$M" | xargs -P "$P" -I{} timeout -k 5 300 "$DOCKER" run -d --network none busybox sleep 3600 \
		2>>"$tmp/$t.err" | wc -l
}

echo
echo "$M containers at once ('docker run -d --network none busybox sleep 3600', $P CLIs at a time; $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg))"
printf '  %-10s %8s %8s %9s %9s %11s %9s %7s %8s %13s %7s\n' daemon started running "start s" "per c ms" "daemon PSS" "PSS/shim" "fds" "threads" "MemAvail -/c" "rm s"
declare -A took=()
for t in "${targets[@]}"; do
	use "$t"
	sync
	sleep 1
	m0=$(mem_available_kib)
	t0=$(now_ms)
	started=$(start_all)
	t1=$(now_ms)
	took[$t]=$(awk -v ms=$((t1 - t0)) 'BEGIN { printf "%.1f", ms / 1000 }')
	sleep 2
	m1=$(mem_available_kib)
	running=$(dk ps -q | wc -l)
	dpids=$(daemon_pids "$t")
	mapfile -t shims < <(shim_pids)
	ns=${#shims[@]}
	# The daemon's fds and threads at M (gantryd alone; dockerd and containerd summed).
	fds=0 thr=0
	for p in $dpids; do
		fds=$((fds + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
		thr=$((thr + $(find "/proc/$p/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
	done
	# shellcheck disable=SC2086
	dpss=$(pss_kib $dpids)
	per_shim=-
	[[ $ns -gt 0 ]] && per_shim=$(($(pss_kib "${shims[@]}") / ns))
	per_c=-
	memc=-
	if [[ $started -gt 0 ]]; then
		per_c=$(awk -v ms=$((t1 - t0)) -v n="$started" 'BEGIN { printf "%.1f", ms / n }')
		memc=$(((m0 - m1) / started))
	fi
	# The docker CLI still answers with M containers up (gantryd: more than 1024 fds).
	dk version >/dev/null 2>>"$tmp/$t.err" || echo "    $t: docker version failed at $running containers" >&2
	r0=$(now_ms)
	dk ps -aq | xargs -r -n 50 -P "$P" timeout -k 5 300 "$DOCKER" rm -f >/dev/null 2>>"$tmp/$t.err"
	r1=$(now_ms)
	printf '  %-10s %8s %8s %9s %9s %11s %9s %7s %8s %13s %7s\n' "$t" "$started" "$running" "${took[$t]}" "$per_c" \
		"$dpss" "$per_shim" "$fds" "$thr" "$memc" "$(awk -v ms=$((r1 - r0)) 'BEGIN { printf "%.1f", ms / 1000 }')"
	[[ -s $tmp/$t.err ]] && echo "    errors: $(sort "$tmp/$t.err" | uniq -c | sort -rn | head -3 | tr '\n' ' ')"
done
echo "  ratio of the start times gantryd/dockerd: $(ratio "${took[gantryd]:--}" "${took[dockerd]:--}")"
echo "  (daemon PSS: gantryd alone, dockerd + containerd; MemAvail -/c: MemAvailable drop / started, noisy"
echo "   when other work runs; fds and threads: the daemon's own processes at $M containers)"
exit 0
