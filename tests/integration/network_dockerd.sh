#!/usr/bin/env bash
# gantryd beside a dockerd that sets the iptables FORWARD policy to DROP (and br_netfilter): both daemons in a namespace of the test's, with an outside host behind it; our accepts in DOCKER-USER let containers reach each other, the outside and published ports, across a gantryd restart without duplicates.
# Test functions are called through t_run (SC2317); $(...) in single quotes is for the container shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
T_TIMEOUT=${T_TIMEOUT:-120}

if [[ $TARGET != gantryd ]]; then
	t_skip network_dockerd "gantryd only"
	t_summary
fi
for bin in dockerd iptables nft ip busybox; do
	command -v $bin >/dev/null || { t_skip network_dockerd "$bin not installed"; t_summary; }
done

# The "host": a namespace holding dockerd and gantryd, so that dockerd's iptables rules never
# touch the machine's own.
HNS=gtd$$
ip netns add "$HNS"
t_defer "ip netns del $HNS 2>/dev/null; true"
ip -n "$HNS" link set lo up
# dockerd sets the DROP policy only when it turns forwarding on itself.
ip netns exec "$HNS" sysctl -qw net.ipv4.ip_forward=0
REAL_GANTRYD=${GANTRYD:-/usr/local/bin/gantryd}
WRAP=$(mktemp /tmp/gantryd-in-ns.XXXXXX)
t_defer "rm -f $WRAP"
# nsenter, not ip netns exec: that one remounts /sys, without the cgroup tree.
printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "$HNS" "$REAL_GANTRYD" > "$WRAP"
chmod +x "$WRAP"

DTMP=$(mktemp -d /tmp/gtd-dockerd.XXXXXX)
t_defer "rm -rf --one-file-system $DTMP 2>/dev/null; true"
printf '{"deprecated-key-path": "%s"}\n' "$DTMP/key.json" > "$DTMP/daemon.json"
nsenter --net="/run/netns/$HNS" dockerd --config-file "$DTMP/daemon.json" --data-root "$DTMP/root" \
	--exec-root "$DTMP/exec" --pidfile "$DTMP/d.pid" -H "unix://$DTMP/docker.sock" \
	--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/gtd-dockerd-$$" \
	> "$DTMP/log" 2>&1 </dev/null &
DPID=$!
t_defer "kill $DPID 2>/dev/null; for i in \$(seq 50); do kill -0 $DPID 2>/dev/null || break; sleep 0.2; done; kill -9 $DPID 2>/dev/null; umount -R $DTMP/root 2>/dev/null; rmdir /sys/fs/cgroup/*/gtd-dockerd-$$ /sys/fs/cgroup/gtd-dockerd-$$ 2>/dev/null; true"
for ((i = 0; i < 150; i++)); do
	[[ $(ip netns exec "$HNS" iptables -S FORWARD 2>/dev/null | head -1) == "-P FORWARD DROP" ]] && break
	sleep 0.2
done

GANTRYD=$WRAP
start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null
P=$E2E_NETPREFIX

# The outside host behind the namespace.
ONS=${P}-o
ip netns add "$ONS"
t_defer "ip netns del $ONS 2>/dev/null; true"
ip link add gtdo0 netns "$HNS" type veth peer name eth0 netns "$ONS"
ip -n "$HNS" addr add 198.51.100.1/24 dev gtdo0
ip -n "$HNS" link set gtdo0 up
ip -n "$ONS" addr add 198.51.100.2/24 dev eth0
ip -n "$ONS" link set eth0 up
ODIR=$(mktemp -d /tmp/gtd-out.XXXXXX)
t_defer "rm -rf $ODIR"
mkdir -p "$ODIR/cgi-bin"
echo out > "$ODIR/i"
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' > "$ODIR/cgi-bin/ip"
chmod +x "$ODIR/cgi-bin/ip"
ip netns exec "$ONS" busybox httpd -f -p 8000 -h "$ODIR" &
OPID=$!
t_defer "kill $OPID 2>/dev/null; true"

get() { # HOST PORT PATH
	{ dk run --rm busybox sh -c "printf 'GET $3 HTTP/1.0\r\n\r\n' | nc -w 3 $1 $2" 2>/dev/null || true; } |
		tr -d '\r' | sed '1,/^$/d' | sed 's/^\[::ffff:\(.*\)\]$/\1/'
}

test_dockerd_policy() {
	assert_eq "$(ip netns exec "$HNS" iptables -S FORWARD | head -1)" "-P FORWARD DROP" "dockerd set FORWARD to DROP"
	assert_contains "$(ip netns exec "$HNS" iptables -S DOCKER-USER)" "-i ${P}0 -m comment --comment \"gantry:$P\" -j ACCEPT" "our accept in DOCKER-USER"
}

test_traffic() {
	dk run -d --name web -p 18300:80 busybox sh -c 'echo web > /i; httpd -f -p 80 -h /' >/dev/null
	local ip
	ip=$(dk inspect -f '{{.NetworkSettings.IPAddress}}' web)
	assert_eq "$(get "$ip" 80 /i)" web "container to container over the bridge (br_netfilter: through FORWARD)"
	assert_eq "$(get 198.51.100.2 8000 /cgi-bin/ip)" 198.51.100.1 "container to the outside, masqueraded"
	assert_eq "$(ip netns exec "$ONS" busybox sh -c "printf 'GET /i HTTP/1.0\r\n\r\n' | nc -w 3 198.51.100.1 18300" | tail -1)" web "the outside to a published port"
}

test_restart_no_duplicates() {
	assert_eq "$(ip netns exec "$HNS" iptables -S DOCKER-USER | grep -c "gantry:$P")" 2 "two rules for one bridge"
}

t_run dockerd_policy test_dockerd_policy
t_run traffic test_traffic
kill -TERM "$E2E_PID"; wait "$E2E_PID" 2>/dev/null
e2e_restart
e2e_crash
e2e_restart
t_run restart_no_duplicates test_restart_no_duplicates
test_traffic_after_restart() {
	assert_eq "$(get 198.51.100.2 8000 /i)" out "the outside after gantryd restarts"
	assert_eq "$(ip netns exec "$HNS" iptables -S FORWARD | head -1)" "-P FORWARD DROP" "dockerd's policy still DROP"
}
t_run traffic_after_restart test_traffic_after_restart

stop_daemon
t_summary
