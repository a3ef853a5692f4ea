/* libcurl opened at the first registry request, so an idle gantryd maps none of its ~3 MiB of libraries. */
/*
 * Linked directly, libcurl brings OpenSSL, Kerberos, LDAP, libssh2, librtmp, nghttp2 and a dozen
 * more into every gantryd at start (measured: about 3 MiB of the idle daemon's PSS), though most
 * daemons pull rarely. The image library calls the curl functions below by their own names;
 * these definitions load libcurl.so.4 once, on the first call, and forward to it. The program is
 * not linked against libcurl at all (meson: headers only).
 */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>

#include "common/log.h"

#define CURL_FUNCS(X)                                                                              \
        X(CURLcode, curl_global_init, (long))                                                      \
        X(CURL *, curl_easy_init, (void))                                                          \
        X(CURLcode, curl_easy_setopt, (CURL *, CURLoption, ...))                                   \
        X(CURLcode, curl_easy_getinfo, (CURL *, CURLINFO, ...))                                    \
        X(CURLcode, curl_easy_perform, (CURL *))                                                   \
        X(void, curl_easy_cleanup, (CURL *))                                                       \
        X(const char *, curl_easy_strerror, (CURLcode))                                            \
        X(char *, curl_easy_escape, (CURL *, const char *, int))                                   \
        X(void, curl_free, (void *))                                                               \
        X(struct curl_slist *, curl_slist_append, (struct curl_slist *, const char *))             \
        X(void, curl_slist_free_all, (struct curl_slist *))                                        \
        X(CURLSH *, curl_share_init, (void))                                                       \
        X(CURLSHcode, curl_share_setopt, (CURLSH *, CURLSHoption, ...))                            \
        X(CURLSHcode, curl_share_cleanup, (CURLSH *))                                              \
        X(CURLM *, curl_multi_init, (void))                                                        \
        X(CURLMcode, curl_multi_add_handle, (CURLM *, CURL *))                                     \
        X(CURLMcode, curl_multi_remove_handle, (CURLM *, CURL *))                                  \
        X(CURLMcode, curl_multi_perform, (CURLM *, int *))                                         \
        X(CURLMcode, curl_multi_poll, (CURLM *, struct curl_waitfd *, unsigned int, int, int *))   \
        X(CURLMsg *, curl_multi_info_read, (CURLM *, int *))                                       \
        X(CURLMcode, curl_multi_cleanup, (CURLM *))

static struct {
#define X(ret, name, args) ret(*name) args;
        CURL_FUNCS(X)
#undef X
} fn;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static int loaded; /* 1: every symbol resolved */

