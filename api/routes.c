/* The route table: Docker Engine API paths to handlers, with Docker's {name:.*} image names. */
#include "api/http.h"

#include <stdlib.h>
#include <string.h>

/* A method of NULL matches any method. */
static const struct api_route routes[] = {
        {"GET", "/_ping", api_ping, NULL},
        {"HEAD", "/_ping", api_ping, NULL},
        {"GET", "/version", api_version, NULL},
        {"GET", "/info", api_info, NULL},

        {"GET", "/images/json", api_images_list, NULL},
        {"GET", "/images/get", api_images_save, NULL},
        {"POST", "/images/load", api_images_load, api_images_load_begin},
        {"POST", "/images/create", api_images_create, api_images_create_begin},
        {"GET", "/images/search", api_images_search, NULL},
        {"POST", "/images/prune", api_images_prune, NULL},
        {"GET", "/images/**/json", api_image_inspect, NULL},
        {"GET", "/images/**/history", api_image_history, NULL},
        {"GET", "/images/**/get", api_image_save, NULL},
        {"POST", "/images/**/tag", api_image_tag, NULL},
        {"POST", "/images/**/push", api_image_push, NULL},
        {"POST", "/auth", api_auth, NULL},
        {"GET", "/distribution/**/json", api_distribution, NULL},
        {"DELETE", "/images/**", api_image_delete, NULL},

        {"POST", "/containers/create", api_container_create, NULL},
        {"GET", "/containers/json", api_containers_list, NULL},
        {"GET", "/containers/*/json", api_container_inspect, NULL},
        {"POST", "/containers/*/start", api_container_start, NULL},
        {"POST", "/containers/*/stop", api_container_stop, NULL},
        {"POST", "/containers/*/restart", api_container_restart, NULL},
        {"POST", "/containers/*/kill", api_container_kill, NULL},
        {"POST", "/containers/*/wait", api_container_wait, NULL},
        {"POST", "/containers/*/resize", api_container_resize, NULL},
        {"POST", "/containers/*/attach", api_container_attach, NULL},
        {"GET", "/containers/*/logs", api_container_logs, NULL},
        {"GET", "/containers/*/stats", api_container_stats, NULL},
        {"GET", "/containers/*/top", api_container_top, NULL},
        {"DELETE", "/containers/*", api_container_delete, NULL},
        {"POST", "/containers/*/exec", api_exec_create, NULL},
        {"POST", "/containers/*/pause", api_container_pause, NULL},
        {"POST", "/containers/*/unpause", api_container_unpause, NULL},
        {"POST", "/containers/*/rename", api_container_rename, NULL},
        {"POST", "/containers/*/update", api_container_update, NULL},
        {"HEAD", "/containers/*/archive", api_container_archive_head, NULL},
        {"GET", "/containers/*/archive", api_container_archive_get, NULL},
        {"PUT", "/containers/*/archive", api_container_archive_put,
         api_container_archive_put_begin},
        {"GET", "/containers/*/export", api_container_export, NULL},
        {"GET", "/containers/*/changes", api_container_changes, NULL},
        {"POST", "/containers/prune", api_containers_prune, NULL},
        {"POST", "/commit", api_commit, NULL},
        {"POST", "/exec/*/start", api_exec_start, NULL},
        {"POST", "/exec/*/resize", api_exec_resize, NULL},
        {"GET", "/exec/*/json", api_exec_inspect, NULL},

        {"GET", "/events", api_events, NULL},
        {"GET", "/system/df", api_system_df, NULL},
        {"GET", "/networks", api_networks_list, NULL},
        {"GET", "/networks/*", api_network_inspect, NULL},
        {"DELETE", "/networks/*", api_network_delete, NULL},
        {"POST", "/networks/create", api_network_create, NULL},
        {"POST", "/networks/prune", api_networks_prune, NULL},
        {"POST", "/networks/*/connect", api_network_connect, NULL},
        {"POST", "/networks/*/disconnect", api_network_disconnect, NULL},
        {"GET", "/volumes", api_volumes_list, NULL},
        {"GET", "/volumes/*", api_volume_inspect, NULL},
        {"DELETE", "/volumes/*", api_volume_inspect, NULL},
        {"GET", "/plugins", api_plugins_list, NULL},
        {"GET", "/plugins/**/json", api_plugin_inspect, NULL},
        {"DELETE", "/plugins/**", api_plugin_inspect, NULL},

        /* dockerd's routes still to write: 501. Any other path is dockerd's 404 "page not
         * found"; the swarm's answer dockerd's 503 of a node outside any swarm. */
        {"GET", "/containers/*/attach/ws", api_not_implemented, NULL},
        {"POST", "/volumes/create", api_not_implemented, NULL},
        {"POST", "/volumes/prune", api_not_implemented, NULL},
        {"PUT", "/volumes/*", api_not_implemented, NULL},
        {"POST", "/build", api_not_implemented, NULL},
        {"POST", "/build/prune", api_not_implemented, NULL},
        {"POST", "/build/cancel", api_not_implemented, NULL},
        {"POST", "/session", api_not_implemented, NULL},
        {"POST", "/grpc", api_not_implemented, NULL},
        {"GET", "/plugins/privileges", api_not_implemented, NULL},
        {"POST", "/plugins/pull", api_not_implemented, NULL},
        {"POST", "/plugins/create", api_not_implemented, NULL},
        {"POST", "/plugins/**/enable", api_plugin_inspect, NULL},
        {"POST", "/plugins/**/disable", api_plugin_inspect, NULL},
        {"POST", "/plugins/**/upgrade", api_plugin_inspect, NULL},
        {"POST", "/plugins/**/push", api_plugin_inspect, NULL},
        {"POST", "/plugins/**/set", api_plugin_inspect, NULL},
        {NULL, "/swarm", api_swarm_inactive, NULL},
        {NULL, "/swarm/**", api_swarm_inactive, NULL},
        {NULL, "/nodes", api_swarm_inactive, NULL},
        {NULL, "/nodes/**", api_swarm_inactive, NULL},
        {NULL, "/services", api_swarm_inactive, NULL},
        {NULL, "/services/**", api_swarm_inactive, NULL},
        {NULL, "/tasks", api_swarm_inactive, NULL},
        {NULL, "/tasks/**", api_swarm_inactive, NULL},
        {NULL, "/secrets", api_swarm_inactive, NULL},
        {NULL, "/secrets/**", api_swarm_inactive, NULL},
        {NULL, "/configs", api_swarm_inactive, NULL},
        {NULL, "/configs/**", api_swarm_inactive, NULL},
};

