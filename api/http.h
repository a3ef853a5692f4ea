/* Internals shared by the API's files: the server, one request, replies, streams and routes. */
#pragma once

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "common/gerr.h"

struct eng;

/* JSON request bodies above this are refused with 413 (Docker has no limit; this is memory). */
#define API_BODY_MAX (64u << 20)

struct api_server {
        struct eng *eng;
        struct MHD_Daemon *mhd;
        char *socket_path;
        int listen_fd;
        int stop_fd;          /* eventfd, readable once api_stop began: blocked streams end */
        pthread_mutex_t lock;
        pthread_cond_t idle;
        int busy;             /* worker threads still inside the engine */
        struct api_hijack *hijacks; /* upgraded attach connections, shut down at stop */
};

struct api_req;
typedef enum MHD_Result (*api_handler)(struct api_req *r);

/* A request body streamed into a pipe whose read end a worker thread consumes. */
struct api_upload {
        int wfd;
        pthread_t thread;
        bool broken;   /* the worker stopped reading: the rest of the body is dropped */
        int (*fn)(struct api_req *r, int rfd, struct gerr **err);
        int rfd;
        int rc;
        struct gerr *err;
        json_t *result; /* whatever fn produced for the final handler */
};

struct api_route {
        const char *method;
        const char *pattern; /* a "*" segment captures one segment, "**" one or more */
        api_handler handler;
        /* Called when the headers are in; may start an upload (api_upload_begin) or queue an
         * early reply. NULL: the body is accumulated as JSON up to API_BODY_MAX. */
        enum MHD_Result (*begin)(struct api_req *r);
};

#define API_MAX_CAPS 3

struct api_req {
        struct api_server *srv;
        struct eng *eng;
        struct MHD_Connection *conn;
        const char *method;
        char *path;           /* without the /v1.NN prefix */
        unsigned api_minor;   /* the client's version: 1.<api_minor> (44 if unversioned) */
        const struct api_route *route;
        char *caps[API_MAX_CAPS];
        char *body;
        size_t body_len, body_cap;
        bool too_big;
        bool replied;         /* a reply was queued early (in begin) */
        struct api_upload *up;
};

/* ---- replies (reply.c); each queues one response and returns MHD's result ---- */
int api_status_for_errno(int errnum);
/* Adds the headers every response carries (API-Version, Server, ...). */
void api_common_headers(struct MHD_Response *resp);
enum MHD_Result api_queue(struct api_req *r, unsigned status, struct MHD_Response *resp);
enum MHD_Result api_reply_json(struct api_req *r, unsigned status, json_t *j); /* steals j */
enum MHD_Result api_reply_buf(struct api_req *r, unsigned status, const char *ctype,
                              const char *data, size_t len);
