#!/usr/bin/env bash
# Bridge networks with real packets: the default bridge, user networks, isolation (both ways, enable_icc=false), IPv6 dual stack, network prune filters, masquerade seen from an outside namespace, published TCP/UDP ports (host, 127.0.0.1, hairpin), cleanup across stop, restart and kill -9.
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
	t_skip network_bridge "gantryd only (the dockerd of gantryd_lib runs without a bridge)"
	t_summary
fi
for bin in nft ip busybox; do
	command -v $bin >/dev/null || { t_skip network_bridge "$bin not installed"; t_summary; }
done

start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null
P=$E2E_NETPREFIX
BR=${P}0
# Host ports of this run: other test daemons (other test runs) may publish at the same time.
HP=$((20000 + RANDOM % 20000))
# Likewise the outside host's subnet (198.18.0.0/15, the benchmarking range) and the explicit
# user subnets.
ON=198.18.$((RANDOM % 250))
U1=$((100 + RANDOM % 150))
U2=$((RANDOM % 200))
US=10.$U1.$U2
US2=10.$U1.$((U2 + 1))
US3=10.$U1.$((U2 + 2))
US4=10.$U1.$((U2 + 3))

# An "outside host": a namespace behind a veth whose host end is routed; addresses from
# TEST-NET-2 that this test creates and removes. Its httpd answers with the peer's address.
OUT_NS=${P}-out
OUT_HOST=${P}o0
# Outside the daemon's dir: the stop check counts processes naming that dir as leftovers.
OUT_DIR=$(mktemp -d /tmp/gnt-out.XXXXXX)
t_defer "rm -rf $OUT_DIR"
mkdir -p "$OUT_DIR/cgi-bin"
printf '#!/bin/sh\necho "Content-Type: text/plain"\necho\necho "$REMOTE_ADDR"\n' > "$OUT_DIR/cgi-bin/ip"
chmod +x "$OUT_DIR/cgi-bin/ip"
ip netns add "$OUT_NS"
t_defer "ip netns del $OUT_NS 2>/dev/null; ip link del $OUT_HOST 2>/dev/null; true"
ip link add "$OUT_HOST" type veth peer name eth0 netns "$OUT_NS"
ip addr add $ON.1/24 dev "$OUT_HOST"
ip link set "$OUT_HOST" up
ip -n "$OUT_NS" addr add $ON.2/24 dev eth0
ip -n "$OUT_NS" link set eth0 up
ip -n "$OUT_NS" link set lo up
ip netns exec "$OUT_NS" busybox httpd -f -p 8000 -h "$OUT_DIR" &
OUT_HTTPD=$!
t_defer "kill $OUT_HTTPD 2>/dev/null; true"

