#!/usr/bin/env bash
# docker cp and docker export through the real docker CLI against gantryd (TARGET=dockerd: the same against a private dockerd): running and stopped containers, tar streams, errors, confinement.
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
W=$E2E_TMP/cp
mkdir -p "$W"
# Host files that a confined copy must never reach.
CANARY=cp-canary-$$
t_defer "rm -f /tmp/$CANARY /tmp/$CANARY-* /etc/$CANARY /etc/$CANARY-*"

rc_out() {
	local rc=0 out
	out=$("$@" 2>&1) || rc=$?
	printf 'rc=%s\n%s\n' "$rc" "$out"
}

# A tar made by python from "name type [target]" lines on stdin (f: file "x", l: symlink, h: hardlink).
mktar() { # OUT
	python3 -c '
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
    for line in sys.stdin.read().splitlines():
        f = line.split()
        ti = tarfile.TarInfo(f[0])
        if f[1] == "f":
            ti.size = 1
            t.addfile(ti, io.BytesIO(b"x"))
            continue
        ti.type = tarfile.SYMTYPE if f[1] == "l" else tarfile.LNKTYPE
        ti.linkname = f[2]
        t.addfile(ti)
' "$1"
}

# Mounts under the private root now (dockerd's own data-root mount): the tests add none.
mounts_now() { findmnt -rn -o TARGET | grep -F "$E2E_TMP/" | sort || true; }
MOUNTS_BEFORE=$(mounts_now)
dk run -d --name run1 busybox sleep 1000 >/dev/null
dk create --name stop1 busybox sh -c 'cat /root/in.txt' >/dev/null

test_file_in_and_out() {
	echo "hello from the host" > "$W/in.txt"
	dk cp "$W/in.txt" run1:/tmp/in.txt 2>/dev/null
	assert_eq "$(dk exec run1 cat /tmp/in.txt)" "hello from the host" "the file is in the running container"
	dk cp run1:/tmp/in.txt "$W/back.txt" 2>/dev/null
	assert_eq "$(cat "$W/back.txt")" "hello from the host" "and back out"
	# Into a directory (trailing slash) keeps the name.
	dk cp "$W/in.txt" run1:/root/ 2>/dev/null
	assert_eq "$(dk exec run1 cat /root/in.txt)" "hello from the host" "into a directory"
}

test_dir_modes() {
	local d=$W/tree
	mkdir -p "$d/sub/deeper"
	echo a > "$d/a.txt"
	echo run > "$d/sub/run.sh"
	echo secret > "$d/sub/deeper/secret"
	ln -s a.txt "$d/link"
	chmod 0640 "$d/a.txt"
	chmod 0755 "$d/sub/run.sh"
	chmod 0600 "$d/sub/deeper/secret"
	chmod 0750 "$d/sub"
	dk cp "$d" run1:/srv 2>/dev/null
	assert_eq "$(dk exec run1 stat -c '%a %n' /srv/a.txt /srv/sub /srv/sub/run.sh /srv/sub/deeper/secret)" \
		"$(printf '640 /srv/a.txt\n750 /srv/sub\n755 /srv/sub/run.sh\n600 /srv/sub/deeper/secret')" "modes in the container"
	assert_eq "$(dk exec run1 readlink /srv/link)" a.txt "the symlink as a symlink"
	dk cp run1:/srv "$W/srv-out" 2>/dev/null
	diff -r "$d" "$W/srv-out" || t_fail "the directory copied out differs"
	assert_eq "$(cd "$W/srv-out" && stat -c '%a %n' a.txt sub sub/run.sh sub/deeper/secret)" \
		"$(cd "$d" && stat -c '%a %n' a.txt sub sub/run.sh sub/deeper/secret)" "modes copied out"
	assert_eq "$(readlink "$W/srv-out/link")" a.txt "the symlink copied out"
	# A directory of the image, compared with what the container reads.
	dk cp run1:/etc "$W/etc-out" 2>/dev/null
	assert_eq "$(cat "$W/etc-out/passwd")" "$(dk exec run1 cat /etc/passwd)" "/etc/passwd copied out"
}

