/* The engine: containers and images behind one handle; the API layer and the CLI call this. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/gerr.h"

/* Errors keep Docker's meaning in their errno, so the API layer can map them to status codes:
 * ENOENT -> 404 ("No such container: x", "No such image: x"), EEXIST/EBUSY -> 409 (conflict),
 * EINVAL -> 400, ENOTSUP -> 501, anything else -> 500. Messages are Docker's where it has one. */

struct img_registry_config;

struct eng_config {
        const char *root;      /* /var/lib/gantry: gantry.db, blobs/, layers/, containers/ */
        const char *exec_root; /* /run/gantry: shim sockets, runtime state */
        const struct img_registry_config *registry; /* insecure, mirrors, certs dir; or NULL */
        const char *network_prefix; /* names of the default bridge (<prefix>0), user bridges
                                     * (<prefix>-<id>) and the nftables tables; "gantry" */
        const char *bridge;         /* the default bridge's name, when not <prefix>0 */
        const char *bip;            /* the default bridge's address/prefix, when not picked */
        const char *const *dns;     /* dockerd's --dns: nameservers of containers without
                                     * HostConfig.Dns (and the resolver's upstream);
                                     * NULL-terminated, NULL = the host's resolv.conf */
        const char *mtu;            /* the default bridge's MTU (--mtu), NULL: 1500 */
        bool no_fast_path;          /* --no-fast-path: bridges carry container to container */
        /* --default-address-pool "base=A.B.C.D/N,size=M" each, NULL-terminated; NULL or empty:
         * dockerd's pools */
        const char *const *address_pools;
};

struct eng;

int eng_open(const struct eng_config *cfg, struct eng **out, struct gerr **err);
/* The daemon stops: blocked waits (container wait, attach before start) return ESHUTDOWN. */
void eng_shutdown(struct eng *e);
void eng_close(struct eng *e);
const char *eng_root(const struct eng *e);
const char *eng_exec_root(const struct eng *e);
struct img_store *eng_images(struct eng *e);
/* /info fields the engine knows (Containers, ContainersRunning, Images, ...). */
json_t *eng_info(struct eng *e);

/* ---- containers (Docker shapes in and out) ---- */

/* body: the POST /containers/create JSON (Config fields at top level plus HostConfig,
 * NetworkingConfig). name may be NULL (a random name is chosen). Returns the new id. */
int eng_container_create(struct eng *e, const char *name, json_t *body, char **id_out,
                         json_t **warnings_out, struct gerr **err);
/* ref: full id, unique id prefix or name (with or without leading '/'). */
int eng_container_resolve(struct eng *e, const char *ref, char **id_out, struct gerr **err);
/* EALREADY when it runs already (dockerd: 304); eng_container_stop likewise when stopped. */
int eng_container_start(struct eng *e, const char *ref, struct gerr **err);
/* Block until the condition: "not-running" (default), "next-exit", "removed". gone (may be
 * NULL), asked at each wake-up, ends the wait early (ECANCELED) when the caller's client has
 * left; eng_wake makes waiters ask it. */
int eng_container_wait(struct eng *e, const char *ref, const char *condition, int *exit_code,
                       bool (*gone)(void *), void *gone_arg, struct gerr **err);
void eng_wake(struct eng *e);
int eng_container_kill(struct eng *e, const char *ref, int sig, struct gerr **err);
/* signal (0: the container's StopSignal, default SIGTERM), then SIGKILL after timeout seconds
 * (-1: the container's StopTimeout, default 10). */
int eng_container_stop(struct eng *e, const char *ref, int timeout, int signal, struct gerr **err);
/* Stop (when running) as eng_container_stop, start again, and emit dockerd's "restart" event. */
int eng_container_restart(struct eng *e, const char *ref, int timeout, int signal,
                          struct gerr **err);
int eng_container_remove(struct eng *e, const char *ref, bool force, bool volumes,
                         struct gerr **err);
/* GET /containers/json: all = include stopped; filters = Docker's filter object or NULL. */
int eng_container_list(struct eng *e, bool all, json_t *filters, json_t **out,
                       struct gerr **err);
/* GET /containers/{id}/json, dockerd's shape. */
int eng_container_inspect(struct eng *e, const char *ref, json_t **out, struct gerr **err);
/* ?size=1 of inspect and list: SizeRw (the writable layer) and SizeRootFs (that plus the image)
 * on a container object of either shape (Id, and Image or ImageID). */
void eng_container_add_sizes(struct eng *e, json_t *ctr);

struct eng_logs_opts {
        bool follow, stdout_, stderr_, timestamps;
        long long since, until; /* unix nanoseconds, 0 = unset */
        long tail;              /* -1 = all */
};
/* Write the log to fd: multiplexed 8-byte framing unless the container has a tty. */
int eng_container_logs(struct eng *e, const char *ref, const struct eng_logs_opts *o, int fd,
                       struct gerr **err);

