/* Container lifecycle: create, start (overlay + shim), the exit waiters, wait, kill, stop, remove. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/unixaddr.h"
#include "engine/engine_internal.h"
#include "engine/net_internal.h"
#include "engine/shim.h"
#include "image/image.h"
#include "runtime/runtime.h"

char *eng_ctr_dir(struct eng *e, const char *id)
{
        char *s = NULL;
        return asprintf(&s, "%s/%s", e->containers_dir, id) < 0 ? NULL : s;
}

char *eng_ctr_log_path(struct eng *e, const char *id)
{
        char *s = NULL;
        return asprintf(&s, "%s/%s/%s-json.log", e->containers_dir, id, id) < 0 ? NULL : s;
}

static char *ctr_file(struct eng *e, const char *id, const char *name)
{
        char *s = NULL;
        return asprintf(&s, "%s/%s/%s", e->containers_dir, id, name) < 0 ? NULL : s;
}

static bool is_mounted(const char *dir, const char *rootfs)
{
        struct stat a, b;
        return stat(dir, &a) == 0 && stat(rootfs, &b) == 0 && a.st_dev != b.st_dev;
}

static void unmount_rootfs(struct eng *e, const char *id)
{
        _cleanup_free_ char *dir = eng_ctr_dir(e, id);
        _cleanup_free_ char *rootfs = ctr_file(e, id, "rootfs");
        if (is_mounted(dir, rootfs) && umount2(rootfs, MNT_DETACH) < 0)
                log_warn("unmount %s: %m", rootfs);
}

int eng_overlay_options(struct eng *e, const char *id, const char *image_id, bool readonly,
                        char **out, struct gerr **err)
{
        _cleanup_free_ char *dir = eng_ctr_dir(e, id);
        _cleanup_strv_ char **layers = NULL;
        int r = img_layer_dirs(e->images, image_id, &layers, err);
        if (r < 0)
                return r;
        size_t len = 64 + 3 * strlen(dir);
        for (char **l = layers; *l; l++)
                len += strlen(*l) + 1;
        _cleanup_free_ char *data = malloc(len);
        if (data == NULL)
                return gerr_set(err, ENOMEM, "mount rootfs");
        /* Read-only: the upper dir is just the top lower one, and no work dir is locked. */
        char *p = data + sprintf(data, "lowerdir=");
        if (readonly)
                p += sprintf(p, "%s/upper%s", dir, layers[0] ? ":" : "");
        for (char **l = layers; *l; l++)
                p += sprintf(p, "%s%s", l == layers ? "" : ":", *l);
        if (layers[0] == NULL) { /* an image without layers: an empty lower dir */
                p += sprintf(p, "%s%s/empty", readonly ? ":" : "", dir);
                _cleanup_free_ char *empty = ctr_file(e, id, "empty");
                mkdir(empty, 0755);
        }
        if (!readonly)
                sprintf(p, ",upperdir=%s/upper,workdir=%s/work", dir, dir);
        *out = TAKE_PTR(data);
        return 0;
}

/* mount(2) directly: no helper process on the start path. A container removed when it exits
 * (--rm) never needs its upper dir after a crash: "volatile" (Linux 5.10) spares the sync of
 * the upper file system that overlayfs does at unmount, on the `docker run --rm` path. */
static int mount_rootfs(struct eng *e, const char *id, const char *image_id, bool is_volatile,
                        struct gerr **err)
{
        _cleanup_free_ char *dir = eng_ctr_dir(e, id);
        _cleanup_free_ char *rootfs = ctr_file(e, id, "rootfs");
        if (is_mounted(dir, rootfs))
                return 0;
        _cleanup_free_ char *data = NULL;
        int r = eng_overlay_options(e, id, image_id, false, &data, err);
        if (r < 0)
                return r;
        /* A volatile mount leaves $workdir/work/incompat/volatile, and overlayfs refuses the
         * dirs while it is there (Documentation/filesystems/overlayfs.rst, "Volatile mount").
         * Its unmount was clean (a restart of a --rm container): the dirs may be used again. */
        _cleanup_free_ char *incompat = NULL, *vol = NULL, *dirty = NULL;
        if (is_volatile && asprintf(&incompat, "%s/work/work/incompat", dir) >= 0 &&
            asprintf(&vol, "%s/volatile", incompat) >= 0 &&
            asprintf(&dirty, "%s/dirty", vol) >= 0 && unlink(dirty) == 0 && rmdir(vol) == 0)
                rmdir(incompat);
        if (is_volatile) {
                _cleanup_free_ char *vdata = NULL;
                if (asprintf(&vdata, "%s,volatile", data) >= 0 &&
                    mount("overlay", rootfs, "overlay", 0, vdata) == 0)
                        return 0;
                /* An older kernel refuses the option: mount as usual. */
        }
        if (mount("overlay", rootfs, "overlay", 0, data) < 0)
                return gerr_set(err, errno, "mount overlay on %s", rootfs);
        return 0;
}

