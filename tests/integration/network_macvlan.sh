#!/usr/bin/env bash
# macvlan and ipvlan networks with real packets: gantryd runs in a namespace of its own whose "trunk" veths lead to a namespace standing in for an outside host; containers reach that host (on 802.1q VLANs when the kernel has them) and each other, not across VLANs, and network rm removes only the VLAN links gantry made.
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
	t_skip network_macvlan "gantryd only (the dockerd of gantryd_lib runs without networks)"
	t_summary
fi
for bin in ip nft nsenter busybox; do
	command -v $bin >/dev/null || { t_skip network_macvlan "$bin not installed"; t_summary; }
done

# Two namespaces of this run: D, where gantryd runs (its default bridge, its links and its
# parents), and H, the outside host, joined to D by three veth "trunks" (trunkN in D, ethN in
# H). Every link lives in one of them and goes with them.
U=$(printf 'mv%x' $((($$ * 7919 + RANDOM) % 0xffffff)))
D=$U-d
H=$U-h
ip netns add "$D"
ip netns add "$H"
t_defer "ip netns del $D 2>/dev/null; ip netns del $H 2>/dev/null; true"
ip -n "$D" link set lo up
ip -n "$H" link set lo up
for i in 0 1 2; do
	ip -n "$D" link add name trunk$i type veth peer name eth$i netns "$H"
	ip -n "$D" link set trunk$i up
	ip -n "$H" link set eth$i up
done
inD() { ip netns exec "$D" "$@"; }
inH() { ip netns exec "$H" "$@"; }

# What this kernel can make: 802.1q sub-interfaces and ipvlan links (either may be left out).
VLAN=0
ip -n "$D" link add link trunk0 name trunk0.4094 type vlan id 4094 2>/dev/null &&
	VLAN=1 && ip -n "$D" link del trunk0.4094
IPVLAN=0
ip -n "$D" link add link trunk2 name ipvprobe type ipvlan mode l2 2>/dev/null &&
	IPVLAN=1 && ip -n "$D" link del ipvprobe

# Subnets of this run, as the other network tests pick theirs; .254 is the outside host.
N1=$((100 + RANDOM % 150))
N2=$((RANDOM % 200))
SA=10.$N1.$N2
SB=10.$N1.$((N2 + 1))
SC=10.$N1.$((N2 + 2))
# The outside host on VLAN 100 and 200 of trunk0 (or, without 802.1q, on plain trunk0 and
# trunk1), and for ipvlan on VLAN 300 (or plain trunk2).
if [[ $VLAN -eq 1 ]]; then
	PA=trunk0.100 PB=trunk0.200 PC=trunk0.300
	HA=eth0.100 HB=eth0.200 HC=eth2.300
	ip -n "$H" link add link eth0 name eth0.100 type vlan id 100
	ip -n "$H" link add link eth0 name eth0.200 type vlan id 200
	ip -n "$H" link add link eth2 name eth2.300 type vlan id 300
	PC=trunk2.300
else
	t_skip vlan_subinterfaces "this kernel has no 802.1q VLAN links (CONFIG_VLAN_8021Q): macvlan runs on untagged trunks"
	PA=trunk0 PB=trunk1 PC=trunk2
	HA=eth0 HB=eth1 HC=eth2
fi
ip -n "$H" addr add $SA.254/24 dev $HA
ip -n "$H" addr add $SB.254/24 dev $HB
ip -n "$H" addr add $SC.254/24 dev $HC
for l in $HA $HB $HC; do ip -n "$H" link set "$l" up; done
# The outside host's web server answers with the peer's address (it must be the container's:
# no NAT on these networks).
OUT_DIR=$(mktemp -d /tmp/gnt-mv.XXXXXX)
t_defer "rm -rf $OUT_DIR"
mkdir -p "$OUT_DIR/www/cgi-bin"
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' > "$OUT_DIR/www/cgi-bin/ip"
chmod +x "$OUT_DIR/www/cgi-bin/ip"
# ip netns exec execs httpd: $! is httpd's pid (a shell function would put a subshell there).
ip netns exec "$H" busybox httpd -f -p 8000 -h "$OUT_DIR/www" &
OUT_HTTPD=$!
t_defer "kill $OUT_HTTPD 2>/dev/null; true"

