/* Docker's create body + image config -> the merged container config and the OCI config.json. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"
#include "engine/spec_internal.h"
#include "runtime/spec.h"

#define DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define DEFAULT_SHM (64LL * 1024 * 1024)

static const char *const default_caps[] = {
        "CAP_CHOWN",  "CAP_DAC_OVERRIDE", "CAP_FSETID",           "CAP_FOWNER",
        "CAP_MKNOD",  "CAP_NET_RAW",      "CAP_SETGID",           "CAP_SETUID",
        "CAP_SETFCAP", "CAP_SETPCAP",     "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
        "CAP_KILL",   "CAP_AUDIT_WRITE",
};
/* dockerd's oci.DefaultSpec masked and read-only paths (moby 28). */
static const char *const default_masked[] = {
        "/proc/asound",        "/proc/acpi",        "/proc/interrupts", "/proc/kcore",
        "/proc/keys",          "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
        "/proc/sched_debug",   "/proc/scsi",        "/sys/firmware",
        "/sys/devices/virtual/powercap",
};
static const char *const default_readonly[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static json_t *strs(const char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

/* Docker's strslice: a string or an array of strings; NULL when absent or null. */
static json_t *strslice(json_t *v)
{
        if (json_is_string(v))
                return json_pack("[O]", v);
        if (json_is_array(v))
                return json_incref(v);
        return NULL;
}

static bool nonempty_array(json_t *v)
{
        return json_is_array(v) && json_array_size(v) > 0;
}

static const char *str_or(json_t *obj, const char *key, const char *dflt)
{
        const char *s = json_string_value(json_object_get(obj, key));
        return s && *s ? s : dflt;
}

/* Set env "K=V" in arr, replacing an entry with the same key. */
static void env_set(json_t *arr, const char *kv)
{
        const char *eq = strchr(kv, '=');
        size_t klen = eq ? (size_t)(eq - kv) : strlen(kv);
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v) {
                const char *s = json_string_value(v);
                if (s && strncmp(s, kv, klen) == 0 && (s[klen] == '=' || s[klen] == '\0')) {
                        json_array_set_new(arr, i, json_string(kv));
                        return;
                }
        }
        json_array_append_new(arr, json_string(kv));
}

static bool env_has(json_t *arr, const char *key)
{
        size_t klen = strlen(key), i;
        json_t *v;
        json_array_foreach (arr, i, v) {
                const char *s = json_string_value(v);
                if (s && strncmp(s, key, klen) == 0 && s[klen] == '=')
                        return true;
        }
        return false;
}

static void set_default(json_t *obj, const char *key, json_t *value)
{
        json_t *cur = json_object_get(obj, key);
        if (cur == NULL || json_is_null(cur))
                json_object_set_new(obj, key, value);
        else
                json_decref(value);
}

/* dockerd's zero HostConfig: what it shows for the fields a create body left out (docker-py
 * sends few of them; the docker CLI most). */
static const char hostconfig_zero[] =
        "{\"Binds\": null, \"ContainerIDFile\": \"\", \"VolumeDriver\": \"\", \"VolumesFrom\": null,"
        " \"CapAdd\": null, \"CapDrop\": null, \"Cgroup\": \"\", \"CgroupParent\": \"\","
        " \"ExtraHosts\": null, \"GroupAdd\": null, \"Links\": null, \"OomScoreAdj\": 0,"
        " \"PidMode\": \"\", \"PublishAllPorts\": false, \"SecurityOpt\": null, \"UTSMode\": \"\","
        " \"UsernsMode\": \"\", \"Isolation\": \"\", \"CpuShares\": 0, \"Memory\": 0,"
        " \"NanoCpus\": 0, \"BlkioWeight\": 0, \"BlkioWeightDevice\": null,"
        " \"BlkioDeviceReadBps\": null, \"BlkioDeviceWriteBps\": null,"
        " \"BlkioDeviceReadIOps\": null, \"BlkioDeviceWriteIOps\": null, \"CpuPeriod\": 0,"
        " \"CpuQuota\": 0, \"CpuRealtimePeriod\": 0, \"CpuRealtimeRuntime\": 0,"
        " \"CpusetCpus\": \"\", \"CpusetMems\": \"\", \"Devices\": null, \"DeviceCgroupRules\": null,"
        " \"DeviceRequests\": null, \"KernelMemory\": 0, \"KernelMemoryTCP\": 0,"
        " \"MemoryReservation\": 0, \"MemorySwap\": 0, \"MemorySwappiness\": null,"
        " \"OomKillDisable\": false, \"PidsLimit\": null, \"Ulimits\": null, \"CpuCount\": 0,"
        " \"CpuPercent\": 0, \"IOMaximumIOps\": 0, \"IOMaximumBandwidth\": 0}";

static void merge_hostconfig(json_t *hc)
{
        _cleanup_json_ json_t *zero = json_loads(hostconfig_zero, 0, NULL);
        json_object_update_missing(hc, zero);
        const char *nm = json_string_value(json_object_get(hc, "NetworkMode"));
        if (nm == NULL || *nm == '\0' || strcmp(nm, "default") == 0)
                json_object_set_new(hc, "NetworkMode", json_string("bridge"));
        if (json_integer_value(json_object_get(hc, "ShmSize")) <= 0)
                json_object_set_new(hc, "ShmSize", json_integer(DEFAULT_SHM));
        /* (dockerd keeps the empty name a client sent, or none: docker-py's; the CLI sends "no") */
        set_default(hc, "RestartPolicy", json_pack("{s:s, s:i}", "Name", "",
                                                   "MaximumRetryCount", 0));
        set_default(hc, "LogConfig", json_pack("{s:s, s:{}}", "Type", "json-file", "Config"));
        json_t *lc = json_object_get(hc, "LogConfig");
        if (*str_or(lc, "Type", "") == '\0')
                json_object_set_new(lc, "Type", json_string("json-file"));
        if (!json_is_object(json_object_get(lc, "Config")))
                json_object_set_new(lc, "Config", json_object());
        set_default(hc, "PortBindings", json_object());
        set_default(hc, "AutoRemove", json_false());
        set_default(hc, "Privileged", json_false());
        set_default(hc, "ReadonlyRootfs", json_false());
        set_default(hc, "CgroupnsMode", json_string("host"));
        set_default(hc, "Dns", json_array());
        set_default(hc, "DnsOptions", json_array());
        set_default(hc, "DnsSearch", json_array());
        set_default(hc, "IpcMode", json_string("private"));
        set_default(hc, "Runtime", json_string("gantry"));
        set_default(hc, "ConsoleSize", json_pack("[ii]", 0, 0));
        const char *ipc = json_string_value(json_object_get(hc, "IpcMode"));
        if (ipc == NULL || *ipc == '\0')
                json_object_set_new(hc, "IpcMode", json_string("private"));
        if (!json_is_true(json_object_get(hc, "Privileged"))) {
                set_default(hc, "MaskedPaths", strs(default_masked, ARRAY_SIZE(default_masked)));
                set_default(hc, "ReadonlyPaths",
                            strs(default_readonly, ARRAY_SIZE(default_readonly)));
        }
}

/* dockerd's merge(): the image's Healthcheck unless the container has one; a container's
 * Healthcheck takes the image's value for each field it leaves empty (Test ["NONE"] disables). */
static void merge_healthcheck(json_t *m, json_t *img_hc)
{
        if (!json_is_object(img_hc))
                return;
        json_t *hc = json_object_get(m, "Healthcheck");
        if (!json_is_object(hc)) {
                json_object_set_new(m, "Healthcheck", json_deep_copy(img_hc));
                return;
        }
        if (json_array_size(json_object_get(hc, "Test")) == 0 &&
            json_is_array(json_object_get(img_hc, "Test")))
                json_object_set_new(hc, "Test", json_deep_copy(json_object_get(img_hc, "Test")));
        static const char *const nums[] = {"Interval", "Timeout", "StartPeriod", "StartInterval",
                                           "Retries"};
        for (size_t k = 0; k < ARRAY_SIZE(nums); k++) {
                json_t *iv = json_object_get(img_hc, nums[k]);
                if (json_integer_value(json_object_get(hc, nums[k])) == 0 && json_is_integer(iv))
                        json_object_set(hc, nums[k], iv);
        }
}

int eng_spec_merge(json_t *body, json_t *image_config, const char *id, const char *image_ref,
                   json_t **out, struct gerr **err)
{
        _cleanup_json_ json_t *m = json_is_object(body) ? json_deep_copy(body) : json_object();
        json_t *img = json_object_get(image_config, "config");
        if (img == NULL)
                img = json_object_get(image_config, "Config");

        /* dockerd's merge(): an empty user Entrypoint takes the image's Cmd unless Cmd is given,
         * and the image's Entrypoint only when the user gave none at all (null). */
        _cleanup_json_ json_t *ep = strslice(json_object_get(m, "Entrypoint"));
        _cleanup_json_ json_t *cmd = strslice(json_object_get(m, "Cmd"));
        if (ep != NULL && json_array_size(ep) == 1 &&
            strcmp(json_string_value(json_array_get(ep, 0)) ?: "", "") == 0) {
                json_decref(ep);
                ep = json_array();
        }
        if (!nonempty_array(ep)) {
                if (!nonempty_array(cmd)) {
                        json_decref(cmd);
                        cmd = strslice(json_object_get(img, "Cmd"));
                }
                if (ep == NULL)
                        ep = strslice(json_object_get(img, "Entrypoint"));
        }
        json_object_set_new(m, "Entrypoint", ep && json_array_size(ep) ? json_incref(ep)
                                                                        : json_null());
        json_object_set_new(m, "Cmd", cmd ? json_incref(cmd) : json_null());

        /* dockerd's order: the user's variables, then the image's that the user did not set. */
        json_t *env = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(body, "Env"), i, v)
                if (json_is_string(v))
                        env_set(env, json_string_value(v));
        json_array_foreach (json_object_get(img, "Env"), i, v) {
                const char *kv = json_string_value(v);
                _cleanup_free_ char *key = kv ? strndup(kv, strcspn(kv, "=")) : NULL;
                if (key != NULL && !env_has(env, key))
                        json_array_append(env, v);
        }
        if (!env_has(env, "PATH"))
                json_array_insert_new(env, 0, json_string(DEFAULT_PATH));
        json_object_set_new(m, "Env", env);

        static const char *const inherit[] = {"WorkingDir", "User", "StopSignal"};
        for (size_t k = 0; k < ARRAY_SIZE(inherit); k++) {
                const char *s = str_or(m, inherit[k], NULL);
                if (s == NULL)
                        s = str_or(img, inherit[k], "");
                json_object_set_new(m, inherit[k], json_string(s));
        }
        const char *wd = json_string_value(json_object_get(m, "WorkingDir"));
        if (*wd != '\0' && *wd != '/')
                return eng_err(err, EINVAL,
                               "the working directory '%s' is invalid, it needs to be an "
                               "absolute path",
                               wd);
        if (*json_string_value(json_object_get(m, "StopSignal")) == '\0')
                json_object_del(m, "StopSignal");

        merge_healthcheck(m, json_object_get(img, "Healthcheck"));

        static const char *const maps[] = {"Labels", "ExposedPorts", "Volumes"};
        for (size_t k = 0; k < ARRAY_SIZE(maps); k++) {
                json_t *merged = json_object();
                if (json_is_object(json_object_get(img, maps[k])))
                        json_object_update(merged, json_object_get(img, maps[k]));
                if (json_is_object(json_object_get(body, maps[k])))
                        json_object_update(merged, json_object_get(body, maps[k]));
                if (json_object_size(merged) == 0 && strcmp(maps[k], "Labels") != 0) {
                        json_decref(merged);
                        json_object_del(m, maps[k]);
                } else {
                        json_object_set_new(m, maps[k], merged);
                }
        }

        char host[256];
        snprintf(host, sizeof(host), "%.12s", id);
        const char *nm = json_string_value(
                json_object_get(json_object_get(body, "HostConfig"), "NetworkMode"));
        if (nm && strcmp(nm, "host") == 0)
                gethostname(host, sizeof(host) - 1);
        json_object_set_new(m, "Hostname", json_string(str_or(body, "Hostname", host)));
        json_object_set_new(m, "Domainname", json_string(str_or(body, "Domainname", "")));
        json_object_set_new(m, "Image", json_string(image_ref ? image_ref : ""));
        static const char *const flags[] = {"AttachStdin", "AttachStdout", "AttachStderr",
                                            "Tty", "OpenStdin", "StdinOnce"};
        for (size_t k = 0; k < ARRAY_SIZE(flags); k++)
                json_object_set_new(m, flags[k],
                                    json_boolean(json_is_true(json_object_get(body, flags[k]))));
        json_object_set_new(m, "OnBuild", json_null());

        json_t *hc = json_object_get(m, "HostConfig");
        if (!json_is_object(hc)) {
                hc = json_object();
                json_object_set_new(m, "HostConfig", hc);
        }
        merge_hostconfig(hc);
        *out = TAKE_PTR(m);
        return 0;
}

