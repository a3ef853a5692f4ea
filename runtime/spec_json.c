/* config.json parsing context: JSON path tracking, error text and typed member getters. */
#include "runtime/spec_internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

size_t sp_jp_push(struct sp_ctx *c, const char *key)
{
        size_t old = c->len;
        int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "%s%s", c->len ? "." : "",
                         key);
        if (n > 0)
                c->len = c->len + (size_t)n < sizeof(c->path) ? c->len + (size_t)n
                                                             : sizeof(c->path) - 1;
        return old;
}

size_t sp_jp_index(struct sp_ctx *c, size_t i)
{
        size_t old = c->len;
        int n = snprintf(c->path + c->len, sizeof(c->path) - c->len, "[%zu]", i);
        if (n > 0)
                c->len = c->len + (size_t)n < sizeof(c->path) ? c->len + (size_t)n
                                                             : sizeof(c->path) - 1;
        return old;
}

void sp_jp_pop(struct sp_ctx *c, size_t old)
{
        c->len = old;
        c->path[old] = '\0';
}

/* Validation errors carry EINVAL but no ": Invalid argument" tail: the text says what is wrong. */
static int set_einval(struct gerr **err, char *msg)
{
        if (err == NULL || *err != NULL || msg == NULL) {
                free(msg);
                return -EINVAL;
        }
        struct gerr *e = calloc(1, sizeof(*e));
        if (e == NULL) {
                free(msg);
                return -ENOMEM;
        }
        e->errnum = EINVAL;
        e->msg = msg;
        *err = e;
        return -EINVAL;
}

int sp_perr(struct sp_ctx *c, const char *fmt, ...)
{
        _cleanup_free_ char *what = NULL;
        va_list ap;
        va_start(ap, fmt);
        int n = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -ENOMEM;
        char *msg = NULL;
        if (c->len > 0)
                n = asprintf(&msg, "%s: %s: %s", c->file, c->path, what);
        else
                n = asprintf(&msg, "%s: %s", c->file, what);
        if (n < 0)
                return -ENOMEM;
        return set_einval(c->err, msg);
}

int sp_oom(struct sp_ctx *c)
{
        return gerr_set(c->err, ENOMEM, "parse %s", c->file);
}

static char *xstrdup(struct sp_ctx *c, const char *s, int *r)
{
        char *d = strdup(s);
        if (d == NULL)
                *r = sp_oom(c);
        return d;
}

const char *sp_type_name(const json_t *v)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a real number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        default:
                return "null";
        }
}

int sp_check_type(struct sp_ctx *c, const json_t *v, enum sp_kind k)
{
        static const char *const want[] = {
                [SP_OBJ] = "an object",  [SP_ARR] = "an array",   [SP_STR] = "a string",
                [SP_BOOL] = "a boolean", [SP_INT] = "an integer",
        };
        bool ok = false;
        switch (k) {
        case SP_OBJ:
                ok = json_is_object(v);
                break;
        case SP_ARR:
                ok = json_is_array(v);
                break;
        case SP_STR:
                ok = json_is_string(v);
                break;
        case SP_BOOL:
                ok = json_is_boolean(v);
                break;
        case SP_INT:
                ok = json_is_integer(v);
                break;
        }
        if (!ok)
                return sp_perr(c, "must be %s, not %s", want[k], sp_type_name(v));
        return 0;
}

int sp_get(struct sp_ctx *c, json_t *obj, const char *key, enum sp_kind k, bool required,
           json_t **out)
{
        json_t *v = json_object_get(obj, key);
        if (json_is_null(v))
                v = NULL;
        *out = NULL;
        size_t old = sp_jp_push(c, key);
        int r = 0;
        if (v == NULL) {
                if (required)
                        r = sp_perr(c, "is required");
        } else {
                r = sp_check_type(c, v, k);
        }
        sp_jp_pop(c, old);
        if (r == 0)
                *out = v;
        return r;
}

