/* gantry CLI: the Go-template subset of --format, tabwriter-like tables and docker's human units. */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum tok_kind { TOK_TEXT, TOK_VALUE };

struct tok {
        enum tok_kind kind;
        char *text;  /* TOK_TEXT: literal; TOK_VALUE: the path ("." or ".A.B") */
        char *func;  /* NULL, "json", "upper", "lower", "join", "index" */
        char *arg;   /* string argument of join/index */
        int col;     /* offset of the path in the template, for Go's error positions */
};

struct cli_tmpl {
        bool table, list;
        size_t n;
        struct tok *toks;
};

void cli_appendf(char **s, const char *fmt, ...)
{
        va_list ap;
        char *add = NULL;
        size_t old = *s ? strlen(*s) : 0;
        va_start(ap, fmt);
        int n = vasprintf(&add, fmt, ap);
        va_end(ap);
        if (n < 0)
                abort();
        char *r = realloc(*s, old + (size_t)n + 1);
        if (r == NULL)
                abort();
        memcpy(r + old, add, (size_t)n + 1);
        free(add);
        *s = r;
}

void cli_tmpl_free(struct cli_tmpl *t)
{
        if (t == NULL)
                return;
        for (size_t i = 0; i < t->n; i++) {
                free(t->toks[i].text);
                free(t->toks[i].func);
                free(t->toks[i].arg);
        }
        free(t->toks);
        free(t);
}

void cli_tmpl_set_list(struct cli_tmpl *t)
{
        t->list = true;
}

bool cli_tmpl_is_table(const struct cli_tmpl *t)
{
        return t->table;
}

static struct tok *push(struct cli_tmpl *t)
{
        struct tok *n = realloc(t->toks, (t->n + 1) * sizeof(*n));
        if (n == NULL)
                abort();
        t->toks = n;
        n[t->n] = (struct tok){0};
        return &n[t->n++];
}

