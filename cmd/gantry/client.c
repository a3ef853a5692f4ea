/* gantry CLI: Engine API client over the daemon's Unix socket (HTTP/1.1 on raw sockets), with the
 * API version fallback of a daemon older than ours. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"
#include "common/cleanup.h"
#include "http_parse.h"

static char host_buf[512] = CLI_DEFAULT_HOST;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = "/run/gantry/gantry.sock";
static char api_version[16] = CLI_API_VERSION;
static bool version_settled;

int cli_set_host(const char *host)
{
        const char *path;
        if (strncmp(host, "unix://", 7) == 0)
                path = host + 7;
        else if (host[0] == '/')
                path = host;
        else {
                fprintf(stderr, "gantry: unsupported host %s: only unix:// sockets for now\n",
                        host);
                return -1;
        }
        if (strlen(path) >= sizeof(sock_path) || strlen(host) >= sizeof(host_buf)) {
                fprintf(stderr, "gantry: socket path too long: %s\n", path);
                return -1;
        }
        strcpy(sock_path, path);
        snprintf(host_buf, sizeof(host_buf), "unix://%s", path);
        return 0;
}

const char *cli_host(void)
{
        return host_buf;
}

const char *cli_api_version(void)
{
        return api_version;
}

static void print_connect_error(void)
{
        fprintf(stderr,
                "Cannot connect to the gantry daemon at %s. Is the gantry daemon running?\n",
                host_buf);
}

struct xfer {
        const struct cli_req *req;
        struct cli_resp *resp;
        size_t cap;
        bool aborted;
};

static bool collect(struct xfer *x, const char *buf, size_t len)
{
        if (x->resp->len + len + 1 > x->cap) {
                size_t ncap = x->cap ? x->cap * 2 : 4096;
                while (ncap < x->resp->len + len + 1)
                        ncap *= 2;
                char *n = realloc(x->resp->body, ncap);
                if (n == NULL)
                        return false;
                x->resp->body = n;
                x->cap = ncap;
        }
        memcpy(x->resp->body + x->resp->len, buf, len);
        x->resp->len += len;
        x->resp->body[x->resp->len] = '\0';
        return true;
}

/* "client version 1.44 is too new. Maximum supported API version is 1.41" */
static bool parse_version_error(struct cli_resp *resp)
{
        const char *msg = cli_resp_message(resp);
        const char *p = strstr(msg, "Maximum supported API version is ");
        if (resp->status != 400 || p == NULL)
                return false;
        p += strlen("Maximum supported API version is ");
        size_t n = strspn(p, "0123456789.");
        if (n == 0 || n >= sizeof(api_version))
                return false;
        memcpy(api_version, p, n);
        api_version[n] = '\0';
        return true;
}

static bool on_body(const char *buf, size_t len, void *ud)
{
        struct xfer *x = ud;
        /* Errors are collected whatever the request, so their message can be shown. */
        if (x->req->sink != NULL && x->resp->status < 300) {
                if (!x->req->sink(buf, len, x->req->sink_ud)) {
                        x->aborted = true;
                        return false;
                }
                return true;
        }
        return collect(x, buf, len);
}

static int send_chunk(int fd, const char *data, size_t len)
{
        char size[32];
        int n = snprintf(size, sizeof(size), "%zx\r\n", len);
        if (cli_write_all(fd, size, (size_t)n) < 0 || cli_write_all(fd, data, len) < 0 ||
            cli_write_all(fd, "\r\n", 2) < 0)
                return -1;
        return 0;
}

