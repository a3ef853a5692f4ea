#!/usr/bin/env bash
# What a user of the real docker CLI (28) sees against gantryd (TARGET=dockerd: the same scenarios against a private dockerd).
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
IMG=busybox:latest
bbtar=$(e2e_busybox_tar)
img_id=$(bash "$E2E_TOP/scripts/make-busybox-image.sh" "$E2E_TMP/busybox-again.tar")
data=$E2E_TMP/data

# Loads the image again when an earlier scenario (rmi) removed it or failed half-way.
need_image() {
	dk image inspect "$IMG" >/dev/null 2>&1 || dk load -i "$bbtar" >/dev/null
}

# Runs CMD... and prints "rc=N" then its combined output (for commands expected to fail).
rc_out() {
	local rc=0 out
	out=$("$@" 2>&1) || rc=$?
	printf 'rc=%s\n%s\n' "$rc" "$out"
}

test_version() {
	local out
	out=$(dk version)
	assert_contains "$out" "Server:" "docker version shows a server section"
	assert_contains "$out" "API version:" "API version line"
	assert_ne "$(dk version -f '{{.Server.Version}}')" "" "server version"
	assert_eq "$(dk version -f '{{.Server.Os}}')" linux "server os"
	assert_ne "$(dk info -f '{{.ServerVersion}}')" "" "docker info answers"
	if [[ $TARGET == gantryd ]]; then # dockerd names runc and docker-init
		assert_eq "$(dk info -f '{{.DefaultRuntime}}')" gantry "docker info: Default Runtime"
		assert_match "$(dk info -f '{{.InitBinary}}')" '/gantry-init$' "docker info: gantry-init"
	fi
}

test_load() {
	local out
	out=$(dk load -i "$bbtar")
	assert_eq "$out" "Loaded image: busybox:latest" "docker load output"
	assert_eq "$(dk image inspect -f '{{.Id}}' "$IMG")" "$img_id" "image id is the config digest"
	# Loading the same archive again is a no-op that still names the image.
	assert_contains "$(dk load -i "$bbtar")" "Loaded image: busybox:latest" "second load"
	assert_contains "$(dk load < "$bbtar")" "Loaded image: busybox:latest" "load from stdin"
}

test_images() {
	local out
	need_image
	out=$(dk images)
	assert_match "$out" 'REPOSITORY +TAG +IMAGE ID +CREATED +SIZE' "table header"
	assert_match "$out" "busybox +latest +${img_id:7:12} " "busybox row with the short id"
	assert_eq "$(dk images --format '{{.Repository}}:{{.Tag}}' busybox)" busybox:latest "images filtered by name"
	assert_eq "$(dk images -q --no-trunc busybox)" "$img_id" "images -q --no-trunc"
}

test_image_inspect() {
	need_image
	assert_eq "$(dk image inspect -f '{{json .Config.Cmd}}' busybox)" '["sh"]' ".Config.Cmd"
	assert_contains "$(dk image inspect -f '{{json .Config.Env}}' busybox)" "PATH=/usr/local/sbin" ".Config.Env"
	assert_eq "$(dk image inspect -f '{{.Os}}/{{.Architecture}}' busybox)" "linux/$(dpkg --print-architecture)" "platform"
	assert_eq "$(dk image inspect -f '{{len .RootFS.Layers}}' busybox)" 1 "one layer"
	assert_eq "$(dk image inspect -f '{{json .RepoTags}}' busybox)" '["busybox:latest"]' "RepoTags"
	assert_match "$(dk image inspect -f '{{.Size}}' busybox)" '^[1-9][0-9]{5,}$' "Size in bytes"
	local out
	out=$(rc_out dk image inspect nosuchimage)
	assert_contains "$out" "rc=1" "inspect of a missing image fails"
	assert_contains "$out" "No such image: nosuchimage" "missing image message"
}

