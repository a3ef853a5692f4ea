/* docker commit --change: Dockerfile instructions applied to a config, and dockerd's merge. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/timeparse.h"
#include "engine/engine_internal.h"
#include "runtime/runtime.h"

/* A growing string. */
struct buf {
        char *s;
        size_t len, cap;
};

static int put(struct buf *b, const char *p, size_t n)
{
        if (b->len + n + 1 > b->cap) {
                size_t cap = (b->len + n + 1) * 2;
                char *ns = realloc(b->s, cap);
                if (ns == NULL)
                        return -ENOMEM;
                b->s = ns;
                b->cap = cap;
        }
        memcpy(b->s + b->len, p, n);
        b->len += n;
        b->s[b->len] = '\0';
        return 0;
}

static const char *env_get(json_t *env, const char *name, size_t n)
{
        size_t i;
        json_t *v;
        json_array_foreach(env, i, v)
        {
                const char *s = json_string_value(v);
                if (s != NULL && strncmp(s, name, n) == 0 && s[n] == '=')
                        return s + n + 1;
        }
        return NULL;
}

/* $NAME or ${NAME} at p (just past the '$'); *used gets the characters read. */
static int expand_var(const char *p, json_t *env, struct buf *b, size_t *used)
{
        bool brace = *p == '{';
        const char *name = p + brace;
        size_t n = 0;
        while (isalnum((unsigned char)name[n]) || name[n] == '_')
                n++;
        if (n == 0 || (brace && name[n] != '}')) {
                *used = 0;
                return put(b, "$", 1);
        }
        *used = n + (brace ? 2 : 0);
        const char *v = env_get(env, name, n);
        return v ? put(b, v, strlen(v)) : 0;
}

/* Split s into words as Dockerfile's shell lexer does: quotes group, backslash escapes,
 * $VAR expands (not within single quotes) when env is given. Returns a NULL-terminated array. */
static char **words(const char *s, json_t *env)
{
        char **v = calloc(1, sizeof(char *));
        size_t n = 0;
        const char *p = s;
        while (v != NULL) {
                while (isspace((unsigned char)*p))
                        p++;
                if (*p == '\0')
                        break;
                struct buf b = {0};
                char quote = 0;
                int r = put(&b, "", 0);
                for (; r == 0 && *p != '\0' && (quote || !isspace((unsigned char)*p)); p++) {
                        if (quote != '\'' && *p == '\\' && p[1] != '\0') {
                                p++;
                                r = put(&b, p, 1);
                        } else if ((*p == '"' || *p == '\'') && (quote == 0 || quote == *p)) {
                                quote = quote ? 0 : *p;
                        } else if (*p == '$' && quote != '\'' && env != NULL) {
                                size_t used = 0;
                                r = expand_var(p + 1, env, &b, &used);
                                p += used;
                        } else {
                                r = put(&b, p, 1);
                        }
                }
                char **nv = r == 0 ? realloc(v, (n + 2) * sizeof(char *)) : NULL;
                if (nv == NULL) {
                        free(b.s);
                        strv_free(v);
                        return NULL;
                }
                v = nv;
                v[n++] = b.s;
                v[n] = NULL;
        }
        return v;
}

/* ["a","b"] as a JSON array of strings, else NULL (the shell form then). */
static json_t *exec_form(const char *rest)
{
        if (*rest != '[')
                return NULL;
        json_t *j = json_loads(rest, JSON_DECODE_ANY, NULL);
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
                if (!json_is_string(v)) {
                        json_decref(j);
                        return NULL;
                }
        }
        if (!json_is_array(j)) {
                json_decref(j);
                return NULL;
        }
        return j;
}

static json_t *command_of(json_t *cfg, const char *rest)
{
        json_t *j = exec_form(rest);
        if (j != NULL)
                return j;
        json_t *shell = json_object_get(cfg, "Shell");
        j = json_array_size(shell) ? json_deep_copy(shell) : json_pack("[s, s]", "/bin/sh", "-c");
        json_array_append_new(j, json_string(rest));
        return j;
}

