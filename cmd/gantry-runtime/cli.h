/* gantry-runtime's verbs: each parses its own flags and calls the runtime library. */
#pragma once

#include "runtime/runtime.h"

struct cli_global {
        struct rt_context ctx;
        bool debug;
        bool systemd_cgroup;
};

typedef int (*cli_verb_fn)(struct cli_global *g, int argc, char **argv);

int cli_create(struct cli_global *g, int argc, char **argv);
int cli_run(struct cli_global *g, int argc, char **argv);
int cli_start(struct cli_global *g, int argc, char **argv);
int cli_state(struct cli_global *g, int argc, char **argv);
int cli_kill(struct cli_global *g, int argc, char **argv);
int cli_delete(struct cli_global *g, int argc, char **argv);
int cli_list(struct cli_global *g, int argc, char **argv);
int cli_ps(struct cli_global *g, int argc, char **argv);
int cli_pause(struct cli_global *g, int argc, char **argv);
int cli_resume(struct cli_global *g, int argc, char **argv);
int cli_update(struct cli_global *g, int argc, char **argv);
int cli_exec(struct cli_global *g, int argc, char **argv);
int cli_spec(struct cli_global *g, int argc, char **argv);
int cli_features(struct cli_global *g, int argc, char **argv);

/* Report err (to stderr and the --log file) and return the exit code 1. */
int cli_fail(struct gerr *err);
/* Usage error for a verb: message, exit code 1. */
int cli_usage(const char *verb, const char *msg);
/* Print a JSON value followed by a newline (indented like runc's state output). */
void cli_print_json(json_t *j, bool indent);