test_tag_rmi() {
	local out cid
	need_image
	dk tag busybox busybox:e2e
	dk tag busybox e2e/other:v1
	out=$(dk images --format '{{.Repository}}:{{.Tag}} {{.ID}}')
	assert_contains "$out" "busybox:e2e ${img_id:7:12}" "new tag listed with the same id"
	assert_contains "$out" "e2e/other:v1 ${img_id:7:12}" "repo/name tag listed"
	# An image with other tags is only untagged.
	assert_eq "$(dk rmi busybox:e2e)" "Untagged: busybox:e2e" "rmi of one of several tags"
	assert_eq "$(dk rmi e2e/other:v1)" "Untagged: e2e/other:v1" "rmi of a repo/name tag"
	dk image inspect busybox >/dev/null
	# The last tag of an image a container uses: conflict, nothing removed.
	cid=$(dk create --name holder busybox true)
	out=$(rc_out dk rmi busybox)
	assert_contains "$out" "rc=1" "rmi of an image in use fails"
	assert_contains "$out" "conflict" "rmi conflict message"
	assert_contains "$out" "${cid:0:12}" "conflict names the container"
	dk image inspect busybox >/dev/null
	# Removing by id with the container still there is refused as well.
	out=$(rc_out dk rmi "$img_id")
	assert_contains "$out" "rc=1" "rmi by id of an image in use fails"
	dk rm holder >/dev/null
	out=$(dk rmi busybox)
	assert_contains "$out" "Untagged: busybox:latest" "last tag untagged"
	assert_contains "$out" "Deleted: $img_id" "image deleted"
	out=$(rc_out dk image inspect busybox)
	assert_contains "$out" "No such image" "image gone after rmi"
	out=$(rc_out dk rmi busybox)
	assert_contains "$out" "rc=1" "rmi of a missing image fails"
	assert_contains "$out" "No such image: busybox" "rmi missing message"
	need_image
}

test_run_echo() {
	local out
	need_image
	out=$(dk run --rm --network none busybox echo hello)
	assert_eq "$out" hello "docker run output"
	assert_eq "$(dk ps -aq | wc -l)" 0 "--rm removed the container"
	out=$(dk run --rm busybox echo default-network)
	assert_eq "$out" default-network "run without --network"
	if [[ $TARGET == gantryd ]]; then
		# --rm: a volatile overlay (no sync of the upper fs at unmount); a kept container: not.
		assert_contains "$(dk run --rm busybox awk '$2 == "/"' /proc/mounts)" "volatile" "--rm root is volatile"
		assert_not_contains "$(dk run --name keep busybox awk '$2 == "/"' /proc/mounts)" "volatile" "kept root is not"
		dk rm keep >/dev/null
		# Their dirs are unlinked in the background: gone within a moment, no trash left.
		local i left
		for ((i = 0; i < 50; i++)); do
			left=$(find "$E2E_TMP/root/containers" -mindepth 1 -maxdepth 1 | wc -l)
			[[ $left -eq 0 ]] && break
			sleep 0.1
		done
		assert_eq "$left" 0 "container dirs removed"
	fi
}

test_exit_code() {
	local rc=0
	need_image
	dk run --rm busybox sh -c 'exit 3' || rc=$?
	assert_eq "$rc" 3 "exit status passes through"
	rc=0
	dk run --rm busybox false || rc=$?
	assert_eq "$rc" 1 "false"
	rc=0
	dk run --rm busybox sh -c 'exit 255' || rc=$?
	assert_eq "$rc" 255 "exit 255"
}

wait_logs() { # NAME NEEDLE: up to 10 s for NEEDLE to be in the logs
	local i
	for ((i = 0; i < 100; i++)); do
		[[ $(dk logs "$1" 2>&1) == *"$2"* ]] && return 0
		sleep 0.1
	done
	return 1
}