/* ---- create ---- */

/* config.json for the runtime; *spec_out (optional) keeps the OCI spec for the caller. */
static int write_bundle(struct eng *e, const char *id, json_t *merged, char **layers,
                        const char *netns, json_t **spec_out, struct gerr **err)
{
        _cleanup_free_ char *dir = eng_ctr_dir(e, id);
        _cleanup_free_ char *init = NULL;
        if (json_is_true(json_object_get(json_object_get(merged, "HostConfig"), "Init")))
                init = eng_find_program("gantry-init", "GANTRY_INIT");
        struct eng_spec_in in = {.id = id, .config = merged, .container_dir = dir,
                                 .rootfs_dirs = (const char *const *)layers, .netns_path = netns,
                                 .init_path = init};
        _cleanup_json_ json_t *spec = NULL;
        int r = eng_spec_build(&in, &spec, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = json_dumps(spec, JSON_COMPACT);
        _cleanup_free_ char *path = ctr_file(e, id, "config.json");
        r = fs_write_file(path, text, strlen(text), err);
        if (r >= 0 && spec_out != NULL)
                *spec_out = json_incref(spec);
        return r;
}

int eng_ctr_rewrite_bundle(struct eng *e, const char *id, json_t *config, const char *image_id,
                           struct gerr **err)
{
        _cleanup_strv_ char **layers = NULL;
        int r = img_layer_dirs(e->images, image_id, &layers, err);
        if (r < 0)
                return r;
        return write_bundle(e, id, config, layers, NULL, NULL, err);
}

/* dockerd creates a missing working directory, owned by the process's user, before start. */
static int make_workdir(struct eng *e, const char *id, json_t *config, json_t *spec,
                        struct gerr **err)
{
        const char *wd = json_string_value(json_object_get(config, "WorkingDir"));
        if (wd == NULL || *wd == '\0' || strcmp(wd, "/") == 0)
                return 0;
        /* The bundle written at create: its process has the resolved uid and gid. */
        _cleanup_json_ json_t *loaded = NULL;
        if (spec == NULL) {
                _cleanup_free_ char *path = ctr_file(e, id, "config.json");
                json_error_t jerr;
                spec = loaded = json_load_file(path, 0, &jerr);
                if (spec == NULL)
                        return gerr_set(err, EIO, "read %s: %s", path, jerr.text);
        }
        json_t *proc = json_object_get(spec, "process");
        const char *cwd = json_string_value(json_object_get(proc, "cwd"));
        if (cwd == NULL || strcmp(cwd, "/") == 0)
                return 0;
        _cleanup_free_ char *rootfs = ctr_file(e, id, "rootfs");
        _cleanup_close_ int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return gerr_set(err, errno, "open %s", rootfs);
        _cleanup_close_ int fd = fs_open_in_root(rootfd, cwd, O_PATH | O_DIRECTORY | O_CLOEXEC, 0);
        if (fd >= 0)
                return 0;
        if (fd != -ENOENT)
                return gerr_set(err, -fd, "working directory %s", cwd);
        fd = fs_mkdir_in_root(rootfd, cwd, 0755);
        if (fd < 0)
                return gerr_set(err, -fd, "mkdir working directory %s", cwd);
        json_t *user = json_object_get(proc, "user");
        uid_t uid = (uid_t)json_integer_value(json_object_get(user, "uid"));
        gid_t gid = (gid_t)json_integer_value(json_object_get(user, "gid"));
        if ((uid != 0 || gid != 0) && fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
                return gerr_set(err, errno, "chown working directory %s", cwd);
        return 0;
}

int eng_container_create(struct eng *e, const char *name, json_t *body, char **id_out,
                         json_t **warnings_out, struct gerr **err)
{
        const char *ref = json_string_value(json_object_get(body, "Image"));
        if (ref == NULL || *ref == '\0')
                return eng_err(err, EINVAL, "No image specified");
        if (name && *name == '/')
                name++;
        if (name && *name && !eng_name_valid(name))
                return eng_err(err, EINVAL,
                               "Invalid container name (%s), only [a-zA-Z0-9][a-zA-Z0-9_.-] are "
                               "allowed",
                               name);
        _cleanup_free_ char *image_id = NULL;
        int r = img_resolve(e->images, ref, &image_id, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *icfg = NULL;
        if ((r = img_config(e->images, image_id, &icfg, err)) < 0)
                return r;
        _cleanup_strv_ char **layers = NULL;
        if ((r = img_layer_dirs(e->images, image_id, &layers, err)) < 0)
                return r;

        struct eng_ctr *c = calloc(1, sizeof(*c));
        if (c == NULL)
                return gerr_set(err, ENOMEM, "create container");
        c->refs = 1;
        eng_gen_id(c->id);
        timefmt_now(c->created);
        snprintf(c->status, sizeof(c->status), "created");
        c->image_id = strdup(image_id);
        c->image_ref = strdup(ref);
        if ((r = eng_spec_merge(body, icfg, c->id, ref, &c->config, err)) < 0 ||
            (r = eng_restart_validate(json_object_get(c->config, "HostConfig"), err)) < 0 ||
            (r = eng_log_config_get(json_object_get(c->config, "HostConfig"),
                                    &(struct eng_log_config){0}, err)) < 0) {
                eng_ctr_free(c);
                return r;
        }
        if ((r = eng_net_validate(e, c->config, err)) < 0 ||
            (r = eng_links_validate(e, c->config, err)) < 0) {
                eng_ctr_free(c);
                return r;
        }
        json_t *hc = json_object_get(c->config, "HostConfig");
        const char *net = json_string_value(json_object_get(hc, "NetworkMode"));
        if (net && strncmp(net, "container:", 10) == 0) {
                struct eng_ctr *other = NULL;
                pthread_mutex_lock(&e->lock);
                r = eng_ctr_find(e, net + 10, &other, err);
                eng_ctr_unref(other);
                pthread_mutex_unlock(&e->lock);
                if (r < 0) {
                        eng_ctr_free(c);
                        return r;
                }
        }

        _cleanup_free_ char *dir = eng_ctr_dir(e, c->id);
        static const char *const sub[] = {"upper", "work", "rootfs"};
        if (mkdir(dir, 0710) < 0) {
                r = gerr_set(err, errno, "mkdir %s", dir);
                eng_ctr_free(c);
                return r;
        }
        for (size_t i = 0; i < ARRAY_SIZE(sub) && r >= 0; i++) {
                _cleanup_free_ char *p = ctr_file(e, c->id, sub[i]);
                if (mkdir(p, 0755) < 0)
                        r = gerr_set(err, errno, "mkdir %s", p);
        }
        /* dockerd creates a missing bind source (-v /host/path:/dst) as a directory. */
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "Binds"), i, v) {
                const char *s = json_string_value(v);
                const char *colon = s ? strchr(s, ':') : NULL;
                if (r >= 0 && s && s[0] == '/' && colon) {
                        _cleanup_free_ char *src = strndup(s, (size_t)(colon - s));
                        if (!fs_exists(src))
                                r = fs_mkdir_p(src, 0755, err);
                }
        }
        if (r >= 0)
                r = eng_spec_write_etc(c->config, eng_net_dns_servers(e, c->config), dir, err);
        if (r >= 0)
                r = write_bundle(e, c->id, c->config, layers, NULL, NULL, err);
        if (r >= 0) {
                pthread_mutex_lock(&e->lock);
                struct eng_ctr *dup = NULL;
                if (name && *name && eng_ctr_find(e, name, &dup, NULL) == 0 &&
                    strcmp(dup->name, name) == 0) {
                        r = eng_err(err, EEXIST,
                                    "Conflict. The container name \"/%s\" is already in use by "
                                    "container \"%s\". You have to remove (or rename) that "
                                    "container to be able to reuse that name.",
                                    name, dup->id);
                } else {
                        c->name = name && *name ? strdup(name) : eng_gen_name(e);
                        r = eng_store_insert(e, c, err);
                        if (r >= 0) {
                                c->next = e->ctrs;
                                e->ctrs = c;
                                eng_event_ctr(e, c, "create", NULL);
                        }
                }
                eng_ctr_unref(dup);
                pthread_mutex_unlock(&e->lock);
        }
        if (r < 0) {
                fs_rm_rf(dir);
                eng_ctr_free(c);
                return r;
        }
        *id_out = strdup(c->id);
        if (warnings_out)
                *warnings_out = json_array();
        return 0;
}

/* ---- exit waiters ---- */

struct waiter_arg {
        struct eng *e;
        struct eng_ctr *c;
        struct eng_exit ex;
};

static void record_exit(struct eng *e, struct eng_ctr *c, const struct eng_exit *ex)
{
        c->running = c->paused = false;
        c->starting = false;
        c->shim_up = false;
        snprintf(c->status, sizeof(c->status), "exited");
        c->exit_code = ex->code;
        c->oom_killed = ex->oom_killed;
        snprintf(c->finished_at, sizeof(c->finished_at), "%s", ex->finished_at);
        if (c->finished_at[0] == '\0')
                timefmt_now(c->finished_at);
        c->pid = c->shim_pid = 0;
        c->exit_gen++;
        if (c->oom_killed)
                eng_event_ctr(e, c, "oom", NULL);
        char code[16];
        snprintf(code, sizeof(code), "%d", c->exit_code);
        eng_event_ctr(e, c, "die", json_pack("{s:s}", "exitCode", code));
        struct gerr *err = NULL;
        if (!c->removed && eng_store_save_state(e, c, &err) < 0) {
                log_warn("container %s: %s", c->id, err->msg);
                gerr_free(err);
        }
}

static void remove_files_and_row(struct eng *e, struct eng_ctr *c);

/* A short-lived detached thread with a small stack (the exit and removal work); 0 or errno. */
static int spawn_detached(void *(*fn)(void *), void *arg)
{
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&a, 64 * 1024);
        pthread_t t;
        int r = pthread_create(&t, &a, fn, arg);
        pthread_attr_destroy(&a);
        return r;
}