test_stopped() {
	echo "written while stopped" > "$W/in.txt"
	dk cp "$W/in.txt" stop1:/root/in.txt 2>/dev/null
	assert_eq "$(dk cp stop1:/root/in.txt - | tar xO)" "written while stopped" "read back from the created container"
	dk start -a stop1 > "$W/stop1.out"
	assert_eq "$(cat "$W/stop1.out")" "written while stopped" "the container sees the file when it runs"
	assert_eq "$(dk inspect -f '{{.State.Status}}' stop1)" exited "it has exited"
	dk cp stop1:/etc/passwd "$W/passwd-exited" 2>/dev/null
	assert_contains "$(cat "$W/passwd-exited")" "root:x:0:0" "copy out of an exited container"
	local id
	id=$(dk inspect -f '{{.Id}}' stop1)
	if findmnt -rn -o TARGET | grep -F "$E2E_TMP/" | grep -qF "$id"; then
		t_fail "a mount of the stopped container remains: $(findmnt -rn -o TARGET | grep -F "$id")"
	fi
}

test_streams() {
	mkdir -p "$W/st"
	echo one > "$W/st/one"
	echo two > "$W/st/two"
	dk exec run1 mkdir -p /tmp/stream
	tar -cf - -C "$W/st" . | dk cp - run1:/tmp/stream
	assert_eq "$(dk exec run1 cat /tmp/stream/one /tmp/stream/two)" "$(printf 'one\ntwo')" "a tar from stdin"
	assert_eq "$(dk cp run1:/tmp/stream/one - | tar -t)" one "a tar to stdout"
	assert_eq "$(dk cp run1:/tmp/stream - | tar -t | sort | tr '\n' ' ')" "stream/ stream/one stream/two " "a directory to stdout"
}

test_export() {
	dk export run1 | tar -t > "$W/export.list"
	grep -qx 'bin/busybox' "$W/export.list" || t_fail "export of a running container lacks bin/busybox"
	dk export -o "$W/stop1.tar" stop1
	tar -tf "$W/stop1.tar" > "$W/stop1.list"
	grep -qx 'root/in.txt' "$W/stop1.list" || t_fail "export of the stopped container lacks root/in.txt"
	assert_contains "$(rc_out dk export nosuch)" "No such container: nosuch" "export of a missing container"
}

test_symlinks() {
	assert_eq "$(dk cp run1:/bin/sh - | tar -tv | awk '{print $1, $NF}')" "lrwxrwxrwx busybox" "without -L a symlink stays one"
	dk cp -L run1:/bin/sh "$W/sh" 2>/dev/null
	[[ -f $W/sh && ! -L $W/sh ]] || t_fail "-L copies the link's target"
	cmp -s "$W/sh" <(dk cp run1:/bin/busybox - | tar xO) || t_fail "-L gives busybox"
}

test_archive_owner() {
	dk run -d --name owner1 --user nobody busybox sleep 1000 >/dev/null
	echo x > "$W/owned"
	dk cp "$W/owned" owner1:/tmp/plain
	dk cp -a "$W/owned" owner1:/tmp/archived
	assert_eq "$(dk exec owner1 stat -c %u /tmp/plain)" "$(stat -c %u "$W/owned")" "the tar's owner without -a"
	assert_eq "$(dk exec owner1 stat -c %u:%g /tmp/archived)" "65534:65534" "-a: the container's user"
	dk rm -f owner1 >/dev/null
}

