/* What the runtime's parent and the container's init share: arguments and the sync protocol. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/gerr.h"
#include "runtime/spec.h"

/* Messages on the SOCK_SEQPACKET pair between parent and init: one type byte, then payload. */
enum rt_sync {
        RT_SYNC_MAPPED = 'm',     /* parent -> init: user namespace mappings written */
        RT_SYNC_GO = 'g',         /* parent -> init: in the cgroup; payload: state JSON */
        RT_SYNC_HOOKS = 'h',      /* init -> parent: mounts ready, run prestart/createRuntime */
        RT_SYNC_HOOKS_DONE = 'H', /* parent -> init */
        RT_SYNC_CREATED = 'c',    /* init -> parent: waiting for start */
        RT_SYNC_START = 's',      /* parent -> init: start now (run without the exec fifo) */
        RT_SYNC_ERROR = 'e',      /* either way: payload is the error message */
};

struct rt_init_args {
        const struct rt_spec *spec;
        const struct rt_process *process; /* spec->process for init, the exec process otherwise */
        int sync_fd;      /* init's end of the sync pair */
        int console_fd;   /* where to send the pty master, -1 without a terminal */
        const char *fifo_path; /* exec fifo; NULL when the parent starts us through sync_fd */
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
        int new_ns_flags;     /* namespaces created by clone3 itself */
        int unshare_flags;    /* created by the init after the joins (user ns joined by path) */
        const struct rt_seccomp_prog *seccomp; /* NULL without linux.seccomp */
        const char *id;
};

int rt_sync_send(int fd, char type, const void *payload, size_t len);
/* Receive one message: returns its type (>0), 0 on EOF, negative errno. *payload (if not NULL)
 * gets a malloc'd NUL-terminated copy of the payload. */
int rt_sync_recv(int fd, char **payload);
/* Expect a message of one type; RT_SYNC_ERROR becomes an error carrying the init's message. */
int rt_sync_expect(int fd, char want, char **payload, struct gerr **err);
/* Send err's message as RT_SYNC_ERROR (init side, before _exit). */
void rt_sync_send_error(int fd, const struct gerr *err);

/* The init's side of create: never returns. */
__attribute__((noreturn)) void rt_init_main(struct rt_init_args *a);
/* The process setup shared by init and exec: terminal, cwd, rlimits, lsm, identity, seccomp,
 * execve. Returns only on error. */
int rt_init_finish_process(struct rt_init_args *a, bool do_terminal, struct gerr **err);
/* The last steps of init and exec: close fds, LSM, seccomp and identity, execve. */
int rt_init_exec(struct rt_init_args *a, const char *exe, struct gerr **err);
/* Join the namespace at path (type CLONE_NEW*), error naming path. */
int rt_setns_path(const char *path, int type, struct gerr **err);
/* clone3 with the given namespace flags and CLONE_PIDFD; returns pid in the parent (and the
 * pidfd in *pidfd), 0 in the child. */
pid_t rt_clone3(int flags, int *pidfd);
/* Wait for a child given its pidfd, forwarding signals to it; returns the shell-style status. */
int rt_wait_forwarding(pid_t pid, int pidfd, int tty_master);
