#!/usr/bin/env bash
# HostConfig as a user sees it through the real docker CLI against gantryd (TARGET=dockerd: the same against a private dockerd): mounts, limits, cgroups, namespaces, confinement, logs, log drivers, image health checks.
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

cpid() { dk inspect -f '{{.State.Pid}}' "$1"; }

# A cgroup file of a running container: the v1 controller's file or the v2 one.
cg_read() { # CONTAINER CONTROLLER V1FILE V2FILE
	t_cgroup_read "$(cpid "$1")" "$2" "$3" "$4"
}

test_tmpfs() {
	local out
	out=$(dk run --rm --tmpfs /scratch:size=2m,mode=1770 busybox sh -c \
		'grep " /scratch " /proc/mounts; df -k /scratch | tail -1; stat -c %a /scratch; echo hi > /scratch/f && cat /scratch/f')
	assert_match "$out" '^tmpfs /scratch tmpfs [^ ]*size=2048k' "--tmpfs: a tmpfs of 2 MiB at /scratch"
	assert_match "$(sed -n 2p <<<"$out")" '^tmpfs +2048 ' "df sees 2048 KiB"
	assert_eq "$(sed -n 3p <<<"$out")" 1770 "tmpfs mode"
	assert_eq "$(sed -n 4p <<<"$out")" hi "writable"
	out=$(dk run --rm --mount type=tmpfs,target=/m,tmpfs-size=1m busybox sh -c 'grep " /m " /proc/mounts')
	assert_match "$out" '^tmpfs /m tmpfs [^ ]*size=1024k' "--mount type=tmpfs"
}

test_mount_bind() {
	local d out
	d=$(mktemp -d "$E2E_TMP/bind.XXXXXX")
	echo from-host > "$d/f"
	out=$(dk run --rm --mount "type=bind,source=$d,target=/b,readonly" busybox sh -c 'cat /b/f; echo x > /b/g 2>&1 || echo refused')
	assert_eq "$out" "$(printf 'from-host\nrefused')" "--mount type=bind,readonly: the host file is seen, writes refused"
	[[ ! -e $d/g ]] || t_fail "a file was written through a read-only bind"
	dk run --rm --mount "type=bind,src=$d,dst=/b" busybox sh -c 'echo back > /b/g'
	assert_eq "$(cat "$d/g")" back "--mount type=bind (rw): the write reaches the host"
	out=$(rc_out dk run --rm --mount type=bind,target=/b busybox true)
	assert_contains "$out" "rc=125" "bind without source: usage error"
	if [[ $TARGET == gantryd ]]; then
		out=$(rc_out dk run --rm --mount type=volume,source=vol1,target=/v busybox true)
		assert_match "$out" 'rc=125' "a named volume is refused"
		assert_contains "$out" 'named volumes are not supported' "and says why"
	fi
}

# A terminal for the docker CLI: script(1) gives it a pty fed from our stdin.
in_pty() { # CMD...
	local cmd
	printf -v cmd '%q ' "$@"
	SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null
}

