/* Registry routes: pull (/images/create?fromImage=), push, /auth, /distribution, search. */
#include "api/http.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/log.h"
#include "engine/engine.h"
#include "image/registry.h"

/* Registry errors keep their HTTP meaning: 401 for auth, 429 for throttling. */
static enum MHD_Result reply_reg_err(struct api_req *r, const struct gerr *err)
{
        int e = err ? err->errnum : EIO;
        const char *m = err && err->msg ? err->msg : "registry error";
        if (e == EACCES)
                return api_reply_error(r, MHD_HTTP_UNAUTHORIZED, "%s", m);
        if (e == EAGAIN)
                return api_reply_error(r, MHD_HTTP_TOO_MANY_REQUESTS, "%s", m);
        if (e == ENOTSUP)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "%s", m);
        return api_reply_gerr(r, err);
}

static int auth_of(struct api_req *r, struct img_auth *a, struct gerr **err)
{
        const char *h = MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, "X-Registry-Auth");
        return img_auth_from_header(h, a, err);
}

/* A pull or push in a thread of its own, its progress lines through a pipe. The request waits
 * for the first line: an error before it is an HTTP error (as dockerd answers a missing
 * manifest with 404), after it a line of the stream. */
struct job {
        struct eng *eng;
        bool push;
        bool all_tags;
        char *ref, *platform, *event_name;
        struct img_auth auth;
        int rfd, wfd;
        pthread_t th;
        bool joinable;
        pthread_mutex_t lock;
        pthread_cond_t cond;
        bool started, done;
        int rc;
        struct gerr *err;
        char *id;
};

static void job_free(void *p)
{
        struct job *j = p;
        if (j == NULL)
                return;
        if (j->joinable)
                pthread_join(j->th, NULL);
        if (j->rfd >= 0)
                close(j->rfd);
        if (j->wfd >= 0)
                close(j->wfd);
        free(j->ref);
        free(j->platform);
        free(j->event_name);
        free(j->id);
        img_auth_clear(&j->auth);
        gerr_free(j->err);
        pthread_mutex_destroy(&j->lock);
        pthread_cond_destroy(&j->cond);
        free(j);
}

static void job_line(struct job *j, json_t *msg)
{
        char *s = json_dumps(msg, JSON_COMPACT);
        if (s == NULL)
                return;
        pthread_mutex_lock(&j->lock);
        if (!j->started) {
                j->started = true;
                pthread_cond_broadcast(&j->cond);
        }
        pthread_mutex_unlock(&j->lock);
        size_t n = strlen(s);
        s[n] = '\n';
        /* A client gone: the rest of the lines are dropped, the job goes on to its end. */
        (void)api_write_all(j->wfd, s, n + 1);
        free(s);
}

static void progress(void *arg, json_t *msg)
{
        job_line(arg, msg);
}

static void *job_main(void *arg)
{
        struct job *j = arg;
        struct img_store *s = eng_images(j->eng);
        if (j->push) {
                struct img_push_opts o = {.ref = j->ref,
                                          .all_tags = j->all_tags,
                                          .auth = &j->auth,
                                          .progress = progress,
                                          .arg = j};
                j->rc = img_push(s, &o, &j->err);
        } else {
                struct img_pull_opts o = {.ref = j->ref, .platform = j->platform,
                                          .auth = &j->auth, .progress = progress, .arg = j};
                j->rc = img_pull(s, &o, &j->id, &j->err);
        }
        if (j->rc < 0)
                log_info("api: %s %s: %s", j->push ? "push" : "pull", j->ref,
                         j->err && j->err->msg ? j->err->msg : "failed");
        pthread_mutex_lock(&j->lock);
        bool started = j->started;
        pthread_mutex_unlock(&j->lock);
        if (j->rc < 0 && started) {
                const char *m = j->err && j->err->msg ? j->err->msg : "failed";
                json_t *e = json_pack("{s:{s:s}, s:s}", "errorDetail", "message", m, "error", m);
                if (e != NULL)
                        job_line(j, e);
                json_decref(e);
        }
        if (j->rc >= 0)
                api_image_event(j->eng, j->push ? "push" : "pull",
                                j->push ? j->ref : j->id, j->event_name);
        close(j->wfd);
        j->wfd = -1;
        pthread_mutex_lock(&j->lock);
        j->done = true;
        pthread_cond_broadcast(&j->cond);
        pthread_mutex_unlock(&j->lock);
        return NULL;
}

