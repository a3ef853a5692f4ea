/* Responses in Docker's shapes: JSON bodies, {"message"} errors, status codes from errno. */
#include "api/api.h"
#include "api/http.h"
#include "api/schema.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/cleanup.h"

int api_status_for_errno(int errnum)
{
        switch (errnum) {
        case ENOENT:
                return MHD_HTTP_NOT_FOUND;
        case EEXIST:
        case EBUSY:
                return MHD_HTTP_CONFLICT;
        case EINVAL:
                return MHD_HTTP_BAD_REQUEST;
        case EPERM: /* a pre-defined network, or one in use, cannot be removed */
                return MHD_HTTP_FORBIDDEN;
        case ENOTSUP:
                return MHD_HTTP_NOT_IMPLEMENTED;
        case EALREADY: /* start of a running / stop of a stopped container */
                return MHD_HTTP_NOT_MODIFIED;
        default:
                return MHD_HTTP_INTERNAL_SERVER_ERROR;
        }
}

void api_common_headers(struct MHD_Response *resp)
{
        MHD_add_response_header(resp, "API-Version", API_VERSION);
        MHD_add_response_header(resp, "Docker-Experimental", "false");
        MHD_add_response_header(resp, "Ostype", "linux");
        MHD_add_response_header(resp, "Server", "Gantry/" API_SERVER_VERSION);
}

enum MHD_Result api_queue(struct api_req *r, unsigned status, struct MHD_Response *resp)
{
        if (resp == NULL)
                return MHD_NO;
        api_common_headers(resp);
        enum MHD_Result ret = MHD_queue_response(r->conn, status, resp);
        MHD_destroy_response(resp);
        r->replied = true;
        return ret;
}

static enum MHD_Result reply_message(struct api_req *r, unsigned status, const char *msg);

enum MHD_Result api_reply_buf(struct api_req *r, unsigned status, const char *ctype,
                              const char *data, size_t len)
{
        char *copy = malloc(len + 1);
        if (copy == NULL)
                return MHD_NO;
        memcpy(copy, data, len);
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(len, copy, MHD_RESPMEM_MUST_FREE);
        if (resp == NULL) {
                free(copy);
                return MHD_NO;
        }
        if (ctype != NULL)
                MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
        return api_queue(r, status, resp);
}

enum MHD_Result api_reply_json(struct api_req *r, unsigned status, json_t *j)
{
        _cleanup_free_ char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        json_decref(j);
        if (s == NULL)
                return reply_message(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot encode the reply");
        /* dockerd's encoder ends each document with a newline; some clients split on it. */
        size_t n = strlen(s);
        char *line = malloc(n + 1);
        if (line == NULL)
                return MHD_NO;
        memcpy(line, s, n);
        line[n] = '\n';
        struct MHD_Response *resp =
                MHD_create_response_from_buffer(n + 1, line, MHD_RESPMEM_MUST_FREE);
        if (resp == NULL) {
                free(line);
                return MHD_NO;
        }
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
        return api_queue(r, status, resp);
}

enum MHD_Result api_reply_status(struct api_req *r, unsigned status)
{
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
        return api_queue(r, status, resp);
}

static enum MHD_Result reply_message(struct api_req *r, unsigned status, const char *msg)
{
        return api_reply_json(r, status, json_pack("{s:s}", "message", msg ? msg : "error"));
}

enum MHD_Result api_reply_error(struct api_req *r, unsigned status, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                msg = NULL;
        return reply_message(r, status, msg);
}

enum MHD_Result api_reply_gerr(struct api_req *r, const struct gerr *err)
{
        int errnum = err ? err->errnum : 0;
        unsigned status = (unsigned)api_status_for_errno(errnum);
        if (status == MHD_HTTP_NOT_MODIFIED)
                return api_reply_status(r, status);
        const char *raw = err && err->msg ? err->msg : "internal error";
        _cleanup_free_ char *msg = strdup(raw);
        if (msg == NULL)
                return MHD_NO;
        /* gerr appends ": strerror(errno)"; where the errno only carries Docker's status the
         * message already is Docker's ("No such container: x"), so the suffix goes. */
        if (status != MHD_HTTP_INTERNAL_SERVER_ERROR && errnum > 0) {
                const char *s = strerror(errnum);
                size_t ml = strlen(msg), sl = strlen(s);
                if (ml > sl + 2 && strcmp(msg + ml - sl, s) == 0 &&
                    strncmp(msg + ml - sl - 2, ": ", 2) == 0)
                        msg[ml - sl - 2] = '\0';
        }
        return reply_message(r, status, msg);
}

enum MHD_Result api_not_implemented(struct api_req *r)
{
        return api_reply_error(r, MHD_HTTP_NOT_IMPLEMENTED, "not implemented: %s %s", r->method,
                               r->path);
}

const char *api_query(struct api_req *r, const char *key)
{
        return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, key);
}

