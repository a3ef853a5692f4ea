/* Process confinement applied in the container just before execve: identity, caps, seccomp. */
#pragma once

#include <linux/filter.h>
#include <seccomp.h>

#include "common/gerr.h"
#include "runtime/spec.h"

/* A compiled seccomp program and the SECCOMP_FILTER_FLAG_* it is loaded with. */
struct rt_seccomp_prog {
        struct sock_filter *insns;
        unsigned short len;
        unsigned flags;
};

/* Compile the spec's filter (in the parent: errors reach the user early). With a state_root,
 * a program compiled before for the same profile, libseccomp and kernel is read from
 * <state_root>/seccomp cache/ instead of compiled again, and a new one is stored there (a cache
 * that cannot be read or written is never an error). *out is NULL when sc is NULL. An
 * SCMP_ACT_NOTIFY rule or a listenerPath fails with EOPNOTSUPP. */
int rt_seccomp_build(const struct rt_seccomp *sc, const char *state_root,
                     struct rt_seccomp_prog **out, struct gerr **err);
void rt_seccomp_prog_free(struct rt_seccomp_prog *p);
/* Load a built program into the calling process. The filter never sets no_new_privs itself, and
 * the kernel lets a process without no_new_privs load one only with CAP_SYS_ADMIN, so the caller
 * orders it as runc does:
 *   noNewPrivileges true:  rt_identity_apply (drops caps, sets nnp), rt_seccomp_load, execve;
 *   noNewPrivileges false: rt_seccomp_load, rt_identity_apply, execve
 *     (the filter then also applies to setgroups/setresuid/capset/prctl and execve). */
int rt_seccomp_load(const struct rt_seccomp_prog *p, struct gerr **err);
/* Which actions, archs, operators and flags this build knows (features JSON). */
json_t *rt_seccomp_features(void);

/* Apply rlimits (setrlimit; a value above the hard limit of an unprivileged host fails with a
 * message naming the limit). */
int rt_rlimits_apply(const struct rt_process *p, struct gerr **err);
/* Switch to process.user (additionalGids, gid, uid) keeping the capabilities the spec asks for,
 * then set the five capability sets and noNewPrivileges. Order as the kernel needs it:
 * bounding drop, keepcaps, setgroups/setgid/setuid, capset, ambient raise. Also sets the umask
 * (process.umask, else 0022). Without a capabilities object the sets are left alone. */
int rt_identity_apply(const struct rt_process *p, struct gerr **err);
/* apparmorProfile / selinuxLabel: apply where the host has the module; a clear error if a
 * non-empty one is asked on a host without it. Called before execve. */
int rt_lsm_apply(const struct rt_process *p, struct gerr **err);
/* Check LSM requests up front (parent side) so create fails cleanly. */
int rt_lsm_check(const struct rt_process *p, struct gerr **err);
/* personality(2) from linux.personality. */
int rt_personality_apply(const struct rt_linux *l, struct gerr **err);
/* Write oom_score_adj of pid (parent side, needs no privilege inside the container). */
int rt_oom_score_adj_apply(pid_t pid, const struct rt_process *p, struct gerr **err);
/* execve process.args[0] searched in the PATH of process.env (as execvpe, but PATH comes from
 * the container env, not ours). Returns only on error, worded as runc: -ENOENT with
 * `exec: "foo": executable file not found in $PATH`, or "exec /bin/x: Permission denied". */
int rt_exec_process(const struct rt_process *p, struct gerr **err);
/* Resolve process.args[0] as rt_exec_process would (PATH from process.env) into buf, so create
 * can fail early ("executable file not found in $PATH") before the container is started. */
int rt_exec_lookup(const struct rt_process *p, char *buf, size_t size, struct gerr **err);
/* execve an already-resolved path with process.args and process.env. Returns only on error. */
int rt_exec_resolved(const struct rt_process *p, const char *path, struct gerr **err);
