/* Logging for the programs in cmd/: text or JSON lines to stderr or a --log file. */
#include "common/log.h"
#include "common/timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int log_out = STDERR_FILENO;
static bool log_json;
static enum log_level log_max = LOG_LVL_WARN;

static const char *const level_names[] = {"error", "warning", "info", "debug"};

int log_init(const char *path, bool json, enum log_level level)
{
        log_json = json;
        log_max = level;
        if (path != NULL && *path != '\0') {
                int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                        return -errno;
                log_out = fd;
        }
        return 0;
}

int log_fd(void)
{
        return log_out;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
        if (lvl > log_max)
                return;
        char msg[2048];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        char line[4096];
        int n;
        if (log_json) {
                char stamp[TIMEFMT_RFC3339_LEN];
                timefmt_now(stamp);
                json_t *o = json_pack("{s:s,s:s,s:s}", "level", level_names[lvl], "msg", msg,
                                      "time", stamp);
                char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
                n = snprintf(line, sizeof(line), "%s\n", s ? s : msg);
                free(s);
                json_decref(o);
        } else if (lvl == LOG_LVL_DEBUG) {
                /* Debug lines carry the monotonic time: they are how start-up gets profiled. */
                struct timespec ts;
                clock_gettime(CLOCK_MONOTONIC, &ts);
                n = snprintf(line, sizeof(line), "debug %ld.%06ld %s\n", (long)ts.tv_sec,
                             ts.tv_nsec / 1000, msg);
        } else if (log_out == STDERR_FILENO) {
                n = snprintf(line, sizeof(line), "%s%s\n", lvl <= LOG_LVL_WARN && lvl != LOG_LVL_ERROR ? "warning: " : "", msg);
        } else {
                n = snprintf(line, sizeof(line), "level=%s msg=\"%s\"\n", level_names[lvl], msg);
        }
        if (n > (int)sizeof(line))
                n = sizeof(line);
        ssize_t w = write(log_out, line, (size_t)n);
        (void)w;
}
