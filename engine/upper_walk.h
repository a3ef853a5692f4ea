/* A walk of a container's overlay upper dir in dockerd's order, with its lower layers at hand. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "common/gerr.h"

struct eng_layers {
        int upper;  /* O_PATH|O_DIRECTORY fds */
        int *lower; /* topmost first */
        size_t n;
};

/* Open upper and the lower dirs (NULL-terminated, topmost first). */
int eng_layers_open(const char *upper, char *const *lowers, struct eng_layers *l,
                    struct gerr **err);
void eng_layers_close(struct eng_layers *l);
/* stat(2) of path ("/etc/passwd") in the topmost lower layer that has it, symlinks resolved
 * inside that layer (dockerd's os.Stat of layer+path, without leaving the layer). */
bool eng_layers_lower_stat(const struct eng_layers *l, const char *path, struct stat *st);

struct eng_upper_entry {
        const char *path; /* "/etc/passwd" */
        int dirfd;        /* its directory in upper */
        const char *name; /* its name there */
        const struct stat *st;
        bool whiteout; /* a 0:0 character device: deleted below */
        bool opaque;   /* a directory with trusted.overlay.opaque=y */
};

/* Called for each entry, a directory before its children, names in byte order (Go's
 * filepath.Walk); nonzero stops the walk and is returned. The mount points the runtime creates
 * (dockerd keeps them in its init layer: /etc/hosts, /etc/hostname, /etc/resolv.conf, /dev/pts,
 * /dev/shm, /dev/console, /proc, /sys, /.dockerenv, /etc/mtab) are not shown while they are empty
 * and no lower layer has them, nor a directory holding only those. */
typedef int (*eng_upper_fn)(const struct eng_upper_entry *e, void *ud);
int eng_upper_walk(const struct eng_layers *l, eng_upper_fn fn, void *ud, struct gerr **err);
