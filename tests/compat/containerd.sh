#!/usr/bin/env bash
# A private containerd whose runc shim drives $RUNTIME (ctr --runc-binary): run, limits, caps, exec, kill/delete.
# Test functions are called through t_run (SC2317); $(...) in single quotes is for the container shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/containerd_lib.sh
. "$here/../containerd_lib.sh"
RUNTIME=${RUNTIME:-/usr/local/bin/gantry-runtime}
T_TIMEOUT=${T_TIMEOUT:-180}

if [[ $(id -u) -ne 0 ]]; then
	t_skip containerd "needs root"
	t_summary
fi
for bin in containerd ctr containerd-shim-runc-v2; do
	if ! command -v "$bin" >/dev/null; then
		t_fail containerd "$bin not installed (scripts/install-deps.sh)"
		t_summary
	fi
done
if [[ ! -x $RUNTIME ]]; then
	t_fail containerd "runtime $RUNTIME not found or not executable"
	t_summary
fi

tmp=$(mktemp -d /tmp/gantry-containerd.XXXXXX)
cgparent=/gantry-compat-containerd-$$
sock=$tmp/c.sock
IMG=docker.io/library/busybox:latest
containerd_pid=
ct() { timeout 120 ctr --address "$sock" "$@"; }
# ctr run with our runtime and a cgroup under the private parent: cr ID [run flags] IMAGE ID CMD...
cr() {
	local id=$1
	shift
	ct run --runc-binary "$RUNTIME" --cgroup "$cgparent/$id" "$@"
}
# ctr 1.6 has no --cap-drop ALL: drop each capability of its default set instead.
DEFAULT_CAPS=(CAP_CHOWN CAP_DAC_OVERRIDE CAP_FSETID CAP_FOWNER CAP_MKNOD CAP_NET_RAW CAP_SETGID
	CAP_SETUID CAP_SETFCAP CAP_SETPCAP CAP_NET_BIND_SERVICE CAP_SYS_CHROOT CAP_KILL CAP_AUDIT_WRITE)

cleanup() {
	local id p
	if [[ -n $containerd_pid ]] && t_alive "$containerd_pid"; then
		for id in $(timeout 30 ctr --address "$sock" task ls -q 2>/dev/null); do
			timeout 30 ctr --address "$sock" task kill -s SIGKILL "$id" >/dev/null 2>&1 || true
		done
		sleep 0.5
		for id in $(timeout 30 ctr --address "$sock" container ls -q 2>/dev/null); do
			timeout 30 ctr --address "$sock" task delete -f "$id" >/dev/null 2>&1 || true
			timeout 30 ctr --address "$sock" container delete "$id" >/dev/null 2>&1 || true
		done
		t_kill_pid "$containerd_pid" 20 || echo "# cleanup: containerd $containerd_pid still alive" >&2
	fi
	# Shims outlive containerd by design (they reparent to init): find them by our socket path.
	for p in $(t_pids_mentioning "$tmp/"); do
		echo "# cleanup: stopping leftover $(cat "/proc/$p/comm" 2>/dev/null) $p" >&2
		t_kill_pid "$p" 5
	done
	t_rmdir_cgroups "$cgparent"
	if t_umount_under "$tmp"; then
		rm -rf --one-file-system "$tmp"
	else
		echo "# cleanup: mounts remain under $tmp, not removing it" >&2
	fi
}
t_defer cleanup

start_containerd() {
	local rc=0
	ctd_start "$tmp" || rc=1
	containerd_pid=$CTD_PID
	return $rc
}

# In the main shell (not t_run) so the daemon's pid stays known to cleanup.
if start_containerd; then
	t_ok containerd_start
else
	t_fail containerd_start "containerd did not come up (log above)"
	t_summary
fi

# A docker-save archive written by hand: manifest.json, config <sha>.json, <sha>/layer.tar.
setup_image() {
	local d=$tmp/img lsha csha
	bash "$here/../../scripts/make-busybox-rootfs.sh" "$tmp/rootfs"
	mkdir -p "$d"
	tar -C "$tmp/rootfs" -cf "$d/layer.tar" .
	lsha=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
	mkdir -p "$d/$lsha"
	mv "$d/layer.tar" "$d/$lsha/layer.tar"
	jq -cn --arg diff "sha256:$lsha" '{architecture: "amd64", os: "linux",
		config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"]},
		rootfs: {type: "layers", diff_ids: [$diff]}}' > "$d/config.json"
	csha=$(sha256sum "$d/config.json" | cut -d' ' -f1)
	mv "$d/config.json" "$d/$csha.json"
	jq -cn --arg c "$csha.json" --arg l "$lsha/layer.tar" \
		'[{Config: $c, RepoTags: ["busybox:latest"], Layers: [$l]}]' > "$d/manifest.json"
	tar -C "$d" -cf "$tmp/busybox.tar" manifest.json "$csha.json" "$lsha"
	ct images import "$tmp/busybox.tar" >/dev/null
	assert_contains "$(ct images ls -q)" "$IMG" "image imported"
}

