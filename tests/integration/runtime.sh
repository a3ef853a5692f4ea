#!/usr/bin/env bash
# gantry-runtime end to end as root: lifecycle, limits, exec, hooks, terminal, errors, cleanup.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
source "$top/tests/lib.sh"

RT=${RUNTIME:-/usr/local/bin/gantry-runtime}
tmp=$(mktemp -d /tmp/gantry-rt-test.XXXXXX)
chmod 755 "$tmp" # user-namespaced containers must reach their rootfs
ROOT=$tmp/state
t_defer "rm -rf '$tmp'"
# Whatever a failed test left: delete every container it made (by our own state root only).
t_defer "for id in \$('$RT' --root '$ROOT' list -q 2>/dev/null); do '$RT' --root '$ROOT' delete -f \"\$id\"; done"

rt() { "$RT" --root "$ROOT" "$@"; }

base=$tmp/base
RUNTIME=$RT "$top/scripts/make-bundle.sh" "$base" /bin/true >/dev/null

# new_bundle NAME JQ-FILTER ARGS...: a bundle sharing the base rootfs, config edited by jq.
new_bundle() {
	local name=$1 filter=$2
	shift 2
	local b=$tmp/$name
	mkdir -p "$b"
	ln -sfn "$base/rootfs" "$b/rootfs"
	local args
	args=$(jq -n '$ARGS.positional' --args -- "$@")
	jq --argjson a "$args" ".process.args = \$a | .root.path = \"$base/rootfs\" | $filter" \
		"$base/config.json" > "$b/config.json"
	echo "$b"
}

cgroup_leftovers() { find /sys/fs/cgroup -maxdepth 4 -type d -name "$1" 2>/dev/null; }

test_run_exit_codes() {
	local b
	b=$(new_bundle exitcodes . /bin/sh -c 'exit 3')
	local rc=0
	rt run --bundle "$b" ec1 || rc=$?
	assert_eq "$rc" 3 "run returns the container's exit status"
	b=$(new_bundle truth . /bin/true)
	assert_ok rt run --bundle "$b" ec2
	assert_eq "$(rt list -q)" "" "foreground run deletes the container"
	assert_eq "$(cgroup_leftovers ec2)" "" "no cgroup left"
}

test_output_and_environment() {
	local b out
	b=$(new_bundle env '.hostname = "gantry-test" | .process.env += ["FOO=bar"] | .process.cwd = "/tmp"' \
		/bin/sh -c 'echo "$(hostname) $FOO $(pwd) $$ $(id -u)"')
	out=$(rt run --bundle "$b" env1)
	assert_eq "$out" "gantry-test bar /tmp 1 0"
}

test_lifecycle_states() {
	local b st pid
	b=$(new_bundle life . /bin/sleep 30)
	assert_ok rt create --bundle "$b" --pid-file "$tmp/life.pid" life1
	st=$(rt state life1)
	assert_eq "$(jq -r .status <<<"$st")" created
	pid=$(jq -r .pid <<<"$st")
	assert_eq "$(cat "$tmp/life.pid")" "$pid" "pid file holds the init pid"
	assert_eq "$(jq -r .ociVersion <<<"$st")" "1.1.0"
	assert_eq "$(jq -r .bundle <<<"$st")" "$b"
	# Before start the init is still our binary: nothing in the container may reach it
	# (CVE-2019-5736), not even a process exec'd into the created container.
	assert_eq "$(rt exec life1 /bin/sh -c 'readlink /proc/1/exe || echo denied' 2>/dev/null)" denied
	assert_ok rt start life1
	assert_eq "$(rt state life1 | jq -r .status)" running
	assert_contains "$(readlink /proc/"$pid"/exe)" busybox
	local msg
	msg=$(rt delete life1 2>&1) && t_fail "delete of a running container must fail"
	assert_contains "$msg" "not stopped"
	assert_ok rt kill life1 KILL
	for _ in $(seq 50); do [[ $(rt state life1 | jq -r .status) == stopped ]] && break; sleep 0.05; done
	assert_eq "$(rt state life1 | jq -r .status)" stopped
	msg=$(rt start life1 2>&1) && t_fail "start of a stopped container must fail"
	assert_ok rt delete life1
	assert_fails rt state life1
	assert_eq "$(cgroup_leftovers life1)" "" "no cgroup left"
	assert_eq "$(grep -c "$b" /proc/self/mountinfo || true)" 0 "no mount left"
}