static void env_put(json_t *cfg, const char *key, const char *val)
{
        json_t *env = json_object_get(cfg, "Env");
        if (!json_is_array(env)) {
                env = json_array();
                json_object_set_new(cfg, "Env", env);
        }
        size_t klen = strlen(key), i;
        json_t *v;
        json_t *kv = json_sprintf("%s=%s", key, val);
        json_array_foreach(env, i, v)
        {
                const char *s = json_string_value(v);
                if (s != NULL && strncmp(s, key, klen) == 0 && s[klen] == '=') {
                        json_array_set_new(env, i, kv);
                        return;
                }
        }
        json_array_append_new(env, kv);
}

static json_t *object_at(json_t *cfg, const char *key)
{
        json_t *o = json_object_get(cfg, key);
        if (!json_is_object(o)) {
                o = json_object();
                json_object_set_new(cfg, key, o);
        }
        return o;
}

/* ENV and LABEL: "k=v k2=v2", or the legacy "k v" (one pair, the rest of the line). */
static int name_vals(json_t *cfg, const char *cmd, const char *rest, bool is_env, struct gerr **err)
{
        json_t *env = json_object_get(cfg, "Env");
        _cleanup_strv_ char **w = words(rest, env);
        if (w == NULL)
                return gerr_set(err, ENOMEM, "commit");
        if (w[0] == NULL)
                return eng_err(err, EINVAL, "%s requires at least one argument", cmd);
        if (strchr(w[0], '=') == NULL) {
                const char *sp = rest + strcspn(rest, " \t");
                while (isspace((unsigned char)*sp))
                        sp++;
                if (*sp == '\0')
                        return eng_err(err, EINVAL, "%s must have two arguments", cmd);
                _cleanup_free_ char *key = strndup(rest, strcspn(rest, " \t"));
                _cleanup_strv_ char **vw = words(sp, env);
                struct buf b = {0};
                for (char **x = vw; x && *x; x++)
                        if (put(&b, x == vw ? "" : " ", x == vw ? 0 : 1) < 0 ||
                            put(&b, *x, strlen(*x)) < 0)
                                break;
                if (is_env)
                        env_put(cfg, key, b.s ? b.s : "");
                else
                        json_object_set_new(object_at(cfg, "Labels"), key,
                                            json_string(b.s ? b.s : ""));
                free(b.s);
                return 0;
        }
        for (char **x = w; *x; x++) {
                char *eq = strchr(*x, '=');
                if (eq == NULL || eq == *x)
                        return eng_err(err, EINVAL,
                                       "Syntax error - can't find = in \"%s\". Must "
                                       "be of the form: name=value",
                                       *x);
                *eq = '\0';
                if (is_env)
                        env_put(cfg, *x, eq + 1);
                else
                        json_object_set_new(object_at(cfg, "Labels"), *x, json_string(eq + 1));
        }
        return 0;
}

static int expose(json_t *cfg, const char *rest, struct gerr **err)
{
        _cleanup_strv_ char **w = words(rest, json_object_get(cfg, "Env"));
        if (w == NULL)
                return gerr_set(err, ENOMEM, "commit");
        if (w[0] == NULL)
                return eng_err(err, EINVAL, "EXPOSE requires at least one argument");
        json_t *ports = object_at(cfg, "ExposedPorts");
        for (char **x = w; *x; x++) {
                char *slash = strchr(*x, '/');
                const char *proto = slash ? slash + 1 : "tcp";
                if (slash)
                        *slash = '\0';
                char *end;
                long lo = strtol(*x, &end, 10), hi = lo;
                if (*end == '-')
                        hi = strtol(end + 1, &end, 10);
                if (*end != '\0' || lo <= 0 || hi < lo || hi > 65535 ||
                    (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 &&
                     strcmp(proto, "sctp") != 0))
                        return eng_err(err, EINVAL, "invalid containerPort: %s", *x);
                for (long p = lo; p <= hi; p++) {
                        char key[32];
                        snprintf(key, sizeof(key), "%ld/%s", p, proto);
                        json_object_set_new(ports, key, json_object());
                }
        }
        return 0;
}

static int volume(json_t *cfg, const char *rest, struct gerr **err)
{
        json_t *vols = object_at(cfg, "Volumes");
        _cleanup_json_ json_t *j = exec_form(rest);
        _cleanup_strv_ char **w = j ? NULL : words(rest, json_object_get(cfg, "Env"));
        size_t i;
        json_t *v;
        json_array_foreach(j, i, v)
        {
                json_object_set_new(vols, json_string_value(v), json_object());
        }
        for (char **x = w; x && *x; x++)
                json_object_set_new(vols, *x, json_object());
        if (json_object_size(vols) == 0)
                return eng_err(err, EINVAL, "VOLUME requires at least one argument");
        return 0;
}

