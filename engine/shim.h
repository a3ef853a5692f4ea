/* The engine's side of gantry-shim: spawn one per container, then talk to it on its socket. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

#include "common/gerr.h"

/* One of our programs: $env_var when set, next to the running program, in a build tree, then
 * /usr/local/bin. */
char *eng_find_program(const char *name, const char *env_var);

/* Where the shim of container id listens: <exec_root>/shims/<id>.sock. */
char *eng_shim_socket_path(const char *exec_root, const char *id);

struct eng_shim_spawn_opts {
        const char *id;
        const char *bundle;       /* OCI bundle: config.json + rootfs already mounted */
        const char *exec_root;    /* /run/gantry */
        const char *runtime_root; /* state root for the runtime library: <exec_root>/runtime */
        const char *log_path;     /* json-file log: <root>/containers/<id>/<id>-json.log */
        const char *exit_path;    /* where the shim writes the exit status JSON */
        bool tty;
        bool open_stdin;
        bool stdin_once;
        long log_max_size;        /* bytes, 0 = unlimited (json-file max-size) */
        int log_max_files;        /* json-file max-file, >= 1 */
        bool no_log;              /* the "none" log driver: output is not kept */
};

/* Start a shim (it daemonizes: setsid, outlives gantryd) which creates the container through
 * the runtime library, without starting it. Returns once the shim listens and the container is
 * created; *shim_pid and *container_pid are set. On error nothing is left behind. */
int eng_shim_spawn(const struct eng_shim_spawn_opts *o, pid_t *shim_pid, pid_t *container_pid,
                   struct gerr **err);
/* Make the spare shim the next eng_shim_spawn takes, after delay_ms (0: now, and a pending
 * one goes now too); nothing when there is one. */
void eng_shim_spare_refill(unsigned delay_ms);
/* The spare shim kept for the next eng_shim_spawn exits, and no other is made (engine close). */
void eng_shim_spares_close(void);
/* Start the created container's process. */
int eng_shim_start(const char *exec_root, const char *id, struct gerr **err);
/* A connected stream to the container's stdio. Non-tty: what is read from the fd is Docker's
 * multiplexed framing (8-byte header: stream 1/2, 0,0,0, big-endian u32 length) of stdout and
 * stderr as selected; tty: raw bytes. What is written to the fd goes to the container's stdin
 * (if want_stdin and the container has open_stdin); shutdown(SHUT_WR) of the fd closes the
 * container's stdin when stdin_once. The fd reaches EOF after the container exits and its output
 * is drained. */
int eng_shim_attach(const char *exec_root, const char *id, bool want_stdin, bool want_stdout,
                    bool want_stderr, int *fd_out, struct gerr **err);
int eng_shim_resize(const char *exec_root, const char *id, unsigned h, unsigned w,
                    struct gerr **err);
int eng_shim_kill(const char *exec_root, const char *id, int sig, struct gerr **err);
struct eng_shim_exec_opts {
        const char *exec_id;
        const char *process_file; /* the OCI process JSON, no spaces in the path */
        bool tty, want_stdin, detach;
};
/* Start a process in the running container through its shim. Unless detached, *fd_out is its
 * stdio stream, framed as attach's; it reaches EOF once the process exited and its output is
 * drained. */
int eng_shim_exec(const char *exec_root, const char *id, const struct eng_shim_exec_opts *o,
                  int *fd_out, pid_t *pid_out, struct gerr **err);
/* Whether the exec still runs, else its exit code. ENOENT once the shim forgot it. */
int eng_shim_exec_status(const char *exec_root, const char *id, const char *exec_id,
                         bool *running, int *code, struct gerr **err);
int eng_shim_exec_resize(const char *exec_root, const char *id, const char *exec_id, unsigned h,
                         unsigned w, struct gerr **err);
/* Block until the container exits; returns its status. If the shim is already gone, read the
 * exit file instead (exit_path). */
struct eng_exit {
        int code;          /* 128+signal when killed */
        bool oom_killed;
        char finished_at[40]; /* RFC 3339 nanoseconds UTC */
};
int eng_shim_wait(const char *exec_root, const char *id, const char *exit_path,
                  struct eng_exit *out, struct gerr **err);
/* eng_shim_wait in two halves, for a caller that watches many shims at once: _send connects
 * and asks (returns the non-blocking fd to watch), _reply reads the status out of the reply
 * line, or out of the exit file when the shim hung up without one (reply NULL). */
int eng_shim_wait_send(const char *exec_root, const char *id, struct gerr **err);
int eng_shim_wait_reply(const char *reply, const char *id, const char *exit_path,
                        struct eng_exit *out, struct gerr **err);
/* Read the exit file alone (no shim needed). ENOENT if the container has not exited. */
int eng_shim_read_exit(const char *exit_path, struct eng_exit *out, struct gerr **err);
