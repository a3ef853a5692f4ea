/* The container's identity files: User lookup in the image's passwd/group, hostname/hosts/resolv.conf. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/fsutil.h"
#include "engine/engine_internal.h"
#include "engine/spec_internal.h"

/* The first etc file (relative to each dir taken as root) that exists, read whole. */
static char *read_etc(const char *const *dirs, const char *path)
{
        for (size_t i = 0; dirs && dirs[i]; i++) {
                _cleanup_close_ int dfd = open(dirs[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
                if (dfd < 0)
                        continue;
                _cleanup_close_ int fd = fs_open_in_root(dfd, path, O_RDONLY | O_CLOEXEC, 0);
                if (fd < 0)
                        continue;
                char *buf = NULL;
                if (fs_read_fd(fd, &buf, NULL) == 0)
                        return buf;
        }
        return NULL;
}

static bool parse_num(const char *s, unsigned long *out)
{
        if (*s == '\0')
                return false;
        char *end;
        errno = 0;
        unsigned long v = strtoul(s, &end, 10);
        if (*end != '\0' || errno)
                return false;
        *out = v;
        return true;
}

/* Split line into colon fields (in place); returns the count. */
static int fields(char *line, char **f, int max)
{
        int n = 0;
        f[n++] = line;
        for (char *p = line; *p && n < max; p++)
                if (*p == ':') {
                        *p = '\0';
                        f[n++] = p + 1;
                }
        return n;
}

/* Find a passwd entry by name or uid: returns true and fills out. */
static bool passwd_find(const char *db, const char *name, long uid, char *uname, size_t ulen,
                        uid_t *u, gid_t *g, char *home, size_t hlen)
{
        if (db == NULL)
                return false;
        _cleanup_free_ char *copy = strdup(db);
        for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *f[7];
                if (fields(line, f, 7) < 7)
                        continue;
                unsigned long fu, fg;
                if (!parse_num(f[2], &fu) || !parse_num(f[3], &fg))
                        continue;
                if (name ? strcmp(f[0], name) != 0 : (long)fu != uid)
                        continue;
                snprintf(uname, ulen, "%s", f[0]);
                *u = (uid_t)fu;
                *g = (gid_t)fg;
                snprintf(home, hlen, "%s", f[5]);
                return true;
        }
        return false;
}

static bool group_find(const char *db, const char *name, gid_t *g)
{
        if (db == NULL)
                return false;
        _cleanup_free_ char *copy = strdup(db);
        for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *f[4];
                unsigned long fg;
                if (fields(line, f, 4) < 3 || !parse_num(f[2], &fg))
                        continue;
                if (strcmp(f[0], name) == 0) {
                        *g = (gid_t)fg;
                        return true;
                }
        }
        return false;
}

static void add_gid(struct eng_user *out, gid_t g)
{
        for (size_t i = 0; i < out->n_gids; i++)
                if (out->gids[i] == g)
                        return;
        if (out->n_gids < ARRAY_SIZE(out->gids))
                out->gids[out->n_gids++] = g;
}

