#!/usr/bin/env bash
# Cold docker pull and docker push: gantryd against a private dockerd in one run, the same docker
# CLI and the same local registry (Debian's docker-registry on 127.0.0.1). The image: LAYERS layers
# of mixed files (random and text), about SIZE MiB gzip-compressed, made by bench/make_pull_image.py
# and pushed by skopeo. Each push goes to a fresh registry (nothing there to skip or mount).
# A second gantryd with GANTRY_INFLATE=zlib gives the igzip-vs-zlib figure.
# Env: N runs (default 3), SIZE MiB (default 300), LAYERS (default 5), GANTRYD, DOCKER.
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../tests/lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../tests/gantryd_lib.sh"
N=${N:-3}
SIZE=${SIZE:-300}
LAYERS=${LAYERS:-5}
PY=/usr/bin/python3
T_TIMEOUT=0

if [[ $(id -u) -ne 0 ]]; then
	echo "bench/pull.sh: needs root" >&2
	exit 1
fi
for bin in docker-registry skopeo; do
	command -v "$bin" >/dev/null || { echo "bench/pull.sh: $bin not installed" >&2; exit 1; }
done

W=$(mktemp -d /tmp/gantry-bench-pull.XXXXXX)
t_defer "rm -rf '$W'"
free_port() { "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# reg_start DIR PORT: prints the registry's pid.
reg_start() {
	mkdir -p "$1/data"
	cat > "$1/config.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $1/data
http:
  addr: 127.0.0.1:$2
EOF
	docker-registry serve "$1/config.yml" > "$1/log" 2>&1 </dev/null &
	local pid=$! i
	for ((i = 0; i < 100; i++)); do
		curl -s --max-time 1 -o /dev/null "http://127.0.0.1:$2/v2/" && break
		sleep 0.1
	done
	echo "$pid"
}

echo "# making the image: $LAYERS layers, about $SIZE MiB compressed" >&2
"$PY" "$here/make_pull_image.py" "$W/img.tar" "$SIZE" "$LAYERS" || exit 1
PA=$(free_port)
pa=$(reg_start "$W/regA" "$PA")
t_defer "t_kill_pid $pa 10"
IMG=127.0.0.1:$PA/bench/pull:1
skopeo copy -q --dest-tls-verify=false "docker-archive:$W/img.tar" "docker://$IMG" || exit 1
comp=$(skopeo inspect --raw --tls-verify=false "docker://$IMG" | jq '[.layers[].size] | add')
echo "# image: $(( comp / 1048576 )) MiB compressed in $LAYERS layers" >&2

declare -A state=()
start_as() { # NAME TARGET [ENV=VALUE]
	local name=$1 why
	TARGET=$2
	if ! why=$(e2e_missing); then
		echo "# $name: not run: $why" >&2
		return 1
	fi
	local ok=0
	[[ -n ${3:-} ]] && export "${3?}"
	"start_$2" && ok=1
	[[ -n ${3:-} ]] && unset "${3%%=*}"
	E2E_CGROUP_PARENT=/$E2E_CGROUP_PARENT_REL
	t_defer "$(e2e_state) e2e_stop"
	[[ $ok -eq 1 ]] || { echo "# $name did not start" >&2; return 1; }
	state[$name]=$(e2e_state)
}
use() { eval "${state[$1]}"; }

names=()
start_as gantryd gantryd && names+=(gantryd)
start_as dockerd dockerd && names+=(dockerd)
start_as gantryd-zlib gantryd GANTRY_INFLATE=zlib && names+=(gantryd-zlib)

now() { date +%s.%N; }
declare -A pulls=() pushes=()
for ((run = 1; run <= N; run++)); do
	# Alternate the order: neither daemon always gets the registry's warmer cache.
	order=("${names[@]}")
	((run % 2 == 0)) && order=($(printf '%s\n' "${names[@]}" | tac))
	for n in "${order[@]}"; do
		use "$n"
		dk rmi -f "$IMG" >/dev/null 2>&1
		dk image prune -af >/dev/null 2>&1
		[[ -z $(dk images -q) ]] || echo "# $n: images left before a cold pull: $(dk images -q | tr '\n' ' ')" >&2
		sync
		t0=$(now)
		dk pull -q "$IMG" >/dev/null || { echo "# $n: pull failed" >&2; continue; }
		t1=$(now)
		pulls[$n]+="$(echo "$t1 - $t0" | bc) "
	done
	for n in "${order[@]}"; do
		[[ $n == gantryd-zlib ]] && continue
		use "$n"
		PB=$(free_port)
		pb=$(reg_start "$W/regB-$n-$run" "$PB")
		dk tag "$IMG" "127.0.0.1:$PB/bench/push:1"
		sync
		t0=$(now)
		dk push -q "127.0.0.1:$PB/bench/push:1" >/dev/null || echo "# $n: push failed" >&2
		t1=$(now)
		pushes[$n]+="$(echo "$t1 - $t0" | bc) "
		# The next cold pull must find no name keeping the layers.
		dk rmi "127.0.0.1:$PB/bench/push:1" >/dev/null
		t_kill_pid "$pb" 10
		rm -rf "$W/regB-$n-$run"
	done
done

# gantryd pushing an image it has no compressed layers for (loaded from the uncompressed archive):
# the push compresses each layer (igzip), as dockerd always does.
if [[ -n ${state[gantryd-zlib]:-} ]]; then
	use gantryd-zlib
	for ((run = 1; run <= N; run++)); do
		dk rmi -f "$IMG" bench/pull:1 >/dev/null 2>&1
		dk load -q -i "$W/img.tar" >/dev/null || break
		PB=$(free_port)
		pb=$(reg_start "$W/regC-$run" "$PB")
		dk tag bench/pull:1 "127.0.0.1:$PB/bench/push:1"
		sync
		t0=$(now)
		dk push -q "127.0.0.1:$PB/bench/push:1" >/dev/null || echo "# push of the loaded image failed" >&2
		t1=$(now)
		pushes[gantryd-compressing]+="$(echo "$t1 - $t0" | bc) "
		t_kill_pid "$pb" 10
		rm -rf "$W/regC-$run"
	done
	names+=(gantryd-compressing)
fi

# Unpack throughput beside docker's, measured alike on both: `docker load` of the uncompressed
# archive is reading the layer tars and writing their files (no download, no inflate).
tarmib=$(echo "scale=1; $(stat -c %s "$W/img.tar") / 1048576" | bc)
declare -A loads=()
for ((run = 1; run <= N; run++)); do
	for n in gantryd dockerd; do
		[[ -n ${state[$n]:-} ]] || continue
		use "$n"
		dk rmi -f "$IMG" bench/pull:1 >/dev/null 2>&1
		dk image prune -af >/dev/null 2>&1
		sync
		t0=$(now)
		dk load -q -i "$W/img.tar" >/dev/null || { echo "# $n: load failed" >&2; continue; }
		t1=$(now)
		loads[$n]+="$(echo "$t1 - $t0" | bc) "
	done
done

median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {if (NR % 2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
mib=$(echo "scale=1; $comp / 1048576" | bc)
printf '%-22s %10s %10s %12s   %s\n' "" "pull (s)" "push (s)" "pull MiB/s" "runs (pull | push)"
for n in "${names[@]}"; do
	mp=$(median "${pulls[$n]:-}")
	mq=$(median "${pushes[$n]:-0}")
	rate=
	[[ -n $mp ]] && rate=$(echo "scale=1; $mib / $mp" | bc 2>/dev/null)
	printf '%-22s %10s %10s %12s   %s| %s\n' "$n" "$mp" "${mq:-}" "$rate" "${pulls[$n]:-}" "${pushes[$n]:-}"
	declare "med_pull_${n//-/_}=$mp" "med_push_${n//-/_}=$mq"
done
# gantryd's own unpack rate (files written per second of unpack, per layer), from its log. The
# unpack runs while the layer downloads: its waits for bytes are left out.
for n in gantryd gantryd-zlib; do
	[[ -n ${state[$n]:-} ]] || continue
	use "$n"
	# "unpacked: B bytes of files in T s (and W s waiting for the download)": T is its own work.
	awk 'match($0, /unpacked: [0-9]+ bytes of files in [0-9.]+ s/) {split(substr($0, RSTART, RLENGTH), f, " "); b += f[2]; t += f[7]} END {if (t > 0) printf "# %s: layer unpack %.0f MiB/s of files per layer thread (%d MiB in %.2f s of unpack)\n", n, b/1048576/t, b/1048576, t}' n="$n" "$E2E_LOG"
done
for n in gantryd dockerd; do
	[[ -n ${loads[$n]:-} ]] || continue
	ml=$(median "${loads[$n]}")
	echo "# $n: load of the $tarmib MiB uncompressed archive (unpack) $ml s = $(echo "scale=1; $tarmib / $ml" | bc) MiB/s   runs: ${loads[$n]}"
done
if [[ -n ${med_pull_dockerd:-} && -n ${med_pull_gantryd:-} ]]; then
	echo "pull ratio gantryd/dockerd: $(echo "scale=3; $med_pull_gantryd / $med_pull_dockerd" | bc) (goal <= 0.5)"
	echo "push ratio gantryd/dockerd: $(echo "scale=3; $med_push_gantryd / $med_push_dockerd" | bc) (goal <= 0.6)"
	[[ -n ${med_push_gantryd_compressing:-} ]] &&
		echo "push ratio gantryd (compressing, loaded image)/dockerd: $(echo "scale=3; $med_push_gantryd_compressing / $med_push_dockerd" | bc)"
fi
if [[ -n ${med_pull_gantryd_zlib:-} && -n ${med_pull_gantryd:-} ]]; then
	echo "igzip vs zlib (gantryd pull): $med_pull_gantryd s vs $med_pull_gantryd_zlib s"
fi
echo "# $N runs each; compressed image $mib MiB; median times; pull MiB/s = compressed MiB / pull time" >&2
t_summary >/dev/null 2>&1 || true