# HTTP GETs through busybox nc (busybox's static wget crashes resolving names), all from one new
# container on NETWORK: a word per TARGET (HOST:PORT/PATH), the first line of the body, or NOCONN
# when nothing came back (refused, dropped, timed out); RUNFAIL alone when the container did not
# run to its end. A negative check names a target that must answer in the same run (its
# positive control).
gets() { # NETWORK TARGET...
	local net=$1 out rc
	shift
	out=$(dk run --rm --network "$net" busybox sh -c '
		for t in "$@"; do
			h=${t%%:*}; r=${t#*:}; p=${r%%/*}
			echo "== $t"
			printf "GET /${r#*/} HTTP/1.0\r\n\r\n" | nc -w 3 "$h" "$p"
			echo
		done
		echo "== __end"' sh "$@" 2>&1)
	rc=$?
	if [[ $rc -ne 0 || $out != *"== __end"* ]]; then
		t_log "container on $net did not run (rc $rc): $out"
		echo RUNFAIL
		return 0
	fi
	printf '%s\n' "$out" | tr -d '\r' | sed 's/^\[::ffff:\(.*\)\]$/\1/' | awk '
		function flush() { if (t != "") printf "%s%s", (k++ ? " " : ""), (got ? (b != "" ? b : "EMPTY") : "NOCONN") }
		/^== / { flush(); t = $2; got = 0; body = 0; b = ""; if (t == "__end") t = ""; next }
		t == "" { next }
		/^HTTP\// { got = 1 }
		got && !body && /^$/ { body = 1; next }
		body && b == "" && $0 != "" { b = $0 }
		END { print "" }'
	return 0
}
get() { # HOST PORT PATH [NETWORK]
	gets "${4:-bridge}" "$1:$2$3"
}
# network create, its id recorded: the cleanup checks look for veths of every network made.
mknet() { dk network create "$@" | tee -a "$E2E_TMP/netids" >/dev/null; }
# The API's answer to a create, for messages the docker CLI would turn into a pull.
api_create() { # BODY
	curl -s --unix-socket "$E2E_SOCK" -XPOST -H 'Content-Type: application/json' -d "$1" \
		http://d/containers/create
}
inspect() { dk inspect -f "$2" "$1"; }

test_default_bridge() {
	local sub gw out
	sub=$(dk network inspect -f '{{(index .IPAM.Config 0).Subnet}}' bridge)
	gw=$(dk network inspect -f '{{(index .IPAM.Config 0).Gateway}}' bridge)
	assert_contains "$(ip -o -4 addr show "$BR")" "$gw/" "the bridge holds the gateway"
	out=$(dk run --rm --name dflt busybox sh -c 'ip -o -4 addr show eth0; ip route; tail -1 /etc/hosts; hostname; ping -c1 -W2 '"$gw"' >/dev/null && echo pong')
	assert_contains "$out" "default via $gw dev eth0"
	assert_contains "$out" "pong" "the gateway answers"
	local ip
	ip=$(printf '%s\n' "$out" | awk '/inet /{print $4}' | cut -d/ -f1)
	assert_contains "$out" "$ip	$(printf '%s\n' "$out" | tail -2 | head -1)" "/etc/hosts names the container's address"
	assert_eq "$(dk network inspect -f '{{index .Options "com.docker.network.bridge.name"}}' bridge)" "$BR"
}

test_container_to_container() {
	dk run -d --name srv busybox sh -c 'echo hi > /i; httpd -f -p 80 -h /' >/dev/null
	local ip
	ip=$(inspect srv '{{.NetworkSettings.IPAddress}}')
	assert_ne "$ip" "" "IPAddress in inspect"
	assert_eq "$(inspect srv '{{.NetworkSettings.Networks.bridge.IPAddress}}')" "$ip"
	assert_eq "$(get "$ip" 80 /i)" hi "one container reaches another on the bridge"
	# gantryd's own datapath: container to container on a bridge is not tracked (it needs no
	# NAT), so bridged frames skip conntrack even where br_netfilter is loaded.
	if [[ $TARGET == gantryd && -r /proc/net/nf_conntrack &&
		$(cat /proc/sys/net/bridge/bridge-nf-call-iptables 2>/dev/null) == 1 ]]; then
		assert_eq "$(grep -c " dst=$ip sport=[0-9]* dport=80 " /proc/net/nf_conntrack || true)" 0 \
			"no conntrack entry for container-to-container traffic"
	fi
	dk rm -f srv >/dev/null
}

# gantryd's fast path: a container's frames for another container of its bridge network go
# straight into it (a tcx program on the sending veth), so the receiver's host-side veth, the
# bridge's port, does not carry them; what is sent arrives whole, and answers come back.
test_fast_path() {
	mknet fastnet >/dev/null
	# (nc's stdin held open: at EOF on it busybox nc would hang up)
	dk run -d --name fsrv --network fastnet busybox sh -c 'sleep 60 | nc -l -p 5000 > /got' >/dev/null
	local ip hostif rx0 tx0
	ip=$(inspect fsrv '{{.NetworkSettings.Networks.fastnet.IPAddress}}')
	hostif=$(ip -o link | awk -F': ' -v i="$(dk exec fsrv cat /sys/class/net/eth0/iflink)" \
		'$1 == i {sub(/@.*/, "", $2); print $2}')
	assert_ne "$hostif" "" "fsrv's host-side veth"
	tx0=$(cat "/sys/class/net/$hostif/statistics/tx_bytes")
	rx0=$(dk exec fsrv cat /sys/class/net/eth0/statistics/rx_bytes)
	dk run --rm --network fastnet busybox sh -c "head -c 4000000 /dev/zero | nc -w 2 $ip 5000"
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(dk exec fsrv sh -c 'wc -c < /got' 2>/dev/null) == 4000000 ]] && break
		sleep 0.1
	done
	local got rx tx
	got=$(dk exec fsrv sh -c 'wc -c < /got')
	rx=$(($(dk exec fsrv cat /sys/class/net/eth0/statistics/rx_bytes) - rx0))
	tx=$(($(cat "/sys/class/net/$hostif/statistics/tx_bytes") - tx0))
	dk rm -f fsrv >/dev/null
	dk network rm fastnet >/dev/null
	assert_eq "$got" 4000000 "4 MB sent, 4 MB received"
	[[ $rx -ge 4000000 ]] || { t_fail fast_path "fsrv's eth0 got only $rx bytes"; return 1; }
	[[ $tx -lt 400000 ]] || { t_fail fast_path "the bridge port carried $tx bytes to fsrv"; return 1; }
}

