/* Docker's request bodies as typed field tables: a wrong type is a 400 naming the field. */
#pragma once

#include <jansson.h>
#include <stddef.h>

enum api_jtype {
        API_JT_INT, /* int64: a JSON integer (1.5 or "1" refused) */
        API_JT_BOOL,
        API_JT_STR,
        API_JT_STRS,     /* []string */
        API_JT_STRSLICE, /* strslice.StrSlice: a string or []string */
        API_JT_MAP_STR,  /* map[string]string */
        API_JT_OBJ,      /* any object (map of structs, not looked into) */
        API_JT_ARR,      /* any array */
        API_JT_SUB,      /* a struct: fields in .sub */
        API_JT_ARR_SUB,  /* []struct: fields in .sub */
};

struct api_field {
        const char *name;
        enum api_jtype type;
        const struct api_schema *sub;
};

struct api_schema {
        const char *go_type; /* the Go struct's name, as it appears in the decoder's messages */
        const struct api_field *fields;
        size_t n;
};

/* POST /containers/create, POST /containers/{id}/update, POST /containers/{id}/exec,
 * POST /exec/{id}/start. */
extern const struct api_schema api_schema_create, api_schema_update, api_schema_exec,
    api_schema_exec_start;

/* Check body against s like Go's encoding/json: null fits any field, unknown fields are
 * ignored, names match case-insensitively. Returns 0, or -1 with msg set to Go's wording
 * ("json: cannot unmarshal string into Go struct field HostConfig.HostConfig.Memory of type
 * int64"). */
int api_schema_check(const struct api_schema *s, json_t *body, char *msg, size_t cap);
