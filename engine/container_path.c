/* dockerd's rules for paths in a container: Go's Clean, the kept trailing "/" or "/.", symlinks
 * followed in scope. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "engine/engine_internal.h"

char *eng_path_clean(const char *path)
{
        size_t n = strlen(path);
        char *out = malloc(n + 2);
        if (out == NULL)
                return NULL;
        size_t len = 0;
        const char *p = path;
        while (*p != '\0') {
                while (*p == '/')
                        p++;
                const char *end = strchrnul(p, '/');
                size_t k = (size_t)(end - p);
                if (k == 2 && p[0] == '.' && p[1] == '.') {
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--; /* the slash; ".." of "/" stays "/" */
                } else if (k > 0 && !(k == 1 && p[0] == '.')) {
                        out[len++] = '/';
                        memcpy(out + len, p, k);
                        len += k;
                }
                p = end;
        }
        if (len == 0)
                out[len++] = '/';
        out[len] = '\0';
        return out;
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t a = strlen(s), b = strlen(suffix);
        return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Go's filepath.Base(p) == "." */
static bool names_current_dir(const char *p)
{
        size_t n = strlen(p);
        while (n > 1 && p[n - 1] == '/')
                n--;
        return (n == 1 && p[0] == '.') || (n >= 2 && p[n - 1] == '.' && p[n - 2] == '/');
}

char *eng_path_abs(const char *path)
{
        _cleanup_free_ char *clean = eng_path_clean(path);
        if (clean == NULL)
                return NULL;
        char *out = malloc(strlen(clean) + 3);
        if (out == NULL)
                return NULL;
        strcpy(out, clean);
        /* archive.PreserveTrailingDotOrSeparator */
        if (!names_current_dir(out) && names_current_dir(path)) {
                if (!ends_with(out, "/"))
                        strcat(out, "/");
                strcat(out, ".");
        }
        if (!ends_with(out, "/") && ends_with(path, "/"))
                strcat(out, "/");
        return out;
}

char *eng_path_base(const char *p)
{
        size_t n = strlen(p);
        while (n > 0 && p[n - 1] == '/')
                n--;
        if (n == 0)
                return strdup(*p ? "/" : ".");
        size_t start = n;
        while (start > 0 && p[start - 1] != '/')
                start--;
        return strndup(p + start, n - start);
}

int eng_path_resolve(int rootfd, const char *path, char **out)
{
        _cleanup_free_ char *rest = strdup(path);
        _cleanup_free_ char *res = calloc(1, strlen(path) + 2);
        if (rest == NULL || res == NULL)
                return -ENOMEM;
        size_t cap = strlen(path) + 2, len = 0;
        int links = 0;
        char *p = rest;
        for (;;) {
                while (*p == '/')
                        p++;
                if (*p == '\0')
                        break;
                char *end = strchrnul(p, '/');
                size_t k = (size_t)(end - p);
                char *next = *end ? end + 1 : end;
                if (k == 1 && p[0] == '.') {
                        p = next;
                        continue;
                }
                if (k == 2 && p[0] == '.' && p[1] == '.') {
                        while (len > 0 && res[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                        res[len] = '\0';
                        p = next;
                        continue;
                }
                if (len + k + 2 > cap) {
                        cap = (len + k + 2) * 2;
                        char *nr = realloc(res, cap);
                        if (nr == NULL)
                                return -ENOMEM;
                        res = nr;
                }
                size_t before = len;
                res[len++] = '/';
                memcpy(res + len, p, k);
                len += k;
                res[len] = '\0';
                /* res had every symlink resolved already: one more component to look at. */
                _cleanup_close_ int fd = fs_open_in_root(rootfd, res, O_PATH | O_NOFOLLOW, 0);
                if (fd == -ENOENT) {
                        p = next;
                        continue; /* kept as written, like FollowSymlinkInScope */
                }
                if (fd < 0)
                        return fd;
                struct stat st;
                if (fstatat(fd, "", &st, AT_EMPTY_PATH) < 0)
                        return -errno;
                if (!S_ISLNK(st.st_mode)) {
                        p = next;
                        continue;
                }
                if (++links > 255)
                        return -ELOOP;
                char target[4096];
                ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
                if (n < 0)
                        return -errno;
                target[n] = '\0';
                len = target[0] == '/' ? 0 : before;
                res[len] = '\0';
                char *joined = NULL;
                if (asprintf(&joined, "%s/%s", target, next) < 0)
                        return -ENOMEM;
                free(rest);
                rest = joined;
                p = rest;
        }
        if (len == 0)
                strcpy(res, "/");
        *out = TAKE_PTR(res);
        return 0;
}