static void job_forward(struct api_server *srv, void *arg, int fd)
{
        struct job *j = arg;
        char buf[16384];
        for (;;) {
                ssize_t n = read(j->rfd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                if (api_write_all(fd, buf, (size_t)n) < 0) {
                        /* Keep draining so the job never blocks on a full pipe. */
                        while (read(j->rfd, buf, sizeof(buf)) > 0)
                                ;
                        break;
                }
        }
}

static enum MHD_Result run_job(struct api_req *r, struct job *j)
{
        int fds[2];
        j->eng = r->eng;
        j->rfd = j->wfd = -1;
        pthread_mutex_init(&j->lock, NULL);
        pthread_cond_init(&j->cond, NULL);
        if (pipe2(fds, O_CLOEXEC) < 0) {
                int e = errno;
                free(j->ref);
                free(j->platform);
                free(j->event_name);
                img_auth_clear(&j->auth);
                free(j);
                return api_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "pipe: %s",
                                       strerror(e));
        }
        j->rfd = fds[0];
        j->wfd = fds[1];
        (void)fcntl(j->wfd, F_SETPIPE_SZ, 1 << 20);
        api_busy_enter(r->srv);
        int rc = pthread_create(&j->th, NULL, job_main, j);
        j->joinable = rc == 0;
        if (rc != 0) {
                api_busy_leave(r->srv);
                close(j->rfd);
                close(j->wfd);
                free(j->ref);
                free(j->platform);
                free(j->event_name);
                img_auth_clear(&j->auth);
                free(j);
                return api_reply_error(r, MHD_HTTP_INTERNAL_SERVER_ERROR, "thread: %s",
                                       strerror(rc));
        }
        pthread_mutex_lock(&j->lock);
        while (!j->started && !j->done)
                pthread_cond_wait(&j->cond, &j->lock);
        bool failed_early = j->done && !j->started;
        pthread_mutex_unlock(&j->lock);
        api_busy_leave(r->srv);
        if (failed_early) {
                pthread_join(j->th, NULL);
                j->joinable = false;
                enum MHD_Result res = j->rc < 0 ? reply_reg_err(r, j->err)
                                                : api_reply_status(r, MHD_HTTP_OK);
                job_free(j);
                return res;
        }
        return api_reply_stream(r, MHD_HTTP_OK, "application/json", job_forward, j, job_free);
}

enum MHD_Result api_image_pull(struct api_req *r)
{
        const char *from = api_query(r, "fromImage");
        const char *tag = api_query(r, "tag");
        const char *platform = api_query(r, "platform");
        _cleanup_free_ char *ref = NULL;
        /* Docker: tag is a tag or a digest; fromImage may carry either already. */
        int n;
        if (tag != NULL && *tag != '\0')
                n = asprintf(&ref, "%s%s%s", from, strncmp(tag, "sha256:", 7) == 0 ? "@" : ":",
                             tag);
        else
                n = asprintf(&ref, "%s", from);
        if (n < 0)
                return MHD_NO;
        _cleanup_free_ char *norm = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (img_normalize(ref, &norm, &err) < 0)
                return api_reply_gerr(r, err);
        struct job *j = calloc(1, sizeof(*j));
        if (j == NULL)
                return MHD_NO;
        if (auth_of(r, &j->auth, &err) < 0) {
                free(j);
                return api_reply_gerr(r, err);
        }
        j->ref = TAKE_PTR(norm);
        j->platform = platform && *platform ? strdup(platform) : NULL;
        j->event_name = img_familiar(j->ref);
        return run_job(r, j);
}

