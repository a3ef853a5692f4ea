#!/usr/bin/env bash
# The embedded DNS resolver of user networks: names, aliases, short ids and links answered on 127.0.0.11, only within a network, following connect, disconnect, rename and restart; other names forwarded to an upstream server (the daemon's --dns, or a container's) in a namespace the test makes; links and rules gone with their networks.
# Test functions are called through t_run (SC2317).
# shellcheck disable=SC2317,SC2016
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

# The upstream's subnet, random in 198.18.0.0/15: other test runs may use one at the same time.
# The daemon forwards there (its --dns), so no lookup of this test reaches the host's resolver.
ON=198.18.$((RANDOM % 250))
GANTRYD_ARGS="${GANTRYD_ARGS:-} --dns $ON.2"
start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null
P=$E2E_NETPREFIX

# The upstream: a namespace behind a routed veth (TEST-NET-2, made here) whose DNS server
# answers A 198.51.100.77 on $ON.2 (the daemon's --dns) and 198.51.100.78 on $ON.3 (a
# container's --dns) for names under .example, no data for their other types, NXDOMAIN for the
# rest; it logs "<address> <name> <type>" of each query it gets.
UP_NS=${P}-up
UP_HOST=${P}u0
UP_LOG=$(mktemp /tmp/gnt-dnslog.XXXXXX)
ip netns add "$UP_NS"
ip link add "$UP_HOST" type veth peer name eth0 netns "$UP_NS"
ip addr add $ON.1/24 dev "$UP_HOST"
ip link set "$UP_HOST" up
ip -n "$UP_NS" addr add $ON.2/24 dev eth0
ip -n "$UP_NS" addr add $ON.3/24 dev eth0
ip -n "$UP_NS" link set eth0 up
ip netns exec "$UP_NS" python3 -c '
import select, socket, sys
socks = {}
for last in (2, 3):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1] + "." + str(last), 53))
    socks[s] = last
log = open(sys.argv[2], "a", buffering=1)
while True:
    for s in select.select(list(socks), [], [])[0]:
        q, a = s.recvfrom(512)
        end, labels = 12, []
        while q[end]:
            labels.append(q[end + 1:end + 1 + q[end]].decode(errors="replace"))
            end += q[end] + 1
        qtype = q[end + 1] << 8 | q[end + 2]
        end += 5
        name = ".".join(labels).lower()
        log.write("%s %s %d\n" % (socks[s], name, qtype))
        ours = name.endswith(".example")
        ans = ours and qtype == 1
        r = q[:2] + (b"\x81\x80" if ours else b"\x81\x83") + q[4:6]
        r += (b"\x00\x01" if ans else b"\x00\x00") + b"\x00\x00\x00\x00" + q[12:end]
        if ans:
            r += b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04"
            r += bytes([198, 51, 100, 75 + socks[s]])
        s.sendto(r, a)
' "$ON" "$UP_LOG" &
UP_PID=$!
t_defer "kill $UP_PID 2>/dev/null; ip netns del $UP_NS 2>/dev/null; ip link del $UP_HOST 2>/dev/null; rm -f $UP_LOG; true"

# What nslookup in one new container on NET says for each NAME, a word per name: the first
# address, NXDOMAIN, or NOANSWER; RUNFAIL when the container did not run to its end. One run
# for all names, so that a negative answer comes with a positive control from the same
# container. RUN_OPTS: more `docker run` options.
resolve() { # NET NAME...
	local net=$1 out rc
	shift
	# shellcheck disable=SC2086 # RUN_OPTS: options, split on spaces
	out=$(dk run --rm --network "$net" ${RUN_OPTS:-} busybox sh -c \
		'for n in "$@"; do echo "== $n"; nslookup "$n" 2>&1; done; echo "== __end"' sh "$@" 2>&1)
	rc=$?
	if [[ $rc -ne 0 || $out != *"== __end"* ]]; then
		t_log "container on $net did not run (rc $rc): $out"
		echo RUNFAIL
		return 0
	fi
	printf '%s\n' "$out" | awk '
		function flush() { if (n != "") printf "%s%s", (k++ ? " " : ""), (a != "" ? a : nx ? "NXDOMAIN" : "NOANSWER") }
		/^== / { flush(); n = $2; a = ""; nx = 0; name = 0; if (n == "__end") n = ""; next }
		/NXDOMAIN/ { nx = 1 }
		/^Name:/ { name = 1 }
		name && /^Address/ && a == "" { a = $2 }
		END { print "" }'
	return 0
}
# Whether the upstream got a query for NAME from the resolver (on $ON.LAST, default 2).
upstream_saw() { # NAME [LAST]
	grep -q "^${2:-2} $1 " "$UP_LOG"
}
ip_on() { dk inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }

dk network create dnsa >/dev/null
dk network create dnsb >/dev/null
NET_IDS="$(dk network inspect -f '{{.Id}}' dnsa dnsb | cut -c1-5 | tr '\n' ' ')"
CTL=198.51.100.77

