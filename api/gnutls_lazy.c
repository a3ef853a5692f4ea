/* GnuTLS opened at the first TLS call of libmicrohttpd, so a daemon that serves no TLS maps none of
 * it. */
/*
 * Debian's libmicrohttpd is built with HTTPS support: linked from its archive it still needs the
 * gnutls symbols below, and libgnutls.so.30 brings p11-kit, libtasn1, libunistring, libidn2,
 * hogweed, gmp and libffi (measured: about 2 MiB of the idle daemon's PSS) into a daemon that
 * listens on a Unix socket without TLS. These definitions stand in for them: the first call of
 * any of them dlopen()s the library and forwards to it. The one call every daemon makes,
 * gnutls_global_init() from libmicrohttpd's constructor, is remembered and replayed at that load
 * rather than loading the library for nothing. Only the static daemon build compiles this file
 * (meson option static_daemon).
 */
#include <dlfcn.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <pthread.h>
#include <stdlib.h>

#include "common/log.h"

#define GNUTLS_LIB "libgnutls.so.30"
#define FAIL GNUTLS_E_INTERNAL_ERROR

/* X(return type, name, (parameters), (arguments), value when the library cannot be loaded) */
#define GNUTLS_FUNCS(X)                                                                            \
        X(int, gnutls_alpn_set_protocols,                                                          \
          (gnutls_session_t s, const gnutls_datum_t *p, unsigned n, unsigned f), (s, p, n, f),     \
          FAIL)                                                                                    \
        X(int, gnutls_bye, (gnutls_session_t s, gnutls_close_request_t how), (s, how), FAIL)       \
        X(int, gnutls_certificate_allocate_credentials, (gnutls_certificate_credentials_t * r),    \
          (r), FAIL)                                                                               \
        X(int, gnutls_certificate_set_x509_key_mem,                                                \
          (gnutls_certificate_credentials_t r, const gnutls_datum_t *c, const gnutls_datum_t *k,   \
           gnutls_x509_crt_fmt_t t),                                                               \
          (r, c, k, t), FAIL)                                                                      \
        X(int, gnutls_certificate_set_x509_key_mem2,                                               \
          (gnutls_certificate_credentials_t r, const gnutls_datum_t *c, const gnutls_datum_t *k,   \
           gnutls_x509_crt_fmt_t t, const char *pass, unsigned f),                                 \
          (r, c, k, t, pass, f), FAIL)                                                             \
        X(int, gnutls_certificate_set_x509_trust_mem,                                              \
          (gnutls_certificate_credentials_t r, const gnutls_datum_t *ca, gnutls_x509_crt_fmt_t t), \
          (r, ca, t), FAIL)                                                                        \
        X(gnutls_cipher_algorithm_t, gnutls_cipher_get, (gnutls_session_t s), (s),                 \
          GNUTLS_CIPHER_UNKNOWN)                                                                   \
        X(int, gnutls_credentials_set, (gnutls_session_t s, gnutls_credentials_type_t t, void *c), \
          (s, t, c), FAIL)                                                                         \
        X(int, gnutls_dh_params_import_pkcs3,                                                      \
          (gnutls_dh_params_t p, const gnutls_datum_t *d, gnutls_x509_crt_fmt_t f), (p, d, f),     \
          FAIL)                                                                                    \
        X(int, gnutls_dh_params_init, (gnutls_dh_params_t * p), (p), FAIL)                         \
        X(int, gnutls_handshake, (gnutls_session_t s), (s), FAIL)                                  \
        X(int, gnutls_init, (gnutls_session_t * s, unsigned int f), (s, f), FAIL)                  \
        X(int, gnutls_priority_init, (gnutls_priority_t * p, const char *s, const char **e),       \
          (p, s, e), FAIL)                                                                         \
        X(int, gnutls_priority_set, (gnutls_session_t s, gnutls_priority_t p), (s, p), FAIL)       \
        X(gnutls_protocol_t, gnutls_protocol_get_version, (gnutls_session_t s), (s),               \
          GNUTLS_VERSION_UNKNOWN)                                                                  \
        X(int, gnutls_psk_allocate_server_credentials, (gnutls_psk_server_credentials_t * c), (c), \
          FAIL)                                                                                    \
        X(size_t, gnutls_record_check_pending, (gnutls_session_t s), (s), 0)                       \
        X(int, gnutls_record_get_direction, (gnutls_session_t s), (s), 0)                          \
        X(ssize_t, gnutls_record_recv, (gnutls_session_t s, void *d, size_t n), (s, d, n), FAIL)   \
        X(ssize_t, gnutls_record_send, (gnutls_session_t s, const void *d, size_t n), (s, d, n),   \
          FAIL)                                                                                    \
        X(void *, gnutls_session_get_ptr, (gnutls_session_t s), (s), NULL)                         \
        X(const char *, gnutls_strerror, (int e), (e), "GnuTLS could not be loaded")

