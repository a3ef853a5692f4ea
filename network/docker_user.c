/* Gantry's accept rules in dockerd's DOCKER-USER chain, so that its FORWARD DROP policy spares our bridges. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "network/network.h"

int net_docker_user_sync(struct net_host *h, const char *table, const char *const *bridges,
                         size_t n, struct gerr **err)
{
        _cleanup_free_ char *out = net_nft_json(h, "list chain ip filter DOCKER-USER");
        if (out == NULL)
                return 0; /* no dockerd (or no iptables-nft table): nothing to live with */
        json_t *j = json_loads(out, 0, NULL);
        if (j == NULL)
                return gerr_set(err, EINVAL, "nftables: DOCKER-USER listing is not JSON");
        char mark[64];
        snprintf(mark, sizeof(mark), "gantry:%s", table);
        char *script = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&script, &len);
        if (f == NULL) {
                json_decref(j);
                return gerr_set(err, ENOMEM, "DOCKER-USER");
        }
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(j, "nftables"), i, v) {
                json_t *rule = json_object_get(v, "rule");
                const char *c = json_string_value(json_object_get(rule, "comment"));
                if (rule && c && strcmp(c, mark) == 0)
                        fprintf(f, "delete rule ip filter DOCKER-USER handle %lld\n",
                                (long long)json_integer_value(json_object_get(rule, "handle")));
        }
        json_decref(j);
        /* Only what iptables-nft can read back (interface matches, a comment, accept): a
         * native ct expression would make the chain "incompatible" for dockerd's iptables.
         * What may reach a bridge is decided in our own table's forward chain, which sees the
         * packet as well. insert puts each rule first: written in reverse, they read in order. */
        for (size_t k = n; k-- > 0;) {
                fprintf(f, "insert rule ip filter DOCKER-USER oifname \"%s\" accept comment \"%s\"\n",
                        bridges[k], mark);
                fprintf(f, "insert rule ip filter DOCKER-USER iifname \"%s\" accept comment \"%s\"\n",
                        bridges[k], mark);
        }
        fclose(f);
        int r = len ? net_nft_run(h, script, err) : 0;
        free(script);
        return r;
}