#define MAX_SEGS 64

struct segs {
        const char *p[MAX_SEGS];
        size_t len[MAX_SEGS];
        size_t n;
};

/* Split on '/', empty segments dropped; false if too many. */
static bool split(const char *s, struct segs *out)
{
        out->n = 0;
        while (*s != '\0') {
                while (*s == '/')
                        s++;
                if (*s == '\0')
                        break;
                const char *e = strchrnul(s, '/');
                if (out->n == MAX_SEGS)
                        return false;
                out->p[out->n] = s;
                out->len[out->n] = (size_t)(e - s);
                out->n++;
                s = e;
        }
        return true;
}

static bool seg_eq(const struct segs *a, size_t i, const struct segs *b, size_t j)
{
        return a->len[i] == b->len[j] && memcmp(a->p[i], b->p[j], a->len[i]) == 0;
}

static bool seg_is(const struct segs *s, size_t i, const char *lit)
{
        return s->len[i] == strlen(lit) && memcmp(s->p[i], lit, s->len[i]) == 0;
}

static void free_caps(char **caps)
{
        for (size_t i = 0; i < API_MAX_CAPS; i++) {
                free(caps[i]);
                caps[i] = NULL;
        }
}

/* One "**" at most per pattern: the literal prefix and suffix pin it, it takes the middle. */
static bool match(const struct segs *pat, const struct segs *path, char **caps)
{
        size_t star2 = pat->n, ncap = 0;
        for (size_t i = 0; i < pat->n; i++)
                if (seg_is(pat, i, "**"))
                        star2 = i;
        size_t need = star2 == pat->n ? pat->n : pat->n - 1;
        if (star2 == pat->n ? path->n != pat->n : path->n < need + 1)
                return false;
        for (size_t i = 0; i < pat->n; i++) {
                size_t j;
                if (i < star2)
                        j = i;
                else if (i > star2)
                        j = path->n - (pat->n - i);
                else {
                        /* The middle, joined back with its slashes. */
                        size_t last = path->n - (pat->n - i);
                        const char *start = path->p[i];
                        const char *end = path->p[last] + path->len[last];
                        if (ncap < API_MAX_CAPS)
                                caps[ncap++] = strndup(start, (size_t)(end - start));
                        continue;
                }
                if (seg_is(pat, i, "*")) {
                        if (ncap < API_MAX_CAPS)
                                caps[ncap++] = strndup(path->p[j], path->len[j]);
                } else if (!seg_eq(pat, i, path, j)) {
                        free_caps(caps);
                        return false;
                }
        }
        return true;
}

const struct api_route *api_route_match(const char *method, const char *path, char **caps)
{
        struct segs sp;
        if (!split(path, &sp))
                return NULL;
        for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
                const struct api_route *rt = &routes[i];
                if (rt->method != NULL && strcmp(rt->method, method) != 0)
                        continue;
                struct segs pat;
                split(rt->pattern, &pat);
                if (match(&pat, &sp, caps))
                        return rt;
        }
        return NULL;
}
