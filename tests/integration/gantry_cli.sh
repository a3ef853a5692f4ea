#!/usr/bin/env bash
# The gantry CLI against a private daemon: gantryd (default) or, with GANTRY_CLI_TARGET=dockerd, a real
# dockerd, since both speak the Engine API. Asserts what a user sees: output, messages, exit codes.
# Test functions are called through t_run (SC2317); $(...) in single quotes is for the container shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
TARGET=${GANTRY_CLI_TARGET:-gantryd}
GANTRY=${GANTRY:-/usr/local/bin/gantry}
GANTRYD=${GANTRYD:-/usr/local/bin/gantryd}
T_TIMEOUT=${T_TIMEOUT:-120}

if [[ $(id -u) -ne 0 ]]; then
	t_skip gantry_cli "needs root"
	t_summary
fi
if [[ ! -x $GANTRY ]]; then
	t_fail gantry_cli "$GANTRY not found (set GANTRY=)"
	t_summary
fi

tmp=$(mktemp -d /tmp/gantry-cli.XXXXXX)
sock=$tmp/d.sock
cgparent=/gantry-cli-test-$$
daemon_pid=
export GANTRY_HOST=unix://$sock
g() { timeout 60 "$GANTRY" "$@"; }
NET=(--network none)

cleanup() {
	local p
	if [[ -S $sock ]]; then
		# shellcheck disable=SC2046
		timeout 60 "$GANTRY" rm -f $(timeout 30 "$GANTRY" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	fi
	if [[ -n $daemon_pid ]]; then
		t_kill_pid "$daemon_pid" 30 || echo "# cleanup: daemon $daemon_pid still alive" >&2
	fi
	# Shims (dockerd's containerd-shim, gantry-shim) outlive the daemon: find them by our paths.
	for p in $(t_pids_mentioning "$tmp/"); do
		echo "# cleanup: stopping leftover $(cat "/proc/$p/comm" 2>/dev/null) $p" >&2
		t_kill_pid "$p" 5
	done
	t_rmdir_cgroups "$cgparent"
	if [[ -n ${NETPREFIX:-} ]]; then
		ip link del "${NETPREFIX}0" 2>/dev/null
		nft delete table inet "$NETPREFIX" 2>/dev/null
		nft delete table bridge "$NETPREFIX" 2>/dev/null
	fi
	if t_umount_under "$tmp"; then
		rm -rf --one-file-system "$tmp"
	else
		echo "# cleanup: mounts remain under $tmp, not removing it" >&2
	fi
}
t_defer cleanup

wait_for_socket() {
	local i
	for ((i = 0; i < 300; i++)); do
		t_alive "$daemon_pid" || return 1
		"$GANTRY" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

start_private_dockerd() {
	printf '{"deprecated-key-path": "%s"}\n' "$tmp/key.json" > "$tmp/daemon.json"
	dockerd --config-file "$tmp/daemon.json" --data-root "$tmp/data" --exec-root "$tmp/exec" \
		--pidfile "$tmp/docker.pid" -H "unix://$sock" --bridge none --iptables=false \
		--ip6tables=false --ip-masq=false --userland-proxy=false \
		--exec-opt native.cgroupdriver=cgroupfs --cgroup-parent "$cgparent" \
		> "$tmp/daemon.log" 2>&1 </dev/null &
	daemon_pid=$!
}

start_private_gantryd() {
	# Its own bridge and nftables tables (not the default gantry0/gantry); cleanup removes them.
	NETPREFIX=$(printf 'gt%x' $((($$ * 7919 + RANDOM) % 0xffffff)))
	"$GANTRYD" --host "unix://$sock" --root "$tmp/root" --exec-root "$tmp/exec" \
		--network-prefix "$NETPREFIX" --pidfile "$tmp/gantryd.pid" > "$tmp/daemon.log" 2>&1 </dev/null &
	daemon_pid=$!
}

case $TARGET in
dockerd)
	command -v dockerd >/dev/null || { t_skip gantry_cli "no dockerd"; t_summary; }
	start_private_dockerd
	;;
gantryd)
	[[ -x $GANTRYD ]] || { t_skip gantry_cli "no $GANTRYD (set GANTRYD=)"; t_summary; }
	start_private_gantryd
	;;
*)
	t_fail gantry_cli "GANTRY_CLI_TARGET must be dockerd or gantryd"
	t_summary
	;;
esac
if wait_for_socket; then
	t_ok "${TARGET}_start"
