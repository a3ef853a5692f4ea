#!/usr/bin/env bash
# Networks, gantryd beside dockerd in one run: iperf3 container to container on a bridge vs a bare veth pair, the host to a published 127.0.0.1 port vs the container's IP, 1-byte TCP request/response latency, per-container network setup time.
# Env: SECS per iperf3 run (default 5), RR round trips (default 20000), N runs per setup-time row
#      (default 20), GANTRYD (default /usr/local/bin/gantryd), DOCKER (the CLI).
# Both daemons run in a network namespace of this script's own (dockerd's iptables rules never
# reach the machine's), each with private roots, and are stopped by pid at exit.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GANTRYD=${GANTRYD:-/usr/local/bin/gantryd}
DOCKER=${DOCKER:-/usr/local/bin/docker}
SECS=${SECS:-5}
RR=${RR:-20000}
N=${N:-20}
for bin in iperf3 dockerd python3 jq nsenter "$GANTRYD" "$DOCKER"; do
	command -v "$bin" >/dev/null || { echo "bench/net.sh: $bin not found" >&2; exit 2; }
done

tmp=$(mktemp -d /tmp/gbn.XXXXXX)
HNS=gbn$$
VA=gbna$$
VB=gbnb$$
PFX=gb$(printf %x $(($$ % 0xfffff)))
pids=()
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${pids[@]}"; do
		for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.2; done
		kill -9 "$p" 2>/dev/null
	done
	for p in $(ip netns pids "$HNS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
	sleep 0.5
	findmnt -rn -o TARGET | grep -F "$tmp/" | sort -r | while read -r m; do umount -l "$m"; done
	ip netns del "$HNS" 2>/dev/null
	ip netns del "$VA" 2>/dev/null
	ip netns del "$VB" 2>/dev/null
	rmdir /sys/fs/cgroup/*/gbn-$$ /sys/fs/cgroup/gbn-$$ /sys/fs/cgroup/*/gantry/* 2>/dev/null
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$HNS"
ip -n "$HNS" link set lo up
in_ns() { nsenter --net="/run/netns/$HNS" "$@"; }

printf '{"deprecated-key-path": "%s"}\n' "$tmp/key.json" > "$tmp/daemon.json"
in_ns dockerd --config-file "$tmp/daemon.json" --data-root "$tmp/droot" --exec-root "$tmp/dexec" \
	--pidfile "$tmp/d.pid" -H "unix://$tmp/d.sock" --exec-opt native.cgroupdriver=cgroupfs \
	--cgroup-parent "/gbn-$$" > "$tmp/dockerd.log" 2>&1 </dev/null &
pids+=($!)
in_ns "$GANTRYD" --host "unix://$tmp/g.sock" --root "$tmp/groot" --exec-root "$tmp/gx" \
	--network-prefix "$PFX" > "$tmp/gantryd.log" 2>&1 </dev/null &
pids+=($!)
dk() { DOCKER_HOST=unix://$tmp/$1.sock timeout 120 "$DOCKER" "${@:2}"; }
for d in d g; do
	for _ in $(seq 150); do dk $d version >/dev/null 2>&1 && break; sleep 0.2; done
	dk $d version >/dev/null || { echo "bench/net.sh: daemon $d did not come up" >&2; tail "$tmp"/*.log >&2; exit 1; }
done
bash "$here/../scripts/make-busybox-image.sh" "$tmp/bb.tar" >/dev/null
dk d load -i "$tmp/bb.tar" >/dev/null
dk g load -i "$tmp/bb.tar" >/dev/null

pid_of() { dk "$1" inspect -f '{{.State.Pid}}' "$2"; }
ip_of() { dk "$1" inspect -f '{{.NetworkSettings.IPAddress}}' "$2"; }
# iperf3 throughput in Gbit/s: the server in namespace SRV (nsenter args), the client in CLI.
iperf() { # "SRV-NSENTER-ARGS" "CLI-NSENTER-ARGS" HOST PORT
	# shellcheck disable=SC2086
	nsenter $1 iperf3 -s -1 -p "$4" >/dev/null 2>&1 &
	local s=$!
	sleep 0.5
	# shellcheck disable=SC2086
	nsenter $2 iperf3 -c "$3" -p "$5" -t "$SECS" -J 2>/dev/null |
		jq -r '.end.sum_received.bits_per_second / 1e9 | . * 100 | round / 100'
	kill "$s" 2>/dev/null
	wait "$s" 2>/dev/null
}
# Mean microseconds of RR 1-byte TCP round trips: an echo server in SRV, the client in CLI.
rr() { # "SRV-NSENTER-ARGS" "CLI-NSENTER-ARGS" HOST PORT SERVERPORT
	# shellcheck disable=SC2086
	nsenter $1 python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[1]))); s.listen(1); c, _ = s.accept()
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    b = c.recv(1)
    if not b: break
    c.sendall(b)' "$5" &
	local s=$!
	sleep 0.5
	# shellcheck disable=SC2086
	nsenter $2 python3 -c '
import socket, sys, time
for _ in range(100):  # the server may take a moment to listen on a loaded machine
    try:
        c = socket.create_connection((sys.argv[1], int(sys.argv[2])))
        break
    except ConnectionRefusedError:
        time.sleep(0.1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
n = int(sys.argv[3])
for _ in range(500): c.sendall(b"x"); c.recv(1)
t = time.perf_counter()
for _ in range(n): c.sendall(b"x"); c.recv(1)
print("%.1f" % ((time.perf_counter() - t) / n * 1e6))' "$3" "$4" "$RR"
	kill "$s" 2>/dev/null
	wait "$s" 2>/dev/null
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }

# ---- a bare veth pair between two namespaces: the ceiling ----
ip netns add "$VA"
ip netns add "$VB"
ip link add gbnv0 netns "$VA" type veth peer name gbnv1 netns "$VB"
ip -n "$VA" addr add 10.250.0.1/24 dev gbnv0
ip -n "$VB" addr add 10.250.0.2/24 dev gbnv1
ip -n "$VA" link set gbnv0 up
ip -n "$VB" link set gbnv1 up
veth=$(iperf "--net=/run/netns/$VA" "--net=/run/netns/$VB" 10.250.0.1 5201 5201)

declare -A c2c lo direct rr_lo rr_direct setup
for d in g d; do
	dk $d run -d --name srv -p 127.0.0.1:15201:5201 -p 127.0.0.1:17000:7000 busybox sleep 3600 >/dev/null
	dk $d run -d --name cli busybox sleep 3600 >/dev/null
	sp=$(pid_of $d srv)
	cp=$(pid_of $d cli)
	sip=$(ip_of $d srv)
	c2c[$d]=$(iperf "-t $sp -n" "-t $cp -n" "$sip" 5201 5201)
	direct[$d]=$(iperf "-t $sp -n" "--net=/run/netns/$HNS" "$sip" 5201 5201)
	lo[$d]=$(iperf "-t $sp -n" "--net=/run/netns/$HNS" 127.0.0.1 5201 15201)
	rr_direct[$d]=$(rr "-t $sp -n" "--net=/run/netns/$HNS" "$sip" 7000 7000)
	rr_lo[$d]=$(rr "-t $sp -n" "--net=/run/netns/$HNS" 127.0.0.1 17000 7000)
	dk $d rm -f srv cli >/dev/null
done

# ---- network setup per container: run --rm with --network bridge minus --network none,
# the rows alternating so that the machine's load falls on each alike; medians.
for ((i = 0; i < N; i++)); do
	for d in g d; do
		for net in none bridge; do
			t0=${EPOCHREALTIME/./}
			dk $d run --rm --network $net busybox true >/dev/null
			echo $((${EPOCHREALTIME/./} - t0)) >> "$tmp/$d.$net"
		done
	done
done
median() { sort -n "$1" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
for d in g d; do
	setup[$d]=$(awk -v b="$(median "$tmp/$d.bridge")" -v n="$(median "$tmp/$d.none")" 'BEGIN {printf "%.2f", (b - n) / 1000}')
done

printf '%-46s %12s %12s\n' "" gantryd dockerd
printf '%-46s %12s\n' "bare veth pair, Gbit/s" "$veth"
printf '%-46s %12s %12s\n' "container to container, Gbit/s" "${c2c[g]}" "${c2c[d]}"
printf '%-46s %12s %12s\n' "  / bare veth (target >= 0.95)" "$(ratio "${c2c[g]}" "$veth")" "$(ratio "${c2c[d]}" "$veth")"
printf '%-46s %12s %12s\n' "host to the container's IP, Gbit/s" "${direct[g]}" "${direct[d]}"
printf '%-46s %12s %12s\n' "host to published 127.0.0.1 port, Gbit/s" "${lo[g]}" "${lo[d]}"
printf '%-46s %12s %12s\n' "  / the container's IP (target >= 0.95)" "$(ratio "${lo[g]}" "${direct[g]}")" "$(ratio "${lo[d]}" "${direct[d]}")"
printf '%-46s %12s %12s\n' "1-byte TCP RR to the container's IP, us" "${rr_direct[g]}" "${rr_direct[d]}"
printf '%-46s %12s %12s\n' "1-byte TCP RR to 127.0.0.1 port, us" "${rr_lo[g]}" "${rr_lo[d]}"
printf '%-46s %12s %12s\n' "  / the container's IP (target <= 1.15)" "$(ratio "${rr_lo[g]}" "${rr_direct[g]}")" "$(ratio "${rr_lo[d]}" "${rr_direct[d]}")"
printf '%-46s %12s %12s\n' "network setup per container, ms (bridge-none)" "${setup[g]}" "${setup[d]}"
