#!/usr/bin/env bash
# Builds (or refreshes) a minimal busybox rootfs in DIR from Debian's busybox-static; idempotent.
set -euo pipefail

if [[ $# -ne 1 ]]; then
	echo "usage: $0 DIR" >&2
	exit 2
fi
dir=$1
BUSYBOX=${BUSYBOX:-/bin/busybox}
if ! "$BUSYBOX" --list >/dev/null 2>&1; then
	echo "$0: $BUSYBOX missing: run scripts/install-deps.sh (busybox-static)" >&2
	exit 1
fi
# A dynamic busybox would need the host's libc inside the rootfs.
linkage=$(LC_ALL=C ldd "$BUSYBOX" 2>&1 || true)
if [[ $linkage != *"not a dynamic executable"* && $linkage != *"statically linked"* ]]; then
	echo "$0: $BUSYBOX is dynamically linked: install busybox-static" >&2
	exit 1
fi

mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin proc sys dev tmp etc root var/run home/user
chmod 1777 tmp
chmod 0700 root

# Copy to a temp name and rename so a rerun never truncates a busybox that a
# running container is executing (ETXTBSY).
if ! cmp -s "$BUSYBOX" bin/busybox; then
	cp "$BUSYBOX" bin/.busybox.new
	chmod 0755 bin/.busybox.new
	mv -f bin/.busybox.new bin/busybox
fi

# Every applet goes in /bin (relative links, so the rootfs works wherever it is
# unpacked); a few tools expect /sbin or /usr/bin paths, which PATH covers too.
declare -A linked=()
while read -r name; do
	linked[$name]=1
done < <(find bin -maxdepth 1 -type l -lname busybox -printf '%f\n')
todo=()
while read -r applet; do
	[[ -n $applet && $applet != busybox && -z ${linked[$applet]:-} ]] && todo+=("$applet")
done < <("$BUSYBOX" --list)
if [[ ${#todo[@]} -gt 0 ]]; then
	(cd bin && for a in "${todo[@]}"; do ln -sfn busybox "$a"; done)
fi

cat > etc/passwd <<'PW'
root:x:0:0:root:/root:/bin/sh
user:x:1000:1000:user:/home/user:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
PW
cat > etc/group <<'GR'
root:x:0:
user:x:1000:
nogroup:x:65534:
GR
chown 1000:1000 home/user