test_detach_keys_cli() {
	local rc=0 out
	# ctrl-p ctrl-q (\020 \021) while the shell waits for input; the pipe stays open after.
	out=$({ sleep 1.5; printf 'echo typed-$((6*7))\n'; sleep 1; printf '\020\021'; sleep 3; } |
		in_pty "$DOCKER" run -it --name det busybox sh) || rc=$?
	assert_eq "$rc" 0 "docker run -it exits 0 on ctrl-p ctrl-q"
	assert_contains "$out" "typed-42" "the shell ran what was typed"
	assert_eq "$(dk inspect -f '{{.State.Running}}' det)" true "the container still runs after the detach"
	assert_eq "$(dk exec det echo alive)" alive "and answers exec"
	# A custom sequence (the CLI and the daemon both watch for it).
	rc=0
	out=$({ sleep 1.5; printf 'echo again\n'; sleep 1; printf '\030x'; sleep 3; } |
		in_pty "$DOCKER" run -it --detach-keys ctrl-x,x --name det2 busybox sh) || rc=$?
	assert_eq "$rc" 0 "--detach-keys ctrl-x,x detaches"
	assert_eq "$(dk inspect -f '{{.State.Running}}' det2)" true "det2 still runs"
	# docker exec -it: the exec'd shell outlives the detach too.
	dk run -d --name execdet busybox sleep 1000 >/dev/null
	rc=0
	out=$({ sleep 1.5; printf 'echo in-exec\n'; sleep 1; printf '\020\021'; sleep 3; } |
		in_pty "$DOCKER" exec -it execdet sh) || rc=$?
	# The docker CLI itself reports the detach of an exec as an error (dockerd: the same).
	assert_eq "$rc" 1 "docker exec -it ends on ctrl-p ctrl-q"
	assert_contains "$out" "read escape sequence" "the CLI saw the detach keys"
	assert_contains "$out" "in-exec" "the exec'd shell ran what was typed"
	sleep 0.5
	assert_eq "$(dk exec execdet ps -o args | grep -cx sh)" 1 "the exec'd shell still runs after the detach"
	dk rm -f execdet >/dev/null
	# The CLI shows the attach's status only (the API test reads the message).
	out=$(rc_out dk run -i --name det3 --detach-keys ctrl-1 busybox true </dev/null)
	assert_match "$out" "rc=[1-9]" "invalid detach keys are refused"
	assert_contains "$out" "400" "with a 400"
	dk rm -f det3 >/dev/null
	dk rm -f det det2 >/dev/null
}

test_detach_keys_api() {
	dk run -d -it --name dapi busybox sh >/dev/null
	local id
	id=$(dk inspect -f '{{.Id}}' dapi)
	# A raw client: the daemon itself must see the keys, end the attach and leave the shell.
	python3 - "$E2E_SOCK" "$id" <<'PY'
import socket, sys, time
sock_path, cid = sys.argv[1], sys.argv[2]
s = socket.socket(socket.AF_UNIX)
s.connect(sock_path)
s.sendall(("POST /containers/%s/attach?stream=1&stdin=1&stdout=1&detachKeys=ctrl-a,b HTTP/1.1\r\n"
           "Host: d\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n" % cid).encode())
s.settimeout(10)
buf = b""
while b"\r\n\r\n" not in buf:
    buf += s.recv(4096)
assert buf.startswith(b"HTTP/1.1 101"), buf
s.sendall(b"echo via-api-$((1+2))\n")
deadline = time.time() + 10
while b"via-api-3" not in buf and time.time() < deadline:
    buf += s.recv(4096)
assert b"via-api-3" in buf, buf
# "a" alone is held back and then forwarded: not a detach.
s.sendall(b"\x01")
s.sendall(b"b")
deadline = time.time() + 10
closed = False
while time.time() < deadline:
    d = s.recv(4096)
    if not d:
        closed = True
        break
assert closed, "the daemon did not end the attach on ctrl-a b"
print("detached")
PY
	assert_eq "$(dk inspect -f '{{.State.Running}}' dapi)" true "the container still runs after an API detach"
	local code
	code=$(curl -s -o "$E2E_TMP/attach.out" -w '%{http_code}' --unix-socket "$E2E_SOCK" -X POST \
		"http://d/containers/$id/attach?stream=1&stdin=1&detachKeys=ctrl-1")
	assert_eq "$code" 400 "attach with invalid detachKeys: 400"
	assert_contains "$(cat "$E2E_TMP/attach.out")" "Invalid detach keys (ctrl-1) provided" "dockerd's message"
	dk rm -f dapi >/dev/null
}

test_ulimit() {
	assert_eq "$(dk run --rm --ulimit nofile=1024:2048 busybox sh -c 'ulimit -n; ulimit -Hn')" "$(printf '1024\n2048')" \
		"--ulimit nofile=1024:2048: soft and hard limits in the container"
}

test_sysctl() {
	assert_eq "$(dk run --rm --sysctl net.ipv4.ip_forward=1 busybox cat /proc/sys/net/ipv4/ip_forward)" 1 \
		"--sysctl net.ipv4.ip_forward=1 in /proc/sys"
	assert_eq "$(dk run --rm --sysctl net.ipv4.ip_forward=0 busybox cat /proc/sys/net/ipv4/ip_forward)" 0 \
		"--sysctl net.ipv4.ip_forward=0 in /proc/sys"
	assert_eq "$(dk run --rm --sysctl kernel.msgmax=12345 busybox cat /proc/sys/kernel/msgmax)" 12345 \
		"--sysctl kernel.msgmax (IPC namespace)"
	assert_contains "$(rc_out dk run --rm --sysctl kernel.hostname.bogus=1 busybox true)" "kernel.hostname.bogus" \
		"a sysctl that does not exist is refused by name"
}

