#!/usr/bin/env bash
# OCI image layouts both ways with the real skopeo: its oci-archive/oci: output loads into gantryd (gzip, zstd, nested and multi-platform indexes) and runs; gantry save --format oci is read back by skopeo; bad layouts are refused by name and leave the store as it was.
# Test functions are called through t_run (SC2317).
# shellcheck disable=SC2317
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$here/../lib.sh"
# shellcheck source=tests/gantryd_lib.sh
. "$here/../gantryd_lib.sh"
# shellcheck source=tests/containerd_lib.sh
. "$here/../containerd_lib.sh"
GANTRY=${GANTRY:-/usr/local/bin/gantry}
T_TIMEOUT=${T_TIMEOUT:-120}

for bin in skopeo python3 gzip; do
	if ! command -v "$bin" >/dev/null; then
		t_skip oci_layout "$bin not installed (scripts/install-deps.sh)"
		t_summary
	fi
done
if [[ ! -x $GANTRY ]]; then
	t_fail oci_layout "$GANTRY not found (set GANTRY=)"
	t_summary
fi

start_daemon
W=$E2E_TMP/w
mkdir -p "$W"
BB=$(e2e_busybox_tar)
G() { timeout 60 "$GANTRY" -H "unix://$E2E_SOCK" "$@"; }
sk() { timeout 60 skopeo --insecure-policy "$@"; }
dk load -i "$BB" >/dev/null
# The layout the bad-archive and multi-platform cases start from (gantry save's directory form).
G save --format oci -o "$W/base/" busybox:latest

OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_INDEX=application/vnd.oci.image.index.v1+json

# What a failed load must leave alone: the images, the blobs and the unpacked layers.
store_state() {
	printf '%s|%s|%s' "$(dk images -a --no-trunc --format '{{.ID}} {{.Repository}}:{{.Tag}}' | sort | tr '\n' ' ')" \
		"$(ls -A "$E2E_TMP/root/blobs/sha256" | sort | tr '\n' ' ')" "$(ls -A "$E2E_TMP/root/layers" | sort | tr '\n' ' ')"
}

# Moves FILE into layout DIR's blobs under its digest; prints "sha256:HEX SIZE".
put_blob() { # DIR FILE
	local hex size
	hex=$(sha256sum "$2" | cut -d' ' -f1)
	size=$(stat -c %s "$2")
	mkdir -p "$1/blobs/sha256"
	mv "$2" "$1/blobs/sha256/$hex"
	echo "sha256:$hex $size"
}
# JSON text into DIR's blobs; prints the descriptor {mediaType, digest, size}.
put_json() { # DIR MEDIATYPE JSON
	local f d s
	f=$(mktemp "$W/blob.XXXXXX")
	printf '%s' "$3" > "$f"
	read -r d s < <(put_blob "$1" "$f")
	jq -cn --arg mt "$2" --arg d "$d" --argjson s "$s" '{mediaType: $mt, digest: $d, size: $s}'
}
blob() { echo "$1/blobs/sha256/${2#sha256:}"; } # DIR DIGEST
# The layout DIR as an archive the way skopeo's oci-archive is (entries "./blobs/...").
pack() { tar -C "$1" -cf "$2" .; } # DIR OUT

# A copy of the busybox layout gantry saved; its manifest and layer digests in M and LAYER.
new_case() { # NAME
	rm -rf "${W:?}/$1"
	cp -a "$W/base" "$W/$1"
	M=$(jq -r '.manifests[0].digest' "$W/$1/index.json")
	LAYER=$(jq -r '.layers[0].digest' "$(blob "$W/$1" "$M")")
}
# index.json of DIR pointing at one descriptor (with a ref name).
set_index() { # DIR DESCRIPTOR-JSON REF
	jq -cn --argjson d "$2" --arg ref "$3" \
		'{schemaVersion: 2, manifests: [$d + {annotations: {"org.opencontainers.image.ref.name": $ref}}]}' > "$1/index.json"
}
# DIR's manifest edited by a jq filter, stored as a new blob and named in index.json.
edit_manifest() { # DIR JQ-FILTER
	local text d
	text=$(jq -c "$2" "$(blob "$1" "$M")")
	d=$(put_json "$1" "$OCI_MANIFEST" "$text")
	set_index "$1" "$d" bad:1
}