/* What follows an exit: record it, then remove or restart (which may sleep its backoff). */
static void exit_tail(struct eng *e, struct eng_ctr *c, struct eng_exit ex)
{
        log_debug("container %.12s: exited with %d", c->id, ex.code);
        unmount_rootfs(e, c->id);
        struct eng_net_leftover left = {0};
        eng_net_release(e, c, &left);
        pthread_mutex_lock(&e->lock);
        record_exit(e, c, &ex);
        c->waiter = false;
        bool autoremove = json_is_true(
                json_object_get(json_object_get(c->config, "HostConfig"), "AutoRemove"));
        autoremove = autoremove && !c->removed && !c->removing && c->restart_holds == 0;
        if (autoremove)
                c->removing = true;
        unsigned delay = 0;
        bool restart = !autoremove && eng_restart_due(e, c, &delay);
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
        if (autoremove) {
                remove_files_and_row(e, c);
                log_debug("container %.12s: removed", c->id);
        }
        if (restart)
                eng_restart_run(e, c, delay);
        eng_shim_spare_refill(0);
        /* Still counted in e->waiters: eng_close leaves e to us meanwhile. */
        eng_net_reap(e, &left);
        pthread_mutex_lock(&e->lock);
        e->waiters--;
        eng_ctr_unref(c);
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
}