# gantryd inside D: nsenter execs it, so the pid start_daemon records is gantryd's.
printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %q "$@"\n' "$D" "$GANTRYD" > "$OUT_DIR/gantryd"
chmod +x "$OUT_DIR/gantryd"
GANTRYD=$OUT_DIR/gantryd
start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null

inspect() { dk inspect -f "$2" "$1"; }
net() { dk network inspect -f "$2" "$1"; }
# GET PATH from HOST:PORT with busybox nc, from a container (NETWORK) or H; prints the body.
get_from_ctr() { # CONTAINER HOST PORT PATH
	{ dk exec "$1" sh -c "printf 'GET $4 HTTP/1.0\r\n\r\n' | nc -w 3 $2 $3" 2>/dev/null || true; } |
		tr -d '\r' | sed '1,/^$/d' | sed 's/^\[::ffff:\(.*\)\]$/\1/'
	return 0
}
get_from_h() { # HOST PORT PATH
	{ inH busybox sh -c "printf 'GET $3 HTTP/1.0\r\n\r\n' | nc -w 3 $1 $2" 2>/dev/null || true; } |
		tr -d '\r' | sed '1,/^$/d' | sed 's/^\[::ffff:\(.*\)\]$/\1/'
	return 0
}
pings() { # CONTAINER ADDR: prints "ok" when ADDR answers
	dk exec "$1" ping -c1 -W2 "$2" >/dev/null 2>&1 && echo ok
	return 0
}
has_link() { ip -n "$D" link show "$1" >/dev/null 2>&1; }
# The container's link as the host's ip(8) sees it (busybox ip has no -d).
ctr_link() { # CONTAINER IFNAME
	nsenter -t "$(inspect "$1" '{{.State.Pid}}')" -n ip -d link show "$2"
}
api_status() { # METHOD PATH BODY: the HTTP status of the daemon's answer
	curl -s -o /dev/null -w '%{http_code}' --unix-socket "$E2E_SOCK" -X"$1" \
		-H 'Content-Type: application/json' -d "$3" "http://d$2"
}
ctr_web() { # NAME NETWORK [ARGS...]: a container whose httpd serves /i = NAME
	local n=$1 nw=$2
	shift 2
	dk run -d --name "$n" --network "$nw" "$@" busybox sh -c "echo $n > /i; httpd -f -p 80 -h /" >/dev/null
}

