#!/usr/bin/env bash
# docker diff, commit, container prune and image prune through the real docker CLI (and the gantry CLI) against gantryd; TARGET=dockerd runs the same against a private dockerd.
# A committed image is saved and, with TARGET=gantryd and dockerd installed, loaded into a private dockerd.
# Test functions are called through t_run (SC2317); $(...) in single quotes is for the container shell (SC2016).
# shellcheck disable=SC2317,SC2016
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
T_TIMEOUT=${T_TIMEOUT:-120}
GANTRY=${GANTRY:-/usr/local/bin/gantry}

start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null
# The saved image travels to the second daemon through here.
xfer=$(mktemp -d /tmp/gantry-commit-xfer.XXXXXX)
t_defer "rm -rf '$xfer'"

rc_out() {
	local rc=0 out
	out=$("$@" 2>&1) || rc=$?
	printf 'rc=%s\n%s\n' "$rc" "$out"
}

# dockerd's order of the change list is its map order: compare sorted.
sorted_diff() { dk diff "$1" | LC_ALL=C sort; }

# A container that added /tmp/new, changed /etc/passwd and deleted /bin/ls, then waits.
make_changed() {
	dk run -d --name "$1" busybox sh -c \
		'echo new > /tmp/new; echo x:x:9:9::/:/bin/sh >> /etc/passwd; rm /bin/ls; touch /ready; exec sleep 1000' >/dev/null
	local i
	for ((i = 0; i < 50; i++)); do
		dk exec "$1" test -e /ready 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

test_diff() {
	make_changed dif
	local want
	want=$(printf '%s\n' 'A /ready' 'A /tmp/new' 'C /bin' 'C /etc' 'C /etc/passwd' 'C /tmp' 'D /bin/ls' | LC_ALL=C sort)
	assert_eq "$(sorted_diff dif)" "$want" "docker diff: added, changed, deleted files and their parents"
	dk stop -t 0 dif >/dev/null
	assert_eq "$(sorted_diff dif)" "$want" "docker diff of the stopped container: the same"
	dk run --name clean busybox true
	assert_eq "$(dk diff clean)" "" "no change: no line (the runtime's mount points are not changes)"
	assert_contains "$(rc_out dk diff nope)" "No such container: nope" "unknown container"
	assert_contains "$(rc_out dk diff)" "rc=1" "diff without a container: exit 1"
	dk rm -f dif clean >/dev/null
}

test_commit() {
	make_changed com
	local id before
	before=$(dk history -q busybox | wc -l)
	id=$(dk commit -a 'Ann Author' -m 'first commit' -c 'CMD ["echo","hi"]' -c 'ENV GREETING=hello WHO="the world"' \
		-c 'WORKDIR /tmp' -c 'EXPOSE 8080' -c 'LABEL stage=test' com committed:v1)
	assert_match "$id" '^sha256:[0-9a-f]{64}$' "commit prints the new image id"
	assert_eq "$(dk inspect -f '{{.State.Status}} {{.State.Paused}}' com)" "running false" "the container runs on, unpaused, after the commit"
	assert_eq "$(dk run --rm committed:v1)" hi "-c CMD: the new default command"
	assert_eq "$(dk run --rm committed:v1 cat /tmp/new)" new "the added file is in the image"
	assert_contains "$(dk run --rm committed:v1 cat /etc/passwd)" "x:x:9:9" "the changed file is in the image"
	assert_contains "$(rc_out dk run --rm committed:v1 ls /)" "rc=127" "the deleted file is gone (a whiteout in the layer)"
	assert_eq "$(dk run --rm committed:v1 sh -c 'echo "$GREETING, $WHO"; pwd')" "$(printf 'hello, the world\n/tmp')" "-c ENV and WORKDIR"
	assert_eq "$(dk inspect -f '{{.Author}}|{{.Comment}}|{{json .Config.ExposedPorts}}|{{.Config.Labels.stage}}' committed:v1)" \
		'Ann Author|first commit|{"8080/tcp":{}}|test' "inspect: author, comment, EXPOSE, LABEL"
	assert_eq "$(dk history -q committed:v1 | wc -l)" "$((before + 1))" "docker history: one more row"
	assert_match "$(dk history --format '{{.CreatedBy}}|{{.Comment}}' committed:v1 | head -1)" '^sh -c echo new.*\|first commit$' \
		"the new history row: the container's command and the message"
	assert_ne "$(dk history --format '{{.Size}}' committed:v1 | head -1)" 0B "the new layer has a size"
	# No change: the image has no new layer, history one more (empty) row.
	dk run --name same busybox true
	dk commit same committed:same >/dev/null
	assert_eq "$(dk inspect -f '{{len .RootFS.Layers}}' committed:same)" "$(dk inspect -f '{{len .RootFS.Layers}}' busybox)" "no change: no new layer"
	assert_eq "$(dk history --format '{{.Size}}' committed:same | head -1)" 0B "no change: an empty history row"
	# Without pause the container is never frozen; the image is the same content.
	dk commit --pause=false com committed:nopause >/dev/null
	assert_eq "$(dk run --rm committed:nopause cat /tmp/new)" new "commit --pause=false"
	dk save committed:v1 -o "$xfer/committed.tar"
	assert_contains "$(tar tf "$xfer/committed.tar")" manifest.json "docker save of the committed image"
	dk rm -f com same >/dev/null
	dk rmi committed:v1 committed:same committed:nopause >/dev/null
}

test_commit_errors() {
	assert_eq "$(rc_out dk commit nope)" "$(printf 'rc=1\nError response from daemon: No such container: nope')" "commit of an unknown container: dockerd's 404 message"
	dk run --name errc busybox true
	assert_contains "$(rc_out dk commit -c 'RUN echo x' errc)" "run is not a valid change command" "a change that is not allowed"
	assert_contains "$(rc_out dk commit errc BAD)" "invalid reference format" "an invalid repository name"
	assert_contains "$(rc_out dk commit)" "requires at least 1 and at most 2 arguments" "commit without a container"
	local code
	code=$(curl -s -o /dev/null -w '%{http_code}' -X POST --unix-socket "$E2E_SOCK" "http://d/commit?container=nope")
	assert_eq "$code" 404 "POST /commit of an unknown container: 404"
	dk rm errc >/dev/null
}

test_container_prune() {
	dk run --name p_stopped --label prune=yes busybox true
	dk run --name p_other busybox true
	dk run -d --name p_running --label prune=yes busybox sleep 1000 >/dev/null
	local sid oid out
	sid=$(dk inspect -f '{{.Id}}' p_stopped)
	oid=$(dk inspect -f '{{.Id}}' p_other)
	assert_eq "$(dk container prune -f --filter until=1h)" "Total reclaimed space: 0B" "until=1h: the new ones stay"
	out=$(dk container prune -f --filter label=prune=yes)
	assert_eq "$out" "$(printf 'Deleted Containers:\n%s\n\nTotal reclaimed space: 0B' "$sid")" "label filter: only the stopped labelled one"
	assert_contains "$(echo n | dk container prune 2>&1)" "WARNING! This will remove all stopped containers." "without -f it asks"
	assert_eq "$(dk ps -aq --no-trunc -f name=p_other)" "$oid" "answered no: nothing removed"
	out=$(dk container prune -f)
	assert_contains "$out" "$oid" "prune reports the stopped container"
	assert_eq "$(dk ps -a --format '{{.Names}}' | LC_ALL=C sort | tr '\n' ' ')" "p_running " "the running one stays"
	assert_contains "$(rc_out dk container prune -f --filter bogus=1)" "Invalid filter 'bogus'" "unknown filter"
	dk rm -f p_running >/dev/null
}

test_image_prune() {
	dk run --name ip busybox sh -c 'echo 1 > /one'
	local dangling used tagged
	dangling=$(dk commit ip)
	tagged=$(dk commit -c 'LABEL prunetest=1' ip prunetest:kept)
	used=$(dk commit -c 'CMD ["echo","used"]' ip)
	dk create --name user "$used" >/dev/null
	local out
	out=$(dk image prune -f)
	assert_contains "$out" "Deleted Images:" "image prune lists what it deleted"
	assert_contains "$out" "deleted: $dangling" "the dangling image goes"
	assert_not_contains "$out" "$used" "a dangling image a container uses stays"
	assert_not_contains "$out" "$tagged" "a tagged image stays"
	assert_contains "$(rc_out dk image inspect "$dangling")" "No such image" "the dangling image is gone"
	assert_ok dk image inspect prunetest:kept busybox "$used" >/dev/null
	assert_eq "$(dk image prune -f)" "Total reclaimed space: 0B" "nothing left to prune"
	# -a with a label filter: the unused tagged image with the label goes, busybox stays.
	out=$(dk image prune -af --filter label=prunetest=1)
	assert_contains "$out" "untagged: prunetest:kept" "-a: a tagged unused image is untagged"
	assert_contains "$out" "deleted: $tagged" "-a: and deleted"
	assert_ok dk image inspect busybox >/dev/null
	assert_contains "$(rc_out dk image prune -f --filter bogus=1)" "Invalid filter 'bogus'" "unknown filter"
	dk rm -f ip user >/dev/null
	dk rmi "$used" >/dev/null
}

# The gantry CLI prints what docker prints.
test_gantry_cli() {
	local g=("$GANTRY" -H "unix://$E2E_SOCK")
	make_changed gcli
	assert_eq "$("${g[@]}" diff gcli)" "$(dk diff gcli)" "gantry diff: docker's lines"
	local id
	id=$("${g[@]}" commit -m msg -c 'CMD ["echo","from gantry"]' gcli gantrycommit:1)
	assert_match "$id" '^sha256:[0-9a-f]{64}$' "gantry commit prints the id"
	assert_eq "$(dk run --rm gantrycommit:1)" "from gantry" "gantry commit -c"
	assert_eq "$(dk inspect -f '{{.Comment}}' gantrycommit:1)" msg "gantry commit -m"
	assert_eq "$(rc_out "${g[@]}" commit nope)" "$(printf 'rc=1\nError response from daemon: No such container: nope')" "gantry commit of an unknown container"
	assert_contains "$(rc_out "${g[@]}" diff)" "rc=1" "gantry diff without a container"
	dk stop -t 0 gcli >/dev/null
	local cid
	cid=$(dk inspect -f '{{.Id}}' gcli)
	assert_match "$("${g[@]}" container prune -f)" $'^Deleted Containers:\n'"$cid"$'\n\nTotal reclaimed space: [0-9.]+k?B$' "gantry container prune"
	assert_contains "$(rc_out "${g[@]}" container prune -f --filter bogus=1)" "Invalid filter 'bogus'" "gantry container prune: unknown filter"
	assert_contains "$(echo n | "${g[@]}" image prune)" "WARNING! This will remove all dangling images." "gantry image prune asks"
	dk rmi gantrycommit:1 >/dev/null
	dk commit "$(dk create busybox true)" >/dev/null
	assert_match "$("${g[@]}" image prune -f)" $'^Deleted Images:\ndeleted: sha256:[0-9a-f]{64}\n\nTotal reclaimed space: 0B$' "gantry image prune"
	dk container prune -f >/dev/null
}

# The image gantryd committed and saved, loaded into a real dockerd.
test_loads_into_dockerd() {
	dk load -i "$xfer/committed.tar" >/dev/null
	assert_eq "$(dk run --rm committed:v1)" hi "dockerd runs the committed image's CMD"
	assert_eq "$(dk run --rm committed:v1 cat /tmp/new)" new "dockerd sees the added file"
	assert_contains "$(rc_out dk run --rm committed:v1 ls /)" "rc=127" "dockerd sees the deleted file gone"
	assert_eq "$(dk history -q committed:v1 | wc -l)" 2 "dockerd's history: base and commit"
	dk rmi committed:v1 >/dev/null
}

t_run "$TARGET:commit_diff" test_diff
t_run "$TARGET:commit_commit" test_commit
t_run "$TARGET:commit_errors" test_commit_errors
t_run "$TARGET:commit_container_prune" test_container_prune
t_run "$TARGET:commit_image_prune" test_image_prune
if [[ $TARGET == gantryd && -x $GANTRY ]]; then
	t_run "$TARGET:commit_gantry_cli" test_gantry_cli
fi
stop_daemon
if [[ $TARGET == gantryd && -s $xfer/committed.tar ]]; then
	if command -v dockerd >/dev/null; then
		TARGET=dockerd
		start_daemon
		t_run "dockerd:commit_loads_into_dockerd" test_loads_into_dockerd
		stop_daemon
	else
		t_skip "dockerd:commit_loads_into_dockerd" "dockerd not installed"
	fi
fi
t_summary
