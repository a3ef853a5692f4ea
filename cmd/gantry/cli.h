/* gantry CLI: shared declarations of the HTTP client, output formatting and the verbs. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "common/cleanup.h"

#define CLI_API_VERSION "1.44"
#define CLI_DEFAULT_HOST "unix:///run/gantry/gantry.sock"
#define CLI_VERSION "0.1.0"

static inline void cli_json_decrefp(json_t **j)
{
        if (*j != NULL)
                json_decref(*j);
}
#define _cleanup_jsonp_ _cleanup_(cli_json_decrefp)

/* ---- client.c: Engine API over the daemon's Unix socket ---- */

/* A streamed response body: called with each piece as it arrives. Returns false to abort. */
typedef bool (*cli_sink_fn)(const char *buf, size_t len, void *ud);

struct cli_req {
        const char *method;
        const char *path;  /* "/containers/json?all=1": the /vX.Y prefix is added */
        const char *ctype; /* body Content-Type, NULL = application/json */
        const char *body;  /* request body (NULL = none) */
        size_t body_len;
        int upload_fd;    /* >= 0: stream the body from this fd (chunked) instead */
        cli_sink_fn sink; /* NULL: the body is collected in resp_body */
        void *sink_ud;
        /* At the upload's EOF, before the last chunk: < 0 aborts the request (the daemon
         * sees the body cut short). */
        int (*upload_end)(void *ud);
        void *upload_ud;
        const char *headers; /* extra header lines, each ending in \r\n (X-Registry-Auth) */
};

struct cli_resp {
        long status;
        char *body; /* NUL-terminated; NULL when streamed to a sink */
        size_t len;
        char *head; /* the response head, set before the first body byte reaches a sink */
};

/* Set from -H/--host or GANTRY_HOST; returns -1 with a message for unsupported forms. */
int cli_set_host(const char *host);
const char *cli_host(void);
/* Performs one request on its own connection. Returns 0 when a response came
 * (whatever its status), -1 after printing a connection error. */
int cli_do(const struct cli_req *req, struct cli_resp *resp);
/* Shorthands: collect the body; json variants parse it (NULL on empty body). */
int cli_call(const char *method, const char *path, json_t *body, struct cli_resp *resp);
void cli_resp_free(struct cli_resp *resp);
/* A response header's value (a new string), NULL when absent. */
char *cli_resp_header(const struct cli_resp *resp, const char *name);
/* The daemon's error message of a non-2xx response ({"message": ...} or the raw body). */
const char *cli_resp_message(struct cli_resp *resp);
/* Prints "Error response from daemon: MSG" (with prefix, e.g. "gantry: ") to stderr. */
void cli_print_daemon_error(const char *prefix, struct cli_resp *resp);
/* The API version in use ("1.44" or what the daemon said it supports). */
const char *cli_api_version(void);
/* Makes sure the version is settled before a request whose body cannot be replayed. */
int cli_negotiate(void);
/* A new raw connection to the daemon's socket (for hijacked streams). -1 on error (printed). */
int cli_raw_connect(void);
/* Writes "METHOD /vX/path HTTP/1.1" plus extra headers and an empty body on fd. */
int cli_raw_send(int fd, const char *method, const char *path, const char *extra_headers);
/* Reads a response head; *status gets the code; bytes past the head go to leftover/leftover_len
 * (a buffer of at least 8192 bytes). The head's text is copied to head (size headsz). */
int cli_raw_read_head(int fd, int *status, char *head, size_t headsz, char *leftover,
                      size_t *leftover_len);
/* URL-escapes s into a new string. */
char *cli_escape(const char *s);

/* ---- request.c: shapes the verbs share ---- */

/* One call whose reply must have status want (0: any 2xx); *out (when out is non-NULL) gets
 * the parsed body, NULL when empty. -1 after printing the daemon's or the connection's error. */
int cli_call_json(const char *method, const char *path, json_t *body, long want, json_t **out);
/* A streamed GET: the body straight to fd (never held in memory); an error body is collected by
 * the client and printed as docker does. 0, or 1. */
