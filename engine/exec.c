/* docker exec: exec instances (create, start with their stdio, inspect, resize), run by the container's shim. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <time.h>
#include <signal.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "engine/engine_internal.h"
#include "engine/shim.h"
#include "engine/spec_internal.h"

/* Exec instances kept in memory (dockerd keeps them until the container goes, and forgets them
 * on restart); finished ones beyond this are dropped oldest first. */
#define EXEC_KEEP 256

struct eng_exec {
        char id[65];
        char ctr_id[65];
        json_t *config; /* the create body: Cmd, Env, User, WorkingDir, Tty, Attach*, Privileged */
        bool started, running, finished;
        int exit_code;
        pid_t pid;
        unsigned height, width; /* the last resize: the CLI sends it while the start runs */
        struct eng_exec *next;
};

static void exec_free(struct eng_exec *x)
{
        json_decref(x->config);
        free(x);
}

void eng_exec_free_all(struct eng *e)
{
        while (e->execs != NULL) {
                struct eng_exec *x = e->execs;
                e->execs = x->next;
                exec_free(x);
        }
}

/* Caller holds e->lock. Full id or unique prefix, as dockerd finds exec instances. */
static struct eng_exec *exec_find(struct eng *e, const char *ref, struct gerr **err)
{
        struct eng_exec *found = NULL;
        size_t len = strlen(ref);
        for (struct eng_exec *x = e->execs; x != NULL && len > 0; x = x->next) {
                if (strcmp(x->id, ref) == 0)
                        return x;
                if (strncmp(x->id, ref, len) == 0) {
                        if (found != NULL) {
                                eng_err(err, ENOENT, "No such exec instance: %s", ref);
                                return NULL;
                        }
                        found = x;
                }
        }
        if (found == NULL)
                eng_err(err, ENOENT, "No such exec instance: %s", ref);
        return found;
}

json_t *eng_exec_ids(struct eng *e, const char *ctr_id)
{
        json_t *ids = NULL;
        for (struct eng_exec *x = e->execs; x != NULL; x = x->next)
                if (!x->finished && strcmp(x->ctr_id, ctr_id) == 0) {
                        if (ids == NULL)
                                ids = json_array();
                        json_array_append_new(ids, json_string(x->id));
                }
        return ids ? ids : json_null();
}

static void forget_old(struct eng *e)
{
        size_t n = 0;
        for (struct eng_exec **pp = &e->execs; *pp != NULL;) {
                struct eng_exec *x = *pp;
                if (++n > EXEC_KEEP && (x->finished || !x->started)) {
                        *pp = x->next;
                        exec_free(x);
                } else {
                        pp = &x->next;
                }
        }
}

int eng_exec_create(struct eng *e, const char *ref, json_t *body, char **id_out,
                    struct gerr **err)
{
        json_t *cmd = json_object_get(body, "Cmd");
        if (!json_is_array(cmd) || json_array_size(cmd) == 0)
                return eng_err(err, EINVAL, "No exec command specified");
        size_t i;
        json_t *v;
        json_array_foreach (cmd, i, v)
                if (!json_is_string(v))
                        return eng_err(err, EINVAL, "Cmd: want an array of strings");
        struct eng_detach_keys keys;
        if (eng_detach_keys_parse(json_string_value(json_object_get(body, "DetachKeys")), &keys,
                                  err) < 0)
                return -EINVAL;
        struct eng_ctr *c = NULL;
        pthread_mutex_lock(&e->lock);
        int r = eng_ctr_find(e, ref, &c, err);
        if (r >= 0 && !c->running)
                r = eng_err(err, EBUSY, "container %s is not running", c->id);
        else if (r >= 0 && c->paused)
                r = eng_err(err, EBUSY, "Container %s is paused, unpause the container before exec",
                            c->id);
        struct eng_exec *x = r >= 0 ? calloc(1, sizeof(*x)) : NULL;
        if (r >= 0 && x == NULL)
                r = eng_err(err, ENOMEM, "exec");
        if (r >= 0) {
                eng_gen_id(x->id);
                snprintf(x->ctr_id, sizeof(x->ctr_id), "%s", c->id);
                x->config = json_incref(body);
                x->exit_code = -1;
                x->next = e->execs;
                e->execs = x;
                forget_old(e);
                *id_out = strdup(x->id);
        }
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        return r;
}

