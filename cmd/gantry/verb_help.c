/* gantry VERB --help: the verb's summary and its flags, read from the getopt tables it parses. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* The short letter getopt maps to this long option, or 0. */
static int short_of(const struct option *o, const char *shortopts)
{
        if (o->flag != NULL || o->val <= ' ' || o->val >= 127)
                return 0;
        const char *p = strchr(shortopts, o->val);
        return p != NULL && *p != ':' && *p != '+' ? o->val : 0;
}

void cli_print_verb_help(const char *verb, const char *shortopts, const struct option *longopts)
{
        const char *summary = cli_verb_summary(verb);
        printf("\nUsage:  gantry %s [OPTIONS]%s\n\n", verb, strcmp(verb, "ps") == 0 ? "" : " [ARG...]");
        if (summary != NULL)
                printf("%s\n\n", summary);
        printf("Options:\n");
        char shown[128] = {0};
        for (const struct option *o = longopts; o != NULL && o->name != NULL; o++) {
                int s = short_of(o, shortopts);
                if (s != 0 && shown[s])
                        s = 0;
                if (s != 0)
                        shown[s] = 1;
                const char *arg = o->has_arg == required_argument ? " string" : "";
                if (s != 0)
                        printf("  -%c, --%s%s\n", s, o->name, arg);
                else
                        printf("      --%s%s\n", o->name, arg);
        }
        printf("      --help  Print usage\n");
}