int cli_stream_get(const char *path, int fd);
/* The same with the body given to sink (called only for a 200 answer). */
int cli_stream_sink(const char *path, cli_sink_fn sink, void *ud);
/* Adds a --filter "name=value" to filters ({"name": {"value": true}}); -1 after printing
 * docker's message for a bad format (flag: the flag's name as docker prints it). */
int cli_filter_add(json_t *filters, const char *flag, const char *arg);
/* Appends "?filters=JSON" (or "&filters=" when path has a query already) unless empty. */
void cli_append_filters(char **path, json_t *filters);

/* ---- stream.c: the 8-byte framed stdout/stderr stream ---- */

struct cli_demux {
        bool raw; /* tty: no framing */
        unsigned char hdr[8];
        size_t hdr_len;
        size_t remaining; /* payload bytes left in the current frame */
        int fd;           /* where the current frame goes */
        bool timestamps_ok;
};

void cli_demux_init(struct cli_demux *d, bool raw);
/* Writes the payload of the frames in buf to stdout/stderr. Returns false on write error. */
bool cli_demux_feed(struct cli_demux *d, const char *buf, size_t len);
bool cli_demux_sink(const char *buf, size_t len, void *ud);
int cli_write_all(int fd, const void *buf, size_t len);

/* ---- format.c: Go-template subset, tables and human units ---- */

struct cli_tmpl;
/* Parses a --format string ("table ..." allowed). NULL after printing the error. */
struct cli_tmpl *cli_tmpl_parse(const char *text);
void cli_tmpl_free(struct cli_tmpl *t);
bool cli_tmpl_is_table(const struct cli_tmpl *t);
/* A list context (ps, images): {{json}} sorts keys and errors read as docker's formatter's. */
void cli_tmpl_set_list(struct cli_tmpl *t);
/* Appends the expansion of t over dot to out (a growing string). headers maps field names
 * to column titles: when non-NULL the header row is rendered instead. -1 after printing. */
int cli_tmpl_exec(const struct cli_tmpl *t, json_t *dot, json_t *headers, char **out);

/* Column-aligned output like Go's tabwriter(minwidth 10, padding 3). */
struct cli_table;
struct cli_table *cli_table_new(void);
void cli_table_add(struct cli_table *t, const char *line); /* cells separated by \t */
void cli_table_flush(struct cli_table *t, FILE *f);        /* prints and frees */
void cli_table_discard(struct cli_table *t);