test_sealed_when_pid_ns_shared() {
	local b pid
	b=$(new_bundle shared 'del(.linux.namespaces[] | select(.type == "pid"))' /bin/true)
	assert_ok rt create --bundle "$b" shared1
	pid=$(rt state shared1 | jq -r .pid)
	# Host processes see this init: it runs from a sealed memfd copy of the runtime.
	assert_contains "$(readlink /proc/"$pid"/exe)" "memfd:gantry-runtime"
	assert_ok rt delete --force shared1
}

# runtime-spec runtime.md "delete": a container that is not stopped, created included, MUST
# NOT be deleted (an error, and no effect); --force kills and deletes it.
test_delete_created_needs_force() {
	local b pid msg
	b=$(new_bundle created . /bin/true)
	assert_ok rt create --bundle "$b" created1
	pid=$(rt state created1 | jq -r .pid)
	msg=$(rt delete created1 2>&1) && t_fail "delete of a created container must fail"
	assert_contains "$msg" "cannot delete container created1 that is not stopped: created"
	assert_eq "$(rt state created1 | jq -r .status)" created "no effect on the container"
	assert_ok t_alive "$pid"
	assert_ok rt delete --force created1
	assert_fails rt state created1
	assert_eq "$(cgroup_leftovers created1)" ""
}

# namespaces[].path for net, ipc and uts: the init joins them (config-linux.md "namespaces"),
# also when it gets a fresh user namespace, where joining from inside would fail with EPERM.
test_join_namespaces_by_path() {
	local holder b pid ns
	unshare --net --ipc --uts sleep 1000 </dev/null >/dev/null 2>&1 &
	holder=$!
	t_defer "kill $holder 2>/dev/null || true"
	for _ in $(seq 50); do
		[[ $(readlink /proc/$holder/ns/net) != "$(readlink /proc/self/ns/net)" ]] && break
		sleep 0.02
	done
	local filter='.linux.namespaces |= map(select(.type != "network" and .type != "ipc" and .type != "uts"))'
	filter="$filter | .linux.namespaces += [{\"type\":\"network\",\"path\":\"/proc/$holder/ns/net\"},"
	filter="$filter {\"type\":\"ipc\",\"path\":\"/proc/$holder/ns/ipc\"},"
	filter="$filter {\"type\":\"uts\",\"path\":\"/proc/$holder/ns/uts\"}]"
	b=$(new_bundle nspath "$filter" /bin/true)
	assert_ok rt create --bundle "$b" nspath1
	pid=$(rt state nspath1 | jq -r .pid)
	for ns in net ipc uts; do
		assert_eq "$(readlink /proc/"$pid"/ns/$ns)" "$(readlink /proc/$holder/ns/$ns)" "$ns joined"
	done
	assert_eq "$(readlink /proc/self/ns/net)" "$(readlink /proc/$$/ns/net)"
	assert_ok rt delete --force nspath1
	# In a new user namespace only net: mqueue and sethostname need to own ipc and uts.
	filter='.linux.namespaces |= map(select(.type != "network"))'
	filter="$filter | .linux.namespaces += [{\"type\":\"network\",\"path\":\"/proc/$holder/ns/net\"}]"
	b=$(new_bundle nspathuser "$filter"' | .linux.namespaces += [{"type":"user"}]
		| .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}]
		| .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]' /bin/true)
	assert_ok rt create --bundle "$b" nspath2
	pid=$(rt state nspath2 | jq -r .pid)
	assert_eq "$(readlink /proc/"$pid"/ns/net)" "$(readlink /proc/$holder/ns/net)" "net joined from a new user namespace"
	assert_ne "$(readlink /proc/"$pid"/ns/user)" "$(readlink /proc/self/ns/user)"
	assert_ok rt delete --force nspath2
	kill "$holder"
}

test_delete_force_and_kill_all() {
	local b
	b=$(new_bundle force . /bin/sh -c 'sleep 100 & sleep 100 & wait')
	rt run -d --bundle "$b" force1 </dev/null >/dev/null 2>&1
	assert_eq "$(rt state force1 | jq -r .status)" running
	assert_eq "$(rt ps --format json force1 | jq length)" 3 "sh and two sleeps"
	assert_ok rt kill --all force1 TERM
	for _ in $(seq 50); do [[ $(rt state force1 | jq -r .status) == stopped ]] && break; sleep 0.05; done
	assert_ok rt delete --force force1
	assert_ok rt delete --force force1 # a missing container is fine with --force
	assert_eq "$(cgroup_leftovers force1)" ""
}

