#!/usr/bin/env bash
# Makes an OCI bundle: BUNDLE/rootfs (busybox) and a config.json from `$RUNTIME spec` running ARGS (default /bin/true).
set -euo pipefail

if [[ $# -lt 1 ]]; then
	echo "usage: $0 BUNDLE [ARG...]" >&2
	exit 2
fi
bundle=$1
shift
if [[ $# -eq 0 ]]; then
	set -- /bin/true
fi
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runtime=${RUNTIME:-gantry-runtime}

mkdir -p "$bundle"
bundle=$(cd "$bundle" && pwd)
"$here/make-busybox-rootfs.sh" "$bundle/rootfs"

# `spec` refuses to overwrite and writes into the cwd, so generate in a scratch dir.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && "$runtime" spec >/dev/null 2>&1 && [[ -s config.json ]] && jq -e . config.json >/dev/null 2>&1); then
	rm -f "$tmp/config.json"
	(cd "$tmp" && runc spec)
fi

args_json=$(jq -n '$ARGS.positional' --args -- "$@")
jq --argjson args "$args_json" \
	'.process.terminal = false | .process.args = $args | .root.path = "rootfs"' \
	"$tmp/config.json" > "$tmp/config.json.new"
mv "$tmp/config.json.new" "$bundle/config.json"
