#!/usr/bin/env bash
# gantryd's HTTP face: ping/version/errors/limits over curl, `docker version`, clean SIGTERM.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
source "$top/tests/lib.sh"

GANTRYD=${GANTRYD:-/usr/local/bin/gantryd}
DOCKER=${DOCKER:-/usr/local/bin/docker}
if [[ ! -x $GANTRYD ]] || ! command -v curl >/dev/null; then
	t_skip gantryd_api "no $GANTRYD or curl"
	t_summary
fi

tmp=$(mktemp -d /tmp/gantry-api-test.XXXXXX)
t_defer "rm -rf '$tmp'"
SOCK=$tmp/run/gantry.sock
PIDFILE=$tmp/gantryd.pid
mkdir -p "$tmp/run"
# A stale socket file (no one listening) must be replaced at start.
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$SOCK"

# Its own bridge and nftables tables (not the default gantry0/gantry), removed after it stops.
NETPREFIX=$(printf 'gt%x' $((($$ * 7919 + RANDOM) % 0xffffff)))
t_defer "ip link del ${NETPREFIX}0 2>/dev/null; nft delete table inet $NETPREFIX 2>/dev/null; nft delete table bridge $NETPREFIX 2>/dev/null; true"
"$GANTRYD" --host "unix://$SOCK" --root "$tmp/root" --exec-root "$tmp/exec" \
	--network-prefix "$NETPREFIX" --log-level debug --pidfile "$PIDFILE" >"$tmp/gantryd.log" 2>&1 &
DPID=$!
t_defer "t_kill_pid $DPID 10"
for _ in $(seq 100); do
	curl -sf --unix-socket "$SOCK" http://d/_ping >/dev/null 2>&1 && break
	sleep 0.1
done

