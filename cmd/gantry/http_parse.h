/* gantry CLI: the HTTP/1.1 response parser the client feeds with what it reads from the daemon. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum http_state {
        HTTP_HEAD,
        HTTP_BODY,     /* Content-Length bytes */
        HTTP_BODY_EOF, /* no length: until the connection closes */
        HTTP_CHUNK_SIZE,
        HTTP_CHUNK_DATA,
        HTTP_CHUNK_END, /* the CRLF after a chunk's data */
        HTTP_TRAILER,
        HTTP_DONE,
};

struct http_parser {
        enum http_state state;
        int status;
        bool chunked, size_seen, in_ext;
        bool head_only;           /* the answer to a HEAD: no body whatever Content-Length says */
        long long content_length; /* -1: none */
        long long remaining;      /* of the body or the current chunk */
        size_t line_len;
        char head[16384];
        size_t head_len;
};

/* Body bytes as they are decoded; false stops the parse (feed returns -2). */
typedef bool (*http_body_fn)(const char *buf, size_t len, void *ud);

void http_parser_init(struct http_parser *p);
/* Consume buf. Returns 1 when the head just completed (*used bytes taken; call again with the
 * rest) or the response is complete, 0 when more input is needed, -1 on a malformed response,
 * -2 when body() said stop. */
int http_parser_feed(struct http_parser *p, const char *buf, size_t len, size_t *used,
                     http_body_fn body, void *ud);
/* The value of header name in a response head ("\r\n" lines), *vlen its length; NULL if absent. */
const char *http_header_value(const char *head, const char *name, size_t *vlen);
/* The connection closed: 0 if that completes the response, -1 if it was cut short. */
int http_parser_eof(struct http_parser *p);
