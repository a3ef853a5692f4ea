#!/usr/bin/env bash
# A private dockerd (and the containerd it starts) running containers with --runtime gantry=$RUNTIME.
# Test functions are called through t_run (SC2317); $(...) in single quotes is for the container shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
RUNTIME=${RUNTIME:-/usr/local/bin/gantry-runtime}
T_TIMEOUT=${T_TIMEOUT:-180}

if [[ $(id -u) -ne 0 ]]; then
	t_skip dockerd "needs root"
	t_summary
fi
for bin in dockerd docker; do
	if ! command -v "$bin" >/dev/null; then
		t_fail dockerd "$bin not installed (scripts/install-deps.sh)"
		t_summary
	fi
done
if [[ ! -x $RUNTIME ]]; then
	t_fail dockerd "runtime $RUNTIME not found or not executable"
	t_summary
fi

tmp=$(mktemp -d /tmp/gantry-dockerd.XXXXXX)
cgparent=/gantry-compat-dockerd-$$
sock=$tmp/docker.sock
# The client keeps its config (contexts, auth) out of ~/.docker.
export DOCKER_CONFIG=$tmp/client
dk() { timeout 120 docker -H "unix://$sock" "$@"; }
RUNF=(--runtime gantry --network none)
IMG=busybox:latest
dockerd_pid=
containerd_pid=
# The containerd dockerd spawns has its "opt" plugin create /opt/containerd/{bin,lib}.
opt_existed=0
[[ -e /opt/containerd ]] && opt_existed=1