int sp_get_str(struct sp_ctx *c, json_t *obj, const char *key, bool required, char **dst)
{
        json_t *v;
        int r = sp_get(c, obj, key, SP_STR, required, &v);
        if (r < 0 || v == NULL)
                return r;
        free(*dst);
        *dst = xstrdup(c, json_string_value(v), &r);
        return r;
}

int sp_get_bool(struct sp_ctx *c, json_t *obj, const char *key, bool required, bool *dst)
{
        json_t *v;
        int r = sp_get(c, obj, key, SP_BOOL, required, &v);
        if (r == 0 && v != NULL)
                *dst = json_is_true(v);
        return r;
}

int sp_get_int(struct sp_ctx *c, json_t *obj, const char *key, bool required, int64_t min,
               int64_t max, int64_t *dst, bool *present)
{
        json_t *v;
        int r = sp_get(c, obj, key, SP_INT, required, &v);
        if (present != NULL)
                *present = false;
        if (r < 0 || v == NULL)
                return r;
        int64_t x = json_integer_value(v);
        if (x < min || x > max) {
                size_t old = sp_jp_push(c, key);
                r = sp_perr(c, "%" PRId64 " is out of range [%" PRId64 ", %" PRId64 "]", x, min,
                            max);
                sp_jp_pop(c, old);
                return r;
        }
        *dst = x;
        if (present != NULL)
                *present = true;
        return 0;
}

int sp_get_opt(struct sp_ctx *c, json_t *obj, const char *key, struct opt_i64 *dst)
{
        return sp_get_int(c, obj, key, false, INT64_MIN, INT64_MAX, &dst->v, &dst->set);
}

int sp_get_u32(struct sp_ctx *c, json_t *obj, const char *key, bool required, uint32_t *dst,
               bool *present)
{
        int64_t v;
        bool p;
        int r = sp_get_int(c, obj, key, required, 0, UINT32_MAX, &v, &p);
        if (present != NULL)
                *present = p;
        if (r == 0 && p)
                *dst = (uint32_t)v;
        return r;
}

/* uint64 fields: jansson holds int64, so values above INT64_MAX arrive wrapped (see spec.c's
 * fix_bigints). */
int sp_get_u64(struct sp_ctx *c, json_t *obj, const char *key, bool required, uint64_t *dst)
{
        int64_t v;
        bool present;
        int r = sp_get_int(c, obj, key, required, INT64_MIN, INT64_MAX, &v, &present);
        if (r == 0 && present)
                *dst = (uint64_t)v;
        return r;
}

int sp_get_strv(struct sp_ctx *c, json_t *obj, const char *key, bool required, char ***dst)
{
        json_t *a;
        int r = sp_get(c, obj, key, SP_ARR, required, &a);
        if (r < 0 || a == NULL)
                return r;
        size_t n = json_array_size(a);
        _cleanup_strv_ char **v = calloc(n + 1, sizeof(char *));
        if (v == NULL)
                return sp_oom(c);
        size_t old = sp_jp_push(c, key);
        for (size_t i = 0; i < n; i++) {
                json_t *e = json_array_get(a, i);
                size_t o2 = sp_jp_index(c, i);
                r = sp_check_type(c, e, SP_STR);
                sp_jp_pop(c, o2);
                if (r < 0)
                        break;
                v[i] = xstrdup(c, json_string_value(e), &r);
                if (r < 0)
                        break;
        }
        sp_jp_pop(c, old);
        if (r < 0)
                return r;
        strv_free(*dst);
        *dst = TAKE_PTR(v);
        return 0;
}

int sp_get_str_map(struct sp_ctx *c, json_t *obj, const char *key, json_t **dst)
{
        json_t *o;
        int r = sp_get(c, obj, key, SP_OBJ, false, &o);
        if (r < 0 || o == NULL)
                return r;
        size_t old = sp_jp_push(c, key);
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v)
        {
                size_t o2 = sp_jp_push(c, k);
                r = sp_check_type(c, v, SP_STR);
                sp_jp_pop(c, o2);
                if (r < 0)
                        break;
        }
        sp_jp_pop(c, old);
        if (r < 0)
                return r;
        json_decref(*dst);
        *dst = json_incref(o);
        return 0;
}