json_t *eng_spec_command(json_t *config)
{
        json_t *a = json_array();
        json_array_extend(a, json_object_get(config, "Entrypoint"));
        json_array_extend(a, json_object_get(config, "Cmd"));
        return a;
}

/* ---- capabilities ---- */

static int cap_parse(const char *name, struct gerr **err)
{
        char buf[64];
        const char *n = name;
        if (strncasecmp(n, "CAP_", 4) == 0)
                n += 4;
        int len = snprintf(buf, sizeof(buf), "CAP_%s", n);
        for (int i = 0; i < len && i < (int)sizeof(buf); i++)
                buf[i] = (char)toupper((unsigned char)buf[i]);
        int c = rt_cap_from_name(buf);
        if (c < 0)
                return eng_err(err, EINVAL, "unknown capability: \"%s\"", buf);
        return c;
}

static bool has_all(json_t *list)
{
        size_t i;
        json_t *v;
        json_array_foreach (list, i, v)
                if (json_is_string(v) && (strcasecmp(json_string_value(v), "ALL") == 0 ||
                                          strcasecmp(json_string_value(v), "CAP_ALL") == 0))
                        return true;
        return false;
}

static int caps_build(json_t *hc, json_t **out, struct gerr **err)
{
        uint64_t all = 0, set = 0;
        /* "ALL" is what we hold: as dockerd, only the capabilities in our own bounding set
         * (one we lack would make the runtime's capset fail). */
        for (int c = 0; c <= rt_cap_last() && c < 64; c++)
                if (prctl(PR_CAPBSET_READ, c, 0, 0, 0) == 1)
                        all |= 1ULL << c;
        json_t *add = json_object_get(hc, "CapAdd"), *drop = json_object_get(hc, "CapDrop");
        if (json_is_true(json_object_get(hc, "Privileged")) || has_all(add)) {
                set = all;
        } else if (!has_all(drop)) {
                for (size_t k = 0; k < ARRAY_SIZE(default_caps); k++)
                        set |= 1ULL << rt_cap_from_name(default_caps[k]);
        }
        size_t i;
        json_t *v;
        if (!json_is_true(json_object_get(hc, "Privileged"))) {
                json_array_foreach (drop, i, v) {
                        const char *s = json_string_value(v);
                        if (s == NULL || strcasecmp(s, "ALL") == 0 || strcasecmp(s, "CAP_ALL") == 0)
                                continue;
                        int c = cap_parse(s, err);
                        if (c < 0)
                                return c;
                        set &= ~(1ULL << c);
                }
                json_array_foreach (add, i, v) {
                        const char *s = json_string_value(v);
                        if (s == NULL || strcasecmp(s, "ALL") == 0 || strcasecmp(s, "CAP_ALL") == 0)
                                continue;
                        int c = cap_parse(s, err);
                        if (c < 0)
                                return c;
                        set |= 1ULL << c;
                }
        }
        json_t *names = json_array();
        for (int c = 0; c < 64; c++)
                if (set & (1ULL << c))
                        json_array_append_new(names, json_string(rt_cap_name(c)));
        *out = json_pack("{s:O, s:O, s:o}", "bounding", names, "effective", names, "permitted",
                         names);
        return 0;
}

