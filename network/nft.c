/* nftables through libnftables in-process: one context on one thread, scripts run as one transaction. */
#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "network/network_internal.h"

/* libnftables' parser keeps ~100 KiB frames on the stack: more than the engine's waiter threads
 * (64 KiB) have. Scripts therefore run on one thread of our own with a roomy stack, which also
 * serializes the use of the single context. */
#define NFT_STACK (2u << 20)

struct nft_worker {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_t thread;
        struct nft_ctx *ctx;
        const char *script; /* the job: non-NULL until done */
        bool quiet, done, stop;
        int rc;
        char *errtext;
};

static void *worker_main(void *p)
{
        struct nft_worker *w = p;
        pthread_mutex_lock(&w->lock);
        for (;;) {
                while (w->script == NULL && !w->stop)
                        pthread_cond_wait(&w->cond, &w->lock);
                if (w->stop)
                        break;
                const char *script = w->script;
                pthread_mutex_unlock(&w->lock);
                int rc = nft_run_cmd_from_buffer(w->ctx, script);
                const char *e = nft_ctx_get_error_buffer(w->ctx);
                nft_ctx_get_output_buffer(w->ctx);
                char *text = rc != 0 && e ? strdup(e) : NULL;
                pthread_mutex_lock(&w->lock);
                w->rc = rc;
                w->errtext = text;
                w->script = NULL;
                w->done = true;
                pthread_cond_broadcast(&w->cond);
        }
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

int net_nft_open(struct net_host *h, struct gerr **err)
{
        struct nft_worker *w = calloc(1, sizeof(*w));
        if (w == NULL)
                return gerr_set(err, ENOMEM, "nftables context");
        w->ctx = nft_ctx_new(NFT_CTX_DEFAULT);
        if (w->ctx == NULL) {
                free(w);
                return gerr_set(err, ENOMEM, "nftables context");
        }
        nft_ctx_buffer_output(w->ctx);
        nft_ctx_buffer_error(w->ctx);
        pthread_mutex_init(&w->lock, NULL);
        pthread_cond_init(&w->cond, NULL);
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstacksize(&a, NFT_STACK);
        int r = pthread_create(&w->thread, &a, worker_main, w);
        pthread_attr_destroy(&a);
        if (r != 0) {
                nft_ctx_free(w->ctx);
                free(w);
                return gerr_set(err, r, "nftables thread");
        }
        h->nft = w;
        return 0;
}

void net_nft_close(struct net_host *h)
{
        struct nft_worker *w = h->nft;
        if (w == NULL)
                return;
        pthread_mutex_lock(&w->lock);
        w->stop = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        pthread_join(w->thread, NULL);
        nft_ctx_free(w->ctx);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        h->nft = NULL;
}

static int run(struct nft_worker *w, const char *script, char **errtext)
{
        pthread_mutex_lock(&w->lock);
        /* One job at a time: wait for a job of another caller to finish. */
        while (w->script != NULL || w->done)
                pthread_cond_wait(&w->cond, &w->lock);
        w->script = script;
        pthread_cond_broadcast(&w->cond);
        while (!w->done)
                pthread_cond_wait(&w->cond, &w->lock);
        int rc = w->rc;
        *errtext = w->errtext;
        w->errtext = NULL;
        w->done = false;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        return rc;
}

int net_nft_run(struct net_host *h, const char *script, struct gerr **err)
{
        char *e = NULL;
        if (run(h->nft, script, &e) == 0)
                return 0;
        size_t n = e ? strlen(e) : 0;
        while (n > 0 && (e[n - 1] == '\n' || e[n - 1] == ' '))
                n--;
        int r = gerr_set(err, 0, "nftables: %.*s", (int)(n > 2000 ? 2000 : n), e ? e : "");
        free(e);
        return r;
}

bool net_nft_ok(struct net_host *h, const char *cmd)
{
        char *e = NULL;
        bool ok = run(h->nft, cmd, &e) == 0;
        free(e);
        return ok;
}
