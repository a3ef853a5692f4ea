/* A container's filesystem for copy and export: the running process's view or a private overlay. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"

/* Mount the overlay on a fresh directory, open its root and detach it at once: the open fd
 * keeps the mount alive and nothing is left in any mount table, whatever happens next. */
static int mount_private(struct eng *e, const char *id, const char *image_id, bool readonly,
                         struct gerr **err)
{
        _cleanup_free_ char *data = NULL;
        int r = eng_overlay_options(e, id, image_id, readonly, &data, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *dir = eng_ctr_dir(e, id);
        char mnt[4096];
        snprintf(mnt, sizeof(mnt), "%s/cp-XXXXXX", dir ? dir : "");
        if (dir == NULL || mkdtemp(mnt) == NULL)
                return gerr_set(err, errno ? errno : ENOMEM, "mkdtemp %s", mnt);
        unsigned long flags = MS_NOSUID | MS_NODEV | (readonly ? MS_RDONLY : 0);
        if (mount("overlay", mnt, "overlay", flags, data) < 0) {
                r = gerr_set(err, errno, "mount overlay on %s", mnt);
                rmdir(mnt);
                return r;
        }
        int fd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
        int saved = errno;
        if (umount2(mnt, MNT_DETACH) < 0 && fd >= 0) {
                r = gerr_set(err, errno, "unmount %s", mnt);
                close(fd);
                return r;
        }
        rmdir(mnt);
        if (fd < 0)
                return gerr_set(err, saved, "open %s", mnt);
        return fd;
}

/* The overlay the container runs on, as mounted for it in our namespace (dockerd's export). */
static int open_running_rootfs(struct eng *e, const char *id)
{
        _cleanup_free_ char *dir = eng_ctr_dir(e, id);
        if (dir == NULL)
                return -ENOMEM;
        _cleanup_close_ int dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return -errno;
        _cleanup_close_ int fd =
            openat(dfd, "rootfs", O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct stat a, b;
        if (fd < 0 || fstat(dfd, &a) < 0 || fstat(fd, &b) < 0)
                return -errno;
        return a.st_dev != b.st_dev ? TAKE_FD(fd) : -ENOENT;
}

/* /proc/<pid>/root: the container's own mount namespace, bind mounts and volumes included. */
static int open_process_root(pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
        int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

int eng_cfs_open(struct eng *e, const char *ref, enum eng_cfs_view view, struct eng_cfs *out,
                 struct gerr **err)
{
        *out = (struct eng_cfs){.rootfd = -1, .e = e};
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        /* One writer at a time into a stopped container's upper dir, and none during a start. */
        while (r >= 0 && view == ENG_CFS_WRITE && !e->closing &&
               (c->archive_writers > 0 || c->starting))
                pthread_cond_wait(&e->cond, &e->lock);
        if (r >= 0 && c->removing)
                r = eng_err(err, EBUSY, "You cannot copy from container %s which is being removed",
                            c->id);
        else if (r >= 0 && c->dead)
                r = eng_err(err, EBUSY, "You cannot copy from container %s which is Dead", c->id);
        if (r < 0) {
                eng_ctr_unref(c);
                pthread_mutex_unlock(&e->lock);
                return r;
        }
        snprintf(out->id, sizeof(out->id), "%s", c->id);
        out->c = c;
        out->config = json_incref(c->config);
        out->running = c->running && c->pid > 0;
        pid_t pid = c->pid;
        unsigned gen = c->exit_gen;
        _cleanup_free_ char *image_id = strdup(c->image_id);
        if (!out->running && view == ENG_CFS_WRITE) {
                c->archive_writers++;
                out->writer = true;
        }
        pthread_mutex_unlock(&e->lock);

        if (out->running) {
                int fd = view == ENG_CFS_ROOTFS ? open_running_rootfs(e, out->id)
                                                : open_process_root(pid);
                pthread_mutex_lock(&e->lock);
                /* The pid was still the container's when its root was opened. */
                bool same = c->running && c->exit_gen == gen;
                pthread_mutex_unlock(&e->lock);
                if (fd >= 0 && same) {
                        out->rootfd = fd;
                        return 0;
                }
                if (fd >= 0)
                        close(fd);
                if (view == ENG_CFS_WRITE) {
                        eng_cfs_close(out);
                        return eng_err(err, EBUSY, "container %s stopped during the copy", ref);
                }
                out->running = false; /* it just stopped: its overlay, read-only */
        }
        if (image_id == NULL) {
                eng_cfs_close(out);
                return gerr_set(err, ENOMEM, "container %s", ref);
        }
        r = mount_private(e, out->id, image_id, view != ENG_CFS_WRITE, err);
        if (r < 0) {
                eng_cfs_close(out);
                return gerr_wrap(err, "container %s", ref);
        }
        out->rootfd = r;
        return 0;
}

void eng_cfs_close(struct eng_cfs *fs)
{
        /* The last reference to a detached overlay goes with this close. */
        if (fs->rootfd >= 0)
                close(fs->rootfd);
        fs->rootfd = -1;
        json_decref(fs->config);
        fs->config = NULL;
        if (fs->c == NULL)
                return;
        pthread_mutex_lock(&fs->e->lock);
        if (fs->writer) {
                fs->c->archive_writers--;
                pthread_cond_broadcast(&fs->e->cond);
        }
        eng_ctr_unref(fs->c);
        pthread_mutex_unlock(&fs->e->lock);
        fs->c = NULL;
}
