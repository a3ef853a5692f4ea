/* Parsing the times of --since/--until: unix seconds, RFC 3339 and Go durations. */
#include "common/timeparse.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

bool timeparse_go_duration(const char *s, double *out)
{
        static const struct {
                const char *unit;
                double secs;
        } units[] = {{"ns", 1e-9}, {"us", 1e-6}, {"\xc2\xb5s", 1e-6}, {"\xce\xbcs", 1e-6},
                     {"ms", 1e-3}, {"s", 1},     {"m", 60},           {"h", 3600}};
        double sign = 1, total = 0;
        if (*s == '-' || *s == '+')
                sign = *s++ == '-' ? -1 : 1;
        if (strcmp(s, "0") == 0) {
                *out = 0;
                return true;
        }
        if (*s == '\0')
                return false;
        while (*s != '\0') {
                if (!isdigit((unsigned char)*s) && *s != '.')
                        return false;
                const char *start = s;
                while (isdigit((unsigned char)*s))
                        s++;
                if (*s == '.') {
                        s++;
                        while (isdigit((unsigned char)*s))
                                s++;
                }
                if (s - start == 1 && *start == '.')
                        return false;
                char num[64];
                if ((size_t)(s - start) >= sizeof(num))
                        return false;
                memcpy(num, start, (size_t)(s - start));
                num[s - start] = '\0';
                double v = strtod(num, NULL);
                size_t best = 0;
                double mult = 0;
                for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
                        size_t n = strlen(units[i].unit);
                        /* the longest unit that fits: "ms" before "m" */
                        if (n > best && strncmp(s, units[i].unit, n) == 0) {
                                best = n;
                                mult = units[i].secs;
                        }
                }
                if (best == 0)
                        return false;
                s += best;
                total += v * mult;
        }
        *out = sign * total;
        return true;
}

/* n digits into *v; false if fewer. */
static bool digits(const char **s, int n, int *v)
{
        *v = 0;
        for (int i = 0; i < n; i++, (*s)++) {
                if (!isdigit((unsigned char)**s))
                        return false;
                *v = *v * 10 + (**s - '0');
        }
        return true;
}

/* YYYY-MM-DD[THH[:MM[:SS[.frac]]]][Z|+HH:MM|-HH:MM] */
static bool parse_rfc3339(const char *s, double *out)
{
        struct tm tm = {0};
        int y, mo, d, h = 0, mi = 0, sec = 0;
        double frac = 0;
        if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
            !digits(&s, 2, &d))
                return false;
        if (*s == 'T' || *s == 't') {
                s++;
                if (!digits(&s, 2, &h))
                        return false;
                if (*s == ':') {
                        s++;
                        if (!digits(&s, 2, &mi))
                                return false;
                        if (*s == ':') {
                                s++;
                                if (!digits(&s, 2, &sec))
                                        return false;
                                if (*s == '.') {
                                        const char *f = s;
                                        s++;
                                        if (!isdigit((unsigned char)*s))
                                                return false;
                                        while (isdigit((unsigned char)*s))
                                                s++;
                                        char buf[32];
                                        size_t n = (size_t)(s - f);
                                        if (n >= sizeof(buf))
                                                n = sizeof(buf) - 1;
                                        memcpy(buf, f, n);
                                        buf[n] = '\0';
                                        frac = strtod(buf, NULL);
                                }
                        }
                }
        }
        long off = 0;
        if (*s == 'Z' || *s == 'z') {
                s++;
        } else if (*s == '+' || *s == '-') {
                int sign = *s++ == '-' ? -1 : 1, oh, om = 0;
                if (!digits(&s, 2, &oh))
                        return false;
                if (*s == ':')
                        s++;
                if (*s != '\0' && !digits(&s, 2, &om))
                        return false;
                off = sign * (oh * 3600L + om * 60L);
        }
        if (*s != '\0' || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
                return false;
        tm.tm_year = y - 1900;
        tm.tm_mon = mo - 1;
        tm.tm_mday = d;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
        *out = (double)(timegm(&tm) - off) + frac;
        return true;
}

bool timeparse_docker(const char *s, double now, double *out)
{
        if (s == NULL || *s == '\0')
                return false;
        double d;
        /* "0" and plain numbers are seconds, not durations (Go refuses unitless ones but "0"). */
        if (strcmp(s, "0") != 0 && timeparse_go_duration(s, &d)) {
                *out = now - d;
                return true;
        }
        if (strchr(s, '-') != NULL && isdigit((unsigned char)s[0]))
                return parse_rfc3339(s, out);
        char *end = NULL;
        const char *p = s;
        while (isdigit((unsigned char)*p))
                p++;
        if (p == s)
                return false;
        if (*p == '.') {
                p++;
                while (isdigit((unsigned char)*p))
                        p++;
        }
        if (*p != '\0')
                return false;
        *out = strtod(s, &end);
        return true;
}
