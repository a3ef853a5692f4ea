#!/usr/bin/env bash
# Installs every Debian package the build, tests and benchmarks need; a no-op (no apt at all) when all are present.
set -euo pipefail

# podman's recommends are off, so the ones it needs to run here are listed by hand
# (catatonit for --init, fuse-overlayfs/slirp4netns/uidmap for rootless setups).
PKGS=(
	build-essential meson ninja-build pkg-config clang libclang-rt-14-dev
	libjansson-dev libseccomp-dev libcap-dev libcmocka-dev
	busybox-static jq python3 time shellcheck
	runc crun podman conmon golang-github-containers-common
	docker.io containerd tini iptables
	iproute2 procps util-linux mount bsdutils uidmap slirp4netns fuse-overlayfs catatonit
	libmicrohttpd-dev libsqlite3-dev libarchive-dev libssl-dev
	# The engine's end-to-end tests: curl on the socket, docker-py for /usr/bin/python3.
	curl python3-docker
	# Registries (issue 4): the HTTP client, a real registry, skopeo, bcrypt for htpasswd, TLS, codecs.
	libcurl4-openssl-dev docker-registry skopeo python3-bcrypt openssl libzstd-dev libisal-dev
	# Networks (issue 5): netlink, nftables, and iperf3 for bench/net.sh.
	libnl-3-dev libnl-route-3-dev libnftables-dev nftables iperf3 dnsutils
	# The daemon's lean build: nettle for SHA-256 (see DESIGN.md), static archives (libarchive's
	# lz4 and acl archives, for gantryd linked with -Dstatic_daemon=true).
	nettle-dev liblz4-dev libacl1-dev
)

# One dpkg-query for all: it prints only the known packages, so absent ones are
# those not listed as installed ("ii").
declare -A have=()
while read -r st name; do
	[[ $st == ii* ]] && have[$name]=1
done < <(dpkg-query -W -f='${db:Status-Abbrev} ${Package}\n' "${PKGS[@]}" 2>/dev/null || true)
missing=()
for p in "${PKGS[@]}"; do
	[[ -n ${have[$p]:-} ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
	echo "install-deps: all ${#PKGS[@]} packages present"
	exit 0
fi
echo "install-deps: missing: ${missing[*]}"

if [[ $(id -u) -ne 0 ]]; then
	SUDO=sudo
else
	SUDO=
fi

# Refresh the lists only when they are older than a day (or absent); a missing
# package alone triggers this path, so apt-get install below always has lists.
stamp=$(find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -1440 -print -quit 2>/dev/null || true)
if [[ -z $stamp ]]; then
	$SUDO apt-get update
fi
if ! DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"; then
	# Lists may be stale though recent (a package moved to a new version): retry once fresh.
	$SUDO apt-get update
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