test_detached_lifecycle() {
	local out cid t0 t1 rc
	local web_cmd='echo to-stderr >&2; sleep 0.3; for i in 1 2 3; do echo line$i; done; exec sleep 60'
	need_image
	cid=$(dk run -d --name web busybox sh -c "$web_cmd")
	assert_match "$cid" '^[0-9a-f]{64}$' "run -d prints the full id"
	out=$(dk ps)
	assert_match "$out" "${cid:0:12} +busybox +\"sh -c 'echo to-" "ps row: id, image, command"
	assert_match "$out" ' Up [0-9A-Za-z ]+ +web$' "ps shows it Up, named web"
	assert_eq "$(dk ps -q --no-trunc)" "$cid" "ps -q"
	assert_eq "$(dk inspect -f '{{.State.Status}} {{.State.Running}}' web)" "running true" "inspect state"
	assert_eq "$(dk inspect -f '{{.Name}} {{.Id}}' web)" "/web $cid" "inspect name and id"
	assert_eq "$(dk inspect web | jq -c '.[0].Config | [.Image, .Cmd]')" \
		"$(jq -cn --arg c "$web_cmd" '["busybox", ["sh", "-c", $c]]')" "inspect config"
	assert_match "$(dk inspect -f '{{.State.Pid}}' web)" '^[1-9][0-9]*$' "a running pid"
	assert_match "$(dk inspect -f '{{.State.StartedAt}}' web)" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T' "StartedAt"
	wait_logs web line3 || t_fail "logs never showed the lines: $(dk logs web 2>&1)"
	assert_eq "$(dk logs web 2>/dev/null)" $'line1\nline2\nline3' "docker logs stdout"
	assert_eq "$(dk logs web 2>&1 >/dev/null)" "to-stderr" "docker logs stderr stays on stderr"
	assert_eq "$(dk logs --tail 1 web 2>&1)" line3 "--tail 1"
	assert_eq "$(dk logs --tail 2 web 2>&1)" $'line2\nline3' "--tail 2"
	assert_match "$(dk logs -t web 2>/dev/null | head -1)" '^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z line1$' "logs -t timestamps"
	# A running container is not removed without -f.
	out=$(rc_out dk rm web)
	assert_contains "$out" "rc=1" "rm of a running container fails"
	assert_contains "$out" "You cannot remove a running container $cid" "rm running message"
	# sleep as pid 1 ignores SIGTERM: stop -t 1 kills it after a second.
	t0=$(date +%s%N)
	assert_eq "$(dk stop -t 1 web)" web "stop prints the name"
	t1=$(date +%s%N)
	assert_match "$(((t1 - t0) / 1000000))" '^([0-9]{1,3}|[0-2][0-9]{3})$' "stop -t 1 within 3 s ($(((t1 - t0) / 1000000)) ms)"
	assert_eq "$(dk inspect -f '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}' web)" "exited false 137" "state after stop"
	out=$(dk ps -a)
	assert_match "$out" 'Exited \((137|143)\) .* web$' "ps -a shows Exited"
	assert_eq "$(dk ps -q)" "" "ps without -a hides it"
	# Logs outlive the process.
	assert_contains "$(dk logs web 2>/dev/null)" line3 "logs after exit"
	assert_eq "$(dk rm web)" web "rm prints the name"
	rc=0
	dk inspect web >/dev/null 2>&1 || rc=$?
	assert_eq "$rc" 1 "inspect after rm fails"
	assert_not_contains "$(dk ps -a)" web "ps -a after rm"
}

test_stop_sigterm() {
	local t0 t1
	need_image
	# A shell that traps TERM exits at once with its own code.
	dk run -d --name term busybox sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done' >/dev/null
	sleep 0.5
	t0=$(date +%s%N)
	dk stop -t 10 term >/dev/null
	t1=$(date +%s%N)
	assert_eq "$(dk inspect -f '{{.State.ExitCode}}' term)" 42 "exit code from the TERM handler"
	assert_match "$(((t1 - t0) / 1000000))" '^[0-9]{1,4}$' "stopped before the 10 s timeout"
	dk rm term >/dev/null
}

