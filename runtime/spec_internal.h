/* Private glue between the config.json parser files spec.c, spec_json.c and spec_linux.c. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/cleanup.h"
#include "runtime/spec.h"

/* Parsing context: where errors go and the JSON path of the value being looked at. */
struct sp_ctx {
        struct gerr **err;
        const char *file;
        size_t len;
        char path[512];
};

enum sp_kind { SP_OBJ, SP_ARR, SP_STR, SP_BOOL, SP_INT };

/* JSON path tracking: push returns the old length for sp_jp_pop to restore. */
size_t sp_jp_push(struct sp_ctx *c, const char *key);
size_t sp_jp_index(struct sp_ctx *c, size_t i);
void sp_jp_pop(struct sp_ctx *c, size_t old);

/* An EINVAL error "<file>: <path>: <message>"; returns -EINVAL (or -ENOMEM). */
int sp_perr(struct sp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sp_oom(struct sp_ctx *c);

const char *sp_type_name(const json_t *v);
int sp_check_type(struct sp_ctx *c, const json_t *v, enum sp_kind k);

/* A member of obj; JSON null counts as absent, as Go's encoding/json treats it. */
int sp_get(struct sp_ctx *c, json_t *obj, const char *key, enum sp_kind k, bool required,
           json_t **out);
int sp_get_str(struct sp_ctx *c, json_t *obj, const char *key, bool required, char **dst);
int sp_get_bool(struct sp_ctx *c, json_t *obj, const char *key, bool required, bool *dst);
/* An integer within [min, max]; *present (may be NULL) says whether it was given. */
int sp_get_int(struct sp_ctx *c, json_t *obj, const char *key, bool required, int64_t min,
               int64_t max, int64_t *dst, bool *present);
int sp_get_opt(struct sp_ctx *c, json_t *obj, const char *key, struct opt_i64 *dst);
int sp_get_u32(struct sp_ctx *c, json_t *obj, const char *key, bool required, uint32_t *dst,
               bool *present);
int sp_get_u64(struct sp_ctx *c, json_t *obj, const char *key, bool required, uint64_t *dst);
/* An array of strings into a NULL-terminated vector (NULL when absent). */
int sp_get_strv(struct sp_ctx *c, json_t *obj, const char *key, bool required, char ***dst);
/* An object whose values must all be strings, kept as a jansson reference (NULL when absent). */
int sp_get_str_map(struct sp_ctx *c, json_t *obj, const char *key, json_t **dst);

/* Iterate the objects of an optional array member: calls fn(c, element, i, arg) with the path
 * set. */
typedef int (*sp_elem_fn)(struct sp_ctx *c, json_t *e, size_t i, void *arg);
int sp_each_obj(struct sp_ctx *c, json_t *obj, const char *key, sp_elem_fn fn, void *arg);
/* Parse a sub-object at key with fn, path pushed; absent is fine. */
int sp_sub_obj(struct sp_ctx *c, json_t *o, const char *key, void *arg,
               int (*fn)(struct sp_ctx *, json_t *, void *));

/* calloc for n elements that also works for n == 0 (returns a valid pointer). */
void *sp_alloc_array(size_t n, size_t size);
size_t sp_arr_len(json_t *obj, const char *key);

/* Allocate v for the array at key (zeroed, n set up front so that a failure half-way still frees
 * every entry), then parse its objects with fn. */
#define SP_PARSE_ARRAY(c, o, key, v, n, fn)                                                        \
        ({                                                                                         \
                int _r;                                                                            \
                (n) = sp_arr_len(o, key);                                                          \
                (v) = sp_alloc_array((n), sizeof(*(v)));                                           \
                if ((v) == NULL) {                                                                 \
                        (n) = 0;                                                                   \
                        _r = sp_oom(c);                                                            \
                } else {                                                                           \
                        _r = sp_each_obj(c, o, key, fn, (v));                                      \
                }                                                                                  \
                _r;                                                                                \
        })

/* Lexical cleanup: collapse "//", drop "." components and a trailing "/". Keeps "..". */
void sp_path_clean(char *p);

struct sp_name_val {
        const char *name;
        long val;
};

const struct sp_name_val *sp_lookup(const struct sp_name_val *t, size_t n, const char *name);
#define SP_LOOKUP(table, name) sp_lookup(table, ARRAY_SIZE(table), name)
/* A string member whose value must be one of a table's names. */
int sp_get_enum(struct sp_ctx *c, json_t *o, const char *key, bool required,
                const struct sp_name_val *t, size_t n, const char *what, long *dst, bool *present);
/* A string array member whose entries must all be in names. */
int sp_get_strv_in(struct sp_ctx *c, json_t *o, const char *key, const char *const *names,
                   size_t n, const char *what, char ***dst);

/* spec.c: uid/gid mappings, shared by mounts and the linux section. */
int sp_parse_idmaps(struct sp_ctx *c, json_t *o, const char *key, struct rt_idmap **v, size_t *n);

/* spec_linux.c: the "linux" object into the struct rt_linux at arg, and its freeing helpers. */
int sp_parse_linux(struct sp_ctx *c, json_t *o, void *arg);
void sp_resources_free(struct rt_resources *res);
void sp_seccomp_free(struct rt_seccomp *s);
