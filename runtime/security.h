/* Process confinement applied in the container just before execve: identity, caps, seccomp. */
#pragma once

#include <seccomp.h>

#include "common/gerr.h"
#include "runtime/spec.h"

/* Build a libseccomp filter from the spec (in the parent: errors reach the user early).
 * *out is NULL when sc is NULL. */
int rt_seccomp_build(const struct rt_seccomp *sc, scmp_filter_ctx *out, struct gerr **err);
/* Load a built filter into the calling process (the last step before execve). */
int rt_seccomp_load(scmp_filter_ctx ctx, const struct rt_seccomp *sc, struct gerr **err);
/* Which actions, archs, operators and flags this build knows (features JSON). */
json_t *rt_seccomp_features(void);

/* Apply rlimits (setrlimit; a value above the hard limit of an unprivileged host fails with a
 * message naming the limit). */
int rt_rlimits_apply(const struct rt_process *p, struct gerr **err);
/* Switch to process.user (additionalGids, gid, uid) keeping the capabilities the spec asks for,
 * then set the five capability sets and noNewPrivileges. Order as the kernel needs it:
 * bounding drop, keepcaps, setgroups/setgid/setuid, capset, ambient raise. */
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
 * the container env, not ours). Returns only on error (errno-named message, "exec: <arg0>:
 * No such file or directory"). */
int rt_exec_process(const struct rt_process *p, struct gerr **err);
