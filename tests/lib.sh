# Tiny shell test library: t_run/t_ok/t_fail, asserts, a cleanup registry (t_defer) and t_summary.
# shellcheck shell=bash
#
# Source it, then:
#   t_defer "rm -rf $tmp"          # runs at exit (or in t_summary), last registered first
#   t_run echo_works my_test_fn    # runs "my_test_fn" in a subshell with `set -e`:
#                                  # the first failing command or assert fails the test
#   t_ok name / t_fail name msg    # record a result computed by hand
#   t_skip name reason
#   t_summary                      # runs the defers, prints "N passed, N failed", exits 1 if any failed
# Tests run in a subshell, so they cannot set variables for later tests (use files);
# t_defer writes to a file, so registrations made inside a test are kept.
# Env: T_RESULTS=file gets "PASS name"/"FAIL name"/"SKIP name" lines appended;
#      T_TIMEOUT=seconds per test (default 300; 0 = none); T_VERBOSE=1 traces tests (set -x).

T_PASSED=0
T_FAILED=0
T_SKIPPED=0
T_TIMEOUT=${T_TIMEOUT:-300}
T_MAIN_PID=$BASHPID
T_DEFER_FILE=$(mktemp "${TMPDIR:-/tmp}/t-defer.XXXXXX")
T_CUR_PIDS=

t_log() { printf '# %s\n' "$*" >&2; }

t__record() { # STATUS NAME [MSG]
	local status=$1 name=$2 msg=${3:-}
	case $status in
	PASS) T_PASSED=$((T_PASSED + 1)) ;;
	FAIL) T_FAILED=$((T_FAILED + 1)) ;;
	SKIP) T_SKIPPED=$((T_SKIPPED + 1)) ;;
	esac
	if [[ -n $msg ]]; then
		printf '%s %s: %s\n' "$status" "$name" "$msg"
	else
		printf '%s %s\n' "$status" "$name"
	fi
	if [[ -n ${T_RESULTS:-} ]]; then
		printf '%s %s\n' "$status" "$name" >> "$T_RESULTS"
	fi
}

# Inside a test: t_ok is a no-op and t_fail fails the test; outside: they record one result.
t_ok() {
	if [[ -n ${T_IN_TEST:-} ]]; then return 0; fi
	t__record PASS "${1:?t_ok NAME}"
}
t_fail() {
	if [[ -n ${T_IN_TEST:-} ]]; then
		printf '  fail: %s\n' "$*" >&2
		return 1
	fi
	local name=${1:?t_fail NAME [MSG]}
	shift
	t__record FAIL "$name" "$*"
}
t_skip() {
	local name=${1:?t_skip NAME [REASON]}
	shift
	t__record SKIP "$name" "$*"
}

t__fail_msg() { printf '  assert: %s\n' "$*" >&2; }

assert_eq() { # GOT WANT [MSG]
	[[ $1 == "$2" ]] && return 0
	t__fail_msg "${3:-values differ}: got '$1', want '$2'"
	return 1
}
assert_soon_eq() { # CMD WANT [MSG]: what CMD (run by eval) prints is WANT within 5 s
	local t__got t__i
	for ((t__i = 0; t__i < 50; t__i++)); do
		t__got=$(eval "$1")
		[[ $t__got == "$2" ]] && return 0
		sleep 0.1
	done
	t__fail_msg "${3:-values differ} (within 5 s): got '$t__got', want '$2'"
	return 1
}
assert_ne() { # GOT UNWANTED [MSG]
	[[ $1 != "$2" ]] && return 0
	t__fail_msg "${3:-values equal}: got '$1'"
	return 1
}
assert_contains() { # HAYSTACK NEEDLE [MSG]
	[[ $1 == *"$2"* ]] && return 0
	t__fail_msg "${3:-missing text}: '$2' not in '$1'"
	return 1
}
assert_not_contains() { # HAYSTACK NEEDLE [MSG]
	[[ $1 != *"$2"* ]] && return 0
	t__fail_msg "${3:-unexpected text}: '$2' found in '$1'"
	return 1
}
assert_match() { # STRING ERE [MSG]
	[[ $1 =~ $2 ]] && return 0
	t__fail_msg "${3:-no match}: '$1' !~ /$2/"
	return 1
}
assert_ok() { # CMD... : the command must exit 0
	local rc=0
	"$@" || rc=$?
	[[ $rc -eq 0 ]] && return 0
	t__fail_msg "command failed (rc $rc): $*"
	return 1
}
assert_fails() { # CMD... : the command must exit non-zero
	local rc=0
	"$@" || rc=$?
	[[ $rc -ne 0 ]] && return 0
	t__fail_msg "command succeeded but should fail: $*"
	return 1
}