else
	tail -20 "$tmp/daemon.log" >&2
	t_fail "${TARGET}_start" "daemon did not answer (log above)"
	t_summary
fi

# A docker-archive (docker save layout) of the busybox rootfs, for `load`.
make_archive() { # DIR TAG
	local dir=$1 tag=$2 layer cfg
	mkdir -p "$dir/out"
	tar -C "$tmp/rootfs" -cf "$dir/layer.tar" .
	layer=$(sha256sum "$dir/layer.tar" | cut -d' ' -f1)
	mkdir -p "$dir/out/$layer"
	mv "$dir/layer.tar" "$dir/out/$layer/layer.tar"
	printf '{"architecture":"amd64","os":"linux","config":{"Cmd":["sh"],"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$layer" > "$dir/config.json"
	cfg=$(sha256sum "$dir/config.json" | cut -d' ' -f1)
	mv "$dir/config.json" "$dir/out/$cfg.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$tag" "$layer" \
		> "$dir/out/manifest.json"
	tar -C "$dir/out" -cf "$dir/image.tar" .
}

test_import() {
	local out
	bash "$top/scripts/make-busybox-rootfs.sh" "$tmp/rootfs" >/dev/null
	out=$(tar -C "$tmp/rootfs" -c . | g import - busybox:latest)
	assert_match "$out" '^sha256:[0-9a-f]{64}$' "import prints the image id"
	out=$(g images)
	assert_match "$(head -1 <<<"$out")" '^REPOSITORY +TAG +IMAGE ID +CREATED +SIZE$' "images header"
	assert_match "$out" "busybox +latest +[0-9a-f]{12} +[A-Z0-9].* ago +[0-9.]+[kM]B" "images row"
}

test_run_echo() {
	local out rc=0
	out=$(g run --rm "${NET[@]}" busybox echo hi)
	assert_eq "$out" hi "run --rm output"
	g run --rm "${NET[@]}" busybox sh -c 'exit 7' || rc=$?
	assert_eq "$rc" 7 "container exit status"
	out=$(g run --rm "${NET[@]}" busybox sh -c 'echo to-out; echo to-err >&2' 2>"$tmp/err")
	assert_eq "$out" to-out "stdout stream"
	assert_eq "$(cat "$tmp/err")" to-err "stderr stream"
	out=$(echo piped | g run --rm -i "${NET[@]}" busybox cat)
	assert_eq "$out" piped "stdin with -i"
	out=$(g run --rm "${NET[@]}" -e FOO=bar -w /tmp -u 1000 busybox sh -c 'echo $FOO $(pwd) $(id -u)')
	assert_eq "$out" "bar /tmp 1000" "-e -w -u"
	assert_eq "$(g ps -aq | wc -l)" 0 "--rm removed the containers"
}

test_exec_errors() {
	local rc=0 err
	err=$(g run --rm "${NET[@]}" busybox nosuchcmd 2>&1) || rc=$?
	assert_eq "$rc" 127 "command not found"
	assert_contains "$err" "gantry: Error response from daemon:"
	rc=0
	g run --rm "${NET[@]}" busybox /etc >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 126 "not executable"
}

# Every verb `gantry --help` lists answers VERB --help with its usage on stdout and status 0.
test_verb_help() {
	local v out rc verbs
	verbs=$("$GANTRY" --help | awk '/^Commands:/ {f = 1; next} f && /^  [a-z]/ {print $1} /^$/ {f = 0}')
	assert_contains "$verbs" "ps" "gantry --help lists its commands"
	for v in $verbs; do
		rc=0
		out=$("$GANTRY" "$v" --help 2>/dev/null) || rc=$?
		assert_eq "$rc" 0 "gantry $v --help status"
		assert_contains "$out" "Usage:  gantry $v" "gantry $v --help usage"
	done
	out=$("$GANTRY" stop --help)
	assert_contains "$out" "-t, --time string" "stop --help lists its flags"
}

test_bad_image() {
	local rc=0 err
	# The pull that follows goes to a loopback port nobody listens on, never the Internet.
	err=$(g run --rm "${NET[@]}" 127.0.0.1:9/nosuchimage true 2>&1) || rc=$?
	assert_eq "$rc" 125 "exit status for a missing image"
	assert_contains "$err" "Unable to find image '127.0.0.1:9/nosuchimage:latest' locally"
	assert_contains "$err" "Error response from daemon:"
	rc=0
	err=$(g run --bogus-flag busybox true 2>&1) || rc=$?
	assert_eq "$rc" 125 "unknown flag"
	assert_contains "$err" "unknown flag: --bogus-flag"
}