/* ---- mounts ---- */

static json_t *mnt(const char *dst, const char *type, const char *src, json_t *opts)
{
        return json_pack("{s:s, s:s, s:s, s:o}", "destination", dst, "type", type, "source", src,
                         "options", opts);
}

static bool user_mounts_at(json_t *mounts, const char *dst)
{
        size_t i;
        json_t *v;
        json_array_foreach (mounts, i, v)
                if (strcmp(json_string_value(json_object_get(v, "destination")) ?: "", dst) == 0)
                        return true;
        return false;
}

static int bind_parse(const char *spec, json_t **out, struct gerr **err)
{
        _cleanup_free_ char *copy = strdup(spec);
        char *parts[4] = {0};
        int n = 0;
        for (char *save = NULL, *tok = strtok_r(copy, ":", &save); tok && n < 4;
             tok = strtok_r(NULL, ":", &save))
                parts[n++] = tok;
        if (n < 2 || n > 3)
                return eng_err(err, EINVAL, "invalid volume specification: '%s'", spec);
        if (parts[0][0] != '/')
                return eng_err(err, ENOTSUP, "named volumes are not supported yet: '%s'", spec);
        if (parts[1][0] != '/')
                return eng_err(err, EINVAL,
                               "invalid volume specification: '%s': invalid mount config for "
                               "type \"bind\": invalid mount path: '%s' mount path must be "
                               "absolute",
                               spec, parts[1]);
        json_t *opts = json_pack("[s]", "rbind");
        const char *prop = "rprivate", *rw = "rw";
        if (n == 3)
                for (char *save = NULL, *o = strtok_r(parts[2], ",", &save); o;
                     o = strtok_r(NULL, ",", &save)) {
                        if (strcmp(o, "ro") == 0 || strcmp(o, "rw") == 0)
                                rw = strcmp(o, "ro") == 0 ? "ro" : "rw";
                        else if (strstr(o, "shared") || strstr(o, "slave") ||
                                 strstr(o, "private"))
                                prop = strstr(o, "shared")  ? (o[0] == 'r' ? "rshared" : "shared")
                                       : strstr(o, "slave") ? (o[0] == 'r' ? "rslave" : "slave")
                                                            : (o[0] == 'r' ? "rprivate" : "private");
                        else if (strcmp(o, "z") && strcmp(o, "Z") && strcmp(o, "nocopy") &&
                                 strcmp(o, "consistent") && strcmp(o, "cached") &&
                                 strcmp(o, "delegated")) {
                                json_decref(opts);
                                return eng_err(err, EINVAL, "invalid mode: %s", o);
                        }
                }
        json_array_append_new(opts, json_string(rw));
        json_array_append_new(opts, json_string(prop));
        *out = mnt(parts[1], "bind", parts[0], opts);
        return 0;
}

