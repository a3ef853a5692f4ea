/* Helpers shared by gantry-runtime's verbs: error reporting, usage, JSON output. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "common/log.h"

int cli_fail(struct gerr *err)
{
        const char *msg = err && err->msg ? err->msg : "failed";
        log_error("%s", msg);
        if (log_fd() != 2)
                fprintf(stderr, "gantry-runtime: %s\n", msg);
        gerr_free(err);
        return 1;
}

int cli_usage(const char *verb, const char *msg)
{
        fprintf(stderr, "gantry-runtime %s: %s\n", verb, msg);
        return 1;
}

void cli_print_json(json_t *j, bool indent)
{
        char *s = json_dumps(j, indent ? JSON_INDENT(2) : JSON_COMPACT);
        if (s != NULL) {
                puts(s);
                free(s);
        }
}