# The load of ARCHIVE fails naming NEEDLE, and nothing of it stays behind; with DOCKER_TOO=1
# the real docker CLI's load gets the same answer.
assert_refused() { # ARCHIVE NEEDLE
	local before after out
	before=$(store_state)
	if out=$(G load -i "$1" 2>&1); then
		t_fail "load of $1 succeeded: $out"
		return 1
	fi
	assert_contains "$out" "$2" "the message names the fault"
	after=$(store_state)
	assert_eq "$after" "$before" "the store after the refused load"
	[[ ${DOCKER_TOO:-0} == 1 ]] || return 0
	if out=$(dk load -i "$1" 2>&1); then
		t_fail "docker load of $1 succeeded: $out"
		return 1
	fi
	assert_contains "$out" "$2" "docker load's message"
	assert_eq "$(store_state)" "$before" "the store after docker load"
}

test_skopeo_oci_archive_loads() {
	sk copy -q "docker-archive:$BB" "oci-archive:$W/sk.tar:busybox:oci"
	# skopeo compresses the layer with gzip
	local mt
	mt=$(tar -xOf "$W/sk.tar" index.json | jq -r '.manifests[0].digest' | sed 's/sha256://')
	mt=$(tar -xOf "$W/sk.tar" "blobs/sha256/$mt" | jq -r '.layers[0].mediaType')
	assert_eq "$mt" application/vnd.oci.image.layer.v1.tar+gzip "skopeo's layer type"
	assert_eq "$(G load -i "$W/sk.tar")" "Loaded image: busybox:oci"
	assert_eq "$(G run --rm busybox:oci echo from-oci)" from-oci
	assert_eq "$(dk image inspect -f '{{.Os}}/{{.Architecture}}' busybox:oci)" linux/amd64
}