/* "4.26MB" (3 significant digits, decimal units). */
void cli_human_size(double bytes, char *buf, size_t n);
/* "2 seconds", "About a minute", ... (go-units HumanDuration). */
void cli_human_duration(int64_t seconds, char *buf, size_t n);
/* Docker's CLI string conversions: the image's short id, ellipsis to n runes. */
void cli_ellipsis(const char *s, size_t maxrunes, char *buf, size_t n);
/* Appends printf output to *s (reallocated). */
void cli_appendf(char **s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- verbs (cmd_*.c): argc/argv start at the verb; return the exit status ---- */
int cmd_run(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_start(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_wait(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_images(int argc, char **argv);
int cmd_load(int argc, char **argv);
int cmd_import(int argc, char **argv);
/* cmd_save.c */
int cmd_save(int argc, char **argv);
int cmd_tag(int argc, char **argv);
int cmd_rmi(int argc, char **argv);
int cmd_image_inspect(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_pause(int argc, char **argv);
int cmd_unpause(int argc, char **argv);
int cmd_rename(int argc, char **argv);
/* cmd_cp.c */
int cmd_cp(int argc, char **argv);
int cmd_export(int argc, char **argv);
/* cmd_commit.c */
int cmd_diff(int argc, char **argv);
int cmd_commit(int argc, char **argv);
int cmd_container_prune(int argc, char **argv);
int cmd_image_prune(int argc, char **argv);
/* cmd_registry.c */
int cmd_pull(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_login(int argc, char **argv);
int cmd_logout(int argc, char **argv);
int cmd_search(int argc, char **argv);
/* cmd_network.c */
int cmd_network(int argc, char **argv);
int cmd_port(int argc, char **argv);
/* cmd_container.c, cmd_update.c, cmd_history.c, attach.c */
int cmd_restart(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_attach(int argc, char **argv);
/* docker's RAMInBytes ("64m", "1g"); -1 when it does not parse. */
int cli_parse_bytes(const char *s, int64_t *out);
/* docker's resource flags (--memory, --cpus, --cpu-shares, --pids-limit, --cpuset-cpus, ...: run,
 * create and update) by long name: the HostConfig field set from arg, 1; 0 when flag is none of
 * them; -1 with why (docker's wording) when arg does not parse. */
int cli_resource_flag(const char *flag, const char *arg, json_t *hc, char *why, size_t n);
/* cmd_exec.c */
int cmd_exec(int argc, char **argv);
/* cmd_observe.c */
int cmd_events(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_system_df(int argc, char **argv);

/* attach.c: attach to (and optionally start) a container, stream until it ends and return
 * its exit status the way docker run/start -a do. */
struct cli_attach_opts {
        const char *id;
        const char *verb; /* "run" or "start", for messages */
        bool tty, stdin_open, auto_remove, start;
        const char *detach_keys; /* --detach-keys, NULL = docker's default */
        bool no_sig_proxy; /* signals act on the CLI itself (attach --sig-proxy=false, tty) */
};
int cli_attach_run(const struct cli_attach_opts *o);
/* The terminal in raw mode (docker's MakeRaw on stdin), restored at exit or on demand. */
void cli_raw_terminal(void);
void cli_restore_terminal(void);
/* A hijacked stream until it ends: fd's output through dm to stdout/stderr, stdin to fd while
 * stdin_open (its EOF half-closes fd), signals read from sfd handed to on_signal. */
/* keys (nkeys > 0, a tty's detach keys): typed on stdin, they end the loop (true returned)
 * without reaching the container, as docker's escape proxy does. */
bool cli_stream_loop(int fd, int sfd, struct cli_demux *dm, bool stdin_open,
                     void (*on_signal)(int sig, void *ud), void *ud, const unsigned char *keys,
                     size_t nkeys);
/* docker's --detach-keys ("ctrl-p,ctrl-q", NULL or "" = that) as bytes; their count, or -1 when
 * the spec is invalid. */
int cli_detach_keys(const char *spec, unsigned char *out, size_t cap);
/* Maps a start error message to docker run's exit status (125/126/127). */
int cli_start_error_status(const char *msg);

/* Inspects a container; NULL (message printed unless quiet) when missing. */
json_t *cli_inspect_container(const char *name, bool quiet);
/* Parses a verb's flags with getopt_long, calling on() per flag; returns the index of the first
 * operand, or -1 with *st set after printing docker's usage error (status 125). */
struct option;
int cli_getopts(const char *verb, int argc, char **argv, const char *shortopts,
                const struct option *longopts, int (*on)(int c, const char *arg, void *ud),
                void *ud, int *st);
/* VERB --help: the verb's summary and flags from its getopt tables, on stdout. */
void cli_print_verb_help(const char *verb, const char *shortopts, const struct option *longopts);
/* The one-line summary of a top-level verb ("run", "ps"), or NULL. */
const char *cli_verb_summary(const char *verb);
/* Prints docker's "requires at least 1 argument" unless an operand is at first; -1 then. */
int cli_need_args(const char *verb, int argc, int first, const char *usage);
/* inspect / image inspect: containers then images (only: "image" or "container"). */
int cli_inspect_objects(const char *verb, int argc, char **argv, const char *only);
/* Seconds since the epoch of an RFC 3339 time, 0 when it does not parse. */
int64_t cli_parse_time(const char *s);
/* Prints rows (objects of display strings) through a --format template; docker's exit code. */
int cli_print_list(const char *format, json_t *rows, json_t *headers);
/* Go's time.Time.String() of a unix time in the local zone. */
void cli_go_time(int64_t secs, char *buf, size_t n);
/* Prints "unknown flag" the docker way and returns 125. */
int cli_usage_error(const char *verb, const char *msg);