# Runs at the end of the test's subshell, passed or failed, so one failure does not cascade.
rm_at_exit() {
	# shellcheck disable=SC2064
	trap "timeout 60 '$GANTRY' rm -f $* >/dev/null 2>&1 || true" EXIT
}

test_detached_lifecycle() {
	local id out
	rm_at_exit cli-d cli-k
	id=$(g run -d "${NET[@]}" --name cli-d busybox sh -c 'echo started; echo warn >&2; exec sleep 300')
	assert_match "$id" '^[0-9a-f]{64}$' "run -d prints the id"
	out=$(g ps)
	assert_match "$(head -1 <<<"$out")" '^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$' "ps header"
	assert_match "$out" "${id:0:12} +busybox +\"sh -c 'echo started.* +.* ago +Up .* +cli-d" "ps row"
	for _ in $(seq 50); do
		[[ $(g logs cli-d 2>/dev/null) == started ]] && break
		sleep 0.1
	done
	assert_eq "$(g logs cli-d 2>/dev/null)" started "logs stdout"
	assert_eq "$(g logs cli-d 2>&1 >/dev/null)" warn "logs stderr"
	assert_match "$(g logs -t cli-d 2>/dev/null)" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z started$' "logs -t"
	assert_eq "$(g stop -t 1 cli-d)" cli-d "stop prints the name"
	assert_eq "$(g inspect --format '{{.State.Status}} {{.State.ExitCode}}' cli-d)" "exited 137" "stopped by SIGKILL"
	assert_match "$(g ps -a --filter name=cli-d)" "Exited \(137\) .* ago +cli-d" "ps -a shows it exited"
	assert_eq "$(g ps -q | wc -l)" 0 "ps lists running ones only"
	assert_eq "$(g wait cli-d)" 137 "wait prints the status"
	assert_eq "$(g rm cli-d)" cli-d "rm prints the name"
	if g inspect cli-d >/dev/null 2>&1; then t_fail "cli-d still exists after rm"; fi
	g run -d "${NET[@]}" --name cli-k busybox sleep 300 >/dev/null
	assert_eq "$(g kill -s KILL cli-k)" cli-k "kill prints the name"
	assert_eq "$(g rm -f cli-k)" cli-k "rm -f"
}

test_ps_format() {
	local out
	rm_at_exit cli-f
	g run -d "${NET[@]}" --name cli-f -l tier=web busybox sleep 300 >/dev/null
	out=$(g ps --format 'table {{.ID}}\t{{.Names}}')
	assert_match "$(head -1 <<<"$out")" '^CONTAINER ID +NAMES$' "table header"
	assert_match "$(tail -1 <<<"$out")" '^[0-9a-f]{12} +cli-f$' "table row"
	assert_eq "$(g ps --format '{{.Names}}|{{.Image}}|{{.Labels}}|{{.State}}')" "cli-f|busybox|tier=web|running"
	assert_match "$(g ps --format '{{json .}}')" '^\{"Command":"\\"sleep 300\\"",.*"Names":"cli-f".*\}$' "json ."
	out=$(g ps --format '{{.Nope}}' 2>&1) && t_fail "unknown field accepted"
	assert_contains "$out" "can't evaluate field Nope"
	g rm -f cli-f >/dev/null
}

