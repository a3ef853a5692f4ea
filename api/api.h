/* The Docker Engine API server: HTTP/1.1 on a Unix socket in front of one engine. */
#pragma once

#include <stdbool.h>

#include "common/gerr.h"

struct eng;
struct api_server;

#define API_VERSION "1.44"
#define API_MIN_VERSION "1.24"
#define API_SERVER_VERSION "0.1.0"

/* Bind socket_path (a stale socket file is replaced; mode 0660) and serve e's API on it from
 * background threads until api_stop. SIGPIPE must be ignored by the process (closed clients). */
int api_start(struct eng *e, const char *socket_path, struct api_server **out, struct gerr **err);
/* Stop serving: refuse new connections, end blocked streams (wait, logs -f, attach), remove the
 * socket file and free s. Returns true when no request is still running inside the engine (so
 * eng_close is safe); false if one did not finish within a few seconds. */
bool api_stop(struct api_server *s);
