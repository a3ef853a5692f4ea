/* The json-file log: Docker's line format, its escaping (Go's encoding/json) and rotation. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/gantry-shim/shim.h"
#include "common/log.h"
#include "common/timefmt.h"

#define PART_MAX 16384

int jsonlog_open(struct jsonlog *l, const char *path, long max_size, int max_files)
{
        memset(l, 0, sizeof(*l));
        l->path = path;
        l->max_size = max_size;
        l->max_files = max_files < 1 ? 1 : max_files;
        l->fd = -1;
        if (path == NULL) /* the "none" log driver: output is dropped */
                return 0;
        l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
        if (l->fd < 0)
                return -errno;
        struct stat st;
        if (fstat(l->fd, &st) == 0)
                l->size = (long)st.st_size;
        return 0;
}

static int reserve(struct jsonlog *l, size_t more)
{
        if (l->len + more <= l->cap)
                return 0;
        size_t cap = l->cap ? l->cap : 4096;
        while (cap < l->len + more)
                cap *= 2;
        char *b = realloc(l->buf, cap);
        if (b == NULL)
                return -ENOMEM;
        l->buf = b;
        l->cap = cap;
        return 0;
}

static void put(struct jsonlog *l, const char *s, size_t n)
{
        memcpy(l->buf + l->len, s, n);
        l->len += n;
}

/* Length of a valid UTF-8 sequence at s, 0 if invalid (RFC 3629 table). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
        unsigned char c = s[0];
        size_t want;
        unsigned char lo = 0x80, hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf)
                want = 2;
        else if (c >= 0xe0 && c <= 0xef) {
                want = 3;
                if (c == 0xe0)
                        lo = 0xa0;
                else if (c == 0xed)
                        hi = 0x9f;
        } else if (c >= 0xf0 && c <= 0xf4) {
                want = 4;
                if (c == 0xf0)
                        lo = 0x90;
                else if (c == 0xf4)
                        hi = 0x8f;
        } else
                return 0;
        if (n < want || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < want; i++)
                if (s[i] < 0x80 || s[i] > 0xbf)
                        return 0;
        return want;
}

/* Go's encoder: \" \\ \n \r \t, other controls and <>& as \u00XX, bad UTF-8 as U+FFFD. */
static void put_escaped(struct jsonlog *l, const unsigned char *s, size_t n)
{
        static const char hex[] = "0123456789abcdef";
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                if (c >= 0x80) {
                        size_t k = utf8_len(s + i, n - i);
                        if (k == 0) {
                                put(l, "\\ufffd", 6);
                                i++;
                        } else {
                                put(l, (const char *)s + i, k);
                                i += k;
                        }
                        continue;
                }
                i++;
                switch (c) {
                case '"':
                        put(l, "\\\"", 2);
                        continue;
                case '\\':
                        put(l, "\\\\", 2);
                        continue;
                case '\n':
                        put(l, "\\n", 2);
                        continue;
                case '\r':
                        put(l, "\\r", 2);
                        continue;
                case '\t':
                        put(l, "\\t", 2);
                        continue;
                default:
                        break;
                }
                if (c < 0x20 || c == '<' || c == '>' || c == '&') {
                        char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                        put(l, e, 6);
                } else {
                        l->buf[l->len++] = (char)c;
                }
        }
}

static void flush(struct jsonlog *l)
{
        size_t off = 0;
        while (off < l->len) {
                ssize_t w = write(l->fd, l->buf + off, l->len - off);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        log_warn("write %s: %s", l->path, strerror(errno));
                        break;
                }
                off += (size_t)w;
        }
        l->size += (long)off;
        l->len = 0;
}

/* max-file counts the live file: with 3 there are <log>, <log>.1 and <log>.2. */
static void rotate(struct jsonlog *l)
{
        if (l->max_files <= 1) {
                if (ftruncate(l->fd, 0) == 0)
                        l->size = 0;
                return;
        }
        size_t n = strlen(l->path) + 16;
        char from[n], to[n];
        for (int i = l->max_files - 1; i >= 1; i--) {
                snprintf(to, n, "%s.%d", l->path, i);
                if (i == 1)
                        snprintf(from, n, "%s", l->path);
                else
                        snprintf(from, n, "%s.%d", l->path, i - 1);
                if (rename(from, to) < 0 && errno != ENOENT)
                        log_warn("rename %s to %s: %s", from, to, strerror(errno));
        }
        int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
        if (fd < 0) {
                log_warn("open %s: %s", l->path, strerror(errno));
                return;
        }
        close(l->fd);
        l->fd = fd;
        l->size = 0;
}

static void emit(struct jsonlog *l, int stream, const char *s, size_t n, bool newline)
{
        if (reserve(l, n * 6 + 128) < 0)
                return;
        put(l, "{\"log\":\"", 8);
        put_escaped(l, (const unsigned char *)s, n);
        if (newline)
                put(l, "\\n", 2);
        const char *name = stream == 2 ? "\",\"stream\":\"stderr\",\"time\":\""
                                       : "\",\"stream\":\"stdout\",\"time\":\"";
        put(l, name, strlen(name));
        put(l, l->stamp, strlen(l->stamp));
        put(l, "\"}\n", 3);
        if (l->max_size > 0 && l->size + (long)l->len >= l->max_size) {
                flush(l);
                rotate(l);
        }
}

static void part_add(struct jsonlog *l, int stream, const char *s, size_t n)
{
        if (l->part[stream] == NULL && (l->part[stream] = malloc(PART_MAX)) == NULL)
                return;
        memcpy(l->part[stream] + l->part_len[stream], s, n);
        l->part_len[stream] += n;
}

void jsonlog_write(struct jsonlog *l, int stream, const char *data, size_t n)
{
        if (l->fd < 0 || (stream != 1 && stream != 2))
                return;
        timefmt_now(l->stamp);
        while (n > 0) {
                const char *nl = memchr(data, '\n', n);
                size_t upto = nl ? (size_t)(nl - data) : n;
                size_t have = l->part_len[stream];
                if (have == 0 && nl != NULL) {
                        emit(l, stream, data, upto, true);
                } else {
                        /* Fill the partial line up to its limit; a full one goes out as is. */
                        size_t take = upto < PART_MAX - have ? upto : PART_MAX - have;
                        part_add(l, stream, data, take);
                        if (take < upto || (nl == NULL && l->part_len[stream] == PART_MAX)) {
                                emit(l, stream, l->part[stream], l->part_len[stream], false);
                                l->part_len[stream] = 0;
                                data += take;
                                n -= take;
                                continue;
                        }
                        if (nl != NULL) {
                                emit(l, stream, l->part[stream], l->part_len[stream], true);
                                l->part_len[stream] = 0;
                        }
                }
                if (nl == NULL)
                        break;
                data += upto + 1;
                n -= upto + 1;
        }
        flush(l);
}

void jsonlog_close(struct jsonlog *l)
{
        if (l->fd < 0)
                return;
        timefmt_now(l->stamp);
        for (int s = 1; s <= 2; s++) {
                if (l->part_len[s] > 0)
                        emit(l, s, l->part[s], l->part_len[s], false);
                free(l->part[s]);
                l->part[s] = NULL;
                l->part_len[s] = 0;
        }
        flush(l);
        close(l->fd);
        l->fd = -1;
        free(l->buf);
        l->buf = NULL;
        l->cap = 0;
}