static void *exit_main(void *p)
{
        struct waiter_arg *w = p;
        exit_tail(w->e, w->c, w->ex);
        free(w);
        return NULL;
}

/* A thread for the exit's work, so that the watcher goes on at once; inline if none. */
static void run_exit_tail(struct eng *e, struct eng_ctr *c, const struct eng_exit *ex)
{
        struct waiter_arg *w = malloc(sizeof(*w));
        if (w != NULL) {
                *w = (struct waiter_arg){.e = e, .c = c, .ex = *ex};
                if (spawn_detached(exit_main, w) == 0)
                        return;
                free(w);
        }
        exit_tail(e, c, *ex);
}

void eng_lifecycle_exited(struct eng *e, struct eng_ctr *c, const char *reply)
{
        struct eng_exit ex = {.code = 255};
        struct gerr *err = NULL;
        _cleanup_free_ char *exit_path = ctr_file(e, c->id, "exit.json");
        if (eng_shim_wait_reply(reply, c->id, exit_path, &ex, &err) < 0) {
                log_warn("container %s: %s", c->id, err ? err->msg : "wait failed");
                gerr_free(err);
                ex.code = 255;
                ex.finished_at[0] = '\0';
        }
        run_exit_tail(e, c, &ex);
}

/* Blocking fallback when the watcher cannot take the shim: a thread of its own waits. */
static void *waiter_main(void *p)
{
        struct waiter_arg *w = p;
        struct eng_exit ex = {.code = 255};
        struct gerr *err = NULL;
        _cleanup_free_ char *exit_path = ctr_file(w->e, w->c->id, "exit.json");
        if (eng_shim_wait(w->e->exec_root, w->c->id, exit_path, &ex, &err) < 0) {
                log_warn("container %s: %s", w->c->id, err ? err->msg : "wait failed");
                gerr_free(err);
                ex.code = 255;
                ex.finished_at[0] = '\0';
        }
        exit_tail(w->e, w->c, ex);
        free(w);
        return NULL;
}

/* Called with e->lock held. The shim's wait is asked now (connect + send, no blocking) and
 * its reply watched by exit_watch.c's one thread. */
static void start_waiter(struct eng *e, struct eng_ctr *c)
{
        c->refs++;
        e->waiters++;
        c->waiter = true;
        struct gerr *err = NULL;
        int fd = eng_shim_wait_send(e->exec_root, c->id, &err);
        if (fd >= 0 && eng_watch_add(e, c, fd) == 0)
                return;
        if (fd >= 0)
                close(fd);
        /* A shim gone already (ESRCH) or a watcher that cannot take it: a thread of its own
         * waits, or reads the exit file (it never takes e->lock before we drop it). */
        if (err != NULL && fd != -ESRCH)
                log_warn("container %s: %s", c->id, err->msg);
        gerr_free(err);
        struct waiter_arg *w = malloc(sizeof(*w));
        int r = ENOMEM;
        if (w != NULL) {
                *w = (struct waiter_arg){.e = e, .c = c};
                r = spawn_detached(waiter_main, w);
        }
        if (r != 0) {
                log_error("container %s: cannot watch its shim: %s", c->id, strerror(r));
                free(w);
                c->refs--;
                e->waiters--;
                c->waiter = false;
        }
}