test_create_inspect() {
	local links out
	links=$(ip -n "$D" -o link | wc -l)
	dk network create -d macvlan --subnet $SA.0/24 --gateway $SA.1 -o parent=$PA \
		-o macvlan_mode=bridge m100 >/dev/null
	assert_eq "$(net m100 '{{.Driver}} {{.Options.parent}} {{.Options.macvlan_mode}}')" "macvlan $PA bridge"
	assert_eq "$(net m100 '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}} {{.IPAM.Driver}}')" "$SA.0/24 $SA.1 default"
	assert_eq "$(dk network inspect m100 | jq -c '.[0].Options')" "{\"macvlan_mode\":\"bridge\",\"parent\":\"$PA\"}" "Options: what was given, nothing private"
	assert_eq "$(dk network ls -f driver=macvlan --format '{{.Name}} {{.Driver}}')" "m100 macvlan"
	if [[ $VLAN -eq 1 ]]; then
		assert_contains "$(ip -n "$D" -d link show $PA)" "vlan protocol 802.1Q id 100" "gantry made the 802.1q sub-interface"
		assert_contains "$(ip -n "$D" link show $PA)" "trunk0.100@trunk0"
	else
		out=$(dk network create -d macvlan --subnet $SB.0/24 -o parent=trunk1.200 mv200 2>&1) && false
		assert_contains "$out" "create VLAN link trunk1.200: this kernel has no 802.1q VLAN support"
		assert_eq "$(dk network ls -q -f name=mv200)" "" "no network left by the refused create"
	fi
	out=$(dk network create -d macvlan --subnet $SB.0/24 -o parent=nosuch9 mx 2>&1) && false
	assert_contains "$out" "-o parent interface was not found on the host: nosuch9"
	out=$(dk network create -d macvlan --subnet $SB.0/24 -o parent=nosuch9.7 mx 2>&1) && false
	assert_contains "$out" "-o parent interface was not found on the host: nosuch9.7"
	assert_eq "$(api_status POST /networks/create '{"Name":"mx","Driver":"macvlan","Options":{"parent":"nosuch9"}}')" 400 "a missing parent is a 400"
	out=$(dk network create -d macvlan --subnet $SB.0/24 -o parent=trunk1 -o macvlan_mode=loud mx 2>&1) && false
	assert_contains "$out" "requested macvlan mode 'loud' is not valid"
	out=$(dk network create -d ipvlan --subnet $SB.0/24 -o parent=trunk1 -o ipvlan_mode=l9 mx 2>&1) && false
	assert_contains "$out" "requested ipvlan mode 'l9' is not valid"
	out=$(dk network create -d macvlan --subnet $SB.0/24 mx 2>&1) && false
	assert_contains "$out" "macvlan network needs a parent interface"
	out=$(dk network create -d macvlan --subnet $SB.0/24 -o parent=$PA mx 2>&1) && false
	assert_contains "$out" "network m100 is already using parent interface $PA"
	out=$(dk network create -d nosuchdrv mx 2>&1) && false
	assert_contains "$out" "plugin not found"
	assert_eq "$(dk network ls -q -f name=mx)" "" "no network left by the refused creates"
	assert_eq "$(ip -n "$D" -o link | wc -l)" $((links + VLAN)) "only the VLAN link is new in gantryd's namespace"
}

test_containers_and_outside_host() {
	ctr_web c1 m100
	ctr_web c2 m100 --ip $SA.77
	local ip1 out
	ip1=$(inspect c1 '{{.NetworkSettings.Networks.m100.IPAddress}}')
	assert_eq "$ip1" $SA.2 "the first address after the gateway"
	assert_eq "$(inspect c1 '{{.NetworkSettings.Networks.m100.Gateway}} {{.NetworkSettings.Networks.m100.IPPrefixLen}}')" "$SA.1 24"
	out=$(ctr_link c1 eth0; dk exec c1 ip route)
	assert_contains "$out" "macvlan mode bridge"
	assert_contains "$out" "default via $SA.1 dev eth0"
	assert_contains "$out" "link/ether $(inspect c1 '{{.NetworkSettings.Networks.m100.MacAddress}}')"
	assert_eq "$(pings c1 $SA.77)" ok "container to container"
	assert_eq "$(get_from_ctr c2 "$ip1" 80 /i)" c1 "container to container (TCP)"
	assert_eq "$(pings c1 $SA.254)" ok "container to the outside host"
	assert_eq "$(get_from_ctr c1 $SA.254 8000 /cgi-bin/ip)" "$ip1" "the outside host sees the container's own address"
	assert_eq "$(get_from_ctr c2 $SA.254 8000 /cgi-bin/ip)" $SA.77
	assert_eq "$(get_from_h "$ip1" 80 /i)" c1 "the outside host to a container"
	assert_eq "$(inH busybox ping -c1 -W2 $SA.77 >/dev/null && echo ok)" ok "the outside host pings a container"
	assert_eq "$(net m100 '{{len .Containers}}')" 2
	assert_not_contains "$(inD nft list ruleset)" "$SA." "no nftables rule for a macvlan network"
	assert_eq "$(ip -n "$D" -o link show master "${E2E_NETPREFIX}0" | wc -l)" 0 "no veth on the default bridge"
}

