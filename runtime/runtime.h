/* The OCI runtime's public API: container lifecycle verbs over a state directory. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/gerr.h"
#include "runtime/spec.h"

#define RT_DEFAULT_ROOT "/run/gantry-runtime"

struct rt_context {
        const char *root; /* state directory root (--root) */
        /* The program's argv/envp, so that create can re-execute itself from a sealed copy
         * when the container shares a pid namespace with other processes. NULL: never. */
        char **argv, **envp;
};

struct rt_create_opts {
        const char *id;
        const char *bundle;         /* NULL = current directory */
        const char *pid_file;       /* NULL = none */
        const char *console_socket; /* NULL = none */
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;           /* extra fds after 3 (plus LISTEN_FDS) passed to the container */
        bool detach;                /* run only */
        bool keep;                  /* run only: do not delete the container after it exits */
};

struct rt_exec_opts {
        const char *id;
        const char *process_file; /* --process: a JSON process object, else built from the flags */
        char **args;              /* NULL-terminated */
        char **env;               /* extra KEY=VALUE, NULL-terminated, may be NULL */
        const char *cwd;
        const char *user;         /* "uid[:gid]" */
        gid_t *additional_gids;
        size_t n_additional_gids;
        char **cap_add;           /* NULL-terminated capability names */
        bool tty, tty_set;
        bool detach;
        bool no_new_privs, no_new_privs_set;
        const char *pid_file;
        const char *console_socket;
        const char *apparmor;
        const char *process_label;
        int preserve_fds;
        /* For callers that serve the process's stdio themselves (gantry-shim): with detach,
         * where to put its pid, and for a terminal the pty master instead of an error asking
         * for a console socket. NULL when unused. */
        pid_t *pid_out;
        int *master_out;
};

/* Container status as the runtime-spec names it. */
enum rt_status { RT_CREATING, RT_CREATED, RT_RUNNING, RT_PAUSED, RT_STOPPED };
const char *rt_status_name(enum rt_status s);

int rt_container_create(const struct rt_context *ctx, const struct rt_create_opts *o,
                        struct gerr **err);
int rt_container_start(const struct rt_context *ctx, const char *id, struct gerr **err);
/* create + start; unless detach, wait and return the container's exit status in *status
 * (128+signal when killed) and delete it afterwards. */
int rt_container_run(const struct rt_context *ctx, const struct rt_create_opts *o, int *status,
                     struct gerr **err);
/* The state JSON (runtime-spec state, plus runc's rootfs/created/owner fields). */
int rt_container_state(const struct rt_context *ctx, const char *id, json_t **out,
                       struct gerr **err);
int rt_container_list(const struct rt_context *ctx, json_t **out, struct gerr **err);
int rt_container_kill(const struct rt_context *ctx, const char *id, int sig, bool all,
                      struct gerr **err);
int rt_container_delete(const struct rt_context *ctx, const char *id, bool force,
                        struct gerr **err);
int rt_container_exec(const struct rt_context *ctx, const struct rt_exec_opts *o, int *status,
                      struct gerr **err);
int rt_container_pids(const struct rt_context *ctx, const char *id, pid_t **pids, size_t *n,
                      struct gerr **err);
int rt_container_pause(const struct rt_context *ctx, const char *id, bool pause,
                       struct gerr **err);
int rt_container_update(const struct rt_context *ctx, const char *id, json_t *resources,
                        struct gerr **err);
/* The `features` document (runtime-spec features.md). */
json_t *rt_features(void);
/* Re-execute the running binary from a sealed memfd copy unless already doing so
 * (CVE-2019-5736: the container must never be able to open our binary for writing). */
int rt_sealed_exe_ensure(char **argv, char **envp);
/* A container id must be non-empty, printable, without '/' and not "." or "..". */
bool rt_id_valid(const char *id);
/* Signal name ("KILL", "SIGKILL") or number ("9") to a number; -1 if unknown. */
int rt_signal_parse(const char *s);