c() { curl -s --unix-socket "$SOCK" "$@"; }
# status code of a request
code() { curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" "$@"; }

test_socket() {
	assert_eq "$(stat -c %a "$SOCK")" 660 "socket mode"
	assert_eq "$(cat "$PIDFILE")" "$DPID" "pidfile"
}

test_ping() {
	local out
	out=$(c -i http://d/_ping | tr -d '\r')
	assert_contains "$out" "HTTP/1.1 200"
	assert_eq "$(c http://d/_ping)" OK "ping body"
	assert_contains "$out" "API-Version: 1.44"
	assert_contains "$out" "Docker-Experimental: false"
	assert_contains "$out" "Ostype: linux"
	assert_contains "$out" "Server: Gantry/0.1.0"
	assert_contains "$out" "Cache-Control: no-cache, no-store, must-revalidate"
	assert_contains "$out" "Pragma: no-cache"
	out=$(c -I http://d/_ping | tr -d '\r')
	assert_contains "$out" "HTTP/1.1 200"
	assert_contains "$out" "API-Version: 1.44"
	out=$(c -I http://d/v1.40/_ping | tr -d '\r')
	assert_contains "$out" "HTTP/1.1 200"
}

test_version() {
	local out
	out=$(c http://d/v1.44/version)
	assert_eq "$(jq -r .Version <<<"$out")" 0.1.0
	assert_eq "$(jq -r .ApiVersion <<<"$out")" 1.44
	assert_eq "$(jq -r .MinAPIVersion <<<"$out")" 1.24
	assert_eq "$(jq -r .Platform.Name <<<"$out")" Gantry
	assert_eq "$(jq -r '.Components[0].Name' <<<"$out")" Engine
	assert_eq "$(jq -r .KernelVersion <<<"$out")" "$(uname -r)"
	assert_eq "$(c http://d/version | jq -r .Os)" linux "unversioned path"
	out=$(c -i http://d/v1.44/version | tr -d '\r')
	assert_contains "$out" "API-Version: 1.44"
}

test_version_too_old() {
	assert_eq "$(code http://d/v1.12/version)" 400
	assert_eq "$(c http://d/v1.12/version | jq -r .message)" \
		"client version 1.12 is too old. Minimum supported API version is 1.24, please upgrade your client to a newer version"
	assert_eq "$(code http://d/v1.99/version)" 400
	assert_contains "$(c http://d/v1.99/version | jq -r .message)" "too new"
}

test_info() {
	local out
	out=$(c http://d/info)
	assert_eq "$(jq -r .Driver <<<"$out")" overlay2
	assert_eq "$(jq -r .ServerVersion <<<"$out")" 0.1.0
	assert_eq "$(jq -r .OSType <<<"$out")" linux
	assert_eq "$(jq -r .NCPU <<<"$out")" "$(nproc)"
	assert_eq "$(jq -r .Swarm.LocalNodeState <<<"$out")" inactive
	assert_eq "$(jq -r .DockerRootDir <<<"$out")" "$tmp/root"
	assert_eq "$(jq -r .Name <<<"$out")" "$(hostname)"
	assert_match "$(jq -r .Containers <<<"$out")" '^[0-9]+$'
	# Its own runtime and init, where dockerd names runc and docker-init.
	assert_eq "$(jq -r .DefaultRuntime <<<"$out")" gantry
	assert_match "$(jq -r .Runtimes.gantry.path <<<"$out")" '/gantry-shim$'
	assert_ok test -x "$(jq -r .Runtimes.gantry.path <<<"$out")"
	assert_match "$(jq -r .InitBinary <<<"$out")" '/gantry-init$'
}

test_unknown_route() {
	local out
	out=$(c -i http://d/v1.44/no/such/route | tr -d '\r')
	assert_contains "$out" "HTTP/1.1 404"
	assert_contains "$out" "Content-Type: application/json"
	assert_eq "$(c http://d/no/such/route)" '{"message":"page not found"}'
	assert_eq "$(code -X POST http://d/v1.44/session)" 501 "dockerd's routes still to write are 501"
	assert_contains "$(c -X POST http://d/v1.44/session | jq -r .message)" "not implemented"
	assert_eq "$(code http://d/v1.44/containers/x/no-such-verb)" 404 "an unknown verb is 404"
	assert_eq "$(code http://d/v1.44/swarm)" 503 "swarm routes: not a swarm manager (dockerd's 503)"
}

test_bad_json() {
	local out
	assert_eq "$(code -X POST -H 'Content-Type: application/json' -d '{"Image": ' \
		http://d/v1.44/containers/create)" 400
	out=$(c -X POST -H 'Content-Type: application/json' -d '{nope' http://d/v1.44/containers/create)
	assert_contains "$(jq -r .message <<<"$out")" "invalid JSON"
	assert_eq "$(code -X POST http://d/v1.44/containers/create)" 400 "empty body"
	assert_eq "$(c http://d/_ping)" OK "still serving"
}

test_no_such_container() {
	assert_eq "$(code http://d/v1.44/containers/nosuch_ctr/json)" 404
	assert_eq "$(c http://d/v1.44/containers/nosuch_ctr/json | jq -r .message)" \
		"No such container: nosuch_ctr"
}

test_huge_header() {
	local big rc
	big=$(head -c 102400 /dev/zero | tr '\0' a)
	rc=$(code -H "X-Big: $big" http://d/_ping)
	assert_match "$rc" '^4[0-9][0-9]$' "100 KiB header refused"
	assert_eq "$(c http://d/_ping)" OK "still serving"
}

test_huge_body() {
	head -c $((65 << 20)) /dev/zero >"$tmp/big"
	assert_eq "$(code -X POST -H 'Content-Type: application/json' --data-binary @"$tmp/big" \
		http://d/v1.44/containers/create)" 413
	assert_eq "$(code -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$tmp/big" \
		http://d/v1.44/containers/create)" 413 "chunked"
	rm -f "$tmp/big"
	assert_eq "$(c http://d/_ping)" OK "still serving"
}

test_docker_version() {
	[[ -x $DOCKER ]] || { echo "the docker CLI ($DOCKER) is missing: install-deps installs it" >&2; return 1; }
	local out
	out=$("$DOCKER" -H "unix://$SOCK" version)
	assert_contains "$out" "Server: Gantry"
	assert_match "$out" "Engine:"$'\n'"  Version: +0.1.0"
	assert_match "$out" "API version: +1.44 \\(minimum version 1.24\\)"
}

t_run socket_mode_and_pidfile test_socket
t_run ping test_ping
t_run version test_version
t_run version_too_old test_version_too_old
t_run info test_info
t_run unknown_route_404 test_unknown_route
t_run malformed_json_400 test_bad_json
t_run no_such_container_404 test_no_such_container
t_run huge_header_4xx test_huge_header
t_run huge_body_413 test_huge_body
t_run docker_cli_version test_docker_version
# wait only works on our own child: run it in this shell, not a t_run subshell.
if kill -TERM "$DPID" 2>/dev/null; then
	rc=0
	wait "$DPID" || rc=$?
	if [[ $rc -eq 0 && ! -e $SOCK && ! -e $PIDFILE ]]; then t_ok sigterm_clean_exit; else t_fail sigterm_clean_exit "rc $rc"; fi
else
	t_fail sigterm_clean_exit "daemon gone before SIGTERM"
fi
t_summary
