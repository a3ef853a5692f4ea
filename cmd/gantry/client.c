/* gantry CLI: Engine API client over the daemon's Unix socket (one libcurl handle, raw sockets
 * for hijacked streams), with the API version fallback of a daemon older than ours. */
#include <curl/curl.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

static char host_buf[512] = CLI_DEFAULT_HOST;
static char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)] = "/run/gantry/gantry.sock";
static char api_version[16] = CLI_API_VERSION;
static bool version_settled;
static CURL *curl;

int cli_set_host(const char *host)
{
        const char *path;
        if (strncmp(host, "unix://", 7) == 0)
                path = host + 7;
        else if (host[0] == '/')
                path = host;
        else {
                fprintf(stderr, "gantry: unsupported host %s: only unix:// sockets for now\n", host);
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

static size_t on_write(char *buf, size_t size, size_t nmemb, void *ud)
{
        struct xfer *x = ud;
        size_t len = size * nmemb;
        long code = 0;
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        /* Errors are collected whatever the request, so their message can be shown. */
        if (x->req->sink != NULL && code < 300) {
                if (!x->req->sink(buf, len, x->req->sink_ud)) {
                        x->aborted = true;
                        return 0;
                }
                return len;
        }
        return collect(x, buf, len) ? len : 0;
}

static size_t on_read(char *buf, size_t size, size_t nmemb, void *ud)
{
        const struct cli_req *req = ud;
        ssize_t n;
        do
                n = read(req->upload_fd, buf, size * nmemb);
        while (n < 0 && errno == EINTR);
        return n < 0 ? CURL_READFUNC_ABORT : (size_t)n;
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

static int do_once(const struct cli_req *req, struct cli_resp *resp)
{
        char url[4096];
        struct xfer x = {.req = req, .resp = resp};
        struct curl_slist *hdrs = NULL;
        CURLcode rc;
        char ctype[256];

        if (curl == NULL) {
                curl_global_init(CURL_GLOBAL_NOTHING);
                curl = curl_easy_init();
                if (curl == NULL) {
                        fprintf(stderr, "gantry: cannot initialize libcurl\n");
                        return -1;
                }
        } else {
                curl_easy_reset(curl); /* keeps the live connection */
        }
        snprintf(url, sizeof(url), "http://docker/v%s%s", api_version, req->path);
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, sock_path);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &x);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        hdrs = curl_slist_append(hdrs, "Expect:");
        hdrs = curl_slist_append(hdrs, "User-Agent: gantry-cli/" CLI_VERSION);
        if (strcmp(req->method, "GET") == 0) {
                curl_easy_setopt(curl, CURLOPT_HTTPGET, 1L);
        } else {
                if (strcmp(req->method, "POST") == 0)
                        curl_easy_setopt(curl, CURLOPT_POST, 1L);
                else
                        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
                if (req->upload_fd >= 0) {
                        curl_easy_setopt(curl, CURLOPT_POST, 1L);
                        if (strcmp(req->method, "POST") != 0)
                                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
                        curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
                        curl_easy_setopt(curl, CURLOPT_READDATA, req);
                        hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
                } else if (req->body != NULL || strcmp(req->method, "POST") == 0) {
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
                        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                                         (curl_off_t)(req->body ? req->body_len : 0));
                }
                if (req->body != NULL || req->upload_fd >= 0) {
                        snprintf(ctype, sizeof(ctype), "Content-Type: %s",
                                 req->ctype ? req->ctype : "application/json");
                        hdrs = curl_slist_append(hdrs, ctype);
                }
        }
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
        rc = curl_easy_perform(curl);
        curl_slist_free_all(hdrs);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
        if (rc != CURLE_OK && !(x.aborted && rc == CURLE_WRITE_ERROR)) {
                if (rc == CURLE_COULDNT_CONNECT)
                        print_connect_error();
                else
                        fprintf(stderr, "gantry: request to %s: %s\n", host_buf,
                                curl_easy_strerror(rc));
                return -1;
        }
        return 0;
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
        struct cli_req req = {.method = method, .path = path, .body = text,
                              .body_len = text ? strlen(text) : 0, .upload_fd = -1};
        return cli_do(&req, resp);
}

void cli_resp_free(struct cli_resp *resp)
{
        free(resp->body);
        resp->body = NULL;
        resp->len = 0;
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
