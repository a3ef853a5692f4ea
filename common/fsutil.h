/* File and path helpers: whole-file read/write, mkdir -p, confined opens below a root. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "common/gerr.h"

/* Read fd to EOF into a NUL-terminated buffer (proc/cgroup files report size 0); -errno. */
int fs_read_fd(int fd, char **out, size_t *len);
/* Read a whole file (NUL-terminated; *len excludes the NUL). */
int fs_read_file(const char *path, char **out, size_t *len, struct gerr **err);
int fs_read_file_at(int dirfd, const char *path, char **out, size_t *len, struct gerr **err);
/* Write data to path (O_WRONLY|O_TRUNC|O_CREAT, mode 0644 when created). No temp file. */
int fs_write_file(const char *path, const void *data, size_t len, struct gerr **err);
int fs_write_file_at(int dirfd, const char *path, const void *data, size_t len, struct gerr **err);
/* Write to path.tmp, rename over path: readers see the old or the new file, also after our
 * crash. No fsync: not durable across power loss (state under /run is gone then anyway; image
 * blobs take the durable path in image/store.c). */
int fs_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode,
                         struct gerr **err);
/* mkdir -p with mode; existing directories are fine. */
int fs_mkdir_p(const char *path, mode_t mode, struct gerr **err);
/* Open path below rootfd without ever leaving it: openat2(RESOLVE_IN_ROOT), symlinks resolved
 * as if rootfd were "/". flags are open(2) flags. Returns fd or negative errno. */
int fs_open_in_root(int rootfd, const char *path, int flags, mode_t mode);
/* mkdir -p of path below rootfd, confined like fs_open_in_root; returns an O_PATH|O_DIRECTORY fd
 * of the last component, or negative errno. */
int fs_mkdir_in_root(int rootfd, const char *path, mode_t mode);
/* Create an empty regular file (if missing) at path below rootfd, parents created; returns an
 * O_PATH fd of it or negative errno. */
int fs_touch_in_root(int rootfd, const char *path, mode_t mode);
/* "/proc/self/fd/N" into buf (at least 32 bytes); returns buf. */
char *fs_fd_path(int fd, char *buf, size_t size);
/* Remove a directory tree (no following symlinks, no crossing mounts). */
int fs_rm_rf(const char *path);
bool fs_exists(const char *path);
