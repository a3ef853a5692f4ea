/* gantry save: images to docker's archive, or (--format oci) to an OCI image layout archive or
 * directory; a file or directory appears whole or not at all. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cp.h"

struct save_flags {
        const char *output, *format;
};

static int save_opt(int c, const char *arg, void *ud)
{
        struct save_flags *f = ud;
        if (c == 'o')
                f->output = arg;
        else if (c == 'F')
                f->format = arg;
        return 0;
}

/* A directory, or its new temp sibling, of an output path ("a/b/" -> "a", "b"). */
static void split_output(const char *out, char **parent, char **base)
{
        _cleanup_free_ char *p = strdup(out), *b = strdup(out);
        if (p == NULL || b == NULL)
                abort();
        size_t n = strlen(b);
        while (n > 1 && b[n - 1] == '/')
                b[--n] = '\0';
        *parent = strdup(dirname(p));
        *base = strdup(basename(b));
        if (*parent == NULL || *base == NULL)
                abort();
}

/* docker's CopyToFile: a temp file beside the output, renamed over it once complete. */
static int save_file(const char *path, const char *out)
{
        _cleanup_free_ char *parent = NULL, *base = NULL, *tmp = NULL;
        split_output(out, &parent, &base);
        struct stat st;
        if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
                fprintf(stderr, "failed to save image: invalid output path: directory \"%s\" does "
                                "not exist\n", parent);
                return 1;
        }
        if (stat(out, &st) == 0 && S_ISDIR(st.st_mode)) {
                fprintf(stderr, "failed to save image: invalid output path: \"%s\" is a "
                                "directory\n", out);
                return 1;
        }
        cli_appendf(&tmp, "%s/.gantry_temp_XXXXXX", parent);
        int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0) {
                fprintf(stderr, "failed to save image: %s: %m\n", tmp);
                return 1;
        }
        int rc = cli_stream_get(path, fd);
        if (rc == 0 && fsync(fd) < 0) {
                fprintf(stderr, "failed to save image: %s: %m\n", out);
                rc = 1;
        }
        close(fd);
        if (rc == 0 && rename(tmp, out) < 0) {
                fprintf(stderr, "failed to save image: rename %s to %s: %m\n", tmp, out);
                rc = 1;
        }
        if (rc != 0)
                unlink(tmp);
        return rc;
}

/* What an OCI layout directory holds (the daemon writes nothing else): removed on failure. */
static void remove_layout(const char *dir)
{
        _cleanup_free_ char *blobs = NULL, *sha = NULL, *f = NULL;
        cli_appendf(&blobs, "%s/blobs", dir);
        cli_appendf(&sha, "%s/blobs/sha256", dir);
        DIR *d = opendir(sha);
        struct dirent *de;
        while (d != NULL && (de = readdir(d)) != NULL) {
                if (de->d_name[0] == '.')
                        continue;
                _cleanup_free_ char *p = NULL;
                cli_appendf(&p, "%s/%s", sha, de->d_name);
                unlink(p);
        }
        if (d != NULL)
                closedir(d);
        rmdir(sha);
        rmdir(blobs);
        cli_appendf(&f, "%s/index.json", dir);
        unlink(f);
        free(f);
        f = NULL;
        cli_appendf(&f, "%s/oci-layout", dir);
        unlink(f);
        rmdir(dir);
}

static bool empty_dir(const char *dir)
{
        DIR *d = opendir(dir);
        if (d == NULL)
                return false;
        struct dirent *de;
        bool empty = true;
        while (empty && (de = readdir(d)) != NULL)
                empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
        closedir(d);
        return empty;
}

/* tar starts with the first byte of a 200 answer: an error answer leaves it unstarted. */
struct tar_sink {
        const char *dir;
        pid_t pid;
        int fd;
};

static bool to_tar(const char *buf, size_t len, void *ud)
{
        struct tar_sink *t = ud;
        if (t->pid == 0 && (t->pid = cp_tar_extract(t->dir, ".", NULL, &t->fd)) <= 0)
                return false;
        return cli_write_all(t->fd, buf, len) == 0;
}

/* The OCI layout unpacked by tar into a temp directory beside out, renamed to out (new, or an
 * empty directory) once complete. Merging into an existing layout is left to skopeo. */
static int save_dir(const char *path, const char *out)
{
        _cleanup_free_ char *parent = NULL, *base = NULL, *tmp = NULL;
        split_output(out, &parent, &base);
        struct stat st;
        if (stat(out, &st) == 0 && (!S_ISDIR(st.st_mode) || !empty_dir(out))) {
                fprintf(stderr, "failed to save image: invalid output path: \"%s\" is not an empty "
                                "directory (an OCI layout is written to a new or empty one)\n", out);
                return 1;
        }
        cli_appendf(&tmp, "%s/.%s.gantry_temp_XXXXXX", parent, base);
        if (mkdtemp(tmp) == NULL) {
                fprintf(stderr, "failed to save image: %s: %m\n", tmp);
                return 1;
        }
        chmod(tmp, 0755);
        signal(SIGPIPE, SIG_IGN);
        struct tar_sink t = {.dir = tmp, .fd = -1};
        int rc = cli_stream_sink(path, to_tar, &t);
        if (t.fd >= 0)
                close(t.fd);
        if (t.pid > 0 && cp_tar_wait(t.pid) < 0)
                rc = 1;
        if (rc == 0 && t.pid <= 0) {
                fprintf(stderr, "failed to save image: the daemon sent no archive\n");
                rc = 1;
        }
        if (rc == 0 && rename(tmp, out) < 0) {
                fprintf(stderr, "failed to save image: rename %s to %s: %m\n", tmp, out);
                rc = 1;
        }
        if (rc != 0)
                remove_layout(tmp);
        return rc;
}

int cmd_save(int argc, char **argv)
{
        static const struct option lo[] = {{"output", required_argument, NULL, 'o'},
                                           {"format", required_argument, NULL, 'F'},
                                           {0}};
        struct save_flags f = {0};
        int st = 0, first = cli_getopts("save", argc, argv, "o:", lo, save_opt, &f, &st);
        if (first < 0)
                return st;
        if (cli_need_args("save", argc, first, "[OPTIONS] IMAGE [IMAGE...]") < 0)
                return 1;
        bool oci = false;
        if (f.format != NULL && strcmp(f.format, "oci") == 0)
                oci = true;
        else if (f.format != NULL && strcmp(f.format, "docker") != 0) {
                fprintf(stderr, "invalid argument \"%s\" for \"--format\" flag: docker or oci\n"
                                "See 'gantry save --help'.\n", f.format);
                return 125;
        }
        _cleanup_free_ char *path = NULL;
        cli_appendf(&path, "/images/get");
        for (int i = first; i < argc; i++) {
                _cleanup_free_ char *e = cli_escape(argv[i]);
                cli_appendf(&path, "%cnames=%s", i == first ? '?' : '&', e);
        }
        /* A gantry extension of /images/get: dockerd has no format parameter. */
        if (oci)
                cli_appendf(&path, "&format=oci");
        if (f.output == NULL) {
                if (isatty(STDOUT_FILENO)) {
                        fprintf(stderr, "cowardly refusing to save to a terminal. Use the -o flag "
                                        "or redirect\n");
                        return 1;
                }
                return cli_stream_get(path, STDOUT_FILENO);
        }
        struct stat sb;
        size_t n = strlen(f.output);
        if (oci && ((n > 0 && f.output[n - 1] == '/') ||
                    (stat(f.output, &sb) == 0 && S_ISDIR(sb.st_mode))))
                return save_dir(path, f.output);
        return save_file(path, f.output);
}