static json_t *tmpfs_mount(const char *dst, const char *options)
{
        json_t *opts = json_pack("[sss]", "nosuid", "nodev", "noexec");
        if (options && *options) {
                _cleanup_free_ char *copy = strdup(options);
                for (char *save = NULL, *o = strtok_r(copy, ",", &save); o;
                     o = strtok_r(NULL, ",", &save))
                        json_array_append_new(opts, json_string(o));
        }
        return mnt(dst, "tmpfs", "tmpfs", opts);
}

static int user_mounts(json_t *hc, json_t *out, struct gerr **err)
{
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "Binds"), i, v) {
                json_t *m = NULL;
                int r = bind_parse(json_string_value(v) ?: "", &m, err);
                if (r < 0)
                        return r;
                json_array_append_new(out, m);
        }
        const char *key;
        json_object_foreach (json_object_get(hc, "Tmpfs"), key, v)
                json_array_append_new(out, tmpfs_mount(key, json_string_value(v)));
        json_array_foreach (json_object_get(hc, "Mounts"), i, v) {
                const char *type = str_or(v, "Type", "volume");
                const char *dst = str_or(v, "Target", NULL);
                if (dst == NULL || dst[0] != '/')
                        return eng_err(err, EINVAL, "invalid mount config: Target must be an "
                                                    "absolute path");
                bool ro = json_is_true(json_object_get(v, "ReadOnly"));
                if (strcmp(type, "bind") == 0) {
                        const char *src = str_or(v, "Source", NULL);
                        if (src == NULL || src[0] != '/')
                                return eng_err(err, EINVAL, "invalid mount config for type "
                                                            "\"bind\": invalid source path");
                        const char *prop =
                            str_or(json_object_get(v, "BindOptions"), "Propagation", "rprivate");
                        static const char *const props[] = {"private", "rprivate", "shared",
                                                            "rshared", "slave",    "rslave"};
                        size_t k = 0;
                        while (k < ARRAY_SIZE(props) && strcmp(props[k], prop) != 0)
                                k++;
                        if (k == ARRAY_SIZE(props))
                                return eng_err(err, EINVAL,
                                               "invalid mount config for type \"bind\": invalid "
                                               "propagation mode: %s",
                                               prop);
                        json_array_append_new(
                            out, mnt(dst, "bind", src,
                                     json_pack("[sss]", "rbind", ro ? "ro" : "rw", prop)));
                } else if (strcmp(type, "tmpfs") == 0) {
                        char opt[96] = "";
                        json_t *to = json_object_get(v, "TmpfsOptions");
                        json_int_t sz = json_integer_value(json_object_get(to, "SizeBytes"));
                        json_int_t mode = json_integer_value(json_object_get(to, "Mode"));
                        int n = 0;
                        if (sz > 0)
                                n += snprintf(opt + n, sizeof(opt) - (size_t)n,
                                              "size=%" JSON_INTEGER_FORMAT ",", sz);
                        if (mode > 0)
                                n += snprintf(opt + n, sizeof(opt) - (size_t)n, "mode=%o,",
                                              (unsigned)mode);
                        snprintf(opt + n, sizeof(opt) - (size_t)n, "%s", ro ? "ro" : "rw");
                        json_array_append_new(out, tmpfs_mount(dst, opt));
                } else {
                        return eng_err(err, ENOTSUP,
                                       "mount type \"%s\" is not supported yet (named volumes "
                                       "are not supported; use type=bind or type=tmpfs)",
                                       type);
                }
        }
        return 0;
}