test_errors() {
	local out
	out=$(rc_out dk cp run1:/nope "$W/nope")
	assert_contains "$out" "rc=1" "missing path: exit 1"
	assert_contains "$out" "Error response from daemon: Could not find the file /nope in container run1" "docker's message"
	out=$(rc_out dk cp "$W/in.txt" run1:/nope/file)
	assert_contains "$out" "Could not find the file /nope in container run1" "missing directory to copy into"
	out=$(rc_out dk cp "$W/in.txt" run1:/etc/passwd/x)
	assert_contains "$out" "rc=1" "a file as a directory fails"
	assert_contains "$(rc_out dk cp run1:/etc nosuch:/tmp)" "copying between containers is not supported" "container to container"
	assert_contains "$(rc_out dk cp nosuch:/etc "$W/x")" "No such container: nosuch" "missing container"
}

test_escapes() {
	echo host > "/tmp/$CANARY"
	# Paths climbing out of the root stay in it.
	assert_contains "$(rc_out dk cp "run1:/../../../../tmp/$CANARY" "$W/esc")" "Could not find the file" "no host file through ../"
	dk cp "$W/in.txt" "run1:../../../../tmp/$CANARY-in" 2>/dev/null
	[[ ! -e /tmp/$CANARY-in ]] || t_fail "a copy to ../../tmp reached the host"
	dk exec run1 test -f "/tmp/$CANARY-in" || t_fail "it should land in the container's /tmp"
	# A symlink in the container pointing out of it resolves inside it.
	dk exec run1 ln -s ../../../../../../tmp /uplink
	dk cp "$W/in.txt" "run1:/uplink/$CANARY-link" 2>/dev/null
	[[ ! -e /tmp/$CANARY-link ]] || t_fail "a copy through a container symlink reached the host"
	dk exec run1 test -f "/tmp/$CANARY-link" || t_fail "it should land in the container's /tmp"
	assert_contains "$(rc_out dk cp "run1:/uplink/$CANARY" -)" "Could not find the file" "no host file through a symlink"
	# Tars whose entries climb out are refused; one through an absolute symlink stays inside.
	dk exec run1 mkdir -p /tmp/sub
	echo "../../../../../../tmp/$CANARY-dotdot f" | mktar "$W/dotdot.tar"
	assert_contains "$(rc_out dk cp - run1:/tmp/sub < "$W/dotdot.tar")" "rc=1" "../ entries are refused"
	[[ ! -e /tmp/$CANARY-dotdot ]] || t_fail "a ../ entry reached the host"
	printf 'etclink l /etc\netclink/%s-abs f\n' "$CANARY" | mktar "$W/abslink.tar"
	dk cp - run1:/tmp < "$W/abslink.tar"
	[[ ! -e /etc/$CANARY-abs ]] || t_fail "a write through an absolute symlink reached the host's /etc"
	dk exec run1 test -f "/etc/$CANARY-abs" || t_fail "it should land in the container's /etc"
	printf 'rel l ../../../../../../etc\nrel/%s-rel f\n' "$CANARY" | mktar "$W/rellink.tar"
	assert_contains "$(rc_out dk cp - run1:/tmp/sub < "$W/rellink.tar")" "invalid symlink" "a relative symlink out is refused"
	[[ ! -e /etc/$CANARY-rel ]] || t_fail "a relative symlink reached the host"
	echo "hl h ../../../../../../tmp/$CANARY" | mktar "$W/hard.tar"
	assert_contains "$(rc_out dk cp - run1:/tmp/sub < "$W/hard.tar")" "invalid hardlink" "a hardlink out is refused"
	# The same tar into the stopped container's overlay.
	dk cp - stop1:/tmp < "$W/abslink.tar"
	[[ ! -e /etc/$CANARY-abs ]] || t_fail "a write into the stopped container reached the host's /etc"
	assert_eq "$(dk cp "stop1:/etc/$CANARY-abs" - | tar xO)" x "it landed in the stopped container's /etc"
	assert_eq "$(cat "/tmp/$CANARY")" host "the host canary is untouched"
}