test_create_start() {
	local cid out
	need_image
	cid=$(dk create --name c1 busybox echo created-out)
	assert_match "$cid" '^[0-9a-f]{64}$' "create prints the id"
	assert_eq "$(dk inspect -f '{{.State.Status}}' c1)" created "state created"
	assert_match "$(dk ps -a --format '{{.Names}} {{.Status}}')" '(^|'$'\n'')c1 Created' "ps -a shows Created"
	out=$(dk start -a c1)
	assert_eq "$out" created-out "start -a prints the output"
	assert_eq "$(dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' c1)" "exited 0" "state after start -a"
	# A second start runs it again.
	assert_eq "$(dk start -a c1)" created-out "restart of an exited container"
	dk rm c1 >/dev/null
	# Name conflicts are refused.
	dk create --name c2 busybox true >/dev/null
	out=$(rc_out dk create --name c2 busybox true)
	assert_contains "$out" "rc=1" "create with a taken name"
	assert_contains "$out" 'Conflict. The container name "/c2" is already in use' "name conflict message"
	dk rm c2 >/dev/null
}

test_env() {
	need_image
	assert_eq "$(dk run --rm -e FOO=bar busybox sh -c 'echo $FOO')" bar "-e FOO=bar"
	assert_eq "$(FOO2=from-host dk run --rm -e FOO2 busybox sh -c 'echo $FOO2')" from-host "-e NAME takes the client's value"
	assert_eq "$(dk run --rm busybox sh -c 'echo $PATH')" /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "PATH from the image"
	assert_eq "$(dk run --rm busybox sh -c 'echo $HOME')" /root "HOME for root"
	assert_match "$(dk run --rm busybox hostname)" '^[0-9a-f]{12}$' "hostname is the short id"
	assert_eq "$(dk run --rm --hostname box busybox hostname)" box "--hostname"
}

test_workdir() {
	need_image
	assert_eq "$(dk run --rm -w /tmp busybox pwd)" /tmp "-w /tmp"
	assert_eq "$(timeout -s KILL 20 "$DOCKER" run --rm -w /new/dir busybox pwd)" /new/dir "-w creates a missing dir"
	assert_eq "$(dk run --rm busybox pwd)" / "default workdir"
}

test_user() {
	need_image
	assert_eq "$(dk run --rm -u 1000 busybox id -u)" 1000 "-u 1000"
	assert_eq "$(dk run --rm -u 1000 busybox id -un)" user "name from the image's /etc/passwd"
	assert_eq "$(dk run --rm -u 1000:1000 busybox id -g)" 1000 "-u uid:gid"
	assert_eq "$(dk run --rm -u user busybox id -u)" 1000 "-u by name"
	assert_eq "$(dk run --rm busybox id -u)" 0 "root by default"
}

test_memory() {
	local cid cg i
	need_image
	cid=$(dk run -d --name mem --memory 64m busybox sleep 60)
	assert_eq "$(dk inspect -f '{{.HostConfig.Memory}}' mem)" 67108864 "inspect HostConfig.Memory"
	cg=$(e2e_cgroup_dir memory "$cid")
	assert_ok test -d "$cg"
	assert_eq "$(cat "$cg/memory.limit_in_bytes")" 67108864 "host cgroup $cg"
	assert_contains "$(cat "$cg/cgroup.procs")" "$(dk inspect -f '{{.State.Pid}}' mem)" "the container's pid is in it"
	dk rm -f mem >/dev/null
	for ((i = 0; i < 50; i++)); do [[ -d $cg ]] || break; sleep 0.1; done
	assert_fails test -d "$cg"
}

test_bind_mount() {
	local out rc=0
	need_image
	mkdir -p "$data"
	echo from-host > "$data/in"
	out=$(dk run --rm -v "$data:/data" busybox sh -c 'cat /data/in; echo from-container > /data/out')
	assert_eq "$out" from-host "the container reads the host file"
	assert_eq "$(cat "$data/out")" from-container "the host sees the container's write"
	out=$(dk run --rm -v "$data:/data:ro" busybox sh -c 'echo x > /data/ro 2>&1' 2>&1) || rc=$?
	assert_ne "$rc" 0 ":ro write fails"
	assert_contains "$out" "Read-only file system" ":ro message"
	assert_fails test -e "$data/ro"
	assert_eq "$(dk run --rm --mount "type=bind,src=$data,dst=/m" busybox cat /m/in)" from-host "--mount type=bind"
}