/* "/a/./b/../c" -> "/a/c". */
static char *clean_path(const char *p)
{
        char *out = calloc(1, strlen(p) + 2);
        _cleanup_free_ char *copy = strdup(p);
        if (out == NULL || copy == NULL) {
                free(out);
                return NULL;
        }
        size_t len = 0;
        for (char *save = NULL, *c = strtok_r(copy, "/", &save); c;
             c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (strcmp(c, "..") == 0) {
                        while (len > 0 && out[len - 1] != '/')
                                len--;
                        if (len > 0)
                                len--;
                        out[len] = '\0';
                        continue;
                }
                len += (size_t)sprintf(out + len, "/%s", c);
        }
        if (len == 0)
                strcpy(out, "/");
        return out;
}

static int workdir(json_t *cfg, const char *rest, struct gerr **err)
{
        _cleanup_strv_ char **w = words(rest, json_object_get(cfg, "Env"));
        if (w == NULL || w[0] == NULL)
                return eng_err(err, EINVAL, "WORKDIR requires exactly one argument");
        _cleanup_free_ char *joined = NULL;
        const char *cur = json_string_value(json_object_get(cfg, "WorkingDir"));
        if (w[0][0] != '/' && asprintf(&joined, "/%s/%s", cur ? cur : "", w[0]) < 0)
                return gerr_set(err, ENOMEM, "commit");
        _cleanup_free_ char *clean = clean_path(joined ? joined : w[0]);
        if (clean == NULL)
                return gerr_set(err, ENOMEM, "commit");
        json_object_set_new(cfg, "WorkingDir", json_string(clean));
        return 0;
}

/* HEALTHCHECK NONE | [--interval=D --timeout=D --start-period=D --start-interval=D
 * --retries=N] CMD command. */
static int healthcheck(json_t *cfg, const char *rest, struct gerr **err)
{
        if (strcasecmp(rest, "NONE") == 0) {
                json_object_set_new(cfg, "Healthcheck", json_pack("{s:[s]}", "Test", "NONE"));
                return 0;
        }
        json_t *hc = json_object();
        json_object_set_new(cfg, "Healthcheck", hc);
        const char *p = rest;
        while (strncmp(p, "--", 2) == 0) {
                size_t n = strcspn(p, " \t");
                _cleanup_free_ char *opt = strndup(p + 2, n - 2);
                char *eq = opt ? strchr(opt, '=') : NULL;
                if (eq == NULL)
                        return eng_err(err, EINVAL, "Unknown flag: %s", opt ? opt : "");
                *eq++ = '\0';
                static const struct {
                        const char *flag, *key;
                } durs[] = {{"interval", "Interval"},
                            {"timeout", "Timeout"},
                            {"start-period", "StartPeriod"},
                            {"start-interval", "StartInterval"}};
                bool known = false;
                for (size_t i = 0; i < ARRAY_SIZE(durs); i++) {
                        double d;
                        if (strcmp(opt, durs[i].flag) != 0)
                                continue;
                        if (!timeparse_go_duration(eq, &d))
                                return eng_err(err, EINVAL, "time: invalid duration \"%s\"", eq);
                        json_object_set_new(hc, durs[i].key, json_integer((json_int_t)(d * 1e9)));
                        known = true;
                }
                if (strcmp(opt, "retries") == 0) {
                        json_object_set_new(hc, "Retries", json_integer(atoi(eq)));
                        known = true;
                }
                if (!known)
                        return eng_err(err, EINVAL, "Unknown flag: %s", opt);
                p += n;
                while (isspace((unsigned char)*p))
                        p++;
        }
        if (strncasecmp(p, "CMD", 3) != 0 || (p[3] != '\0' && !isspace((unsigned char)p[3])))
                return eng_err(err, EINVAL, "Unknown type \"%.*s\" in HEALTHCHECK (try CMD)",
                               (int)strcspn(p, " \t"), p);
        p += 3;
        while (isspace((unsigned char)*p))
                p++;
        json_t *j = exec_form(p);
        json_t *test = json_array();
        if (j != NULL) {
                json_array_append_new(test, json_string("CMD"));
                json_array_extend(test, j);
                json_decref(j);
        } else {
                json_array_append_new(test, json_string("CMD-SHELL"));
                json_array_append_new(test, json_string(p));
        }
        json_object_set_new(hc, "Test", test);
        return 0;
}

