/* gantry cp: docker's copyFromContainer and copyToContainer (the local side's checks, its messages,
 * the archive's renaming) over the daemon's /containers/{id}/archive. */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "cp.h"

/* Go's os.FileMode bits the daemon's stat carries. */
#define GO_DIR (1ul << 31)
#define GO_SYMLINK (1ul << 27)
#define GO_DEVICE (1ul << 26)
#define GO_IRREGULAR (1ul << 19)

/* Go's text of an errno ("no such file or directory"): glibc's with a lower-case start. */
static const char *go_err(int e)
{
        static char buf[128];
        snprintf(buf, sizeof(buf), "%s", strerror(e));
        if (buf[0] >= 'A' && buf[0] <= 'Z' && (buf[1] < 'A' || buf[1] > 'Z'))
                buf[0] = (char)(buf[0] - 'A' + 'a');
        return buf;
}

/* Go's %q of a path, for the messages docker quotes with it. */
static const char *go_q(const char *s, char *buf, size_t n)
{
        size_t o = 0;
        buf[o++] = '"';
        for (; *s && o + 6 < n; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\') {
                        buf[o++] = '\\';
                        buf[o++] = (char)c;
                } else if (c < 0x20 || c == 0x7f) {
                        o += (size_t)snprintf(buf + o, n - o, "\\x%02x", c);
                } else {
                        buf[o++] = (char)c;
                }
        }
        buf[o++] = '"';
        buf[o] = '\0';
        return buf;
}

static char *archive_path(const char *ctr, const char *p)
{
        _cleanup_free_ char *ec = cli_escape(ctr), *ep = cli_escape(p);
        char *out = NULL;
        if (asprintf(&out, "/containers/%s/archive?path=%s", ec, ep) < 0)
                abort();
        return out;
}

/* ---- the container side: HEAD /containers/{id}/archive ---- */

struct ctr_stat {
        unsigned long mode;
        char *link;
};

static int b64_val(char c)
{
        static const char tab[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = c ? strchr(tab, c) : NULL;
        return p ? (int)(p - tab) : -1;
}

/* X-Docker-Container-Path-Stat: base64 of {"name","size","mode","mtime","linkTarget"}. */
static int parse_stat(const struct cli_resp *r, struct ctr_stat *st)
{
        _cleanup_free_ char *h = cli_resp_header(r, "X-Docker-Container-Path-Stat");
        if (h == NULL)
                return -1;
        size_t n = strlen(h), o = 0;
        _cleanup_free_ char *text = malloc(n + 1);
        unsigned acc = 0;
        int bits = 0;
        for (size_t i = 0; i < n && h[i] != '='; i++) {
                int v = b64_val(h[i]);
                if (v < 0)
                        return -1;
                acc = acc << 6 | (unsigned)v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        text[o++] = (char)(acc >> bits & 0xff);
                }
        }
        json_error_t je;
        _cleanup_jsonp_ json_t *j = json_loadb(text, o, 0, &je);
        if (!json_is_integer(json_object_get(j, "mode")))
                return -1;
        st->mode = (unsigned long)json_integer_value(json_object_get(j, "mode"));
        const char *l = json_string_value(json_object_get(j, "linkTarget"));
        st->link = strdup(l ? l : "");
        return 0;
}

/* docker's ContainerStatPath: -1 for any failure (callers go on without it, as docker does). */
static int stat_path(const char *ctr, const char *path, struct ctr_stat *st)
{
        _cleanup_free_ char *url = archive_path(ctr, path);
        struct cli_req req = {.method = "HEAD", .path = url, .upload_fd = -1};
        struct cli_resp r;
        if (cli_do(&req, &r) < 0)
                return -1;
        int rc = r.status == 200 ? parse_stat(&r, st) : -1;
        cli_resp_free(&r);
        return rc;
}

/* A link target the daemon reported, made absolute against path's parent. */
static char *link_path(const char *path, const char *link)
{
        if (link[0] == '/')
                return strdup(link);
        _cleanup_free_ char *dir = NULL, *base = NULL;
        cp_split(path, &dir, &base);
        return cp_join(dir, link);
}

/* ---- the local side: what os.Stat, filepath.EvalSymlinks and friends say in Go ---- */