test_read_only() {
	local out rc=0
	need_image
	out=$(dk run --rm --read-only busybox touch /x 2>&1) || rc=$?
	assert_ne "$rc" 0 "--read-only: writing / fails"
	assert_contains "$out" "Read-only file system" "--read-only message"
	assert_eq "$(dk run --rm --read-only busybox sh -c 'echo ok > /dev/null && echo ok')" ok "/dev still writable"
	assert_eq "$(dk run --rm busybox sh -c 'touch /x && echo writable')" writable "the default rootfs is writable"
}

test_stdin() {
	need_image
	assert_eq "$(echo hi | dk run -i --rm busybox cat)" hi "stdin piped through -i"
	assert_eq "$(printf 'a\nb\nc\n' | dk run -i --rm busybox wc -l)" 3 "several lines"
	assert_eq "$(head -c 1000000 /dev/zero | dk run -i --rm busybox wc -c)" 1000000 "1 MB through stdin"
	assert_eq "$(echo hi | dk run --rm busybox cat)" "" "without -i stdin is closed"
}

test_tty() {
	local cmd out rc=0
	need_image
	printf -v cmd '%q ' "$DOCKER" run -t --rm busybox sh -c 'tty; echo in-tty; stty size'
	out=$(SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null </dev/null | tr -d '\r')
	assert_contains "$out" "/dev/pts/" "run -t gives a tty"
	assert_contains "$out" "in-tty" "run -t output"
	printf -v cmd '%q ' "$DOCKER" run -it --rm busybox sh
	out=$(printf 'echo typed-$((6*7))\nexit 4\n' | SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null) || rc=$?
	assert_contains "$out" "typed-42" "interactive shell over a tty"
	assert_eq "$rc" 4 "exit code through the tty session"
	assert_eq "$(dk run --rm busybox sh -c 'tty || true')" "not a tty" "no tty without -t"
}

test_wait() {
	need_image
	dk run -d --name waiter busybox sh -c 'sleep 1; exit 5' >/dev/null
	assert_eq "$(dk wait waiter)" 5 "docker wait prints the exit code"
	assert_eq "$(dk wait waiter)" 5 "wait on an exited container"
	dk rm waiter >/dev/null
}

test_kill() {
	local out
	need_image
	dk run -d --name killme busybox sleep 60 >/dev/null
	assert_eq "$(dk kill -s KILL killme)" killme "kill prints the name"
	assert_eq "$(dk wait killme)" 137 "killed by SIGKILL"
	assert_eq "$(dk inspect -f '{{.State.Status}} {{.State.ExitCode}}' killme)" "exited 137" "state after kill"
	out=$(rc_out dk kill killme)
	assert_contains "$out" "rc=1" "kill of a stopped container fails"
	assert_contains "$out" "is not running" "kill stopped message"
	dk run -d --name killme2 busybox sh -c 'trap "echo got-usr1; exit 0" USR1; while :; do sleep 0.1; done' >/dev/null
	sleep 0.5
	dk kill -s USR1 killme2 >/dev/null
	assert_eq "$(dk wait killme2)" 0 "USR1 handled"
	assert_eq "$(dk logs killme2)" got-usr1 "the trap ran"
	dk rm killme killme2 >/dev/null
}

test_rm_force() {
	need_image
	dk run -d --name forced busybox sleep 60 >/dev/null
	assert_eq "$(dk rm -f forced)" forced "rm -f of a running container"
	assert_contains "$(rc_out dk inspect forced)" "No such object: forced" "gone after rm -f"
}

