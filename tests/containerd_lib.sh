# Starts a private containerd (its own root, state and socket under one directory) for a test file.
# shellcheck shell=bash
#
# ctd_start DIR: writes DIR/config.toml, starts containerd (log DIR/containerd.log) on
# DIR/c.sock and waits until `ctr version` answers; CTD_PID gets its pid (the caller stops it,
# by that pid, in its cleanup). Returns 1 after printing the log's tail when it does not come up.
CTD_PID=

ctd_start() {
	local dir=$1 sock=$1/c.sock i
	# CRI, tracing and the snapshotters this host lacks are off; "opt" would create /opt/containerd.
	cat > "$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
  "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs",
  "io.containerd.tracing.processor.v1.otlp", "io.containerd.internal.v1.tracing"]

[grpc]
  address = "$sock"
[ttrpc]
  address = "$sock.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
EOF
	containerd --config "$dir/config.toml" > "$dir/containerd.log" 2>&1 </dev/null &
	CTD_PID=$!
	for ((i = 0; i < 300; i++)); do
		if ! t_alive "$CTD_PID"; then
			tail -20 "$dir/containerd.log" >&2
			return 1
		fi
		ctr --address "$sock" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	tail -20 "$dir/containerd.log" >&2
	return 1
}