test_user_network_options() {
	mknet --subnet $US.0/24 --label tier=test netx >/dev/null
	assert_eq "$(dk network ls -q -f label=tier=test | wc -l)" 1 "label filter"
	assert_eq "$(dk network inspect -f '{{.Labels.tier}} {{(index .IPAM.Config 0).Gateway}}' netx)" "test $US.1"
	local out
	out=$(dk run --rm --network netx --ip $US.50 --mac-address 02:00:00:aa:bb:cc \
		--hostname hh --add-host foo.test:$ON.9 --dns $ON.53 busybox sh -c \
		'ip -o -4 addr show eth0; cat /sys/class/net/eth0/address; hostname; cat /etc/hosts /etc/resolv.conf')
	assert_contains "$out" "inet $US.50/24"
	assert_contains "$out" "02:00:00:aa:bb:cc"
	assert_contains "$out" "$ON.9	foo.test"
	assert_contains "$out" "$US.50	hh"
	assert_contains "$out" "nameserver 127.0.0.11" "a user network: the embedded resolver (it forwards to --dns)"
	assert_eq "$(dk run --rm --dns $ON.53 busybox head -1 /etc/resolv.conf)" "nameserver $ON.53" "--dns on the default bridge"
	out=$(dk run --rm --network netx --ip $US2.5 busybox true 2>&1) && false
	assert_contains "$out" "no configured subnet or ip-range contain the IP address $US2.5"
	out=$(dk run --rm --ip 172.30.0.5 busybox true 2>&1) && false
	assert_contains "$out" "user specified IP address is supported on user defined networks only"
	out=$(api_create '{"Image":"busybox","HostConfig":{"NetworkMode":"nosuchnet"}}')
	assert_contains "$out" "network nosuchnet not found"
	out=$(dk network create netx 2>&1) && false
	assert_contains "$out" "network with name netx already exists"
	out=$(dk network rm bridge 2>&1) && false
	assert_contains "$out" "bridge is a pre-defined network and cannot be removed"
	dk network rm netx >/dev/null
	assert_eq "$(ip -o link show type bridge | grep -c " ${P}-" || true)" 0 "network rm removed its bridge"
}

test_isolation() {
	mknet isoa >/dev/null
	dk run -d --name ia --network isoa busybox sh -c 'echo a > /i; httpd -f -p 80 -h /' >/dev/null
	dk run -d --name ib busybox sh -c 'echo b > /i; httpd -f -p 80 -h /' >/dev/null
	local ipa ipb
	ipa=$(inspect ia '{{.NetworkSettings.Networks.isoa.IPAddress}}')
	ipb=$(inspect ib '{{.NetworkSettings.IPAddress}}')
	assert_eq "$(gets isoa "$ipa:80/i" "$ipb:80/i")" "a NOCONN" "isoa reaches ia, not the default bridge"
	assert_eq "$(gets bridge "$ipb:80/i" "$ipa:80/i")" "b NOCONN" "the default bridge reaches ib, not isoa"
	# connect: now ib is on isoa too and answers there.
	dk network connect isoa ib
	local ipb2
	ipb2=$(inspect ib '{{.NetworkSettings.Networks.isoa.IPAddress}}')
	assert_eq "$(get "$ipb2" 80 /i isoa)" b "after network connect"
	assert_eq "$(dk network inspect -f '{{len .Containers}}' isoa)" 2
	dk network disconnect isoa ib
	assert_eq "$(dk exec ib ip -o link | grep -c eth1 || true)" 0 "disconnect removed eth1"
	out=$(dk network rm isoa 2>&1) && false
	assert_contains "$out" "has active endpoints"
	dk rm -f ia ib >/dev/null
	dk network rm isoa >/dev/null
}

