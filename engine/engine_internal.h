/* What the engine's files share: the handle, the in-memory container records, the store. */
#pragma once

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <sys/types.h>

#include "common/gerr.h"
#include "common/timefmt.h"
#include "engine/engine.h"

/* One container as the engine holds it in memory; the db row mirrors it. Every field is read
 * and written under eng.lock; the record stays alive while refs > 0 (the list holds one). */
struct eng_ctr {
        int refs;
        char id[65];
        char *name;      /* without the leading '/' */
        char *image_id;  /* sha256:... */
        char *image_ref; /* the reference given at create */
        json_t *config;  /* the create body merged with the image config (see eng_spec_merge) */
        char created[TIMEFMT_RFC3339_LEN];
        /* state */
        char status[16]; /* created, running, exited, removing, dead */
        bool running, paused, oom_killed, restarting, dead;
        pid_t pid, shim_pid;
        int exit_code;
        char started_at[TIMEFMT_RFC3339_LEN], finished_at[TIMEFMT_RFC3339_LEN];
        int restart_count;
        bool manual_stop;         /* stopped or killed by a user: no restart by policy */
        bool boot_tried;          /* restart.c tried it at daemon start */
        json_t *health;           /* State.Health while a Healthcheck is configured */
        bool health_monitor;      /* health.c's thread runs for it */
        char *error;
        /* runtime coordination, never stored */
        bool starting;         /* a start is between mount and Running */
        bool shim_up;          /* the shim listens: attachers may connect */
        bool removed;          /* gone from the list */
        bool removing;         /* a remove is in progress */
        bool waiter;           /* a waiter thread watches the shim */
        int restart_holds;     /* API restarts in progress: their stop does not AutoRemove */
        unsigned exit_gen;     /* bumped at every exit */
        unsigned start_gen;    /* bumped at every start attempt */
        unsigned restart_delay_ms; /* the restart policy's backoff (restart.c) */
        long long running_since;   /* CLOCK_MONOTONIC seconds of the last start */
        int pending_attaches;  /* attachers registered before the shim came up */
        int archive_writers;   /* copies into the stopped container's own overlay (start waits) */
        struct eng_ctr *next;
};

struct eng {
        char *root, *exec_root, *containers_dir, *runtime_root;
        sqlite3 *db;
        struct img_store *images;
        pthread_mutex_t lock;
        pthread_cond_t cond; /* broadcast on every state change */
        struct eng_ctr *ctrs;
        int waiters; /* watched containers and health threads: eng_close leaves e to them */
        int watch_epfd, watch_stop_fd; /* exit_watch.c: every shim's wait socket, its stop */
        pthread_t watch_thread;
        struct eng_events *events; /* events.c: the ring and its subscribers */
        struct eng_exec *execs;    /* exec.c: exec instances, newest first */
        bool closing;              /* eng_shutdown: blocked waits give up */
        struct eng_netmgr *net;    /* network.c: networks, endpoints, rules */
};

/* ---- container_store.c (callers hold e->lock unless noted) ---- */
/* The "until" filter of a prune as unix seconds (0 when absent), dockerd's
 * getUntilFromPruneFilters: a timestamp, an RFC 3339 date or a duration before now. */