static bool shim_answers(const char *exec_root, const char *id)
{
        _cleanup_free_ char *path = eng_shim_socket_path(exec_root, id);
        _cleanup_(unix_addr_done) struct unix_addr ua = {.dirfd = -1};
        if (path == NULL || unix_addr_init(&ua, path) < 0)
                return false;
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        return fd >= 0 && connect(fd, (struct sockaddr *)&ua.sa, ua.len) == 0;
}

void eng_lifecycle_adopt(struct eng *e)
{
        pthread_mutex_lock(&e->lock);
        for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                if (!c->running)
                        continue;
                if (shim_answers(e->exec_root, c->id)) {
                        c->shim_up = true;
                        start_waiter(e, c);
                        continue;
                }
                /* The shim is gone (it exited while we were down, or the machine rebooted):
                 * its exit file has the status, if it got to write one. */
                _cleanup_free_ char *exit_path = ctr_file(e, c->id, "exit.json");
                struct eng_exit ex = {.code = 255};
                if (eng_shim_read_exit(exit_path, &ex, NULL) < 0) {
                        ex.code = 255;
                        ex.oom_killed = false;
                        ex.finished_at[0] = '\0';
                }
                unmount_rootfs(e, c->id);
                record_exit(e, c, &ex);
        }
        pthread_mutex_unlock(&e->lock);
}

/* ---- start ---- */

int eng_start_error_code(const char *msg)
{
        /* dockerd's codes for a program that cannot run, which `docker run` exits with. */
        if (strstr(msg, "executable file not found") != NULL ||
            strstr(msg, "no such file or directory") != NULL)
                return 127;
        if (strstr(msg, "permission denied") != NULL)
                return 126;
        return 128;
}

static int resolve_netns(struct eng *e, json_t *config, char *buf, size_t n, struct gerr **err)
{
        const char *net = json_string_value(
                json_object_get(json_object_get(config, "HostConfig"), "NetworkMode"));
        if (net == NULL || strncmp(net, "container:", 10) != 0)
                return 0;
        struct eng_ctr *o = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, net + 10, &o, err);
        if (r >= 0 && !o->running)
                r = eng_err(err, EBUSY, "cannot join network of a non running container: %s",
                            net + 10);
        if (r >= 0)
                snprintf(buf, n, "/proc/%d/ns/net", (int)o->pid);
        eng_ctr_unref(o);
        pthread_mutex_unlock(&e->lock);
        return r < 0 ? r : 1;
}

static void start_failed(struct eng *e, struct eng_ctr *c, struct gerr **err)
{
        pthread_mutex_lock(&e->lock);
        c->starting = false;
        c->shim_up = false;
        free(c->error);
        c->error = strdup(err && *err && (*err)->msg ? (*err)->msg : "start failed");
        c->exit_code = eng_start_error_code(c->error);
        c->start_gen++;
        eng_store_save_state(e, c, NULL);
        pthread_cond_broadcast(&e->cond);
        bool auto_remove = json_is_true(
                json_object_get(json_object_get(c->config, "HostConfig"), "AutoRemove"));
        char id[65];
        snprintf(id, sizeof(id), "%s", c->id);
        pthread_mutex_unlock(&e->lock);
        /* dockerd removes an AutoRemove container whose start failed: `run --rm` waits for it. */
        if (auto_remove)
                eng_container_remove(e, id, true, false, NULL);
}

/* by_policy: a restart by the restart policy, which keeps its count; a user's start resets
 * it and ends a manual stop, as dockerd's ResetRestartManager does. */