# Kills PID and all its descendants (children first so none is reparented and missed).
t__kill_tree() {
	local pid=$1 sig=${2:-TERM} child
	for child in $(ps -o pid= --ppid "$pid" 2>/dev/null); do
		t__kill_tree "$child" "$sig"
	done
	kill "-$sig" "$pid" 2>/dev/null || true
}

# Names the failing command and where it is in the test file (not in an assert helper).
t__err_trap() {
	local rc=$1 i=1
	while [[ ${FUNCNAME[i]:-} == assert_* || ${FUNCNAME[i]:-} == t_* ]]; do
		i=$((i + 1))
	done
	local file=${BASH_SOURCE[i]} line=${BASH_LINENO[i - 1]} what=$BASH_COMMAND
	# After an assert returns, BASH_COMMAND is its "return 1": show the source line instead.
	if [[ $what == return* && -r $file ]]; then
		what=$(sed -n "${line}{s/^[[:space:]]*//;p}" "$file")
	fi
	printf '  failed at %s:%s: %s (rc %s)\n' "${file##*/}" "$line" "$what" "$rc" >&2
}

t_run() { # NAME CMD...
	local name=${1:?t_run NAME CMD...}
	shift
	local had_e=0 rc=0 pid wd=
	[[ $- == *e* ]] && had_e=1
	set +e
	# Explicit <&0: a background job would otherwise get /dev/null as stdin.
	(
		T_IN_TEST=$name
		trap - EXIT INT TERM
		set -eE
		trap 't__err_trap $?' ERR
		[[ -n ${T_VERBOSE:-} ]] && set -x
		"$@"
	) <&0 &
	pid=$!
	T_CUR_PIDS=$pid
	if [[ $T_TIMEOUT -gt 0 ]]; then
		(
			trap - EXIT INT TERM
			sleep "$T_TIMEOUT" &
			# A killed sleep means the test ended in time: nothing to do.
			wait $! || exit 0
			printf '  timeout: %s after %ss\n' "$name" "$T_TIMEOUT" >&2
			t__kill_tree "$pid" TERM
			sleep 5
			t__kill_tree "$pid" KILL
		) </dev/null >&2 &
		wd=$!
		T_CUR_PIDS="$pid $wd"
	fi
	wait "$pid"
	rc=$?
	T_CUR_PIDS=
	if [[ -n $wd ]]; then
		t__kill_tree "$wd" TERM
		wait "$wd" 2>/dev/null
	fi
	((had_e)) && set -e
	if [[ $rc -eq 0 ]]; then
		t__record PASS "$name"
	else
		t__record FAIL "$name" "rc $rc"
	fi
	return 0
}

# Registers a shell command (a string, eval'ed) to run at exit; last in, first out.
t_defer() {
	printf '%s\0' "$*" >> "$T_DEFER_FILE"
}

t__run_defers() {
	[[ -f $T_DEFER_FILE ]] || return 0
	local cmds=() i
	mapfile -d '' -t cmds < "$T_DEFER_FILE"
	# Removed before running, so a cleanup that kills this shell (SIGPIPE) leaves no file.
	rm -f "$T_DEFER_FILE"
	for ((i = ${#cmds[@]} - 1; i >= 0; i--)); do
		(eval "${cmds[i]}") || printf '# cleanup failed: %s\n' "${cmds[i]}" >&2
	done
}

t__on_exit() {
	local rc=$?
	[[ $BASHPID == "$T_MAIN_PID" ]] || return 0
	t__run_defers
	exit "$rc"
}
t__on_signal() {
	[[ $BASHPID == "$T_MAIN_PID" ]] || return 0
	printf '# interrupted: cleaning up\n' >&2
	local p
	for p in ${T_CUR_PIDS:-}; do t__kill_tree "$p" KILL; done
	t__run_defers
	trap - EXIT
	exit 130
}
trap t__on_exit EXIT
trap t__on_signal INT TERM HUP

# --- helpers for tests that start daemons, mounts and cgroups -------------

# True while PID exists and is not a zombie.
t_alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $st && $st != Z ]]
}

