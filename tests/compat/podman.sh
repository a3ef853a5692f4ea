#!/usr/bin/env bash
# podman driving $RUNTIME (default gantry-runtime) in a private store: run, limits, caps, exec, stop/rm.
# Test functions are called through t_run (SC2317); $(...) in single quotes is for the container shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
RUNTIME=${RUNTIME:-/usr/local/bin/gantry-runtime}
T_TIMEOUT=${T_TIMEOUT:-180}

if [[ $(id -u) -ne 0 ]]; then
	t_skip podman "needs root"
	t_summary
fi
if ! command -v podman >/dev/null; then
	t_fail podman "podman not installed (scripts/install-deps.sh)"
	t_summary
fi
if [[ ! -x $RUNTIME ]]; then
	t_fail podman "runtime $RUNTIME not found or not executable"
	t_summary
fi

tmp=$(mktemp -d /tmp/gantry-podman.XXXXXX)
# cgroupfs needs an absolute parent; a private one lets cleanup remove exactly what podman made.
cgparent=/gantry-compat-podman-$$
export CONTAINERS_CONF=$tmp/containers.conf
mkdir -p "$tmp/tmp"
# conmon writes a file "oom" into its working directory when an exec is OOM-killed: keep it in $tmp.
cd "$tmp" || exit 1

# default_ulimits = []: podman's built-in nofile=1048576 is above this machine's hard
# limit (20000 on the build machines), which even root cannot raise from inside this sandbox.
cat > "$CONTAINERS_CONF" <<EOF
[containers]
default_ulimits = []
log_driver = "k8s-file"
netns = "none"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "gantry"

[engine.runtimes]
gantry = ["$RUNTIME"]
EOF

PM=(podman --root "$tmp/root" --runroot "$tmp/runroot" --tmpdir "$tmp/tmp"
	--runtime "$RUNTIME" --cgroup-manager cgroupfs --events-backend file
	--storage-driver "${PODMAN_STORAGE_DRIVER:-overlay}")
pm() { timeout 120 "${PM[@]}" "$@"; }
# Flags every container gets: no network stack needed, private cgroup parent.
RUNF=(--network none --cgroup-parent "$cgparent")
IMG=localhost/busybox:latest

cleanup() {
	local ids conmons=() id p
	ids=$(timeout 30 "${PM[@]}" ps -aq 2>/dev/null || true)
	for id in $ids; do
		p=$(timeout 30 "${PM[@]}" inspect --format '{{.State.ConmonPid}}' "$id" 2>/dev/null || true)
		[[ $p =~ ^[1-9][0-9]*$ ]] && conmons+=("$p")
	done
	timeout 60 "${PM[@]}" rm -af -t 0 >/dev/null 2>&1 || true
	# conmon normally exits with its container; stop any that did not, by pid.
	for p in "${conmons[@]}" $(t_pids_mentioning "$tmp/"); do
		t_kill_pid "$p" 5
	done
	t_rmdir_cgroups "$cgparent"
	# overlay merged dirs, shm mounts and the storage's own bind mount.
	if t_umount_under "$tmp"; then
		rm -rf --one-file-system "$tmp"
	else
		echo "# cleanup: mounts remain under $tmp, not removing it" >&2
	fi
}
t_defer cleanup

setup_image() {
	bash "$here/../../scripts/make-busybox-rootfs.sh" "$tmp/rootfs"
	tar -C "$tmp/rootfs" -c . | pm import -q - "$IMG" >/dev/null
	pm image exists "$IMG"
}

test_run_echo() {
	local out
	out=$(pm run --rm "${RUNF[@]}" "$IMG" echo hi)
	assert_eq "$out" "hi" "podman run output"
}

test_exit_code() {
	local rc=0
	pm run --rm "${RUNF[@]}" "$IMG" sh -c 'exit 7' || rc=$?
	assert_eq "$rc" 7 "exit status passes through"
}

test_memory_limit() {
	local pid lim rc
	pm run -d --name mem "${RUNF[@]}" --memory 64m "$IMG" sleep 300 >/dev/null
	assert_eq "$(pm inspect --format '{{.HostConfig.Memory}}' mem)" 67108864 "inspect HostConfig.Memory"
	pid=$(pm inspect --format '{{.State.Pid}}' mem)
	lim=$(t_cgroup_read "$pid" memory memory.limit_in_bytes memory.max)
	assert_eq "$lim" 67108864 "host cgroup memory limit"
	# tail keeps all of /dev/zero (no newline) in memory and must be OOM-killed. The kernel
	# may pick the shell as well as tail, so the user-visible fact is exit status 137.
	rc=0
	pm exec mem sh -c 'head -c 200m /dev/zero | tail >/dev/null' >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 137 "allocation past the limit is killed"
	[[ $(t_oom_kills "$pid") -ge 1 ]] || t_fail "the memory cgroup counted no OOM kill"
	pm rm -f -t 0 mem >/dev/null
}