test_user_networks_isolated() {
	mknet una >/dev/null
	mknet unb >/dev/null
	dk run -d --name sa --network una busybox sh -c 'echo a > /i; httpd -f -p 80 -h /' >/dev/null
	dk run -d --name sb --network unb busybox sh -c 'echo b > /i; httpd -f -p 80 -h /' >/dev/null
	local ipa ipb
	ipa=$(inspect sa '{{.NetworkSettings.Networks.una.IPAddress}}')
	ipb=$(inspect sb '{{.NetworkSettings.Networks.unb.IPAddress}}')
	assert_eq "$(gets una "$ipa:80/i" "$ipb:80/i")" "a NOCONN" "una reaches its own, not unb"
	assert_eq "$(gets unb "$ipb:80/i" "$ipa:80/i")" "b NOCONN" "unb reaches its own, not una"
	dk rm -f sa sb >/dev/null
	dk network rm una unb >/dev/null
}

# enable_icc=false: containers of the network do not reach each other over the bridge; the
# host (a server on the network's gateway address, which this test owns) still answers them.
test_icc_false() {
	mknet -o com.docker.network.bridge.enable_icc=false noicc >/dev/null
	assert_eq "$(dk network inspect -f '{{index .Options "com.docker.network.bridge.enable_icc"}}' noicc)" false
	dk run -d --name ic1 --network noicc busybox sh -c 'echo c1 > /i; httpd -f -p 80 -h /' >/dev/null
	local ip gw port=$((HP + 20)) hpid
	ip=$(inspect ic1 '{{.NetworkSettings.Networks.noicc.IPAddress}}')
	gw=$(dk network inspect -f '{{(index .IPAM.Config 0).Gateway}}' noicc)
	busybox httpd -f -p "$gw:$port" -h "$OUT_DIR" &
	hpid=$!
	# The gateway's server says the client's address: one on noicc, not the gateway's.
	assert_match "$(gets noicc "$gw:$port/cgi-bin/ip" "$ip:80/i")" "^${ip%.*}\.[0-9]+ NOCONN$" \
		"icc=false: the gateway answers, the other container does not"
	assert_eq "$(curl -s --max-time 3 "http://$ip/i")" c1 "the host reaches the container"
	kill "$hpid"
	wait "$hpid" 2>/dev/null || true
	dk rm -f ic1 >/dev/null
	dk network rm noicc >/dev/null
}

# network prune --filter until=... and label=...: only unused networks made before until with
# the label go.
test_network_prune_filters() {
	mknet --label pr=1 old1 >/dev/null
	mknet --label pr=2 old2 >/dev/null
	mknet --label pr=1 used1 >/dev/null
	dk run -d --name pu --network used1 busybox sleep 60 >/dev/null
	sleep 1.5
	local t
	t=$(date +%s)
	sleep 1.5
	mknet --label pr=1 new1 >/dev/null
	local out
	out=$(dk network prune -f --filter until=10m 2>&1)
	assert_not_contains "$out" old "until=10m: nothing is that old"
	out=$(dk network prune -f --filter "until=$t" --filter label=pr=1)
	assert_eq "$(printf '%s\n' "$out" | grep -v '^Deleted Networks:' | grep -v '^$')" old1 "until and label: only old1"
	assert_eq "$(dk network ls --format '{{.Name}}' -f label=pr | sort | tr '\n' ' ')" "new1 old2 used1 " "the others stay"
	out=$(dk network prune -f --filter "label!=pr=2" --filter label=pr)
	assert_eq "$(printf '%s\n' "$out" | grep -v '^Deleted Networks:' | grep -v '^$')" new1 "label!=: not old2, not the used one"
	out=$(dk network prune -f --filter until=yesterday 2>&1) && false
	assert_contains "$out" 'failed to parse value as time or duration: "yesterday"'
	dk rm -f pu >/dev/null
	dk network rm old2 used1 >/dev/null
}

test_masquerade_and_internal() {
	assert_eq "$(get $ON.2 8000 /cgi-bin/ip)" $ON.1 \
		"the outside host sees the host's address (masquerade)"
	mknet --internal intn >/dev/null
	dk run -d --name isrv --network intn busybox sh -c 'echo in > /i; httpd -f -p 80 -h /' >/dev/null
	assert_eq "$(gets intn "$(inspect isrv '{{.NetworkSettings.Networks.intn.IPAddress}}'):80/i" "$ON.2:8000/cgi-bin/ip")" \
		"in NOCONN" "an internal network: its containers talk, no way out"
	dk rm -f isrv >/dev/null
	dk network rm intn >/dev/null
}

