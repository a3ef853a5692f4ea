/* gantry cp: Go's path functions and docker's pkg/archive copy rules (CopyInfo,
 * PrepareArchiveCopy), so a copy lands where docker's would. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cp.h"

static char *xstrdup(const char *s)
{
        char *d = strdup(s);
        if (d == NULL)
                abort();
        return d;
}

static char *xasprintf2(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        char *o = malloc(la + lb + 1);
        if (o == NULL)
                abort();
        memcpy(o, a, la);
        memcpy(o + la, b, lb + 1);
        return o;
}

/* Go's path.Clean: lexical, ".." above the root stays at the root. */
char *cp_clean(const char *p)
{
        size_t n = strlen(p);
        if (n == 0)
                return xstrdup(".");
        bool rooted = p[0] == '/';
        char *out = malloc(n + 2), *o = out;
        if (out == NULL)
                abort();
        if (rooted)
                *o++ = '/';
        char *start = o; /* what ".." may not climb over */
        size_t i = rooted ? 1 : 0;
        while (i < n) {
                size_t j = i;
                while (j < n && p[j] != '/')
                        j++;
                size_t len = j - i;
                if (len == 0 || (len == 1 && p[i] == '.')) {
                        /* empty or "." */
                } else if (len == 2 && p[i] == '.' && p[i + 1] == '.') {
                        if (o > start) {
                                while (o > start && o[-1] != '/')
                                        o--;
                                if (o > start)
                                        o--;
                        } else if (!rooted) {
                                if (o > out)
                                        *o++ = '/';
                                *o++ = '.';
                                *o++ = '.';
                                start = o;
                        }
                } else {
                        if (o > out && o[-1] != '/')
                                *o++ = '/';
                        memcpy(o, p + i, len);
                        o += len;
                }
                i = j + 1;
        }
        if (o == out)
                *o++ = '.';
        *o = '\0';
        return out;
}

char *cp_base(const char *p)
{
        size_t n = strlen(p);
        if (n == 0)
                return xstrdup(".");
        while (n > 0 && p[n - 1] == '/')
                n--;
        if (n == 0)
                return xstrdup("/");
        size_t i = n;
        while (i > 0 && p[i - 1] != '/')
                i--;
        return strndup(p + i, n - i);
}

char *cp_dir(const char *p)
{
        const char *slash = strrchr(p, '/');
        if (slash == NULL)
                return xstrdup(".");
        char *head = strndup(p, (size_t)(slash - p) + 1);
        if (head == NULL)
                abort();
        char *d = cp_clean(head);
        free(head);
        return d;
}

char *cp_join(const char *a, const char *b)
{
        if (*a == '\0')
                return cp_clean(b);
        if (*b == '\0')
                return cp_clean(a);
        char *ab = malloc(strlen(a) + strlen(b) + 2);
        if (ab == NULL)
                abort();
        sprintf(ab, "%s/%s", a, b);
        char *c = cp_clean(ab);
        free(ab);
        return c;
}

bool cp_trailing_sep(const char *p)
{
        size_t n = strlen(p);
        return n > 0 && p[n - 1] == '/';
}

bool cp_current_dir(const char *p)
{
        char *b = cp_base(p);
        bool dot = strcmp(b, ".") == 0;
        free(b);
        return dot;
}

void cp_split(const char *p, char **dir, char **base)
{
        char *c = cp_clean(p);
        if (cp_current_dir(p)) {
                char *cd = xasprintf2(c, strcmp(c, "/") == 0 ? "." : "/.");
                free(c);
                c = cd;
        }
        *dir = cp_dir(c);
        *base = cp_base(c);
        free(c);
}

char *cp_preserve_trailing(const char *clean, const char *orig)
{
        char *out = xstrdup(clean);
        if (!cp_current_dir(out) && cp_current_dir(orig)) {
                char *n = xasprintf2(out, cp_trailing_sep(out) ? "." : "/.");
                free(out);
                out = n;
        }
        if (!cp_trailing_sep(out) && cp_trailing_sep(orig)) {
                char *n = xasprintf2(out, "/");
                free(out);
                out = n;
        }
        return out;
}

char *cp_abs(const char *orig)
{
        char *abs;
        if (orig[0] == '/') {
                abs = cp_clean(orig);
        } else {
                char *cwd = getcwd(NULL, 0);
                if (cwd == NULL)
                        return NULL;
                abs = cp_join(cwd, orig);
                free(cwd);
        }
        char *out = cp_preserve_trailing(abs, orig);
        free(abs);
        return out;
}

char *cp_rebase_name(const char *orig, char **resolved)
{
        if (cp_current_dir(orig) && !cp_current_dir(*resolved)) {
                char *n = xasprintf2(*resolved, "/.");
                free(*resolved);
                *resolved = n;
        }
        if (cp_trailing_sep(orig) && !cp_trailing_sep(*resolved)) {
                char *n = xasprintf2(*resolved, "/");
                free(*resolved);
                *resolved = n;
        }
        char *a = cp_base(orig), *b = cp_base(*resolved);
        if (strcmp(a, b) == 0) {
                free(a);
                a = NULL;
        }
        free(b);
        return a;
}

void cp_info_done(struct cp_info *i)
{
        free(i->path);
        free(i->rebase);
        *i = (struct cp_info){0};
}

void cp_plan_done(struct cp_plan *p)
{
        free(p->dir);
        free(p->from);
        free(p->to);
        *p = (struct cp_plan){0};
}

int cp_prepare(const struct cp_info *src, const struct cp_info *dst, struct cp_plan *plan,
               const char **msg)
{
        char *ddir, *dbase, *sdir, *sbase;
        cp_split(dst->path, &ddir, &dbase);
        cp_split(src->path, &sdir, &sbase);
        free(sdir);
        *plan = (struct cp_plan){.from = sbase};
        /* Entries are first renamed to RebaseName (TarResourceRebase, or the CLI's
         * RebaseArchiveEntries of a followed link), then by the copy itself: one rename. */
        if (dst->exists && dst->is_dir) {
                /* Extracted into the directory as they are. */
                plan->dir = xstrdup(dst->path);
                if (src->rebase != NULL)
                        plan->to = xstrdup(src->rebase);
                free(ddir);
                free(dbase);
                return 0;
        }
        if (dst->exists && src->is_dir) {
                *msg = "cannot copy directory";
        } else if (!dst->exists && !src->is_dir &&
                   (cp_trailing_sep(dst->path) || cp_current_dir(dst->path))) {
                *msg = "no such directory";
        } else {
                /* A file onto a file, a directory or a file to a new name: extracted in the
                 * parent, the entries renamed to the destination's name. */
                plan->dir = ddir;
                plan->to = dbase;
                return 0;
        }
        free(ddir);
        free(dbase);
        cp_plan_done(plan);
        return -1;
}
