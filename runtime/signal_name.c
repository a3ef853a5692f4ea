/* Signal names and numbers as `kill` takes them: "KILL", "SIGKILL", "9", "RTMIN+3". */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/runtime.h"

int rt_signal_parse(const char *s)
{
        if (s == NULL || *s == '\0')
                return -1;
        char *end = NULL;
        long n = strtol(s, &end, 10);
        if (*end == '\0')
                return n > 0 && n < NSIG ? (int)n : -1;
        if (strncasecmp(s, "SIG", 3) == 0)
                s += 3;
        if (strncasecmp(s, "RTMIN", 5) == 0 || strncasecmp(s, "RTMAX", 5) == 0) {
                bool max = strncasecmp(s, "RTMAX", 5) == 0;
                long off = 0;
                if (s[5] != '\0') {
                        off = strtol(s + 5, &end, 10);
                        if (*end != '\0')
                                return -1;
                }
                int sig = max ? SIGRTMAX + (int)off : SIGRTMIN + (int)off;
                return sig >= SIGRTMIN && sig <= SIGRTMAX ? sig : -1;
        }
        for (int sig = 1; sig < SIGRTMIN; sig++) {
                const char *abbrev = sigabbrev_np(sig);
                if (abbrev != NULL && strcasecmp(abbrev, s) == 0)
                        return sig;
        }
        return -1;
}