static int start(struct eng *e, const char *ref, bool by_policy, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        /* A copy into the stopped container has its upper dir mounted: it finishes first. */
        while (r >= 0 && c->archive_writers > 0 && !e->closing)
                pthread_cond_wait(&e->cond, &e->lock);
        if (r >= 0 && c->removing)
                r = eng_err(err, EBUSY, "container is marked for removal and cannot be started");
        if (r >= 0 && !by_policy) {
                c->manual_stop = false;
                c->restart_count = 0;
                c->restart_delay_ms = 0;
        }
        if (r < 0 || c->running || c->starting) {
                /* Already running: EALREADY, dockerd's 304 (a policy start just stops). */
                if (r >= 0 && !by_policy)
                        r = eng_err(err, EALREADY, "container %s is already started", c->id);
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return r < 0 ? r : 0;
        }
        c->starting = true;
        _cleanup_json_ json_t *config = json_incref(c->config);
        _cleanup_free_ char *image_id = strdup(c->image_id);
        pthread_mutex_unlock(&e->lock);

        char id[65];
        snprintf(id, sizeof(id), "%s", c->id);
        _cleanup_free_ char *dir = eng_ctr_dir(e, id);
        _cleanup_free_ char *log_path = eng_ctr_log_path(e, id);
        _cleanup_free_ char *exit_path = ctr_file(e, id, "exit.json");
        char netns[64];
        _cleanup_json_ json_t *spec = NULL;
        int links = eng_links_prepare(e, c, err);
        r = links < 0 ? links : resolve_netns(e, config, netns, sizeof(netns), err);
        /* The bundle of create (or of the last update) is reused unless it names another
         * container's netns, whose pid changes, or links give it an environment. */
        if (r > 0 || (r >= 0 && links > 0)) {
                const char *ns = r > 0 ? netns : NULL;
                _cleanup_strv_ char **layers = NULL;
                r = img_layer_dirs(e->images, image_id, &layers, err);
                if (r >= 0)
                        r = write_bundle(e, id, config, layers, ns, &spec, err);
        }
        bool autoremove = json_is_true(
                json_object_get(json_object_get(config, "HostConfig"), "AutoRemove"));
        if (r >= 0)
                r = mount_rootfs(e, id, image_id, autoremove, err);
        if (r >= 0)
                r = make_workdir(e, id, config, spec, err);
        _cleanup_json_ json_t *net_plan = NULL;
        if (r >= 0)
                r = eng_net_prepare(e, c, &net_plan, err);
        if (r < 0) {
                unmount_rootfs(e, id);
                start_failed(e, c, err);
                pthread_mutex_lock(&e->lock);
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        unlink(exit_path);
        /* Checked at create; a container from an older gantryd falls back to the defaults. */
        struct eng_log_config lcfg;
        if (eng_log_config_get(json_object_get(config, "HostConfig"), &lcfg, NULL) < 0)
                lcfg = (struct eng_log_config){.max_files = 1};
        struct eng_shim_spawn_opts so = {
                .id = id,
                .bundle = dir,
                .exec_root = e->exec_root,
                .runtime_root = e->runtime_root,
                .log_path = log_path,
                .exit_path = exit_path,
                .tty = json_is_true(json_object_get(config, "Tty")),
                .open_stdin = json_is_true(json_object_get(config, "OpenStdin")),
                .stdin_once = json_is_true(json_object_get(config, "StdinOnce")),
                .log_max_size = (long)lcfg.max_size,
                .log_max_files = lcfg.max_files,
                .no_log = lcfg.none,
        };
        pid_t shim_pid = 0, pid = 0;
        log_debug("container %.12s: rootfs mounted, spawning its shim", id);
        r = eng_shim_spawn(&so, &shim_pid, &pid, err);
        log_debug("container %.12s: created by shim %d", id, (int)shim_pid);
        if (r >= 0 && (r = eng_net_plumb(e, c, net_plan, pid, err)) < 0) {
                log_debug("container %.12s: network: %s", id, err && *err ? (*err)->msg : "");
                /* The created container goes with its shim; nothing of it was started. */
                eng_shim_kill(e->exec_root, id, SIGKILL, NULL);
                struct eng_exit ex;
                _cleanup_free_ char *xp = ctr_file(e, id, "exit.json");
                eng_shim_wait(e->exec_root, id, xp, &ex, NULL);
        }
        log_debug("container %.12s: network ready", id);
        if (r < 0) {
                eng_net_release(e, c, NULL);
                unmount_rootfs(e, id);
                start_failed(e, c, err);
                pthread_mutex_lock(&e->lock);
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return r;
        }

        /* The attachers that came before us connect now, so they see the first byte. */
        pthread_mutex_lock(&e->lock);
        c->shim_up = true;
        c->shim_pid = shim_pid;
        c->pid = pid;
        pthread_cond_broadcast(&e->cond);
        while (c->pending_attaches > 0)
                pthread_cond_wait(&e->cond, &e->lock);
        pthread_mutex_unlock(&e->lock);

        r = eng_shim_start(e->exec_root, id, err);
        log_debug("container %.12s: started", id);
        eng_shim_spare_refill(100);

        pthread_mutex_lock(&e->lock);
        c->starting = false;
        c->start_gen++;
        if (r >= 0) {
                c->running = true;
                struct timespec mono;
                clock_gettime(CLOCK_MONOTONIC, &mono);
                c->running_since = (long long)mono.tv_sec;
                eng_health_start(e, c);
                snprintf(c->status, sizeof(c->status), "running");
                timefmt_now(c->started_at);
                c->exit_code = 0;
                c->oom_killed = false;
                free(c->error);
                c->error = NULL;
                eng_event_ctr(e, c, "start", NULL);
                struct gerr *serr = NULL;
                if (eng_store_save_state(e, c, &serr) < 0) {
                        log_warn("container %s: %s", id, serr->msg);
                        gerr_free(serr);
                }
        } else {
                free(c->error);
                c->error = strdup(err && *err && (*err)->msg ? (*err)->msg : "start failed");
                eng_shim_kill(e->exec_root, id, SIGKILL, NULL);
        }
        /* Even a failed start has a shim to reap: the waiter records its end. */
        start_waiter(e, c);
        pthread_cond_broadcast(&e->cond);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r < 0 ? gerr_wrap(err, "start container %s", id) : 0;
}

int eng_container_start(struct eng *e, const char *ref, struct gerr **err)
{
        return start(e, ref, false, err);
}

int eng_container_start_policy(struct eng *e, const char *ref, struct gerr **err)
{
        return start(e, ref, true, err);
}

/* ---- wait, kill, stop, remove ---- */

int eng_container_wait(struct eng *e, const char *ref, const char *condition, int *exit_code,
                       bool (*gone)(void *), void *gone_arg, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r < 0) {
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        const char *cond = condition && *condition ? condition : "not-running";
        bool met = true, left = false;
#define WAIT_UNTIL(done)                                                                       \
        while (!(met = (done)) && !e->closing && !(left = gone != NULL && gone(gone_arg)))    \
                pthread_cond_wait(&e->cond, &e->lock)
        if (strcmp(cond, "next-exit") == 0) {
                unsigned gen = c->exit_gen;
                WAIT_UNTIL(c->exit_gen != gen || c->removed);
        } else if (strcmp(cond, "removed") == 0) {
                WAIT_UNTIL(c->removed);
        } else if (strcmp(cond, "not-running") == 0) {
                WAIT_UNTIL(!(c->running || c->starting) || c->removed);
        } else {
                r = eng_err(err, EINVAL, "invalid condition: \"%s\"", cond);
        }
#undef WAIT_UNTIL
        /* The daemon stops, the container goes on: the wait ends without an exit code. */
        if (r >= 0 && !met && left)
                r = eng_err(err, ECANCELED, "the client went away");
        else if (r >= 0 && !met)
                r = eng_err(err, ESHUTDOWN, "daemon is shutting down");
        if (r >= 0 && exit_code)
                *exit_code = c->exit_code;
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}

int eng_container_kill(struct eng *e, const char *ref, int sig, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0 && !c->running)
                r = eng_err(err, EBUSY, "Cannot kill container: %s: Container %s is not running",
                            ref, c->id);
        char id[65] = "";
        if (r >= 0) {
                snprintf(id, sizeof(id), "%s", c->id);
                c->manual_stop = true; /* dockerd: a kill by a user ends the restart policy */
                eng_event_ctr_signal(e, c, sig ? sig : SIGKILL);
        }
        if (r < 0) {
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        pthread_mutex_unlock(&e->lock);
        r = eng_shim_kill(e->exec_root, id, sig ? sig : SIGKILL, err);
        pthread_mutex_lock(&e->lock);
        /* A frozen container takes the signal once thawed, as dockerd lets it. */
        if (r >= 0)
                eng_ctr_thaw_locked(e, c);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}

int eng_container_stop(struct eng *e, const char *ref, int timeout, int signal, struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0) {
                /* No restart by policy after a stop, also of one waiting to restart. */
                c->manual_stop = true;
                pthread_cond_broadcast(&e->cond);
        }
        if (r < 0 || !c->running) {
                /* EALREADY: dockerd's 304 for a stop of a stopped container. */
                if (r >= 0)
                        r = eng_err(err, EALREADY, "container %s is already stopped", c->id);
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        const char *ss = json_string_value(json_object_get(c->config, "StopSignal"));
        int sig = signal > 0 ? signal : ss ? rt_signal_parse(ss) : SIGTERM;
        if (sig <= 0)
                sig = SIGTERM;
        if (timeout < 0) {
                json_t *st = json_object_get(c->config, "StopTimeout");
                timeout = json_is_integer(st) ? (int)json_integer_value(st) : 10;
        }
        unsigned gen = c->exit_gen;
        char id[65];
        snprintf(id, sizeof(id), "%s", c->id);
        if (timeout != 0)
                eng_event_ctr_signal(e, c, sig);
        pthread_mutex_unlock(&e->lock);

        if (timeout != 0)
                eng_shim_kill(e->exec_root, id, sig, NULL);
        pthread_mutex_lock(&e->lock);
        eng_ctr_thaw_locked(e, c);
        pthread_mutex_unlock(&e->lock);
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout > 0 ? timeout : 0;
        pthread_mutex_lock(&e->lock);
        while (timeout != 0 && c->exit_gen == gen && !c->removed)
                if (timeout > 0 &&
                    pthread_cond_timedwait(&e->cond, &e->lock, &deadline) == ETIMEDOUT)
                        break;
        if (c->exit_gen == gen && !c->removed) {
                eng_event_ctr_signal(e, c, SIGKILL);
                pthread_mutex_unlock(&e->lock);
                eng_shim_kill(e->exec_root, id, SIGKILL, NULL);
                pthread_mutex_lock(&e->lock);
                while (c->exit_gen == gen && !c->removed && c->waiter)
                        pthread_cond_wait(&e->cond, &e->lock);
        }
        eng_event_ctr(e, c, "stop", NULL);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return 0;
}

int eng_container_restart(struct eng *e, const char *ref, int timeout, int signal,
                          struct gerr **err)
{
        /* dockerd's restart turns AutoRemove off for its stop: the container starts again. */
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0)
                c->restart_holds++;
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;
        char id[65];
        snprintf(id, sizeof(id), "%s", c->id);
        r = eng_container_stop(e, id, timeout, signal, err);
        if (r == -EALREADY) {
                if (err != NULL)
                        gerr_freep(err);
                r = 0;
        }
        if (r >= 0) {
                r = eng_container_start(e, id, err);
                if (r == -EALREADY) {
                        if (err != NULL)
                                gerr_freep(err);
                        r = 0;
                }
        }
        pthread_mutex_lock(&e->lock);
        c->restart_holds--;
        /* dockerd logs "restart" once the container runs again (daemon/restart.go). */
        if (r >= 0)
                eng_event_ctr(e, c, "restart", NULL);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}