static bool is_path(const char *s)
{
        if (s[0] != '.')
                return false;
        for (const char *p = s; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_')
                        return false;
        return true;
}

/* Parses one action's words: PATH | FUNC PATH ["arg"]. */
static int parse_action(struct tok *k, char *body)
{
        char *words[4] = {0};
        int nw = 0;
        char *p = body;
        while (*p && nw < 4) {
                while (isspace((unsigned char)*p))
                        p++;
                if (!*p)
                        break;
                if (*p == '"') {
                        char *q = strchr(p + 1, '"');
                        if (q == NULL) {
                                fprintf(stderr, "template parsing error: template: :1: unterminated quoted string\n");
                                return -1;
                        }
                        words[nw++] = p;
                        p = q + 1;
                        if (*p)
                                *p++ = '\0';
                        continue;
                }
                words[nw++] = p;
                while (*p && !isspace((unsigned char)*p))
                        p++;
                if (*p)
                        *p++ = '\0';
        }
        if (nw == 0) {
                fprintf(stderr, "template parsing error: template: :1: missing value for command\n");
                return -1;
        }
        if (nw == 1 && is_path(words[0])) {
                k->col = (int)(words[0] - body);
                k->text = strdup(words[0]);
                return 0;
        }
        static const char *funcs[] = {"json", "upper", "lower", "join", "index", "title"};
        bool known = false;
        for (size_t i = 0; i < ARRAY_SIZE(funcs); i++)
                known |= strcmp(words[0], funcs[i]) == 0;
        if (!known) {
                if (is_path(words[0]) || words[0][0] == '"')
                        fprintf(stderr, "template parsing error: template: :1: unsupported action {{%s ...}}\n", words[0]);
                else
                        fprintf(stderr, "template parsing error: template: :1: function \"%s\" not defined\n", words[0]);
                return -1;
        }
        bool needs_arg = strcmp(words[0], "join") == 0 || strcmp(words[0], "index") == 0;
        if (nw < 2 || !is_path(words[1]) || (needs_arg && (nw < 3 || words[2][0] != '"')) ||
            (!needs_arg && nw > 2)) {
                fprintf(stderr, "template parsing error: template: :1: wrong arguments for %s (supported: %s .Path%s)\n",
                        words[0], words[0], needs_arg ? " \"string\"" : "");
                return -1;
        }
        k->func = strdup(words[0]);
        k->col = (int)(words[1] - body);
        k->text = strdup(words[1]);
        if (needs_arg) {
                size_t l = strlen(words[2]);
                k->arg = strndup(words[2] + 1, l >= 2 && words[2][l - 1] == '"' ? l - 2 : l - 1);
        }
        return 0;
}

struct cli_tmpl *cli_tmpl_parse(const char *text)
{
        struct cli_tmpl *t = calloc(1, sizeof(*t));
        if (t == NULL)
                abort();
        if (strncmp(text, "table", 5) == 0 && (text[5] == '\0' || isspace((unsigned char)text[5]))) {
                t->table = true;
                text += 5;
                while (*text == ' ')
                        text++;
        }
        const char *p = text;
        while (*p) {
                const char *open = strstr(p, "{{");
                if (open == NULL)
                        open = p + strlen(p);
                if (open > p)
                        push(t)->text = strndup(p, (size_t)(open - p));
                if (!*open)
                        break;
                const char *close = strstr(open + 2, "}}");
                if (close == NULL) {
                        fprintf(stderr, "template parsing error: template: :1: unclosed action\n");
                        cli_tmpl_free(t);
                        return NULL;
                }
                const char *b = open + 2, *e = close;
                if (*b == '-')
                        b++;
                if (e > b && e[-1] == '-')
                        e--;
                _cleanup_free_ char *body = strndup(b, (size_t)(e - b));
                struct tok *k = push(t);
                k->kind = TOK_VALUE;
                if (parse_action(k, body) < 0) {
                        cli_tmpl_free(t);
                        return NULL;
                }
                k->col += (int)(b - text);
                p = close + 2;
        }
        return t;
}

/* Follows ".A.B" from dot; NULL when a key is missing (*fail: the offset of its segment). */
static json_t *lookup(json_t *dot, const char *path, size_t *fail)
{
        json_t *v = dot;
        const char *p = path + 1;
        while (*p && v != NULL) {
                const char *e = strchr(p, '.');
                size_t n = e ? (size_t)(e - p) : strlen(p);
                json_t *next = json_is_object(v) ? json_object_getn(v, p, n) : NULL;
                /* A JSON null on the way reads as Go's <no value>, not as an error. */
                if (next == NULL && !json_is_null(v)) {
                        *fail = (size_t)(p - 1 - path);
                        return NULL;
                }
                v = next;
                p += n;
                if (*p == '.')
                        p++;
        }
        return v ? v : json_null();
}

/* Go's json.Marshal escapes <, > and & for HTML. */
static void append_json(char **out, json_t *v, bool sort)
{
        _cleanup_free_ char *s =
                json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | (sort ? JSON_SORT_KEYS : 0));
        for (const char *c = s; c && *c; c++) {
                if (*c == '<')
                        cli_appendf(out, "\\u003c");
                else if (*c == '>')
                        cli_appendf(out, "\\u003e");
                else if (*c == '&')
                        cli_appendf(out, "\\u0026");
                else
                        cli_appendf(out, "%c", *c);
        }
}

static void append_value(char **out, json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_STRING:
                cli_appendf(out, "%s", json_string_value(v));
                break;
        case JSON_INTEGER:
                cli_appendf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                break;
        case JSON_REAL: {
                double d = json_real_value(v);
                char buf[64];
                for (int prec = 1; prec <= 17; prec++) {
                        snprintf(buf, sizeof(buf), "%.*g", prec, d);
                        if (strtod(buf, NULL) == d)
                                break;
                }
                if (strchr(buf, 'e') && d == floor(d) && fabs(d) < 1e21)
                        snprintf(buf, sizeof(buf), "%.0f", d);
                cli_appendf(out, "%s", buf);
                break;
        }
        case JSON_TRUE:
                cli_appendf(out, "true");
                break;
        case JSON_FALSE:
                cli_appendf(out, "false");
                break;
        case JSON_NULL:
                cli_appendf(out, "<no value>");
                break;
        case JSON_ARRAY: {
                size_t i;
                json_t *e;
                cli_appendf(out, "[");
                json_array_foreach(v, i, e) {
                        if (i > 0)
                                cli_appendf(out, " ");
                        append_value(out, e);
                }
                cli_appendf(out, "]");
                break;
        }
        case JSON_OBJECT: {
                /* Go prints maps with sorted keys. */
                const char *k;
                json_t *e;
                bool first = true;
                cli_appendf(out, "map[");
                size_t nkeys = json_object_size(v), i = 0;
                const char **keys = calloc(nkeys + 1, sizeof(*keys));
                json_object_foreach(v, k, e) keys[i++] = k;
                for (size_t a = 0; a < nkeys; a++)
                        for (size_t b = a + 1; b < nkeys; b++)
                                if (strcmp(keys[a], keys[b]) > 0) {
                                        const char *tmp = keys[a];
                                        keys[a] = keys[b];
                                        keys[b] = tmp;
                                }
                for (i = 0; i < nkeys; i++) {
                        cli_appendf(out, "%s%s:", first ? "" : " ", keys[i]);
                        append_value(out, json_object_get(v, keys[i]));
                        first = false;
                }
                free(keys);
                cli_appendf(out, "]");
                break;
        }
        }
}

