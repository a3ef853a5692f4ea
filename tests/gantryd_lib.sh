# Starts a private daemon for one test file, gantryd or (TARGET=dockerd) a reference dockerd, and stops it by its pid.
# shellcheck shell=bash
#
# Source tests/lib.sh first, then this file, then call start_daemon in the main shell
# (not inside t_run: the pids must stay known to the cleanup). It exports DOCKER_HOST and
# DOCKER_CONFIG, so the real `docker` CLI and docker-py talk to the private daemon.
#   TARGET=gantryd|dockerd   which daemon (default gantryd)
#   GANTRYD=/path/gantryd    (default /usr/local/bin/gantryd)
#   DOCKER=/path/docker      the CLI (default /usr/local/bin/docker, version 28)
# After start_daemon: E2E_TMP (private dir), E2E_SOCK, E2E_PID (daemon pid), E2E_LOG,
# E2E_CGROUP_PARENT (containers' cgroups are $E2E_CGROUP_PARENT/<id> in each hierarchy),
# E2E_CGROUP_PARENT_REL, E2E_BUSYBOX_TAR (made by e2e_busybox_tar), and dk (docker, with a timeout).
# The defer registered by start_daemon removes every container through the API, records
# their pids and the pids of the processes naming the private dir (shims, containerd),
# stops the daemon by its pid and then fails "<target>_stop_clean" if any of them survives.

TARGET=${TARGET:-gantryd}
GANTRYD=${GANTRYD:-/usr/local/bin/gantryd}
DOCKER=${DOCKER:-/usr/local/bin/docker}
E2E_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
E2E_TMP=
E2E_SOCK=
E2E_PID=
E2E_LOG=
E2E_CGROUP_PARENT=
E2E_CONTAINERD_PID=
# Each test daemon has its own bridge (<prefix>0) and nftables tables (<prefix>), so that test
# daemons, the one setup.sh runs and other helpers' never share or flush each other's.
E2E_NETPREFIX=

dk() { timeout -k 5 "${DK_TIMEOUT:-60}" "$DOCKER" "$@"; }

# Prints why the target cannot run here (and returns 1), or returns 0.
e2e_missing() {
	if [[ $(id -u) -ne 0 ]]; then
		echo "needs root"
		return 1
	fi
	local bin
	for bin in "$DOCKER" curl jq tar sha256sum; do
		command -v "$bin" >/dev/null || { echo "$bin not installed (scripts/install-deps.sh)"; return 1; }
	done
	case $TARGET in
	gantryd) [[ -x $GANTRYD ]] || { echo "$GANTRYD not built (meson install)"; return 1; } ;;
	dockerd) command -v dockerd >/dev/null || { echo "dockerd not installed (docker.io)"; return 1; } ;;
	*) echo "unknown TARGET=$TARGET (gantryd or dockerd)"; return 1 ;;
	esac
	return 0
}

e2e_ping() { curl -sf --max-time 2 --unix-socket "$E2E_SOCK" http://d/_ping >/dev/null 2>&1; }

# Waits up to 30 s for /_ping; fails early when the daemon died.
e2e_wait_ping() {
	local i
	for ((i = 0; i < 300; i++)); do
		t_alive "$E2E_PID" || { tail -20 "$E2E_LOG" >&2; return 1; }
		e2e_ping && return 0
		sleep 0.1
	done
	tail -20 "$E2E_LOG" >&2
	return 1
}

e2e_mktmp() {
	# Short: socket paths under it (shims/<64-hex id>.sock) must fit sun_path's 108 bytes.
	E2E_TMP=$(mktemp -d "/tmp/ge2e-${TARGET:0:1}.XXXXXX")
	E2E_SOCK=$E2E_TMP/run/daemon.sock
	E2E_LOG=$E2E_TMP/daemon.log
	mkdir -p "$E2E_TMP/run"
	export DOCKER_HOST=unix://$E2E_SOCK
	# The client keeps its config (contexts, auth) out of ~/.docker.
	export DOCKER_CONFIG=$E2E_TMP/client
}

# Prints this daemon's variables as shell assignments: `eval` them to switch back to it
# (bench/engine.sh runs two daemons) or to stop it from a defer.
e2e_state() {
	local v
	for v in TARGET E2E_TMP E2E_SOCK E2E_PID E2E_LOG E2E_CGROUP_PARENT E2E_CGROUP_PARENT_REL \
		E2E_CONTAINERD_PID E2E_OPT_EXISTED E2E_NETPREFIX; do
		printf '%s=%q; ' "$v" "${!v:-}"
	done
	printf 'export DOCKER_HOST=%q DOCKER_CONFIG=%q; ' "unix://$E2E_SOCK" "$E2E_TMP/client"
}

# gantryd's --network-prefix for this test file: 1-8 lower-case letters and digits.
e2e_netprefix() { printf 'gt%x' $((($$ * 7919 + RANDOM) % 0xffffff)); }

# The links of this test gantryd (its bridges <prefix>0 and <prefix>-<id>, and veths ve<net><ctr>
# on them: their host ends are named by neither prefix, so bridge ports are listed as
# "<bridge>:<port>"), sorted, one a line.
e2e_net_links() {
	[[ -n $E2E_NETPREFIX ]] || return 0
	local b
	for b in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
		grep -E "^${E2E_NETPREFIX}(0|-)"); do
		echo "$b"
		ip -o link show master "$b" 2>/dev/null | awk -F': ' -v b="$b" '{sub(/@.*/, "", $2); print b ":" $2}'
	done | sort
}