test_vlan_isolation() {
	dk network create -d macvlan --subnet $SB.0/24 --gateway $SB.1 -o parent=$PB m200 >/dev/null
	ctr_web c3 m200
	assert_eq "$(pings c3 $SB.254)" ok "VLAN 200 reaches the outside host's VLAN 200 address"
	assert_eq "$(pings c3 $SA.254)" "" "VLAN 200 cannot reach its VLAN 100 address"
	assert_eq "$(get_from_ctr c3 $SA.254 8000 /cgi-bin/ip)" "" "nor by TCP"
	assert_eq "$(pings c1 "$(inspect c3 '{{.NetworkSettings.Networks.m200.IPAddress}}')")" "" "VLAN 100 cannot reach a container on VLAN 200"
	dk rm -f c3 >/dev/null
	dk network rm m200 >/dev/null
	if [[ $VLAN -eq 1 ]]; then
		assert_fails has_link trunk0.200
		# A VLAN link that was there before is the user's: network rm leaves it.
		ip -n "$D" link add link trunk1 name trunk1.150 type vlan id 150
		ip -n "$D" link set trunk1.150 up
		dk network create -d macvlan --subnet $SB.0/24 -o parent=trunk1.150 m150 >/dev/null
		dk network rm m150 >/dev/null
		assert_ok has_link trunk1.150
		ip -n "$D" link del trunk1.150
	fi
	assert_ok has_link trunk1
}

test_connect_disconnect() {
	dk run -d --name c4 busybox sleep 300 >/dev/null
	dk network connect --ip $SA.44 m100 c4
	assert_contains "$(ctr_link c4 eth1)" "macvlan mode bridge"
	assert_eq "$(pings c4 $SA.254)" ok "connected: reaches the outside host"
	assert_eq "$(inH busybox ping -c1 -W2 $SA.44 >/dev/null && echo ok)" ok "and is reached"
	dk network disconnect m100 c4
	assert_fails dk exec c4 sh -c 'ip link show eth1 2>/dev/null'
	assert_eq "$(inH busybox ping -c1 -W1 $SA.44 >/dev/null && echo ok)" "" "disconnected: gone from the VLAN"
	dk rm -f c4 >/dev/null
}

test_stop_start() {
	dk stop -t 0 c1 >/dev/null
	assert_eq "$(inH busybox ping -c1 -W1 $SA.2 >/dev/null && echo ok)" "" "stopped: its link is gone"
	dk start c1 >/dev/null
	assert_eq "$(get_from_h $SA.2 80 /i)" c1 "started again: reachable"
}

test_after_restart() {
	assert_eq "$(get_from_h $SA.2 80 /i)" c1 "a running container keeps its macvlan link across daemon restarts"
	assert_eq "$(net m100 '{{.Driver}} {{.Options.parent}}')" "macvlan $PA"
	assert_not_contains "$(inD nft list ruleset)" "$SA." "still no nftables rule for it"
	assert_eq "$(inD nft list ruleset | grep -c 'table inet' || true)" 1 "one table, not duplicated"
	ctr_web c5 m100
	assert_eq "$(pings c5 $SA.254)" ok "a new container after the restart"
	dk rm -f c1 c2 c5 >/dev/null
	local out
	out=$(dk network rm m100)
	assert_eq "$out" m100
	if [[ $VLAN -eq 1 ]]; then
		assert_fails has_link trunk0.100
	fi
	assert_ok has_link trunk0
}