static const char *const valid[] = {"cmd",    "entrypoint", "healthcheck", "env",
                                    "expose", "label",      "onbuild",     "stopsignal",
                                    "user",   "volume",     "workdir"};

static int apply_one(json_t *cfg, const char *cmd, const char *rest, bool *cmd_set,
                     struct gerr **err)
{
        if (strcmp(cmd, "cmd") == 0) {
                json_object_set_new(cfg, "Cmd", command_of(cfg, rest));
                *cmd_set = true;
        } else if (strcmp(cmd, "entrypoint") == 0) {
                json_object_set_new(cfg, "Entrypoint", command_of(cfg, rest));
                /* dockerd's dispatchEntrypoint: without a CMD of its own, no CMD stays. */
                if (!*cmd_set)
                        json_object_set_new(cfg, "Cmd", json_null());
        } else if (strcmp(cmd, "env") == 0 || strcmp(cmd, "label") == 0) {
                return name_vals(cfg, cmd[0] == 'e' ? "ENV" : "LABEL", rest, cmd[0] == 'e', err);
        } else if (strcmp(cmd, "expose") == 0) {
                return expose(cfg, rest, err);
        } else if (strcmp(cmd, "volume") == 0) {
                return volume(cfg, rest, err);
        } else if (strcmp(cmd, "workdir") == 0) {
                return workdir(cfg, rest, err);
        } else if (strcmp(cmd, "healthcheck") == 0) {
                return healthcheck(cfg, rest, err);
        } else if (strcmp(cmd, "user") == 0 || strcmp(cmd, "stopsignal") == 0) {
                _cleanup_strv_ char **w = words(rest, json_object_get(cfg, "Env"));
                const char *name = cmd[0] == 'u' ? "USER" : "STOPSIGNAL";
                if (w == NULL || w[0] == NULL || w[1] != NULL)
                        return eng_err(err, EINVAL, "%s requires exactly one argument", name);
                if (cmd[0] == 's' && rt_signal_parse(w[0]) <= 0)
                        return eng_err(err, EINVAL, "Invalid signal: %s", w[0]);
                json_object_set_new(cfg, cmd[0] == 'u' ? "User" : "StopSignal", json_string(w[0]));
        } else if (strcmp(cmd, "onbuild") == 0) {
                size_t n = strcspn(rest, " \t");
                _cleanup_free_ char *up = strndup(rest, n);
                for (char *c = up; c && *c; c++)
                        *c = (char)toupper((unsigned char)*c);
                if (up == NULL || *up == '\0')
                        return eng_err(err, EINVAL, "ONBUILD requires at least one argument");
                if (strcmp(up, "ONBUILD") == 0)
                        return eng_err(err, EINVAL,
                                       "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
                if (strcmp(up, "FROM") == 0 || strcmp(up, "MAINTAINER") == 0)
                        return eng_err(err, EINVAL, "%s isn't allowed as an ONBUILD trigger", up);
                json_t *ob = json_object_get(cfg, "OnBuild");
                if (!json_is_array(ob)) {
                        ob = json_array();
                        json_object_set_new(cfg, "OnBuild", ob);
                }
                json_array_append_new(ob, json_sprintf("%s%s", up, rest + n));
        }
        return 0;
}

int eng_commit_changes(json_t *cfg, const char *const *changes, size_t n, struct gerr **err)
{
        /* The changes are one Dockerfile, a line each (dockerd joins them with "\n"). */
        struct buf all = {0};
        for (size_t i = 0; i < n; i++)
                if (put(&all, changes[i], strlen(changes[i])) < 0 || put(&all, "\n", 1) < 0) {
                        free(all.s);
                        return gerr_set(err, ENOMEM, "commit");
                }
        _cleanup_free_ char *text = all.s;
        bool cmd_set = false;
        /* First pass checks every instruction, as dockerd does before applying any. */
        for (int pass = 0; pass < 2; pass++) {
                struct buf line = {0};
                for (const char *p = text ? text : ""; *p != '\0';) {
                        size_t len = strcspn(p, "\n");
                        const char *next = p[len] ? p + len + 1 : p + len;
                        /* A trailing backslash continues the instruction on the next line. */
                        bool cont = len > 0 && p[len - 1] == '\\';
                        const char *s = p;
                        size_t slen = cont ? len - 1 : len;
                        while (slen > 0 && isspace((unsigned char)*s))
                                s++, slen--;
                        bool comment = line.len == 0 && slen > 0 && *s == '#';
                        if (!comment && put(&line, s, slen) < 0) {
                                free(line.s);
                                return gerr_set(err, ENOMEM, "commit");
                        }
                        p = next;
                        if (cont && *p != '\0')
                                continue;
                        char *l = line.s ? line.s : "";
                        while (line.len > 0 && isspace((unsigned char)l[line.len - 1]))
                                l[--line.len] = '\0';
                        if (line.len == 0)
                                continue;
                        size_t cl = strcspn(l, " \t");
                        _cleanup_free_ char *cmd = strndup(l, cl);
                        for (char *c = cmd; c && *c; c++)
                                *c = (char)tolower((unsigned char)*c);
                        const char *rest = l + cl;
                        while (isspace((unsigned char)*rest))
                                rest++;
                        int r = 0;
                        if (cmd == NULL) {
                                r = gerr_set(err, ENOMEM, "commit");
                        } else if (pass == 0) {
                                size_t k = 0;
                                while (k < ARRAY_SIZE(valid) && strcmp(valid[k], cmd) != 0)
                                        k++;
                                if (k == ARRAY_SIZE(valid))
                                        r = eng_err(err, EINVAL, "%s is not a valid change command",
                                                    cmd);
                        } else {
                                r = apply_one(cfg, cmd, rest, &cmd_set, err);
                        }
                        line.len = 0;
                        if (r < 0) {
                                free(line.s);
                                return r;
                        }
                }
                free(line.s);
        }
        return 0;
}

static bool empty(json_t *v)
{
        return v == NULL || json_is_null(v) ||
               (json_is_string(v) && *json_string_value(v) == '\0') ||
               (json_is_array(v) && json_array_size(v) == 0) ||
               (json_is_object(v) && json_object_size(v) == 0);
}

void eng_commit_merge(json_t *user, json_t *ctr)
{
        static const char *const plain[] = {"User", "WorkingDir", "StopSignal"};
        for (size_t i = 0; i < ARRAY_SIZE(plain); i++)
                if (empty(json_object_get(user, plain[i])) &&
                    json_object_get(ctr, plain[i]) != NULL)
                        json_object_set(user, plain[i], json_object_get(ctr, plain[i]));
        static const char *const maps[] = {"ExposedPorts", "Volumes"};
        for (size_t i = 0; i < ARRAY_SIZE(maps); i++) {
                json_t *c = json_object_get(ctr, maps[i]);
                if (!json_is_object(c))
                        continue;
                json_t *u = json_object_get(user, maps[i]);
                if (!json_is_object(u))
                        json_object_set_new(user, maps[i], json_deep_copy(c));
                else
                        json_object_update_missing(u, c);
        }
        json_t *uenv = json_object_get(user, "Env");
        if (empty(uenv)) {
                if (json_object_get(ctr, "Env") != NULL)
                        json_object_set(user, "Env", json_object_get(ctr, "Env"));
        } else {
                size_t i;
                json_t *v;
                json_array_foreach(json_object_get(ctr, "Env"), i, v)
                {
                        const char *s = json_string_value(v);
                        if (s != NULL && env_get(uenv, s, strcspn(s, "=")) == NULL)
                                json_array_append(uenv, v);
                }
        }
        json_t *ul = object_at(user, "Labels");
        if (json_is_object(json_object_get(ctr, "Labels")))
                json_object_update_missing(ul, json_object_get(ctr, "Labels"));
        if (empty(json_object_get(user, "Entrypoint"))) {
                if (empty(json_object_get(user, "Cmd")) && json_object_get(ctr, "Cmd") != NULL)
                        json_object_set(user, "Cmd", json_object_get(ctr, "Cmd"));
                if (json_object_get(user, "Entrypoint") == NULL ||
                    json_is_null(json_object_get(user, "Entrypoint")))
                        json_object_set(user, "Entrypoint",
                                        json_object_get(ctr, "Entrypoint") ?: json_null());
        }
        if (json_object_get(user, "Healthcheck") == NULL &&
            json_object_get(ctr, "Healthcheck") != NULL)
                json_object_set(user, "Healthcheck", json_object_get(ctr, "Healthcheck"));
}
