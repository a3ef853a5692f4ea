#!/usr/bin/env bash
# The daemon's network flags and start: --mtu (on the adopted default bridge), --default-address-pool, the MTU option of network create, bad values refused; orphan bridges of our prefix removed at start, nothing else.
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
	t_skip network_daemon "gantryd only (its flags and its bridges)"
	t_summary
fi
for bin in nft ip; do
	command -v $bin >/dev/null || { t_skip network_daemon "$bin not installed"; t_summary; }
done

start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null
P=$E2E_NETPREFIX
BR=${P}0
# This run's pools (other test runs may make networks at the same time).
A=$((100 + RANDOM % 150))
mtu_in() { dk run --rm --network "$1" busybox cat /sys/class/net/eth0/mtu; }

# gantryd with bad flags: refused before it serves, naming what was wrong. (Had it served, its
# bridge and tables go with the prefix.)
t_defer "ip link del ${P:0:7}z0 2>/dev/null; nft delete table inet ${P:0:7}z 2>/dev/null; nft delete table bridge ${P:0:7}z 2>/dev/null; true"
bad_flag() { # WANT-IN-MESSAGE FLAGS...
	local want=$1 out rc=0
	shift
	out=$(timeout 20 "$GANTRYD" --host "unix://$E2E_TMP/bad.sock" --root "$E2E_TMP/badroot" \
		--exec-root "$E2E_TMP/badx" --network-prefix "${P:0:7}z" "$@" 2>&1) || rc=$?
	assert_ne "$rc" 0 "gantryd $* fails"
	assert_contains "$out" "$want"
}

test_bad_flags() {
	bad_flag "--mtu: invalid MTU number 10" --mtu 10
	bad_flag "--mtu: invalid MTU number 15OO" --mtu 15OO
	bad_flag "base 10.0.0.1/16 is not an IPv4 prefix" --default-address-pool base=10.0.0.1/16,size=24
	bad_flag "size 8 must be a prefix length from the base's (16) to 30" --default-address-pool base=10.0.0.0/16,size=8
	bad_flag "unknown field bsae=10.0.0.0/16" --default-address-pool bsae=10.0.0.0/16,size=24
	bad_flag "want base=A.B.C.D/N,size=M" --default-address-pool base=10.0.0.0/16
}

test_network_mtu_option() {
	local out rc=0
	out=$(dk network create -o com.docker.network.driver.mtu=abc badmtu 2>&1) || rc=$?
	assert_ne "$rc" 0 "a non-number MTU is refused"
	assert_contains "$out" "invalid MTU number abc"
	rc=0
	out=$(dk network create -o com.docker.network.driver.mtu=40 badmtu 2>&1) || rc=$?
	assert_ne "$rc" 0 "an MTU under 68 is refused"
	assert_contains "$out" "invalid MTU number 40"
	dk network create -o com.docker.network.driver.mtu=1300 m13 >/dev/null
	assert_eq "$(mtu_in m13)" 1300 "the network's MTU on eth0"
	assert_eq "$(mtu_in bridge)" 1500 "the default bridge before --mtu"
}

t_run bad_flags test_bad_flags
t_run network_mtu_option test_network_mtu_option

# The same daemon again with --mtu and pools: the default bridge it adopts takes the MTU.
# Before, what a kill -9 between a bridge's creation and its record leaves: a bridge of our
# prefix that no network has. Beside it, links the start must leave alone: a bridge of another
# prefix and a link of ours that is no bridge.
e2e_crash
ORPHAN=$(printf '%.15s' "${P}-deadbeefcafe")
OTHER=$(printf '%.15s' "${P:0:7}q-deadbeef")
NOTBR=$(printf '%.15s' "${P}-veth00")
t_defer "ip link del $ORPHAN 2>/dev/null; ip link del $OTHER 2>/dev/null; ip link del $NOTBR 2>/dev/null; true"
ip link add "$ORPHAN" type bridge
ip link add "$OTHER" type bridge
# (a veth: this kernel may have no dummy links; its peer goes with it)
ip link add "$NOTBR" type veth peer name "$(printf '%.15s' "${P:0:7}q-peer")"
GANTRYD_ARGS="--mtu 1400 --default-address-pool base=10.$A.7.0/24,size=24 --default-address-pool base=10.$A.16.0/20,size=24"
e2e_restart

test_daemon_mtu_and_pools() {
	assert_contains "$(ip -o link show "$BR")" "mtu 1400" "the adopted bridge's MTU"
	assert_eq "$(mtu_in bridge)" 1400 "a container on the default bridge"
	assert_eq "$(dk network inspect -f '{{index .Options "com.docker.network.driver.mtu"}}' bridge)" 1400
	assert_eq "$(mtu_in m13)" 1300 "a network's own MTU stays"
	dk network create pool1 >/dev/null
	dk network create pool2 >/dev/null
	assert_eq "$(dk network inspect -f '{{(index .IPAM.Config 0).Subnet}}' pool1)" "10.$A.7.0/24" "the first pool"
	assert_eq "$(dk network inspect -f '{{(index .IPAM.Config 0).Subnet}}' pool2)" "10.$A.16.0/24" "the first pool full: the next"
	assert_eq "$(dk run --rm --network pool2 busybox ip -o -4 addr show eth0 | awk '{print $4}')" "10.$A.16.2/24"
	dk network rm pool1 pool2 m13 >/dev/null
}

test_orphan_bridges() {
	assert_fails ip link show "$ORPHAN"
	assert_ok ip link show "$OTHER"
	assert_ok ip link show "$NOTBR"
	assert_contains "$(cat "$E2E_LOG")" "removing bridge $ORPHAN"
	assert_eq "$(mtu_in m13)" 1300 "a network's own bridge stays"
}

t_run orphan_bridges test_orphan_bridges
t_run daemon_mtu_and_pools test_daemon_mtu_and_pools
ip link del "$OTHER"
ip link del "$NOTBR"

# gantryd itself removes what it made (before the harness's safety cleanup runs).
test_daemon_removes_its_links() {
	assert_soon_eq 'e2e_net_links' "${P}0" "only the default bridge, with no port, is left"
	assert_eq "$(nft list table inet "$P" | grep -c "\"${P}-" || true)" 0 "no rule names a removed bridge"
}
t_run daemon_removes_its_links test_daemon_removes_its_links

stop_daemon
t_summary
