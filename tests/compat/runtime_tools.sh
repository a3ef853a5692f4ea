#!/usr/bin/env bash
# The OCI runtime-tools validation programs (validation/<name>/<name>.go, each printing TAP) run
# against $RUNTIME (default gantry-runtime): one PASS/FAIL/SKIP per program.
#
# Debian 12's golang-github-opencontainers-runtime-tools-dev ships only the library packages
# (generate, specerror, cgroups, validate), not validation/ nor cmd/runtimetest, and
# github.com/mndrix/tap-go is not packaged at all. So the programs' sources come from
# RUNTIME_TOOLS_SRC, a runtime-tools source tree (its root, holding validation/), or from
# Debian's tree should a later package ship them; without either this records one SKIP.
# tap-go, when neither the tree's vendor/ nor Debian has it, and runtimetest (the in-container
# checker), when the tree has no cmd/runtimetest that builds, are this directory's own stand-ins
# (runtime_tools/tap, runtime_tools/runtimetest). Everything else is Debian's (GOPATH mode).
# Containers live under a private --root (a wrapper passes it), bundles under a private TMPDIR;
# both, the build and the cgroups the programs ask for are removed at the end.
# Test functions are called through t_run (SC2317).
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
RUNTIME=${RUNTIME:-/usr/local/bin/gantry-runtime}
RT_TIMEOUT=${RT_TIMEOUT:-120}
debian_src=/usr/share/gocode/src/github.com/opencontainers/runtime-tools

if [[ $(id -u) -ne 0 ]]; then
	t_skip runtime_tools "needs root"
	t_summary
fi
src=${RUNTIME_TOOLS_SRC:-}
if [[ -z $src && -d $debian_src/validation/util ]]; then
	src=$debian_src
fi
if [[ -z $src || ! -d $src/validation/util ]]; then
	t_skip runtime_tools "no validation/ sources: Debian 12 ships runtime-tools' libraries only; set RUNTIME_TOOLS_SRC to a runtime-tools tree"
	t_summary
fi
# Go and the runtime-tools libraries the programs build against (GOPATH mode; uuid and yaml.v3
# are imported by them and by the TAP stand-in), installed only when there is something to build.
go_pkgs=(golang-go golang-github-opencontainers-runtime-tools-dev golang-github-google-uuid-dev
	golang-github-hashicorp-go-multierror-dev golang-gopkg-yaml.v3-dev golang-golang-x-sys-dev
	golang-gocapability-dev)