test_inspect_format() {
	local out rc=0
	rm_at_exit cli-i
	g create "${NET[@]}" --name cli-i -m 64m --pids-limit 50 --cap-drop ALL busybox echo a b >/dev/null
	assert_eq "$(g inspect --format '{{.Name}} {{.State.Status}}' cli-i)" "/cli-i created"
	assert_eq "$(g inspect --format '{{.Config.Cmd}}' cli-i)" "[echo a b]" "list printed as Go does"
	assert_eq "$(g inspect --format '{{json .Config.Cmd}}' cli-i)" '["echo","a","b"]'
	assert_eq "$(g inspect --format '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{json .HostConfig.CapDrop}}' cli-i)" \
		'67108864 50 ["ALL"]'
	assert_match "$(g inspect cli-i)" '^\[
    \{
        "Id": "[0-9a-f]{64}",' "inspect prints an indented array"
	assert_eq "$(g start -a cli-i)" "a b" "start -a streams the output"
	out=$(g inspect --format '{{.Id}}' busybox)
	assert_match "$out" '^sha256:[0-9a-f]{64}$' "inspect falls back to images"
	out=$(g inspect nosuch 2>&1) || rc=$?
	assert_eq "$rc" 1 "inspect of a missing object"
	assert_contains "$out" "Error: No such object: nosuch"
	g rm cli-i >/dev/null
}

test_images_tag_load_rmi() {
	local id out
	id=$(g image inspect --format '{{.Id}}' busybox)
	g tag busybox cli-tag:v1
	assert_eq "$(g image inspect --format '{{.Id}}' cli-tag:v1)" "$id" "tag points at the same image"
	assert_match "$(g images)" "cli-tag +v1 +${id:7:12} " "images lists the tag"
	assert_eq "$(g images --format '{{.Repository}}:{{.Tag}}' cli-tag)" "cli-tag:v1" "images REPOSITORY"
	assert_eq "$(g images -q --filter reference='cli-*')" "${id:7:12}" "images --filter reference"
	assert_eq "$(g images -q --filter dangling=true)" "" "images --filter dangling"
	assert_match "$(g images --digests cli-tag)" "^REPOSITORY +TAG +DIGEST +IMAGE ID" "images --digests"
	assert_match "$(g ps -a -s)" "SIZE" "ps -s shows the size column"
	assert_eq "$(g rmi cli-tag:v1)" "Untagged: cli-tag:v1" "rmi of one tag"
	make_archive "$tmp/arch" cli-load:latest
	assert_eq "$(g load -i "$tmp/arch/image.tar")" "Loaded image: cli-load:latest" "load -i"
	assert_eq "$(g run --rm "${NET[@]}" cli-load echo loaded)" loaded "run the loaded image"
	assert_contains "$(g rmi -f cli-load)" "Untagged: cli-load:latest" "rmi -f"
	assert_eq "$(g load < "$tmp/arch/image.tar")" "Loaded image: cli-load:latest" "load from stdin"
	out=$(g rmi cli-load)
	assert_contains "$out" "Untagged: cli-load:latest"
	assert_match "$out" "Deleted: sha256:[0-9a-f]{64}"
	out=$(g rmi nosuch 2>&1) && t_fail "rmi of a missing image succeeded"
	assert_contains "$out" "Error response from daemon:"
}

test_exec_pause_rename() {
	local rc=0 out cmd
	g run -d "${NET[@]}" --name gx busybox sleep 1000 >/dev/null
	out=$(g exec gx sh -c 'echo out; echo err >&2; exit 5' 2>"$tmp/err") || rc=$?
	assert_eq "$out:$(cat "$tmp/err"):$rc" "out:err:5" "exec: stdout, stderr, exit code"
	assert_eq "$(echo piped | g exec -i gx cat)" piped "exec -i passes stdin"
	assert_eq "$(g exec -u nobody -w /tmp -e A=b gx sh -c 'echo $(id -un) $PWD $A')" "nobody /tmp b" "exec -u -w -e"
	printf -v cmd '%q ' "$GANTRY" exec -it gx sh -c 'tty'
	assert_contains "$(SHELL=/bin/bash timeout 30 script -qec "$cmd" /dev/null </dev/null)" /dev/pts/ "exec -it gives a tty"
	g exec -d gx touch /tmp/detached
	sleep 0.3
	assert_eq "$(g exec gx ls /tmp/detached)" /tmp/detached "exec -d runs in the background"
	rc=0
	g exec gx /etc/passwd 2>/dev/null || rc=$?
	assert_eq "$rc" 126 "exec of a file that is not executable"
	g pause gx >/dev/null
	assert_match "$(g ps --format '{{.Status}}' -f name=gx)" '\(Paused\)' "pause shows in ps"
	g unpause gx >/dev/null
	g rename gx gy
	assert_eq "$(g ps --format '{{.Names}}' -f name=gy)" gy "rename"
	g rm -f gy >/dev/null
	g run -d "${NET[@]}" --name gh --health-cmd 'test -f /etc/passwd' --health-interval 200ms busybox sleep 1000 >/dev/null
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(g inspect -f '{{.State.Health.Status}}' gh) == healthy ]] && break
		sleep 0.1
	done
	assert_match "$(g ps --format '{{.Status}}' -f name=gh)" '\(healthy\)' "run --health-cmd: healthy"
	rc=0
	g run --rm --health-interval 2parsecs busybox true 2>/dev/null || rc=$?
	assert_eq "$rc" 125 "a bad duration is a usage error"
	g rm -f gh >/dev/null
}