static void append_header(char **out, const char *path, json_t *headers)
{
        const char *last = strrchr(path, '.') + 1;
        json_t *h = json_object_get(headers, last);
        if (json_is_string(h)) {
                cli_appendf(out, "%s", json_string_value(h));
                return;
        }
        for (const char *p = last; *p; p++)
                cli_appendf(out, "%c", toupper((unsigned char)*p));
}

int cli_tmpl_exec(const struct cli_tmpl *t, json_t *dot, json_t *headers, char **out)
{
        if (*out == NULL)
                cli_appendf(out, "%s", "");
        for (size_t i = 0; i < t->n; i++) {
                const struct tok *k = &t->toks[i];
                if (k->kind == TOK_TEXT) {
                        cli_appendf(out, "%s", k->text);
                        continue;
                }
                if (headers != NULL) {
                        append_header(out, k->text, headers);
                        continue;
                }
                size_t fail = 0;
                json_t *v = lookup(dot, k->text, &fail);
                if (v == NULL) {
                        const char *seg = k->text + fail + 1;
                        size_t n = strcspn(seg, ".");
                        if (t->list)
                                fprintf(stderr, "failed to execute template: template: :1:%zu: executing \"\" at <%.*s>: can't evaluate field %.*s\n",
                                        (size_t)k->col + fail, (int)(fail + 1 + n), k->text, (int)n, seg);
                        else
                                fprintf(stderr, "template parsing error: template: :1:%zu: executing \"\" at <%.*s>: map has no entry for key \"%.*s\"\n",
                                        (size_t)k->col + fail, (int)(fail + 1 + n), k->text, (int)n, seg);
                        return -1;
                }
                if (k->func == NULL) {
                        append_value(out, v);
                } else if (strcmp(k->func, "json") == 0) {
                        append_json(out, v, t->list);
                } else if (strcmp(k->func, "join") == 0) {
                        size_t j;
                        json_t *e;
                        if (!json_is_array(v)) {
                                fprintf(stderr, "template: :1: error calling join: %s is not a list\n", k->text);
                                return -1;
                        }
                        json_array_foreach(v, j, e) {
                                if (j > 0)
                                        cli_appendf(out, "%s", k->arg);
                                append_value(out, e);
                        }
                } else if (strcmp(k->func, "index") == 0) {
                        json_t *e = json_is_object(v) ? json_object_get(v, k->arg) : NULL;
                        if (e == NULL)
                                cli_appendf(out, "<no value>");
                        else
                                append_value(out, e);
                } else {
                        char *s = NULL;
                        if (v != NULL)
                                append_value(&s, v);
                        bool start = true;
                        for (char *c = s; c && *c; c++) {
                                if (strcmp(k->func, "upper") == 0)
                                        *c = (char)toupper((unsigned char)*c);
                                else if (strcmp(k->func, "lower") == 0)
                                        *c = (char)tolower((unsigned char)*c);
                                else if (start)
                                        *c = (char)toupper((unsigned char)*c);
                                start = isspace((unsigned char)*c);
                        }
                        cli_appendf(out, "%s", s ? s : "");
                        free(s);
                }
        }
        return 0;
}

/* ---- tables ---- */

struct cli_table {
        char **lines;
        size_t n;
};