/* Detach keys of an attached tty: docker's default, or what the client asked for. */
#define ENG_DETACH_KEYS_DEFAULT "ctrl-p,ctrl-q"
struct eng_detach_keys {
        unsigned char keys[16];
        size_t len, matched; /* matched: how many of keys the input has shown so far */
};
/* "ctrl-p,ctrl-q" (NULL or "" = the default) into keys; EINVAL naming the spec as dockerd does. */
int eng_detach_keys_parse(const char *spec, struct eng_detach_keys *out, struct gerr **err);
/* Input of an attached tty through the matcher: the bytes to forward go to out (room for n +
 * k->len), their count returned; *detach once the sequence is complete (the keys themselves are
 * never forwarded, nor anything after them in this read). */
size_t eng_detach_keys_filter(struct eng_detach_keys *k, const char *in, size_t n, char *out,
                              bool *detach);

struct eng_attach_opts {
        bool stream, logs, stdin_, stdout_, stderr_;
        const char *detach_keys; /* detachKeys query: NULL = the default; used with a tty */
};
/* Attach the hijacked connection fd to the container's stdio until it exits or the client
 * closes; framing as logs. Callable before start (docker run attaches first): output from the
 * first byte on reaches the client. */
int eng_container_attach(struct eng *e, const char *ref, const struct eng_attach_opts *o, int fd,
                         struct gerr **err);
int eng_container_resize(struct eng *e, const char *ref, unsigned h, unsigned w,
                         struct gerr **err);

/* ---- pause, unpause, rename (engine/container_ops.c) ---- */
/* EBUSY with dockerd's messages when not running, already paused or not paused. */
int eng_container_pause(struct eng *e, const char *ref, bool pause, struct gerr **err);
/* EEXIST when another container has the name, EINVAL for an invalid one. */
int eng_container_rename(struct eng *e, const char *ref, const char *name, struct gerr **err);
/* POST /containers/{id}/update: resources (written to the running cgroup) and RestartPolicy,
 * kept in the container's config. */
int eng_container_update(struct eng *e, const char *ref, json_t *body, struct gerr **err);

/* docker import (engine/image_import.c): the rootfs tar on fd as a one-layer image whose config
 * the Dockerfile instructions in changes give (as commit --change), message its history's
 * comment (NULL: "Imported from -"). EINVAL for a bad change. */
int eng_image_import(struct eng *e, int fd, const char *repo_tag, const char *const *changes,
                     size_t n_changes, const char *message, char **id_out, struct gerr **err);

/* ---- exec (engine/exec.c) ---- */
/* body: POST /containers/{id}/exec (Cmd, Env, User, WorkingDir, Tty, AttachStdin/out/err,
 * Privileged). EBUSY when the container is not running. */
int eng_exec_create(struct eng *e, const char *ref, json_t *body, char **id_out,
                    struct gerr **err);
struct eng_exec_start_opts {
        bool detach;
        bool tty, tty_set; /* the start body's Tty overrides the create's when set */
};
/* Start it; unless detached, carry its stdio on fd (framed as attach) until it exits. */
int eng_exec_start(struct eng *e, const char *ref, const struct eng_exec_start_opts *o, int fd,
                   struct gerr **err);
int eng_exec_inspect(struct eng *e, const char *ref, json_t **out, struct gerr **err);
int eng_exec_resize(struct eng *e, const char *ref, unsigned h, unsigned w, struct gerr **err);
int eng_exec_tty(struct eng *e, const char *ref, bool *tty, struct gerr **err);

/* ---- events (events.c) ---- */
/* Publish a Docker event to every /events subscriber and the in-memory ring. type: "container",
 * "image", "network", "volume", "daemon"; action: Docker's ("create", "start", "die", "kill",
 * "exec_start: sh -c ls", "health_status: healthy", "tag", ...); id: the actor's id (container
 * id, image id "sha256:..." or reference). attrs: Actor.Attributes as string values (exitCode,
 * signal, name, image, ...), may be NULL, the reference is stolen. Never blocks on clients and
 * never takes e's container lock, so it may be called with it held. For a container, use
 * eng_event_ctr (engine_internal.h), which adds name, image and labels from the record. */
void eng_event(struct eng *e, const char *type, const char *action, const char *id,
               json_t *attrs);

struct eng_events_opts {
        double since, until; /* unix seconds; 0 = unset (since unset: only new events) */
        json_t *filters;     /* Docker's filters object ({"type":["container"],...}) or NULL */
};
/* Write matching events to fd as JSON lines: the past ones since o->since from the ring, then
 * new ones as they come, until o->until passes, fd's reader hangs up or a write fails. */
int eng_events_stream(struct eng *e, const struct eng_events_opts *o, int fd, struct gerr **err);
/* Streams open right now (/info NEventsListener). */
int eng_events_listeners(struct eng *e);

/* ---- observing (container_stats.c) ---- */
/* One stats sample in dockerd's shape (read, pids_stats, cpu_stats, memory_stats, blkio_stats,
 * networks, name, id), without precpu_stats/preread: the caller pairs two samples. A stopped
 * container gives zeros. */
int eng_container_stats(struct eng *e, const char *ref, json_t **out, struct gerr **err);
/* {"Titles": [...], "Processes": [[...]]}: ps ps_args (default -ef) on the host, the rows of the
 * container's processes. EBUSY when it is not running. */