test_published_ports() {
	dk run -d --name pub -p $((HP + 0)):80 -p 127.0.0.1:$((HP + 1)):81/udp -p $((HP + 3)):83/udp -p $((HP + 10))-$((HP + 11)):90-91 busybox sh -c \
		'echo web > /i; httpd -p 90 -h /; httpd -p 91 -h /; httpd -f -p 80 -h /' >/dev/null
	local hostip out
	hostip=$(ip -o -4 addr show "$OUT_HOST" | awk '{print $4}' | cut -d/ -f1)
	assert_eq "$(curl -s --max-time 3 http://127.0.0.1:$((HP + 0))/i)" web "host to 127.0.0.1"
	assert_eq "$(curl -s --max-time 3 "http://$hostip:$((HP + 0))/i")" web "host to its own address"
	assert_eq "$(curl -s --max-time 3 http://127.0.0.1:$((HP + 11))/i)" web "a port of a range"
	assert_eq "$(ip netns exec "$OUT_NS" busybox sh -c "printf 'GET /i HTTP/1.0\r\n\r\n' | nc -w 3 $hostip $((HP + 0))" | tail -1)" web "from the outside host"
	assert_eq "$(get "$hostip" $((HP + 0)) /i)" web "hairpin: another container through the host port"
	assert_eq "$(get "$(inspect pub '{{.NetworkSettings.Gateway}}')" $((HP + 0)) /i)" web "hairpin through the gateway"
	# The container to its own published port: the answer goes back out of the bridge port it
	# came in by (hairpin_mode on that port, as dockerd sets without its userland proxy).
	assert_eq "$(dk exec pub sh -c "printf 'GET /i HTTP/1.0\r\n\r\n' | nc -w 3 $(inspect pub '{{.NetworkSettings.Gateway}}') $((HP + 0))" | tr -d '\r' | sed '1,/^$/d')" web "a container to itself through the gateway and host port"
	assert_eq "$(dk exec pub sh -c "printf 'GET /i HTTP/1.0\r\n\r\n' | nc -w 3 $hostip $((HP + 0))" | tr -d '\r' | sed '1,/^$/d')" web "a container to itself through the host's address"
	# busybox nc has no UDP: a UDP server in the container's namespace, run from the host;
	# datagrams sent until it got one (it may take a moment to bind).
	local pid
	pid=$(inspect pub '{{.State.Pid}}')
	udp_once() { # PORT SENDER...
		local port=$1 i
		shift
		rm -f "$E2E_TMP/udp"
		timeout 10 nsenter -t "$pid" -n python3 -u -c 'import socket,sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", int(sys.argv[1])))
d, a = s.recvfrom(100); sys.stdout.write(d.decode())' "$port" > "$E2E_TMP/udp" &
		local upid=$!
		for ((i = 0; i < 50; i++)); do
			"$@"
			[[ -s $E2E_TMP/udp ]] && break
			sleep 0.2
		done
		wait "$upid" || true
		cat "$E2E_TMP/udp"
	}
	assert_eq "$(udp_once 81 bash -c "echo udpdata > /dev/udp/127.0.0.1/$((HP + 1))")" udpdata "UDP from the host to 127.0.0.1"
	dk run -d --name other busybox sleep 60 >/dev/null
	local opid
	opid=$(inspect other '{{.State.Pid}}')
	assert_eq "$(udp_once 83 nsenter -t "$opid" -n bash -c "echo fromctr > /dev/udp/$hostip/$((HP + 3))")" fromctr "UDP from another container through the host port"
	dk rm -f other >/dev/null
	out=$(dk port pub)
	assert_contains "$out" "80/tcp -> 0.0.0.0:$((HP + 0))"
	assert_contains "$out" "81/udp -> 127.0.0.1:$((HP + 1))"
	out=$(dk run -d --name clash -p $((HP + 0)):80 busybox sleep 9 2>&1) && false
	assert_contains "$out" "Bind for 0.0.0.0:$((HP + 0)) failed: port is already allocated"
	dk run -d --name rnd -P --expose 7000 busybox sh -c 'echo r > /i; httpd -f -p 7000 -h /' >/dev/null
	local hp
	hp=$(dk port rnd 7000/tcp | head -1 | sed 's/.*://')
	[[ $hp =~ ^[0-9]+$ && $hp -gt 1024 ]] || { t_fail "-P gave '$hp'"; return 1; }
	assert_eq "$(curl -s --max-time 3 "http://127.0.0.1:$hp/i")" r "-P: random host port"
	dk rm -f pub clash >/dev/null
	assert_eq "$(curl -s --max-time 2 http://127.0.0.1:$((HP + 0))/i || true)" "" "removed: the port is gone"
	assert_eq "$(curl -s --max-time 3 "http://127.0.0.1:$hp/i")" r "while another container's still answers"
	dk rm -f rnd >/dev/null
	assert_eq "$(nft list map inet "$P" pub4 | grep -c 'elements' || true)" 0 "no port elements left"
}