int sp_each_obj(struct sp_ctx *c, json_t *obj, const char *key, sp_elem_fn fn, void *arg)
{
        json_t *a;
        int r = sp_get(c, obj, key, SP_ARR, false, &a);
        if (r < 0 || a == NULL)
                return r;
        size_t old = sp_jp_push(c, key);
        size_t i;
        json_t *e;
        json_array_foreach(a, i, e)
        {
                size_t o2 = sp_jp_index(c, i);
                r = sp_check_type(c, e, SP_OBJ);
                if (r == 0)
                        r = fn(c, e, i, arg);
                sp_jp_pop(c, o2);
                if (r < 0)
                        break;
        }
        sp_jp_pop(c, old);
        return r;
}

void *sp_alloc_array(size_t n, size_t size)
{
        return calloc(n ? n : 1, size);
}

size_t sp_arr_len(json_t *obj, const char *key)
{
        json_t *a = json_object_get(obj, key);
        return json_is_array(a) ? json_array_size(a) : 0;
}

void sp_path_clean(char *p)
{
        char *w = p;
        const char *r = p;
        bool abs = *r == '/';
        if (abs)
                *w++ = '/';
        while (*r != '\0') {
                while (*r == '/')
                        r++;
                const char *s = r;
                while (*r != '\0' && *r != '/')
                        r++;
                size_t n = (size_t)(r - s);
                if (n == 0 || (n == 1 && s[0] == '.'))
                        continue;
                if (w > p && w[-1] != '/')
                        *w++ = '/';
                memmove(w, s, n);
                w += n;
        }
        if (w == p)
                *w++ = abs ? '/' : '.';
        *w = '\0';
}

const struct sp_name_val *sp_lookup(const struct sp_name_val *t, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (strcmp(t[i].name, name) == 0)
                        return &t[i];
        return NULL;
}

int sp_sub_obj(struct sp_ctx *c, json_t *o, const char *key, void *arg,
               int (*fn)(struct sp_ctx *, json_t *, void *))
{
        json_t *v;
        int r = sp_get(c, o, key, SP_OBJ, false, &v);
        if (r < 0 || v == NULL)
                return r;
        size_t old = sp_jp_push(c, key);
        r = fn(c, v, arg);
        sp_jp_pop(c, old);
        return r;
}

int sp_get_enum(struct sp_ctx *c, json_t *o, const char *key, bool required,
                const struct sp_name_val *t, size_t n, const char *what, long *dst, bool *present)
{
        json_t *v;
        int r = sp_get(c, o, key, SP_STR, required, &v);
        if (present != NULL)
                *present = v != NULL;
        if (r < 0 || v == NULL)
                return r;
        const struct sp_name_val *nv = sp_lookup(t, n, json_string_value(v));
        if (nv == NULL) {
                size_t old = sp_jp_push(c, key);
                r = sp_perr(c, "unknown %s \"%s\"", what, json_string_value(v));
                sp_jp_pop(c, old);
                return r;
        }
        *dst = nv->val;
        return 0;
}

int sp_get_strv_in(struct sp_ctx *c, json_t *o, const char *key, const char *const *names,
                   size_t n, const char *what, char ***dst)
{
        int r = sp_get_strv(c, o, key, false, dst);
        if (r < 0 || *dst == NULL)
                return r;
        for (size_t i = 0; (*dst)[i] != NULL; i++) {
                bool ok = false;
                for (size_t j = 0; j < n && !ok; j++)
                        ok = strcmp(names[j], (*dst)[i]) == 0;
                if (!ok) {
                        size_t old = sp_jp_push(c, key);
                        sp_jp_index(c, i);
                        r = sp_perr(c, "unknown %s \"%s\"", what, (*dst)[i]);
                        sp_jp_pop(c, old);
                        return r;
                }
        }
        return 0;
}