static json_t *default_mounts(json_t *hc, bool privileged)
{
        char shm[64];
        snprintf(shm, sizeof(shm), "size=%" JSON_INTEGER_FORMAT,
                 json_integer_value(json_object_get(hc, "ShmSize")));
        return json_pack(
                "[o, o, o, o, o, o, o]",
                mnt("/proc", "proc", "proc", json_pack("[sss]", "nosuid", "noexec", "nodev")),
                mnt("/dev", "tmpfs", "tmpfs",
                    json_pack("[ssss]", "nosuid", "strictatime", "mode=755", "size=65536k")),
                mnt("/dev/pts", "devpts", "devpts",
                    json_pack("[ssssss]", "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                              "mode=0620", "gid=5")),
                mnt("/sys", "sysfs", "sysfs",
                    json_pack("[ssss]", "nosuid", "noexec", "nodev", privileged ? "rw" : "ro")),
                mnt("/sys/fs/cgroup", "cgroup", "cgroup",
                    json_pack("[ssss]", "nosuid", "noexec", "nodev", privileged ? "rw" : "ro")),
                mnt("/dev/mqueue", "mqueue", "mqueue", json_pack("[sss]", "nosuid", "noexec", "nodev")),
                mnt("/dev/shm", "tmpfs", "shm",
                    json_pack("[sssss]", "nosuid", "noexec", "nodev", "mode=1777", shm)));
}

/* ---- linux section ---- */

static json_t *devices_default(bool privileged)
{
        if (privileged)
                return json_pack("[{s:b, s:s}]", "allow", 1, "access", "rwm");
        /* runc's AllowedDevices, which dockerd also grants. */
        json_t *d = json_pack("[{s:b, s:s}]", "allow", 0, "access", "rwm");
        json_array_append_new(d, json_pack("{s:b, s:s, s:s}", "allow", 1, "type", "c", "access", "m"));
        json_array_append_new(d, json_pack("{s:b, s:s, s:s}", "allow", 1, "type", "b", "access", "m"));
        static const int majmin[][2] = {{1, 3}, {1, 8}, {1, 7}, {5, 0}, {1, 5}, {1, 9},
                                        {5, 1}, {5, 2}, {10, 200}};
        for (size_t k = 0; k < ARRAY_SIZE(majmin); k++)
                json_array_append_new(d, json_pack("{s:b, s:s, s:i, s:i, s:s}", "allow", 1, "type",
                                                   "c", "major", majmin[k][0], "minor",
                                                   majmin[k][1], "access", "rwm"));
        json_array_append_new(d, json_pack("{s:b, s:s, s:i, s:s}", "allow", 1, "type", "c",
                                           "major", 136, "access", "rwm"));
        return d;
}

/* HostConfig.Devices: the node in the container (linux.devices) and its cgroup allow rule. */
static int devices_build(json_t *hc, json_t *allow, json_t **out, struct gerr **err)
{
        json_t *nodes = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "Devices"), i, v) {
                const char *host = json_string_value(json_object_get(v, "PathOnHost"));
                const char *ctr = json_string_value(json_object_get(v, "PathInContainer"));
                const char *perm = json_string_value(json_object_get(v, "CgroupPermissions"));
                struct stat st;
                if (host == NULL || *host == '\0' || stat(host, &st) < 0) {
                        int e = host ? errno : EINVAL;
                        json_decref(nodes);
                        return eng_err(err, e == ENOENT ? EINVAL : e,
                                       "error gathering device information while adding custom "
                                       "device \"%s\": %s",
                                       host ? host : "", strerror(e));
                }
                if (!S_ISCHR(st.st_mode) && !S_ISBLK(st.st_mode)) {
                        json_decref(nodes);
                        return eng_err(err, EINVAL,
                                       "error gathering device information while adding custom "
                                       "device \"%s\": not a device node",
                                       host);
                }
                const char *type = S_ISCHR(st.st_mode) ? "c" : "b";
                json_int_t maj = (json_int_t)major(st.st_rdev), min = (json_int_t)minor(st.st_rdev);
                json_array_append_new(nodes, json_pack("{s:s, s:s, s:I, s:I, s:i, s:i, s:i}",
                                                       "path", ctr && *ctr ? ctr : host, "type",
                                                       type, "major", maj, "minor", min,
                                                       "fileMode", (int)(st.st_mode & 07777),
                                                       "uid", 0, "gid", 0));
                json_array_append_new(allow, json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1,
                                                       "type", type, "major", maj, "minor", min,
                                                       "access", perm && *perm ? perm : "rwm"));
        }
        *out = nodes;
        return 0;
}