# restart: a new StartedAt, still running; stop/restart -s: the signal reaches the command's trap.
test_restart_stop_signal() {
	local a b out rc=0 t0 t1
	rm_at_exit rs sg sg2
	g run -d "${NET[@]}" --name rs busybox sleep 1000 >/dev/null
	a=$(g inspect -f '{{.State.StartedAt}}' rs)
	sleep 1.1
	assert_eq "$(g restart -t 1 rs)" rs "restart prints the name"
	b=$(g inspect -f '{{.State.StartedAt}} {{.State.Running}}' rs)
	assert_ne "${b% *}" "$a" "restart: StartedAt changed"
	assert_eq "${b#* }" true "restart: the container runs again"
	assert_eq "$(g container restart -t 0 rs)" rs "container restart alias"
	g run -d "${NET[@]}" --name sg busybox sh -c 'trap "echo got; exit 3" USR1; echo ready; while true; do sleep 0.1; done' >/dev/null
	for ((i = 0; i < 50; i++)); do [[ $(g logs sg) == *ready* ]] && break; sleep 0.1; done
	t0=$(date +%s%N)
	assert_eq "$(g stop -s SIGUSR1 -t 20 sg)" sg "stop -s prints the name"
	t1=$(date +%s%N)
	assert_eq "$(g inspect -f '{{.State.ExitCode}}' sg)" 3 "stop -s SIGUSR1: the trap's exit code"
	assert_contains "$(g logs sg)" got "the trap ran"
	(( (t1 - t0) / 1000000 < 10000 )) || t_fail "stop -s USR1 took $(( (t1 - t0) / 1000000 )) ms: the signal was not USR1"
	g run -d "${NET[@]}" --name sg2 busybox sh -c 'trap "echo got-usr1; exit 3" USR1; echo ready; while true; do sleep 0.1; done' >/dev/null
	for ((i = 0; i < 50; i++)); do [[ $(g logs sg2) == *ready* ]] && break; sleep 0.1; done
	assert_eq "$(g restart -s 10 -t 20 sg2)" sg2 "restart -s by number"
	assert_contains "$(g logs sg2)" got- "restart -s 10: the trap ran"
	assert_eq "$(g inspect -f '{{.State.Running}}' sg2)" true "restart -s: running again"
	out=$(g stop -s NOSUCHSIG sg2 2>&1) || rc=$?
	assert_eq "$rc" 1 "stop with an unknown signal fails"
	assert_contains "$out" "Invalid signal: NOSUCHSIG" "unknown signal: the daemon's message"
	assert_eq "$(g inspect -f '{{.State.Running}}' sg2)" true "an unknown signal stops nothing"
	g rm -f rs sg sg2 >/dev/null
}

# attach: the running container's output reaches us, our stdin reaches it, its exit code is ours.
test_attach() {
	local out rc=0
	rm_at_exit at at2 at3 at4
	g run -d -i "${NET[@]}" --name at busybox sh -c 'while read l; do echo "got $l"; [ "$l" = quit ] && exit 4; done' >/dev/null
	out=$(printf 'hello\nquit\n' | g attach at) || rc=$?
	assert_eq "$out" "got hello"$'\n'"got quit" "attach: stdin in, stdout out"
	assert_eq "$rc" 4 "attach returns the container's exit code"
	rc=0
	# -i: its stdin stays open; --no-stdin keeps ours from it, so the read times out empty.
	g run -d -i "${NET[@]}" --name at2 busybox sh -c 'sleep 1; echo late; echo err-late >&2; read -t 2 x; echo "read:$x"; exit 2' >/dev/null
	out=$(echo never | g container attach --no-stdin at2 2>"$tmp/attach-err") || rc=$?
	assert_eq "$out" "late"$'\n'"read:" "attach --no-stdin: output, stdin not sent"
	assert_eq "$(cat "$tmp/attach-err")" err-late "attach: stderr stream"
	assert_eq "$rc" 2 "attach --no-stdin: exit code"
	rc=0
	out=$(g attach at2 2>&1) || rc=$?
	assert_eq "$rc" 1 "attach to a stopped container fails"
	assert_contains "$out" "You cannot attach to a stopped container, start it first"
	g run -d "${NET[@]}" --name at3 busybox sh -c 'trap "echo term-seen; exit 9" TERM; while true; do sleep 0.1; done' >/dev/null
	sleep 0.5
	# timeout (not the g function's subshell) passes our SIGTERM on to gantry.
	timeout 30 "$GANTRY" attach at3 >"$tmp/at3.out" 2>&1 &
	local apid=$!
	sleep 1
	kill -TERM "$apid"
	rc=0
	wait "$apid" || rc=$?
	assert_eq "$rc" 9 "attach proxies SIGTERM to the container (--sig-proxy default)"
	assert_contains "$(cat "$tmp/at3.out")" term-seen "the container's trap ran"
	g start at3 >/dev/null
	sleep 0.5
	timeout 30 "$GANTRY" attach --sig-proxy=false at3 >"$tmp/at3.out" 2>&1 &
	apid=$!
	sleep 1
	kill -TERM "$apid"
	rc=0
	wait "$apid" || rc=$?
	assert_eq "$rc" 143 "attach --sig-proxy=false: the signal ends the CLI"
	assert_eq "$(g inspect -f '{{.State.Running}}' at3)" true "--sig-proxy=false: the container runs on"
	# A tty: raw stream, our keystrokes to its shell, its exit code back (-dit needs no tty here).
	g run -dit "${NET[@]}" --name at4 busybox sh >/dev/null
	local cmd
	printf -v cmd '%q ' "$GANTRY" attach at4
	rc=0
	out=$( (sleep 1; printf 'echo hi-$((1+2)); tty\n'; sleep 1; printf 'exit 5\n'; sleep 1) |
		SHELL=/bin/bash timeout 30 script -qec "$cmd" /dev/null) || rc=$?
	assert_contains "$out" hi-3 "attach to a tty: the shell ran our line"
	assert_contains "$out" /dev/pts/ "attach to a tty: the container has a tty"
	assert_eq "$rc" 5 "attach to a tty: the shell's exit code"
	g rm -f at at2 at3 at4 >/dev/null
}

