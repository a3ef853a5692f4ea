/* gantry CLI: the request shapes the verbs share: a call whose reply must be 2xx JSON, a body
 * streamed to a file, and filters. */
#include <string.h>

#include "cli.h"

int cli_call_json(const char *method, const char *path, json_t *body, long want, json_t **out)
{
        struct cli_resp r;
        if (out != NULL)
                *out = NULL;
        if (cli_call(method, path, body, &r) < 0)
                return -1;
        if (want != 0 ? r.status != want : (r.status < 200 || r.status >= 300)) {
                cli_print_daemon_error(NULL, &r);
                cli_resp_free(&r);
                return -1;
        }
        if (out != NULL && r.len > 0)
                *out = json_loadb(r.body, r.len, JSON_DECODE_ANY, NULL);
        cli_resp_free(&r);
        return 0;
}

int cli_filter_add(json_t *filters, const char *flag, const char *arg)
{
        const char *eq = strchr(arg, '=');
        if (eq == NULL) {
                fprintf(stderr,
                        "invalid argument \"%s\" for \"%s\" flag: bad format of filter (expected "
                        "name=value)\n",
                        arg, flag);
                return -1;
        }
        _cleanup_free_ char *key = strndup(arg, (size_t)(eq - arg));
        if (key == NULL)
                abort();
        json_t *m = json_object_get(filters, key);
        if (m == NULL) {
                m = json_object();
                json_object_set_new(filters, key, m);
        }
        json_object_set_new(m, eq + 1, json_true());
        return 0;
}

void cli_append_filters(char **path, json_t *filters)
{
        if (json_object_size(filters) == 0)
                return;
        _cleanup_free_ char *s = json_dumps(filters, JSON_COMPACT);
        _cleanup_free_ char *e = cli_escape(s);
        cli_appendf(path, "%sfilters=%s", strchr(*path, '?') != NULL ? "&" : "?", e);
}

static bool to_fd(const char *buf, size_t len, void *ud)
{
        return cli_write_all(*(int *)ud, buf, len) == 0;
}

int cli_stream_sink(const char *path, cli_sink_fn sink, void *ud)
{
        struct cli_resp r;
        struct cli_req req = {
            .method = "GET", .path = path, .upload_fd = -1, .sink = sink, .sink_ud = ud};
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

int cli_stream_get(const char *path, int fd)
{
        return cli_stream_sink(path, to_fd, &fd);
}