static int resources_build(json_t *hc, json_t **out, struct gerr **err);

int eng_spec_resources(json_t *hc, json_t **out, struct gerr **err)
{
        return resources_build(hc, out, err);
}

static int resources_build(json_t *hc, json_t **out, struct gerr **err)
{
        bool privileged = json_is_true(json_object_get(hc, "Privileged"));
        json_t *res = json_pack("{s:o}", "devices", devices_default(privileged));
#define HC_INT(k) json_integer_value(json_object_get(hc, k))
        json_int_t mem = HC_INT("Memory"), swap = HC_INT("MemorySwap");
        json_int_t resv = HC_INT("MemoryReservation");
        json_t *memory = json_object();
        if (mem > 0) {
                json_object_set_new(memory, "limit", json_integer(mem));
                /* dockerd: no MemorySwap with a Memory limit means swap = 2 x memory. */
                json_object_set_new(memory, "swap", json_integer(swap ? swap : 2 * mem));
        } else if (swap == -1) {
                json_object_set_new(memory, "swap", json_integer(-1));
        }
        if (resv > 0)
                json_object_set_new(memory, "reservation", json_integer(resv));
        if (json_is_true(json_object_get(hc, "OomKillDisable")))
                json_object_set_new(memory, "disableOOMKiller", json_true());
        json_t *sw = json_object_get(hc, "MemorySwappiness");
        if (json_is_integer(sw) && json_integer_value(sw) >= 0)
                json_object_set_new(memory, "swappiness", json_integer(json_integer_value(sw)));
        if (json_object_size(memory))
                json_object_set_new(res, "memory", memory);
        else
                json_decref(memory);

        json_t *cpu = json_object();
        json_int_t nano = HC_INT("NanoCpus"), quota = HC_INT("CpuQuota");
        json_int_t period = HC_INT("CpuPeriod"), shares = HC_INT("CpuShares");
        if (nano > 0 && (quota > 0 || period > 0)) {
                json_decref(cpu);
                json_decref(res);
                return eng_err(err, EINVAL, "Conflicting options: Nano CPUs and CPU Period "
                                            "cannot both be set");
        }
        if (nano > 0) {
                period = 100000;
                quota = nano * period / 1000000000LL;
        }
        if (shares > 0)
                json_object_set_new(cpu, "shares", json_integer(shares));
        if (quota > 0)
                json_object_set_new(cpu, "quota", json_integer(quota));
        if (period > 0)
                json_object_set_new(cpu, "period", json_integer(period));
        const char *cpus = str_or(hc, "CpusetCpus", NULL), *mems = str_or(hc, "CpusetMems", NULL);
        if (cpus)
                json_object_set_new(cpu, "cpus", json_string(cpus));
        if (mems)
                json_object_set_new(cpu, "mems", json_string(mems));
        if (json_object_size(cpu))
                json_object_set_new(res, "cpu", cpu);
        else
                json_decref(cpu);
        if (HC_INT("PidsLimit") > 0)
                json_object_set_new(res, "pids", json_pack("{s:I}", "limit", HC_INT("PidsLimit")));
        if (HC_INT("BlkioWeight") > 0)
                json_object_set_new(res, "blockIO",
                                    json_pack("{s:I}", "weight", HC_INT("BlkioWeight")));
#undef HC_INT
        *out = res;
        return 0;
}