enum MHD_Result api_reply_status(struct api_req *r, unsigned status); /* empty body */
enum MHD_Result api_reply_error(struct api_req *r, unsigned status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Status from the error's errno, message as Docker words it. */
enum MHD_Result api_reply_gerr(struct api_req *r, const struct gerr *err);
enum MHD_Result api_not_implemented(struct api_req *r);

/* ---- query string ---- */
const char *api_query(struct api_req *r, const char *key);
/* Docker's BoolValue: absent, "", "0", "no", "false", "none" are false. */
bool api_query_bool(struct api_req *r, const char *key);
/* Integer parameter; def when absent or empty; EINVAL reply left to the caller (*ok=false). */
long long api_query_int(struct api_req *r, const char *key, long long def, bool *ok);
/* Every value of a repeated key ("names=a&names=b"); caller frees the array (not the strings). */
const char **api_query_all(struct api_req *r, const char *key, size_t *n);
/* Parse the accumulated body as a JSON object; on error replies 400 and returns NULL
 * (*result set to the MHD result to return). */
json_t *api_body_json(struct api_req *r, bool allow_empty, enum MHD_Result *result);
/* The same, then typed against Docker's shape of that body (api/schema.h): 400 on a mismatch. */
struct api_schema;
json_t *api_body_json_as(struct api_req *r, const struct api_schema *s, bool allow_empty,
                         enum MHD_Result *result);
/* ?filters= (a JSON object of arrays, or of {value:true} maps, the older form) as an object;
 * NULL after replying 400 (*res set). Defined in containers.c. */
json_t *api_parse_filters(struct api_req *r, enum MHD_Result *res);
struct eng;
/* Replies 200 with what fn returns for ?filters= (NULL when none), the shape of the list and
 * prune routes; errors as fn's gerr. Defined in commit.c. */
enum MHD_Result api_reply_filtered(struct api_req *r,
                                   int (*fn)(struct eng *, json_t *, json_t **, struct gerr **));

/* ---- streams (stream.c) ---- */
/* Answer status with a chunked body that fn(arg, fd) writes from a worker thread; the response
 * ends when fn returns. free_arg(arg) runs after fn. */
enum MHD_Result api_reply_stream(struct api_req *r, unsigned status, const char *ctype,
                                 void (*fn)(struct api_server *srv, void *arg, int fd),
                                 void *arg, void (*free_arg)(void *));
/* The same with extra headers: name, value pairs, NULL-terminated. */
enum MHD_Result api_reply_stream_headers(struct api_req *r, unsigned status, const char *ctype,
                                         const char *const *headers,
                                         void (*fn)(struct api_server *srv, void *arg, int fd),
                                         void *arg, void (*free_arg)(void *));
/* Start streaming the request body into fn(r, rfd) in a worker thread (from a route's begin). */
int api_upload_begin(struct api_req *r, int (*fn)(struct api_req *r, int rfd, struct gerr **err),
                     struct gerr **err);
/* Feed body bytes; finish closes the pipe and joins the worker. */
void api_upload_feed(struct api_upload *u, const char *data, size_t len);
void api_upload_finish(struct api_upload *u);
void api_upload_free(struct api_upload *u);
/* Worker accounting, so api_stop knows when nothing is inside the engine any more. */
void api_busy_enter(struct api_server *srv);
void api_busy_leave(struct api_server *srv);
/* write(2) all of buf; -errno on failure. */
int api_write_all(int fd, const void *buf, size_t len);

/* ---- routes (routes.c) ---- */
/* The route for method and path, its captures strdup'ed into caps; NULL if none. */
const struct api_route *api_route_match(const char *method, const char *path, char **caps);

/* ---- handlers ---- */
enum MHD_Result api_ping(struct api_req *r);
enum MHD_Result api_version(struct api_req *r);
enum MHD_Result api_info(struct api_req *r);

enum MHD_Result api_images_list(struct api_req *r);
enum MHD_Result api_image_inspect(struct api_req *r);
enum MHD_Result api_image_history(struct api_req *r);
enum MHD_Result api_image_tag(struct api_req *r);
enum MHD_Result api_image_delete(struct api_req *r);
/* container_ops.c */
enum MHD_Result api_container_pause(struct api_req *r);
enum MHD_Result api_container_unpause(struct api_req *r);
enum MHD_Result api_container_rename(struct api_req *r);
enum MHD_Result api_container_update(struct api_req *r);
/* commit.c: diff, commit, container and image prune */
enum MHD_Result api_container_changes(struct api_req *r);
enum MHD_Result api_commit(struct api_req *r);
enum MHD_Result api_containers_prune(struct api_req *r);
enum MHD_Result api_images_prune(struct api_req *r);
/* exec.c, and exec start in io.c */
enum MHD_Result api_exec_create(struct api_req *r);
enum MHD_Result api_exec_start(struct api_req *r);
enum MHD_Result api_exec_resize(struct api_req *r);
enum MHD_Result api_exec_inspect(struct api_req *r);
/* network.c */
enum MHD_Result api_networks_list(struct api_req *r);
enum MHD_Result api_network_inspect(struct api_req *r);
enum MHD_Result api_network_delete(struct api_req *r);
enum MHD_Result api_network_create(struct api_req *r);
enum MHD_Result api_networks_prune(struct api_req *r);
enum MHD_Result api_network_connect(struct api_req *r);
enum MHD_Result api_network_disconnect(struct api_req *r);
/* networks.c */
enum MHD_Result api_volumes_list(struct api_req *r);
enum MHD_Result api_volume_inspect(struct api_req *r);
enum MHD_Result api_plugin_inspect(struct api_req *r);
enum MHD_Result api_plugins_list(struct api_req *r);
/* Swarm, nodes, services, tasks, secrets, configs: dockerd's 503 outside a swarm. */
enum MHD_Result api_swarm_inactive(struct api_req *r);
enum MHD_Result api_images_save(struct api_req *r);
enum MHD_Result api_image_save(struct api_req *r);
enum MHD_Result api_images_load_begin(struct api_req *r);
enum MHD_Result api_images_load(struct api_req *r);
enum MHD_Result api_images_create_begin(struct api_req *r);
enum MHD_Result api_images_create(struct api_req *r);
/* registry.c */
enum MHD_Result api_image_pull(struct api_req *r);
enum MHD_Result api_image_push(struct api_req *r);
enum MHD_Result api_auth(struct api_req *r);
enum MHD_Result api_distribution(struct api_req *r);
enum MHD_Result api_images_search(struct api_req *r);

enum MHD_Result api_container_create(struct api_req *r);
enum MHD_Result api_container_start(struct api_req *r);
enum MHD_Result api_container_stop(struct api_req *r);
enum MHD_Result api_container_restart(struct api_req *r);
enum MHD_Result api_container_kill(struct api_req *r);
enum MHD_Result api_container_delete(struct api_req *r);
enum MHD_Result api_containers_list(struct api_req *r);
enum MHD_Result api_container_inspect(struct api_req *r);
enum MHD_Result api_container_resize(struct api_req *r);
enum MHD_Result api_container_wait(struct api_req *r);
enum MHD_Result api_container_logs(struct api_req *r);
/* observe.c */
enum MHD_Result api_events(struct api_req *r);
enum MHD_Result api_container_stats(struct api_req *r);
enum MHD_Result api_container_top(struct api_req *r);
enum MHD_Result api_system_df(struct api_req *r);
/* Publish an image event (load, tag, untag, delete, import, save) for ref, named name or its id. */
void api_image_event(struct eng *e, const char *action, const char *ref, const char *name);
enum MHD_Result api_container_attach(struct api_req *r);
/* archive.c: copy (HEAD, GET, PUT /containers/{id}/archive) and export */
enum MHD_Result api_container_archive_head(struct api_req *r);
enum MHD_Result api_container_archive_get(struct api_req *r);
enum MHD_Result api_container_archive_put_begin(struct api_req *r);
enum MHD_Result api_container_archive_put(struct api_req *r);
enum MHD_Result api_container_export(struct api_req *r);
/* Shut down every hijacked attach connection (api_stop). */
void api_hijacks_shutdown(struct api_server *srv);
