/* gantry cp: GNU tar as the local end of a copy (the CLI is static and carries no libarchive),
 * streamed through a pipe; its refusal of "../" names and its delayed unsafe symlinks confine
 * what it writes to the destination. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cp.h"

extern char **environ;

/* Appends s to *o escaped for a --transform regex (BRE) or, with repl, its replacement. */
static char *put_escaped(char *o, const char *s, bool repl)
{
        for (; *s; s++) {
                if (repl ? strchr("\\&,", *s) != NULL : strchr("\\.[]*^$,", *s) != NULL)
                        *o++ = '\\';
                *o++ = *s;
        }
        return o;
}

/* --transform=s,^FROM\(/.*\)\?$,TO\1,S renames the entry and what is below it, and hard link
 * targets (as RebaseArchiveEntries does), not symlink targets (S). An archive of "/" has names
 * "/..." where docker's rebase puts TO in front of them. */
static char *transform(const char *from, const char *to)
{
        if (strcmp(from, "/") != 0 && (to == NULL || strcmp(from, to) == 0))
                return NULL;
        char *t =
            malloc(strlen("--transform=s,^") + 2 * strlen(from) + 2 * strlen(to ? to : ".") + 32);
        if (t == NULL)
                abort();
        char *o = t + sprintf(t, "--transform=s,^");
        if (strcmp(from, "/") == 0) {
                o = put_escaped(o + sprintf(o, "/*,"), to ? to : ".", true);
                strcpy(o, "/,S");
                return t;
        }
        o = put_escaped(o, from, false);
        o += sprintf(o, "\\(/.*\\)\\?$,");
        o = put_escaped(o, to, true);
        strcpy(o, "\\1,S");
        return t;
}

/* posix_spawnp with fd as the child's stdin (0) or stdout (1), SIGPIPE back to its default
 * (the CLI ignores it; a tar whose reader went away should just stop). */
static pid_t spawn(char *const argv[], int fd, int target)
{
        posix_spawn_file_actions_t fa;
        posix_spawnattr_t at;
        sigset_t def, none;
        sigemptyset(&def);
        sigaddset(&def, SIGPIPE);
        sigemptyset(&none);
        posix_spawn_file_actions_init(&fa);
        posix_spawnattr_init(&at);
        posix_spawnattr_setsigdefault(&at, &def);
        posix_spawnattr_setsigmask(&at, &none);
        posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
        posix_spawn_file_actions_adddup2(&fa, fd, target);
        pid_t pid;
        int r = posix_spawnp(&pid, argv[0], &fa, &at, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
        if (r != 0) {
                errno = r;
                return -1;
        }
        return pid;
}

/* Once per run: tar is on PATH and is GNU tar (--transform, its member name checks). */
static int check_gnu_tar(void)
{
        static int checked;
        if (checked != 0)
                return checked;
        checked = -1;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                perror("gantry cp: pipe");
                return -1;
        }
        char *argv[] = {"tar", "--version", NULL};
        pid_t pid = spawn(argv, p[1], STDOUT_FILENO);
        close(p[1]);
        if (pid < 0) {
                int e = errno;
                close(p[0]);
                fprintf(stderr,
                        "gantry cp: copies to or from local paths need GNU tar: tar: %s "
                        "(apt-get install tar)\n",
                        strerror(e));
                return -1;
        }
        char buf[256];
        size_t len = 0;
        ssize_t n;
        while (len < sizeof(buf) - 1 && ((n = read(p[0], buf + len, sizeof(buf) - 1 - len)) > 0 ||
                                         (n < 0 && errno == EINTR)))
                len += n > 0 ? (size_t)n : 0;
        buf[len] = '\0';
        close(p[0]);
        int st;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
                ;
        if (strstr(buf, "GNU tar") == NULL) {
                fprintf(stderr, "gantry cp: copies to or from local paths need GNU tar: the tar on "
                                "PATH is not GNU tar\n");
                return -1;
        }
        checked = 1;
        return 1;
}

/* The child's end of a new pipe is dup'ed to child_fd; *fd gets the parent's end. */
static pid_t run_tar(char *const argv[], int child_fd, int *fd)
{
        if (check_gnu_tar() < 0)
                return -1;
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0) {
                perror("gantry cp: pipe");
                return -1;
        }
        int mine = child_fd == STDIN_FILENO ? p[1] : p[0];
        int theirs = child_fd == STDIN_FILENO ? p[0] : p[1];
        pid_t pid = spawn(argv, theirs, child_fd);
        close(theirs);
        if (pid < 0) {
                fprintf(stderr, "gantry cp: tar: %s\n", strerror(errno));
                close(mine);
                return -1;
        }
        *fd = mine;
        return pid;
}

pid_t cp_tar_extract(const char *dir, const char *from, const char *to, int *fd)
{
        /* Docker's CopyTo untars with NoLchown and the archive's modes, without the umask;
         * no --absolute-names: "../" and absolute names stay refused. */
        char *tr = transform(from, to);
        char *argv[] = {"tar",
                        "-x",
                        "-f",
                        "-",
                        "-C",
                        (char *)dir,
                        "--no-same-owner",
                        "--same-permissions",
                        "--warning=no-timestamp",
                        tr,
                        NULL};
        pid_t pid = run_tar(argv, STDIN_FILENO, fd);
        free(tr);
        return pid;
}

pid_t cp_tar_create(const char *dir, const char *entry, const char *to, int *fd)
{
        /* Numeric owners as docker's tar carries them; sockets skipped quietly as docker's; the
         * entry's name taken as it is (GNU tar would read "\1" in it as an escape). */
        char *tr = transform(entry, to);
        char *argv[16] = {"tar",
                          "-c",
                          "-f",
                          "-",
                          "-C",
                          (char *)dir,
                          "--numeric-owner",
                          "--warning=no-file-ignored",
                          "--no-unquote"};
        int i = 9;
        if (tr != NULL)
                argv[i++] = tr;
        argv[i++] = "--";
        argv[i++] = (char *)entry;
        argv[i] = NULL;
        pid_t pid = run_tar(argv, STDOUT_FILENO, fd);
        free(tr);
        return pid;
}

int cp_tar_wait(pid_t pid)
{
        int st;
        while (waitpid(pid, &st, 0) < 0) {
                if (errno != EINTR)
                        return -1;
        }
        /* GNU tar's 1 is "a file changed as it was read": the archive is still whole. */
        return WIFEXITED(st) && WEXITSTATUS(st) <= 1 ? 0 : -1;
}
