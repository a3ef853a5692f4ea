#!/usr/bin/env bash
# docker-py 5 (Debian's python3-docker) against gantryd (TARGET=dockerd: a private dockerd): load, run, logs, stop, list, inspect, errors.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
# Debian's python3 has python3-docker; a python3 earlier on PATH (pyenv) may not.
PY=${PY:-/usr/bin/python3}
if ! "$PY" -c 'import docker' 2>/dev/null; then
	t_skip "$TARGET:py" "$PY has no docker module (python3-docker, scripts/install-deps.sh)"
	t_summary
fi

start_daemon
tar=$(e2e_busybox_tar)

# The python script prints "PASS name" / "FAIL name: why"; each becomes one result here.
out=$E2E_TMP/py.out
timeout 600 "$PY" "$here/docker_py_test.py" "$tar" "$TARGET:py" > "$out" 2> "$E2E_TMP/py.err"
rc=$?
while read -r status name msg; do
	name=${name%:}
	case $status in
	PASS) t_ok "$name" ;;
	FAIL) t_fail "$name" "$msg" ;;
	esac
done < "$out"
if grep -q '^FAIL' "$out" || [[ $rc -ne 0 ]]; then
	sed 's/^/  py: /' "$E2E_TMP/py.err" | tail -60 >&2
fi
# A crash before or between scenarios leaves no FAIL line: count it as one.
if [[ $rc -ne 0 ]] && ! grep -q '^FAIL' "$out"; then
	t_fail "$TARGET:py_script" "exited $rc"
fi
stop_daemon
t_summary
