/* gantry-shim's internals: its options, the json-file log writer and the event loop. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "runtime/runtime.h"

struct shim_opts {
        const char *id;
        const char *bundle;
        const char *exec_root;
        const char *runtime_root;
        const char *log_path;
        const char *exit_path;
        bool tty, open_stdin, stdin_once;
        bool detach; /* fork once at start so the spawner's child exits at once */
        long log_max_size;
        int log_max_files;
        bool no_log; /* the "none" log driver */
};

/* Docker's json-file log driver: one {"log","stream","time"} object per line of output. */
struct jsonlog {
        int fd;
        const char *path;
        long max_size;
        int max_files;
        long size;
        char *buf; /* encoded lines not yet written */
        size_t len, cap;
        char stamp[64];
        char *part[3]; /* per stream (1 stdout, 2 stderr): a line without its newline yet */
        size_t part_len[3];
};

int jsonlog_open(struct jsonlog *l, const char *path, long max_size, int max_files);
/* Log output of stream (1 stdout, 2 stderr), split on '\n'; partial lines are kept until their
 * newline, or flushed once they reach 16 KiB. */
void jsonlog_write(struct jsonlog *l, int stream, const char *data, size_t n);
/* Flush the partial lines (EOF of the streams) and close. */
void jsonlog_close(struct jsonlog *l);

/* What the loop works on: the created container and its stdio. */
struct shim_setup {
        struct rt_context ctx;
        pid_t init_pid;
        int out_fd;    /* stdout pipe or pty master */
        int err_fd;    /* stderr pipe, -1 with a tty */
        int in_fd;     /* stdin pipe's write end, or the pty master; -1 without stdin */
        int listen_fd; /* control socket */
        char *sock_path;
};

/* Serve until the container has exited and been deleted; returns the process exit code. */
int shim_loop(const struct shim_opts *o, struct shim_setup *s, struct jsonlog *log);

/* A spare (gantry-shim --spare): wait on sock for the engine's one message, the arguments of a
 * container and its readiness pipe, which lands on ready_fd. *argv lives as long as the shim.
 * -ECANCELED when the engine closed the socket instead. */
int shim_spare_wait(int sock, int ready_fd, int *argc, char ***argv);
/* Our command line (the argument area of len bytes at area, which the engine padded) becomes
 * argv, as a shim spawned with it would show it to ps and to the tools that find a container's
 * shim by its arguments; what does not fit is left out. */
void shim_spare_retitle(char *area, size_t len, int argc, char **argv);
