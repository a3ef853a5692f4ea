/* Helpers of container_spec.c that live in container_etc.c: users, /etc files. */
#pragma once

#include <jansson.h>
#include <sys/types.h>

#include "common/gerr.h"

struct eng_user {
        uid_t uid;
        gid_t gid;
        gid_t gids[64]; /* supplementary: the user's groups in /etc/group, then GroupAdd */
        size_t n_gids;
        char home[256];
};

/* Docker's User ("", "name", "uid", "name:group", "uid:gid") resolved against etc/passwd and
 * etc/group found in the first of dirs that has them (each dir taken as a root). */
int eng_user_resolve(const char *user, json_t *group_add, const char *const *dirs,
                     struct eng_user *out, struct gerr **err);
