/* gantry CLI: a push parser for HTTP/1.1 response heads and bodies (Content-Length, chunked, to
 * EOF). */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_parse.h"

void http_parser_init(struct http_parser *p)
{
        memset(p, 0, sizeof(*p));
        p->content_length = -1;
}

/* The value of header name in the head, or NULL; the head's lines end in "\r\n". */
const char *http_header_value(const char *head, const char *name, size_t *vlen)
{
        size_t nlen = strlen(name);
        for (const char *l = strstr(head, "\r\n"); l != NULL && l[2] != '\0';
             l = strstr(l + 2, "\r\n")) {
                const char *line = l + 2;
                if (strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
                        continue;
                const char *v = line + nlen + 1;
                while (*v == ' ' || *v == '\t')
                        v++;
                const char *e = strstr(v, "\r\n");
                if (e == NULL)
                        e = v + strlen(v);
                while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
                        e--;
                *vlen = (size_t)(e - v);
                return v;
        }
        return NULL;
}

static int parse_head(struct http_parser *p)
{
        p->head[p->head_len] = '\0';
        int status = 0;
        if (strncmp(p->head, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)p->head[7]) ||
            p->head[8] != ' ')
                return -1;
        for (int i = 9; i < 12; i++) {
                if (!isdigit((unsigned char)p->head[i]))
                        return -1;
                status = status * 10 + (p->head[i] - '0');
        }
        if (p->head[12] != ' ' && p->head[12] != '\r')
                return -1;
        p->status = status;
        if (p->head_only) {
                p->state = HTTP_DONE;
                return 0;
        }
        size_t vlen = 0;
        const char *te = http_header_value(p->head, "Transfer-Encoding", &vlen);
        if (te != NULL && vlen >= 7 && strncasecmp(te + vlen - 7, "chunked", 7) == 0) {
                p->chunked = true;
                p->state = HTTP_CHUNK_SIZE;
                return 0;
        }
        const char *cl = http_header_value(p->head, "Content-Length", &vlen);
        if (cl != NULL) {
                long long n = 0;
                if (vlen == 0 || vlen > 18)
                        return -1;
                for (size_t i = 0; i < vlen; i++) {
                        if (!isdigit((unsigned char)cl[i]))
                                return -1;
                        n = n * 10 + (cl[i] - '0');
                }
                p->content_length = n;
                p->remaining = n;
                p->state = n == 0 ? HTTP_DONE : HTTP_BODY;
                return 0;
        }
        /* 1xx, 204 and 304 have no body; others without a length run to EOF. */
        if (status / 100 == 1 || status == 204 || status == 304)
                p->state = HTTP_DONE;
        else
                p->state = HTTP_BODY_EOF;
        return 0;
}

/* Hands out what buf holds of the remaining body or chunk; false when body() said stop. */
static bool take(struct http_parser *p, const char *buf, size_t len, size_t *i, http_body_fn body,
                 void *ud)
{
        size_t n = len - *i;
        if ((long long)n > p->remaining)
                n = (size_t)p->remaining;
        if (n > 0 && !body(buf + *i, n, ud))
                return false;
        *i += n;
        p->remaining -= (long long)n;
        return true;
}

int http_parser_feed(struct http_parser *p, const char *buf, size_t len, size_t *used,
                     http_body_fn body, void *ud)
{
        size_t i = 0;
        while (i < len && p->state != HTTP_DONE) {
                switch (p->state) {
                case HTTP_HEAD: {
                        if (p->head_len + 1 >= sizeof(p->head))
                                return -1;
                        p->head[p->head_len++] = buf[i++];
                        if (p->head_len >= 4 &&
                            memcmp(p->head + p->head_len - 4, "\r\n\r\n", 4) == 0) {
                                if (parse_head(p) < 0)
                                        return -1;
                                /* The head alone: the caller may take over the connection
                                 * (101) before any body byte is consumed. */
                                *used = i;
                                return 1;
                        }
                        break;
                }
                case HTTP_BODY:
                        if (!take(p, buf, len, &i, body, ud))
                                return -2;
                        if (p->remaining == 0)
                                p->state = HTTP_DONE;
                        break;
                case HTTP_BODY_EOF: {
                        if (!body(buf + i, len - i, ud))
                                return -2;
                        i = len;
                        break;
                }
                case HTTP_CHUNK_SIZE: {
                        char c = buf[i++];
                        if (c == '\n') {
                                if (!p->size_seen)
                                        return -1;
                                p->size_seen = false;
                                p->in_ext = false;
                                p->state = p->remaining == 0 ? HTTP_TRAILER : HTTP_CHUNK_DATA;
                                if (p->state == HTTP_TRAILER)
                                        p->line_len = 0;
                        } else if (c == '\r' || p->in_ext) {
                                /* skipped: the CR, and chunk extensions after ';' */
                        } else if (c == ';') {
                                p->in_ext = true;
                        } else if (isxdigit((unsigned char)c)) {
                                if (p->remaining > (1LL << 40))
                                        return -1;
                                int d = isdigit((unsigned char)c)
                                            ? c - '0'
                                            : (tolower((unsigned char)c) - 'a' + 10);
                                p->remaining = p->remaining * 16 + d;
                                p->size_seen = true;
                        } else {
                                return -1;
                        }
                        break;
                }
                case HTTP_CHUNK_DATA:
                        if (!take(p, buf, len, &i, body, ud))
                                return -2;
                        if (p->remaining == 0)
                                p->state = HTTP_CHUNK_END;
                        break;
                case HTTP_CHUNK_END: {
                        char c = buf[i++];
                        if (c == '\n')
                                p->state = HTTP_CHUNK_SIZE;
                        else if (c != '\r')
                                return -1;
                        break;
                }
                case HTTP_TRAILER: {
                        /* Trailer lines until an empty one. */
                        char c = buf[i++];
                        if (c == '\n') {
                                if (p->line_len == 0)
                                        p->state = HTTP_DONE;
                                p->line_len = 0;
                        } else if (c != '\r') {
                                if (++p->line_len > 8192)
                                        return -1;
                        }
                        break;
                }
                case HTTP_DONE:
                        break;
                }
        }
        *used = i;
        return p->state == HTTP_DONE ? 1 : 0;
}

int http_parser_eof(struct http_parser *p)
{
        if (p->state == HTTP_BODY_EOF)
                p->state = HTTP_DONE;
        return p->state == HTTP_DONE ? 0 : -1;
}