static int rlimits_build(json_t *hc, json_t **out, struct gerr **err)
{
        json_t *arr = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "Ulimits"), i, v) {
                const char *name = str_or(v, "Name", "");
                char type[48];
                int n = snprintf(type, sizeof(type), "RLIMIT_%s", name);
                for (int k = 7; k < n && k < (int)sizeof(type); k++)
                        type[k] = (char)toupper((unsigned char)type[k]);
                static const char *const known[] = {
                        "RLIMIT_AS",      "RLIMIT_CORE",    "RLIMIT_CPU",      "RLIMIT_DATA",
                        "RLIMIT_FSIZE",   "RLIMIT_LOCKS",   "RLIMIT_MEMLOCK",  "RLIMIT_MSGQUEUE",
                        "RLIMIT_NICE",    "RLIMIT_NOFILE",  "RLIMIT_NPROC",    "RLIMIT_RSS",
                        "RLIMIT_RTPRIO",  "RLIMIT_RTTIME",  "RLIMIT_SIGPENDING", "RLIMIT_STACK"};
                bool ok = false;
                for (size_t k = 0; k < ARRAY_SIZE(known); k++)
                        ok = ok || strcmp(known[k], type) == 0;
                if (!ok) {
                        json_decref(arr);
                        return eng_err(err, EINVAL, "invalid ulimit type: %s", name);
                }
                json_array_append_new(arr, json_pack("{s:s, s:I, s:I}", "type", type, "soft",
                                                     json_integer_value(json_object_get(v, "Soft")),
                                                     "hard",
                                                     json_integer_value(json_object_get(v, "Hard"))));
        }
        *out = arr;
        return 0;
}

static int security_opts(json_t *hc, bool *nnp, struct gerr **err)
{
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "SecurityOpt"), i, v) {
                const char *s = json_string_value(v);
                if (s == NULL)
                        continue;
                if (strncmp(s, "no-new-privileges", 17) == 0) {
                        const char *val = s[17] ? s + 18 : "true";
                        *nnp = strcmp(val, "true") == 0;
                } else if (strncmp(s, "seccomp", 7) == 0 && (s[7] == '=' || s[7] == ':')) {
                        /* eng_seccomp_build reads it */
                } else if (strncmp(s, "apparmor", 8) && strncmp(s, "label", 5) &&
                           strncmp(s, "systempaths", 11)) {
                        return eng_err(err, EINVAL, "invalid --security-opt: \"%s\"", s);
                }
        }
        return 0;
}

static json_t *namespaces_build(json_t *hc, const char *netns_path)
{
        json_t *ns = json_pack("[{s:s}]", "type", "mount");
        const char *net = str_or(hc, "NetworkMode", "bridge");
        if (strncmp(net, "container:", 10) == 0 && netns_path)
                json_array_append_new(ns, json_pack("{s:s, s:s}", "type", "network", "path",
                                                    netns_path));
        else if (strcmp(net, "host") != 0)
                json_array_append_new(ns, json_pack("{s:s}", "type", "network"));
        if (strcmp(str_or(hc, "UTSMode", ""), "host") != 0)
                json_array_append_new(ns, json_pack("{s:s}", "type", "uts"));
        if (strcmp(str_or(hc, "PidMode", ""), "host") != 0)
                json_array_append_new(ns, json_pack("{s:s}", "type", "pid"));
        if (strcmp(str_or(hc, "IpcMode", ""), "host") != 0)
                json_array_append_new(ns, json_pack("{s:s}", "type", "ipc"));
        if (strcmp(str_or(hc, "CgroupnsMode", ""), "private") == 0)
                json_array_append_new(ns, json_pack("{s:s}", "type", "cgroup"));
        return ns;
}