static void load(void)
{
        void *h = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
        if (h == NULL) {
                log_error("registry: cannot load libcurl: %s", dlerror());
                return;
        }
#define X(ret, name, args)                                                                         \
        if ((*(void **)&fn.name = dlsym(h, #name)) == NULL) {                                      \
                log_error("registry: libcurl.so.4 has no %s", #name);                              \
                return;                                                                            \
        }
        CURL_FUNCS(X)
#undef X
        loaded = 1;
}

static int ready(void)
{
        pthread_once(&load_once, load);
        return loaded;
}

CURLcode(curl_global_init)(long flags)
{
        return ready() ? fn.curl_global_init(flags) : CURLE_FAILED_INIT;
}

CURL *(curl_easy_init)(void)
{
        return ready() ? fn.curl_easy_init() : NULL;
}

/* The option's number says its argument's type (CURLOPTTYPE_*), as libcurl reads it. */
CURLcode(curl_easy_setopt)(CURL *h, CURLoption opt, ...)
{
        if (!ready())
                return CURLE_FAILED_INIT;
        va_list ap;
        va_start(ap, opt);
        CURLcode r;
        if (opt < CURLOPTTYPE_OBJECTPOINT)
                r = fn.curl_easy_setopt(h, opt, va_arg(ap, long));
        else if (opt >= CURLOPTTYPE_OFF_T && opt < CURLOPTTYPE_BLOB)
                r = fn.curl_easy_setopt(h, opt, va_arg(ap, curl_off_t));
        else
                r = fn.curl_easy_setopt(h, opt, va_arg(ap, void *));
        va_end(ap);
        return r;
}

/* Every CURLINFO takes a pointer to where the answer goes. */
CURLcode(curl_easy_getinfo)(CURL *h, CURLINFO info, ...)
{
        if (!ready())
                return CURLE_FAILED_INIT;
        va_list ap;
        va_start(ap, info);
        CURLcode r = fn.curl_easy_getinfo(h, info, va_arg(ap, void *));
        va_end(ap);
        return r;
}

CURLcode(curl_easy_perform)(CURL *h)
{
        return ready() ? fn.curl_easy_perform(h) : CURLE_FAILED_INIT;
}

void(curl_easy_cleanup)(CURL *h)
{
        if (ready())
                fn.curl_easy_cleanup(h);
}

const char *(curl_easy_strerror)(CURLcode c)
{
        return ready() ? fn.curl_easy_strerror(c) : "libcurl could not be loaded";
}

char *(curl_easy_escape)(CURL *h, const char *s, int len)
{
        return ready() ? fn.curl_easy_escape(h, s, len) : NULL;
}

void(curl_free)(void *p)
{
        if (ready())
                fn.curl_free(p);
}

struct curl_slist *(curl_slist_append)(struct curl_slist *l, const char *s)
{
        return ready() ? fn.curl_slist_append(l, s) : NULL;
}

void(curl_slist_free_all)(struct curl_slist *l)
{
        if (ready())
                fn.curl_slist_free_all(l);
}

CURLSH *(curl_share_init)(void)
{
        return ready() ? fn.curl_share_init() : NULL;
}

/* SHARE and UNSHARE take a curl_lock_data (an int); the rest a pointer. */
CURLSHcode(curl_share_setopt)(CURLSH *sh, CURLSHoption opt, ...)
{
        if (!ready())
                return CURLSHE_NOT_BUILT_IN;
        va_list ap;
        va_start(ap, opt);
        CURLSHcode r;
        if (opt == CURLSHOPT_SHARE || opt == CURLSHOPT_UNSHARE)
                r = fn.curl_share_setopt(sh, opt, va_arg(ap, int));
        else
                r = fn.curl_share_setopt(sh, opt, va_arg(ap, void *));
        va_end(ap);
        return r;
}

CURLSHcode(curl_share_cleanup)(CURLSH *sh)
{
        return ready() ? fn.curl_share_cleanup(sh) : CURLSHE_NOT_BUILT_IN;
}

CURLM *(curl_multi_init)(void)
{
        return ready() ? fn.curl_multi_init() : NULL;
}

CURLMcode(curl_multi_add_handle)(CURLM *m, CURL *h)
{
        return ready() ? fn.curl_multi_add_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode(curl_multi_remove_handle)(CURLM *m, CURL *h)
{
        return ready() ? fn.curl_multi_remove_handle(m, h) : CURLM_INTERNAL_ERROR;
}

CURLMcode(curl_multi_perform)(CURLM *m, int *running)
{
        return ready() ? fn.curl_multi_perform(m, running) : CURLM_INTERNAL_ERROR;
}

CURLMcode(curl_multi_poll)(CURLM *m, struct curl_waitfd *extra, unsigned int n, int timeout_ms,
                           int *ret)
{
        return ready() ? fn.curl_multi_poll(m, extra, n, timeout_ms, ret) : CURLM_INTERNAL_ERROR;
}

CURLMsg *(curl_multi_info_read)(CURLM *m, int *left)
{
        return ready() ? fn.curl_multi_info_read(m, left) : NULL;
}

CURLMcode(curl_multi_cleanup)(CURLM *m)
{
        return ready() ? fn.curl_multi_cleanup(m) : CURLM_INTERNAL_ERROR;
}