test_docker_media_types() {
	new_case dockertypes
	local text d
	text=$(jq -c '.mediaType = "application/vnd.docker.distribution.manifest.v2+json" |
		.config.mediaType = "application/vnd.docker.container.image.v1+json" |
		.layers[0].mediaType = "application/vnd.docker.image.rootfs.diff.tar"' "$(blob "$W/dockertypes" "$M")")
	d=$(put_json "$W/dockertypes" application/vnd.docker.distribution.manifest.v2+json "$text")
	set_index "$W/dockertypes" "$d" dtypes:1
	pack "$W/dockertypes" "$W/dockertypes.tar"
	# the whole archive gzip-compressed, as docker load also takes it
	gzip -nc "$W/dockertypes.tar" > "$W/dockertypes.tar.gz"
	assert_eq "$(G load -i "$W/dockertypes.tar.gz")" "Loaded image: dtypes:1"
	assert_eq "$(G run --rm dtypes:1 echo docker-types)" docker-types
}

test_docker_cli_loads_oci_archive() {
	sk copy -q "docker-archive:$BB" "oci-archive:$W/cli.tar:sk/bb:cli"
	assert_eq "$(dk load -i "$W/cli.tar")" "Loaded image: sk/bb:cli"
	assert_eq "$(dk run --rm sk/bb:cli echo cli-ok)" cli-ok
	# docker-py's images.load of the same archive (python3-docker comes with install-deps)
	python3 -c 'import docker' || return 1
	sk copy -q "docker-archive:$BB" "oci-archive:$W/py.tar:py/bb:1"
	# (an image object carries every tag of its id: the others sk.tar and cli.tar gave it)
	assert_match "$(python3 -c 'import docker, sys
imgs = docker.from_env().images.load(open(sys.argv[1], "rb").read())
print(len(imgs), " ".join(t for i in imgs for t in i.tags))' "$W/py.tar")" '^1 (.* )?py/bb:1( |$)' "docker-py loads one image, tagged py/bb:1"
}

test_names_from_annotations() {
	sk copy -q "docker-archive:$BB" "oci:$W/names:latest"
	# containerd's full name wins over a tag-only ref name
	jq -c '.manifests[0].annotations["io.containerd.image.name"] = "localhost:5000/ctr/bb:v1"' \
		"$W/names/index.json" > "$W/i.json" && mv "$W/i.json" "$W/names/index.json"
	pack "$W/names" "$W/names.tar"
	assert_eq "$(G load -i "$W/names.tar")" "Loaded image: localhost:5000/ctr/bb:v1"
	# a ref name that is only a tag names no repository: loaded by id, as containerd does
	jq -c 'del(.manifests[0].annotations["io.containerd.image.name"])' \
		"$W/names/index.json" > "$W/i.json" && mv "$W/i.json" "$W/names/index.json"
	pack "$W/names" "$W/tagonly.tar"
	assert_match "$(G load -i "$W/tagonly.tar")" '^Loaded image ID: sha256:[0-9a-f]{64}$'
}

test_save_oci_read_by_skopeo() {
	G tag busybox:latest saved/two:2
	G save --format oci -o "$W/g.tar" busybox:latest saved/two:2
	local names
	names=$(tar -tf "$W/g.tar" | sort | tr '\n' ' ')
	assert_not_contains "$names" manifest.json "a plain OCI layout, no docker manifest.json"
	assert_contains "$names" "index.json oci-layout" "index.json and oci-layout"
	assert_eq "$(tar -xOf "$W/g.tar" index.json | jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | join(" ")')" \
		"busybox:latest saved/two:2" "ref names"
	local digest
	digest=$(tar -xOf "$W/g.tar" index.json | jq -r '.manifests[0].digest')
	assert_eq "$(sk inspect "oci-archive:$W/g.tar:busybox:latest" | jq -r .Digest)" "$digest" "skopeo inspect"
	assert_eq "$(sk inspect --config "oci-archive:$W/g.tar:saved/two:2" | jq -r '.config.Cmd[0]')" sh "skopeo reads the config"
	sk copy -q "oci-archive:$W/g.tar:saved/two:2" "docker-archive:$W/back.tar:back/from-oci:1"
	assert_eq "$(G load -i "$W/back.tar")" "Loaded image: back/from-oci:1"
	assert_eq "$(G run --rm back/from-oci:1 echo back)" back
	# docker's own save is unchanged: manifest.json and the tag-only ref name
	dk save -o "$W/docker.tar" busybox:latest
	assert_contains "$(tar -tf "$W/docker.tar")" manifest.json "docker save writes manifest.json"
	assert_eq "$(tar -xOf "$W/docker.tar" index.json | jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]')" latest
}

test_save_oci_dir_roundtrip() {
	assert_eq "$(cat "$W/base/oci-layout")" '{"imageLayoutVersion":"1.0.0"}'
	assert_eq "$(sk inspect "oci:$W/base:busybox:latest" | jq -r .Os)" linux "skopeo reads the directory"
	# a gantry archive through skopeo's oci: directory and back into an archive
	G save --format oci -o "$W/rt.tar" busybox:latest
	sk copy -q "oci-archive:$W/rt.tar:busybox:latest" "oci:$W/skdir:rt"
	sk copy -q "oci:$W/skdir:rt" "oci-archive:$W/again.tar:again/bb:1"
	assert_eq "$(G load -i "$W/again.tar")" "Loaded image: again/bb:1"
	assert_eq "$(G run --rm again/bb:1 echo again)" again
	# a directory that is not empty is refused and left as it was
	local out
	out=$(G save --format oci -o "$W/base/" busybox:latest 2>&1) && return 1
	assert_contains "$out" "is not an empty directory"
	assert_eq "$(ls "$W/base" | tr '\n' ' ')" "blobs index.json oci-layout "
	# an unknown image leaves no file and no directory
	out=$(G save --format oci -o "$W/none/" nosuch:1 2>&1) && return 1
	assert_contains "$out" "No such image: nosuch:1"
	out=$(G save --format oci -o "$W/none.tar" nosuch:1 2>&1) && return 1
	assert_eq "$(find "$W" -maxdepth 1 \( -name 'none*' -o -name '*gantry_temp*' \) | wc -l)" 0 "nothing left by failed saves"
	assert_match "$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$E2E_SOCK" "http://d/images/get?names=busybox&format=zip")" '^400$'
}