int eng_spec_build(const struct eng_spec_in *in, json_t **out, struct gerr **err)
{
        json_t *cfg = in->config, *hc = json_object_get(cfg, "HostConfig");
        bool privileged = json_is_true(json_object_get(hc, "Privileged"));
        _cleanup_json_ json_t *args = eng_spec_command(cfg);
        if (json_array_size(args) == 0)
                return eng_err(err, EINVAL, "No command specified");

        struct eng_user u;
        int r = eng_user_resolve(str_or(cfg, "User", ""), json_object_get(hc, "GroupAdd"),
                                 in->rootfs_dirs, &u, err);
        if (r < 0)
                return r;
        _cleanup_json_ json_t *gids = json_array();
        for (size_t k = 0; k < u.n_gids; k++)
                json_array_append_new(gids, json_integer(u.gids[k]));

        const char *hostname = str_or(cfg, "Hostname", "");
        bool tty = json_is_true(json_object_get(cfg, "Tty"));
        _cleanup_json_ json_t *env = json_array();
        char buf[512];
        json_array_append_new(env, json_string(DEFAULT_PATH));
        snprintf(buf, sizeof(buf), "HOSTNAME=%s", hostname);
        json_array_append_new(env, json_string(buf));
        if (tty)
                json_array_append_new(env, json_string("TERM=xterm"));
        size_t i;
        json_t *v;
        /* dockerd puts the links' variables before the container's own, which win. */
        json_array_foreach (json_object_get(cfg, LINK_ENV_KEY), i, v)
                if (json_is_string(v))
                        env_set(env, json_string_value(v));
        json_array_foreach (json_object_get(cfg, "Env"), i, v)
                if (json_is_string(v))
                        env_set(env, json_string_value(v));
        if (!env_has(env, "HOME")) {
                snprintf(buf, sizeof(buf), "HOME=%s", u.home);
                json_array_append_new(env, json_string(buf));
        }

        _cleanup_json_ json_t *caps = NULL;
        if ((r = caps_build(hc, &caps, err)) < 0)
                return r;
        _cleanup_json_ json_t *rlimits = NULL;
        if ((r = rlimits_build(hc, &rlimits, err)) < 0)
                return r;
        bool nnp = false;
        if ((r = security_opts(hc, &nnp, err)) < 0)
                return r;

        _cleanup_json_ json_t *umounts = json_array();
        if ((r = user_mounts(hc, umounts, err)) < 0)
                return r;
        _cleanup_json_ json_t *mounts = default_mounts(hc, privileged);
        static const char *const etc[] = {"resolv.conf", "hostname", "hosts"};
        for (size_t k = 0; k < ARRAY_SIZE(etc); k++) {
                char dst[64], src[4096];
                snprintf(dst, sizeof(dst), "/etc/%s", etc[k]);
                if (user_mounts_at(umounts, dst))
                        continue;
                snprintf(src, sizeof(src), "%s/%s", in->container_dir, etc[k]);
                json_array_append_new(mounts,
                                      mnt(dst, "bind", src, json_pack("[ss]", "rbind", "rprivate")));
        }
        /* A user mount replaces a default one at the same place (dockerd does the same). */
        for (size_t k = json_array_size(mounts); k-- > 0;)
                if (user_mounts_at(umounts, json_string_value(json_object_get(
                                                    json_array_get(mounts, k), "destination"))))
                        json_array_remove(mounts, k);
        json_array_extend(mounts, umounts);
        /* --init: our init as pid 1, where dockerd puts docker-init. */
        if (json_is_true(json_object_get(hc, "Init"))) {
                if (in->init_path == NULL)
                        return eng_err(err, EINVAL, "--init: gantry-init is not installed");
                json_array_append_new(mounts, mnt("/sbin/docker-init", "bind", in->init_path,
                                                  json_pack("[sss]", "rbind", "ro", "rprivate")));
                json_t *with_init = json_pack("[ss]", "/sbin/docker-init", "--");
                json_array_extend(with_init, args);
                json_decref(args);
                args = with_init;
        }

        _cleanup_json_ json_t *resources = NULL;
        if ((r = resources_build(hc, &resources, err)) < 0)
                return r;

        json_t *process = json_pack(
                "{s:b, s:{s:I, s:I, s:O}, s:O, s:O, s:s, s:O, s:b}", "terminal", tty, "user",
                "uid", (json_int_t)u.uid, "gid", (json_int_t)u.gid, "additionalGids", gids, "args",
                args, "env", env, "cwd", str_or(cfg, "WorkingDir", "/"), "capabilities", caps,
                "noNewPrivileges", nnp);
        if (json_array_size(rlimits))
                json_object_set(process, "rlimits", rlimits);
        json_int_t oom = json_integer_value(json_object_get(hc, "OomScoreAdj"));
        if (oom != 0)
                json_object_set_new(process, "oomScoreAdj", json_integer(oom));

        char cgpath[128];
        snprintf(cgpath, sizeof(cgpath), ENG_CGROUP_PARENT "/%s", in->id);
        json_t *linux = json_pack("{s:o, s:s, s:O}", "namespaces",
                                  namespaces_build(hc, in->netns_path), "cgroupsPath", cgpath,
                                  "resources", resources);
        if (!privileged) {
                json_object_set(linux, "maskedPaths",
                                json_is_array(json_object_get(hc, "MaskedPaths"))
                                        ? json_object_get(hc, "MaskedPaths")
                                        : json_array());
                json_object_set(linux, "readonlyPaths",
                                json_is_array(json_object_get(hc, "ReadonlyPaths"))
                                        ? json_object_get(hc, "ReadonlyPaths")
                                        : json_array());
        }
        if (json_object_size(json_object_get(hc, "Sysctls")))
                json_object_set(linux, "sysctl", json_object_get(hc, "Sysctls"));
        json_t *devices = NULL;
        if ((r = devices_build(hc, json_object_get(resources, "devices"), &devices, err)) < 0) {
                json_decref(process);
                json_decref(linux);
                return r;
        }
        if (json_array_size(devices) > 0)
                json_object_set_new(linux, "devices", devices);
        else
                json_decref(devices);
        json_t *seccomp = NULL;
        if ((r = eng_seccomp_build(hc, json_object_get(caps, "bounding"), privileged, &seccomp,
                                   err)) < 0) {
                json_decref(process);
                json_decref(linux);
                return r;
        }
        if (seccomp != NULL)
                json_object_set_new(linux, "seccomp", seccomp);

        json_t *spec = json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:O, s:o}", "ociVersion", "1.1.0",
                                 "process", process, "root", "path", "rootfs", "readonly",
                                 json_is_true(json_object_get(hc, "ReadonlyRootfs")), "hostname",
                                 hostname, "mounts", mounts, "linux", linux);
        if (spec == NULL)
                return gerr_set(err, ENOMEM, "build config.json");
        const char *dom = str_or(cfg, "Domainname", NULL);
        if (dom)
                json_object_set_new(spec, "domainname", json_string(dom));
        *out = spec;
        return 0;
}