# The bridges and nftables tables of a stopped test gantryd (they outlive it on purpose: its
# containers keep their network across a daemon restart).
e2e_net_cleanup() {
	[[ -n $E2E_NETPREFIX ]] || return 0
	local l
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' |
		grep -E "^${E2E_NETPREFIX}(0|-)"); do
		ip link del "$l" 2>/dev/null
	done
	nft delete table inet "$E2E_NETPREFIX" 2>/dev/null
	nft delete table bridge "$E2E_NETPREFIX" 2>/dev/null
	return 0
}

start_gantryd() {
	e2e_mktmp
	E2E_CONTAINERD_PID= # (a dockerd started before in the same file had one)
	E2E_CGROUP_PARENT_REL=gantry
	E2E_NETPREFIX=$(e2e_netprefix)
	# GANTRYD_ARGS: more flags, split on spaces (--insecure-registry H --certs-dir D).
	# shellcheck disable=SC2086
	"$GANTRYD" --host "unix://$E2E_SOCK" --root "$E2E_TMP/root" --exec-root "$E2E_TMP/x" \
		--network-prefix "$E2E_NETPREFIX" ${GANTRYD_ARGS:-} \
		--pidfile "$E2E_TMP/daemon.pid" --log-level "${GANTRYD_LOG_LEVEL:-debug}" \
		> "$E2E_LOG" 2>&1 </dev/null &
	E2E_PID=$!
	e2e_wait_ping
}

# A crash of the daemon we started: SIGKILL, then its pid is reaped (main shell, gantryd only).
e2e_crash() {
	kill -KILL "$E2E_PID" 2>/dev/null
	wait "$E2E_PID" 2>/dev/null
}

# The same gantryd again on the same roots and socket (main shell, not inside t_run).
e2e_restart() {
	# shellcheck disable=SC2086
	"$GANTRYD" --host "unix://$E2E_SOCK" --root "$E2E_TMP/root" --exec-root "$E2E_TMP/x" \
		--network-prefix "$E2E_NETPREFIX" ${GANTRYD_ARGS:-} \
		--pidfile "$E2E_TMP/daemon.pid" --log-level "${GANTRYD_LOG_LEVEL:-debug}" \
		>> "$E2E_LOG" 2>&1 </dev/null &
	E2E_PID=$!
	e2e_wait_ping
}