static void env_put(json_t *env, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq != NULL ? (size_t)(eq - kv) : strlen(kv);
        size_t i;
        json_t *v;
        json_array_foreach (env, i, v) {
                const char *s = json_string_value(v);
                if (s != NULL && strncmp(s, kv, klen) == 0 && (s[klen] == '=' || s[klen] == '\0')) {
                        json_array_set_new(env, i, json_string(kv));
                        return;
                }
        }
        json_array_append_new(env, json_string(kv));
}

/* The OCI process: the container's (capabilities, rlimits, apparmor...) with the exec's
 * command, environment, user, working directory and terminal, as dockerd builds it. */
static int build_process(struct eng *e, const char *ctr_id, json_t *cfg, const char *path,
                         struct gerr **err)
{
        _cleanup_free_ char *dir = eng_ctr_dir(e, ctr_id);
        char spec_path[PATH_MAX];
        snprintf(spec_path, sizeof(spec_path), "%s/config.json", dir);
        json_error_t je;
        _cleanup_json_ json_t *spec = json_load_file(spec_path, 0, &je);
        if (spec == NULL)
                return gerr_set(err, EIO, "read %s: %s", spec_path, je.text);
        json_t *proc = json_object_get(spec, "process");
        if (!json_is_object(proc))
                return gerr_set(err, EIO, "%s: no process", spec_path);
        json_object_set(proc, "args", json_object_get(cfg, "Cmd"));
        bool tty = json_is_true(json_object_get(cfg, "Tty"));
        json_object_set_new(proc, "terminal", json_boolean(tty));
        json_object_del(proc, "consoleSize");
        json_t *env = json_object_get(proc, "env");
        if (!json_is_array(env)) {
                env = json_array();
                json_object_set_new(proc, "env", env);
        }
        if (tty)
                env_put(env, "TERM=xterm");
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(cfg, "Env"), i, v)
                if (json_is_string(v))
                        env_put(env, json_string_value(v));
        const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
        if (wd != NULL && *wd != '\0') {
                if (*wd != '/')
                        return eng_err(err, EINVAL,
                                       "the working directory '%s' is invalid, it needs to be an "
                                       "absolute path",
                                       wd);
                json_object_set_new(proc, "cwd", json_string(wd));
        }
        const char *user = json_string_value(json_object_get(cfg, "User"));
        if (user != NULL && *user != '\0') {
                char rootfs[PATH_MAX];
                snprintf(rootfs, sizeof(rootfs), "%s/rootfs", dir);
                const char *dirs[] = {rootfs, NULL};
                struct eng_user u;
                int r = eng_user_resolve(user, NULL, dirs, &u, err);
                if (r < 0)
                        return r;
                json_t *gids = json_array();
                for (size_t k = 0; k < u.n_gids; k++)
                        json_array_append_new(gids, json_integer(u.gids[k]));
                json_object_set_new(proc, "user",
                                    json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)u.uid, "gid",
                                              (json_int_t)u.gid, "additionalGids", gids));
        }
        if (json_is_true(json_object_get(cfg, "Privileged"))) {
                /* All the container's bounding set, in every set. */
                json_t *caps = json_object_get(proc, "capabilities");
                json_t *bounding = json_object_get(caps, "bounding");
                if (json_is_array(bounding)) {
                        static const char *const sets[] = {"effective", "permitted", "inheritable"};
                        for (size_t k = 0; k < 3; k++)
                                json_object_set_new(caps, sets[k], json_deep_copy(bounding));
                }
        }
        _cleanup_free_ char *text = json_dumps(proc, JSON_COMPACT);
        if (text == NULL)
                return gerr_set(err, ENOMEM, "exec process");
        return fs_write_file(path, text, strlen(text), err);
}

static bool cfg_bool(json_t *cfg, const char *key)
{
        return json_is_true(json_object_get(cfg, key));
}

