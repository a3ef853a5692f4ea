#!/usr/bin/env bash
# The embedded DNS resolver of user networks: names, aliases, short ids and links answered on 127.0.0.11, only within a network, following connect, disconnect, rename and restart; other names forwarded to an upstream server in a namespace the test makes.
# Test functions are called through t_run (SC2317).
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
T_TIMEOUT=${T_TIMEOUT:-120}

if [[ $TARGET != gantryd ]]; then
	t_skip network_dns "gantryd only (the dockerd of gantryd_lib runs without a bridge)"
	t_summary
fi
for bin in nft ip python3; do
	command -v $bin >/dev/null || { t_skip network_dns "$bin not installed"; t_summary; }
done

start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null
P=$E2E_NETPREFIX

# The upstream: a namespace behind a routed veth (TEST-NET-2, made here) whose one-answer DNS
# server says 198.51.100.77 for every name.
UP_NS=${P}-up
UP_HOST=${P}u0
ip netns add "$UP_NS"
ip link add "$UP_HOST" type veth peer name eth0 netns "$UP_NS"
ip addr add 198.51.100.1/24 dev "$UP_HOST"
ip link set "$UP_HOST" up
ip -n "$UP_NS" addr add 198.51.100.2/24 dev eth0
ip -n "$UP_NS" link set eth0 up
ip netns exec "$UP_NS" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("198.51.100.2", 53))
while True:
    q, a = s.recvfrom(512)
    end = 12
    while q[end]: end += q[end] + 1
    end += 5
    r = q[:2] + b"\x81\x80" + q[4:6] + b"\x00\x01\x00\x00\x00\x00" + q[12:end]
    r += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04" + bytes([198, 51, 100, 77])
    s.sendto(r, a)
' &
UP_PID=$!
t_defer "kill $UP_PID 2>/dev/null; ip netns del $UP_NS 2>/dev/null; ip link del $UP_HOST 2>/dev/null; true"

# The address nslookup in a new container on NET gets for NAME (empty: none).
resolve() { # NET NAME [docker run options...]
	local net=$1 name=$2
	shift 2
	{ dk run --rm --network "$net" "$@" busybox nslookup "$name" 2>/dev/null || true; } |
		awk '/^Name:/{n=1} n && /^Address/{print $2; exit}'
	return 0
}
ip_on() { dk inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }

dk network create dnsa >/dev/null
dk network create dnsb >/dev/null

test_names_and_aliases() {
	dk run -d --name alpha --network dnsa --network-alias web --network-alias www.test busybox sleep 300 >/dev/null
	local ip id
	ip=$(ip_on alpha dnsa)
	id=$(dk inspect -f '{{.Id}}' alpha)
	assert_eq "$(resolve dnsa alpha)" "$ip" "container name"
	assert_eq "$(resolve dnsa web)" "$ip" "--network-alias"
	assert_eq "$(resolve dnsa WWW.TEST)" "$ip" "alias, any case"
	assert_eq "$(resolve dnsa "${id:0:12}")" "$ip" "short id"
	assert_contains "$(dk inspect -f '{{json .NetworkSettings.Networks.dnsa.DNSNames}}' alpha)" '"alpha","'"${id:0:12}"'","web"'
	assert_eq "$(dk run --rm --network dnsa busybox cat /etc/resolv.conf | head -1)" "nameserver 127.0.0.11"
}

test_only_same_network() {
	assert_eq "$(resolve dnsb alpha)" "" "another network does not see alpha"
	assert_eq "$(resolve bridge alpha)" "" "nor does the default bridge"
}

test_connect_disconnect() {
	dk network connect --alias bee dnsb alpha
	assert_eq "$(resolve dnsb bee)" "$(ip_on alpha dnsb)" "connect --alias"
	assert_eq "$(resolve dnsb web)" "" "the dnsa alias stays on dnsa"
	dk network disconnect dnsb alpha
	assert_eq "$(resolve dnsb bee)" "" "gone after disconnect"
}

test_rename_restart() {
	dk rename alpha omega
	assert_eq "$(resolve dnsa omega)" "$(ip_on omega dnsa)" "the new name"
	# A name nobody has goes upstream: the test's server answers every name.
	assert_eq "$(resolve dnsa alpha --dns 198.51.100.2)" 198.51.100.77 "the old name is not ours any more"
	dk restart -t 0 omega >/dev/null
	assert_eq "$(resolve dnsa omega)" "$(ip_on omega dnsa)" "after restart"
	dk stop -t 0 omega >/dev/null
	assert_eq "$(resolve dnsa omega)" "" "a stopped container has no name"
	dk start omega >/dev/null
}

test_forward_upstream() {
	assert_eq "$(resolve dnsa upstream.example --dns 198.51.100.2)" 198.51.100.77 "forwarded to --dns"
}

test_links_and_daemon_restart() {
	dk run -d --name beta --network dnsa --link omega:db busybox sleep 300 >/dev/null
	local ip
	ip=$(ip_on omega dnsa)
	assert_eq "$(dk exec beta nslookup db 2>/dev/null | awk '/^Name:/{n=1} n && /^Address/{print $2; exit}')" "$ip" "--link alias"
	echo "$ip" > "$E2E_TMP/omega_ip"
}

test_after_daemon_restart() {
	assert_eq "$(dk exec beta nslookup omega 2>/dev/null | awk '/^Name:/{n=1} n && /^Address/{print $2; exit}')" "$(cat "$E2E_TMP/omega_ip")" "running containers keep their resolver across a daemon restart"
}

t_run names_and_aliases test_names_and_aliases
t_run only_same_network test_only_same_network
t_run connect_disconnect test_connect_disconnect
t_run rename_restart test_rename_restart
t_run forward_upstream test_forward_upstream
t_run links test_links_and_daemon_restart
e2e_crash
e2e_restart
t_run after_daemon_restart test_after_daemon_restart

stop_daemon
kill "$UP_PID" 2>/dev/null
wait "$UP_PID" 2>/dev/null
ip netns del "$UP_NS"
ip link del "$UP_HOST" 2>/dev/null
t_run host_clean bash -c "! ip -o link | grep -q ' ${P}[0-9a-z-]' && ! nft list tables | grep -qw $P"
t_summary