# update: new limits in inspect and in the running container's cgroup files.
test_update() {
	local out rc=0 pid
	rm_at_exit up up2
	g run -d "${NET[@]}" --name up -m 64m busybox sleep 1000 >/dev/null
	assert_eq "$(g update -m 128m --memory-swap 256m --cpus 0.5 --pids-limit 40 --cpu-shares 512 --restart on-failure:3 up)" up "update prints the name"
	assert_eq "$(g inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.PidsLimit}} {{.HostConfig.CpuShares}} {{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' up)" \
		"134217728 268435456 500000000 40 512 on-failure:3" "inspect shows the update"
	pid=$(g inspect -f '{{.State.Pid}}' up)
	assert_eq "$(t_cgroup_read "$pid" memory memory.limit_in_bytes memory.max)" 134217728 "memory cgroup limit"
	assert_eq "$(t_cgroup_read "$pid" pids pids.max pids.max)" 40 "pids cgroup limit"
	assert_eq "$(g container update --cpu-shares 256 --cpuset-cpus 0 up)" up "container update alias"
	assert_eq "$(t_cgroup_read "$pid" cpuset cpuset.cpus cpuset.cpus)" 0 "cpuset cgroup"
	# CFS quota/period (NanoCpus excludes them, as dockerd says): a container of its own.
	g run -d "${NET[@]}" --name up2 busybox sleep 1000 >/dev/null
	assert_eq "$(g update --cpu-quota 20000 --cpu-period 100000 up2)" up2 "update --cpu-quota --cpu-period"
	assert_match "$(t_cgroup_read "$(g inspect -f '{{.State.Pid}}' up2)" cpu cpu.cfs_quota_us cpu.max)" '^20000( 100000)?$' "cpu quota in the cgroup"
	assert_eq "$(g inspect -f '{{.HostConfig.CpuQuota}} {{.HostConfig.CpuPeriod}}' up2)" "20000 100000" "inspect: quota and period"
	out=$(g update --cpus 1 up2 2>&1) || rc=$?
	assert_eq "$rc" 1 "--cpus on top of a quota fails"
	assert_contains "$out" "Conflicting options: Nano CPUs and CPU Period cannot both be set"
	rc=0
	out=$(g update up 2>&1) || rc=$?
	assert_eq "$rc" 1 "update without flags fails"
	assert_contains "$out" "you must provide one or more flags"
	rc=0
	out=$(g update -m lots up 2>&1) || rc=$?
	assert_eq "$rc" 125 "a bad size is a usage error"
	assert_contains "$out" "invalid argument \"lots\" for \"-m, --memory\" flag"
	g rm -f up up2 >/dev/null
}