test_cleanup_restart_kill() {
	# Dual stack, to check its IPv6 half comes back from the store after the restarts.
	mknet --ipv6 --subnet "$(printf 'fd%02x:%x:%x::/64' $((RANDOM % 256)) $RANDOM $RANDOM)" keepnet >/dev/null
	dk run -d --name keep -p $((HP + 5)):80 busybox sh -c 'echo k > /i; httpd -f -p 80 -h /' >/dev/null
	dk run --rm busybox true
	assert_soon_eq 'ip -o link show master "$BR" | wc -l' 1 "only keep's veth on the bridge"
	local before
	before=$(nft list table inet "$P" | wc -l)
	dk stop -t 0 keep >/dev/null
	assert_soon_eq 'ip -o link show master "$BR" | wc -l' 0 "stopped: its veth is gone"
	dk start keep >/dev/null
	assert_eq "$(ip -o link show master "$BR" | wc -l)" 1 "stop/start: one veth again"
	assert_eq "$(curl -s --max-time 3 http://127.0.0.1:$((HP + 5))/i)" k "after stop/start"
	echo "$before" > "$E2E_TMP/rules_before"
}

test_after_restart() {
	assert_eq "$(nft list table inet "$P" | wc -l)" "$(cat "$E2E_TMP/rules_before")" "no duplicate rules after restarts"
	assert_eq "$(curl -s --max-time 3 http://127.0.0.1:$((HP + 5))/i)" k "the running container's port survives"
	dk run --rm busybox true
	assert_eq "$(get $ON.2 8000 /cgi-bin/ip keepnet)" $ON.1 "a user network made before the restarts still gets out"
	assert_eq "$(gets keepnet "$ON.2:8000/cgi-bin/ip" "$(inspect keep '{{.NetworkSettings.IPAddress}}'):80/i")" "$ON.1 NOCONN" "and is still isolated"
	assert_eq "$(get $ON.2 8000 /cgi-bin/ip)" $ON.1 "so does the default bridge"
	local sub6
	sub6=$(dk network inspect -f '{{range .IPAM.Config}}{{.Subnet}} {{end}}' keepnet | awk '{print $2}')
	assert_contains "$(dk run --rm --network keepnet busybox ip -o -6 addr show eth0)" "inet6 ${sub6%::/64}::" \
		"the IPv6 half of a network made before the restarts"
	dk rm -f keep >/dev/null
	dk network rm keepnet >/dev/null
	assert_soon_eq 'ip -o link show master "$BR" | wc -l' 0 "no veth left"
}