static void *trash_main(void *p)
{
        char *dir = p;
        int r = fs_rm_rf(dir);
        if (r < 0)
                log_warn("remove %s: %s", dir, strerror(-r));
        free(dir);
        return NULL;
}

/* The container's dir leaves its place at once (a rename) and its files are unlinked by a
 * thread of its own: the removal (~17 ms of unlinks for a busybox container) is then off the
 * path of `docker rm` and of a `docker run --rm` waiting for it. What a crash leaves in
 * containers/.trash-* goes at the next start (eng_trash_sweep). */
static void remove_dir_later(struct eng *e, const char *id)
{
        _cleanup_free_ char *dir = eng_ctr_dir(e, id);
        char *trash = NULL;
        if (dir == NULL || asprintf(&trash, "%s/.trash-%s", e->containers_dir, id) < 0) {
                free(trash);
                trash = NULL;
        } else if (rename(dir, trash) < 0) {
                free(trash);
                trash = NULL;
        }
        if (trash == NULL || spawn_detached(trash_main, trash) != 0) {
                const char *d = trash ? trash : dir;
                int r = fs_rm_rf(d);
                if (r < 0)
                        log_warn("remove %s: %s", d, strerror(-r));
                free(trash);
        }
}

void eng_trash_sweep(struct eng *e)
{
        DIR *d = opendir(e->containers_dir);
        if (d == NULL)
                return;
        struct dirent *de;
        while ((de = readdir(d)) != NULL) {
                if (strncmp(de->d_name, ".trash-", 7) != 0)
                        continue;
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", e->containers_dir, de->d_name) >= 0)
                        fs_rm_rf(p);
        }
        closedir(d);
}