# Pid of a running task, from `ctr task ls`.
task_pid() { ct task ls | awk -v id="$1" '$1 == id {print $2}'; }

# Kills and deletes a task and its container.
rm_task() {
	ct task kill -s SIGKILL "$1" >/dev/null 2>&1 || true
	ct task delete -f "$1" >/dev/null 2>&1 || true
	ct container delete "$1" >/dev/null
}

test_run_echo() {
	local out
	out=$(cr t1 --rm "$IMG" t1 echo hi)
	assert_eq "$out" "hi" "ctr run output"
}

test_exit_code() {
	local rc=0
	cr t2 --rm "$IMG" t2 sh -c 'exit 7' || rc=$?
	assert_eq "$rc" 7 "exit status passes through"
}

test_memory_limit() {
	local pid rc
	cr mem -d --memory-limit 67108864 "$IMG" mem sleep 300 >/dev/null
	pid=$(task_pid mem)
	assert_eq "$(t_cgroup_read "$pid" memory memory.limit_in_bytes memory.max)" 67108864 "host cgroup memory limit"
	# tail keeps all of /dev/zero (no newline) in memory and must be OOM-killed. The kernel
	# may pick the shell as well as tail, so the user-visible fact is exit status 137.
	rc=0
	ct task exec --exec-id oomtest mem sh -c 'head -c 200m /dev/zero | tail >/dev/null' >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 137 "allocation past the limit is killed"
	[[ $(t_oom_kills "$pid") -ge 1 ]] || t_fail "the memory cgroup counted no OOM kill"
	rm_task mem
}