start_dockerd() {
	e2e_mktmp
	E2E_CGROUP_PARENT_REL=gantry-e2e-dockerd-$$
	# The containerd dockerd spawns has its "opt" plugin create /opt/containerd/{bin,lib}.
	E2E_OPT_EXISTED=0
	[[ -e /opt/containerd ]] && E2E_OPT_EXISTED=1
	printf '{"deprecated-key-path": "%s"}\n' "$E2E_TMP/key.json" > "$E2E_TMP/daemon.json"
	# As tests/compat/dockerd.sh: its own containerd under --exec-root/--data-root, no bridge,
	# no iptables, cgroupfs under a private parent, /etc/docker untouched.
	# shellcheck disable=SC2086
	dockerd --config-file "$E2E_TMP/daemon.json" --data-root "$E2E_TMP/root" \
		--exec-root "$E2E_TMP/exec" --pidfile "$E2E_TMP/daemon.pid" -H "unix://$E2E_SOCK" \
		--bridge none --iptables=false --ip6tables=false --ip-masq=false --userland-proxy=false \
		--storage-driver "${DOCKER_STORAGE_DRIVER:-overlay2}" \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "/$E2E_CGROUP_PARENT_REL" \
		${DOCKERD_ARGS:-} > "$E2E_LOG" 2>&1 </dev/null &
	E2E_PID=$!
	e2e_wait_ping || return 1
	# /_ping answers before the API is fully up on dockerd: wait for version too.
	local i
	for ((i = 0; i < 100; i++)); do
		dk version >/dev/null 2>&1 && break
		sleep 0.1
	done
	E2E_CONTAINERD_PID=$(ps -o pid=,comm= --ppid "$E2E_PID" | awk '$2 == "containerd" {print $1}')
	dk version >/dev/null
}

# Starts $TARGET and records "<target>_start"; on failure prints the summary and exits.
start_daemon() {
	local why
	if ! why=$(e2e_missing); then
		t_skip "${TARGET}_start" "$why"
		t_summary
	fi
	local ok=0
	"start_$TARGET" && ok=1
	E2E_CGROUP_PARENT=/$E2E_CGROUP_PARENT_REL
	# Baked-in values: a later start_daemon (of the other target) does not change what this stops.
	t_defer "$(e2e_state) e2e_stop"
	if [[ $ok -eq 1 ]]; then
		t_ok "${TARGET}_start"
	else
		t_fail "${TARGET}_start" "$TARGET did not answer /_ping (log above)"
		t_summary
	fi
}

# Pid of a running container's init, or nothing.
e2e_container_pid() {
	local p
	p=$(timeout 30 "$DOCKER" -H "unix://$E2E_SOCK" inspect -f '{{.State.Pid}}' "$1" 2>/dev/null) || return 0
	[[ $p =~ ^[1-9][0-9]*$ ]] && echo "$p"
	return 0
}

# The memory cgroup dir of container ID (v1 hierarchy on hybrid hosts, else the v2 tree).
e2e_cgroup_dir() { # CONTROLLER ID
	if [[ -d /sys/fs/cgroup/$1 ]]; then
		echo "/sys/fs/cgroup/$1$E2E_CGROUP_PARENT/$2"
	else
		echo "/sys/fs/cgroup$E2E_CGROUP_PARENT/$2"
	fi
}

