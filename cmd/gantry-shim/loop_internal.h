/* What the shim's loop and its exec support share: clients of the control socket, the shim's state. */
#pragma once

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "cmd/gantry-shim/shim.h"
#include "common/timefmt.h"

#define IO_BUF 32768
/* A client that lets this much of our output pile up is dropped rather than stalling all. */
#define CLIENT_MAX_PENDING (4 << 20)

enum client_kind { C_CMD, C_ATTACH, C_WAIT, C_EXEC };

struct client {
        int fd;
        enum client_kind kind;
        char line[1024];
        struct shim_exec *exec; /* C_EXEC: the process whose stdio this client carries */
        size_t line_len;
        bool want_in, want_out, want_err;
        bool read_closed, close_after_flush, dead;
        char *out;
        size_t out_len, out_cap;
        struct client *next;
};

struct shim {
        const struct shim_opts *o;
        struct shim_setup *s;
        struct jsonlog *log;
        int sig_fd;
        struct client *clients;
        char *in_buf; /* client input not yet taken by the container's stdin */
        size_t in_len;
        bool in_close_pending;
        bool exited;
        int exit_code;
        bool oom;
        char finished_at[TIMEFMT_RFC3339_LEN];
        struct timespec drain_until;
        struct rt_cgroup *cgroup;
        struct shim_exec *execs;
};


void client_append(struct client *c, const void *data, size_t n);
void client_flush(struct client *c);
void client_send(struct client *c, const void *data, size_t n);
void client_reply(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void client_error(struct client *c, struct gerr *e);

/* ---- exec.c: processes started in the container by `exec`, each served on its client ---- */
/* "exec <id> <tty> <stdin> <detach> <process.json>": start it; the client carries its stdio
 * (Docker's framing without a tty) unless detached. Replies "ok <pid>". */
void exec_start_command(struct shim *sh, struct client *c, const char *args);
/* "execstatus <id>": "running <pid>" or "exit <code>". */
void exec_status_command(struct shim *sh, struct client *c, const char *args);
/* "execresize <id> <h> <w>". */
void exec_resize_command(struct shim *sh, struct client *c, const char *args);
/* Poll slots for the execs' stdio from pfd on (at most max); returns how many were used. */
size_t exec_poll_fill(struct shim *sh, struct pollfd *pfd, size_t max);
void exec_poll_handle(struct shim *sh, const struct pollfd *pfd, size_t n);
/* The loop's poll timeout for exec drains: -1 when none waits. */
int exec_timeout_ms(const struct shim *sh);
/* A reaped child: true when it was an exec. */
bool exec_reaped(struct shim *sh, pid_t pid, int status);
/* Input from an exec client (n <= 0: its end of input). */
void exec_client_input(struct shim *sh, struct client *c, const char *data, ssize_t n);
void exec_client_gone(struct client *c);
size_t exec_count_fds(const struct shim *sh);
void exec_free_all(struct shim *sh);