test_pids_limit() {
	local pid out rc=0
	pm run -d --name pids "${RUNF[@]}" --pids-limit 20 "$IMG" sleep 300 >/dev/null
	pid=$(pm inspect --format '{{.State.Pid}}' pids)
	assert_eq "$(t_cgroup_read "$pid" pids pids.max pids.max)" 20 "host cgroup pids.max"
	pm rm -f -t 0 pids >/dev/null
	# ash exits on the first failed fork, so "all-started" must never print.
	out=$(pm run --rm "${RUNF[@]}" --pids-limit 20 "$IMG" \
		sh -c 'for i in $(seq 30); do sleep 10 & done; echo all-started' 2>&1) || rc=$?
	assert_not_contains "$out" "all-started" "30 background sleeps under pids-limit 20"
	assert_ne "$rc" 0 "shell fails when fork fails"
}

test_cap_drop_all() {
	local out rc=0
	out=$(pm run --rm "${RUNF[@]}" --cap-drop ALL --cap-add CHOWN "$IMG" grep CapEff /proc/self/status)
	assert_match "$out" '^CapEff:[[:space:]]+0000000000000001$' "only CAP_CHOWN effective"
}

test_cap_drop_net_raw() {
	local bnd rc=0
	# Positive control first: podman's default set has NET_RAW (bit 13).
	bnd=$(pm run --rm "${RUNF[@]}" "$IMG" awk '/CapBnd/{print $2}' /proc/self/status)
	assert_ne "$(((16#$bnd >> 13) & 1))" 0 "default bounding set has NET_RAW"
	bnd=$(pm run --rm "${RUNF[@]}" --cap-drop NET_RAW "$IMG" awk '/CapBnd/{print $2}' /proc/self/status)
	assert_eq "$(((16#$bnd >> 13) & 1))" 0 "NET_RAW gone from CapBnd ($bnd)"
	# ping needs a raw socket; loopback of the container's own netns only.
	pm run --rm "${RUNF[@]}" --cap-drop NET_RAW "$IMG" ping -c1 -W1 127.0.0.1 >/dev/null 2>&1 || rc=$?
	assert_ne "$rc" 0 "ping without NET_RAW"
}

test_exec_stdin() {
	local out
	pm run -d --name ex "${RUNF[@]}" "$IMG" sleep 300 >/dev/null
	out=$(echo 'echo from-exec' | pm exec -i ex sh)
	assert_eq "$out" "from-exec" "exec -i with piped stdin"
	out=$(pm exec ex sh -c 'exit 3' 2>&1) && rc=0 || rc=$?
	assert_eq "$rc" 3 "exec exit status"
}

test_exec_tty() {
	local cmd out
	printf -v cmd '%q ' "${PM[@]}" exec -it ex sh -c 'tty; echo in-tty'
	out=$(SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null </dev/null)
	assert_contains "$out" "/dev/pts/" "exec -t gives a tty"
	assert_contains "$out" "in-tty" "exec -t output"
	printf -v cmd '%q ' "${PM[@]}" exec -it ex sh
	out=$(printf 'echo typed-$((6*7))\nexit\n' | SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null)
	assert_contains "$out" "typed-42" "interactive shell over a tty"
	pm rm -f -t 0 ex >/dev/null
}

test_stop_rm() {
	local st
	pm run -d --init --name st "${RUNF[@]}" "$IMG" sleep 300 >/dev/null
	assert_eq "$(pm inspect --format '{{.State.Status}}' st)" running "state after run -d"
	pm stop -t 10 st >/dev/null
	st=$(pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' st)
	assert_eq "$st" "exited 143" "stopped by SIGTERM through catatonit"
	pm rm st >/dev/null
	if pm container exists st; then t_fail "st still exists after rm"; fi
	# pid-1 sleep ignores SIGTERM: stop must fall back to SIGKILL.
	pm run -d --name st2 "${RUNF[@]}" "$IMG" sleep 300 >/dev/null
	pm stop -t 1 st2 >/dev/null
	assert_eq "$(pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' st2)" "exited 137" "SIGKILL after timeout"
	pm rm st2 >/dev/null
}

test_no_leftovers() {
	assert_eq "$(pm ps -aq | wc -l)" 0 "no containers left"
}

t_run podman_import_image setup_image
t_run podman_run_echo test_run_echo
t_run podman_exit_code test_exit_code
t_run podman_memory_limit test_memory_limit
t_run podman_pids_limit test_pids_limit
t_run podman_cap_drop_all test_cap_drop_all
t_run podman_cap_drop_net_raw test_cap_drop_net_raw
t_run podman_exec_stdin test_exec_stdin
t_run podman_exec_tty test_exec_tty
t_run podman_stop_rm test_stop_rm
t_run podman_no_leftovers test_no_leftovers
t_summary