test_bad_input() {
	local out
	out=$(rc_out dk run --pull never --rm nosuchimage)
	assert_contains "$out" "rc=125" "run of a missing image (no pull)"
	assert_contains "$out" "No such image: nosuchimage" "missing image message"
	if [[ $TARGET == gantryd ]]; then
		# The CLI tries a pull first: from a loopback port nobody listens on, never the Internet.
		out=$(rc_out dk run --rm 127.0.0.1:9/nosuchimage)
		assert_contains "$out" "rc=125" "run of a missing image"
		assert_contains "$out" "Unable to find image '127.0.0.1:9/nosuchimage:latest' locally" "CLI message"
	fi
	out=$(rc_out dk rm nosuch)
	assert_contains "$out" "rc=1" "rm of a missing container"
	assert_contains "$out" "No such container: nosuch" "rm missing message"
	out=$(rc_out dk inspect nosuch)
	assert_contains "$out" "rc=1" "inspect of a missing container"
	assert_contains "$out" "No such object: nosuch" "inspect missing message"
	out=$(rc_out dk logs nosuch)
	assert_contains "$out" "No such container: nosuch" "logs missing message"
	out=$(rc_out dk stop nosuch)
	assert_contains "$out" "No such container: nosuch" "stop missing message"
}

test_start_failure() {
	local out
	need_image
	# The CLI waits for the container's removal after a failed start with --rm: a short timeout
	# turns a daemon that never removes it into rc 137 instead of a hung test (SIGKILL: the
	# CLI forwards SIGTERM to the container and keeps waiting).
	out=$(rc_out timeout -s KILL 20 "$DOCKER" run --rm busybox /no/such/binary)
	assert_contains "$out" "/no/such/binary" "the message names the missing executable"
	assert_contains "$out" "rc=127" "missing executable is 127"
	assert_eq "$(dk ps -aq)" "" "--rm removed the container that failed to start"
	out=$(rc_out timeout -s KILL 20 "$DOCKER" run --name nobin busybox /no/such/binary)
	assert_contains "$out" "rc=127" "missing executable without --rm"
	assert_eq "$(dk inspect -f '{{.State.Running}} {{.State.ExitCode}}' nobin)" "false 127" "state after the failed start"
	out=$(rc_out timeout -s KILL 20 "$DOCKER" run --rm busybox /etc/passwd)
	assert_contains "$out" "rc=126" "a file that cannot be executed is 126"
	# A user missing from the image fails the start itself (before any exec).
	out=$(rc_out timeout -s KILL 20 "$DOCKER" run --rm -u nosuchuser busybox true)
	assert_match "$out" "^rc=12[56]"$'\n' "unknown user (dockerd 20.10 says 125, later ones 126)"
	assert_contains "$out" "nosuchuser" "the message names the user"
	assert_eq "$(dk ps -a --format '{{.Names}}')" nobin "only the container without --rm is left"
	assert_contains "$(dk inspect -f '{{.State.Error}}' nobin)" "/no/such/binary" "State.Error"
	dk rm nobin >/dev/null
}

test_sizes_and_exec_ids() {
	dk run -d --name sized busybox sh -c 'head -c 1048576 /dev/zero > /big; sleep 300' >/dev/null
	local i rw
	for ((i = 0; i < 50; i++)); do
		rw=$(dk inspect -s -f '{{.SizeRw}}' sized)
		[[ $rw -ge 1048576 ]] && break
		sleep 0.1
	done
	assert_match "$rw" '^1[0-9]{6}$' "inspect -s: SizeRw counts the 1 MiB file"
	assert_match "$(dk inspect -s -f '{{.SizeRootFs}}' sized)" '^[0-9]+$' "inspect -s: SizeRootFs"
	[[ $(dk inspect -s -f '{{.SizeRootFs}}' sized) -gt $rw ]] || { echo "SizeRootFs is not above SizeRw" >&2; return 1; }
	assert_match "$(dk ps -s --format '{{.Size}}' -f name=sized)" '^1\.05MB \(virtual [0-9.]+[kM]B\)$' "ps -s"
	assert_eq "$(dk inspect -f '{{json .SizeRw}}' sized)" null "no size without -s"
	assert_eq "$(dk inspect -f '{{json .ExecIDs}}' sized)" null "ExecIDs without execs"
	dk exec -d sized sleep 30
	assert_match "$(dk inspect -f '{{json .ExecIDs}}' sized)" '^\["[0-9a-f]{64}"\]$' "ExecIDs: the running exec"
	dk rm -f sized >/dev/null
}