have=$(dpkg-query -W -f='${db:Status-Abbrev}\n' "${go_pkgs[@]}" 2>/dev/null | grep -c '^ii')
if [[ $have -ne ${#go_pkgs[@]} ]] &&
	! DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${go_pkgs[@]}" >/dev/null; then
	t_fail runtime_tools "apt-get install ${go_pkgs[*]} failed"
	t_summary
fi
if ! command -v go >/dev/null; then
	t_fail runtime_tools "go not installed (golang-go)"
	t_summary
fi
if [[ ! -d $debian_src/generate ]]; then
	t_fail runtime_tools "$debian_src missing (golang-github-opencontainers-runtime-tools-dev)"
	t_summary
fi
if [[ ! -x $RUNTIME ]]; then
	t_fail runtime_tools "runtime $RUNTIME not found or not executable"
	t_summary
fi

tmp=$(mktemp -d /tmp/gantry-rtools.XXXXXX)
chmod 755 "$tmp"
t_defer "rm -rf '$tmp'"
state=$tmp/state
wrapper=$tmp/runtime
# The programs call "$RUNTIME create|start|state|kill|delete ID" with no --root.
printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$RUNTIME" "$state" > "$wrapper"
chmod 755 "$wrapper"

# Cgroups the programs name (runtime-tools' cgroups.AbsCgroupPath "/cgrouptest" and
# RelCgroupPath "testdir/cgrouptest/container", the latter below the runtime's own cgroup):
# after the containers are gone, those that were not there before are removed.
cg_find() { find /sys/fs/cgroup -maxdepth 8 -type d -name cgrouptest 2>/dev/null | sort; }
cg_find > "$tmp/cgroups.before"
cleanup_cgroups() {
	local d
	cg_find | comm -13 "$tmp/cgroups.before" - | while read -r d; do
		find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
		[[ ${d%/cgrouptest} == */testdir ]] && rmdir "${d%/cgrouptest}" 2>/dev/null
		[[ -d $d ]] && printf '# cgroup %s remains\n' "$d" >&2
	done
	return 0
}
# Last in, first out: containers, then cgroups, then the files.
t_defer cleanup_cgroups
t_defer "for id in \$('$RUNTIME' --root '$state' list -q 2>/dev/null); do '$RUNTIME' --root '$state' delete -f \"\$id\"; done"

gopath=$tmp/gopath
pkg=$gopath/src/github.com/opencontainers/runtime-tools
work=$tmp/work
bin=$tmp/bin
mkdir -p "$pkg" "$work" "$bin" "$tmp/bundles"
chmod 755 "$work" "$tmp/bundles"
cp -r "$src/validation" "$pkg/"
[[ -d $src/cmd/runtimetest ]] && mkdir -p "$pkg/cmd" && cp -r "$src/cmd/runtimetest" "$pkg/cmd/"
[[ -d $src/vendor ]] && cp -r "$src/vendor" "$pkg/"
if [[ ! -d $pkg/vendor/github.com/mndrix/tap-go && ! -d /usr/share/gocode/src/github.com/mndrix/tap-go ]]; then
	mkdir -p "$gopath/src/github.com/mndrix/tap-go"
	cp "$here/runtime_tools/tap/tap.go" "$gopath/src/github.com/mndrix/tap-go/"
fi
export GOPATH=$gopath:/usr/share/gocode GO111MODULE=off GOFLAGS='' GOCACHE=$tmp/gocache GOTMPDIR=$tmp CGO_ENABLED=0
export GOPROXY=off GOTOOLCHAIN=local

# What the programs expect in their working directory: runtimetest and rootfs-$GOARCH.tar.gz.
build_support() {
	if [[ -f $pkg/cmd/runtimetest/main.go ]] &&
		go build -o "$work/runtimetest" github.com/opencontainers/runtime-tools/cmd/runtimetest 2>"$tmp/runtimetest.log"; then
		t_log "runtimetest: the tree's own"
	else
		mkdir -p "$gopath/src/gantry/runtimetest"
		cp "$here/runtime_tools/runtimetest/main.go" "$gopath/src/gantry/runtimetest/"
		go build -o "$work/runtimetest" gantry/runtimetest
		t_log "runtimetest: tests/compat/runtime_tools/runtimetest (the tree has none that builds)"
	fi
	"$top/scripts/make-busybox-rootfs.sh" "$tmp/rootfs" >/dev/null
	tar -C "$tmp/rootfs" -czf "$work/rootfs-$(go env GOARCH).tar.gz" .
}
if ! build_support 2>"$tmp/support.log"; then
	t_fail runtime_tools "cannot build runtimetest or the rootfs: $(tail -3 "$tmp/support.log")"
	t_summary
fi

# Programs that are known not to tell anything on this kind of host, or whose own logic is at
# fault (they fail on runc on the same machine too): NAME -> reason.
declare -A skip_why=(
	[linux_process_apparmor_profile]="needs an AppArmor-enabled kernel"
	[linux_mount_label]="needs SELinux"
)
[[ -e /sys/dev/block/8:0 ]] ||
	skip_why[linux_cgroups_blkio]="assumes a block device 8:0 (/dev/sda); this host has none (runc fails it too)"
[[ -e /sys/dev/block/8:0 ]] ||
	skip_why[linux_cgroups_relative_blkio]="assumes a block device 8:0 (/dev/sda); this host has none (runc fails it too)"
[[ -d /sys/kernel/mm/hugepages ]] || skip_why[linux_cgroups_hugetlb]="no hugepages on this kernel"
[[ -d /sys/kernel/mm/hugepages ]] || skip_why[linux_cgroups_relative_hugetlb]="no hugepages on this kernel"

# Failures allowed for a reason of this host or of the program: NAME -> ERE that every "not ok"
# description must match (and allow_tap: an ERE the TAP must hold), and the reason (then a SKIP,
# not a PASS).
declare -A allow_re=() allow_why=() allow_tap=()
# Kernel-memory limits: deprecated since 5.16 and refused by 6.x kernels; absent on cgroup v2.
if [[ ! -e /sys/fs/cgroup/memory/memory.kmem.limit_in_bytes || $(uname -r | cut -d. -f1) -ge 6 ]]; then
	allow_re[linux_cgroups_memory]='^memory kernel is set correctly$'
	allow_re[linux_cgroups_relative_memory]='^memory kernel is set correctly$'
	allow_why[linux_cgroups_memory]="kernel $(uname -r) has no kernel-memory limits (memory.kmem.limit_in_bytes is deprecated, runtime-spec 1.1 says NOT RECOMMENDED); the other memory checks passed"
	allow_why[linux_cgroups_relative_memory]=${allow_why[linux_cgroups_memory]}
fi
if [[ $(findmnt -n -o PROPAGATION -T "$tmp/bundles") == private ]]; then
	allow_re[linux_rootfs_propagation]='^check root propagation: slave$'
	allow_why[linux_rootfs_propagation]="the bundles' mount ($(findmnt -n -o TARGET -T "$tmp/bundles")) is private: a slave of a private mount has no master to show (runc fails it too); shared, private and unbindable passed"
fi
# It starts /runtimetest without copying it into the bundle, so its first case cannot succeed.
allow_re[misc_props]='unknown annotation key$'
allow_why[misc_props]="its annotation case runs /runtimetest without copying it into the bundle (runc fails it too); the unknown-property and invalid-ociVersion cases passed"

# Its last step kills a container running "true", which has mostly exited by then, and the spec
# wants that kill to fail: only the pid-file check before it tells something.
allow_re[pidfile]="^create with '--pid-file' option works$"
allow_tap[pidfile]='is not running"?$'
allow_why[pidfile]="its last step kills a container of \"true\" that has already exited, which MUST fail (runc fails it too); the --pid-file check passed"

# It wants the container's first write before the hook's, which the spec does not ask: poststart
# runs once the user process is started (executed), and from then on the two race.
allow_tap[poststart]='post-start hooks MUST be called after the user-specified process is executed'
allow_why[poststart]="it wants the container's first write to precede the poststart hook's, a race the spec does not settle (poststart runs once the process is executed); hook and process both ran"

# Racy in the programs themselves, lost more often by a fast runtime: kill (or a first write)
# races the container shell's start-up. A pass in any of 3 attempts counts.
declare -A retries=([killsig]=3 [poststart]=3)

# One program's TAP: PASS, FAIL or SKIP:<reason> on stdout.
judge() { # NAME TAPFILE RC
	local name=$1 tap=$2 rc=$3 bad re
	bad=$(sed -n 's/^not ok [0-9]* - //p' "$tap")
	if [[ $rc -eq 0 && -z $bad ]]; then
		# Some programs report only through YAML diagnostics ("error: ...") and plan 1..0.
		if ! grep -q '^ok ' "$tap" && grep -q '^  error:' "$tap"; then
			if [[ -n ${allow_tap[$name]:-} ]] && grep -Eq -- "${allow_tap[$name]}" "$tap"; then
				echo "SKIP:${allow_why[$name]}"
			else
				echo FAIL
			fi
		else
			echo PASS
		fi
		return
	fi
	re=${allow_re[$name]:-}
	if [[ $rc -eq 0 && -n $re ]] && ! grep -Ev -- "$re" <<<"$bad" | grep -q . &&
		{ [[ -z ${allow_tap[$name]:-} ]] || grep -Eq -- "${allow_tap[$name]}" "$tap"; }; then
		echo "SKIP:${allow_why[$name]}"
		return
	fi
	echo FAIL
}

run_program() { # NAME
	local name=$1 n=${retries[$1]:-1} i rc verdict
	for ((i = 1; i <= n; i++)); do
		rc=0
		(cd "$work" && TMPDIR=$tmp/bundles RUNTIME=$wrapper timeout -k 5 "$RT_TIMEOUT" "$bin/$name") \
			>"$tmp/$name.tap" 2>"$tmp/$name.err" </dev/null || rc=$?
		verdict=$(judge "$name" "$tmp/$name.tap" "$rc")
		[[ $verdict == PASS ]] && break
	done
	# Whatever a failed or killed program left behind.
	for id in $("$RUNTIME" --root "$state" list -q 2>/dev/null); do
		"$RUNTIME" --root "$state" delete -f "$id" >/dev/null 2>&1
	done
	[[ $rc -eq 124 ]] && t_log "$name: timed out after ${RT_TIMEOUT}s"
	case $verdict in
	PASS) t_ok "runtime_tools:$name" ;;
	SKIP:*) t_skip "runtime_tools:$name" "${verdict#SKIP:}" ;;
	*)
		grep -A8 '^not ok' "$tmp/$name.tap" | head -40 >&2
		tail -5 "$tmp/$name.err" >&2
		t_fail "runtime_tools:$name" "rc $rc (attempts: $n)"
		;;
	esac
}

