/* nftables through libnftables in-process, loaded while rules change and unloaded when idle. */
/*
 * libnftables brings libnftnl, libmnl, libxtables, libgmp and libjansson: about 1.2 MiB of an
 * idle daemon's PSS, though rules change only when networks, ports or the daemon change. So the
 * program is not linked against it (meson: headers only): the first script of a burst starts a
 * worker thread that dlopen()s the library and makes one context; after NFT_IDLE_SEC without a
 * script the worker frees the context, dlclose()s the library and exits, and its stack is
 * unmapped. Scripts run on that one thread: it serializes the use of the single context, and its
 * stack is roomy, as libnftables' parser keeps ~100 KiB frames on the stack (more than the
 * engine's 64 KiB waiter threads have).
 */
#include <dlfcn.h>
#include <errno.h>
#include <nftables/libnftables.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "network/network_internal.h"

#define NFT_STACK (2u << 20)
#define NFT_IDLE_SEC 10
#define NFT_LIB "libnftables.so.1"

#define NFT_FUNCS(X)                                                                               \
        X(struct nft_ctx *, nft_ctx_new, (uint32_t))                                               \
        X(void, nft_ctx_free, (struct nft_ctx *))                                                  \
        X(int, nft_ctx_buffer_output, (struct nft_ctx *))                                          \
        X(int, nft_ctx_buffer_error, (struct nft_ctx *))                                           \
        X(unsigned int, nft_ctx_output_get_flags, (struct nft_ctx *))                              \
        X(void, nft_ctx_output_set_flags, (struct nft_ctx *, unsigned int))                        \
        X(int, nft_run_cmd_from_buffer, (struct nft_ctx *, const char *))                          \
        X(const char *, nft_ctx_get_error_buffer, (struct nft_ctx *))                              \
        X(const char *, nft_ctx_get_output_buffer, (struct nft_ctx *))

struct nft_lib {
        void *handle;
        struct nft_ctx *ctx;
#define X(ret, name, args) ret(*name) args;
        NFT_FUNCS(X)
#undef X
};

struct nft_worker {
        pthread_mutex_t lock;
        pthread_cond_t cond;
        pthread_t thread;
        void *stack;
        bool running;       /* a thread exists (it may have just exited: then exited is set too) */
        bool exited;        /* the thread returned and awaits its join */
        const char *script; /* the job: non-NULL until done */
        bool json, done, stop;
        int rc;
        char *errtext, *outtext;
};

