/* Compiled seccomp programs cached on disk, so a start with a known profile skips libseccomp. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
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

/* The key text grows here; oom sticks once an allocation failed. */
struct key_buf {
        char *p;
        size_t len, cap;
        bool oom;
};

static bool reserve(struct key_buf *b, size_t more)
{
        if (b->oom)
                return false;
        if (b->len + more + 1 <= b->cap)
                return true;
        size_t cap = b->cap ? b->cap : 2048;
        while (cap < b->len + more + 1)
                cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
                b->oom = true;
                return false;
        }
        b->p = p;
        b->cap = cap;
        return true;
}

__attribute__((format(printf, 2, 3))) static void put_fmt(struct key_buf *b, const char *fmt, ...)
{
        char tmp[128];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
        va_end(ap);
        /* Only numbers go through here: they always fit. */
        if (n < 0 || (size_t)n >= sizeof(tmp))
                b->oom = true;
        else if (reserve(b, (size_t)n)) {
                memcpy(b->p + b->len, tmp, (size_t)n + 1);
                b->len += (size_t)n;
        }
}

static void put_str(struct key_buf *b, const char *s)
{
        size_t n = strlen(s);
        put_fmt(b, "%zu:", n);
        if (reserve(b, n + 1)) {
                memcpy(b->p + b->len, s, n);
                b->p[b->len + n] = '\n';
                b->len += n + 1;
        }
}

static void put_strv(struct key_buf *b, const char *tag, char *const *v)
{
        size_t n = 0;
        while (v != NULL && v[n] != NULL)
                n++;
        put_fmt(b, "%s %zu\n", tag, n);
        for (size_t i = 0; i < n; i++)
                put_str(b, v[i]);
}

static void put_action(struct key_buf *b, const char *tag, uint32_t action,
                       const struct opt_i64 *errno_ret)
{
        put_fmt(b, "%s %" PRIx32 " %d %" PRId64 "\n", tag, action, errno_ret->set,
                errno_ret->set ? errno_ret->v : 0);
}

/* Strings carry their length, lists their count: two different profiles never give one text. */
char *rt_seccomp_cache_key(const struct rt_seccomp *sc, size_t *len)
{
        struct key_buf b = { 0 };
        const struct scmp_version *v = seccomp_version();
        /* libseccomp probes the kernel's seccomp API level (which actions and flags it has). */
        struct utsname u = { 0 };
        (void)uname(&u);
        put_fmt(&b, "gantry-seccomp %d\nlibseccomp %u.%u.%u\n", KEY_FORMAT, v->major, v->minor,
                v->micro);
        put_str(&b, u.release);
        put_str(&b, u.version);
        put_str(&b, u.machine);
        put_action(&b, "default", sc->default_action, &sc->default_errno_ret);
        put_strv(&b, "archs", sc->architectures);
        put_strv(&b, "flags", sc->flags);
        put_fmt(&b, "rules %zu\n", sc->n_rules);
        for (size_t i = 0; i < sc->n_rules; i++) {
                const struct rt_seccomp_rule *r = &sc->rules[i];
                put_action(&b, "rule", r->action, &r->errno_ret);
                put_strv(&b, "names", r->names);
                put_fmt(&b, "args %zu\n", r->n_args);
                for (size_t j = 0; j < r->n_args; j++)
                        put_fmt(&b, "arg %u %" PRIx64 " %" PRIx64 " %d\n", r->args[j].index,
                                r->args[j].value, r->args[j].value_two, r->args[j].op);
        }
        if (b.oom) {
                free(b.p);
                return NULL;
        }
        *len = b.len;
        return b.p;
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
static bool ours(int fd, bool dir, struct stat *st)
{
        if (fstat(fd, st) < 0 || st->st_uid != geteuid() || (st->st_mode & 022) != 0)
                return false;
        return dir ? S_ISDIR(st->st_mode) : S_ISREG(st->st_mode);
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
        struct stat st;
        if (!ours(dfd, true, &st))
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
        if (!ours(fd, false, &st))
                return -EPERM;
        size_t most = sizeof(struct file_header) + len + BPF_MAXINSNS * sizeof(struct sock_filter);
        if (st.st_size < (off_t)sizeof(struct file_header) || (size_t)st.st_size > most)
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