static void remove_files_and_row(struct eng *e, struct eng_ctr *c)
{
        unmount_rootfs(e, c->id);
        remove_dir_later(e, c->id);
        /* The shim's own log stays after it exits when it had something to say. */
        _cleanup_free_ char *shim_log = NULL;
        if (asprintf(&shim_log, "%s/shims/%s.log", e->exec_root, c->id) >= 0)
                unlink(shim_log);
        pthread_mutex_lock(&e->lock);
        struct gerr *err = NULL;
        if (eng_store_delete(e, c->id, &err) < 0) {
                log_warn("container %s: %s", c->id, err->msg);
                gerr_free(err);
        }
        if (!c->removed) {
                eng_event_ctr(e, c, "destroy", NULL);
                eng_ctr_unlink(e, c);
        }
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
}

int eng_container_remove(struct eng *e, const char *ref, bool force, bool volumes,
                         struct gerr **err)
{
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0 && c->removing)
                r = eng_err(err, EBUSY, "removal of container %s is already in progress", ref);
        else if (r >= 0 && (c->running || c->starting) && !force)
                r = eng_err(err, EBUSY,
                            "You cannot remove a running container %s. Stop the container "
                            "before attempting removal or force remove",
                            c->id);
        if (r < 0) {
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        c->removing = true;
        while (c->starting)
                pthread_cond_wait(&e->cond, &e->lock);
        if (c->running) {
                char id[65];
                snprintf(id, sizeof(id), "%s", c->id);
                eng_event_ctr_signal(e, c, SIGKILL);
                pthread_mutex_unlock(&e->lock);
                eng_shim_kill(e->exec_root, id, SIGKILL, NULL);
                pthread_mutex_lock(&e->lock);
                eng_ctr_thaw_locked(e, c);
        }
        while (c->waiter)
                pthread_cond_wait(&e->cond, &e->lock);
        pthread_mutex_unlock(&e->lock);
        remove_files_and_row(e, c);
        pthread_mutex_lock(&e->lock);
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return 0;
}