bool api_query_bool(struct api_req *r, const char *key)
{
        const char *v = api_query(r, key);
        if (v == NULL)
                return false;
        while (*v == ' ' || *v == '\t')
                v++;
        return !(*v == '\0' || strcmp(v, "0") == 0 || strcasecmp(v, "no") == 0 ||
                 strcasecmp(v, "false") == 0 || strcasecmp(v, "none") == 0);
}

long long api_query_int(struct api_req *r, const char *key, long long def, bool *ok)
{
        const char *v = api_query(r, key);
        if (v == NULL || *v == '\0')
                return def;
        char *end = NULL;
        errno = 0;
        long long n = strtoll(v, &end, 10);
        if (errno != 0 || end == v || *end != '\0') {
                *ok = false;
                return def;
        }
        return n;
}

struct query_all {
        const char *key;
        const char **vals;
        size_t n;
        bool oom;
};

static enum MHD_Result collect_value(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
        struct query_all *q = cls;
        if (key == NULL || strcmp(key, q->key) != 0 || value == NULL)
                return MHD_YES;
        const char **v = realloc(q->vals, (q->n + 1) * sizeof(*v));
        if (v == NULL) {
                q->oom = true;
                return MHD_NO;
        }
        v[q->n++] = value;
        q->vals = v;
        return MHD_YES;
}

const char **api_query_all(struct api_req *r, const char *key, size_t *n)
{
        struct query_all q = {.key = key};
        MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_value, &q);
        *n = q.n;
        return q.vals;
}

/* dockerd's CheckForJSON: a body must come as application/json (parameters allowed). */
static bool content_type_json(struct api_req *r)
{
        const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_TYPE);
        if (ct == NULL)
                return false;
        ct += strspn(ct, " \t");
        size_t n = strlen("application/json");
        return strncasecmp(ct, "application/json", n) == 0 &&
               (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ' || ct[n] == '\t');
}

/* Any JSON value (api_body_json wants an object, api_body_json_as checks a schema). */
static json_t *body_parse(struct api_req *r, bool allow_empty, enum MHD_Result *result)
{
        if (r->body_len > 0 && !content_type_json(r)) {
                const char *ct = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND,
                                                             MHD_HTTP_HEADER_CONTENT_TYPE);
                *result = api_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                          "Content-Type specified (%s) must be 'application/json'",
                                          ct ? ct : "");
                return NULL;
        }
        if (r->body_len == 0) {
                if (allow_empty)
                        return json_object();
                *result = api_reply_error(r, MHD_HTTP_BAD_REQUEST, "empty request body");
                return NULL;
        }
        json_error_t jerr;
        json_t *j = json_loadb(r->body, r->body_len, 0, &jerr);
        if (j == NULL) {
                *result = api_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                          "invalid JSON: %s (line %d, column %d)", jerr.text,
                                          jerr.line, jerr.column);
                return NULL;
        }
        return j;
}

json_t *api_body_json(struct api_req *r, bool allow_empty, enum MHD_Result *result)
{
        json_t *j = body_parse(r, allow_empty, result);
        if (j != NULL && !json_is_object(j)) {
                json_decref(j);
                *result = api_reply_error(r, MHD_HTTP_BAD_REQUEST,
                                          "invalid JSON: the body must be an object");
                return NULL;
        }
        return j;
}

json_t *api_body_json_as(struct api_req *r, const struct api_schema *s, bool allow_empty,
                         enum MHD_Result *result)
{
        json_t *j = body_parse(r, allow_empty, result);
        char msg[512];
        if (j != NULL && api_schema_check(s, j, msg, sizeof(msg)) < 0) {
                json_decref(j);
                *result = api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid JSON: %s", msg);
                return NULL;
        }
        return j;
}