# import -c/-m, then history: the CMD runs, the message is the layer's comment.
test_import_history() {
	local out id rc=0
	out=$(tar -C "$tmp/rootfs" -c . | g import -c 'CMD ["echo","hi"]' -c 'ENV GREETING=hello' -m 'imported by test' - cli-hist:v1)
	assert_match "$out" '^sha256:[0-9a-f]{64}$' "import -c -m prints the id"
	id=${out#sha256:}
	assert_eq "$(g run --rm "${NET[@]}" cli-hist:v1)" hi "the imported CMD runs"
	assert_eq "$(g run --rm "${NET[@]}" cli-hist:v1 sh -c 'echo $GREETING')" hello "the imported ENV is set"
	out=$(g history cli-hist:v1)
	assert_match "$(head -1 <<<"$out")" '^IMAGE +CREATED +CREATED BY +SIZE +COMMENT$' "history header"
	assert_match "$(sed -n 2p <<<"$out")" "^${id:0:12} +.* ago +[0-9.]+[kM]B +imported by test\$" "history row: id, size, message"
	assert_eq "$(wc -l <<<"$out")" 2 "one layer, one row"
	assert_eq "$(g history -q cli-hist:v1)" "${id:0:12}" "history -q"
	assert_eq "$(g image history --no-trunc --format '{{.ID}}|{{.Comment}}' cli-hist:v1)" "sha256:$id|imported by test" "history --no-trunc --format"
	out=$(g history nosuchimage 2>&1) || rc=$?
	assert_eq "$rc" 1 "history of a missing image fails"
	assert_contains "$out" "No such image"
	rc=0
	out=$(tar -C "$tmp/rootfs" -c . | g import -c 'BOGUS x' - cli-hist:bad 2>&1) || rc=$?
	assert_eq "$rc" 1 "import with a bad change fails"
	assert_contains "$out" "bogus is not a valid change command" "the bad instruction is named"
	g rmi cli-hist:v1 >/dev/null
}

# ps --filter before/since/health/network/volume/publish/expose, each returning its own set.
test_ps_filters() {
	local i
	rm_at_exit pf-a pf-b pf-c pf-h pf-host pf-v pf-x
	mkdir -p "$tmp/pfvol"
	g create "${NET[@]}" --name pf-a busybox true >/dev/null
	g create "${NET[@]}" --name pf-b busybox true >/dev/null
	g create "${NET[@]}" --name pf-c busybox true >/dev/null
	names() { g ps -a --format '{{.Names}}' "$@" | sort | tr '\n' ' '; }
	assert_eq "$(g ps -a --format '{{.Names}}' -f name=pf- -f before=pf-b)" pf-a "before"
	assert_eq "$(g ps -a --format '{{.Names}}' -f name=pf- -f since=pf-b)" pf-c "since"
	assert_eq "$(g ps --format '{{.Names}}' -f name=pf- -f since=pf-a)" "" "since without -a: no stopped ones"
	assert_eq "$(names -f name=pf- -f since=pf-a -f before=pf-c)" "pf-b " "since and before"
	local out rc=0
	out=$(g ps -f before=nosuch 2>&1) || rc=$?
	assert_eq "$rc" 1 "before a missing container fails"
	assert_contains "$out" "No such container: nosuch"
	g run -d "${NET[@]}" --name pf-h --health-cmd true --health-interval 200ms busybox sleep 1000 >/dev/null
	for ((i = 0; i < 50; i++)); do
		[[ $(g inspect -f '{{.State.Health.Status}}' pf-h) == healthy ]] && break
		sleep 0.1
	done
	g run -d --network host --name pf-host busybox sleep 1000 >/dev/null
	g run -d "${NET[@]}" --name pf-v -v "$tmp/pfvol:/data" busybox sleep 1000 >/dev/null
	g run -d "${NET[@]}" --name pf-x --expose 8080 --expose 53/udp busybox sleep 1000 >/dev/null
	assert_eq "$(names -f health=healthy)" "pf-h " "health=healthy"
	assert_eq "$(names -f name=pf- -f health=none)" "pf-a pf-b pf-c pf-host pf-v pf-x " "health=none"
	assert_eq "$(names -f health=unhealthy)" "" "health=unhealthy: none"
	rc=0
	out=$(g ps -f health=great 2>&1) || rc=$?
	assert_eq "$rc" 1 "a bad health value fails"
	assert_contains "$out" "Unrecognised filter value for health: great"
	assert_eq "$(names -f network=host)" "pf-host " "network=host"
	assert_eq "$(names -f name=pf- -f network=none)" "pf-a pf-b pf-c pf-h pf-v pf-x " "network=none"
	assert_eq "$(names -f volume=/data)" "pf-v " "volume by destination"
	assert_eq "$(names -f volume="$tmp/pfvol")" "pf-v " "volume by source"
	assert_eq "$(names -f expose=8080)" "pf-x " "expose=8080"
	assert_eq "$(names -f expose=8000-8100/tcp)" "pf-x " "expose range"
	assert_eq "$(names -f expose=53/udp)" "pf-x " "expose udp"
	assert_eq "$(names -f expose=53)" "" "expose 53/tcp: none"
	assert_eq "$(names -f publish=8080)" "" "publish: nothing published"
	rc=0
	out=$(g ps -f publish=80:80 2>&1) || rc=$?
	assert_eq "$rc" 1 "publish with a ':' fails"
	assert_contains "$out" "should not contain ':'"
	rc=0
	out=$(g ps -f expose=9-5 2>&1) || rc=$?
	assert_eq "$rc" 1 "a reversed port range fails"
	assert_contains "$out" "Invalid range specified for the Port: 9-5"
	rc=0
	out=$(g ps -f bogus=1 2>&1) || rc=$?
	assert_eq "$rc" 1 "an unknown filter fails"
	assert_contains "$out" "invalid filter 'bogus'"
	g rm -f pf-a pf-b pf-c pf-h pf-host pf-v pf-x >/dev/null
}

# The container/image management forms reach the same verbs.
test_aliases() {
	rm_at_exit al al2
	g run -d "${NET[@]}" --name al busybox sleep 1000 >/dev/null
	assert_eq "$(g container exec al echo via-alias)" via-alias "container exec"
	assert_eq "$(g container pause al)" al "container pause"
	assert_eq "$(g inspect -f '{{.State.Paused}}' al)" true "paused through the alias"
	assert_eq "$(g container unpause al)" al "container unpause"
	g container rename al al2
	assert_eq "$(g inspect -f '{{.Name}}' al2)" /al2 "container rename"
	assert_eq "$(g container port al2)" "" "container port: none published"
	assert_contains "$(g container attach --help)" "Usage:  gantry attach" "container attach --help"
	assert_contains "$(g image history --help)" "--no-trunc" "image history --help lists its flags"
	g rm -f al2 >/dev/null
}

# The README's first command: an interactive shell on a terminal, removed when it exits.
test_run_it_rm_shell() {
	local cmd out rc=0
	printf -v cmd '%q ' "$GANTRY" run -it --rm "${NET[@]}" --name itsh busybox sh
	out=$( (printf 'echo in-$((6*7)) $(tty)\nexit 3\n'; sleep 3) |
		SHELL=/bin/bash timeout 30 script -qec "$cmd" /dev/null) || rc=$?
	assert_contains "$out" "in-42 /dev/pts/0" "the shell ran the command on its terminal"
	assert_eq "$rc" 3 "gantry exits with the shell's status"
	local i
	for ((i = 0; i < 50; i++)); do
		[[ -z $(g ps -aq -f name=itsh) ]] && break
		sleep 0.1
	done
	assert_eq "$(g ps -aq -f name=itsh)" "" "--rm removed it"
}

test_no_leftovers() {
	assert_eq "$(g ps -a --format '{{.Names}} {{.Status}}')" "" "no containers left"
}

t_run "${TARGET}_cli_import_images" test_import
t_run "${TARGET}_cli_run_echo" test_run_echo
t_run "${TARGET}_cli_exec_errors" test_exec_errors
t_run "${TARGET}_cli_verb_help" test_verb_help
t_run "${TARGET}_cli_bad_image" test_bad_image
t_run "${TARGET}_cli_detached_lifecycle" test_detached_lifecycle
t_run "${TARGET}_cli_ps_format" test_ps_format
t_run "${TARGET}_cli_inspect_format" test_inspect_format
t_run "${TARGET}_cli_images_tag_load_rmi" test_images_tag_load_rmi
t_run "${TARGET}_cli_exec_pause_rename" test_exec_pause_rename
t_run "${TARGET}_cli_restart_stop_signal" test_restart_stop_signal
t_run "${TARGET}_cli_attach" test_attach
t_run "${TARGET}_cli_update" test_update
t_run "${TARGET}_cli_import_history" test_import_history
t_run "${TARGET}_cli_ps_filters" test_ps_filters
t_run "${TARGET}_cli_aliases" test_aliases
t_run "${TARGET}_cli_run_it_rm_shell" test_run_it_rm_shell
t_run "${TARGET}_cli_no_leftovers" test_no_leftovers
t_summary
