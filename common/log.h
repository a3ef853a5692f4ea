/* Logging for the programs in cmd/: text or JSON lines to stderr or a --log file. */
#pragma once

#include <stdbool.h>

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* path NULL = stderr. json selects runc's {"level":..,"msg":..,"time":..} lines. */
int log_init(const char *path, bool json, enum log_level level);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)
/* The fd log lines go to (so a forked child can keep writing to it). */
int log_fd(void);
