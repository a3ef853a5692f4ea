/* execve of process.args[0], searched in the PATH of the container's environment (not ours). */
#include <errno.h>
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
                /* Let execve report a missing or unusable file with its own errno. */
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