cleanup() {
	local p
	if [[ -S $sock ]]; then
		# shellcheck disable=SC2046
		timeout 60 docker -H "unix://$sock" rm -f $(timeout 30 docker -H "unix://$sock" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	fi
	[[ -z $dockerd_pid && -s $tmp/docker.pid ]] && dockerd_pid=$(cat "$tmp/docker.pid")
	if [[ -n $dockerd_pid ]]; then
		t_kill_pid "$dockerd_pid" 30 || echo "# cleanup: dockerd $dockerd_pid still alive" >&2
	fi
	# dockerd stops its containerd on the way out; make sure, by the pid we saw.
	if [[ -n $containerd_pid ]] && t_alive "$containerd_pid"; then
		echo "# cleanup: containerd $containerd_pid outlived dockerd" >&2
		t_kill_pid "$containerd_pid" 10
	fi
	# Shims reparent to init, so find them by the private socket path they were given.
	for p in $(t_pids_mentioning "$tmp/"); do
		echo "# cleanup: stopping leftover $(cat "/proc/$p/comm" 2>/dev/null) $p" >&2
		t_kill_pid "$p" 5
	done
	t_rmdir_cgroups "$cgparent"
	if [[ $opt_existed -eq 0 && -d /opt/containerd ]]; then
		rmdir /opt/containerd/bin /opt/containerd/lib /opt/containerd 2>/dev/null || true
	fi
	if t_umount_under "$tmp"; then
		rm -rf --one-file-system "$tmp"
	else
		echo "# cleanup: mounts remain under $tmp, not removing it" >&2
	fi
}
t_defer cleanup

start_dockerd() {
	local i
	printf '{"deprecated-key-path": "%s"}\n' "$tmp/key.json" > "$tmp/daemon.json"
	# dockerd 20.10 starts its own containerd under --exec-root/--data-root when
	# --containerd is not given; "deprecated-key-path" (config file only) keeps /etc/docker/key.json untouched.
	dockerd --config-file "$tmp/daemon.json" --data-root "$tmp/data" --exec-root "$tmp/exec" \
		--pidfile "$tmp/docker.pid" -H "unix://$sock" \
		--add-runtime "gantry=$RUNTIME" --bridge none --iptables=false --ip6tables=false \
		--ip-masq=false --userland-proxy=false \
		--storage-driver "${DOCKER_STORAGE_DRIVER:-overlay2}" \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$cgparent" \
		> "$tmp/dockerd.log" 2>&1 </dev/null &
	dockerd_pid=$!
	for ((i = 0; i < 300; i++)); do
		if ! t_alive "$dockerd_pid"; then
			tail -20 "$tmp/dockerd.log" >&2
			return 1
		fi
		docker -H "unix://$sock" version >/dev/null 2>&1 && break
		sleep 0.1
	done
	containerd_pid=$(ps -o pid=,comm= --ppid "$dockerd_pid" | awk '$2 == "containerd" {print $1}')
	if ! docker -H "unix://$sock" version >/dev/null 2>&1; then
		tail -20 "$tmp/dockerd.log" >&2
		return 1
	fi
	dk info --format '{{json .Runtimes}}' | grep -q '"gantry"'
}

# In the main shell (not t_run) so the daemon's pids stay known to cleanup.
if start_dockerd; then
	t_ok dockerd_start
else
	t_fail dockerd_start "dockerd did not come up (log above)"
	t_summary
fi

setup_image() {
	bash "$here/../../scripts/make-busybox-rootfs.sh" "$tmp/rootfs"
	tar -C "$tmp/rootfs" -c . | dk import - "$IMG" >/dev/null
	dk image inspect "$IMG" >/dev/null
}

test_run_echo() {
	local out
	out=$(dk run --rm "${RUNF[@]}" "$IMG" echo hi)
	assert_eq "$out" "hi" "docker run output"
	assert_eq "$(dk run -d "${RUNF[@]}" --name rt "$IMG" true >/dev/null && dk wait rt)" 0 "docker wait"
	assert_eq "$(dk inspect --format '{{.HostConfig.Runtime}}' rt)" gantry "container used our runtime"
	dk rm rt >/dev/null
}

test_exit_code() {
	local rc=0
	dk run --rm "${RUNF[@]}" "$IMG" sh -c 'exit 7' || rc=$?
	assert_eq "$rc" 7 "exit status passes through"
}

test_memory_limit() {
	local pid rc
	dk run -d --name mem "${RUNF[@]}" --memory 64m "$IMG" sleep 300 >/dev/null
	assert_eq "$(dk inspect --format '{{.HostConfig.Memory}}' mem)" 67108864 "inspect HostConfig.Memory"
	pid=$(dk inspect --format '{{.State.Pid}}' mem)
	assert_eq "$(t_cgroup_read "$pid" memory memory.limit_in_bytes memory.max)" 67108864 "host cgroup memory limit"
	# tail keeps all of /dev/zero (no newline) in memory and must be OOM-killed. The kernel
	# may pick the shell as well as tail, so the user-visible fact is exit status 137.
	rc=0
	dk exec mem sh -c 'head -c 200m /dev/zero | tail >/dev/null' >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 137 "allocation past the limit is killed"
	[[ $(t_oom_kills "$pid") -ge 1 ]] || t_fail "the memory cgroup counted no OOM kill"
	dk rm -f mem >/dev/null
}

test_pids_limit() {
	local pid out rc=0
	dk run -d --name pids "${RUNF[@]}" --pids-limit 20 "$IMG" sleep 300 >/dev/null
	assert_eq "$(dk inspect --format '{{.HostConfig.PidsLimit}}' pids)" 20 "inspect PidsLimit"
	pid=$(dk inspect --format '{{.State.Pid}}' pids)
	assert_eq "$(t_cgroup_read "$pid" pids pids.max pids.max)" 20 "host cgroup pids.max"
	dk rm -f pids >/dev/null
	# ash exits on the first failed fork, so "all-started" must never print.
	out=$(dk run --rm "${RUNF[@]}" --pids-limit 20 "$IMG" \
		sh -c 'for i in $(seq 30); do sleep 10 & done; echo all-started' 2>&1) || rc=$?
	assert_not_contains "$out" "all-started" "30 background sleeps under pids-limit 20"
	assert_ne "$rc" 0 "shell fails when fork fails"
}

test_cap_drop_all() {
	local out
	out=$(dk run --rm "${RUNF[@]}" --cap-drop ALL "$IMG" grep -E 'Cap(Eff|Prm|Bnd)' /proc/self/status)
	assert_match "$out" 'CapEff:[[:space:]]+0000000000000000' "no effective capabilities"
	assert_match "$out" 'CapBnd:[[:space:]]+0000000000000000' "empty bounding set"
	out=$(dk run --rm "${RUNF[@]}" --cap-drop ALL --cap-add CHOWN "$IMG" grep CapEff /proc/self/status)
	assert_match "$out" 'CapEff:[[:space:]]+0000000000000001' "only CAP_CHOWN effective"
}

test_cap_drop_net_raw() {
	local bnd rc=0
	bnd=$(dk run --rm "${RUNF[@]}" "$IMG" awk '/CapBnd/{print $2}' /proc/self/status)
	assert_ne "$(((16#$bnd >> 13) & 1))" 0 "default bounding set has NET_RAW"
	bnd=$(dk run --rm "${RUNF[@]}" --cap-drop NET_RAW "$IMG" awk '/CapBnd/{print $2}' /proc/self/status)
	assert_eq "$(((16#$bnd >> 13) & 1))" 0 "NET_RAW gone from CapBnd ($bnd)"
	# ping needs a raw socket; loopback of the container's own netns only.
	dk run --rm "${RUNF[@]}" --cap-drop NET_RAW "$IMG" ping -c1 -W1 127.0.0.1 >/dev/null 2>&1 || rc=$?
	assert_ne "$rc" 0 "ping without NET_RAW"
}

test_exec_stdin() {
	local out rc=0
	dk run -d --name ex "${RUNF[@]}" "$IMG" sleep 300 >/dev/null
	out=$(echo 'echo from-exec' | dk exec -i ex sh)
	assert_eq "$out" "from-exec" "exec -i with piped stdin"
	dk exec ex sh -c 'exit 3' || rc=$?
	assert_eq "$rc" 3 "exec exit status"
}

test_exec_tty() {
	local cmd out
	printf -v cmd '%q ' docker -H "unix://$sock" exec -it ex sh -c 'tty; echo in-tty'
	out=$(SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null </dev/null)
	assert_contains "$out" "/dev/pts/" "exec -t gives a tty"
	assert_contains "$out" "in-tty" "exec -t output"
	printf -v cmd '%q ' docker -H "unix://$sock" exec -it ex sh
	out=$(printf 'echo typed-$((6*7))\nexit\n' | SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null)
	assert_contains "$out" "typed-42" "interactive shell over a tty"
	dk rm -f ex >/dev/null
}

test_stop_rm() {
	dk run -d --init --name st "${RUNF[@]}" "$IMG" sleep 300 >/dev/null
	assert_eq "$(dk inspect --format '{{.State.Status}}' st)" running "state after run -d"
	dk stop -t 10 st >/dev/null
	assert_eq "$(dk inspect --format '{{.State.Status}} {{.State.ExitCode}}' st)" "exited 143" "stopped by SIGTERM through docker-init"
	dk rm st >/dev/null
	if dk container inspect st >/dev/null 2>&1; then t_fail "st still exists after rm"; fi
	# pid-1 sleep ignores SIGTERM: stop must fall back to SIGKILL.
	dk run -d --name st2 "${RUNF[@]}" "$IMG" sleep 300 >/dev/null
	dk stop -t 1 st2 >/dev/null
	assert_eq "$(dk inspect --format '{{.State.Status}} {{.State.ExitCode}}' st2)" "exited 137" "SIGKILL after timeout"
	dk rm st2 >/dev/null
}

test_no_leftovers() {
	assert_eq "$(dk ps -aq | wc -l)" 0 "no containers left"
}

t_run dockerd_import_image setup_image
t_run dockerd_run_echo test_run_echo
t_run dockerd_exit_code test_exit_code
t_run dockerd_memory_limit test_memory_limit
t_run dockerd_pids_limit test_pids_limit
t_run dockerd_cap_drop_all test_cap_drop_all
t_run dockerd_cap_drop_net_raw test_cap_drop_net_raw
t_run dockerd_exec_stdin test_exec_stdin
t_run dockerd_exec_tty test_exec_tty
t_run dockerd_stop_rm test_stop_rm
t_run dockerd_no_leftovers test_no_leftovers

# Stopping the daemon by its pid must take its containerd and every shim with it.
stop_dockerd() {
	local left
	assert_eq "$(cat "$tmp/docker.pid")" "$dockerd_pid" "pidfile names the dockerd we started" || return 1
	t_kill_pid "$dockerd_pid" 30 || { t_fail "dockerd survived SIGTERM"; return 1; }
	dockerd_pid=
	if [[ -n $containerd_pid ]] && t_alive "$containerd_pid"; then
		sleep 2
		t_alive "$containerd_pid" && { t_fail "containerd $containerd_pid outlived dockerd"; return 1; }
	fi
	containerd_pid=
	left=$(t_pids_mentioning "$tmp/" | wc -l)
	assert_eq "$left" 0 "no process still uses $tmp"
}
T_IN_TEST=1
if stop_dockerd; then
	unset T_IN_TEST
	t_ok dockerd_stop
else
	unset T_IN_TEST
	t_fail dockerd_stop "see above"
fi
t_summary