/* filepath.EvalSymlinks: realpath, and on failure Go's message for the part that failed. */
static char *eval_symlinks(const char *path)
{
        char *r = realpath(path, NULL);
        if (r != NULL)
                return r;
        int e = errno;
        if (e == ELOOP) {
                fprintf(stderr, "EvalSymlinks: too many links\n");
                return NULL;
        }
        _cleanup_free_ char *prefix = malloc(strlen(path) + 2);
        size_t len = 0;
        const char *p = path;
        while (*p) {
                while (*p == '/')
                        p++;
                const char *end = strchrnul(p, '/');
                if (end == p)
                        break;
                if (end - p == 1 && p[0] == '.') {
                        p = end;
                        continue;
                }
                prefix[len++] = '/';
                memcpy(prefix + len, p, (size_t)(end - p));
                len += (size_t)(end - p);
                prefix[len] = '\0';
                p = end;
                struct stat st;
                if (lstat(prefix, &st) < 0 || (S_ISLNK(st.st_mode) && stat(prefix, &st) < 0)) {
                        if (errno == ENOTDIR)
                                fprintf(stderr, "not a directory\n");
                        else
                                fprintf(stderr, "lstat %s: %s\n", prefix, go_err(errno));
                        return NULL;
                }
                if (!S_ISDIR(st.st_mode) && *p != '\0') {
                        fprintf(stderr, "not a directory\n");
                        return NULL;
                }
        }
        fprintf(stderr, "lstat %s: %s\n", path, go_err(e));
        return NULL;
}

/* docker's ValidateOutputPath (cli/command/utils.go). */
static int validate_output_path(const char *path)
{
        _cleanup_free_ char *clean = cp_clean(path);
        _cleanup_free_ char *dir = cp_dir(clean);
        struct stat st;
        char q[PATH_MAX * 2];
        if (strcmp(dir, ".") != 0 && stat(dir, &st) < 0 && errno == ENOENT) {
                fprintf(stderr, "invalid output path: directory %s does not exist\n",
                        go_q(dir, q, sizeof(q)));
                return -1;
        }
        if (stat(path, &st) < 0) {
                if (errno == ENOENT)
                        return 0;
                fprintf(stderr, "stat %s: %s\n", path, go_err(errno));
                return -1;
        }
        if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) {
                fprintf(stderr,
                        "invalid output path: %s must be a directory or a regular file: got a "
                        "device\n",
                        go_q(path, q, sizeof(q)));
                return -1;
        }
        return 0;
}

/* docker's CopyInfoDestinationPath: a symlink at path is followed (to 10 levels); a missing
 * path needs an existing parent directory. */
static int dest_info(const char *orig, struct cp_info *info)
{
        char *path = strdup(orig);
        struct stat st;
        int r = lstat(path, &st);
        for (int n = 0; r == 0 && S_ISLNK(st.st_mode); n++) {
                if (n > 10) {
                        fprintf(stderr, "too many symlinks in %s\n", orig);
                        free(path);
                        return -1;
                }
                char target[PATH_MAX];
                ssize_t len = readlink(path, target, sizeof(target) - 1);
                if (len < 0) {
                        fprintf(stderr, "readlink %s: %s\n", path, go_err(errno));
                        free(path);
                        return -1;
                }
                target[len] = '\0';
                char *next = link_path(path, target);
                free(path);
                path = next;
                r = lstat(path, &st);
        }
        *info = (struct cp_info){.path = path};
        if (r == 0) {
                info->exists = true;
                info->is_dir = S_ISDIR(st.st_mode);
                return 0;
        }
        if (errno != ENOENT) {
                fprintf(stderr, "lstat %s: %s\n", path, go_err(errno));
                cp_info_done(info);
                return -1;
        }
        _cleanup_free_ char *parent = NULL, *base = NULL;
        cp_split(path, &parent, &base);
        if (stat(parent, &st) < 0) {
                fprintf(stderr, "stat %s: %s\n", parent, go_err(errno));
        } else if (!S_ISDIR(st.st_mode)) {
                fprintf(stderr, "not a directory\n");
        } else {
                return 0;
        }
        cp_info_done(info);
        return -1;
}

/* docker's CopyInfoSourcePath: symlinks before the last element resolved (all of them with
 * -L, the entries then named as the link was). */
static int source_info(const char *path, bool follow, struct cp_info *info)
{
        *info = (struct cp_info){0};
        char *resolved;
        if (follow) {
                resolved = eval_symlinks(path);
                if (resolved == NULL)
                        return -1;
                info->rebase = cp_rebase_name(path, &resolved);
        } else {
                const char *slash = strrchr(path, '/');
                _cleanup_free_ char *dir = strndup(path, (size_t)(slash - path) + 1);
                _cleanup_free_ char *rdir = eval_symlinks(dir);
                if (rdir == NULL)
                        return -1;
                if (asprintf(&resolved, "%s/%s", rdir, slash + 1) < 0)
                        abort();
                _cleanup_free_ char *a = cp_base(path), *b = cp_base(resolved);
                if (cp_trailing_sep(path) && strcmp(a, b) != 0)
                        info->rebase = strdup(a);
        }
        info->path = resolved;
        struct stat st;
        if (lstat(resolved, &st) < 0) {
                fprintf(stderr, "lstat %s: %s\n", resolved, go_err(errno));
                cp_info_done(info);
                return -1;
        }
        info->exists = true;
        info->is_dir = S_ISDIR(st.st_mode);
        return 0;
}