int eng_container_top(struct eng *e, const char *ref, const char *ps_args, json_t **out,
                      struct gerr **err);
/* GET /system/df: LayersSize, Images, Containers (with SizeRw), Volumes, BuildCache. */
int eng_system_df(struct eng *e, json_t **out, struct gerr **err);

/* ---- copy and export (container_archive.c, container_extract.c) ---- */
/* Running containers are seen as their processes see them (/proc/<pid>/root: bind mounts too),
 * stopped ones through a private overlay mount that never outlives the call. Paths resolve as
 * dockerd resolves them, never leaving the container's root. ENOENT: "Could not find the file
 * <path> in container <ref>". */

/* HEAD /containers/{id}/archive: Docker's ContainerPathStat {name, size, mode (Go's
 * os.FileMode bits), mtime, linkTarget}. */
int eng_container_stat_path(struct eng *e, const char *ref, const char *path, json_t **out,
                            struct gerr **err);
/* An open container filesystem and what of it goes into a tar. */
struct eng_archive;
/* GET /containers/{id}/archive: resolve and stat path now (*stat as above), tar it later. */
int eng_container_archive_open(struct eng *e, const char *ref, const char *path,
                               struct eng_archive **out, json_t **stat, struct gerr **err);
/* GET /containers/{id}/export: the container's filesystem (the overlay, without volumes). */
int eng_container_export_open(struct eng *e, const char *ref, struct eng_archive **out,
                              struct gerr **err);
/* Stream the tar to fd (streamed, never buffered whole). */
int eng_archive_write(struct eng_archive *a, int fd, struct gerr **err);
void eng_archive_close(struct eng_archive *a);

struct eng_extract_opts {
        bool no_overwrite_dir_non_dir; /* a directory never replaced by a non-directory */
        bool copy_uid_gid;             /* owner: the container's User, not the tar's */
};
/* PUT /containers/{id}/archive: unpack the tar read from fd below the directory path. EINVAL
 * "extraction point is not a directory", "container rootfs is marked read-only"; entries that
 * would leave path are refused (EIO, dockerd's 500). */
int eng_container_extract(struct eng *e, const char *ref, const char *path,
                          const struct eng_extract_opts *o, int fd, struct gerr **err);
/* ---- changes, commit, prune (container_changes.c, container_commit.c, prune.c) ---- */
/* GET /containers/{id}/changes: [{"Path": "/etc", "Kind": 0|1|2}] (modified, added, deleted)
 * from the container's upper dir, in dockerd's order (a walk, parents first). */
int eng_container_changes(struct eng *e, const char *ref, json_t **out, struct gerr **err);

struct eng_commit_opts {
        const char *ref;
        const char *repo, *tag;       /* repo NULL or "": untagged */
        const char *author, *comment; /* may be NULL */
        bool pause;                   /* freeze a running container meanwhile (dockerd's default) */
        const char *const *changes;   /* Dockerfile instructions (CMD, ENV, LABEL, ...) */
        size_t n_changes;
        json_t *config; /* the request body (a container Config), or NULL: the container's */
};
/* POST /commit: the container's changes as a layer on its image; *id_out = "sha256:...". */
int eng_container_commit(struct eng *e, const struct eng_commit_opts *o, char **id_out,
                         struct gerr **err);
/* POST /containers/prune: stopped containers matching filters (until, label, label!) go;
 * *out = {"ContainersDeleted": [...] or null, "SpaceReclaimed": bytes}. */
int eng_containers_prune(struct eng *e, json_t *filters, json_t **out, struct gerr **err);
/* POST /images/prune: unused images (dangling ones unless filters say dangling=false);
 * *out = {"ImagesDeleted": [{"Untagged"}|{"Deleted"}] or null, "SpaceReclaimed": bytes}. */
int eng_images_prune(struct eng *e, json_t *filters, json_t **out, struct gerr **err);

/* ---- networks (network.c, net_endpoint.c): dockerd's shapes and messages ---- */
/* GET /networks: filters name, id, driver, type (builtin|custom), scope, label, dangling. */
int eng_network_list(struct eng *e, json_t *filters, json_t **out, struct gerr **err);
/* By name, full id or unique id prefix; ENOENT "network x not found". */
int eng_network_inspect(struct eng *e, const char *ref, json_t **out, struct gerr **err);
/* POST /networks/create body; EEXIST for a taken name, ENOENT for an unknown driver. */
int eng_network_create(struct eng *e, json_t *body, char **id_out, struct gerr **err);
/* EPERM (403) for a built-in network or one with active endpoints. */
int eng_network_remove(struct eng *e, const char *ref, struct gerr **err);
/* {"NetworksDeleted": [...] or null} of the unused user networks matching filters. */
int eng_network_prune(struct eng *e, json_t *filters, json_t **out, struct gerr **err);
/* POST /networks/{id}/connect and disconnect: body {Container, EndpointConfig} / {Container,
 * Force}; a running container gets (loses) its interface at once. */
int eng_network_connect(struct eng *e, const char *ref, json_t *body, struct gerr **err);
int eng_network_disconnect(struct eng *e, const char *ref, json_t *body, struct gerr **err);
