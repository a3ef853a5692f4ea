#!/usr/bin/env bash
# Container start-to-exit time and peak RSS of $RUNTIME against runc (`run` of a /bin/true bundle), with the unshare floor.
# Env: RUNTIME (default /usr/local/bin/gantry-runtime), PEER (default runc), N runs each (default 50).
# Exit status: non-zero when our runtime failed any run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RUNTIME=${RUNTIME:-/usr/local/bin/gantry-runtime}
PEER=${PEER:-$(command -v runc || echo /usr/sbin/runc)}
N=${N:-50}

if [[ $(id -u) -ne 0 ]]; then
	echo "bench/runtime.sh: needs root" >&2
	exit 1
fi
for rt in "$RUNTIME" "$PEER"; do
	if [[ ! -x $rt ]]; then
		echo "bench/runtime.sh: runtime $rt not found or not executable" >&2
		exit 1
	fi
done

tmp=$(mktemp -d /tmp/gantry-bench.XXXXXX)
prefix=gbench-$$
cleanup() {
	local rt root id
	# `run` deletes its container on exit; this catches a runtime that failed half-way.
	for rt in "$RUNTIME" "$PEER"; do
		for root in "$tmp"/state-*; do
			[[ -d $root ]] || continue
			for id in "$root"/*; do
				[[ -e $id ]] || continue
				"$rt" --root "$root" delete -f "${id##*/}" >/dev/null 2>&1 || true
			done
		done
	done
	# Cgroups named after the container ids (the default spec has no cgroupsPath).
	find /sys/fs/cgroup -maxdepth 3 -type d -name "$prefix-*" -exec rmdir {} + 2>/dev/null || true
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT

# One bundle for both runtimes, from runc's default spec, so both run the same config.
RUNTIME=$PEER bash "$here/../scripts/make-bundle.sh" "$tmp/plain" /bin/true >/dev/null
mkdir -p "$tmp/limited"
jq --arg root "$tmp/plain/rootfs" '.linux.resources.memory = {limit: 524288} | .root.path = $root' \
	"$tmp/plain/config.json" > "$tmp/limited/config.json"

python3 - "$tmp" "$prefix" "$N" "$RUNTIME" "$PEER" <<'PY'
import os, re, statistics, sys, time

tmp, prefix, n, ours, peer = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
devnull = os.open(os.devnull, os.O_RDWR)
errlogs = {k: os.open(os.path.join(tmp, f"stderr-{k}.log"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
           for k in ("ours", "peer", "floor")}


def run(argv, errlog):
    """Runs argv; returns (seconds, exit code)."""
    t0 = time.perf_counter_ns()
    pid = os.posix_spawn(argv[0], argv, os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, devnull, 0),
                                       (os.POSIX_SPAWN_DUP2, devnull, 1),
                                       (os.POSIX_SPAWN_DUP2, errlog, 2)])
    _, status, _ = os.wait4(pid, 0)
    dt = (time.perf_counter_ns() - t0) / 1e9
    return dt, os.waitstatus_to_exitcode(status)


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def peak_rss(argv, errlog):
    """Peak RSS in KiB of argv and the processes it reaped (the init it forked, the container).

    A child's ru_maxrss starts at its parent's RSS at fork/exec, so it is measured under
    GNU time (about 1 MiB itself; printed as the launcher floor) rather than under
    python (about 10 MiB). Separate runs, so the timings above carry no such wrapper."""
    if GNU_TIME:
        out = os.path.join(tmp, "rss.txt")
        _, rc = run([GNU_TIME, "-f", "%M", "-o", out] + argv, errlog)
        with open(out) as f:
            return int(f.read().split()[-1]), rc
    pid = os.fork()
    if pid == 0:
        os.dup2(devnull, 0); os.dup2(devnull, 1); os.dup2(errlog, 2)
        os.execv(argv[0], argv)
    _, status, ru = os.wait4(pid, 0)
    return ru.ru_maxrss, os.waitstatus_to_exitcode(status)