/* The first entry meets what is already at its place: docker's NoOverwriteDirNonDir refusal
 * (GNU tar would replace the one with the other). Deeper entries are left to tar. */
static int check_overwrite(const struct cp_plan *plan, bool src_is_dir)
{
        const char *name = plan->to ? plan->to : plan->from;
        if (strcmp(name, ".") == 0 || strcmp(name, "/") == 0)
                return 0;
        _cleanup_free_ char *path = cp_join(plan->dir, name);
        struct stat st;
        if (lstat(path, &st) < 0 || S_ISDIR(st.st_mode) == src_is_dir)
                return 0;
        _cleanup_free_ char *dir = cp_clean(plan->dir); /* Untar cleans its dest */
        char q1[PATH_MAX * 2], q2[PATH_MAX * 2];
        fprintf(stderr, "cannot overwrite %s %s with %s %s\n",
                src_is_dir ? "non-directory" : "directory", go_q(path, q1, sizeof(q1)),
                src_is_dir ? "directory" : "non-directory", go_q(dir, q2, sizeof(q2)));
        return -1;
}

/* ---- container to local ---- */

struct from_ctx {
        struct cli_resp *resp;
        const char *src, *dst; /* dst: absolute, NULL for stdout */
        char *rebase;
        int fd;
        pid_t tar;
        bool failed;
};

/* At the first body byte (the head with the stat is in): docker's CopyTo checks, then tar. */
static int from_begin(struct from_ctx *c)
{
        struct ctr_stat st = {0};
        if (parse_stat(c->resp, &st) < 0) {
                fprintf(stderr, "gantry cp: the daemon sent no path stat\n");
                return -1;
        }
        free(st.link);
        struct cp_info src = {.path = strdup(c->src),
                              .exists = true,
                              .is_dir = (st.mode & GO_DIR) != 0,
                              .rebase = c->rebase ? strdup(c->rebase) : NULL};
        struct cp_info dst;
        struct cp_plan plan;
        const char *msg = NULL;
        int rc = dest_info(c->dst, &dst);
        if (rc == 0) {
                rc = cp_prepare(&src, &dst, &plan, &msg);
                if (rc < 0)
                        fprintf(stderr, "%s\n", msg);
                cp_info_done(&dst);
        }
        if (rc == 0) {
                rc = check_overwrite(&plan, src.is_dir);
                if (rc == 0) {
                        c->tar = cp_tar_extract(plan.dir, plan.from, plan.to, &c->fd);
                        rc = c->tar < 0 ? -1 : 0;
                }
                cp_plan_done(&plan);
        }
        cp_info_done(&src);
        return rc;
}

static bool from_sink(const char *buf, size_t len, void *ud)
{
        struct from_ctx *c = ud;
        if (c->dst != NULL && c->tar == 0 && from_begin(c) < 0) {
                c->failed = true;
                return false;
        }
        /* A write error is tar gone: its status says why. */
        return cli_write_all(c->fd, buf, len) == 0;
}

int cp_from_container(const char *ctr, const char *src, const char *dst, const struct cp_opts *o)
{
        _cleanup_free_ char *adst = NULL, *srcpath = strdup(src);
        if (strcmp(dst, "-") != 0) {
                adst = cp_abs(dst);
                if (adst == NULL) {
                        fprintf(stderr, "getwd: %s\n", go_err(errno));
                        return 1;
                }
                if (validate_output_path(adst) < 0)
                        return 1;
        }
        struct from_ctx c = {.src = NULL, .dst = adst, .fd = STDOUT_FILENO};
        struct ctr_stat st;
        if (o->follow && stat_path(ctr, src, &st) == 0) {
                if (st.mode & GO_SYMLINK) {
                        char *target = link_path(src, st.link);
                        c.rebase = cp_rebase_name(src, &target);
                        free(srcpath);
                        srcpath = target;
                }
                free(st.link);
        }
        c.src = srcpath;
        signal(SIGPIPE, SIG_IGN);
        _cleanup_free_ char *url = archive_path(ctr, srcpath);
        struct cli_resp r;
        c.resp = &r;
        struct cli_req req = {
            .method = "GET", .path = url, .upload_fd = -1, .sink = from_sink, .sink_ud = &c};
        int rc = cli_do(&req, &r) < 0 ? 1 : 0;
        if (rc == 0 && r.status != 200) {
                cli_print_daemon_error(NULL, &r);
                rc = 1;
        } else if (rc == 0 && adst != NULL && c.tar == 0 && !c.failed && from_begin(&c) < 0) {
                rc = 1; /* no body at all: the checks still say what docker's would */
        }
        if (c.failed)
                rc = 1;
        if (c.tar > 0) {
                close(c.fd);
                if (cp_tar_wait(c.tar) < 0)
                        rc = 1;
        }
        free(c.rebase);
        cli_resp_free(&r);
        return rc;
}

