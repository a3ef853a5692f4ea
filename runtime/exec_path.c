/* execve of process.args[0], searched in the PATH of the container's environment (not ours). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/security.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static const char *env_path(char **env)
{
        for (char **e = env; e != NULL && *e != NULL; e++)
                if (strncmp(*e, "PATH=", 5) == 0)
                        return *e + 5;
        return DEFAULT_PATH;
}

/* Go's exec.LookPath, which runc uses: a regular file with an execute bit we may use. */
static bool is_executable(const char *path)
{
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* "<what>: <strerror in lower case>", as Go prints errnos: the docker CLI matches on "no such
 * file or directory" and "permission denied" to exit 127 or 126. */
static int go_error(struct gerr **err, int errnum, const char *fmt, const char *a, const char *b)
{
        char text[64];
        snprintf(text, sizeof(text), "%s", strerror(errnum));
        text[0] = (char)tolower((unsigned char)text[0]);
        char what[PATH_MAX * 2 + 32];
        snprintf(what, sizeof(what), fmt, a, b);
        gerr_set(err, 0, "%s: %s", what, text);
        if (err != NULL && *err != NULL)
                (*err)->errnum = errnum;
        return -errnum;
}

int rt_exec_lookup(const struct rt_process *p, char *buf, size_t size, struct gerr **err)
{
        if (p->args == NULL || p->args[0] == NULL || p->args[0][0] == '\0')
                return gerr_set(err, EINVAL, "exec: process.args is empty");
        const char *arg0 = p->args[0];
        size_t alen = strlen(arg0);
        if (strchr(arg0, '/') != NULL) {
                if (alen + 1 > size)
                        return gerr_set(err, ENAMETOOLONG, "exec %s", arg0);
                memcpy(buf, arg0, alen + 1);
                /* Checked before the container counts as created, with runc's wording, so a
                 * missing or unusable program fails create (engines map it to 127 and 126). */
                struct stat st;
                if (stat(arg0, &st) < 0)
                        return go_error(err, errno, "exec: \"%s\": stat %s", arg0, arg0);
                if (!S_ISREG(st.st_mode) || access(arg0, X_OK) < 0)
                        return go_error(err, EACCES, "exec: \"%s\"", arg0, NULL);
                return 0;
        }
        for (const char *dir = env_path(p->env); dir != NULL;) {
                const char *colon = strchr(dir, ':');
                size_t dlen = colon != NULL ? (size_t)(colon - dir) : strlen(dir);
                /* An empty PATH entry means the working directory, as in execvp and Go. */
                const char *d = dlen == 0 ? "." : dir;
                size_t n = dlen == 0 ? 1 : dlen;
                if (n + 1 + alen < size) {
                        memcpy(buf, d, n);
                        buf[n] = '/';
                        memcpy(buf + n + 1, arg0, alen + 1);
                        if (is_executable(buf))
                                return 0;
                }
                dir = colon != NULL ? colon + 1 : NULL;
        }
        /* runc's wording, which tools and users grep for. */
        gerr_set(err, 0, "exec: \"%s\": executable file not found in $PATH", arg0);
        if (err != NULL && *err != NULL && (*err)->errnum == 0)
                (*err)->errnum = ENOENT;
        return -ENOENT;
}

int rt_exec_resolved(const struct rt_process *p, const char *path, struct gerr **err)
{
        char *empty_env[] = {NULL};
        execve(path, p->args, p->env != NULL ? p->env : empty_env);
        return gerr_set(err, errno, "exec %s", path);
}

int rt_exec_process(const struct rt_process *p, struct gerr **err)
{
        char buf[PATH_MAX];
        int r = rt_exec_lookup(p, buf, sizeof(buf), err);
        if (r < 0)
                return r;
        return rt_exec_resolved(p, buf, err);
}
