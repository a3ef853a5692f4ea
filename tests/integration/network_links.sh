#!/usr/bin/env bash
# Legacy links and late connects: --link on the default bridge (/etc/hosts, environment, inspect, refusals), resolv.conf and hosts of a running container switched by network connect.
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
	t_skip network_links "gantryd only (the dockerd of gantryd_lib runs without a bridge)"
	t_summary
fi
for bin in nft ip; do
	command -v $bin >/dev/null || { t_skip network_links "$bin not installed"; t_summary; }
done

start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null
P=$E2E_NETPREFIX
inspect() { dk inspect -f "$2" "$1"; }

test_link_on_default_bridge() {
	dk run -d --name db --expose 80 --expose 5432/udp -e SECRET=s3cr3t -e LEVEL=2 busybox sleep 300 >/dev/null
	local ip id out
	ip=$(inspect db '{{.NetworkSettings.IPAddress}}')
	id=$(inspect db '{{.Id}}')
	assert_match "$ip" '^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$' "db has a bridge address"
	out=$(dk run --rm --name web --link db:database busybox sh -c 'cat /etc/hosts; env; ping -c1 -W2 database >/dev/null && echo PING-OK')
	assert_match "$out" "$(printf '%s\tdatabase %s db' "${ip//./\\.}" "${id:0:12}")" "hosts line: alias, hostname, name"
	assert_contains "$out" "DATABASE_PORT=tcp://$ip:80" "the default port"
	assert_contains "$out" "DATABASE_PORT_80_TCP=tcp://$ip:80"
	assert_contains "$out" "DATABASE_PORT_80_TCP_ADDR=$ip"
	assert_contains "$out" "DATABASE_PORT_80_TCP_PORT=80"
	assert_contains "$out" "DATABASE_PORT_80_TCP_PROTO=tcp"
	assert_contains "$out" "DATABASE_PORT_5432_UDP=udp://$ip:5432"
	assert_contains "$out" "DATABASE_NAME=/web/database"
	assert_contains "$out" "DATABASE_ENV_SECRET=s3cr3t"
	assert_contains "$out" "DATABASE_ENV_LEVEL=2"
	assert_not_contains "$out" "DATABASE_ENV_PATH=" "PATH is left out as dockerd does"
	assert_contains "$out" "PING-OK" "the alias answers ping"
}

test_link_without_alias_and_inspect() {
	dk run -d --name app --link db busybox sleep 300 >/dev/null
	assert_eq "$(inspect app '{{json .HostConfig.Links}}')" '["/db:/app/db"]' "inspect shows dockerd's form"
	local ip
	ip=$(inspect db '{{.NetworkSettings.IPAddress}}')
	assert_contains "$(dk exec app cat /etc/hosts)" "$ip	db " "the name alone"
	assert_contains "$(dk exec app env)" "DB_NAME=/app/db"
	# The container's own -e wins over a link's variable.
	assert_contains "$(dk run --rm --link db:d -e D_NAME=mine busybox env)" "D_NAME=mine"
	dk rm -f app >/dev/null
}

test_link_refused() {
	local out rc=0
	out=$(dk run --rm --link nosuch:x busybox true 2>&1) || rc=$?
	assert_ne "$rc" 0 "a missing target is refused"
	assert_contains "$out" "could not get container for nosuch: No such container: nosuch"
	dk create --name stopped busybox true >/dev/null
	dk create --name lnk --link stopped:s busybox true >/dev/null
	rc=0
	out=$(dk start lnk 2>&1) || rc=$?
	assert_ne "$rc" 0 "a stopped target is refused at start"
	assert_contains "$out" "Cannot link to a non running container: /stopped AS /lnk/s"
	dk rm -f lnk stopped >/dev/null
}

test_connect_switches_resolver() {
	dk network create lnet >/dev/null
	dk run -d --name peer --network lnet busybox sleep 300 >/dev/null
	dk run -d --name late busybox sleep 300 >/dev/null
	assert_not_contains "$(dk exec late cat /etc/resolv.conf)" "127.0.0.11" "the default bridge has no resolver"
	assert_fails dk exec late nslookup peer
	dk network connect lnet late
	local pip lip
	pip=$(inspect peer '{{.NetworkSettings.Networks.lnet.IPAddress}}')
	lip=$(inspect late '{{.NetworkSettings.Networks.lnet.IPAddress}}')
	assert_eq "$(dk exec late head -1 /etc/resolv.conf)" "nameserver 127.0.0.11" "resolv.conf switched in place"
	assert_eq "$(dk exec late nslookup peer 2>/dev/null | awk '/^Name:/{n=1} n && /^Address/{print $2; exit}')" "$pip" "the new peer resolves"
	assert_ok dk exec late ping -c1 -W2 peer
	assert_match "$(dk exec late cat /etc/hosts)" "${lip//./\\.}	" "its new address in its hosts file"
	dk network disconnect lnet late
	assert_not_contains "$(dk exec late cat /etc/hosts)" "$lip	" "and out of it after disconnect"
	assert_contains "$(dk exec late cat /etc/hosts)" "$(inspect late '{{.NetworkSettings.Networks.bridge.IPAddress}}')	" "its bridge address stays"
	dk rm -f peer late >/dev/null
	dk network rm lnet >/dev/null
}

t_run link_on_default_bridge test_link_on_default_bridge
t_run link_without_alias_and_inspect test_link_without_alias_and_inspect
t_run link_refused test_link_refused
t_run connect_switches_resolver test_connect_switches_resolver

# gantryd itself removes what it made (before the harness's safety cleanup runs).
test_daemon_removes_its_links() {
	dk rm -f db >/dev/null
	assert_soon_eq 'e2e_net_links' "${P}0" "only the default bridge, with no port, is left"
	assert_eq "$(nft list table inet "$P" | grep -c "\"${P}-" || true)" 0 "no rule names a removed bridge"
}
t_run daemon_removes_its_links test_daemon_removes_its_links

stop_daemon
t_summary