test_cpu() {
	dk run -d --name cpus --cpus 0.5 busybox sleep 1000 >/dev/null
	assert_eq "$(cg_read cpus cpu cpu.cfs_quota_us cpu.max | awk '{print $1}')" 50000 "--cpus 0.5: quota 50000"
	assert_eq "$(cg_read cpus cpu cpu.cfs_period_us cpu.max | awk '{print $NF}')" 100000 "--cpus 0.5: period 100000"
	assert_eq "$(dk inspect -f '{{.HostConfig.NanoCpus}}' cpus)" 500000000 "inspect NanoCpus"
	dk run -d --name quota --cpu-quota 30000 --cpu-period 60000 --cpu-shares 512 --cpuset-cpus 0 busybox sleep 1000 >/dev/null
	assert_eq "$(cg_read quota cpu cpu.cfs_quota_us cpu.max | awk '{print $1}')" 30000 "--cpu-quota 30000"
	assert_eq "$(cg_read quota cpu cpu.cfs_period_us cpu.max | awk '{print $NF}')" 60000 "--cpu-period 60000"
	# v2 turns shares into a weight: 1 + (512 - 2) * 9999 / 262142 = 20.
	assert_match "$(cg_read quota cpu cpu.shares cpu.weight)" '^(512|20)$' "--cpu-shares 512"
	assert_eq "$(cg_read quota cpuset cpuset.cpus cpuset.cpus)" 0 "--cpuset-cpus 0"
	assert_eq "$(dk exec quota grep Cpus_allowed_list /proc/self/status | awk '{print $2}')" 0 "the container runs on cpu 0 only"
	assert_eq "$(dk inspect -f '{{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpuShares}} {{.HostConfig.CpusetCpus}}' quota)" \
		"30000 60000 512 0" "inspect shows them"
	assert_contains "$(rc_out dk run --rm --cpus 1 --cpu-period 50000 busybox true)" "Conflicting options" "--cpus with --cpu-period"
	dk rm -f cpus quota >/dev/null
}

test_shm_size() {
	assert_match "$(dk run --rm --shm-size 8m busybox df -k /dev/shm | tail -1)" '^shm +8192 ' "--shm-size 8m: df /dev/shm"
	assert_match "$(dk run --rm busybox df -k /dev/shm | tail -1)" '^shm +65536 ' "the default /dev/shm is 64 MiB"
}

test_group_add() {
	local g
	g=$(dk run --rm --group-add 1234 --group-add 5678 busybox id -G)
	assert_match " $g " ' 1234 ' "--group-add 1234 in id -G ($g)"
	assert_match " $g " ' 5678 ' "--group-add 5678 in id -G ($g)"
	assert_not_contains " $(dk run --rm busybox id -G) " " 1234 " "not without the flag"
}

test_stop_signal() {
	dk run -d --name sig --stop-signal SIGUSR1 busybox sh -c \
		'trap "echo got-usr1; exit 3" USR1; echo ready; while :; do sleep 0.1; done' >/dev/null
	local i
	for ((i = 0; i < 50; i++)); do [[ $(dk logs sig 2>&1) == *ready* ]] && break; sleep 0.1; done
	assert_eq "$(dk inspect -f '{{.Config.StopSignal}}' sig)" SIGUSR1 "inspect Config.StopSignal"
	dk stop sig >/dev/null
	assert_eq "$(dk inspect -f '{{.State.ExitCode}}' sig)" 3 "the trap of SIGUSR1 ran (exit 3)"
	assert_contains "$(dk logs sig)" got-usr1 "the trap's output is in the log"
	# A container that ignores its stop signal is killed after --stop-timeout, not the default 10 s.
	dk run -d --name slow --stop-signal SIGUSR1 --stop-timeout 1 busybox sh -c \
		'trap "" USR1; echo ready; while :; do sleep 0.1; done' >/dev/null
	for ((i = 0; i < 50; i++)); do [[ $(dk logs slow 2>&1) == *ready* ]] && break; sleep 0.1; done
	assert_eq "$(dk inspect -f '{{.Config.StopTimeout}}' slow)" 1 "inspect Config.StopTimeout"
	local t0 t1 ms
	t0=$(date +%s%N)
	dk stop slow >/dev/null
	t1=$(date +%s%N)
	ms=$(((t1 - t0) / 1000000))
	assert_eq "$(dk inspect -f '{{.State.ExitCode}}' slow)" 137 "killed after the stop timeout"
	((ms >= 900 && ms < 5000)) || t_fail "stop took $ms ms, want about 1000 (--stop-timeout 1)"
	dk rm -f sig slow >/dev/null
}