def bench(bundle, tag):
    names = {"ours": ours, "peer": peer}
    res = {k: {"t": [], "rc": [], "rss": []} for k in names}
    for i in range(n):
        # Alternate who goes first so neither always runs on a warmer cache.
        order = ["ours", "peer"] if i % 2 == 0 else ["peer", "ours"]
        for k in order:
            cid = f"{prefix}-{tag}-{k}-{i}"
            root = os.path.join(tmp, f"state-{k}")
            dt, rc = run([names[k], "--root", root, "run", "--bundle", bundle, cid], errlogs[k])
            res[k]["t"].append(dt)
            res[k]["rc"].append(rc)
    for i in range(min(n, 5)):
        for k in names:
            cid = f"{prefix}-{tag}-{k}-rss{i}"
            root = os.path.join(tmp, f"state-{k}")
            rss, rc = peak_rss([names[k], "--root", root, "run", "--bundle", bundle, cid], errlogs[k])
            res[k]["rss"].append(rss)
            res[k]["rc"].append(rc)
    return res


def table(title, res):
    print(f"\n{title}")
    print(f"  {'runtime':<40} {'runs':>4} {'median ms':>10} {'p10 ms':>8} {'p90 ms':>8} {'peak RSS KiB':>13}  exit codes (all runs)")
    for k, path in (("ours", ours), ("peer", peer)):
        r = res[k]
        ts = sorted(r["t"])
        codes = {}
        for c in r["rc"]:
            codes[c] = codes.get(c, 0) + 1
        codes_s = " ".join(f"{c}x{cnt}" for c, cnt in sorted(codes.items()))
        print(f"  {k + ': ' + path:<40} {len(ts):>4} {statistics.median(ts) * 1e3:>10.2f} "
              f"{ts[len(ts) // 10] * 1e3:>8.2f} {ts[(len(ts) * 9) // 10] * 1e3:>8.2f} "
              f"{max(r['rss']):>13}  {codes_s}")
    mo, mp = statistics.median(res["ours"]["t"]), statistics.median(res["peer"]["t"])
    ro, rp = max(res["ours"]["rss"]), max(res["peer"]["rss"])
    print(f"  ratio ours/peer: time {mo / mp:.2f}x, peak RSS {ro / rp:.2f}x")


floor = sorted(run(["/usr/bin/unshare", "--mount", "--uts", "--ipc", "--net", "--pid", "--fork", "/bin/true"], errlogs["floor"])[0]
               for _ in range(n))
plain = bench(os.path.join(tmp, "plain"), "p")
limited = bench(os.path.join(tmp, "limited"), "m")

print(f"runtime start-to-exit of a /bin/true container (`run`, default spec, {n} runs each, alternating)")
table("default spec:", plain)
table("with linux.resources.memory.limit = 524288 (512 KiB):", limited)
print(f"\nfloor: unshare --mount --uts --ipc --net --pid --fork /bin/true: median {statistics.median(floor) * 1e3:.2f} ms")
launcher = peak_rss(["/bin/true"], errlogs["floor"])[0]
print(f"peak RSS: max of 5 runs each under {GNU_TIME or 'python wait4'}; launcher floor (/bin/true under it): {launcher} KiB")

failed = [c for c in plain["ours"]["rc"] + limited["ours"]["rc"] if c != 0]
for k, path in (("ours", ours), ("peer", peer)):
    with open(os.path.join(tmp, f"stderr-{k}.log")) as f:
        # Drop logrus' time="..." so repeats of one error collapse into one line.
        lines = [re.sub(r'^time="[^"]*" ', "", l) for l in f.read().splitlines()]
    uniq = list(dict.fromkeys(lines))
    if uniq:
        print(f"\nstderr of {k}: {path} ({len(lines)} lines, {len(uniq)} distinct; first 3):")
        for line in uniq[:3]:
            print("  " + line[:300])
sys.exit(1 if failed else 0)
PY