test_names_and_aliases() {
	dk run -d --name alpha --network dnsa --network-alias web --network-alias www.test busybox sleep 300 >/dev/null
	local ip id
	ip=$(ip_on alpha dnsa)
	id=$(dk inspect -f '{{.Id}}' alpha)
	assert_eq "$(resolve dnsa alpha web WWW.TEST "${id:0:12}")" "$ip $ip $ip $ip" \
		"container name, --network-alias, alias in any case, short id"
	assert_fails upstream_saw alpha
	assert_fails upstream_saw web
	assert_contains "$(dk inspect -f '{{json .NetworkSettings.Networks.dnsa.DNSNames}}' alpha)" '"alpha","'"${id:0:12}"'","web"'
	assert_eq "$(dk run --rm --network dnsa busybox cat /etc/resolv.conf | head -1)" "nameserver 127.0.0.11"
}

test_only_same_network() {
	# The control (a name the upstream knows) resolves in the same container: the NXDOMAIN is
	# the test's upstream's answer, not a container that never ran.
	assert_eq "$(resolve dnsb ctl.example alpha)" "$CTL NXDOMAIN" "another network does not see alpha"
	assert_ok upstream_saw alpha
	assert_eq "$(dk run --rm busybox cat /etc/resolv.conf | grep nameserver)" "nameserver $ON.2" \
		"the default bridge: the daemon's --dns"
	assert_eq "$(resolve bridge ctl.example alpha)" "$CTL NXDOMAIN" "nor does the default bridge"
}

test_connect_disconnect() {
	dk network connect --alias bee dnsb alpha
	assert_eq "$(resolve dnsb bee web)" "$(ip_on alpha dnsb) NXDOMAIN" "connect --alias; the dnsa alias stays on dnsa"
	dk network disconnect dnsb alpha
	assert_eq "$(resolve dnsb ctl.example bee)" "$CTL NXDOMAIN" "gone after disconnect"
}

test_rename_restart() {
	dk rename alpha omega
	assert_eq "$(resolve dnsa omega alpha)" "$(ip_on omega dnsa) NXDOMAIN" "the new name; the old one is not ours any more"
	dk restart -t 0 omega >/dev/null
	assert_eq "$(resolve dnsa omega)" "$(ip_on omega dnsa)" "after restart"
	dk stop -t 0 omega >/dev/null
	assert_eq "$(resolve dnsa ctl.example omega)" "$CTL NXDOMAIN" "a stopped container has no name"
	dk start omega >/dev/null
}

test_forward_upstream() {
	assert_eq "$(resolve dnsa up1.example)" "$CTL" "forwarded to the daemon's --dns"
	assert_ok upstream_saw up1.example 2
	assert_eq "$(RUN_OPTS="--dns $ON.3" resolve dnsa up2.example omega)" "198.51.100.78 $(ip_on omega dnsa)" \
		"a container's --dns is its resolver's upstream; names are still answered"
	assert_ok upstream_saw up2.example 3
	assert_fails upstream_saw up2.example 2
	assert_eq "$(dk run --rm --dns "$ON.3" busybox cat /etc/resolv.conf | grep nameserver)" "nameserver $ON.3" \
		"--dns on the default bridge"
}

ns_first() { awk '/^Name:/{n=1} n && /^Address/{print $2; exit}'; }

test_links_and_daemon_restart() {
	dk run -d --name beta --network dnsa --link omega:db busybox sleep 300 >/dev/null
	local ip
	ip=$(ip_on omega dnsa)
	assert_eq "$(dk exec beta nslookup db 2>/dev/null | ns_first)" "$ip" "--link alias"
	echo "$ip" > "$E2E_TMP/omega_ip"
}

test_after_daemon_restart() {
	assert_eq "$(dk exec beta nslookup omega 2>/dev/null | ns_first)" "$(cat "$E2E_TMP/omega_ip")" "running containers keep their resolver across a daemon restart"
	assert_eq "$(dk exec beta nslookup after.example 2>/dev/null | ns_first)" "$CTL" "and it still forwards to the daemon's --dns"
}

# gantryd itself removes what it made (before the harness's safety cleanup runs): the veths
# with their containers, the user bridges and their rules with the networks; a stopped
# daemon leaves only the default bridge and its tables (running containers would keep theirs).
test_daemon_removes_its_links() {
	dk rm -f omega beta >/dev/null
	dk network rm dnsa dnsb >/dev/null
	assert_soon_eq 'e2e_net_links' "${P}0" "only the default bridge, with no port, is left"
	local id
	for id in $NET_IDS; do
		assert_soon_eq 'ip -o link show | grep -c ": ve$id" || true' 0 "no veth of network $id"
	done
	assert_eq "$(nft list table inet "$P" | grep -c "\"${P}-" || true)" 0 "no rule names a removed bridge"
	kill -TERM "$E2E_PID"
	local i
	for ((i = 0; i < 100; i++)); do t_alive "$E2E_PID" || break; sleep 0.1; done
	assert_fails t_alive "$E2E_PID"
	assert_eq "$(e2e_net_links)" "${P}0" "after the daemon stopped: the default bridge alone"
	assert_eq "$(nft list tables | grep -cw "$P")" 2 "and its two tables (inet, bridge)"
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
t_run daemon_removes_its_links test_daemon_removes_its_links

stop_daemon
t_summary
