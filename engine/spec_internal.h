/* Helpers of container_spec.c in other files: users and /etc files (container_etc.c), seccomp (seccomp_profile.c). */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/gerr.h"

struct eng_user {
        uid_t uid;
        gid_t gid;
        gid_t gids[64]; /* supplementary: the user's groups in /etc/group, then GroupAdd */
        size_t n_gids;
        char home[256];
};

/* linux.seccomp for the container: Docker's default confinement (none when privileged or
 * seccomp=unconfined), or the Docker-format profile given inline in SecurityOpt. caps: the
 * container's capability names. *out NULL: no filter. */
int eng_seccomp_build(json_t *hc, json_t *caps, bool privileged, json_t **out, struct gerr **err);
/* A Docker seccomp profile (archMap, includes/excludes by caps, arches and minKernel) in OCI's
 * linux.seccomp form. */
int eng_seccomp_from_docker(const char *text, json_t *caps, json_t **out, struct gerr **err);

/* linux.resources for a HostConfig (memory, cpu, pids, blkio, the device rules): for update. */
int eng_spec_resources(json_t *hc, json_t **out, struct gerr **err);

/* Docker's User ("", "name", "uid", "name:group", "uid:gid") resolved against etc/passwd and
 * etc/group found in the first of dirs that has them (each dir taken as a root). */
int eng_user_resolve(const char *user, json_t *group_add, const char *const *dirs,
                     struct eng_user *out, struct gerr **err);