# ctr has no pids flag: run from a full spec (ctr oci spec + jq) with linux.resources.pids.
test_pids_limit() {
	local out rc=0 pid
	spec() { # ID ARGS-JSON
		ct oci spec | jq --arg root "$tmp/rootfs" --arg cg "$cgparent/$1" --argjson args "$2" '
			.root = {path: $root, readonly: false} | .process.args = $args | .process.terminal = false
			| .process.env = ["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]
			| .linux.resources.pids = {limit: 20} | .linux.cgroupsPath = $cg' > "$tmp/$1.json"
	}
	spec pids '["sleep", "300"]'
	ct run -d --runc-binary "$RUNTIME" --config "$tmp/pids.json" pids >/dev/null
	pid=$(task_pid pids)
	assert_eq "$(t_cgroup_read "$pid" pids pids.max pids.max)" 20 "host cgroup pids.max"
	rm_task pids
	# ash exits on the first failed fork, so "all-started" must never print.
	spec bomb '["sh", "-c", "for i in $(seq 30); do sleep 10 & done; echo all-started"]'
	out=$(ct run --rm --runc-binary "$RUNTIME" --config "$tmp/bomb.json" bomb 2>&1) || rc=$?
	assert_not_contains "$out" "all-started" "30 background sleeps under pids limit 20"
	assert_ne "$rc" 0 "shell fails when fork fails"
}

test_cap_drop_all() {
	local out drops=() c
	for c in "${DEFAULT_CAPS[@]}"; do drops+=(--cap-drop "$c"); done
	out=$(cr c1 --rm "${drops[@]}" "$IMG" c1 grep -E 'Cap(Eff|Bnd)' /proc/self/status)
	assert_match "$out" 'CapEff:[[:space:]]+0000000000000000' "no effective capabilities"
	assert_match "$out" 'CapBnd:[[:space:]]+0000000000000000' "empty bounding set"
	# ctr applies drops after adds, so "all but CHOWN" is dropped instead.
	drops=()
	for c in "${DEFAULT_CAPS[@]}"; do [[ $c == CAP_CHOWN ]] || drops+=(--cap-drop "$c"); done
	out=$(cr c2 --rm "${drops[@]}" "$IMG" c2 grep CapEff /proc/self/status)
	assert_match "$out" 'CapEff:[[:space:]]+0000000000000001' "only CAP_CHOWN effective"
}

test_cap_drop_net_raw() {
	local bnd rc=0
	bnd=$(cr n1 --rm "$IMG" n1 awk '/CapBnd/{print $2}' /proc/self/status)
	assert_ne "$(((16#$bnd >> 13) & 1))" 0 "default bounding set has NET_RAW"
	bnd=$(cr n2 --rm --cap-drop CAP_NET_RAW "$IMG" n2 awk '/CapBnd/{print $2}' /proc/self/status)
	assert_eq "$(((16#$bnd >> 13) & 1))" 0 "NET_RAW gone from CapBnd ($bnd)"
	# ping needs a raw socket; loopback of the container's own netns only.
	cr n3 --rm --cap-drop CAP_NET_RAW "$IMG" n3 ping -c1 -W1 127.0.0.1 >/dev/null 2>&1 || rc=$?
	assert_ne "$rc" 0 "ping without NET_RAW"
}

test_exec() {
	local out rc=0
	cr ex -d "$IMG" ex sleep 300 >/dev/null
	out=$(ct task exec --exec-id e1 ex sh -c 'echo from-exec')
	assert_eq "$out" "from-exec" "task exec output"
	out=$(echo 'echo piped' | ct task exec --exec-id e2 ex sh)
	assert_eq "$out" "piped" "task exec with piped stdin"
	ct task exec --exec-id e3 ex sh -c 'exit 3' || rc=$?
	assert_eq "$rc" 3 "exec exit status"
}

test_exec_tty() {
	local cmd out
	printf -v cmd '%q ' ctr --address "$sock" task exec -t --exec-id t1 ex sh -c 'tty; echo in-tty'
	out=$(SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null </dev/null)
	assert_contains "$out" "/dev/pts/" "exec -t gives a tty"
	assert_contains "$out" "in-tty" "exec -t output"
	printf -v cmd '%q ' ctr --address "$sock" task exec -t --exec-id t2 ex sh
	out=$(printf 'echo typed-$((6*7))\nexit\n' | SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null)
	assert_contains "$out" "typed-42" "interactive shell over a tty"
	rm_task ex
}

test_run_tty() {
	local cmd out
	printf -v cmd '%q ' ctr --address "$sock" run --rm -t --runc-binary "$RUNTIME" --cgroup "$cgparent/rt" "$IMG" rt sh -c 'tty; echo run-tty'
	out=$(SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null </dev/null)
	assert_contains "$out" "/dev/pts/" "run -t gives a tty"
	assert_contains "$out" "run-tty" "run -t output"
}

test_kill_delete() {
	local st out
	cr k1 -d "$IMG" k1 sleep 300 >/dev/null
	assert_eq "$(ct task ls | awk '$1 == "k1" {print $3}')" RUNNING "task running"
	# pid-1 sleep has no SIGTERM handler, so only SIGKILL stops it.
	ct task kill -s SIGTERM k1
	sleep 0.5
	assert_eq "$(ct task ls | awk '$1 == "k1" {print $3}')" RUNNING "SIGTERM ignored by pid 1"
	ct task kill -s SIGKILL k1
	for _ in 1 2 3 4 5 6 7 8 9 10; do
		st=$(ct task ls | awk '$1 == "k1" {print $3}')
		[[ $st == STOPPED ]] && break
		sleep 0.2
	done
	assert_eq "$st" STOPPED "task stopped by SIGKILL"
	out=$(ct task delete k1 2>&1)
	assert_contains "$out" "137" "exit code 137 reported"
	ct container delete k1
	assert_not_contains "$(ct container ls -q)" k1 "container gone"
}

test_no_leftovers() {
	assert_eq "$(ct container ls -q | wc -l)" 0 "no containers left"
}

t_run containerd_import_image setup_image
t_run containerd_run_echo test_run_echo
t_run containerd_exit_code test_exit_code
t_run containerd_memory_limit test_memory_limit
t_run containerd_pids_limit test_pids_limit
t_run containerd_cap_drop_all test_cap_drop_all
t_run containerd_cap_drop_net_raw test_cap_drop_net_raw
t_run containerd_exec test_exec
t_run containerd_exec_tty test_exec_tty
t_run containerd_run_tty test_run_tty
t_run containerd_kill_delete test_kill_delete
t_run containerd_no_leftovers test_no_leftovers

# Stopping containerd by its pid; shims must have exited with their tasks.
stop_containerd() {
	t_kill_pid "$containerd_pid" 20 || { t_fail "containerd survived SIGTERM"; return 1; }
	containerd_pid=
	assert_eq "$(t_pids_mentioning "$tmp/" | wc -l)" 0 "no process (shim) still uses $tmp"
}
T_IN_TEST=1
if stop_containerd; then
	unset T_IN_TEST
	t_ok containerd_stop
else
	unset T_IN_TEST
	t_fail containerd_stop "see above"
fi
t_summary
