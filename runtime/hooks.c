/* OCI lifecycle hooks (config.md "POSIX-platform Hooks"): spawn, state on stdin, timeout. */
#include "runtime/hooks.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* Without pidfd_open (Linux < 5.3) we can only poll waitpid; this is the tick. */
#define WAITPID_TICK_MS 10

static int pidfd_open_(pid_t pid)
{
        return (int)syscall(SYS_pidfd_open, pid, 0);
}

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write to the hook's stdin pipe without dying of SIGPIPE if the hook never reads it: the
 * signal is thread-directed, so block it here and swallow the one our write raised (but not one
 * that was already pending for someone else). */
static ssize_t write_nosigpipe(int fd, const void *buf, size_t len)
{
        sigset_t pipe_set, old_mask, pending;
        sigemptyset(&pipe_set);
        sigaddset(&pipe_set, SIGPIPE);
        sigpending(&pending);
        bool was_pending = sigismember(&pending, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &pipe_set, &old_mask);

        ssize_t n = write(fd, buf, len);
        int saved = errno;
        if (n < 0 && errno == EPIPE && !was_pending) {
                struct timespec zero = { 0, 0 };
                while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
                        ;
        }
        pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
        errno = saved;
        return n;
}

static int spawn_hook(const struct rt_hook *h, int stdin_fd, pid_t *pid)
{
        char *default_argv[] = { h->path, NULL };
        char *empty_env[] = { NULL };
        char **argv = (h->args != NULL && h->args[0] != NULL) ? h->args : default_argv;
        char **envp = h->env != NULL ? h->env : empty_env;

        posix_spawn_file_actions_t fa;
        posix_spawnattr_t attr;
        int r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return -r;
        r = posix_spawnattr_init(&attr);
        if (r != 0) {
                posix_spawn_file_actions_destroy(&fa);
                return -r;
        }
        /* stdout/stderr stay the runtime's (inherited); no other fd of ours leaks to the hook. */
        sigset_t none, all;
        sigemptyset(&none);
        sigfillset(&all);
        if ((r = posix_spawn_file_actions_adddup2(&fa, stdin_fd, STDIN_FILENO)) == 0 &&
            (r = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) == 0 &&
            (r = posix_spawnattr_setsigmask(&attr, &none)) == 0 &&
            (r = posix_spawnattr_setsigdefault(&attr, &all)) == 0 &&
            (r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
                                                         POSIX_SPAWN_SETSIGDEF)) == 0)
                r = posix_spawn(pid, h->path, &fa, &attr, argv, envp);
        posix_spawnattr_destroy(&attr);
        posix_spawn_file_actions_destroy(&fa);
        return -r;
}

static int reap(pid_t pid, int *status)
{
        for (;;) {
                if (waitpid(pid, status, 0) == pid)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

static int run_one(const struct rt_hook *h, const char *kind, const char *state,
                   struct gerr **err)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return gerr_set(err, errno, "hook %s \"%s\": pipe", kind, h->path);
        _cleanup_close_ int rd = pipefd[0];
        _cleanup_close_ int wr = pipefd[1];

        pid_t pid;
        int r = spawn_hook(h, rd, &pid);
        if (r < 0)
                return gerr_set(err, -r, "hook %s \"%s\": exec", kind, h->path);
        closep(&rd);
        rd = -1;

        /* The hook may never read stdin: never block on it, or the timeout could not fire. */
        fcntl(wr, F_SETFL, O_NONBLOCK);
        const char *p = state != NULL ? state : "";
        size_t left = strlen(p);

        _cleanup_close_ int pidfd = pidfd_open_(pid);
        if (pidfd < 0 && errno != ENOSYS) {
                int e = errno;
                kill(pid, SIGKILL);
                int st;
                reap(pid, &st);
                return gerr_set(err, e, "hook %s \"%s\": pidfd_open", kind, h->path);
        }

        int64_t deadline = h->timeout > 0 ? now_ms() + (int64_t)h->timeout * 1000 : -1;
        int status = 0;
        bool exited = false;
        while (!exited) {
                if (wr >= 0 && left == 0) {
                        closep(&wr);
                        wr = -1;
                }
                struct pollfd pfd[2];
                nfds_t n = 0;
                if (pidfd >= 0)
                        pfd[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
                if (wr >= 0)
                        pfd[n++] = (struct pollfd){ .fd = wr, .events = POLLOUT };
                int wait_ms = -1;
                if (deadline >= 0) {
                        int64_t rem = deadline - now_ms();
                        wait_ms = rem > 0 ? (int)rem : 0;
                }
                if (pidfd < 0 && (wait_ms < 0 || wait_ms > WAITPID_TICK_MS))
                        wait_ms = WAITPID_TICK_MS;

                int pr = poll(pfd, n, wait_ms);
                if (pr < 0 && errno != EINTR) {
                        int e = errno;
                        kill(pid, SIGKILL);
                        reap(pid, &status);
                        return gerr_set(err, e, "hook %s \"%s\": poll", kind, h->path);
                }
                if (wr >= 0 && pr > 0 && pfd[n - 1].revents != 0) {
                        ssize_t w = write_nosigpipe(wr, p, left);
                        if (w > 0) {
                                p += w;
                                left -= (size_t)w;
                        } else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                                left = 0; /* EPIPE: the hook does not want its state. */
                        }
                }
                if (pidfd >= 0) {
                        if (pr > 0 && (pfd[0].revents & POLLIN)) {
                                r = reap(pid, &status);
                                if (r < 0)
                                        return gerr_set(err, -r, "hook %s \"%s\": wait", kind,
                                                        h->path);
                                exited = true;
                        }
                } else {
                        pid_t w = waitpid(pid, &status, WNOHANG);
                        if (w == pid)
                                exited = true;
                        else if (w < 0 && errno != EINTR)
                                return gerr_set(err, errno, "hook %s \"%s\": wait", kind, h->path);
                }
                if (!exited && deadline >= 0 && now_ms() >= deadline) {
                        kill(pid, SIGKILL);
                        reap(pid, &status);
                        return gerr_set(err, 0, "hook %s \"%s\": timed out after %d s", kind,
                                        h->path, h->timeout);
                }
        }

        if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
                return gerr_set(err, 0, "hook %s \"%s\": exit status %d", kind, h->path,
                                WEXITSTATUS(status));
        if (WIFSIGNALED(status))
                return gerr_set(err, 0, "hook %s \"%s\": killed by signal %d", kind, h->path,
                                WTERMSIG(status));
        return 0;
}

int rt_hooks_run(const struct rt_hook_list *list, const char *kind_name, const char *state_json,
                 struct gerr **err)
{
        if (list == NULL)
                return 0;
        for (size_t i = 0; i < list->n; i++) {
                int r = run_one(&list->v[i], kind_name, state_json, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

void rt_hooks_run_warn(const struct rt_hook_list *list, const char *kind_name,
                       const char *state_json)
{
        if (list == NULL)
                return;
        for (size_t i = 0; i < list->n; i++) {
                _cleanup_gerr_ struct gerr *err = NULL;
                if (run_one(&list->v[i], kind_name, state_json, &err) < 0)
                        log_warn("%s", err != NULL && err->msg != NULL ? err->msg
                                                                       : "hook failed");
        }
}