# An arm64 image (a dummy gzip layer) next to the amd64 busybox in DIR; prints its descriptor.
add_arm64() { # DIR
	local d=$1 root=$W/armroot diff ld ls cfg
	mkdir -p "$root"
	echo arm > "$root/ARM"
	tar -C "$root" -cf "$W/arm.tar" ARM
	diff=$(sha256sum "$W/arm.tar" | cut -d' ' -f1)
	gzip -nf "$W/arm.tar"
	read -r ld ls < <(put_blob "$d" "$W/arm.tar.gz")
	cfg=$(put_json "$d" application/vnd.oci.image.config.v1+json \
		"$(jq -cn --arg diff "sha256:$diff" '{architecture: "arm64", os: "linux", config: {Cmd: ["/ARM"]}, rootfs: {type: "layers", diff_ids: [$diff]}}')")
	put_json "$d" "$OCI_MANIFEST" "$(jq -cn --argjson cfg "$cfg" --arg ld "$ld" --argjson ls "$ls" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json", config: $cfg,
		  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $ld, size: $ls}]}')"
}

test_multi_platform_index() {
	new_case multi
	local arm amd nested
	arm=$(add_arm64 "$W/multi")
	amd=$(jq -c '.manifests[0] | del(.annotations)' "$W/multi/index.json")
	# the arm64 manifest first: the pick is by platform, not by position
	nested=$(put_json "$W/multi" "$OCI_INDEX" "$(jq -cn --argjson arm "$arm" --argjson amd "$amd" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
		  manifests: [$arm + {platform: {architecture: "arm64", os: "linux", variant: "v8"}},
		              $amd + {platform: {architecture: "amd64", os: "linux"}}]}')")
	set_index "$W/multi" "$nested" multi:1
	pack "$W/multi" "$W/multi.tar"
	assert_eq "$(G load -i "$W/multi.tar")" "Loaded image: multi:1"
	assert_eq "$(dk image inspect -f '{{.Architecture}}' multi:1)" amd64
	assert_eq "$(G run --rm multi:1 echo amd64-picked)" amd64-picked
	# the arm64 blobs did not stay in the store
	local cfg
	cfg=$(jq -r .config.digest "$(blob "$W/multi" "$(jq -r .digest <<<"$arm")")")
	[[ ! -e $E2E_TMP/root/blobs/sha256/${cfg#sha256:} ]] || { t_fail "the arm64 config $cfg stayed in the store"; return 1; }
	# an index.json listing the platforms itself (as an index nested one level down would)
	jq -cn --argjson arm "$arm" --argjson amd "$amd" \
		'{schemaVersion: 2, manifests: [
		  $arm + {platform: {architecture: "arm64", os: "linux"}, annotations: {"org.opencontainers.image.ref.name": "multi:2"}},
		  $amd + {platform: {architecture: "amd64", os: "linux"}, annotations: {"org.opencontainers.image.ref.name": "multi:2"}}]}' \
		> "$W/multi/index.json"
	pack "$W/multi" "$W/flat.tar"
	assert_eq "$(G load -i "$W/flat.tar")" "Loaded image: multi:2"
	assert_eq "$(dk image inspect -f '{{.Architecture}}' multi:2)" amd64
	# an index with no linux/amd64 image at all
	nested=$(put_json "$W/multi" "$OCI_INDEX" "$(jq -cn --argjson arm "$arm" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json",
		  manifests: [$arm + {platform: {architecture: "arm64", os: "linux"}}]}')")
	set_index "$W/multi" "$nested" armonly:1
	pack "$W/multi" "$W/armonly.tar"
	assert_refused "$W/armonly.tar" "has no image for linux/amd64 (it has linux/arm64)"
}

test_zstd_layers() {
	sk copy -q --dest-compress --dest-compress-format zstd "docker-archive:$BB" "oci:$W/zstd:zz:1"
	local m
	m=$(jq -r '.manifests[0].digest' "$W/zstd/index.json")
	assert_eq "$(jq -r '.layers[0].mediaType' "$(blob "$W/zstd" "$m")")" application/vnd.oci.image.layer.v1.tar+zstd
	pack "$W/zstd" "$W/zstd.tar"
	assert_eq "$(G load -i "$W/zstd.tar")" "Loaded image: zz:1"
	assert_eq "$(G run --rm zz:1 echo zstd-ok)" zstd-ok
}

test_bad_archives() {
	new_case missing
	rm "$(blob "$W/missing" "$LAYER")"
	pack "$W/missing" "$W/missing.tar"
	assert_refused "$W/missing.tar" "invalid archive: layer $LAYER not found"

	new_case mismatch
	echo tampered >> "$(blob "$W/mismatch" "$LAYER")"
	pack "$W/mismatch" "$W/mismatch.tar"
	DOCKER_TOO=1 assert_refused "$W/mismatch.tar" "invalid archive: blob $LAYER has digest sha256:"

	new_case size
	edit_manifest "$W/size" '.layers[0].size += 1'
	pack "$W/size" "$W/size.tar"
	assert_refused "$W/size.tar" "layer $LAYER is"

	new_case mediatype
	edit_manifest "$W/mediatype" '.layers[0].mediaType = "application/vnd.oci.image.layer.v1.tar+lz4"'
	pack "$W/mediatype" "$W/mediatype.tar"
	assert_refused "$W/mediatype.tar" "unsupported layer media type application/vnd.oci.image.layer.v1.tar+lz4"

	new_case artifact
	edit_manifest "$W/artifact" '.config.mediaType = "application/vnd.cncf.helm.config.v1+json"'
	pack "$W/artifact" "$W/artifact.tar"
	assert_refused "$W/artifact.tar" "unsupported config media type application/vnd.cncf.helm.config.v1+json: not a container image"

	new_case schema1
	set_index "$W/schema1" "$(put_json "$W/schema1" application/vnd.docker.distribution.manifest.v1+prettyjws \
		'{"schemaVersion":1,"name":"x","tag":"1","architecture":"amd64","fsLayers":[],"history":[]}')" old:1
	pack "$W/schema1" "$W/schema1.tar"
	assert_refused "$W/schema1.tar" "schema 1 support has been removed"

	# the first image is good, the second misses its config: neither is loaded
	new_case half
	local bad
	bad=$(jq -c --arg c "sha256:$(printf '0%.0s' {1..64})" '.config.digest = $c' "$(blob "$W/half" "$M")")
	bad=$(put_json "$W/half" "$OCI_MANIFEST" "$bad")
	jq -c --argjson bad "$bad" '.manifests[0].annotations = {"org.opencontainers.image.ref.name": "good:1"} |
		.manifests += [$bad + {annotations: {"org.opencontainers.image.ref.name": "bad:1"}}]' \
		"$W/half/index.json" > "$W/i.json" && mv "$W/i.json" "$W/half/index.json"
	pack "$W/half" "$W/half.tar"
	DOCKER_TOO=1 assert_refused "$W/half.tar" "invalid archive: config sha256:0000"
	assert_fails dk image inspect good:1 >/dev/null 2>&1

	# entries and links that leave the archive
	new_case escape
	python3 - "$W/escape" "$W/escape.tar" "$LAYER" <<'EOF'
import io, sys, tarfile
src, out, layer = sys.argv[1], sys.argv[2], sys.argv[3]
with tarfile.open(out, "w") as t:
    t.add(src, arcname=".")
    data = b"outside\n"
    info = tarfile.TarInfo("../../escaped-by-oci-load")
    info.size = len(data)
    t.addfile(info, io.BytesIO(data))
with tarfile.open(out.replace(".tar", "-link.tar"), "w") as t:
    def drop_layer(ti):
        return None if ti.name.endswith(layer[7:]) else ti
    t.add(src, arcname=".", filter=drop_layer)
    info = tarfile.TarInfo("blobs/sha256/" + layer[7:])
    info.type = tarfile.SYMTYPE
    info.linkname = "../../../../../etc/passwd"
    t.addfile(info)
EOF
	assert_refused "$W/escape.tar" "entry ../../escaped-by-oci-load is outside the archive"
	assert_refused "$W/escape-link.tar" "symlink blobs/sha256/${LAYER#sha256:} points outside the archive"
	[[ ! -e $W/../escaped-by-oci-load && ! -e $E2E_TMP/escaped-by-oci-load ]]

	# neither format
	mkdir -p "$W/empty"
	cp "$W/base/oci-layout" "$W/empty/"
	pack "$W/empty" "$W/empty.tar"
	assert_refused "$W/empty.tar" "neither manifest.json (docker save) nor index.json (OCI image layout) found"
}

# containerd (ctr) on both sides: it imports gantry's OCI archive, and its export loads here.
CTD=
ct() { timeout 60 ctr --address "$CTD/c.sock" "$@"; }
stop_containerd() {
	[[ -n $CTD ]] || return 0
	[[ -n $CTD_PID ]] && t_kill_pid "$CTD_PID" 20
	t_umount_under "$CTD" && rm -rf --one-file-system "$CTD"
	CTD=
}
test_containerd_interop() {
	G tag busybox:latest ctr/bb:1
	G save --format oci -o "$W/forctr.tar" ctr/bb:1
	ct images import "$W/forctr.tar" >/dev/null
	assert_contains "$(ct images ls -q)" docker.io/ctr/bb:1 "containerd names it from the archive"
	ct images export --skip-manifest-json --platform linux/amd64 "$W/ctr.tar" docker.io/ctr/bb:1
	G rmi ctr/bb:1 >/dev/null
	# ctr 1.6 still writes a manifest.json, without RepoTags: the name comes from index.json
	assert_eq "$(G load -i "$W/ctr.tar")" "Loaded image: ctr/bb:1"
	G rmi ctr/bb:1 >/dev/null
	# and the OCI layout alone (GNU tar --delete garbles ctr's archive: unpack and pack again)
	mkdir -p "$W/ctr"
	tar -C "$W/ctr" -xf "$W/ctr.tar"
	rm "$W/ctr/manifest.json"
	pack "$W/ctr" "$W/ctr-oci.tar"
	assert_eq "$(G load -i "$W/ctr-oci.tar")" "Loaded image: ctr/bb:1"
	assert_eq "$(G run --rm ctr/bb:1 echo from-containerd)" from-containerd
}
if command -v containerd >/dev/null && command -v ctr >/dev/null; then
	CTD=$(mktemp -d /tmp/gantry-ocl-ctd.XXXXXX)
	t_defer stop_containerd
	if ctd_start "$CTD"; then
		t_run containerd_interop test_containerd_interop
	else
		t_fail containerd_interop "containerd did not come up (log above)"
	fi
	stop_containerd
else
	t_skip containerd_interop "containerd or ctr not installed"
fi

t_run skopeo_oci_archive_loads test_skopeo_oci_archive_loads
t_run docker_cli_loads_oci_archive test_docker_cli_loads_oci_archive
t_run docker_media_types test_docker_media_types
t_run names_from_annotations test_names_from_annotations
t_run save_oci_read_by_skopeo test_save_oci_read_by_skopeo
t_run save_oci_dir_roundtrip test_save_oci_dir_roundtrip
t_run multi_platform_index test_multi_platform_index
t_run zstd_layers test_zstd_layers
t_run bad_archives test_bad_archives

stop_daemon
t_summary