static char *lib_open(struct nft_lib *l)
{
        char *why = NULL;
        l->handle = dlopen(NFT_LIB, RTLD_NOW | RTLD_LOCAL);
        if (l->handle == NULL)
                return asprintf(&why, "cannot load %s: %s", NFT_LIB, dlerror()) < 0 ? NULL : why;
#define X(ret, name, args)                                                                         \
        if ((*(void **)&l->name = dlsym(l->handle, #name)) == NULL)                                \
                why = strdup(NFT_LIB " has no " #name);
        NFT_FUNCS(X)
#undef X
        if (why == NULL && (l->ctx = l->nft_ctx_new(NFT_CTX_DEFAULT)) == NULL)
                why = strdup("nftables context: out of memory");
        if (why != NULL) {
                dlclose(l->handle);
                l->handle = NULL;
                return why;
        }
        l->nft_ctx_buffer_output(l->ctx);
        l->nft_ctx_buffer_error(l->ctx);
        return NULL;
}

static void lib_close(struct nft_lib *l)
{
        if (l->ctx)
                l->nft_ctx_free(l->ctx);
        if (l->handle)
                dlclose(l->handle);
        memset(l, 0, sizeof(*l));
}

/* One script on the loaded library; the texts are the caller's to free. */
static int lib_run(struct nft_lib *l, const char *script, bool json, char **errtext, char **outtext)
{
        unsigned flags = l->nft_ctx_output_get_flags(l->ctx);
        unsigned js = NFT_CTX_OUTPUT_JSON | NFT_CTX_OUTPUT_HANDLE;
        l->nft_ctx_output_set_flags(l->ctx, json ? flags | js : flags & ~js);
        int rc = l->nft_run_cmd_from_buffer(l->ctx, script);
        const char *e = l->nft_ctx_get_error_buffer(l->ctx);
        const char *o = l->nft_ctx_get_output_buffer(l->ctx);
        *errtext = rc != 0 && e ? strdup(e) : NULL;
        *outtext = json && rc == 0 && o ? strdup(o) : NULL;
        return rc;
}

static void *worker_main(void *p)
{
        struct nft_worker *w = p;
        struct nft_lib lib = {0};
        pthread_mutex_lock(&w->lock);
        for (;;) {
                struct timespec until;
                clock_gettime(CLOCK_MONOTONIC, &until);
                until.tv_sec += NFT_IDLE_SEC;
                while (w->script == NULL && !w->stop)
                        if (pthread_cond_timedwait(&w->cond, &w->lock, &until) == ETIMEDOUT)
                                break;
                if (w->script == NULL) /* stopped, or idle for NFT_IDLE_SEC */
                        break;
                const char *script = w->script;
                bool json = w->json;
                pthread_mutex_unlock(&w->lock);
                char *text = NULL, *out = NULL;
                int rc = -1;
                if (lib.handle == NULL)
                        text = lib_open(&lib);
                if (lib.handle != NULL)
                        rc = lib_run(&lib, script, json, &text, &out);
                pthread_mutex_lock(&w->lock);
                w->rc = rc;
                w->errtext = text;
                w->outtext = out;
                w->script = NULL;
                w->done = true;
                pthread_cond_broadcast(&w->cond);
        }
        w->exited = true;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        lib_close(&lib);
        return NULL;
}

/* Joins a worker that exited and frees its stack; called with w->lock held. */
static void reap(struct nft_worker *w)
{
        if (!w->running || !w->exited)
                return;
        pthread_join(w->thread, NULL);
        munmap(w->stack, NFT_STACK);
        w->stack = NULL;
        w->running = w->exited = false;
}

/* Makes sure a worker runs; called with w->lock held. */
static int spawn(struct nft_worker *w)
{
        reap(w);
        if (w->running)
                return 0;
        w->stack = mmap(NULL, NFT_STACK, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK | MAP_NORESERVE, -1, 0);
        if (w->stack == MAP_FAILED) {
                w->stack = NULL;
                return -errno;
        }
        pthread_attr_t a;
        pthread_attr_init(&a);
        pthread_attr_setstack(&a, w->stack, NFT_STACK);
        int r = pthread_create(&w->thread, &a, worker_main, w);
        pthread_attr_destroy(&a);
        if (r != 0) {
                munmap(w->stack, NFT_STACK);
                w->stack = NULL;
                return -r;
        }
        w->running = true;
        return 0;
}

int net_nft_open(struct net_host *h, struct gerr **err)
{
        struct nft_worker *w = calloc(1, sizeof(*w));
        if (w == NULL)
                return gerr_set(err, ENOMEM, "nftables context");
        pthread_mutex_init(&w->lock, NULL);
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&w->cond, &ca);
        pthread_condattr_destroy(&ca);
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
        while (w->running && !w->exited)
                pthread_cond_wait(&w->cond, &w->lock);
        reap(w);
        pthread_mutex_unlock(&w->lock);
        pthread_cond_destroy(&w->cond);
        pthread_mutex_destroy(&w->lock);
        free(w);
        h->nft = NULL;
}

static int run(struct nft_worker *w, const char *script, bool json, char **errtext, char **outtext)
{
        pthread_mutex_lock(&w->lock);
        /* One job at a time: wait for a job of another caller to finish. */
        while (w->script != NULL || w->done)
                pthread_cond_wait(&w->cond, &w->lock);
        int r = spawn(w);
        if (r < 0) {
                pthread_mutex_unlock(&w->lock);
                *errtext = strdup(strerror(-r));
                return -1;
        }
        w->script = script;
        w->json = json;
        pthread_cond_broadcast(&w->cond);
        while (!w->done)
                pthread_cond_wait(&w->cond, &w->lock);
        int rc = w->rc;
        *errtext = w->errtext;
        w->errtext = NULL;
        if (outtext)
                *outtext = w->outtext;
        else
                free(w->outtext);
        w->outtext = NULL;
        w->done = false;
        pthread_cond_broadcast(&w->cond);
        pthread_mutex_unlock(&w->lock);
        return rc;
}

int net_nft_run(struct net_host *h, const char *script, struct gerr **err)
{
        char *e = NULL;
        if (run(h->nft, script, false, &e, NULL) == 0)
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
        bool ok = run(h->nft, cmd, false, &e, NULL) == 0;
        free(e);
        return ok;
}

char *net_nft_json(struct net_host *h, const char *cmd)
{
        char *e = NULL, *out = NULL;
        run(h->nft, cmd, true, &e, &out);
        free(e);
        return out;
}