/* Groups listing uname as a member (what initgroups would give). */
static void member_groups(const char *db, const char *uname, struct eng_user *out)
{
        if (db == NULL || *uname == '\0')
                return;
        _cleanup_free_ char *copy = strdup(db);
        for (char *save = NULL, *line = strtok_r(copy, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
                char *f[4];
                unsigned long fg;
                if (fields(line, f, 4) < 4 || !parse_num(f[2], &fg))
                        continue;
                for (char *s2 = NULL, *m = strtok_r(f[3], ",", &s2); m; m = strtok_r(NULL, ",", &s2))
                        if (strcmp(m, uname) == 0)
                                add_gid(out, (gid_t)fg);
        }
}

int eng_user_resolve(const char *user, json_t *group_add, const char *const *dirs,
                     struct eng_user *out, struct gerr **err)
{
        memset(out, 0, sizeof(*out));
        snprintf(out->home, sizeof(out->home), "/");
        _cleanup_free_ char *passwd = read_etc(dirs, "/etc/passwd");
        _cleanup_free_ char *group = read_etc(dirs, "/etc/group");
        _cleanup_free_ char *copy = strdup(user ? user : "");
        char *gpart = strchr(copy, ':');
        if (gpart)
                *gpart++ = '\0';
        const char *upart = *copy ? copy : "0";
        char uname[256] = "";
        unsigned long num;
        uid_t pu = 0;
        gid_t pg = 0;
        char home[256] = "";
        if (parse_num(upart, &num)) {
                out->uid = (uid_t)num;
                if (passwd_find(passwd, NULL, (long)num, uname, sizeof(uname), &pu, &pg, home,
                                sizeof(home))) {
                        out->gid = pg;
                        snprintf(out->home, sizeof(out->home), "%s", home);
                }
        } else {
                if (!passwd_find(passwd, upart, -1, uname, sizeof(uname), &pu, &pg, home,
                                 sizeof(home)))
                        return eng_err(err, EINVAL,
                                       "unable to find user %s: no matching entries in passwd "
                                       "file",
                                       upart);
                out->uid = pu;
                out->gid = pg;
                snprintf(out->home, sizeof(out->home), "%s", home);
        }
        if (gpart && *gpart) {
                gid_t g;
                if (parse_num(gpart, &num))
                        out->gid = (gid_t)num;
                else if (group_find(group, gpart, &g))
                        out->gid = g;
                else
                        return eng_err(err, EINVAL,
                                       "unable to find group %s: no matching entries in group "
                                       "file",
                                       gpart);
        } else {
                /* runc adds the user's supplementary groups only when no group is given. */
                member_groups(group, uname, out);
        }
        /* dockerd's processes always hold their primary group as a supplementary one when they
         * have no other ("id" shows groups=<gid>). */
        if (out->n_gids == 0)
                add_gid(out, out->gid);
        size_t i;
        json_t *v;
        json_array_foreach (group_add, i, v) {
                const char *s = json_string_value(v);
                gid_t g;
                if (s == NULL)
                        continue;
                if (parse_num(s, &num))
                        add_gid(out, (gid_t)num);
                else if (group_find(group, s, &g))
                        add_gid(out, g);
                else
                        return eng_err(err, EINVAL,
                                       "unable to find group %s: no matching entries in group "
                                       "file",
                                       s);
        }
        return 0;
}

/* resolv.conf as dockerd writes it for a container on its own network namespace: dns (the
 * container's or the daemon's --dns), else the host's without loopback nameservers
 * (unreachable from there), Google's if none remain. */
static char *resolv_conf(json_t *hc, json_t *dns, bool host_net, bool embedded)
{
        _cleanup_free_ char *host = NULL;
        fs_read_file("/etc/resolv.conf", &host, NULL, NULL);
        json_t *search = json_object_get(hc, "DnsSearch");
        json_t *opts = json_object_get(hc, "DnsOptions");
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (f == NULL)
                return NULL;
        bool any_ns = false;
        size_t i;
        json_t *v;
        /* dockerd on a user network: its resolver, which forwards to the Dns servers. */
        if (embedded) {
                fputs("nameserver 127.0.0.11\n", f);
                any_ns = true;
        }
        json_array_foreach (embedded ? NULL : dns, i, v) {
                fprintf(f, "nameserver %s\n", json_string_value(v) ?: "");
                any_ns = true;
        }
        for (char *save = NULL, *line = host ? strtok_r(host, "\n", &save) : NULL; line;
             line = strtok_r(NULL, "\n", &save)) {
                if (strncmp(line, "nameserver", 10) == 0) {
                        if (json_array_size(dns) || embedded)
                                continue;
                        const char *a = line + 10;
                        while (*a == ' ' || *a == '\t')
                                a++;
                        if (!host_net && (strncmp(a, "127.", 4) == 0 || strcmp(a, "::1") == 0))
                                continue;
                        any_ns = true;
                } else if ((strncmp(line, "search", 6) == 0 && json_array_size(search)) ||
                           (strncmp(line, "options", 7) == 0 &&
                            (json_array_size(opts) || embedded))) {
                        continue;
                }
                fprintf(f, "%s\n", line);
        }
        if (!any_ns)
                fputs("nameserver 8.8.8.8\nnameserver 8.8.4.4\n", f);
        if (json_array_size(search)) {
                fputs("search", f);
                json_array_foreach (search, i, v)
                        fprintf(f, " %s", json_string_value(v) ?: "");
                fputc('\n', f);
        }
        if (embedded && json_array_size(opts) == 0)
                fputs("options ndots:0\n", f);
        if (json_array_size(opts)) {
                fputs("options", f);
                json_array_foreach (opts, i, v)
                        fprintf(f, " %s", json_string_value(v) ?: "");
                fputc('\n', f);
        }
        fclose(f);
        return out;
}

static char *hosts_file(json_t *config, bool host_net, json_t *self_ips)
{
        json_t *hc = json_object_get(config, "HostConfig");
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);
        if (f == NULL)
                return NULL;
        _cleanup_free_ char *host = NULL;
        if (host_net && fs_read_file("/etc/hosts", &host, NULL, NULL) == 0)
                fputs(host, f);
        else
                fputs("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
                      "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
                      "ff02::2\tip6-allrouters\n",
                      f);
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "ExtraHosts"), i, v) {
                const char *s = json_string_value(v);
                const char *c = s ? strchr(s, ':') : NULL;
                if (c)
                        fprintf(f, "%s\t%.*s\n", c + 1, (int)(c - s), s);
        }
        /* Legacy links on the default bridge, after the extra hosts as in dockerd. */
        json_array_foreach (json_object_get(config, LINK_HOSTS_KEY), i, v)
                fprintf(f, "%s\n", json_string_value(v) ?: "");
        /* dockerd: the container's own addresses last, with its hostname (and FQDN). */
        const char *hn = json_string_value(json_object_get(config, "Hostname"));
        const char *dom = json_string_value(json_object_get(config, "Domainname"));
        json_array_foreach (self_ips, i, v) {
                if (hn == NULL || *hn == '\0')
                        break;
                if (dom && *dom)
                        fprintf(f, "%s\t%s.%s %s\n", json_string_value(v), hn, dom, hn);
                else
                        fprintf(f, "%s\t%s\n", json_string_value(v), hn);
        }
        fclose(f);
        return out;
}

