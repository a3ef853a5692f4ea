/* Compiled seccomp programs cached on disk, so a start with a known profile skips libseccomp. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/filter.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "runtime/seccomp_cache.h"

/* Bump when rt_seccomp_build compiles the same profile differently (attributes, rule order). */
#define KEY_FORMAT 1
#define FILE_MAGIC "GSECBPF1"

struct file_header {
        char magic[8];
        uint32_t key_len;
        uint32_t n_insns;
};

static void put_str(FILE *f, const char *s)
{
        fprintf(f, "%zu:%s\n", strlen(s), s);
}

static void put_strv(FILE *f, const char *tag, char *const *v)
{
        size_t n = 0;
        while (v != NULL && v[n] != NULL)
                n++;
        fprintf(f, "%s %zu\n", tag, n);
        for (size_t i = 0; i < n; i++)
                put_str(f, v[i]);
}

static void put_action(FILE *f, const char *tag, uint32_t action, const struct opt_i64 *errno_ret)
{
        fprintf(f, "%s %" PRIx32 " %d %" PRId64 "\n", tag, action, errno_ret->set,
                errno_ret->set ? errno_ret->v : 0);
}

/* Strings carry their length, lists their count: two different profiles never give one text. */
char *rt_seccomp_cache_key(const struct rt_seccomp *sc, size_t *len)
{
        char *buf = NULL;
        size_t n = 0;
        FILE *f = open_memstream(&buf, &n);
        if (f == NULL)
                return NULL;
        const struct scmp_version *v = seccomp_version();
        /* libseccomp probes the kernel's seccomp API level (which actions and flags it has). */
        struct utsname u = { 0 };
        (void)uname(&u);
        fprintf(f, "gantry-seccomp %d\nlibseccomp %u.%u.%u\n", KEY_FORMAT, v->major, v->minor,
                v->micro);
        put_str(f, u.release);
        put_str(f, u.version);
        put_str(f, u.machine);
        put_action(f, "default", sc->default_action, &sc->default_errno_ret);
        put_strv(f, "archs", sc->architectures);
        put_strv(f, "flags", sc->flags);
        fprintf(f, "rules %zu\n", sc->n_rules);
        for (size_t i = 0; i < sc->n_rules; i++) {
                const struct rt_seccomp_rule *r = &sc->rules[i];
                put_action(f, "rule", r->action, &r->errno_ret);
                put_strv(f, "names", r->names);
                fprintf(f, "args %zu\n", r->n_args);
                for (size_t j = 0; j < r->n_args; j++)
                        fprintf(f, "arg %u %" PRIx64 " %" PRIx64 " %d\n", r->args[j].index,
                                r->args[j].value, r->args[j].value_two, r->args[j].op);
        }
        bool bad = ferror(f);
        if (fclose(f) != 0 || bad) {
                free(buf);
                return NULL;
        }
        *len = n;
        return buf;
}

void rt_seccomp_cache_name(const char *key, size_t len, char name[static 21])
{
        uint64_t h = 0xcbf29ce484222325ULL;
        for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)key[i];
                h *= 0x100000001b3ULL;
        }
        snprintf(name, 21, "%016" PRIx64 ".bpf", h);
}

/* A program in this directory is loaded into containers: only a directory and files that
 * nobody but us can write are trusted. */
static bool ours(int fd, bool dir)
{
        struct stat st;
        if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) != 0)
                return false;
        return dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode);
}

static int open_dir(const char *state_root, bool create)
{
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/" RT_SECCOMP_CACHE_DIR, state_root) < 0)
                return -ENOMEM;
        if (create && mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        if (!ours(dfd, true))
                return -EPERM;
        return TAKE_FD(dfd);
}

static int read_all(int fd, void *buf, size_t size)
{
        size_t done = 0;
        while (done < size) {
                ssize_t n = read(fd, (char *)buf + done, size - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EINVAL;
                done += (size_t)n;
        }
        return 0;
}

int rt_seccomp_cache_read(const char *state_root, const char *key, size_t len,
                          struct rt_seccomp_prog *p)
{
        _cleanup_close_ int dfd = open_dir(state_root, false);
        if (dfd < 0)
                return dfd;
        char name[21];
        rt_seccomp_cache_name(key, len, name);
        _cleanup_close_ int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct stat st;
        if (!ours(fd, false) || fstat(fd, &st) < 0)
                return -EPERM;
        size_t want_max = sizeof(struct file_header) + len + BPF_MAXINSNS * sizeof(struct sock_filter);
        if (st.st_size < (off_t)sizeof(struct file_header) || (size_t)st.st_size > want_max)
                return -EINVAL;
        size_t size = (size_t)st.st_size;
        _cleanup_free_ char *buf = malloc(size);
        if (buf == NULL)
                return -ENOMEM;
        int r = read_all(fd, buf, size);
        if (r < 0)
                return r;
        struct file_header h;
        memcpy(&h, buf, sizeof(h));
        if (memcmp(h.magic, FILE_MAGIC, sizeof(h.magic)) != 0 || h.key_len != len ||
            h.n_insns < 1 || h.n_insns > BPF_MAXINSNS ||
            size != sizeof(h) + len + h.n_insns * sizeof(struct sock_filter))
                return -EINVAL;
        /* The name is only a hash: the stored key decides whether this is our program. */
        if (memcmp(buf + sizeof(h), key, len) != 0)
                return -EINVAL;
        size_t bytes = h.n_insns * sizeof(struct sock_filter);
        p->insns = malloc(bytes);
        if (p->insns == NULL)
                return -ENOMEM;
        memcpy(p->insns, buf + sizeof(h) + len, bytes);
        p->len = (unsigned short)h.n_insns;
        return 0;
}

int rt_seccomp_cache_write(const char *state_root, const char *key, size_t len,
                           const struct rt_seccomp_prog *p)
{
        if (len > UINT32_MAX || p->len < 1 || p->len > BPF_MAXINSNS)
                return -EINVAL;
        _cleanup_close_ int dfd = open_dir(state_root, true);
        if (dfd < 0)
                return dfd;
        char name[21], tmp[PATH_MAX];
        rt_seccomp_cache_name(key, len, name);
        int n = snprintf(tmp, sizeof(tmp), "%s/" RT_SECCOMP_CACHE_DIR "/.%s.XXXXXX", state_root,
                         name);
        if (n < 0 || (size_t)n >= sizeof(tmp))
                return -ENAMETOOLONG;
        /* mkostemp makes the file 0600; others see the name only once it is complete. */
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        struct file_header h = { .key_len = (uint32_t)len, .n_insns = p->len };
        memcpy(h.magic, FILE_MAGIC, sizeof(h.magic));
        size_t bytes = p->len * sizeof(struct sock_filter);
        struct iovec iov[] = {
                { &h, sizeof(h) },
                { (void *)key, len },
                { p->insns, bytes },
        };
        ssize_t w = writev(fd, iov, 3);
        int r = 0;
        if (w < 0)
                r = -errno;
        else if ((size_t)w != sizeof(h) + len + bytes)
                r = -ENOSPC;
        else if (renameat(AT_FDCWD, tmp, dfd, name) < 0)
                r = -errno;
        if (r < 0)
                unlink(tmp);
        return r;
}