int eng_prune_until(json_t *filters, double *until, struct gerr **err);
/* Docker's message as is (no strerror suffix), with errnum for the status code. */
int eng_err(struct gerr **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int eng_store_init(struct eng *e, struct gerr **err);
/* Load every row into e->ctrs (at open, no lock needed). */
int eng_store_load(struct eng *e, struct gerr **err);
int eng_store_insert(struct eng *e, const struct eng_ctr *c, struct gerr **err);
int eng_store_save_state(struct eng *e, const struct eng_ctr *c, struct gerr **err);
int eng_store_delete(struct eng *e, const char *id, struct gerr **err);
int eng_store_rename(struct eng *e, const char *id, const char *name, struct gerr **err);
int eng_store_save_config(struct eng *e, const struct eng_ctr *c, struct gerr **err);

/* config.json of the bundle again from config (after an update), for the next start. */
int eng_ctr_rewrite_bundle(struct eng *e, const char *id, json_t *config, const char *image_id,
                           struct gerr **err);
json_t *eng_ctr_state_json(const struct eng_ctr *c);
void eng_gen_id(char out[65]);
/* A Docker-style adjective_surname not used by any container in e->ctrs; caller frees. */
char *eng_gen_name(struct eng *e);
bool eng_name_valid(const char *name);
/* Find by full id, name ("/name" too) or unique id prefix; the result has a new ref.
 * ENOENT "No such container: ref". */
int eng_ctr_find(struct eng *e, const char *ref, struct eng_ctr **out, struct gerr **err);
void eng_ctr_unref(struct eng_ctr *c);
void eng_ctr_free(struct eng_ctr *c);
/* Unlink from e->ctrs (drops the list's ref). */
void eng_ctr_unlink(struct eng *e, struct eng_ctr *c);

/* A start's legacy-link environment and /etc/hosts lines (net_links.c), kept in the config. */
/* The parent of every container's cgroup, kept while the daemon runs. */
#define ENG_CGROUP_PARENT "/gantry"
#define LINK_ENV_KEY "_LinkEnv"
#define LINK_HOSTS_KEY "_LinkHosts"

/* ---- container_spec.c (pure: no engine state) ---- */
/* The create body merged with the image config as dockerd stores it: Config fields at top level
 * (Cmd, Entrypoint, Env with PATH, WorkingDir, User, Labels, Hostname, StopSignal, Image...),
 * HostConfig with defaults. image_config is the image's config JSON (with .config), or NULL. */
int eng_spec_merge(json_t *body, json_t *image_config, const char *id, const char *image_ref,
                   json_t **out, struct gerr **err);
struct eng_spec_in {
        const char *id;
        json_t *config;                 /* from eng_spec_merge */
        const char *container_dir;      /* hostname, hosts, resolv.conf live there */
        const char *const *rootfs_dirs; /* where etc/passwd and etc/group are looked up, top
                                         * first, NULL-terminated; NULL = names unresolvable */
        const char *netns_path;         /* NetworkMode container:<x>: /proc/<pid>/ns/net */
        const char *init_path;          /* HostConfig.Init: gantry-init on the host */
};
/* The OCI config.json for the runtime. */
int eng_spec_build(const struct eng_spec_in *in, json_t **out, struct gerr **err);
/* The shell-visible command: Entrypoint + Cmd of a merged config (a new array). */
json_t *eng_spec_command(json_t *config);
/* Write hostname, hosts and resolv.conf into container_dir for the merged config; dns: its
 * nameservers (eng_net_dns_servers; empty: the host's). */
int eng_spec_write_etc(json_t *config, json_t *dns, const char *container_dir, struct gerr **err);
/* resolv.conf again: embedded, the resolver's 127.0.0.11 (searches and options kept). */
int eng_spec_write_resolv(json_t *config, json_t *dns, const char *container_dir, bool embedded,
                          struct gerr **err);
/* hosts again with the container's own addresses (self_ips: strings) after its hostname. */
int eng_spec_write_hosts(json_t *config, const char *container_dir, json_t *self_ips,
                         struct gerr **err);

/* ---- container_lifecycle.c ---- */
/* Adopt the containers the store says are running (at open). */
void eng_lifecycle_adopt(struct eng *e);
/* ---- exit_watch.c ---- */
/* Watch fd (a shim's wait socket, its reply pending) for c; e->lock held. */
int eng_watch_add(struct eng *e, struct eng_ctr *c, int fd);
/* Ends the watcher thread (eng_free: nothing is watched any more). */
void eng_watch_stop(struct eng *e);
/* The shim of c answered its wait (reply, or NULL when it hung up without one): record the
 * exit, off the watcher's thread. Called without e->lock. */
void eng_lifecycle_exited(struct eng *e, struct eng_ctr *c, const char *reply);
/* Removes what removals a crash interrupted left in containers/.trash-*. */
void eng_trash_sweep(struct eng *e);
char *eng_ctr_dir(struct eng *e, const char *id);
char *eng_ctr_log_path(struct eng *e, const char *id);
/* overlay mount data for the container: its upper and work dirs over the image's layers, or
 * (readonly) the upper dir as the top lower one, so that nothing is locked or written. */
int eng_overlay_options(struct eng *e, const char *id, const char *image_id, bool readonly,
                        char **out, struct gerr **err);

/* A start by the restart policy: keeps RestartCount and the manual-stop mark. */
int eng_container_start_policy(struct eng *e, const char *ref, struct gerr **err);

/* ---- log_config.c ---- */
struct eng_log_config {
        bool none;          /* the "none" driver: no log file, logs cannot be read */
        long long max_size; /* json-file max-size in bytes, 0 = unlimited */
        int max_files;      /* json-file max-file, >= 1 */
};
/* HostConfig.LogConfig checked as dockerd does at create (a known driver, known options, sizes
 * and counts that parse); EINVAL naming the bad value. */
int eng_log_config_get(json_t *hc, struct eng_log_config *out, struct gerr **err);

/* ---- restart.c ---- */
/* After an exit (caller holds e->lock): whether the restart policy restarts c; sets
 * c->restarting and the delay. */
bool eng_restart_due(struct eng *e, struct eng_ctr *c, unsigned *delay_ms);
/* HostConfig.RestartPolicy at create: a known name, a count only for on-failure, not with
 * AutoRemove (dockerd's messages). */
int eng_restart_validate(json_t *hc, struct gerr **err);
/* Wait the delay (a stop or a removal cancels it), then start c again. No lock held. */
void eng_restart_run(struct eng *e, struct eng_ctr *c, unsigned delay_ms);
/* At daemon start: start the containers whose policy brings them back (always, and
 * unless-stopped when not stopped by hand). */
void eng_restart_at_boot(struct eng *e);

/* ---- container_ops.c ---- */
/* Thaw c if paused (caller holds e->lock), so that a signal just sent reaches it. */
void eng_ctr_thaw_locked(struct eng *e, struct eng_ctr *c);

/* The exit code dockerd records for a start (or exec) that failed with msg: 127, 126, 128. */
int eng_start_error_code(const char *msg);

/* ---- container_view.c ---- */
json_t *eng_ctr_inspect_json(struct eng *e, const struct eng_ctr *c);

/* ---- container_io.c ---- */
/* Copy between a client connection and a shim stream until the stream ends; the client's
 * end of input is passed on as a half-close when want_stdin. */
/* dk (a tty's detach keys, or NULL): the client's input is watched for them, and the pump
 * returns 1 on a match, leaving the container's stdin open (dockerd's detach); else 0. */
int eng_io_pump(int client, int shim, bool want_stdin, struct eng_detach_keys *dk);

/* ---- exec.c ---- */
void eng_exec_free_all(struct eng *e);
/* Caller holds e->lock. The ids of the container's exec instances not yet finished, as inspect's
 * ExecIDs: an array, or null when there is none (dockerd's shape). */
json_t *eng_exec_ids(struct eng *e, const char *ctr_id);
/* Run cmd in the container, wait up to timeout_ms; *code and *output (4 KiB at most, both
 * streams). ETIMEDOUT after killing it. For health probes. */
int eng_exec_capture(struct eng *e, const char *ctr_id, json_t *cmd, long timeout_ms, int *code,
                     char **output, struct gerr **err);

/* ---- health.c ---- */
/* Start the health monitor of c (caller holds e->lock) when its config has a Healthcheck; it
 * ends with this run of the container. */
void eng_health_start(struct eng *e, struct eng_ctr *c);

/* ---- events.c ---- */
int eng_events_init(struct eng *e);
void eng_events_free(struct eng *e);
/* eng_event for container c, adding Attributes name, image and its labels (caller holds
 * e->lock or otherwise keeps c's fields stable). attrs stolen, may be NULL. */
void eng_event_ctr(struct eng *e, const struct eng_ctr *c, const char *action, json_t *attrs);
/* A "kill" event with Attributes.signal (the number, as dockerd writes it). */
void eng_event_ctr_signal(struct eng *e, const struct eng_ctr *c, int sig);
/* Whether event ev passes Docker's filters object (type, event, container, image, label, ...). */
bool eng_events_match(json_t *filters, json_t *ev);

/* ---- container_fs.c ---- */
enum eng_cfs_view {
        ENG_CFS_READ,   /* what a process sees (bind mounts too); a stopped one: read-only */
        ENG_CFS_WRITE,  /* the same, writable */
        ENG_CFS_ROOTFS, /* the overlay alone, as dockerd exports it */
};
/* One open view of a container's filesystem. Nothing of it stays mounted: a stopped
 * container's overlay is mounted, opened and detached at once, living on in rootfd alone. */
struct eng_cfs {
        int rootfd;
        char id[65];
        bool running;
        bool writer; /* holds the container's archive_writers */
        json_t *config; /* the container's merged config (a reference) */
        struct eng *e;
        struct eng_ctr *c;
};
/* EBUSY with dockerd's message when the container is being removed or dead. */
int eng_cfs_open(struct eng *e, const char *ref, enum eng_cfs_view view, struct eng_cfs *out,
                 struct gerr **err);
void eng_cfs_close(struct eng_cfs *fs);

/* ---- container_path.c: dockerd's path rules for copies ---- */
/* Go's filepath.Clean of path taken as absolute ("/" in front). */
char *eng_path_clean(const char *path);
/* dockerd's absPath of a request: cleaned, keeping a trailing "/" or "/." the request had. */
char *eng_path_abs(const char *path);
/* Go's filepath.Base. */
char *eng_path_base(const char *p);
/* path with every symlink followed as if rootfd were "/" (FollowSymlinkInScope); components that
 * do not exist are kept as written. A clean absolute path; negative errno. */
int eng_path_resolve(int rootfd, const char *path, char **out);
/* ---- container_stats.c ---- */
/* Bytes of the container's upper dir (dockerd's SizeRw). */
long long eng_ctr_size_rw(struct eng *e, const char *id);

/* ---- container_changes.c, layer_tar.c, commit_changes.c ---- */
/* The change list of upper against lowers (topmost first, NULL-terminated). */
int eng_changes_compute(const char *upper, char *const *lowers, json_t **out, struct gerr **err);
/* id, image id, upper dir and the image's layer dirs of the container ref. */
int eng_ctr_layers(struct eng *e, const char *ref, char id[65], char **image_id, char **upper,
                   char ***lowers, struct gerr **err);
/* The layer tar of upper to fd (not closed); empty: the tar of nothing. */
int eng_layer_tar_write(const char *upper, char *const *lowers, bool empty, int fd,
                        struct gerr **err);
/* Apply `docker commit --change` instructions to a container Config; EINVAL with dockerd's
 * messages ("run is not a valid change command"). */
int eng_commit_changes(json_t *config, const char *const *changes, size_t n, struct gerr **err);
/* dockerd's commit merge: what user (the new Config) leaves unset comes from ctr. */
void eng_commit_merge(json_t *user, json_t *ctr);