test_bind_mount() {
	mkdir -p "$W/bind"
	echo "on the host" > "$W/bind/host.txt"
	dk run -d --name bind1 -v "$W/bind:/data" busybox sleep 1000 >/dev/null
	echo "copied in" > "$W/in-bind.txt"
	dk cp "$W/in-bind.txt" bind1:/data/in-bind.txt 2>/dev/null
	assert_eq "$(cat "$W/bind/in-bind.txt")" "copied in" "a copy into a bind mount reaches its source"
	assert_eq "$(dk cp bind1:/data/host.txt - | tar xO)" "on the host" "a copy out of a bind mount"
	dk rm -f bind1 >/dev/null
}

# gantry's own CLI on the same daemon: tar streams both ways, export, docker's errors.
test_gantry_cli() {
	local g=${GANTRY:-/usr/local/bin/gantry}
	g() { "$g" -H "$DOCKER_HOST" "$@"; }
	mkdir -p "$W/gc"
	echo "from gantry" > "$W/gc/g.txt"
	tar -cf - -C "$W/gc" g.txt | g cp - run1:/tmp
	assert_eq "$(dk exec run1 cat /tmp/g.txt)" "from gantry" "gantry cp - C:/dir"
	assert_eq "$(g cp run1:/tmp/g.txt - | tar xO)" "from gantry" "gantry cp C:/file -"
	tar -cf - -C "$W/gc" g.txt | g cp - stop1:/root
	assert_eq "$(g container cp stop1:/root/g.txt - | tar xO)" "from gantry" "into and out of a stopped one"
	g export -o "$W/g-export.tar" run1
	tar -tf "$W/g-export.tar" > "$W/g-export.list"
	grep -qx 'bin/busybox' "$W/g-export.list" || t_fail "gantry export -o lacks bin/busybox"
	g export stop1 | tar -t > "$W/g-export2.list"
	grep -qx 'root/g.txt' "$W/g-export2.list" || t_fail "gantry export to stdout lacks root/g.txt"
	local out
	out=$(rc_out g cp run1:/nope -)
	assert_contains "$out" "rc=1" "missing path: exit 1"
	assert_contains "$out" "Error response from daemon: Could not find the file /nope in container run1" "docker's message"
	assert_contains "$(rc_out g cp run1:/a stop1:/b)" "copying between containers is not supported" "container to container"
	assert_contains "$(rc_out g export nosuch)" "No such container: nosuch" "export of a missing container"
	assert_contains "$(rc_out g cp one)" "requires exactly 2 arguments" "usage"
}