int eng_exec_start(struct eng *e, const char *ref, const struct eng_exec_start_opts *o, int fd,
                   struct gerr **err)
{
        pthread_mutex_lock(&e->lock);
        struct eng_exec *x = exec_find(e, ref, err);
        int r = x != NULL ? 0 : -ENOENT;
        if (x != NULL && x->started)
                r = eng_err(err, EBUSY, "Exec command %s is already running", x->id);
        struct eng_ctr *c = NULL;
        if (r >= 0)
                r = eng_ctr_find(e, x->ctr_id, &c, err);
        if (r >= 0 && !c->running)
                r = eng_err(err, EBUSY, "container %s is not running", c->id);
        char id[65] = "", ctr_id[65] = "";
        _cleanup_json_ json_t *cfg = NULL;
        if (r >= 0) {
                x->started = true;
                snprintf(id, sizeof(id), "%s", x->id);
                snprintf(ctr_id, sizeof(ctr_id), "%s", x->ctr_id);
                cfg = json_deep_copy(x->config);
                if (o->tty_set)
                        json_object_set_new(cfg, "Tty", json_boolean(o->tty));
        }
        eng_ctr_unref(c);
        pthread_mutex_unlock(&e->lock);
        if (r < 0)
                return r;

        _cleanup_free_ char *dir = eng_ctr_dir(e, ctr_id);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/exec-%.12s.json", dir, id);
        bool want_stdin = cfg_bool(cfg, "AttachStdin") && !o->detach;
        struct eng_shim_exec_opts so = {.exec_id = id,
                                        .process_file = path,
                                        .tty = cfg_bool(cfg, "Tty"),
                                        .want_stdin = want_stdin,
                                        .detach = o->detach};
        int sfd = -1;
        pid_t pid = 0;
        r = build_process(e, ctr_id, cfg, path, err);
        if (r >= 0)
                r = eng_shim_exec(e->exec_root, ctr_id, &so, o->detach ? NULL : &sfd, &pid, err);
        unlink(path);
        unsigned h = 0, w = 0;
        pthread_mutex_lock(&e->lock);
        x = exec_find(e, id, NULL);
        if (x != NULL) {
                x->running = r >= 0;
                x->finished = r < 0;
                x->exit_code = r < 0 ? 126 : -1; /* dockerd's code for any exec that failed to start */
                x->pid = pid;
                h = x->height;
                w = x->width;
        }
        pthread_mutex_unlock(&e->lock);
        if (r < 0 && !o->detach && fd >= 0) {
                /* dockerd reports a failed exec start in the stream, and the exit code in
                 * inspect: the client is already hijacked. */
                char msg[1200];
                int n = snprintf(msg, sizeof(msg), "OCI runtime exec failed: %s\r\n",
                                 err && *err ? (*err)->msg : "failed");
                if (n >= (int)sizeof(msg))
                        n = sizeof(msg) - 1;
                if (!so.tty) {
                        unsigned char hdr[8] = {2, 0, 0, 0, 0, 0, (unsigned char)(n >> 8),
                                                (unsigned char)n};
                        (void)!write(fd, hdr, sizeof(hdr));
                }
                (void)!write(fd, msg, (size_t)n);
        }
        if (r < 0 || o->detach)
                return r;
        if (so.tty && h > 0 && w > 0)
                eng_shim_exec_resize(e->exec_root, ctr_id, id, h, w, NULL);

        struct eng_detach_keys keys;
        bool keys_ok = eng_detach_keys_parse(json_string_value(json_object_get(cfg, "DetachKeys")),
                                             &keys, NULL) == 0;
        eng_io_pump(fd, sfd, want_stdin, so.tty && want_stdin && keys_ok ? &keys : NULL);
        close(sfd);
        bool running = false;
        int code = -1;
        struct gerr *serr = NULL;
        if (eng_shim_exec_status(e->exec_root, ctr_id, id, &running, &code, &serr) < 0) {
                /* The shim went with its container: the exec died with it. */
                log_debug("exec %s: %s", id, serr->msg);
                gerr_free(serr);
                running = false;
                code = 137;
        }
        pthread_mutex_lock(&e->lock);
        x = exec_find(e, id, NULL);
        if (x != NULL && !running) {
                x->running = false;
                x->finished = true;
                x->exit_code = code;
        }
        pthread_mutex_unlock(&e->lock);
        return 0;
}

