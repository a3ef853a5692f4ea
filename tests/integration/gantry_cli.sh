#!/usr/bin/env bash
# The gantry CLI against a private daemon: gantryd (default) or, with GANTRY_CLI_TARGET=dockerd, a real
# dockerd, since both speak the Engine API. Asserts what a user sees: output, messages, exit codes.
# Test functions are called through t_run (SC2317).
# shellcheck disable=SC2317
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
t_run "${TARGET}_cli_no_leftovers" test_no_leftovers
t_summary