test_oom_kill_disable() {
	dk run -d --name nooom --oom-kill-disable -m 64m busybox sleep 1000 >/dev/null
	assert_eq "$(dk inspect -f '{{.HostConfig.OomKillDisable}}' nooom)" true "inspect OomKillDisable"
	if [[ -d /sys/fs/cgroup/memory ]]; then
		assert_contains "$(cg_read nooom memory memory.oom_control memory.oom_control)" "oom_kill_disable 1" \
			"the v1 memory cgroup has the OOM killer off"
	fi
	dk rm -f nooom >/dev/null
}

test_network_host() {
	local want got
	want=$(readlink /proc/self/ns/net)
	got=$(dk run --rm --network host busybox readlink /proc/self/ns/net)
	assert_eq "$got" "$want" "--network host: the host's netns"
	want=$(awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' /proc/net/dev | sort | tr '\n' ' ')
	got=$(dk run --rm --network host busybox sh -c 'cat /proc/net/dev' | awk -F: 'NR > 2 {gsub(/ /, "", $1); print $1}' | sort | tr '\n' ' ')
	assert_eq "$got" "$want" "--network host: the host's interfaces"
	assert_ne "$(dk run --rm busybox readlink /proc/self/ns/net)" "$(readlink /proc/self/ns/net)" "the default is another netns"
}

test_network_container() {
	dk run -d --name netowner busybox sleep 1000 >/dev/null
	local id want got
	id=$(dk inspect -f '{{.Id}}' netowner)
	want=$(dk exec netowner readlink /proc/self/ns/net)
	got=$(dk run --rm --network "container:$id" busybox readlink /proc/self/ns/net)
	assert_eq "$got" "$want" "--network container:<id>: the same netns inode"
	got=$(dk run --rm --network container:netowner busybox readlink /proc/self/ns/net)
	assert_eq "$got" "$want" "--network container:<name>"
	assert_ne "$want" "$(readlink /proc/self/ns/net)" "not the host's"
	dk rm -f netowner >/dev/null
}

test_masked_paths() {
	local out
	out=$(dk run --rm busybox sh -c 'wc -c < /proc/kcore 2>/dev/null || echo unreadable')
	assert_match "$out" '^(0|unreadable)$' "/proc/kcore is empty or unreadable"
	assert_eq "$(dk run --rm busybox sh -c 'wc -c < /proc/timer_list 2>/dev/null || echo unreadable')" 0 "/proc/timer_list is masked"
	out=$(dk run --rm busybox sh -c '(echo gantry > /proc/sys/kernel/domainname) 2>&1 || echo refused')
	assert_contains "$out" refused "/proc/sys is read-only"
	assert_contains "$out" "Read-only file system" "the error says read-only"
	assert_match "$(dk run --rm busybox grep ' /proc/sys ' /proc/mounts)" ' ro[, ]' "/proc/sys is mounted ro"
	# (dockerd on this machine cannot start --privileged containers: runc cannot apply the caps.)
	if [[ $TARGET == gantryd ]]; then
		out=$(dk run --rm --privileged busybox sh -c 'wc -c < /proc/timer_list')
		[[ $out -gt 0 ]] || t_fail "--privileged: /proc/timer_list should be readable, got '$out'"
	fi
}

# Lines "<ts> <text>" of docker logs -t, text only.
texts() { awk '{print $2}'; }

test_logs() {
	dk run -d --name logs busybox sh -c 'echo a; sleep 1.2; echo b; sleep 1.2; echo c; echo err >&2' >/dev/null
	dk wait logs >/dev/null
	local all ta tb
	all=$(dk logs -t logs 2>&1)
	assert_eq "$(texts <<<"$all" | sort | tr '\n' ' ')" "a b c err " "logs -t: every line"
	assert_match "$(head -1 <<<"$all")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]+Z a$' "-t prefixes an RFC 3339 time"
	ta=$(grep ' a$' <<<"$all" | cut -d' ' -f1)
	tb=$(grep ' b$' <<<"$all" | cut -d' ' -f1)
	assert_eq "$(dk logs --since "$tb" logs 2>/dev/null | tr '\n' ' ')" "b c " "--since the time of b: b and c"
	assert_eq "$(dk logs --until "$tb" logs 2>/dev/null | tr '\n' ' ')" "a b " "--until the time of b: a and b"
	assert_eq "$(dk logs --since "$ta" --until "$ta" logs 2>/dev/null | tr '\n' ' ')" "a " "since = until = a: a alone"
	assert_eq "$(dk logs --tail 2 logs 2>&1 | sort | tr '\n' ' ')" "c err " "--tail 2"
	assert_eq "$(dk logs --tail 0 logs 2>&1)" "" "--tail 0"
	assert_eq "$(dk logs logs 2>/dev/null | tr '\n' ' ')" "a b c " "stdout alone on stdout"
	assert_eq "$(dk logs logs 2>&1 >/dev/null)" "err" "stderr on stderr"
	dk rm logs >/dev/null

	dk run -d --name follow busybox sh -c 'echo one; sleep 1; echo two; sleep 1; echo three' >/dev/null
	local f=$E2E_TMP/follow.out
	dk logs -f follow > "$f" 2>&1 &
	local lp=$!
	sleep 0.5
	assert_eq "$(cat "$f")" one "-f: the first line at once"
	local i
	for ((i = 0; i < 60; i++)); do t_alive "$lp" || break; sleep 0.1; done
	t_alive "$lp" && { kill "$lp"; t_fail "logs -f did not end when the container exited"; }
	wait "$lp" || true
	assert_eq "$(tr '\n' ' ' < "$f")" "one two three " "-f: the later lines as they come, then the end"
	dk rm follow >/dev/null
}

test_log_rotation() {
	dk run -d --name rot --log-opt max-size=1k --log-opt max-file=2 busybox sh -c \
		'i=0; while [ $i -lt 300 ]; do i=$((i+1)); echo "line-$i"; done' >/dev/null
	dk wait rot >/dev/null
	local lp size
	lp=$(dk inspect -f '{{.LogPath}}' rot)
	[[ -f $lp ]] || t_fail "no log at $lp"
	[[ -f $lp.1 ]] || t_fail "no rotated file $lp.1"
	[[ ! -e $lp.2 ]] || t_fail "$lp.2 exists with max-file=2"
	for f in "$lp" "$lp.1"; do
		size=$(stat -c %s "$f")
		((size <= 1024 + 200)) || t_fail "$f has $size bytes with max-size=1k"
	done
	local out first last n
	out=$(dk logs rot)
	last=$(tail -1 <<<"$out")
	first=$(head -1 <<<"$out")
	n=$(wc -l <<<"$out")
	assert_eq "$last" line-300 "docker logs ends with the last line"
	# What is kept is a contiguous run ending at 300.
	assert_eq "$first" "line-$((300 - n + 1))" "docker logs shows contiguous lines ($n of them)"
	((n < 300 && n > 10)) || t_fail "$n lines kept: rotation should have dropped the oldest"
	assert_eq "$(dk inspect -f '{{.HostConfig.LogConfig.Type}} {{index .HostConfig.LogConfig.Config "max-size"}} {{index .HostConfig.LogConfig.Config "max-file"}}' rot)" \
		"json-file 1k 2" "inspect LogConfig"
	dk rm rot >/dev/null
}

test_log_driver_checks() {
	# gantryd refuses these at create; dockerd refuses some at create, the rest at start.
	local out before
	before=$(dk ps -aq | wc -l)
	out=$(rc_out dk run --rm --log-driver syslog busybox true)
	assert_contains "$out" "rc=125" "an unsupported driver: refused"
	assert_contains "$out" "syslog" "the message names the driver"
	out=$(rc_out dk run --rm --log-opt max-size=12x busybox true)
	assert_match "$out" "rc=12[5-7]" "bad max-size refused"
	assert_contains "$out" "12x" "the message names the value"
	out=$(rc_out dk run --rm --log-opt max-file=zero busybox true)
	assert_match "$out" "rc=12[5-7]" "bad max-file refused"
	assert_contains "$out" "zero" "the message names the value"
	out=$(rc_out dk run --rm --log-opt max-file=0 --log-opt max-size=1m busybox true)
	assert_contains "$out" "max-file" "max-file=0 refused"
	out=$(rc_out dk run --rm --log-opt colour=blue busybox true)
	assert_contains "$out" "colour" "an unknown log opt is refused by name"
	out=$(rc_out dk run --rm --log-opt mode=fast busybox true)
	assert_contains "$out" "logging mode not supported: fast" "an unknown delivery mode is refused by name"
	assert_eq "$(dk run --rm --log-opt mode=non-blocking --log-opt max-buffer-size=4m busybox echo ok)" ok \
		"mode=non-blocking with max-buffer-size runs"
	[[ $TARGET == gantryd ]] || return 0
	assert_eq "$(dk ps -aq | wc -l)" "$before" "nothing was created"
	local code
	code=$(curl -s -o "$E2E_TMP/create.out" -w '%{http_code}' --unix-socket "$E2E_SOCK" -H 'Content-Type: application/json' \
		-d '{"Image":"busybox","HostConfig":{"LogConfig":{"Type":"json-file","Config":{"max-size":"-5"}}}}' \
		http://d/containers/create)
	assert_eq "$code" 400 "POST /containers/create with a bad max-size: 400"
	assert_contains "$(cat "$E2E_TMP/create.out")" "'-5'" "the body names the value"
}

test_log_driver_none() {
	dk run -d --name quiet --log-driver none busybox sh -c 'echo hidden' >/dev/null
	dk wait quiet >/dev/null
	local out lp
	out=$(rc_out dk logs quiet)
	assert_contains "$out" "configured logging driver does not support reading" "docker logs with driver none"
	assert_match "$out" 'rc=[1-9]' "and fails"
	lp=$(dk inspect -f '{{.LogPath}}' quiet)
	assert_eq "$lp" "" "no LogPath with driver none"
	local id
	id=$(dk inspect -f '{{.Id}}' quiet)
	[[ $TARGET == dockerd ]] || [[ ! -e $E2E_TMP/root/containers/$id/$id-json.log ]] || t_fail "driver none wrote a json log"
	assert_eq "$(dk inspect -f '{{.HostConfig.LogConfig.Type}}' quiet)" none "inspect LogConfig.Type"
	dk rm quiet >/dev/null
}

wait_health() { # CONTAINER WANT
	local i s=
	for ((i = 0; i < 100; i++)); do
		s=$(dk inspect -f '{{if .State.Health}}{{.State.Health.Status}}{{end}}' "$1")
		[[ $s == "$2" ]] && break
		sleep 0.1
	done
	echo "$s"
}

test_image_healthcheck() {
	dk run -d --name hbase busybox sleep 1000 >/dev/null
	dk commit -c 'HEALTHCHECK --interval=1s --retries=2 CMD test -e /tmp/ok || exit 1' \
		-c 'CMD ["sleep", "1000"]' hbase hc:1 >/dev/null
	dk rm -f hbase >/dev/null
	assert_contains "$(dk image inspect -f '{{json .Config.Healthcheck}}' hc:1)" '"Interval":1000000000' "the image has the health check"
	local since
	since=$(date +%s)
	dk run -d --name hc hc:1 >/dev/null
	assert_eq "$(dk inspect -f '{{json .Config.Healthcheck.Test}}' hc)" '["CMD-SHELL","test -e /tmp/ok || exit 1"]' \
		"inspect Config.Healthcheck comes from the image"
	assert_eq "$(wait_health hc unhealthy)" unhealthy "the image's probe runs and fails"
	dk exec hc touch /tmp/ok
	assert_eq "$(wait_health hc healthy)" healthy "then passes"
	local ev
	ev=$(dk events --since "$since" --until "$(($(date +%s) + 1))" --filter container=hc --filter event=health_status --format '{{.Action}}')
	assert_contains "$ev" "health_status: unhealthy" "a health_status: unhealthy event"
	assert_contains "$ev" "health_status: healthy" "a health_status: healthy event"

	# The container's fields override the image's one by one.
	dk run -d --name hc2 --health-interval 2s hc:1 >/dev/null
	assert_eq "$(dk inspect -f '{{.Config.Healthcheck.Interval}} {{index .Config.Healthcheck.Test 0}} {{.Config.Healthcheck.Retries}}' hc2)" \
		"2s CMD-SHELL 2" "--health-interval overrides the interval, the test and retries stay"
	dk run -d --name hc3 --no-healthcheck hc:1 >/dev/null
	assert_eq "$(dk inspect -f '{{json .Config.Healthcheck.Test}}' hc3)" '["NONE"]' "--no-healthcheck: Test NONE"
	sleep 1.5
	assert_eq "$(dk inspect -f '{{if .State.Health}}has{{else}}none{{end}}' hc3)" none "no probe runs"
	assert_not_contains "$(dk ps --format '{{.Status}}' -f name=hc3)" "health" "ps shows no health"
	dk rm -f hc hc2 hc3 >/dev/null
	dk rmi hc:1 >/dev/null
}

GANTRY=${GANTRY:-/usr/local/bin/gantry}

# The gantry CLI's flags for the same fields, checked with the docker CLI's inspect and in the container.
test_gantry_cli_flags() {
	local g=(timeout 60 env GANTRY_HOST="unix://$E2E_SOCK" "$GANTRY")
	local envf=$E2E_TMP/env.list d out
	printf '# comment\n\nFROM_FILE=one\nBOTH=file\n  SPACED=yes\n' > "$envf"
	d=$(mktemp -d "$E2E_TMP/gbind.XXXXXX")
	echo host-file > "$d/f"
	out=$("${g[@]}" run --rm --env-file "$envf" -e BOTH=flag \
		--mount "type=bind,source=$d,target=/b,readonly" --mount type=tmpfs,target=/t,tmpfs-size=1m \
		busybox sh -c 'echo $FROM_FILE $BOTH $SPACED; cat /b/f; grep " /t " /proc/mounts | cut -d" " -f4')
	assert_eq "$(sed -n 1p <<<"$out")" "one flag yes" "--env-file, then -e over it"
	assert_eq "$(sed -n 2p <<<"$out")" host-file "--mount type=bind"
	assert_match "$(sed -n 3p <<<"$out")" 'size=1024k' "--mount type=tmpfs,tmpfs-size=1m"
	"${g[@]}" run -d --name gflags --cpu-quota 25000 --cpu-period 50000 --cpuset-mems 0 \
		--memory-reservation 32m -m 64m --oom-kill-disable \
		--log-driver json-file --log-opt max-size=2k --log-opt max-file=3 busybox sleep 1000 >/dev/null
	assert_eq "$(dk inspect -f '{{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}} {{.HostConfig.CpusetMems}} {{.HostConfig.MemoryReservation}} {{.HostConfig.OomKillDisable}}' gflags)" \
		"25000 50000 0 33554432 true" "inspect shows the gantry flags"
	assert_eq "$(dk inspect -f '{{index .HostConfig.LogConfig.Config "max-size"}} {{index .HostConfig.LogConfig.Config "max-file"}}' gflags)" \
		"2k 3" "--log-opt"
	assert_eq "$(cg_read gflags cpu cpu.cfs_quota_us cpu.max | awk '{print $1}')" 25000 "--cpu-quota in the cgroup"
	assert_eq "$(cg_read gflags memory memory.soft_limit_in_bytes memory.low)" 33554432 "--memory-reservation in the cgroup"
	"${g[@]}" rm -f gflags >/dev/null
	out=$(rc_out "${g[@]}" run --rm --log-driver journald busybox true)
	assert_contains "$out" "rc=125" "gantry run --log-driver journald: refused"
	assert_contains "$out" "journald" "named"
	out=$(rc_out "${g[@]}" run --rm --mount type=bind,target=/x busybox true)
	assert_contains "$out" "source is required" "--mount bind without source"
	out=$(rc_out "${g[@]}" run --rm --mount type=tmpfs,target=/x,bogus=1 busybox true)
	assert_contains "$out" "bogus" "--mount: an unknown key is named"
	out=$(rc_out "${g[@]}" run --rm --env-file "$E2E_TMP/missing.env" busybox true)
	assert_contains "$out" "missing.env" "--env-file: a missing file is named"
	out=$(rc_out "${g[@]}" run --rm --detach-keys ctrl-1 busybox true)
	assert_contains "$out" "Invalid detach keys (ctrl-1)" "--detach-keys checked"
	# gantry logs takes the times docker logs -t prints, to the nanosecond.
	"${g[@]}" run --name glogs busybox sh -c 'echo a; sleep 1.2; echo b; sleep 1.2; echo c' >/dev/null
	local tb
	tb=$(dk logs -t glogs | grep ' b$' | cut -d' ' -f1)
	assert_eq "$("${g[@]}" logs --until "$tb" glogs | tr '\n' ' ')" "a b " "gantry logs --until <time of b>"
	assert_eq "$("${g[@]}" logs --since "$tb" glogs | tr '\n' ' ')" "b c " "gantry logs --since <time of b>"
	"${g[@]}" rm glogs >/dev/null
	# gantry run -it detaches on ctrl-p ctrl-q too.
	local rc=0
	out=$({ sleep 1.5; printf 'echo g-$((2*3))\n'; sleep 1; printf '\020\021'; sleep 3; } |
		GANTRY_HOST="unix://$E2E_SOCK" in_pty "$GANTRY" run -it --name gdet busybox sh) || rc=$?
	assert_eq "$rc" 0 "gantry run -it: ctrl-p ctrl-q exits 0"
	assert_contains "$out" "g-6" "the shell ran what was typed"
	assert_eq "$(dk inspect -f '{{.State.Running}}' gdet)" true "the container still runs"
	rc=0
	out=$({ sleep 1.5; printf 'echo gx-$((3*3))\n'; sleep 1; printf '\020\021'; sleep 3; } |
		GANTRY_HOST="unix://$E2E_SOCK" in_pty "$GANTRY" exec -it gdet sh) || rc=$?
	assert_eq "$rc" 1 "gantry exec -it ends on ctrl-p ctrl-q as docker exec (1)"
	assert_contains "$out" "gx-9" "the exec'd shell ran what was typed"
	assert_contains "$out" "read escape sequence" "and says why, as docker exec"
	sleep 0.5
	assert_eq "$(dk exec gdet ps -o args | grep -cx sh)" 2 "the exec'd shell still runs beside the main one"
	dk rm -f gdet >/dev/null
}

t_run "$TARGET:hostcfg_tmpfs" test_tmpfs
t_run "$TARGET:hostcfg_detach_keys_cli" test_detach_keys_cli
t_run "$TARGET:hostcfg_detach_keys_api" test_detach_keys_api
t_run "$TARGET:hostcfg_mount_bind" test_mount_bind
t_run "$TARGET:hostcfg_ulimit" test_ulimit
t_run "$TARGET:hostcfg_sysctl" test_sysctl
t_run "$TARGET:hostcfg_cpu" test_cpu
t_run "$TARGET:hostcfg_shm_size" test_shm_size
t_run "$TARGET:hostcfg_group_add" test_group_add
t_run "$TARGET:hostcfg_stop_signal" test_stop_signal
t_run "$TARGET:hostcfg_oom_kill_disable" test_oom_kill_disable
t_run "$TARGET:hostcfg_network_host" test_network_host
t_run "$TARGET:hostcfg_network_container" test_network_container
t_run "$TARGET:hostcfg_masked_paths" test_masked_paths
t_run "$TARGET:hostcfg_logs" test_logs
t_run "$TARGET:hostcfg_log_rotation" test_log_rotation
t_run "$TARGET:hostcfg_log_driver_checks" test_log_driver_checks
t_run "$TARGET:hostcfg_log_driver_none" test_log_driver_none
t_run "$TARGET:hostcfg_image_healthcheck" test_image_healthcheck
if [[ $TARGET == gantryd && -x $GANTRY ]]; then
	t_run "$TARGET:hostcfg_gantry_cli_flags" test_gantry_cli_flags
else
	t_skip "$TARGET:hostcfg_gantry_cli_flags" "gantry CLI: gantryd only (GANTRY=$GANTRY)"
fi
stop_daemon
t_summary
