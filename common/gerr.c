/* Error values that carry an errno and a message naming the failed object. */
#include "gerr.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gerr_code(const struct gerr *err)
{
        if (err == NULL || err->errnum == 0)
                return -EIO;
        return -err->errnum;
}

int gerr_setv(struct gerr **err, int errnum, const char *fmt, va_list ap)
{
        int code = errnum > 0 ? -errnum : -EIO;
        if (err == NULL || *err != NULL)
                return code;
        char *base = NULL;
        if (vasprintf(&base, fmt, ap) < 0)
                base = NULL;
        struct gerr *e = calloc(1, sizeof(*e));
        if (e == NULL) {
                free(base);
                return code;
        }
        e->errnum = errnum > 0 ? errnum : 0;
        if (base != NULL && errnum > 0) {
                if (asprintf(&e->msg, "%s: %s", base, strerror(errnum)) < 0)
                        e->msg = NULL;
                free(base);
        } else {
                e->msg = base;
        }
        *err = e;
        return code;
}

int gerr_set(struct gerr **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = gerr_setv(err, errnum, fmt, ap);
        va_end(ap);
        return r;
}

int gerr_wrap(struct gerr **err, const char *fmt, ...)
{
        if (err == NULL || *err == NULL)
                return -EIO;
        char *prefix = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&prefix, fmt, ap);
        va_end(ap);
        if (n < 0)
                return gerr_code(*err);
        char *joined = NULL;
        if (asprintf(&joined, "%s: %s", prefix, (*err)->msg ? (*err)->msg : "error") >= 0) {
                free((*err)->msg);
                (*err)->msg = joined;
        }
        free(prefix);
        return gerr_code(*err);
}

void gerr_free(struct gerr *err)
{
        if (err == NULL)
                return;
        free(err->msg);
        free(err);
}

void gerr_freep(struct gerr **err)
{
        gerr_free(*err);
        *err = NULL;
}