/* ---- local to container ---- */

struct to_ctx {
        pid_t tar;
};

static int to_end(void *ud)
{
        struct to_ctx *c = ud;
        pid_t pid = c->tar;
        c->tar = 0;
        return cp_tar_wait(pid);
}

static int put_archive(const char *ctr, const char *dir, int fd, const struct cp_opts *o,
                       struct to_ctx *c)
{
        _cleanup_free_ char *base = archive_path(ctr, dir);
        _cleanup_free_ char *url = NULL;
        if (asprintf(&url, "%s&noOverwriteDirNonDir=true%s", base,
                     o->copy_uid_gid ? "&copyUIDGID=true" : "") < 0)
                abort();
        struct cli_req req = {.method = "PUT",
                              .path = url,
                              .ctype = "application/x-tar",
                              .upload_fd = fd,
                              .upload_end = c ? to_end : NULL,
                              .upload_ud = c};
        struct cli_resp r;
        if (cli_do(&req, &r) < 0)
                return 1;
        int rc = 0;
        if (r.status != 200) {
                cli_print_daemon_error(NULL, &r);
                rc = 1;
        }
        cli_resp_free(&r);
        return rc;
}

int cp_to_container(const char *src, const char *ctr, const char *dst, const struct cp_opts *o)
{
        _cleanup_free_ char *asrc = NULL;
        if (strcmp(src, "-") != 0 && (asrc = cp_abs(src)) == NULL) {
                fprintf(stderr, "getwd: %s\n", go_err(errno));
                return 1;
        }
        if (cli_negotiate() < 0)
                return 1;
        /* The destination as the daemon sees it; a failed stat is no error (the parent may
         * still exist, as docker reasons). */
        struct cp_info dinfo = {.path = strdup(dst)};
        struct ctr_stat st;
        int ok = stat_path(ctr, dst, &st);
        if (ok == 0 && (st.mode & GO_SYMLINK)) {
                free(dinfo.path);
                dinfo.path = link_path(dst, st.link);
                free(st.link);
                ok = stat_path(ctr, dinfo.path, &st);
        }
        if (ok == 0) {
                free(st.link);
                const char *why = st.mode & GO_DEVICE      ? "got a device"
                                  : st.mode & GO_IRREGULAR ? "got an irregular file"
                                                           : NULL;
                if (why != NULL) {
                        fprintf(stderr,
                                "destination \"%s:%s\" must be a directory or a regular file: "
                                "%s\n",
                                ctr, dst, why);
                        cp_info_done(&dinfo);
                        return 1;
                }
                dinfo.exists = true;
                dinfo.is_dir = (st.mode & GO_DIR) != 0;
        }
        int rc;
        if (asrc == NULL) {
                if (!dinfo.is_dir) {
                        fprintf(stderr, "destination \"%s:%s\" must be a directory\n", ctr, dst);
                        rc = 1;
                } else {
                        rc = put_archive(ctr, dinfo.path, STDIN_FILENO, o, NULL);
                }
                cp_info_done(&dinfo);
                return rc;
        }
        struct cp_info sinfo;
        struct cp_plan plan;
        const char *msg = NULL;
        if (source_info(asrc, o->follow, &sinfo) < 0) {
                cp_info_done(&dinfo);
                return 1;
        }
        rc = cp_prepare(&sinfo, &dinfo, &plan, &msg);
        cp_info_done(&dinfo);
        if (rc < 0) {
                fprintf(stderr, "%s\n", msg);
                cp_info_done(&sinfo);
                return 1;
        }
        _cleanup_free_ char *sdir = NULL, *sbase = NULL;
        cp_split(sinfo.path, &sdir, &sbase);
        signal(SIGPIPE, SIG_IGN);
        int fd = -1;
        struct to_ctx c = {.tar = cp_tar_create(sdir, sbase, plan.to, &fd)};
        cp_info_done(&sinfo);
        if (c.tar < 0) {
                cp_plan_done(&plan);
                return 1;
        }
        /* Extracted in the plan's directory (PrepareArchiveCopy's dstDir). */
        rc = put_archive(ctr, plan.dir, fd, o, &c);
        cp_plan_done(&plan);
        close(fd);
        /* Still running when the daemon answered before the end: the closed pipe stops it. */
        if (c.tar > 0)
                cp_tar_wait(c.tar);
        return rc;
}