enum MHD_Result api_image_push(struct api_req *r)
{
        const char *tag = api_query(r, "tag");
        _cleanup_free_ char *ref = NULL;
        int n = tag && *tag ? asprintf(&ref, "%s:%s", r->caps[0], tag)
                            : asprintf(&ref, "%s", r->caps[0]);
        if (n < 0)
                return MHD_NO;
        _cleanup_free_ char *norm = NULL;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (img_normalize(ref, &norm, &err) < 0)
                return api_reply_gerr(r, err);
        _cleanup_free_ char *id = NULL;
        /* No tag (docker push --all-tags): every tag of the repository. */
        const char *last = strrchr(r->caps[0], '/');
        bool all = (tag == NULL || *tag == '\0') && strchr(last ? last : r->caps[0], ':') == NULL &&
                   strchr(r->caps[0], '@') == NULL;
        if (all) {
                /* the name normalized with its :latest cut off */
                char *c = strrchr(norm, ':');
                if (c != NULL && strcmp(c, ":latest") == 0)
                        *c = '\0';
        } else if (img_resolve(eng_images(r->eng), norm, &id, NULL) < 0) {
                _cleanup_free_ char *fam = img_familiar(norm);
                return api_reply_error(r, MHD_HTTP_NOT_FOUND,
                                       "An image does not exist locally with the tag: %s",
                                       fam ? fam : norm);
        }
        struct job *j = calloc(1, sizeof(*j));
        if (j == NULL)
                return MHD_NO;
        j->push = true;
        j->all_tags = all;
        if (auth_of(r, &j->auth, &err) < 0) {
                free(j);
                return api_reply_gerr(r, err);
        }
        j->ref = TAKE_PTR(norm);
        j->event_name = img_familiar(j->ref);
        return run_job(r, j);
}

enum MHD_Result api_auth(struct api_req *r)
{
        enum MHD_Result res;
        _cleanup_json_ json_t *body = api_body_json(r, false, &res);
        if (body == NULL)
                return res;
        struct img_auth a;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (img_auth_from_json(body, &a, &err) < 0)
                return api_reply_gerr(r, err);
        _cleanup_free_ char *status = NULL, *token = NULL;
        int rc = img_login(eng_images(r->eng), &a, &status, &token, &err);
        img_auth_clear(&a);
        if (rc < 0)
                return reply_reg_err(r, err);
        return api_reply_json(r, MHD_HTTP_OK,
                              json_pack("{s:s, s:s}", "Status", status, "IdentityToken",
                                        token ? token : ""));
}

enum MHD_Result api_distribution(struct api_req *r)
{
        struct img_auth a;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (auth_of(r, &a, &err) < 0)
                return api_reply_gerr(r, err);
        json_t *out = NULL;
        int rc = img_distribution(eng_images(r->eng), r->caps[0], &a, &out, &err);
        img_auth_clear(&a);
        if (rc < 0)
                return reply_reg_err(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out);
}

enum MHD_Result api_images_search(struct api_req *r)
{
        bool ok = true;
        long long limit = api_query_int(r, "limit", 25, &ok);
        if (!ok)
                return api_reply_error(r, MHD_HTTP_BAD_REQUEST, "invalid limit");
        struct img_auth a;
        _cleanup_gerr_ struct gerr *err = NULL;
        if (auth_of(r, &a, &err) < 0)
                return api_reply_gerr(r, err);
        json_t *out = NULL;
        int rc = img_search(eng_images(r->eng), api_query(r, "term"), (long)limit, &a, &out, &err);
        img_auth_clear(&a);
        if (rc < 0)
                return reply_reg_err(r, err);
        return api_reply_json(r, MHD_HTTP_OK, out);
}
