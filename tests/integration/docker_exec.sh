#!/usr/bin/env bash
# docker exec against gantryd as the real docker CLI and docker-py show it (TARGET=dockerd: the same against a private dockerd).
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
bbtar=$(e2e_busybox_tar)
dk load -i "$bbtar" >/dev/null
dk run -d --name box busybox sleep 1000 >/dev/null

# Runs CMD... and prints "rc=N" then its combined output (for commands expected to fail).
rc_out() {
	local rc=0 out
	out=$("$@" 2>&1) || rc=$?
	printf 'rc=%s\n%s\n' "$rc" "$out"
}

test_output_and_code() {
	local out rc=0
	out=$(dk exec box sh -c 'echo to-out; echo to-err >&2; exit 3' 2>"$E2E_TMP/err") || rc=$?
	assert_eq "$out" to-out "stdout of the exec"
	assert_eq "$(cat "$E2E_TMP/err")" to-err "stderr kept apart"
	assert_eq "$rc" 3 "docker exec exits with the process's code"
	assert_eq "$(dk exec box cat /proc/1/cmdline | tr '\0' ' ')" "sleep 1000 " "same pid namespace as the container"
}

test_user_workdir_env() {
	assert_eq "$(dk exec -u nobody box id -un)" nobody "-u by name"
	assert_eq "$(dk exec -u 1234:5678 box id)" "uid=1234 gid=5678 groups=5678" "-u uid:gid"
	assert_eq "$(dk exec -w /tmp box pwd)" /tmp "-w sets the working directory"
	assert_eq "$(dk exec -e FOO=bar -e PATH=/bin box sh -c 'echo $FOO:$PATH')" bar:/bin "-e adds and overrides"
	assert_contains "$(dk exec box env)" "HOSTNAME=" "the container's environment is inherited"
}

test_stdin() {
	assert_eq "$(printf 'one\ntwo\n' | dk exec -i box sh -c 'wc -l')" 2 "-i passes stdin, EOF ends it"
	assert_eq "$(echo ignored | dk exec box sh -c 'cat; echo end')" end "no stdin without -i"
}

test_tty() {
	local cmd out rc=0
	printf -v cmd '%q ' "$DOCKER" exec -t box sh -c 'tty; echo in-tty'
	out=$(SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null </dev/null | tr -d '\r')
	assert_contains "$out" "/dev/pts/" "exec -t gives a tty"
	assert_contains "$out" "in-tty" "exec -t output"
	printf -v cmd '%q ' "$DOCKER" exec -it box sh
	out=$(printf 'echo typed-$((6*7))\nexit 4\n' | SHELL=/bin/bash timeout 60 script -qec "$cmd" /dev/null) || rc=$?
	assert_contains "$out" "typed-42" "interactive shell over a tty"
	assert_eq "$rc" 4 "exit code through the tty session"
}

test_detach() {
	dk exec -d box sh -c 'sleep 0.3; echo done > /tmp/detached'
	local i
	for ((i = 0; i < 50; i++)); do
		[[ $(dk exec box cat /tmp/detached 2>/dev/null) == done ]] && break
		sleep 0.1
	done
	assert_eq "$(dk exec box cat /tmp/detached)" done "a detached exec ran to its end"
}

test_errors() {
	local out
	out=$(rc_out dk exec box /no/such/binary)
	assert_contains "$out" "rc=126" "missing program: 126, as dockerd answers for exec"
	assert_contains "$out" "no such file or directory" "missing program: the reason"
	out=$(rc_out dk exec box /etc/passwd)
	assert_contains "$out" "rc=126" "not executable: 126"
	out=$(rc_out dk exec nosuch true)
	assert_contains "$out" "No such container: nosuch" "exec in a missing container"
	dk create --name stopped busybox true >/dev/null
	out=$(rc_out dk exec stopped true)
	assert_contains "$out" "is not running" "exec in a container that is not running"
	dk rm stopped >/dev/null
}

