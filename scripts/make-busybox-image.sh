#!/usr/bin/env bash
# Writes a one-layer busybox image as a docker-archive (the `docker save` format) with tar/jq/sha256sum; deterministic.
# Usage: make-busybox-image.sh OUT.tar [NAME:TAG]   (default busybox:latest)
# Same inputs (busybox binary, umask) give the same bytes, so the image id is stable across runs.
set -euo pipefail

if [[ $# -lt 1 || $# -gt 2 ]]; then
	echo "usage: $0 OUT.tar [NAME:TAG]" >&2
	exit 2
fi
out=$1
ref=${2:-busybox:latest}
[[ $ref == *:* ]] || ref=$ref:latest
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for bin in tar jq sha256sum; do
	command -v "$bin" >/dev/null || { echo "$0: $bin missing (scripts/install-deps.sh)" >&2; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/busybox-image.XXXXXX")
trap 'rm -rf "$work"' EXIT
umask 022

# Same tar options for the layer and the archive: sorted names, one fixed mtime,
# numeric owners and the GNU format (no pax headers carrying atime/ctime).
# Entries are named without a leading "./", as docker save writes them.
dtar() { # DIR OUT [TAR OPTIONS...]
	local dir=$1 out=$2
	shift 2
	(cd "$dir" && find . -mindepth 1 -maxdepth 1 -printf '%P\0' | LC_ALL=C sort -z |
		tar --sort=name --mtime=@0 --numeric-owner --format=gnu "$@" --null -T - -cf "$out")
}

bash "$here/make-busybox-rootfs.sh" "$work/rootfs"
mkdir -p "$work/img"
dtar "$work/rootfs" "$work/layer.tar"
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
# The legacy v1 layer id docker save writes: any stable hex name works for docker load.
layer_dir=$diff_id
mkdir -p "$work/img/$layer_dir"
mv "$work/layer.tar" "$work/img/$layer_dir/layer.tar"
echo "1.0" > "$work/img/$layer_dir/VERSION"

created=1970-01-01T00:00:00Z
arch=$(dpkg --print-architecture 2>/dev/null || uname -m)
case $arch in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; esac

# The image config (OCI image-spec "config" + rootfs.diff_ids); compact so its digest is fixed.
jq -cn --arg arch "$arch" --arg created "$created" --arg diff "sha256:$diff_id" '{
	architecture: $arch,
	config: {
		Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
		Cmd: ["sh"],
		WorkingDir: ""
	},
	created: $created,
	history: [{created: $created, created_by: "scripts/make-busybox-image.sh"}],
	os: "linux",
	rootfs: {type: "layers", diff_ids: [$diff]}
}' | tr -d '\n' > "$work/config.json"
config_id=$(sha256sum "$work/config.json" | cut -d' ' -f1)
mv "$work/config.json" "$work/img/$config_id.json"

jq -cn --arg ref "$ref" --arg layer "$layer_dir" '{
	id: $layer, created: "1970-01-01T00:00:00Z",
	config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["sh"]},
	os: "linux"
}' > "$work/img/$layer_dir/json"

jq -cn --arg cfg "$config_id.json" --arg ref "$ref" --arg layer "$layer_dir/layer.tar" \
	'[{Config: $cfg, RepoTags: [$ref], Layers: [$layer]}]' > "$work/img/manifest.json"
# "repositories" (name -> tag -> top layer id) is what pre-1.10 loaders read; docker save still writes it.
jq -cn --arg name "${ref%:*}" --arg tag "${ref##*:}" --arg layer "$layer_dir" \
	'{($name): {($tag): $layer}}' > "$work/img/repositories"

# Owned by root whoever runs this: the archive's own entries are not part of the image.
dtar "$work/img" "$work/out.tar" --owner=0 --group=0
mv "$work/out.tar" "$out"
echo "sha256:$config_id"