struct cli_table *cli_table_new(void)
{
        struct cli_table *t = calloc(1, sizeof(*t));
        if (t == NULL)
                abort();
        return t;
}

void cli_table_add(struct cli_table *t, const char *line)
{
        char **n = realloc(t->lines, (t->n + 1) * sizeof(*n));
        if (n == NULL)
                abort();
        t->lines = n;
        t->lines[t->n++] = strdup(line);
}

static size_t runes(const char *s, size_t n)
{
        size_t r = 0;
        for (size_t i = 0; i < n; i++)
                if (((unsigned char)s[i] & 0xC0) != 0x80)
                        r++;
        return r;
}

void cli_table_discard(struct cli_table *t)
{
        for (size_t i = 0; i < t->n; i++)
                free(t->lines[i]);
        free(t->lines);
        free(t);
}

void cli_table_flush(struct cli_table *t, FILE *f)
{
        size_t widths[64] = {0};
        enum { MINWIDTH = 10, PADDING = 3 };
        for (size_t i = 0; i < t->n; i++) {
                const char *p = t->lines[i];
                for (size_t col = 0; col < ARRAY_SIZE(widths); col++) {
                        const char *tab = strchr(p, '\t');
                        if (tab == NULL)
                                break;
                        size_t w = runes(p, (size_t)(tab - p)) + PADDING;
                        if (w < MINWIDTH)
                                w = MINWIDTH;
                        if (w > widths[col])
                                widths[col] = w;
                        p = tab + 1;
                }
        }
        for (size_t i = 0; i < t->n; i++) {
                const char *p = t->lines[i];
                for (size_t col = 0;; col++) {
                        const char *tab = strchr(p, '\t');
                        if (tab == NULL || col >= ARRAY_SIZE(widths)) {
                                fprintf(f, "%s\n", p);
                                break;
                        }
                        size_t len = (size_t)(tab - p);
                        fwrite(p, 1, len, f);
                        for (size_t w = runes(p, len); w < widths[col]; w++)
                                fputc(' ', f);
                        p = tab + 1;
                }
                free(t->lines[i]);
        }
        free(t->lines);
        free(t);
}

/* ---- docker's human units ---- */

void cli_human_size(double size, char *buf, size_t n)
{
        static const char *units[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
        size_t i = 0;
        while (size >= 1000.0 && i < ARRAY_SIZE(units) - 1) {
                size /= 1000.0;
                i++;
        }
        snprintf(buf, n, "%.3g%s", size, units[i]);
}

void cli_human_duration(int64_t s, char *buf, size_t n)
{
        int64_t minutes = s / 60, hours = (int64_t)((double)s / 3600.0 + 0.5);
        if (s < 1)
                snprintf(buf, n, "Less than a second");
        else if (s == 1)
                snprintf(buf, n, "1 second");
        else if (s < 60)
                snprintf(buf, n, "%lld seconds", (long long)s);
        else if (minutes == 1)
                snprintf(buf, n, "About a minute");
        else if (minutes < 60)
                snprintf(buf, n, "%lld minutes", (long long)minutes);
        else if (hours == 1)
                snprintf(buf, n, "About an hour");
        else if (hours < 48)
                snprintf(buf, n, "%lld hours", (long long)hours);
        else if (hours < 24 * 7 * 2)
                snprintf(buf, n, "%lld days", (long long)(hours / 24));
        else if (hours < 24 * 30 * 2)
                snprintf(buf, n, "%lld weeks", (long long)(hours / 24 / 7));
        else if (hours < 24 * 365 * 2)
                snprintf(buf, n, "%lld months", (long long)(hours / 24 / 30));
        else
                snprintf(buf, n, "%lld years", (long long)(s / 3600 / 24 / 365));
}

void cli_ellipsis(const char *s, size_t maxrunes, char *buf, size_t n)
{
        size_t len = strlen(s);
        if (runes(s, len) <= maxrunes) {
                snprintf(buf, n, "%s", s);
                return;
        }
        size_t i = 0, r = 0;
        while (i < len && r < maxrunes - 1) {
                i++;
                while (i < len && ((unsigned char)s[i] & 0xC0) == 0x80)
                        i++;
                r++;
        }
        snprintf(buf, n, "%.*s\u2026", (int)i, s);
}
