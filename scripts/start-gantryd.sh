#!/usr/bin/env bash
# Starts gantryd in the background on its default socket unless one already answers there.
# Usage: start-gantryd.sh [GANTRYD]   (default /usr/local/bin/gantryd); log in /var/log/gantryd.log.
set -euo pipefail
gantryd=${1:-/usr/local/bin/gantryd}
sock=/run/gantry/gantry.sock

ping() { curl -sf --max-time 2 --unix-socket "$sock" http://d/_ping >/dev/null 2>&1; }

ping && exit 0
mkdir -p /run/gantry /var/log
setsid "$gantryd" --pidfile /run/gantry/gantryd.pid </dev/null >>/var/log/gantryd.log 2>&1 &
pid=$!
for ((i = 0; i < 100; i++)); do
	ping && { echo "gantryd running (pid $pid, log /var/log/gantryd.log)"; exit 0; }
	kill -0 "$pid" 2>/dev/null || break
	sleep 0.1
done
echo "start-gantryd: gantryd did not answer on $sock; last lines of /var/log/gantryd.log:" >&2
tail -20 /var/log/gantryd.log >&2
exit 1
