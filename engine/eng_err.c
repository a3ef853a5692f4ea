/* The engine's errors: Docker's message as is, the errno choosing the HTTP status. */
#include <stdarg.h>

#include "engine/engine_internal.h"

int eng_err(struct gerr **err, int errnum, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        gerr_setv(err, 0, fmt, ap);
        va_end(ap);
        if (err != NULL && *err != NULL && (*err)->errnum == 0)
                (*err)->errnum = errnum;
        return -errnum;
}