# Dual stack: a random ULA /64 beside an IPv4 subnet; the bridge holds both gateways, each
# endpoint both addresses and both default routes; ping between containers over IPv6, AAAA from
# the embedded resolver, a published port DNATed for IPv6 from the host to the bridge's address.
test_ipv6() {
	local u6 gw6 out b6
	u6=$(printf 'fd%02x:%x:%x::' $((RANDOM % 256)) $RANDOM $RANDOM)
	gw6=${u6}1
	mknet --ipv6 --subnet "$US4.0/24" --subnet "${u6}/64" net6 >/dev/null
	assert_eq "$(dk network inspect -f '{{.EnableIPv6}} {{range .IPAM.Config}}{{.Subnet}},{{.Gateway}} {{end}}' net6)" \
		"true $US4.0/24,$US4.1 ${u6}/64,$gw6 "
	assert_contains "$(ip -o -6 addr show)" "inet6 $gw6/64" "the bridge holds the IPv6 gateway"
	dk run -d --name s6a --network net6 --ip6 "${u6}a" -p $((HP + 30)):80 busybox sh -c \
		'echo six > /i; httpd -f -p 80 -h /' >/dev/null
	dk run -d --name s6b --network net6 busybox sleep 120 >/dev/null
	assert_eq "$(inspect s6a '{{.NetworkSettings.Networks.net6.GlobalIPv6Address}}/{{.NetworkSettings.Networks.net6.GlobalIPv6PrefixLen}} {{.NetworkSettings.Networks.net6.IPv6Gateway}}')" \
		"${u6}a/64 $gw6" "--ip6, prefix length and IPv6 gateway in inspect"
	b6=$(inspect s6b '{{.NetworkSettings.Networks.net6.GlobalIPv6Address}}')
	assert_match "$b6" "^${u6}[0-9a-f]+$" "a picked IPv6 address"
	assert_contains "$(dk network inspect -f '{{range .Containers}}{{.IPv6Address}} {{end}}' net6)" "${u6}a/64"
	out=$(dk exec s6b sh -c "ip -6 route; ping -c1 -W3 ${u6}a")
	assert_contains "$out" "default via $gw6 dev eth0" "the IPv6 default route"
	assert_contains "$out" "1 packets received" "ping between containers over IPv6"
	assert_contains "$(dk exec s6a ping -c1 -W3 "$b6")" "1 packets received" "and back"
	assert_contains "$(dk exec s6b nslookup -type=aaaa s6a 2>&1)" "Address: ${u6}a" "AAAA from the embedded resolver"
	assert_eq "$(curl -s --max-time 3 -g "http://[$gw6]:$((HP + 30))/i")" six \
		"a published port over IPv6, from the host to the bridge's address"
	# [::1] is not covered: IPv6 has no route_localnet, so DNAT from ::1 to a container needs a
	# proxy (dockerd's docker-proxy); gantry has none.
	assert_eq "$(dk run --rm busybox ip -o -6 addr show eth0)" "" "an IPv4-only endpoint has no IPv6 address at all"
	dk rm -f s6a s6b >/dev/null
	assert_eq "$(nft list map inet "$P" pub6 | grep -c 'elements' || true)" 0 "no IPv6 port element left"
	dk network rm net6 >/dev/null
	out=$(dk network create --ipv6 nov6pool 2>&1) && false
	assert_contains "$out" "could not find an available, non-overlapping IPv6 address pool"
	out=$(dk run --rm --ip6 "${u6}5" busybox true 2>&1) && false
	assert_contains "$out" "user specified IP address is supported on user defined networks only"
	assert_not_contains "$(ip -o -6 addr show)" "inet6 $gw6/64" "network rm took the IPv6 gateway with the bridge"
}

# gantryd itself removes what it made (checked before the harness's safety cleanup runs): the
# veths with their containers, the user bridges and their rules with their networks; a stopped
# daemon leaves only the default bridge and its two tables (running containers keep theirs).
test_daemon_removes_its_links() {
	assert_eq "$(dk ps -aq | wc -l)" 0 "no container left by the tests"
	assert_eq "$(dk network ls -q -f type=custom | wc -l)" 0 "no user network left by the tests"
	assert_soon_eq 'e2e_net_links' "$BR" "only the default bridge, with no port, is left"
	local id n=0
	for id in $(cut -c1-5 "$E2E_TMP/netids") $(dk network inspect -f '{{.Id}}' bridge | cut -c1-5); do
		assert_soon_eq 'ip -o link show | grep -c ": ve$id" || true' 0 "no veth of network $id"
		n=$((n + 1))
	done
	assert_ne "$n" 1 "the ids of the networks made were recorded"
	assert_eq "$(nft list table inet "$P" | grep -c "\"${P}-" || true)" 0 "no rule names a removed bridge"
	assert_eq "$(nft list map inet "$P" pub4 | grep -c 'elements' || true)" 0 "no published port left"
	kill -TERM "$E2E_PID"
	local i
	for ((i = 0; i < 100; i++)); do t_alive "$E2E_PID" || break; sleep 0.1; done
	assert_fails t_alive "$E2E_PID"
	assert_eq "$(e2e_net_links)" "$BR" "after the daemon stopped: the default bridge alone"
	assert_eq "$(nft list tables | grep -cw "$P")" 2 "and its two tables (inet, bridge)"
}

