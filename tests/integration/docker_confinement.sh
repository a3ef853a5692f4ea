#!/usr/bin/env bash
# Docker's default confinement as the real docker CLI sees it: seccomp default and profiles, privileged (TARGET=dockerd: the same against a private dockerd).
# Test functions are called through t_run (SC2317); $(...) in single quotes is for the container shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
T_TIMEOUT=${T_TIMEOUT:-120}

start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null

rc_out() {
	local rc=0 out
	out=$("$@" 2>&1) || rc=$?
	printf 'rc=%s\n%s\n' "$rc" "$out"
}

test_seccomp_default() {
	assert_eq "$(dk run --rm busybox sh -c 'grep ^Seccomp: /proc/self/status')" $'Seccomp:\t2' "a filter is on by default"
	assert_contains "$(rc_out dk run --rm busybox unshare -U true)" "Operation not permitted" "new namespaces refused by default"
	assert_contains "$(rc_out dk run --rm --cap-add SYS_ADMIN busybox unshare -U true)" "rc=0" "given back with CAP_SYS_ADMIN"
	assert_eq "$(dk run --rm --security-opt seccomp=unconfined busybox sh -c 'grep ^Seccomp: /proc/self/status')" $'Seccomp:\t0' "seccomp=unconfined"
}

test_seccomp_profile() {
	printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}' > "$E2E_TMP/nomkdir.json"
	assert_contains "$(rc_out dk run --rm --security-opt seccomp="$E2E_TMP/nomkdir.json" busybox mkdir /x)" "Operation not permitted" "a custom profile applies"
	assert_eq "$(dk run --rm --security-opt seccomp="$E2E_TMP/nomkdir.json" busybox sh -c 'touch /y && echo ok')" ok "what it allows still works"
}

# The first start compiles the default profile and caches the program, later ones load it: it
# must still refuse what it refused, and another profile must get its own program.
test_seccomp_cached() {
	local i out cache="$E2E_TMP/x/runtime/seccomp cache" files=()
	for i in 1 2; do
		assert_contains "$(rc_out dk run --rm --network none busybox unshare -U true)" "Operation not permitted" "start $i: new namespaces refused"
		# gantryd only: the second start read the file the first wrote (same inode, none added).
		if [[ $TARGET == gantryd ]]; then files[i]=$(ls -i "$cache"); fi
	done
	if [[ $TARGET == gantryd ]]; then
		assert_eq "${files[2]}" "${files[1]}" "the second start loaded the cached program"
	fi
	printf '{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":28}]}' > "$E2E_TMP/mkdir28.json"
	out=$(dk run --rm --network none --security-opt seccomp="$E2E_TMP/mkdir28.json" busybox sh -c 'mkdir /x; unshare -U true && echo unshare-ok' 2>&1)
	assert_contains "$out" "No space left on device" "the custom profile's own errno"
	assert_contains "$out" "unshare-ok" "not the default program"
	if [[ $TARGET == gantryd ]]; then
		assert_eq "$(find "$cache" -name "*.bpf" | wc -l)" "$(($(wc -l <<<"${files[1]}") + 1))" "a program of its own"
	fi
	out=$(rc_out dk run --rm --network none busybox sh -c 'mkdir /x && echo mkdir-ok; unshare -U true')
	assert_contains "$out" "mkdir-ok" "the default again after it: mkdir allowed"
	assert_contains "$out" "Operation not permitted" "the default again after it: unshare refused"
}

test_privileged() {
	local host_bnd
	host_bnd=$(awk '/^CapBnd/ {print $2}' /proc/self/status)
	assert_eq "$(dk run --rm --privileged busybox sh -c 'grep ^CapEff /proc/self/status')" "CapEff:	$host_bnd" "privileged: every capability the daemon holds"
	assert_eq "$(dk run --rm --privileged busybox sh -c 'grep ^Seccomp: /proc/self/status')" $'Seccomp:\t0' "privileged: no filter"
	assert_eq "$(dk run --rm busybox sh -c 'grep ^CapEff /proc/self/status')" $'CapEff:\t00000000a80425fb' "the default capability set"
}

test_devices() {
	assert_eq "$(dk run --rm --device /dev/zero:/dev/myzero busybox sh -c 'head -c 3 /dev/myzero | od -An -tx1 | tr -d " "')" 000000 "--device maps a host device under a new name"
	assert_contains "$(rc_out dk run --rm --device /etc/hostname busybox true)" "not a device node" "a file that is not a device"
	assert_contains "$(rc_out dk run --rm busybox sh -c 'mknod /dev/x c 1 1 && head -c 1 /dev/x')" "Operation not permitted" "other devices stay out of reach"
}

t_run "$TARGET:confine_seccomp_default" test_seccomp_default
t_run "$TARGET:confine_seccomp_profile" test_seccomp_profile
t_run "$TARGET:confine_seccomp_cached" test_seccomp_cached
t_run "$TARGET:confine_privileged" test_privileged
t_run "$TARGET:confine_devices" test_devices
stop_daemon
t_summary