test_inspect_api() {
	local id body
	id=$(curl -sf --unix-socket "$E2E_SOCK" -H 'Content-Type: application/json' \
		-d '{"Cmd":["sh","-c","exit 6"],"AttachStdout":true}' http://d/containers/box/exec | jq -r .Id)
	assert_match "$id" '^[0-9a-f]{64}$' "exec create answers an id"
	body=$(curl -sf --unix-socket "$E2E_SOCK" http://d/exec/"$id"/json)
	assert_eq "$(jq -r .Running <<<"$body"):$(jq -r .ExitCode <<<"$body")" "false:null" "not started yet"
	curl -sf --unix-socket "$E2E_SOCK" -H 'Content-Type: application/json' -d '{"Detach":true}' \
		http://d/exec/"$id"/start >/dev/null
	local i
	for ((i = 0; i < 50; i++)); do
		body=$(curl -sf --unix-socket "$E2E_SOCK" http://d/exec/"$id"/json)
		[[ $(jq -r .Running <<<"$body") == false ]] && break
		sleep 0.1
	done
	assert_eq "$(jq -r .ExitCode <<<"$body")" 6 "exec inspect has the exit code"
	assert_eq "$(jq -r .ProcessConfig.entrypoint <<<"$body")" sh "exec inspect has the command"
	assert_eq "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$E2E_SOCK" http://d/exec/nosuch/json)" 404 "unknown exec: 404"
}

test_docker_py() {
	local py=/usr/bin/python3
	"$py" -c 'import docker' 2>/dev/null || { t_skip "python3-docker not installed"; return; }
	local out
	out=$("$py" - <<'EOF'
import docker
c = docker.from_env().containers.get("box")
r = c.exec_run(["sh", "-c", "echo py-$((40+2)); exit 9"])
print(r.exit_code, r.output.decode().strip())
r = c.exec_run("id -u", user="nobody")
print(r.exit_code, r.output.decode().strip())
EOF
)
	assert_eq "$out" $'9 py-42\n0 65534' "docker-py exec_run: exit code and output"
}

# Waits up to 15 s for `docker inspect -f FORMAT NAME` to print WANT; prints the last answer.
wait_inspect() { # NAME FORMAT WANT
	local i got
	for ((i = 0; i < 150; i++)); do
		got=$(dk inspect -f "$2" "$1" 2>/dev/null)
		[[ $got == "$3" ]] && break
		sleep 0.1
	done
	echo "$got"
}

test_health() {
	local t0
	t0=$(date +%s)
	dk run -d --name hc --health-cmd 'test -f /tmp/ok' --health-interval 200ms --health-retries 2 \
		--health-timeout 2s busybox sh -c 'touch /tmp/ok; sleep 1000' >/dev/null
	assert_eq "$(wait_inspect hc '{{.State.Health.Status}}' healthy)" healthy "the probe passes: healthy"
	assert_match "$(dk ps --format '{{.Status}}' -f name=hc)" '^Up .*\(healthy\)$' "ps shows (healthy)"
	dk exec hc rm /tmp/ok
	assert_eq "$(wait_inspect hc '{{.State.Health.Status}}' unhealthy)" unhealthy "two failures in a row: unhealthy"
	assert_match "$(dk inspect -f '{{.State.Health.FailingStreak}}' hc)" '^[2-9]' "the failing streak is counted"
	assert_match "$(dk inspect -f '{{range .State.Health.Log}}{{.ExitCode}}{{end}}' hc)" '^[01]*11$' "the log keeps the last probes' exit codes"
	assert_contains "$(dk events --since "$t0" --until "$(($(date +%s) + 1))" --filter event=health_status --format '{{.Action}}')" \
		"health_status: unhealthy" "health_status events"
	dk rm -f hc >/dev/null
	dk run -d --name nohc --health-cmd 'true' --no-healthcheck busybox sleep 100 >/dev/null 2>&1 ||
		dk run -d --name nohc busybox sleep 100 >/dev/null
	assert_eq "$(dk inspect -f '{{.State.Health}}' nohc)" "<nil>" "no health without a check"
	dk rm -f nohc >/dev/null
}

t_run "$TARGET:exec_output_and_code" test_output_and_code
t_run "$TARGET:exec_user_workdir_env" test_user_workdir_env
t_run "$TARGET:exec_stdin" test_stdin
t_run "$TARGET:exec_tty" test_tty
t_run "$TARGET:exec_detach" test_detach
t_run "$TARGET:exec_errors" test_errors
t_run "$TARGET:exec_inspect_api" test_inspect_api
t_run "$TARGET:exec_docker_py" test_docker_py
t_run "$TARGET:exec_health" test_health
stop_daemon
t_summary