test_mounts_listed() {
	local d
	d=$(mktemp -d /tmp/gantry-mnt.XXXXXX)
	dk create --name mnts -v "$d:/b1:ro" --mount "type=bind,source=$d,target=/b2" \
		--mount type=tmpfs,target=/t --tmpfs /t2 busybox true >/dev/null
	assert_eq "$(dk inspect -f '{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}} {{.RW}} {{.Propagation}};{{end}}' mnts)" \
		"bind $d /b1 false rprivate;bind $d /b2 true rprivate;tmpfs  /t true ;" ".Mounts"
	dk rm mnts >/dev/null
	rmdir "$d"
}

test_image_filters() {
	dk create --name imgsrc busybox true >/dev/null
	dk commit -c 'LABEL flt=yes' imgsrc flt:new >/dev/null
	dk rm imgsrc >/dev/null
	local newest old
	newest=$(dk images -q --no-trunc flt:new)
	old=$(dk images -q --no-trunc busybox:latest)
	assert_eq "$(dk images -q --no-trunc --filter since=busybox:latest flt)" "$newest" "since"
	assert_eq "$(dk images -q --no-trunc --filter before=flt:new busybox)" "$old" "before"
	assert_eq "$(dk images -q --no-trunc --filter before=flt:new flt)" "" "before excludes itself"
	assert_eq "$(dk images -q --no-trunc --filter label=flt=yes)" "$newest" "label"
	# until (API 1.44; the Debian dockerd, API 1.41, refuses it): the 1970 busybox, not the new one
	if [[ $TARGET == gantryd ]]; then
		assert_eq "$(dk images -q --no-trunc --filter until=1h)" "$old" "until an hour ago"
		assert_eq "$(dk images -q --no-trunc --filter until=1969-12-31T00:00:00Z)" "" "until 1969"
	fi
	local out rc=0
	out=$(dk images --filter color=blue 2>&1) || rc=$?
	assert_eq "$rc" 1 "an unknown filter fails"
	assert_match "$out" "[Ii]nvalid filter 'color'" "and names the filter"
	out=$(dk images --filter before=no-such-image 2>&1) || rc=$?
	assert_contains "$out" "No such image: no-such-image" "before names the missing image"
	dk rmi flt:new >/dev/null
}

# Each scenario removes its containers; after a failure this does it, so the next one starts clean.
scenario() { # NAME FN
	# SCENARIOS="a b": run only those (for a quick rerun of failures).
	[[ -z ${SCENARIOS:-} || " $SCENARIOS " == *" $1 "* ]] || return 0
	t_run "$TARGET:cli_$1" "$2"
	local left
	left=$(dk ps -aq)
	if [[ -n $left ]]; then
		t_log "removing containers left by $1: ${left//$'\n'/ }"
		# shellcheck disable=SC2086
		dk rm -f $left >/dev/null 2>&1 || true
	fi
}

scenario version test_version
scenario load test_load
scenario images test_images
scenario image_inspect test_image_inspect
scenario tag_rmi test_tag_rmi
scenario run_echo test_run_echo
scenario exit_code test_exit_code
scenario detached_lifecycle test_detached_lifecycle
scenario stop_sigterm test_stop_sigterm
scenario create_start test_create_start
scenario env test_env
scenario workdir test_workdir
scenario user test_user
scenario memory test_memory
scenario bind_mount test_bind_mount
scenario read_only test_read_only
scenario stdin test_stdin
scenario tty test_tty
scenario wait test_wait
scenario kill test_kill
scenario rm_force test_rm_force
scenario bad_input test_bad_input
scenario start_failure test_start_failure
scenario sizes_and_exec_ids test_sizes_and_exec_ids
scenario mounts_listed test_mounts_listed
scenario image_filters test_image_filters
stop_daemon
t_summary