test_memory_pids_cpu_limits() {
	local b out
	b=$(new_bundle limits '.linux.resources = {"memory":{"limit":67108864},"pids":{"limit":5},"cpu":{"shares":512,"quota":50000,"period":100000}} | .linux.cgroupsPath = "/gantry-test/limits1"' \
		/bin/sleep 30)
	rt run -d --bundle "$b" limits1 </dev/null >"$tmp/limits.out" 2>&1
	sleep 0.3
	assert_eq "$(cat /sys/fs/cgroup/memory/gantry-test/limits1/memory.limit_in_bytes)" 67108864
	assert_eq "$(cat /sys/fs/cgroup/pids/gantry-test/limits1/pids.max)" 5
	assert_eq "$(cat /sys/fs/cgroup/cpu/gantry-test/limits1/cpu.shares)" 512
	assert_eq "$(cat /sys/fs/cgroup/cpu/gantry-test/limits1/cpu.cfs_quota_us)" 50000
	out=$(rt exec limits1 /bin/sh -c 'for i in 1 2 3 4 5 6; do sleep 20 >/dev/null 2>&1 & done; echo spawned' 2>&1 || true)
	assert_contains "$out" "fork" "the pids limit stops the 5th process"
	# init + the shell + 3 sleeps made 5; the shell died on the failed fork, its sleeps live on.
	assert_eq "$(rt ps --format json limits1 | jq length)" 4 "init and 3 sleeps"
	assert_ok rt delete -f limits1
	assert_eq "$(cgroup_leftovers limits1)" ""
	rmdir /sys/fs/cgroup/*/gantry-test 2>/dev/null
	true
}

test_tiny_memory_limit() {
	local b
	b=$(new_bundle tiny '.linux.resources = {"memory":{"limit":524288}}' /bin/true)
	assert_ok rt run --bundle "$b" tiny1
}

test_capabilities() {
	local b out
	b=$(new_bundle caps '.process.capabilities = {"bounding":["CAP_CHOWN","CAP_NET_BIND_SERVICE"],"effective":["CAP_CHOWN"],"permitted":["CAP_CHOWN"]}' \
		/bin/sh -c 'grep -E "^Cap(Eff|Bnd)" /proc/self/status')
	out=$(rt run --bundle "$b" caps1)
	assert_contains "$out" "CapEff:	0000000000000001"
	assert_contains "$out" "CapBnd:	0000000000000401"
}

test_user_and_nnp() {
	local b out
	b=$(new_bundle user '.process.user = {"uid":1000,"gid":1000,"additionalGids":[10]} | .process.noNewPrivileges = true' \
		/bin/sh -c 'echo $(id -u) $(id -g) $(id -G); grep NoNewPrivs /proc/self/status')
	out=$(rt run --bundle "$b" user1)
	assert_contains "$out" "1000 1000 1000 10"
	assert_contains "$out" "NoNewPrivs:	1"
}

test_readonly_masked_paths() {
	local b out
	b=$(new_bundle ro '.root.readonly = true' /bin/sh -c 'touch /x 2>&1; cat /proc/kcore 2>&1 | wc -c; echo 1 > /proc/sys/kernel/domainname 2>&1; echo done')
	out=$(rt run --bundle "$b" ro1)
	assert_contains "$out" "Read-only file system"
	assert_contains "$out" "done"
}

test_no_host_fd_or_cwd_leak() {
	local b out
	b=$(new_bundle leak . /bin/sh -c 'ls /proc/self/fd | tr "\n" " "; readlink /proc/self/cwd')
	out=$(rt run --bundle "$b" leak1 3>/dev/null 4</etc/hostname)
	assert_eq "$out" "0 1 2 3 /" "only stdio (and ls's own dir fd) inside"
}

test_exec() {
	local b out rc=0
	b=$(new_bundle exec . /bin/sleep 30)
	rt run -d --bundle "$b" exec1 </dev/null >/dev/null 2>&1
	out=$(rt exec exec1 /bin/sh -c 'echo from-exec $$; cat /proc/1/cmdline | tr "\0" " "')
	assert_contains "$out" "from-exec"
	assert_contains "$out" "sleep 30"
	out=$(echo piped | rt exec exec1 cat)
	assert_eq "$out" piped "stdin reaches the exec'd process"
	rt exec exec1 /bin/sh -c 'exit 7' || rc=$?
	assert_eq "$rc" 7
	jq -n '{args:["/bin/sh","-c","id -u; pwd"],cwd:"/tmp",user:{uid:1234,gid:1234},env:["PATH=/bin"]}' > "$tmp/proc.json"
	out=$(rt exec --process "$tmp/proc.json" exec1)
	assert_eq "$out" "$(printf '1234\n/tmp')"
	out=$(rt exec exec1 nonexistent-cmd 2>&1) && t_fail "exec of a missing binary must fail"
	assert_contains "$out" 'executable file not found in $PATH'
	rt exec -d --pid-file "$tmp/exec.pid" exec1 sleep 20
	assert_eq "$(rt ps --format json exec1 | jq "index($(cat "$tmp/exec.pid")) != null")" true
	assert_ok rt delete -f exec1
}

test_hooks() {
	local b h=$tmp/hooks
	mkdir -p "$h"
	cat > "$h/hook.sh" <<HOOK
#!/bin/sh
cat > "$h/\$1.json"
echo "\$1" >> "$h/order"
HOOK
	chmod +x "$h/hook.sh"
	local filter='.hooks = {}'
	for k in prestart createRuntime createContainer startContainer poststart poststop; do
		filter="$filter | .hooks.$k = [{\"path\":\"$h/hook.sh\",\"args\":[\"hook.sh\",\"$k\"]}]"
	done
	b=$(new_bundle hooks "$filter" /bin/true)
	# startContainer runs inside the container: give it the hook script via a bind mount.
	jq ".mounts += [{\"destination\":\"$h\",\"type\":\"bind\",\"source\":\"$h\",\"options\":[\"rbind\"]}]" \
		"$b/config.json" > "$b/c.json" && mv "$b/c.json" "$b/config.json"
	mkdir -p "$base/rootfs$h"
	assert_ok rt run --bundle "$b" hooks1
	assert_eq "$(tr '\n' ' ' < "$h/order")" "prestart createRuntime createContainer startContainer poststart poststop "
	assert_eq "$(jq -r .id "$h/createRuntime.json")" hooks1
	assert_eq "$(jq -r .status "$h/poststop.json")" stopped
	# The create hooks run after the environment is made: the state says "created" (runtime.md
	# "state", lifecycle step 2), poststart after the user process started.
	for k in prestart createRuntime createContainer startContainer; do
		assert_eq "$(jq -r .status "$h/$k.json")" created "$k state"
	done
	assert_eq "$(jq -r .status "$h/poststart.json")" running
	# The same through create, start and delete.
	rm -f "$h/order"
	assert_ok rt create --bundle "$b" hooks1b
	assert_ok rt start hooks1b
	for _ in $(seq 50); do [[ $(rt state hooks1b | jq -r .status) == stopped ]] && break; sleep 0.05; done
	assert_ok rt delete hooks1b
	assert_eq "$(tr '\n' ' ' < "$h/order")" "prestart createRuntime createContainer startContainer poststart poststop "
	assert_ne "$(jq -r .pid "$h/createRuntime.json")" 0
	# A failing createRuntime hook fails create and leaves nothing behind.
	b=$(new_bundle hooks2 '.hooks = {"createRuntime":[{"path":"/bin/false"}]}' /bin/true)
	local msg
	msg=$(rt create --bundle "$b" hooks2 2>&1) && t_fail "create must fail"
	assert_contains "$msg" 'hook createRuntime "/bin/false": exit status 1'
	assert_fails rt state hooks2
	assert_eq "$(cgroup_leftovers hooks2)" ""
	rm -rf "$base/rootfs/tmp/gantry-rt-test."*
}

test_seccomp() {
	local b out
	b=$(new_bundle seccomp '.linux.seccomp = {"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}' \
		/bin/sh -c 'mkdir /tmp/x 2>&1; echo rc=$?')
	out=$(rt run --bundle "$b" sc1)
	assert_contains "$out" "Operation not permitted"
	assert_contains "$out" "rc=1"
	# The second start loads the program the first compiled and cached under the state root.
	out=$(rt run --bundle "$b" sc2)
	assert_contains "$out" "Operation not permitted" "second start, from the cache"
	assert_eq "$(find "$ROOT/seccomp cache" -name '*.bpf' | wc -l)" 1 "one cached program"
}

test_user_namespace() {
	local b out
	b=$(new_bundle userns '.linux.namespaces += [{"type":"user"}] | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}] | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]' \
		/bin/sh -c 'id -u; cat /proc/self/uid_map')
	out=$(rt run --bundle "$b" userns1)
	assert_contains "$out" "0"
	assert_match "$out" "0[[:space:]]+100000[[:space:]]+65536"
	# Through create and start: the init reopens the exec fifo as the mapped root (runc's
	# 0622 fifo owned by the container's root), so start must get through.
	b=$(new_bundle userns2 '.linux.namespaces += [{"type":"user"}] | .linux.uidMappings = [{"containerID":0,"hostID":100000,"size":65536}] | .linux.gidMappings = [{"containerID":0,"hostID":100000,"size":65536}]' \
		/bin/sh -c 'id -u > /tmp/userns2.out')
	assert_ok rt create --bundle "$b" userns2
	assert_ok rt start userns2
	for _ in $(seq 50); do [[ $(rt state userns2 | jq -r .status) == stopped ]] && break; sleep 0.05; done
	assert_eq "$(rt state userns2 | jq -r .status)" stopped
	assert_ok rt delete userns2
}

test_console_socket() {
	local b sock=$tmp/console.sock out
	b=$(new_bundle tty '.process.terminal = true' /bin/sh -c 'tty; echo hello-tty')
	# A receiver that takes the pty master over the socket and prints what the container writes.
	python3 - "$sock" > "$tmp/tty.out" <<'PY' &
import array, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1]); s.listen(1)
c, _ = s.accept()
msg, fds, _, _ = socket.recv_fds(c, 4096, 1)
out = b""
while True:
    try:
        d = os.read(fds[0], 4096)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode(errors="replace"))
PY
	local rpid=$!
	for _ in $(seq 50); do [[ -S $sock ]] && break; sleep 0.05; done
	assert_ok rt create --bundle "$b" --console-socket "$sock" tty1
	assert_ok rt start tty1
	wait "$rpid"
	out=$(cat "$tmp/tty.out")
	assert_contains "$out" "/dev/pts/0"
	assert_contains "$out" "hello-tty"
	assert_ok rt delete -f tty1
}

test_bad_input() {
	local b msg
	b=$tmp/bad1
	mkdir -p "$b"
	echo '{"ociVersion": "1.1.0", "root": {"path": 5}}' > "$b/config.json"
	msg=$(rt create --bundle "$b" bad1 2>&1) && t_fail "bad config must fail"
	assert_contains "$msg" "root.path"
	assert_fails rt state bad1
	b=$(new_bundle bad2 . /no/such/binary)
	msg=$(rt run --bundle "$b" bad2 2>&1) && t_fail "missing binary must fail"
	assert_contains "$msg" "/no/such/binary"
	assert_fails rt state bad2
	b=$(new_bundle bad3 '.mounts += [{"destination":"/data","type":"bind","source":"/nonexistent-gantry","options":["rbind"]}]' /bin/true)
	msg=$(rt run --bundle "$b" bad3 2>&1) && t_fail "missing bind source must fail"
	assert_contains "$msg" "/nonexistent-gantry"
	assert_fails rt state bad3
	assert_eq "$(cgroup_leftovers bad3)" ""
	msg=$(rt kill nosuch 2>&1) && t_fail "kill of a missing container must fail"
	assert_contains "$msg" 'container "nosuch" does not exist'
	b=$(new_bundle bad4 . /bin/true)
	assert_fails rt create --bundle "$b" "../escape"
	assert_ok rt create --bundle "$b" dup1
	msg=$(rt create --bundle "$b" dup1 2>&1) && t_fail "duplicate id must fail"
	assert_contains "$msg" "already exists"
	assert_ok rt delete --force dup1
}

test_features_and_spec() {
	assert_eq "$(rt features | jq -r .ociVersionMax)" "1.1.0"
	assert_eq "$(rt features | jq -r '.linux.namespaces | index("user") != null')" true
	local d=$tmp/specdir
	mkdir -p "$d"
	(cd "$d" && "$RT" spec)
	assert_eq "$(jq -r .process.args[0] "$d/config.json")" sh
	assert_fails bash -c "cd '$d' && '$RT' spec"
}

t_run run_exit_codes test_run_exit_codes
t_run output_and_environment test_output_and_environment
t_run lifecycle_states test_lifecycle_states
t_run sealed_when_pid_ns_shared test_sealed_when_pid_ns_shared
t_run delete_force_and_kill_all test_delete_force_and_kill_all
t_run delete_created_needs_force test_delete_created_needs_force
t_run join_namespaces_by_path test_join_namespaces_by_path
t_run memory_pids_cpu_limits test_memory_pids_cpu_limits
t_run tiny_memory_limit_512k test_tiny_memory_limit
t_run capabilities test_capabilities
t_run user_and_no_new_privs test_user_and_nnp
t_run readonly_and_masked_paths test_readonly_masked_paths
t_run no_host_fd_or_cwd_leak test_no_host_fd_or_cwd_leak
t_run exec test_exec
t_run hooks test_hooks
t_run seccomp test_seccomp
t_run user_namespace test_user_namespace
t_run console_socket test_console_socket
t_run bad_input test_bad_input
t_run features_and_spec test_features_and_spec
t_summary