# Stops one process by pid: SIGTERM, up to SECONDS (default 20) for it to go, then SIGKILL.
t_kill_pid() { # PID [SECONDS]
	local pid=$1 secs=${2:-20} i
	[[ $pid =~ ^[0-9]+$ ]] || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < secs * 10; i++)); do
		t_alive "$pid" || break
		sleep 0.1
	done
	if t_alive "$pid"; then
		printf '# %s did not stop in %ss: SIGKILL\n' "$pid" "$secs" >&2
		kill -KILL "$pid" 2>/dev/null || true
		for ((i = 0; i < 50; i++)); do t_alive "$pid" || break; sleep 0.1; done
	fi
	wait "$pid" 2>/dev/null || true # reaps it if it is our child
	! t_alive "$pid"
}

# Pids of processes whose command line mentions STRING (e.g. a private socket path).
t_pids_mentioning() { # STRING
	local f pid
	for f in /proc/[0-9]*/cmdline; do
		pid=${f#/proc/}
		pid=${pid%/cmdline}
		[[ $pid == "$BASHPID" ]] && continue
		if { tr '\0' ' ' < "$f"; } 2>/dev/null | grep -qF -- "$1"; then
			echo "$pid"
		fi
	done
}

# Unmounts everything mounted at or below DIR, innermost first (lazily if busy).
t_umount_under() { # DIR
	local m
	findmnt -rn -o TARGET | awk -v d="$1" '$0 == d || index($0, d "/") == 1' | sort -r |
		while read -r m; do
			umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
		done
	! findmnt -rn -o TARGET | awk -v d="$1" '$0 == d || index($0, d "/") == 1' | grep -q .
}

# Removes the cgroup REL (e.g. /gantry-test-123) and everything below it in every
# hierarchy (v1 controllers and the v2 tree), retrying while processes drain out.
t_rmdir_cgroups() { # REL
	local rel=${1#/} d i left
	[[ -n $rel ]] || return 1
	for ((i = 0; i < 10; i++)); do
		left=0
		for d in /sys/fs/cgroup/*/"$rel" /sys/fs/cgroup/"$rel"; do
			[[ -d $d ]] || continue
			find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null || true
			[[ -d $d ]] && left=1
		done
		[[ $left -eq 0 ]] && return 0
		sleep 0.5
	done
	for d in /sys/fs/cgroup/*/"$rel" /sys/fs/cgroup/"$rel"; do
		[[ -d $d ]] && printf '# cgroup %s remains\n' "$d" >&2
	done
	return 1
}

# Prints FILE of PID's cgroup for CONTROLLER: the v1 hierarchy's V1FILE when the
# controller is mounted as v1 (hybrid hosts), else the v2 tree's V2FILE.
t_cgroup_read() { # PID CONTROLLER V1FILE V2FILE
	local pid=$1 ctrl=$2 path
	path=$(awk -F: -v c="$ctrl" '{n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3}' "/proc/$pid/cgroup")
	if [[ -n $path && -d /sys/fs/cgroup/$ctrl ]]; then
		cat "/sys/fs/cgroup/$ctrl$path/$3"
	else
		path=$(awk -F: '$1 == "0" {print $3}' "/proc/$pid/cgroup")
		cat "/sys/fs/cgroup$path/$4"
	fi
}

# Prints how many OOM kills the memory cgroup of PID has seen (v1 memory.oom_control, v2 memory.events).
t_oom_kills() { # PID
	t_cgroup_read "$1" memory memory.oom_control memory.events | awk '$1 == "oom_kill" {print $2}'
}

# Runs the cleanups, then prints the one closing line; exits 1 if any test failed.
t_summary() {
	t__run_defers
	if [[ $T_SKIPPED -gt 0 ]]; then
		printf '%d passed, %d failed, %d skipped\n' "$T_PASSED" "$T_FAILED" "$T_SKIPPED"
	else
		printf '%d passed, %d failed\n' "$T_PASSED" "$T_FAILED"
	fi
	[[ $T_FAILED -eq 0 ]] || exit 1
	exit 0
}
