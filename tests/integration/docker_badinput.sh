#!/usr/bin/env bash
# Bad input on the API socket: malformed JSON, wrong types, unknown fields and routes, huge headers and URLs, broken requests; a 4xx with a {"message"} and the daemon still serving after each.
# Test functions are called through t_run (SC2317).
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
T_TIMEOUT=${T_TIMEOUT:-120}

start_daemon
dk load -i "$(e2e_busybox_tar)" >/dev/null

# "STATUS BODY" of one request (curl arguments after the path).
req() { # METHOD PATH [CURL ARGS...]
	local m=$1 p=$2
	shift 2
	curl -s --max-time 20 --unix-socket "$E2E_SOCK" -X "$m" -w '\n%{http_code}' "$@" "http://d$p" |
		awk '{ lines[NR] = $0 } END { printf "%s", lines[NR]; for (i = 1; i < NR; i++) printf " %s", lines[i]; print "" }'
}
json() { req "$1" "$2" -H 'Content-Type: application/json' --data-binary "$3"; }

# The daemon still answers, and the answer was a JSON error of the wanted class.
still_serving() { # WHAT
	local out
	out=$(curl -s --max-time 5 --unix-socket "$E2E_SOCK" http://d/_ping)
	assert_eq "$out" OK "$1: /_ping still answers"
}
assert_error() { # "STATUS BODY" STATUS-ERE NEEDLE WHAT
	local status=${1%% *} body=${1#* }
	assert_match "$status" "^($2)\$" "$4: status"
	assert_eq "$(jq -r 'type' <<<"$body" 2>/dev/null)" object "$4: a JSON body ($body)"
	assert_contains "$(jq -r .message <<<"$body" 2>/dev/null)" "$3" "$4: message"
	still_serving "$4"
}

# Raw bytes on the socket (what curl will not send); prints the status line's code or "closed".
raw() { # PYTHON-EXPRESSION-FOR-THE-REQUEST-BYTES
	python3 - "$E2E_SOCK" "$1" <<'EOF'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
try:
    s.sendall(eval(sys.argv[2]))
except OSError:
    pass
out = b""
try:
    while len(out) < 65536:
        b = s.recv(65536)
        if not b:
            break
        out += b
        if b"\r\n\r\n" in out:
            break
except OSError:
    pass
parts = out.split(b" ", 2)
print(parts[1].decode() if len(parts) > 1 and out.startswith(b"HTTP/1.") else "closed")
EOF
}

# dockerd 20.10 (the reference here) answers 500 where today's dockerd answers 400 ("invalid
# JSON: ...", errdefs.InvalidParameter); gantryd follows today's.
BAD=400
[[ $TARGET == dockerd ]] && BAD='400|500'

test_malformed_json() {
	local what=""
	[[ $TARGET == gantryd ]] && what="invalid JSON"
	assert_error "$(json POST /containers/create '{"Image":"busybox",')" "$BAD" "$what" "truncated object"
	assert_error "$(json POST /containers/create '{"Image":}')" "$BAD" "invalid" "a value missing"
	assert_error "$(json POST /containers/create '[1,2]')" "$BAD" "unmarshal" "an array, not an object"
	local deep
	deep=$(printf '{"Image":%s' "$(head -c 100000 /dev/zero | tr '\0' '[')")
	assert_error "$(json POST /containers/create "$deep")" "$BAD" "" "100000 nested arrays"
	assert_error "$(json POST /containers/x/update '{"Memory":')" "$BAD|404" "" "update: truncated"
}

test_unknown_fields() {
	local out id
	out=$(json POST '/containers/create?name=bi-unknown' \
		'{"Image":"busybox","Cmd":["true"],"NoSuchField":{"a":[1,2]},"HostConfig":{"Bogus":true,"AutoRemove":false}}')
	assert_eq "${out%% *}" 201 "unknown fields are ignored ($out)"
	id=$(jq -r .Id <<<"${out#* }")
	assert_match "$id" '^[0-9a-f]{64}$' "an id"
	dk start bi-unknown >/dev/null
	assert_eq "$(dk wait bi-unknown)" 0 "the container runs"
	dk rm bi-unknown >/dev/null
	# Cmd as a plain string is Docker's strslice: one argument.
	out=$(json POST '/containers/create?name=bi-strcmd' '{"Image":"busybox","Cmd":"true"}')
	assert_eq "${out%% *}" 201 "Cmd as a string ($out)"
	assert_eq "$(dk inspect -f '{{json .Config.Cmd}}' bi-strcmd)" '["true"]' "kept as one argument"
	dk rm bi-strcmd >/dev/null
	still_serving "unknown fields"
}

test_wrong_types() {
	assert_error "$(json POST /containers/create '{"Image":"busybox","HostConfig":{"Memory":"x"}}')" \
		"$BAD" "cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type int64" \
		"Memory as a string"
	assert_error "$(json POST /containers/create '{"Image":"busybox","Env":{"A":"1"}}')" \
		"$BAD" "ContainerConfigWrapper.Env of type []string" "Env as an object"
	assert_error "$(json POST /containers/create '{"Image":"busybox","Cmd":5}')" \
		"$BAD" "ContainerConfigWrapper.Cmd" "Cmd as a number"
	assert_error "$(json POST /containers/create '{"Image":"busybox","Tty":"yes"}')" \
		"$BAD" "Tty of type bool" "Tty as a string"
	assert_error "$(json POST /containers/create '{"Image":"busybox","HostConfig":{"Ulimits":[{"Name":"nofile","Soft":"1"}]}}')" \
		"$BAD" "Ulimits.Soft" "a field inside an array of structs"
	assert_error "$(json POST /containers/create '{"Image":"busybox","Labels":{"a":1}}')" \
		"$BAD" "Labels of type string" "a label as a number"
	assert_error "$(json POST /containers/create '{"Image":"busybox","StopTimeout":1.5}')" \
		"$BAD" "number 1.5" "a fraction for an integer"
	dk run -d --name bi-box busybox sleep 1000 >/dev/null
	assert_error "$(json POST /containers/bi-box/update '{"Memory":"x"}')" "$BAD" "Memory" "update: Memory as a string"
	assert_error "$(json POST /containers/bi-box/exec '{"Cmd":"true"}')" "$BAD" "Cmd" "exec: Cmd as a string"
	dk rm -f bi-box >/dev/null
	assert_eq "$(dk ps -aq | wc -l)" 0 "none of them made a container"
}

test_content_type() {
	assert_error "$(req POST /containers/create -H 'Content-Type: text/plain' -d '{"Image":"busybox"}')" \
		400 "Content-Type specified (text/plain) must be 'application/json'" "a text/plain body"
	assert_error "$(req POST /containers/create -d '{"Image":"busybox"}')" \
		400 "must be 'application/json'" "a form-encoded body"
	local out
	out=$(req POST '/containers/create?name=bi-ct' -H 'Content-Type: application/json; charset=utf-8' \
		-d '{"Image":"busybox"}')
	assert_eq "${out%% *}" 201 "application/json with a charset ($out)"
	dk rm bi-ct >/dev/null
}

test_unknown_routes() {
	local p
	for p in "GET /nosuch" "GET /v1.44/containers/x/nosuch" "POST /containers/x/nosuch" \
		"PUT /containers/json" "GET /v1.44/"; do
		assert_error "$(req "${p%% *}" "${p#* }")" 404 "page not found" "$p"
	done
	assert_error "$(req GET /v9.99/version)" 400 "is too new" "a version from the future"
	assert_error "$(req GET /networks/nosuch)" 404 "network nosuch not found" "an unknown network"
	assert_error "$(req GET /volumes/nosuch)" 404 "no such volume" "an unknown volume"
	local out
	out=$(dk inspect nosuch 2>&1) || true
	assert_contains "$out" "No such object: nosuch" "docker inspect of nothing"
}

test_bad_parameters() {
	assert_error "$(req POST '/containers/create?name=a/b' -H 'Content-Type: application/json' -d '{"Image":"busybox"}')" \
		400 "Invalid container name" "a name with a slash"
	assert_error "$(req POST '/containers/nosuch/kill?signal=NOPE')" "400|404" "" "an unknown signal"
	assert_error "$(req GET '/containers/json?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D')" 400 \
		"filter 'bogus'" "an unknown filter"
	assert_error "$(json POST /containers/create '{"Image":"no-such-image:1"}')" 404 \
		"No such image" "an image that is not there"
}

test_huge_requests() {
	local st
	st=$(raw 'b"GET /_ping HTTP/1.1\r\nHost: d\r\nX-Big: " + b"a" * (2 << 20) + b"\r\n\r\n"')
	assert_match "$st" '^(4[0-9][0-9]|closed)$' "a 2 MiB header is refused ($st)"
	still_serving "2 MiB header"
	st=$(raw 'b"GET /containers/" + b"a" * (2 << 20) + b"/json HTTP/1.1\r\nHost: d\r\n\r\n"')
	assert_match "$st" '^(4[0-9][0-9]|closed)$' "a 2 MiB URL is refused ($st)"
	still_serving "2 MiB URL"
	st=$(raw 'b"GET /containers/" + b"a" * 8000 + b"/json HTTP/1.1\r\nHost: d\r\nConnection: close\r\n\r\n"')
	assert_eq "$st" 404 "an 8 KB URL is served: no such container"
	still_serving "8 KB URL"
}

test_broken_requests() {
	local st
	st=$(raw 'b"HELLO\r\n\r\n"')
	assert_match "$st" '^(400|closed)$' "garbage for a request line ($st)"
	still_serving "garbage"
	st=$(raw 'b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Length: abc\r\n\r\n"')
	assert_match "$st" '^(400|closed)$' "a Content-Length that is not a number ($st)"
	still_serving "bad Content-Length"
	# The body ends before its Content-Length: the client goes away half-way.
	st=$(raw 'b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"Image\"" ' 2>/dev/null)
	still_serving "a body cut short"
	st=$(raw 'b"POST /containers/create HTTP/1.1\r\nHost: d\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"')
	assert_match "$st" "^($BAD|closed)$" "a chunk size that is not hex ($st)"
	still_serving "bad chunk"
	assert_eq "$(dk ps -aq | wc -l)" 0 "no container made by any of them"
}

test_load_errors() {
	local out
	out=$(req POST /images/load -H 'Content-Type: application/x-tar' --data-binary 'not a tar archive')
	assert_eq "${out%% *}" 200 "load answers with a stream"
	assert_ne "$(jq -r '.errorDetail.message // empty' <<<"${out#* }" 2>/dev/null)" "" \
		"the stream ends with errorDetail ($out)"
	assert_eq "$(jq -r '.error == .errorDetail.message' <<<"${out#* }" 2>/dev/null)" true "error and errorDetail agree"
	local rc=0
	out=$(printf 'garbage' | dk load 2>&1) || rc=$?
	assert_eq "$rc" 1 "docker load of garbage fails"
	assert_ne "$out" "" "and says why"
	rc=0
	out=$(printf 'garbage' | dk import - bi-import 2>&1) || rc=$?
	assert_eq "$rc" 1 "docker import of garbage fails"
	still_serving "load/import errors"
}

t_run "$TARGET:badinput_malformed_json" test_malformed_json
t_run "$TARGET:badinput_unknown_fields" test_unknown_fields
t_run "$TARGET:badinput_wrong_types" test_wrong_types
t_run "$TARGET:badinput_content_type" test_content_type
t_run "$TARGET:badinput_unknown_routes" test_unknown_routes
t_run "$TARGET:badinput_bad_parameters" test_bad_parameters
t_run "$TARGET:badinput_huge_requests" test_huge_requests
t_run "$TARGET:badinput_broken_requests" test_broken_requests
t_run "$TARGET:badinput_load_errors" test_load_errors
stop_daemon
t_summary