test_ipvlan() {
	dk network create -d ipvlan --subnet $SC.0/24 --gateway $SC.1 -o parent=$PC -o ipvlan_mode=l2 i300 >/dev/null
	assert_eq "$(net i300 '{{.Driver}} {{.Options.parent}} {{.Options.ipvlan_mode}}')" "ipvlan $PC l2"
	if [[ $IPVLAN -eq 0 ]]; then
		local out
		out=$(dk run --rm --network i300 busybox true 2>&1) && false
		assert_contains "$out" "this kernel has no ipvlan support"
		dk network rm i300 >/dev/null
		return 0
	fi
	ctr_web i1 i300
	ctr_web i2 i300
	local ip1
	ip1=$(inspect i1 '{{.NetworkSettings.Networks.i300.IPAddress}}')
	assert_contains "$(ctr_link i1 eth0)" "ipvlan  mode l2"
	assert_eq "$(pings i1 $SC.254)" ok "ipvlan l2 reaches the outside host"
	assert_eq "$(get_from_ctr i1 $SC.254 8000 /cgi-bin/ip)" "$ip1" "with its own address"
	assert_eq "$(get_from_h "$ip1" 80 /i)" i1 "and is reached from it"
	assert_eq "$(get_from_ctr i2 "$ip1" 80 /i)" i1 "container to container"
	dk rm -f i1 i2 >/dev/null
	dk network rm i300 >/dev/null
	dk network create -d ipvlan --subnet $SC.0/24 -o parent=$PC -o ipvlan_mode=l3 i3 >/dev/null
	assert_contains "$(dk run --rm --network i3 busybox ip route)" "default dev eth0" "ipvlan l3: the default route out of the link"
	dk network rm i3 >/dev/null
	if [[ $VLAN -eq 1 ]]; then
		assert_fails has_link $PC
	fi
}

test_no_gateway() {
	dk network create -d macvlan --subnet "$SB.0/24" -o parent="$PB" ng >/dev/null
	assert_eq "$(dk network inspect ng | jq -c '.[0].IPAM.Config')" "[{\"Subnet\":\"$SB.0/24\"}]" "no gateway shown when none was given, as dockerd"
	assert_contains "$(dk run --rm --network ng busybox ip route)" "default via $SB.1 dev eth0" "the first address is the gateway all the same"
	assert_eq "$(dk run --rm --network ng busybox ip -o -4 addr show eth0 | awk '{print $4}')" "$SB.2/24"
	dk network rm ng >/dev/null
}

GANTRY=${GANTRY:-/usr/local/bin/gantry}
test_gantry_cli() {
	local g=("$GANTRY" -H "unix://$E2E_SOCK")
	"${g[@]}" network create -d macvlan --subnet $SB.0/24 -o parent=$PB gm >/dev/null
	assert_contains "$("${g[@]}" network ls)" "gm        macvlan   local"
	assert_eq "$("${g[@]}" network inspect gm | jq -r '.[0].Options.parent')" "$PB"
	"${g[@]}" network rm gm >/dev/null
}

t_run create_inspect test_create_inspect
t_run containers_and_outside_host test_containers_and_outside_host
t_run vlan_isolation test_vlan_isolation
t_run connect_disconnect test_connect_disconnect
t_run stop_start test_stop_start
kill -TERM "$E2E_PID"; wait "$E2E_PID" 2>/dev/null
e2e_restart
e2e_crash
e2e_restart
t_run after_restart_and_kill test_after_restart
t_run ipvlan test_ipvlan
t_run no_gateway test_no_gateway
if [[ -x $GANTRY ]]; then
	t_run gantry_cli test_gantry_cli
else
	t_skip gantry_cli "no $GANTRY (GANTRY=build/cmd/gantry/gantry)"
fi

stop_daemon
kill "$OUT_HTTPD" 2>/dev/null
wait "$OUT_HTTPD" 2>/dev/null
ip netns del "$D"
ip netns del "$H"
t_run namespaces_gone bash -c "! ip netns list | grep -q '^$U-'"
t_summary