GANTRY=${GANTRY:-/usr/local/bin/gantry}
test_gantry_cli() {
	local g=("$GANTRY" -H "unix://$E2E_SOCK") out
	"${g[@]}" network create --subnet $US3.0/24 --label cli=1 gnet >/dev/null
	dk network inspect -f '{{.Id}}' gnet >> "$E2E_TMP/netids"
	assert_eq "$("${g[@]}" network ls -q -f label=cli=1)" "$(dk network ls -q -f label=cli=1)" "network ls -q --filter"
	assert_contains "$("${g[@]}" network ls)" "gnet      bridge    local"
	"${g[@]}" run -d --name gc1 --network gnet --ip $US3.7 --network-alias gw -p 127.0.0.1:$((HP + 15)):80 \
		busybox sh -c 'echo cli > /i; httpd -f -p 80 -h /' >/dev/null
	assert_eq "$("${g[@]}" port gc1)" "80/tcp -> 127.0.0.1:$((HP + 15))" "gantry port"
	assert_eq "$("${g[@]}" port gc1 80)" "127.0.0.1:$((HP + 15))"
	assert_eq "$(curl -s --max-time 3 http://127.0.0.1:$((HP + 15))/i)" cli "gantry run -p"
	assert_eq "$("${g[@]}" network inspect gnet | jq -r '.[0].Containers[].IPv4Address')" $US3.7/24
	"${g[@]}" network connect --alias second bridge gc1
	assert_eq "$(dk inspect -f '{{len .NetworkSettings.Networks}}' gc1)" 2 "gantry network connect"
	"${g[@]}" network disconnect bridge gc1
	"${g[@]}" rm -f gc1 >/dev/null
	assert_eq "$("${g[@]}" network rm gnet)" gnet
	out=$("${g[@]}" network rm gnet 2>&1) && false
	assert_contains "$out" "network gnet not found"
}

t_run default_bridge test_default_bridge
t_run container_to_container test_container_to_container
t_run user_network_options test_user_network_options
t_run isolation test_isolation
t_run user_networks_isolated test_user_networks_isolated
t_run icc_false test_icc_false
if [[ $TARGET == gantryd ]]; then
	t_run fast_path test_fast_path
fi
t_run network_prune_filters test_network_prune_filters
t_run ipv6_dual_stack test_ipv6
t_run masquerade_and_internal test_masquerade_and_internal
t_run published_ports test_published_ports
if [[ -x $GANTRY ]] && "$GANTRY" network --help 2>&1 | grep -q connect; then
	t_run gantry_cli test_gantry_cli
else
	t_skip gantry_cli "$GANTRY has no network verbs (GANTRY=build/cmd/gantry/gantry)"
fi
t_run cleanup_stop_start test_cleanup_restart_kill
kill -TERM "$E2E_PID"; wait "$E2E_PID" 2>/dev/null
e2e_restart
e2e_crash
e2e_restart
t_run after_restart_and_kill test_after_restart

# A namespace kept alive by another process (an nsenter'd sleep) outlives its container: the
# veth goes all the same, both ends.
test_kept_namespace() {
	dk run -d --name held busybox sleep 60 >/dev/null
	local pid holder i
	pid=$(inspect held '{{.State.Pid}}')
	nsenter -t "$pid" -n sleep 30 </dev/null &
	holder=$!
	t_defer "t_kill_pid $holder 5"
	for ((i = 0; i < 50; i++)); do
		[[ $(readlink "/proc/$holder/ns/net") == "$(readlink "/proc/$pid/ns/net")" ]] && break
		sleep 0.1
	done
	assert_eq "$(ip -o link show master "$BR" | wc -l)" 1 "held's veth on the bridge"
	dk rm -f held >/dev/null
	assert_soon_eq 'ip -o link show master "$BR" | wc -l' 0 "its veth goes though its namespace is kept"
	assert_eq "$(nsenter -t "$holder" -n ip -o link show | grep -c eth0 || true)" 0 \
		"and its end inside the kept namespace too"
	t_kill_pid "$holder" 5
}
t_run kept_namespace test_kept_namespace

t_run daemon_removes_its_links test_daemon_removes_its_links

stop_daemon
kill "$OUT_HTTPD" 2>/dev/null
ip netns del "$OUT_NS"
ip link del "$OUT_HOST" 2>/dev/null
t_summary
