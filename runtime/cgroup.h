/* Container cgroups on v2, v1 and hybrid hosts: create, limit, join, list, freeze, kill, remove. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/gerr.h"
#include "runtime/spec.h"

enum rt_cgroup_mode {
        RT_CGROUP_V1,     /* only v1 hierarchies (maybe an empty v2 at /sys/fs/cgroup/unified) */
        RT_CGROUP_HYBRID, /* v1 controllers plus a v2 tree holding some controllers or none */
        RT_CGROUP_V2,     /* unified only */
};

struct rt_cgroup; /* opaque: where one container's cgroup(s) live */

/* What this host has. Cached after the first call. Root is /sys/fs/cgroup unless the
 * environment variable GANTRY_CGROUP_ROOT says otherwise (tests). */
enum rt_cgroup_mode rt_cgroup_mode(void);
/* Create the cgroup(s) for a container (cgroups_path from config.json, or NULL for the default
 * "/gantry/<id>"), apply res (may be NULL), and move pid in. On error nothing is left behind. */
int rt_cgroup_create(const char *cgroups_path, const char *id, const struct rt_resources *res,
                     pid_t pid, struct rt_cgroup **out, struct gerr **err);
/* Move another process (exec) into the container's cgroup(s). */
int rt_cgroup_enter(const struct rt_cgroup *cg, pid_t pid, struct gerr **err);
int rt_cgroup_update(const struct rt_cgroup *cg, const struct rt_resources *res,
                     struct gerr **err);
/* All pids in the container's cgroup (recursively), caller frees *pids. */
int rt_cgroup_pids(const struct rt_cgroup *cg, pid_t **pids, size_t *n, struct gerr **err);
/* Signal every process in the cgroup (cgroup.kill for SIGKILL where the kernel has it). */
int rt_cgroup_kill_all(const struct rt_cgroup *cg, int sig, struct gerr **err);
int rt_cgroup_freeze(const struct rt_cgroup *cg, bool frozen, struct gerr **err);
bool rt_cgroup_is_frozen(const struct rt_cgroup *cg);
/* Remove the cgroup(s); processes still inside are killed first. */
int rt_cgroup_destroy(const struct rt_cgroup *cg, struct gerr **err);
/* rmdir path (a parent such as "/gantry") in every hierarchy where it is empty. */
void rt_cgroup_remove_empty(const char *path);
/* Persist in the container state and load back. */
json_t *rt_cgroup_to_json(const struct rt_cgroup *cg);
int rt_cgroup_from_json(json_t *j, struct rt_cgroup **out, struct gerr **err);
void rt_cgroup_free(struct rt_cgroup *cg);
/* OOM kills seen by the memory controller (for the shim); -1 if unknown. */
long rt_cgroup_oom_kills(const struct rt_cgroup *cg);