static int send_request(int fd, const struct cli_req *req)
{
        char head[8192];
        bool has_body = req->body != NULL || req->upload_fd >= 0;
        char ctype[300] = "", length[64] = "";
        if (has_body)
                snprintf(ctype, sizeof(ctype), "Content-Type: %s\r\n",
                         req->ctype ? req->ctype : "application/json");
        if (req->upload_fd >= 0)
                snprintf(length, sizeof(length), "Transfer-Encoding: chunked\r\n");
        else
                snprintf(length, sizeof(length), "Content-Length: %zu\r\n",
                         req->body ? req->body_len : 0);
        int n = snprintf(head, sizeof(head),
                         "%s /v%s%s HTTP/1.1\r\nHost: docker\r\nUser-Agent: gantry-cli/" CLI_VERSION
                         "\r\nConnection: close\r\n%s%s%s\r\n",
                         req->method, api_version, req->path, ctype, length,
                         req->headers ? req->headers : "");
        if (n < 0 || (size_t)n >= sizeof(head)) {
                fprintf(stderr, "gantry: request too long: %s\n", req->path);
                return -1;
        }
        if (cli_write_all(fd, head, (size_t)n) < 0)
                return -1;
        if (req->upload_fd < 0)
                return req->body && req->body_len ? cli_write_all(fd, req->body, req->body_len) : 0;
        static char buf[65536];
        for (;;) {
                ssize_t r = read(req->upload_fd, buf, sizeof(buf));
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0) {
                        perror("gantry: read upload");
                        return -1;
                }
                if (r == 0) {
                        if (req->upload_end != NULL && req->upload_end(req->upload_ud) < 0)
                                return -2;
                        return cli_write_all(fd, "0\r\n\r\n", 5);
                }
                if (send_chunk(fd, buf, (size_t)r) < 0)
                        return -1;
        }
}

/* One request on a new connection (Connection: close). The daemon may answer before it took
 * the whole upload (an error): what it said is still read and shown. */
static int do_once(const struct cli_req *req, struct cli_resp *resp)
{
        struct xfer x = {.req = req, .resp = resp};
        _cleanup_close_ int fd = cli_raw_connect();
        if (fd < 0)
                return -1;
        int sent = send_request(fd, req);
        if (sent == -2)
                return -1; /* the upload's producer failed and said why */
        static struct http_parser p;
        http_parser_init(&p);
        p.head_only = strcmp(req->method, "HEAD") == 0;
        static char buf[65536];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        fprintf(stderr, "gantry: read from %s: %s\n", host_buf, strerror(errno));
                        return -1;
                }
                if (n == 0) {
                        if (http_parser_eof(&p) < 0) {
                                if (sent < 0 && p.state == HTTP_HEAD)
                                        fprintf(stderr, "gantry: request to %s failed\n", host_buf);
                                else
                                        fprintf(stderr,
                                                "gantry: the response from %s ended early\n",
                                                host_buf);
                                return -1;
                        }
                        return 0;
                }
                size_t off = 0;
                while (off < (size_t)n) {
                        size_t used = 0;
                        int r =
                            http_parser_feed(&p, buf + off, (size_t)n - off, &used, on_body, &x);
                        off += used;
                        if (r == -2)
                                return 0; /* the sink stopped: the caller has what it wanted */
                        if (r < 0) {
                                fprintf(stderr, "gantry: malformed response from %s\n", host_buf);
                                return -1;
                        }
                        resp->status = p.status;
                        if (p.state != HTTP_HEAD && resp->head == NULL &&
                            (resp->head = strdup(p.head)) == NULL)
                                return -1;
                        if (p.state == HTTP_DONE)
                                return 0;
                        if (used == 0)
                                break;
                }
        }
}

int cli_do(const struct cli_req *req, struct cli_resp *resp)
{
        *resp = (struct cli_resp){0};
        if (do_once(req, resp) < 0)
                return -1;
        if (!version_settled && resp->status == 400 && req->upload_fd < 0 &&
            parse_version_error(resp)) {
                cli_resp_free(resp);
                version_settled = true;
                return do_once(req, resp);
        }
        if (resp->status > 0)
                version_settled = true;
        return 0;
}

int cli_negotiate(void)
{
        struct cli_resp r;
        if (version_settled)
                return 0;
        if (cli_call("GET", "/version", NULL, &r) < 0)
                return -1;
        cli_resp_free(&r);
        return 0;
}