/* A detached exec's end is learnt from its shim when somebody asks. Caller holds no lock. */
static void refresh(struct eng *e, const char *id)
{
        pthread_mutex_lock(&e->lock);
        struct eng_exec *x = exec_find(e, id, NULL);
        bool ask = x != NULL && x->running;
        char ctr_id[65] = "";
        if (ask)
                snprintf(ctr_id, sizeof(ctr_id), "%s", x->ctr_id);
        pthread_mutex_unlock(&e->lock);
        if (!ask)
                return;
        bool running = true;
        int code = -1;
        struct gerr *serr = NULL;
        if (eng_shim_exec_status(e->exec_root, ctr_id, id, &running, &code, &serr) < 0) {
                gerr_free(serr);
                running = false;
                code = 137;
        }
        if (running)
                return;
        pthread_mutex_lock(&e->lock);
        x = exec_find(e, id, NULL);
        if (x != NULL) {
                x->running = false;
                x->finished = true;
                x->exit_code = code;
        }
        pthread_mutex_unlock(&e->lock);
}

int eng_exec_inspect(struct eng *e, const char *ref, json_t **out, struct gerr **err)
{
        char id[65];
        pthread_mutex_lock(&e->lock);
        struct eng_exec *x = exec_find(e, ref, err);
        if (x != NULL)
                snprintf(id, sizeof(id), "%s", x->id);
        pthread_mutex_unlock(&e->lock);
        if (x == NULL)
                return -ENOENT;
        refresh(e, id);
        pthread_mutex_lock(&e->lock);
        x = exec_find(e, id, err);
        if (x == NULL) {
                pthread_mutex_unlock(&e->lock);
                return -ENOENT;
        }
        json_t *cfg = x->config;
        json_t *cmd = json_object_get(cfg, "Cmd");
        json_t *args = json_array();
        for (size_t i = 1; i < json_array_size(cmd); i++)
                json_array_append(args, json_array_get(cmd, i));
        const char *user = json_string_value(json_object_get(cfg, "User"));
        *out = json_pack(
                "{s:b, s:s, s:s, s:o, s:s, s:b, s:b, s:b, s:{s:o, s:s, s:b, s:b, s:s}, s:b, s:I}",
                "CanRemove", 0, "ContainerID", x->ctr_id, "DetachKeys",
                json_string_value(json_object_get(cfg, "DetachKeys")) ?: "", "ExitCode",
                x->finished ? json_integer(x->exit_code) : json_null(), "ID", x->id, "OpenStderr",
                cfg_bool(cfg, "AttachStderr"), "OpenStdin", cfg_bool(cfg, "AttachStdin"),
                "OpenStdout", cfg_bool(cfg, "AttachStdout"), "ProcessConfig", "arguments", args,
                "entrypoint", json_string_value(json_array_get(cmd, 0)) ?: "", "privileged",
                cfg_bool(cfg, "Privileged"), "tty", cfg_bool(cfg, "Tty"), "user", user ? user : "",
                "Running", x->running, "Pid", (json_int_t)(x->running ? x->pid : 0));
        pthread_mutex_unlock(&e->lock);
        return *out != NULL ? 0 : gerr_set(err, ENOMEM, "exec inspect");
}

int eng_exec_resize(struct eng *e, const char *ref, unsigned h, unsigned w, struct gerr **err)
{
        pthread_mutex_lock(&e->lock);
        struct eng_exec *x = exec_find(e, ref, err);
        char id[65] = "", ctr_id[65] = "";
        bool running = x != NULL && x->running;
        if (x != NULL) {
                x->height = h;
                x->width = w;
                snprintf(id, sizeof(id), "%s", x->id);
                snprintf(ctr_id, sizeof(ctr_id), "%s", x->ctr_id);
        }
        pthread_mutex_unlock(&e->lock);
        if (x == NULL)
                return -ENOENT;
        if (!running)
                return 0; /* dockerd: a resize racing the exec's end is not an error */
        return eng_shim_exec_resize(e->exec_root, ctr_id, id, h, w, err);
}

