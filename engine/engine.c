/* The engine handle: its directories, database, image store, and the re-adoption at open. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/db.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "engine/engine_internal.h"
#include "engine/net_internal.h"
#include "engine/shim.h"
#include "image/image.h"
#include "image/registry.h"
#include "runtime/cgroup.h"

static char *join(const char *a, const char *b)
{
        char *s = NULL;
        if (asprintf(&s, "%s/%s", a, b) < 0)
                return NULL;
        return s;
}

static void eng_free(struct eng *e)
{
        eng_watch_stop(e);
        while (e->ctrs) {
                struct eng_ctr *c = e->ctrs;
                e->ctrs = c->next;
                eng_ctr_unref(c);
        }
        if (e->images)
                img_store_close(e->images);
        if (e->db)
                db_close(e->db);
        eng_events_free(e);
        eng_exec_free_all(e);
        eng_net_close(e);
        pthread_cond_destroy(&e->cond);
        pthread_mutex_destroy(&e->lock);
        free(e->root);
        free(e->exec_root);
        free(e->containers_dir);
        free(e->runtime_root);
        free(e);
}

int eng_open(const struct eng_config *cfg, struct eng **out, struct gerr **err)
{
        struct eng *e = calloc(1, sizeof(*e));
        if (e == NULL)
                return gerr_set(err, ENOMEM, "open engine");
        e->watch_epfd = e->watch_stop_fd = -1;
        pthread_mutex_init(&e->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&e->cond, &ca);
        pthread_condattr_destroy(&ca);
        e->root = strdup(cfg->root ? cfg->root : "/var/lib/gantry");
        e->exec_root = strdup(cfg->exec_root ? cfg->exec_root : "/run/gantry");
        e->containers_dir = join(e->root, "containers");
        e->runtime_root = join(e->exec_root, "runtime");
        _cleanup_free_ char *dbpath = join(e->root, "gantry.db");
        int r;
        if ((r = fs_mkdir_p(e->root, 0711, err)) < 0 ||
            (r = fs_mkdir_p(e->containers_dir, 0710, err)) < 0 ||
            (r = fs_mkdir_p(e->exec_root, 0711, err)) < 0 ||
            (r = fs_mkdir_p(e->runtime_root, 0711, err)) < 0)
                goto fail;
        if ((r = eng_events_init(e)) < 0) {
                gerr_set(err, -r, "events");
                goto fail;
        }
        if ((r = db_open(dbpath, &e->db, err)) < 0)
                goto fail;
        if ((r = img_store_open(e->db, e->root, &e->images, err)) < 0)
                goto fail;
        if (cfg->registry != NULL &&
            (r = img_registry_configure(e->images, cfg->registry, err)) < 0)
                goto fail;
        if ((r = eng_store_init(e, err)) < 0 || (r = eng_store_load(e, err)) < 0 ||
            (r = eng_net_open(e, cfg, err)) < 0)
                goto fail;
        eng_lifecycle_adopt(e);
        eng_trash_sweep(e);
        /* Bridges and rules again (idempotent) before any container starts. */
        eng_net_start(e);
        /* As dockerd: always, and unless-stopped when not stopped by hand, come back. */
        eng_restart_at_boot(e);
        *out = e;
        return 0;
fail:
        gerr_wrap(err, "open engine at %s", e->root);
        eng_free(e);
        return r;
}

void eng_wake(struct eng *e)
{
        pthread_mutex_lock(&e->lock);
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
}

void eng_shutdown(struct eng *e)
{
        pthread_mutex_lock(&e->lock);
        e->closing = true;
        pthread_cond_broadcast(&e->cond);
        pthread_mutex_unlock(&e->lock);
}

void eng_close(struct eng *e)
{
        if (e == NULL)
                return;
        pthread_mutex_lock(&e->lock);
        int waiters = e->waiters;
        pthread_mutex_unlock(&e->lock);
        /* The parent of the containers' cgroups, kept while we run, goes if none is left in it
         * (other daemons' or still running containers keep it). */
        rt_cgroup_remove_empty(ENG_CGROUP_PARENT);
        eng_shim_spares_close();
        /* Waiter threads block in the shims' sockets and touch e when they return; the shims
         * outlive us and are re-adopted at the next open, so leave e to them rather than free
         * it under their feet (this happens only at daemon exit). */
        if (waiters > 0) {
                log_debug("engine closed with %d containers running", waiters);
                return;
        }
        eng_free(e);
}

const char *eng_root(const struct eng *e)
{
        return e->root;
}

const char *eng_exec_root(const struct eng *e)
{
        return e->exec_root;
}

struct img_store *eng_images(struct eng *e)
{
        return e->images;
}

json_t *eng_info(struct eng *e)
{
        long images = 0;
        img_count(e->images, &images, NULL);
        int total = 0, running = 0, paused = 0;
        pthread_mutex_lock(&e->lock);
        for (struct eng_ctr *c = e->ctrs; c; c = c->next) {
                total++;
                running += c->running && !c->paused;
                paused += c->paused;
        }
        pthread_mutex_unlock(&e->lock);
        return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:s, s:s, s:[[ss]], s:s, s:s, s:s}",
                         "NEventsListener", eng_events_listeners(e),
                         "Containers", total, "ContainersRunning", running, "ContainersPaused",
                         paused, "ContainersStopped", total - running - paused, "Images",
                         (int)images, "Driver", "overlay2", "DockerRootDir", e->root,
                         "DriverStatus", "Backing Filesystem", "extfs", "LoggingDriver",
                         "json-file", "CgroupDriver", "cgroupfs", "DefaultRuntime", "gantry");
}