# gantry cp and docker cp with local paths, each on its own copy of the same local tree and the
# same container directory: ARGS name local paths as @/..., the container's as run1:/gcp/...
# Prints what differed (exit status, message, the trees after) and fails, or prints nothing.
gcp_tree() { # DIR
	rm -rf "$1"
	mkdir -p "$1/ed/sub" "$1/src/sub"
	echo f > "$1/f"
	echo s > "$1/src/s"
	echo t > "$1/src/sub/t"
	chmod 0750 "$1/src/sub"
	ln -s src "$1/srclink"
}
gcp_ctr() {
	dk exec run1 sh -c 'rm -rf /gcp && mkdir -p /gcp/d/sub /gcp/ed/a && echo a > /gcp/d/a &&
		echo b > /gcp/d/sub/b && chmod 0751 /gcp/d/sub && chown 123:456 /gcp/d/a &&
		ln -s a /gcp/d/al && ln -s /gcp/d /gcp/dl && echo x > /gcp/file'
}
gcp_run() { # CLI ARGS...
	local cli=$1 base=$W/gl/$1 a args=() rc=0 out
	shift
	for a in "$@"; do args+=("${a//@/$base}"); done
	out=$(cd "$base" && "$cli" cp "${args[@]}" 2>&1) || rc=$?
	# docker's own tar writer logs its closed pipe after some refusals: not part of the answer.
	printf 'rc=%s %s\n' "$rc" "$(grep -v 'level=error' <<<"${out//$base/@}")"
	(cd "$base" && find . -printf '%p %y %m %U:%G %s %l\n' | sort)
	dk exec run1 find /gcp -exec stat -c '%n %F %a %u:%g %s' {} + | sort
}
same_as_docker() { # ARGS...
	local want got
	gcp_tree "$W/gl/dk" && gcp_ctr
	want=$(gcp_run dk "$@")
	gcp_tree "$W/gl/g" && gcp_ctr
	got=$(gcp_run g "$@")
	[[ $got == "$want" ]] && return 0
	t_fail "gantry cp $* differs from docker cp:" "$(diff <(echo "$want") <(echo "$got"))"
}

# gantry cp with local paths: docker's rules, messages and exit codes, from the same daemon.
test_gantry_cli_local() {
	local gbin=${GANTRY:-/usr/local/bin/gantry}
	g() { "$gbin" -H "$DOCKER_HOST" "$@"; }
	mkdir -p "$W/gl"
	local c bad=0
	while IFS= read -r c; do
		eval "same_as_docker $c" || bad=$((bad + 1))
	done <<-'EOF'
		run1:/gcp/d/a @/new
		run1:/gcp/d/a @/f
		run1:/gcp/d/a @/ed
		run1:/gcp/d/a @/ed/
		run1:/gcp/d/a @/nodir/
		run1:/gcp/d/a @/nodir/x
		run1:/gcp/d/a @/f/
		run1:/gcp/d @/newd
		run1:/gcp/d @/ed
		run1:/gcp/d/ @/newd
		run1:/gcp/d/. @/ed
		run1:/gcp/d/. @/newd
		run1:/gcp/d @/f
		run1:/gcp/d/sub/ @/ed
		run1:/gcp/dl @/x
		run1:/gcp/dl/ @/x
		-L run1:/gcp/dl @/x
		-L run1:/gcp/d/al @/x
		run1:/gcp/d/a/ @/x
		run1:/gcp/d/a /dev/null
		run1:/gcp/d/a rel
		run1:/gcp/d ./ed
		run1:/nope @/x
		nosuch:/gcp @/x
		@/f run1:/gcp/new
		@/f run1:/gcp/file
		@/f run1:/gcp/ed
		@/f run1:/gcp/nodir/
		@/f run1:/gcp/nodir/x
		@/src run1:/gcp/ed
		@/src run1:/gcp/newd
		@/src/. run1:/gcp/ed
		@/src/. run1:/gcp/newd
		@/src run1:/gcp/file
		@/srclink run1:/gcp/ed
		@/srclink/ run1:/gcp/ed
		-L @/srclink run1:/gcp/ed
		@/nope run1:/gcp
		@/nodir/nope run1:/gcp
		@/f/ run1:/gcp
		@/f run1:/dev/null
		@/f nosuch:/gcp
		f run1:gcp/rel
		- run1:/gcp/file
	EOF
	assert_eq "$bad" 0 "cases where gantry cp and docker cp differ"
	# The same, asserted on what landed.
	gcp_ctr
	rm -rf "$W/gl/o" && mkdir -p "$W/gl/o/into"
	g cp run1:/gcp/d/a "$W/gl/o/a.txt"
	assert_eq "$(cat "$W/gl/o/a.txt")" a "a file out to a new file"
	assert_eq "$(stat -c %u "$W/gl/o/a.txt")" "$(id -u)" "owned by who copied it, not the container's 123"
	g cp run1:/gcp/d/a "$W/gl/o/into"
	assert_eq "$(cat "$W/gl/o/into/a")" a "a file out into a directory"
	g cp run1:/gcp/d "$W/gl/o/newd"
	assert_eq "$(cat "$W/gl/o/newd/sub/b") $(stat -c %a "$W/gl/o/newd/sub")" "b 751" "a directory out to a new name"
	g cp run1:/gcp/d "$W/gl/o/into"
	assert_eq "$(cat "$W/gl/o/into/d/a")" a "a directory out into an existing one"
	g cp run1:/gcp/d/. "$W/gl/o/into"
	assert_eq "$(cat "$W/gl/o/into/sub/b") $(readlink "$W/gl/o/into/al")" "b a" "dir/. copies the contents"
	echo in > "$W/gl/o/in.txt"
	g cp "$W/gl/o/in.txt" run1:/gcp/ed
	assert_eq "$(dk exec run1 cat /gcp/ed/in.txt)" in "a file in"
	g cp "$W/gl/o/newd" run1:/gcp/newd2
	assert_eq "$(dk exec run1 cat /gcp/newd2/sub/b)" b "a directory in to a new name"
	g cp -L run1:/gcp/dl "$W/gl/o/followed"
	assert_eq "$(cat "$W/gl/o/followed/a")" a "-L copies the link's target"
	assert_eq "$(g cp -L run1:/bin/sh - | tar -t)" "$(dk cp -L run1:/bin/sh - | tar -t)" "-L to a tar stream"
	# -a: the container user's uid/gid, else the archive's.
	dk run -d --name gowner --user nobody busybox sleep 1000 >/dev/null
	g cp "$W/gl/o/in.txt" gowner:/tmp/plain
	g cp -a "$W/gl/o/in.txt" gowner:/tmp/archived
	local own
	own=$(dk exec gowner stat -c %u:%g /tmp/plain /tmp/archived | tr '\n' ' ')
	dk rm -f gowner >/dev/null
	assert_eq "$own" "$(stat -c %u:%g "$W/gl/o/in.txt") 65534:65534 " "-a keeps the container user's ids"
	# Errors: docker's words and status.
	local out
	out=$(rc_out g cp run1:/nope "$W/gl/o/x")
	assert_contains "$out" "rc=1" "missing path out: exit 1"
	assert_contains "$out" "Error response from daemon: Could not find the file /nope in container run1" "docker's message"
	out=$(rc_out g cp run1:/gcp/d/a "$W/gl/o/nodir/")
	assert_eq "$out" "$(printf 'rc=1\nno such directory')" "a file to a missing directory"
	[[ ! -e $W/gl/o/nodir ]] || t_fail "the missing directory was created"
	out=$(cd "$W/gl" && PATH=/nonexistent rc_out "$gbin" -H "$DOCKER_HOST" cp run1:/gcp/d/a x)
	assert_contains "$out" "need GNU tar" "a clear message without tar"
	assert_contains "$out" "rc=1" "and exit 1"
}

t_run "$TARGET:cp_file_in_and_out" test_file_in_and_out
t_run "$TARGET:cp_dir_modes" test_dir_modes
t_run "$TARGET:cp_stopped" test_stopped
t_run "$TARGET:cp_streams" test_streams
t_run "$TARGET:cp_export" test_export
t_run "$TARGET:cp_symlinks" test_symlinks
t_run "$TARGET:cp_archive_owner" test_archive_owner
t_run "$TARGET:cp_errors" test_errors
t_run "$TARGET:cp_escapes" test_escapes
t_run "$TARGET:cp_bind_mount" test_bind_mount
if [[ $TARGET == gantryd ]]; then
	t_run "$TARGET:cp_gantry_cli" test_gantry_cli
	t_run "$TARGET:cp_gantry_cli_local" test_gantry_cli_local
fi
dk rm -f run1 stop1 >/dev/null
if [[ $(mounts_now) != "$MOUNTS_BEFORE" ]]; then
	t_fail "$TARGET:cp_no_mounts_left" "$(diff <(echo "$MOUNTS_BEFORE") <(mounts_now))"
else
	t_ok "$TARGET:cp_no_mounts_left"
fi
stop_daemon
t_summary
