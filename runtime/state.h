/* Per-container state kept under the runtime root: state.json, exec fifo, status. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/gerr.h"
#include "runtime/cgroup.h"
#include "runtime/runtime.h"

struct rt_state {
        char *id;
        char *dir; /* <root>/<id> */
        pid_t pid;
        unsigned long long pid_start; /* /proc/<pid>/stat starttime, guards against pid reuse */
        char *bundle;
        char *rootfs;
        char *created; /* RFC 3339 with nanoseconds, UTC */
        uid_t owner;
        json_t *annotations;   /* object or NULL */
        json_t *poststart;     /* serialized poststart hooks or NULL (run by start) */
        json_t *poststop;      /* serialized poststop hooks or NULL (run by delete) */
        struct rt_cgroup *cgroup;
        bool has_ns_user;      /* container has its own user namespace */
};

/* <root>/<id> into a new string. */
char *rt_state_dir(const struct rt_context *ctx, const char *id);
/* Make <root>/<id>; EEXIST becomes "container <id> already exists". */
int rt_state_mkdir(const struct rt_context *ctx, const char *id, struct gerr **err);
int rt_state_save(const struct rt_state *st, struct gerr **err);
/* ENOENT becomes "container <id> does not exist". */
int rt_state_load(const struct rt_context *ctx, const char *id, struct rt_state **out,
                  struct gerr **err);
void rt_state_free(struct rt_state *st);
enum rt_status rt_state_status(const struct rt_state *st);
/* The spec's state JSON for `state` and for hooks' stdin. */
json_t *rt_state_json(const struct rt_state *st, enum rt_status status);
char *rt_state_json_string(const struct rt_state *st, enum rt_status status);
/* Field 22 of /proc/<pid>/stat; 0 if the process is gone. */
unsigned long long rt_proc_start_time(pid_t pid);
/* A pidfd for the container's init if it is still the same process, else -ESRCH. */
int rt_state_pidfd(const struct rt_state *st);
/* Current time as RFC 3339 UTC with nanoseconds. */
char *rt_now_rfc3339(void);
/* Hook lists <-> JSON (for poststop hooks kept until delete). */
json_t *rt_hooks_to_json(const struct rt_hook_list *l);
int rt_hooks_from_json(json_t *arr, struct rt_hook_list *out);
void rt_hook_list_clear(struct rt_hook_list *l);
