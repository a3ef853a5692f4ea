/* Docker's filter arguments ({"key":["v"]} or {"key":{"v":true}}) and its label matching. */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/* The values of key in filters, at most max of them (borrowed from filters). */
size_t filters_values(json_t *filters, const char *key, const char **vals, size_t max);
/* The first key of filters not in known (NULL-terminated), or NULL when all are known. */
const char *filters_unknown(json_t *filters, const char *const *known);
/* Docker's MatchKVList: every "k" or "k=v" of want is in labels (true when n is 0). */
bool filters_match_kv(json_t *labels, const char *const *want, size_t n);
/* dockerd's prune matchLabels: "label" values all match and the "label!" ones not all. */
bool filters_match_labels(json_t *filters, json_t *labels);