int cli_call(const char *method, const char *path, json_t *body, struct cli_resp *resp)
{
        _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        struct cli_req req = {.method = method,
                              .path = path,
                              .body = text,
                              .body_len = text ? strlen(text) : 0,
                              .upload_fd = -1};
        return cli_do(&req, resp);
}

void cli_resp_free(struct cli_resp *resp)
{
        free(resp->body);
        free(resp->head);
        resp->body = NULL;
        resp->head = NULL;
        resp->len = 0;
}

char *cli_resp_header(const struct cli_resp *resp, const char *name)
{
        size_t n = 0;
        const char *v = resp->head ? http_header_value(resp->head, name, &n) : NULL;
        return v ? strndup(v, n) : NULL;
}

const char *cli_resp_message(struct cli_resp *resp)
{
        static char msg[4096];
        json_t *j;
        if (resp->body == NULL)
                return "";
        j = json_loadb(resp->body, resp->len, 0, NULL);
        if (j != NULL && json_is_string(json_object_get(j, "message"))) {
                snprintf(msg, sizeof(msg), "%s", json_string_value(json_object_get(j, "message")));
                json_decref(j);
                return msg;
        }
        json_decref(j);
        snprintf(msg, sizeof(msg), "%s", resp->body);
        size_t n = strlen(msg);
        while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
                msg[--n] = '\0';
        return msg;
}

void cli_print_daemon_error(const char *prefix, struct cli_resp *resp)
{
        fprintf(stderr, "%sError response from daemon: %s\n", prefix ? prefix : "",
                cli_resp_message(resp));
}

char *cli_escape(const char *s)
{
        static const char hex[] = "0123456789ABCDEF";
        char *out = malloc(strlen(s) * 3 + 1), *o = out;
        if (out == NULL)
                abort();
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    strchr("-_.~", c)) {
                        *o++ = (char)c;
                } else {
                        *o++ = '%';
                        *o++ = hex[c >> 4];
                        *o++ = hex[c & 15];
                }
        }
        *o = '\0';
        return out;
}

int cli_raw_connect(void)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
                perror("gantry: socket");
                return -1;
        }
        strcpy(sa.sun_path, sock_path);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                close(fd);
                print_connect_error();
                return -1;
        }
        return fd;
}

int cli_raw_send(int fd, const char *method, const char *path, const char *extra_headers)
{
        char buf[8192];
        int n = snprintf(buf, sizeof(buf),
                         "%s /v%s%s HTTP/1.1\r\nHost: docker\r\nUser-Agent: gantry-cli/" CLI_VERSION
                         "\r\nContent-Length: 0\r\n%s\r\n",
                         method, api_version, path, extra_headers ? extra_headers : "");
        if (n < 0 || (size_t)n >= sizeof(buf))
                return -1;
        return cli_write_all(fd, buf, (size_t)n);
}

int cli_raw_read_head(int fd, int *status, char *head, size_t headsz, char *leftover,
                      size_t *leftover_len)
{
        char buf[8192];
        size_t len = 0;
        char *end = NULL;
        *leftover_len = 0;
        while (end == NULL) {
                ssize_t n;
                if (len == sizeof(buf) - 1)
                        return -1;
                n = read(fd, buf + len, sizeof(buf) - 1 - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return -1;
                len += (size_t)n;
                buf[len] = '\0';
                end = strstr(buf, "\r\n\r\n");
        }
        size_t hlen = (size_t)(end - buf) + 4;
        if (sscanf(buf, "HTTP/1.%*d %d", status) != 1)
                return -1;
        snprintf(head, headsz, "%.*s", (int)hlen, buf);
        *leftover_len = len - hlen;
        if (*leftover_len > 8192)
                return -1;
        memcpy(leftover, buf + hlen, *leftover_len);
        return 0;
}
