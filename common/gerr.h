/* Error values that carry an errno and a message naming the failed object. */
#pragma once

#include <stdarg.h>

struct gerr {
        int errnum;   /* positive errno, 0 when none applies */
        char *msg;    /* "mount proc on /proc: Operation not permitted" */
};

/* Fill *err (if err and *err is NULL) and return -errnum (or -EIO if errnum is 0).
 * The message gets ": strerror(errnum)" appended when errnum != 0. */
int gerr_set(struct gerr **err, int errnum, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int gerr_setv(struct gerr **err, int errnum, const char *fmt, va_list ap);
/* Prefix context to an existing error: "create container x: <old message>".
 * Returns the (negative) code of the existing error, or -EIO if none. */
int gerr_wrap(struct gerr **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The code a function returns for *err. */
int gerr_code(const struct gerr *err);
void gerr_free(struct gerr *err);
void gerr_freep(struct gerr **err);