# dockerd's parent cgroup, once dockerd and containerd have exited: an exiting dockerd (or a
# shim of its containerd still winding down) can make it again just after an rmdir, so it is
# removed, then looked at again a moment later, a few times.
e2e_rmdir_cgroup_parent() {
	local i d again
	for ((i = 0; i < 5; i++)); do
		t_rmdir_cgroups "/$E2E_CGROUP_PARENT_REL" || true
		sleep 0.3
		again=0
		for d in /sys/fs/cgroup/*/"$E2E_CGROUP_PARENT_REL" /sys/fs/cgroup/"$E2E_CGROUP_PARENT_REL"; do
			[[ -d $d ]] && again=1
		done
		[[ $again -eq 0 ]] && return 0
	done
	return 1
}

# The defer: remove containers, stop the daemon by pid, then check nothing of it is left.
e2e_stop() {
	[[ -n $E2E_TMP && -d $E2E_TMP ]] || return 0
	local ids=() pids=() p pp id i left=() problems=() cg
	if [[ -n $E2E_PID ]] && t_alive "$E2E_PID" && e2e_ping; then
		mapfile -t ids < <(timeout 30 "$DOCKER" -H "unix://$E2E_SOCK" ps -aq --no-trunc 2>/dev/null)
		for id in "${ids[@]}"; do
			p=$(e2e_container_pid "$id")
			[[ -n $p ]] || continue
			pids+=("$p")
			# Its parent when that is a shim (not whatever adopted it if the shim died).
			pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
			[[ $(cat "/proc/$pp/comm" 2>/dev/null) == *shim* ]] && pids+=("$pp")
		done
		if [[ ${#ids[@]} -gt 0 ]]; then
			t_log "removing ${#ids[@]} container(s) left by the tests"
			 timeout 60 "$DOCKER" -H "unix://$E2E_SOCK" rm -f "${ids[@]}" >/dev/null 2>&1 || problems+=("docker rm -f of the leftovers failed")
		fi
	fi
	# Shims (and dockerd's containerd) are found by the private dir their command line names.
	for p in $(t_pids_mentioning "$E2E_TMP/"); do
		[[ $p == "$E2E_PID" || $p == "$E2E_CONTAINERD_PID" ]] && continue
		pids+=("$p")
	done
	if [[ -n $E2E_PID ]]; then
		if [[ -s $E2E_TMP/daemon.pid && $(cat "$E2E_TMP/daemon.pid") != "$E2E_PID" ]]; then
			problems+=("pidfile says $(cat "$E2E_TMP/daemon.pid"), we started $E2E_PID")
		fi
		t_kill_pid "$E2E_PID" 30 || problems+=("$TARGET $E2E_PID needed SIGKILL")
	fi
	if [[ -n $E2E_CONTAINERD_PID ]] && t_alive "$E2E_CONTAINERD_PID"; then
		sleep 2
		t_alive "$E2E_CONTAINERD_PID" && problems+=("containerd outlived dockerd")
		t_kill_pid "$E2E_CONTAINERD_PID" 10
	fi
	# Give exiting shims a moment, then stop (by the recorded pids) whatever is still there.
	for p in "${pids[@]}"; do
		[[ $p =~ ^[0-9]+$ && $p -gt 1 ]] || continue
		for ((i = 0; i < 30; i++)); do t_alive "$p" || break; sleep 0.1; done
		if t_alive "$p"; then
			left+=("$p($(cat "/proc/$p/comm" 2>/dev/null))")
			t_kill_pid "$p" 5
		fi
	done
	[[ ${#left[@]} -gt 0 ]] && problems+=("left running: ${left[*]}")
	[[ $TARGET == gantryd ]] && e2e_net_cleanup
	for id in "${ids[@]}"; do
		cg=$(e2e_cgroup_dir memory "$id")
		[[ -d $cg ]] && problems+=("cgroup $cg remains") && rmdir "$cg" 2>/dev/null
	done
	if [[ $TARGET == dockerd ]]; then
		e2e_rmdir_cgroup_parent || problems+=("cgroup /$E2E_CGROUP_PARENT_REL remains")
		if [[ ${E2E_OPT_EXISTED:-1} -eq 0 && -d /opt/containerd ]]; then
			rmdir /opt/containerd/bin /opt/containerd/lib /opt/containerd 2>/dev/null || true
		fi
	fi
	if findmnt -rn -o TARGET | grep -qF "$E2E_TMP/"; then
		problems+=("mounts remain under $E2E_TMP")
	fi
	if t_umount_under "$E2E_TMP"; then
		if [[ ${#problems[@]} -gt 0 || -n ${E2E_KEEP:-} ]]; then
			# Keep the daemon's log for the report; the rest can go.
			cp "$E2E_LOG" "/tmp/gantry-e2e-$TARGET-$$.log" 2>/dev/null &&
				t_log "daemon log kept as /tmp/gantry-e2e-$TARGET-$$.log"
		fi
		rm -rf --one-file-system "$E2E_TMP"
	else
		problems+=("could not unmount under $E2E_TMP: left in place")
	fi
	E2E_TMP=
	if [[ ${#problems[@]} -gt 0 ]]; then
		t__record FAIL "${TARGET}_stop_clean" "$(IFS=';'; echo "${problems[*]}")"
	else
		t__record PASS "${TARGET}_stop_clean"
	fi
}

# Call in the main shell before t_summary, so the clean-stop result is counted
# (defers run in a subshell); the defer then finds nothing to do.
stop_daemon() {
	e2e_stop
}

# Builds the busybox docker-archive once per test file; prints its path.
e2e_busybox_tar() {
	E2E_BUSYBOX_TAR=$E2E_TMP/busybox.tar
	[[ -s $E2E_BUSYBOX_TAR ]] || bash "$E2E_TOP/scripts/make-busybox-image.sh" "$E2E_BUSYBOX_TAR" >/dev/null
	echo "$E2E_BUSYBOX_TAR"
}
