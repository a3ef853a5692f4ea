#!/usr/bin/env bash
# Installs what Gantry needs, builds and installs it, then runs a busybox container made locally.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
if [[ ! -d build ]]; then
	meson setup build --buildtype=release >/dev/null
fi
ninja -C build >/dev/null
meson install -C build >/dev/null
bundle=/var/lib/gantry/demo-bundle
RUNTIME=/usr/local/bin/gantry-runtime ./scripts/make-bundle.sh "$bundle" /bin/sh -c \
	'echo "hello from a gantry container: $(hostname), pid $$, $(uname -s)"' >/dev/null
gantry-runtime run --bundle "$bundle" "demo-$$"