int eng_spec_write_etc(json_t *config, json_t *dns, const char *container_dir, struct gerr **err)
{
        json_t *hc = json_object_get(config, "HostConfig");
        const char *net = json_string_value(json_object_get(hc, "NetworkMode"));
        bool host_net = net && strcmp(net, "host") == 0;
        char path[4096];
        char hn[300];
        const char *name = json_string_value(json_object_get(config, "Hostname"));
        snprintf(hn, sizeof(hn), "%s\n", name ? name : "");
        snprintf(path, sizeof(path), "%s/hostname", container_dir);
        int r = fs_write_file(path, hn, strlen(hn), err);
        if (r < 0)
                return r;
        _cleanup_free_ char *hosts = hosts_file(config, host_net, NULL);
        snprintf(path, sizeof(path), "%s/hosts", container_dir);
        if ((r = fs_write_file(path, hosts ? hosts : "", hosts ? strlen(hosts) : 0, err)) < 0)
                return r;
        _cleanup_free_ char *resolv = resolv_conf(hc, dns, host_net, false);
        snprintf(path, sizeof(path), "%s/resolv.conf", container_dir);
        return fs_write_file(path, resolv ? resolv : "", resolv ? strlen(resolv) : 0, err);
}

int eng_spec_write_hosts(json_t *config, const char *container_dir, json_t *self_ips,
                         struct gerr **err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/hosts", container_dir);
        _cleanup_free_ char *hosts = hosts_file(config, false, self_ips);
        /* In place: the file is bind-mounted into the container already. */
        return fs_write_file(path, hosts ? hosts : "", hosts ? strlen(hosts) : 0, err);
}

int eng_spec_write_resolv(json_t *config, json_t *dns, const char *container_dir, bool embedded,
                          struct gerr **err)
{
        char path[4096];
        snprintf(path, sizeof(path), "%s/resolv.conf", container_dir);
        _cleanup_free_ char *resolv =
            resolv_conf(json_object_get(config, "HostConfig"), dns, false, embedded);
        return fs_write_file(path, resolv ? resolv : "", resolv ? strlen(resolv) : 0, err);
}
