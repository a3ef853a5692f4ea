/* Docker's filter arguments and the label matching its list and prune filters share. */
#include "common/filters.h"

#include <stdlib.h>
#include <string.h>

size_t filters_values(json_t *filters, const char *key, const char **vals, size_t max)
{
        json_t *f = json_object_get(filters, key), *v;
        const char *k;
        size_t i, n = 0;
        if (json_is_array(f)) {
                json_array_foreach(f, i, v)
                {
                        if (n < max && json_is_string(v))
                                vals[n++] = json_string_value(v);
                }
        } else if (json_is_object(f)) {
                json_object_foreach(f, k, v)
                {
                        if (n < max)
                                vals[n++] = k;
                }
        }
        return n;
}

const char *filters_unknown(json_t *filters, const char *const *known)
{
        const char *key;
        json_t *v;
        json_object_foreach(filters, key, v)
        {
                const char *const *k = known;
                while (*k != NULL && strcmp(*k, key) != 0)
                        k++;
                if (*k == NULL)
                        return key;
        }
        return NULL;
}

bool filters_match_kv(json_t *labels, const char *const *want, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                const char *eq = strchr(want[i], '=');
                size_t klen = eq ? (size_t)(eq - want[i]) : strlen(want[i]);
                char *key = strndup(want[i], klen);
                json_t *v = key ? json_object_get(labels, key) : NULL;
                free(key);
                if (v == NULL)
                        return false;
                if (eq != NULL && (!json_is_string(v) || strcmp(json_string_value(v), eq + 1) != 0))
                        return false;
        }
        return true;
}

bool filters_match_labels(json_t *filters, json_t *labels)
{
        const char *want[64];
        size_t n = filters_values(filters, "label", want, 64);
        if (!filters_match_kv(labels, want, n))
                return false;
        n = filters_values(filters, "label!", want, 64);
        return n == 0 || !filters_match_kv(labels, want, n);
}