/* The same for functions that return nothing: X(name, (parameters), (arguments)) */
#define GNUTLS_VOID_FUNCS(X)                                                                       \
        X(gnutls_certificate_free_credentials, (gnutls_certificate_credentials_t c), (c))          \
        X(gnutls_certificate_server_set_request,                                                   \
          (gnutls_session_t s, gnutls_certificate_request_t r), (s, r))                            \
        X(gnutls_certificate_set_dh_params,                                                        \
          (gnutls_certificate_credentials_t c, gnutls_dh_params_t p), (c, p))                      \
        X(gnutls_certificate_set_retrieve_function2,                                               \
          (gnutls_certificate_credentials_t c, gnutls_certificate_retrieve_function2 * f), (c, f)) \
        X(gnutls_certificate_set_retrieve_function3,                                               \
          (gnutls_certificate_credentials_t c, gnutls_certificate_retrieve_function3 * f), (c, f)) \
        X(gnutls_deinit, (gnutls_session_t s), (s))                                                \
        X(gnutls_dh_params_deinit, (gnutls_dh_params_t p), (p))                                    \
        X(gnutls_priority_deinit, (gnutls_priority_t p), (p))                                      \
        X(gnutls_psk_free_server_credentials, (gnutls_psk_server_credentials_t c), (c))            \
        X(gnutls_psk_set_server_credentials_function,                                              \
          (gnutls_psk_server_credentials_t c, gnutls_psk_server_credentials_function * f), (c, f)) \
        X(gnutls_session_set_ptr, (gnutls_session_t s, void *p), (s, p))                           \
        X(gnutls_transport_set_int2, (gnutls_session_t s, int r, int w), (s, r, w))

static struct {
#define X(ret, name, params, args, fail) ret(*name) params;
        GNUTLS_FUNCS(X)
#undef X
#define X(name, params, args) void(*name) params;
        GNUTLS_VOID_FUNCS(X)
#undef X
        int (*gnutls_global_init)(void);
        void (*gnutls_global_deinit)(void);
} fn;
static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;
static int loaded;       /* 1: every symbol resolved */
static int pending_init; /* gnutls_global_init() calls made before the library was loaded */

/* libmicrohttpd hands PSK keys allocated with gnutls_malloc to GnuTLS, which frees them with
 * gnutls_free: both are malloc/free unless an application changes them, which gantryd does not. */
gnutls_alloc_function gnutls_malloc = malloc;

static void load(void)
{
        void *h = dlopen(GNUTLS_LIB, RTLD_NOW | RTLD_LOCAL);
        if (h == NULL) {
                log_error("api: cannot load %s: %s", GNUTLS_LIB, dlerror());
                return;
        }
#define SYM(name)                                                                                  \
        if ((*(void **)&fn.name = dlsym(h, #name)) == NULL) {                                      \
                log_error("api: %s has no %s", GNUTLS_LIB, #name);                                 \
                return;                                                                            \
        }
#define X(ret, name, params, args, fail) SYM(name)
        GNUTLS_FUNCS(X)
#undef X
#define X(name, params, args) SYM(name)
        GNUTLS_VOID_FUNCS(X)
#undef X
        SYM(gnutls_global_init)
        SYM(gnutls_global_deinit)
#undef SYM
        pthread_mutex_lock(&init_lock);
        for (; pending_init > 0; pending_init--)
                fn.gnutls_global_init();
        loaded = 1;
        pthread_mutex_unlock(&init_lock);
}

static int ready(void)
{
        pthread_once(&load_once, load);
        return loaded;
}

#define X(ret, name, params, args, fail)                                                           \
        ret name params                                                                            \
        {                                                                                          \
                return ready() ? fn.name args : (fail);                                            \
        }
GNUTLS_FUNCS(X)
#undef X

#define X(name, params, args)                                                                      \
        void name params                                                                           \
        {                                                                                          \
                if (ready())                                                                       \
                        fn.name args;                                                              \
        }
GNUTLS_VOID_FUNCS(X)
#undef X

int gnutls_global_init(void)
{
        pthread_mutex_lock(&init_lock);
        int r = loaded ? fn.gnutls_global_init() : (pending_init++, 0);
        pthread_mutex_unlock(&init_lock);
        return r;
}

void gnutls_global_deinit(void)
{
        pthread_mutex_lock(&init_lock);
        if (loaded)
                fn.gnutls_global_deinit();
        else if (pending_init > 0)
                pending_init--;
        pthread_mutex_unlock(&init_lock);
}