/* Used by tty detection of exec start: whether the exec was created with a terminal. */
int eng_exec_tty(struct eng *e, const char *ref, bool *tty, struct gerr **err)
{
        pthread_mutex_lock(&e->lock);
        struct eng_exec *x = exec_find(e, ref, err);
        if (x != NULL)
                *tty = cfg_bool(x->config, "Tty");
        pthread_mutex_unlock(&e->lock);
        return x != NULL ? 0 : -ENOENT;
}

/* Output kept from a probe, as dockerd keeps 4 KiB of it. */
#define CAPTURE_MAX 4096

int eng_exec_capture(struct eng *e, const char *ctr_id, json_t *cmd, long timeout_ms, int *code,
                     char **output, struct gerr **err)
{
        _cleanup_json_ json_t *cfg = json_pack("{s:O}", "Cmd", cmd);
        char xid[65];
        eng_gen_id(xid);
        _cleanup_free_ char *dir = eng_ctr_dir(e, ctr_id);
        char path[PATH_MAX];
        snprintf(path, sizeof(path), "%s/exec-%.12s.json", dir, xid);
        struct eng_shim_exec_opts so = {.exec_id = xid, .process_file = path};
        int sfd = -1;
        pid_t pid = 0;
        int r = build_process(e, ctr_id, cfg, path, err);
        if (r >= 0)
                r = eng_shim_exec(e->exec_root, ctr_id, &so, &sfd, &pid, err);
        unlink(path);
        if (r < 0)
                return r;
        /* The framed stream: 8-byte headers, stdout and stderr payloads alike kept. */
        char *out = calloc(1, CAPTURE_MAX + 1);
        size_t len = 0, frame_left = 0, hdr_len = 0;
        unsigned char hdr[8];
        struct timespec deadline;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += timeout_ms / 1000;
        deadline.tv_nsec += (timeout_ms % 1000) * 1000000L;
        bool timed_out = false;
        char buf[4096];
        for (;;) {
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                long left = (deadline.tv_sec - now.tv_sec) * 1000 +
                            (deadline.tv_nsec - now.tv_nsec) / 1000000;
                struct pollfd p = {.fd = sfd, .events = POLLIN};
                if (left <= 0 || poll(&p, 1, (int)left) == 0) {
                        timed_out = true;
                        break;
                }
                ssize_t n = read(sfd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                for (ssize_t i = 0; i < n;) {
                        if (frame_left == 0) {
                                hdr[hdr_len++] = (unsigned char)buf[i++];
                                if (hdr_len == 8) {
                                        frame_left = (size_t)hdr[4] << 24 | (size_t)hdr[5] << 16 |
                                                     (size_t)hdr[6] << 8 | hdr[7];
                                        hdr_len = 0;
                                }
                                continue;
                        }
                        size_t take = (size_t)(n - i) < frame_left ? (size_t)(n - i) : frame_left;
                        size_t room = CAPTURE_MAX - len;
                        if (out != NULL && room > 0) {
                                memcpy(out + len, buf + i, take < room ? take : room);
                                len += take < room ? take : room;
                        }
                        i += (ssize_t)take;
                        frame_left -= take;
                }
        }
        close(sfd);
        if (timed_out) {
                /* dockerd kills a probe that outlives its timeout and counts a failure. */
                if (pid > 0)
                        kill(pid, SIGKILL);
                free(out);
                *output = NULL;
                return eng_err(err, ETIMEDOUT, "Health check exceeded timeout (%ldms)",
                               timeout_ms);
        }
        bool running = false;
        int c = -1;
        if (eng_shim_exec_status(e->exec_root, ctr_id, xid, &running, &c, err) < 0) {
                free(out);
                return -EIO;
        }
        *code = running ? -1 : c;
        *output = out;
        return 0;
}
