#!/usr/bin/env bash
# Installs what Gantry needs, builds and installs it, starts gantryd and runs a busybox container
# from an image made locally from Debian's busybox-static.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
./scripts/install-deps.sh
if [[ ! -d build ]]; then
	meson setup build --buildtype=release >/dev/null
fi
ninja -C build >/dev/null
meson install -C build >/dev/null
./scripts/start-gantryd.sh
if ! gantry image inspect busybox:latest >/dev/null 2>&1; then
	tar=$(mktemp /tmp/busybox-image.XXXXXX.tar)
	./scripts/make-busybox-image.sh "$tar" busybox:latest >/dev/null
	gantry load -i "$tar"
	rm -f "$tar"
fi
gantry run --rm busybox sh -c 'echo "hello from a gantry container: $(hostname), pid $$, $(uname -s)"'