names=()
for d in "$pkg"/validation/*/; do
	name=$(basename "$d")
	[[ $name == util || ! -f $d/$name.go ]] && continue
	names+=("$name")
done
if [[ ${#names[@]} -eq 0 ]]; then
	t_fail runtime_tools "no validation/<name>/<name>.go programs under $src"
	t_summary
fi

# One go build for all (each link is most of the cost); one by one only if that fails, so that
# one program that does not build against Debian's libraries does not hide the others.
pkgs=()
for name in "${names[@]}"; do pkgs+=("github.com/opencontainers/runtime-tools/validation/$name"); done
if ! go build -o "$bin/" "${pkgs[@]}" 2>"$tmp/build.log"; then
	for name in "${names[@]}"; do
		go build -o "$bin/$name" "github.com/opencontainers/runtime-tools/validation/$name" 2>"$tmp/build-$name.log" ||
			t_log "$name does not build: $(grep -m1 . "$tmp/build-$name.log")"
	done
fi

for name in "${names[@]}"; do
	if [[ -n ${skip_why[$name]:-} ]]; then
		t_skip "runtime_tools:$name" "${skip_why[$name]}"
	elif [[ ! -x $bin/$name ]]; then
		t_skip "runtime_tools:$name" "does not build against Debian 12's runtime-tools libraries: $(grep -m1 . "$tmp/build-$name.log")"
	else
		run_program "$name"
	fi
done

t_summary
