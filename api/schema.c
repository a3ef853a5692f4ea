/* Docker's request bodies as typed field tables: a wrong type is a 400 naming the field. */
#include "api/schema.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define SCHEMA(go, f)                                                                              \
        {                                                                                          \
                go, f, N(f)                                                                        \
        }

/* github.com/docker/go-units and api/types/container, as of API 1.44. */
static const struct api_field health_f[] = {
    {"Test", API_JT_STRS, NULL},         {"Interval", API_JT_INT, NULL},
    {"Timeout", API_JT_INT, NULL},       {"StartPeriod", API_JT_INT, NULL},
    {"StartInterval", API_JT_INT, NULL}, {"Retries", API_JT_INT, NULL},
};
static const struct api_schema health_s = SCHEMA("HealthConfig", health_f);

static const struct api_field log_f[] = {
    {"Type", API_JT_STR, NULL},
    {"Config", API_JT_MAP_STR, NULL},
};
static const struct api_schema log_s = SCHEMA("LogConfig", log_f);

static const struct api_field restart_f[] = {
    {"Name", API_JT_STR, NULL},
    {"MaximumRetryCount", API_JT_INT, NULL},
};
static const struct api_schema restart_s = SCHEMA("RestartPolicy", restart_f);

static const struct api_field ulimit_f[] = {
    {"Name", API_JT_STR, NULL},
    {"Soft", API_JT_INT, NULL},
    {"Hard", API_JT_INT, NULL},
};
static const struct api_schema ulimit_s = SCHEMA("Ulimit", ulimit_f);

static const struct api_field device_f[] = {
    {"PathOnHost", API_JT_STR, NULL},
    {"PathInContainer", API_JT_STR, NULL},
    {"CgroupPermissions", API_JT_STR, NULL},
};
static const struct api_schema device_s = SCHEMA("DeviceMapping", device_f);

static const struct api_field mount_f[] = {
    {"Type", API_JT_STR, NULL},          {"Source", API_JT_STR, NULL},
    {"Target", API_JT_STR, NULL},        {"ReadOnly", API_JT_BOOL, NULL},
    {"Consistency", API_JT_STR, NULL},   {"BindOptions", API_JT_OBJ, NULL},
    {"VolumeOptions", API_JT_OBJ, NULL}, {"TmpfsOptions", API_JT_OBJ, NULL},
};
static const struct api_schema mount_s = SCHEMA("Mount", mount_f);

/* container.Resources: embedded in HostConfig and in UpdateConfig, so its fields are flat. */
/* clang-format off */
#define RESOURCES_FIELDS                                                                       \
        {"CpuShares", API_JT_INT, NULL}, {"Memory", API_JT_INT, NULL},                         \
        {"NanoCpus", API_JT_INT, NULL}, {"CgroupParent", API_JT_STR, NULL},                    \
        {"BlkioWeight", API_JT_INT, NULL}, {"BlkioWeightDevice", API_JT_ARR, NULL},            \
        {"BlkioDeviceReadBps", API_JT_ARR, NULL}, {"BlkioDeviceWriteBps", API_JT_ARR, NULL},   \
        {"BlkioDeviceReadIOps", API_JT_ARR, NULL}, {"BlkioDeviceWriteIOps", API_JT_ARR, NULL}, \
        {"CpuPeriod", API_JT_INT, NULL}, {"CpuQuota", API_JT_INT, NULL},                       \
        {"CpuRealtimePeriod", API_JT_INT, NULL}, {"CpuRealtimeRuntime", API_JT_INT, NULL},     \
        {"CpusetCpus", API_JT_STR, NULL}, {"CpusetMems", API_JT_STR, NULL},                    \
        {"Devices", API_JT_ARR_SUB, &device_s}, {"DeviceCgroupRules", API_JT_STRS, NULL},      \
        {"DeviceRequests", API_JT_ARR, NULL}, {"KernelMemory", API_JT_INT, NULL},              \
        {"KernelMemoryTCP", API_JT_INT, NULL}, {"MemoryReservation", API_JT_INT, NULL},        \
        {"MemorySwap", API_JT_INT, NULL}, {"MemorySwappiness", API_JT_INT, NULL},              \
        {"OomKillDisable", API_JT_BOOL, NULL}, {"PidsLimit", API_JT_INT, NULL},                \
        {"Ulimits", API_JT_ARR_SUB, &ulimit_s}, {"CpuCount", API_JT_INT, NULL},                \
        {"CpuPercent", API_JT_INT, NULL}, {"IOMaximumIOps", API_JT_INT, NULL},                 \
        {"IOMaximumBandwidth", API_JT_INT, NULL}
/* clang-format on */

static const struct api_field host_f[] = {
    RESOURCES_FIELDS,
    {"Binds", API_JT_STRS, NULL},
    {"ContainerIDFile", API_JT_STR, NULL},
    {"LogConfig", API_JT_SUB, &log_s},
    {"NetworkMode", API_JT_STR, NULL},
    {"PortBindings", API_JT_OBJ, NULL},
    {"RestartPolicy", API_JT_SUB, &restart_s},
    {"AutoRemove", API_JT_BOOL, NULL},
    {"VolumeDriver", API_JT_STR, NULL},
    {"VolumesFrom", API_JT_STRS, NULL},
    {"ConsoleSize", API_JT_ARR, NULL},
    {"Annotations", API_JT_MAP_STR, NULL},
    {"CapAdd", API_JT_STRSLICE, NULL},
    {"CapDrop", API_JT_STRSLICE, NULL},
    {"CgroupnsMode", API_JT_STR, NULL},
    {"Dns", API_JT_STRS, NULL},
    {"DnsOptions", API_JT_STRS, NULL},
    {"DnsSearch", API_JT_STRS, NULL},
    {"ExtraHosts", API_JT_STRS, NULL},
    {"GroupAdd", API_JT_STRS, NULL},
    {"IpcMode", API_JT_STR, NULL},
    {"Cgroup", API_JT_STR, NULL},
    {"Links", API_JT_STRS, NULL},
    {"OomScoreAdj", API_JT_INT, NULL},
    {"PidMode", API_JT_STR, NULL},
    {"Privileged", API_JT_BOOL, NULL},
    {"PublishAllPorts", API_JT_BOOL, NULL},
    {"ReadonlyRootfs", API_JT_BOOL, NULL},
    {"SecurityOpt", API_JT_STRS, NULL},
    {"StorageOpt", API_JT_MAP_STR, NULL},
    {"Tmpfs", API_JT_MAP_STR, NULL},
    {"UTSMode", API_JT_STR, NULL},
    {"UsernsMode", API_JT_STR, NULL},
    {"ShmSize", API_JT_INT, NULL},
    {"Sysctls", API_JT_MAP_STR, NULL},
    {"Runtime", API_JT_STR, NULL},
    {"Isolation", API_JT_STR, NULL},
    {"Mounts", API_JT_ARR_SUB, &mount_s},
    {"MaskedPaths", API_JT_STRS, NULL},
    {"ReadonlyPaths", API_JT_STRS, NULL},
    {"Init", API_JT_BOOL, NULL},
};
static const struct api_schema host_s = SCHEMA("HostConfig", host_f);

static const struct api_field net_f[] = {
    {"EndpointsConfig", API_JT_OBJ, NULL},
};
static const struct api_schema net_s = SCHEMA("NetworkingConfig", net_f);

/* runconfig.ContainerConfigWrapper: container.Config embedded, HostConfig and
 * NetworkingConfig beside it. */
static const struct api_field create_f[] = {
    {"Hostname", API_JT_STR, NULL},
    {"Domainname", API_JT_STR, NULL},
    {"User", API_JT_STR, NULL},
    {"AttachStdin", API_JT_BOOL, NULL},
    {"AttachStdout", API_JT_BOOL, NULL},
    {"AttachStderr", API_JT_BOOL, NULL},
    {"ExposedPorts", API_JT_OBJ, NULL},
    {"Tty", API_JT_BOOL, NULL},
    {"OpenStdin", API_JT_BOOL, NULL},
    {"StdinOnce", API_JT_BOOL, NULL},
    {"Env", API_JT_STRS, NULL},
    {"Cmd", API_JT_STRSLICE, NULL},
    {"Healthcheck", API_JT_SUB, &health_s},
    {"ArgsEscaped", API_JT_BOOL, NULL},
    {"Image", API_JT_STR, NULL},
    {"Volumes", API_JT_OBJ, NULL},
    {"WorkingDir", API_JT_STR, NULL},
    {"Entrypoint", API_JT_STRSLICE, NULL},
    {"NetworkDisabled", API_JT_BOOL, NULL},
    {"MacAddress", API_JT_STR, NULL},
    {"OnBuild", API_JT_STRS, NULL},
    {"Labels", API_JT_MAP_STR, NULL},
    {"StopSignal", API_JT_STR, NULL},
    {"StopTimeout", API_JT_INT, NULL},
    {"Shell", API_JT_STRSLICE, NULL},
    {"HostConfig", API_JT_SUB, &host_s},
    {"NetworkingConfig", API_JT_SUB, &net_s},
};
const struct api_schema api_schema_create = SCHEMA("ContainerConfigWrapper", create_f);

/* container.UpdateConfig: Resources and RestartPolicy. */
static const struct api_field update_f[] = {
    RESOURCES_FIELDS,
    {"RestartPolicy", API_JT_SUB, &restart_s},
};
const struct api_schema api_schema_update = SCHEMA("UpdateConfig", update_f);

static const struct api_field exec_f[] = {
    {"User", API_JT_STR, NULL},          {"Privileged", API_JT_BOOL, NULL},
    {"Tty", API_JT_BOOL, NULL},          {"ConsoleSize", API_JT_ARR, NULL},
    {"AttachStdin", API_JT_BOOL, NULL},  {"AttachStderr", API_JT_BOOL, NULL},
    {"AttachStdout", API_JT_BOOL, NULL}, {"Detach", API_JT_BOOL, NULL},
    {"DetachKeys", API_JT_STR, NULL},    {"Env", API_JT_STRS, NULL},
    {"WorkingDir", API_JT_STR, NULL},    {"Cmd", API_JT_STRS, NULL},
};
const struct api_schema api_schema_exec = SCHEMA("ExecOptions", exec_f);

static const struct api_field exec_start_f[] = {
    {"Detach", API_JT_BOOL, NULL},
    {"Tty", API_JT_BOOL, NULL},
    {"ConsoleSize", API_JT_ARR, NULL},
};
const struct api_schema api_schema_exec_start = SCHEMA("ExecStartOptions", exec_start_f);

/* Go's names for what it found: "number 1.5" when a fraction met an integer field. */
static void json_kind(json_t *v, char *buf, size_t cap)
{
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                snprintf(buf, cap, "object");
                break;
        case JSON_ARRAY:
                snprintf(buf, cap, "array");
                break;
        case JSON_STRING:
                snprintf(buf, cap, "string");
                break;
        case JSON_INTEGER:
                snprintf(buf, cap, "number");
                break;
        case JSON_REAL:
                snprintf(buf, cap, "number %g", json_real_value(v));
                break;
        case JSON_TRUE:
        case JSON_FALSE:
                snprintf(buf, cap, "bool");
                break;
        default:
                snprintf(buf, cap, "null");
                break;
        }
}

struct ctx {
        char path[256]; /* field names from the top, dot-joined (no indices, as Go's) */
        char *msg;
        size_t cap;
};

static int fail(struct ctx *c, const char *go_struct, json_t *v, const char *go_type)
{
        char kind[64];
        json_kind(v, kind, sizeof(kind));
        snprintf(c->msg, c->cap, "json: cannot unmarshal %s into Go struct field %s.%s of type %s",
                 kind, go_struct, c->path, go_type);
        return -1;
}

static int check_obj(struct ctx *c, const struct api_schema *s, json_t *obj);

static int check_strs(struct ctx *c, const char *go_struct, json_t *v)
{
        size_t i;
        json_t *el;
        json_array_foreach(v, i, el)
        {
                if (!json_is_string(el) && !json_is_null(el))
                        return fail(c, go_struct, el, "string");
        }
        return 0;
}

static int check_value(struct ctx *c, const char *go_struct, const struct api_field *f, json_t *v)
{
        if (json_is_null(v))
                return 0;
        switch (f->type) {
        case API_JT_INT:
                return json_is_integer(v) ? 0 : fail(c, go_struct, v, "int64");
        case API_JT_BOOL:
                return json_is_boolean(v) ? 0 : fail(c, go_struct, v, "bool");
        case API_JT_STR:
                return json_is_string(v) ? 0 : fail(c, go_struct, v, "string");
        case API_JT_STRS:
                if (!json_is_array(v))
                        return fail(c, go_struct, v, "[]string");
                return check_strs(c, go_struct, v);
        case API_JT_STRSLICE:
                if (json_is_string(v))
                        return 0;
                if (!json_is_array(v))
                        return fail(c, go_struct, v, "string");
                return check_strs(c, go_struct, v);
        case API_JT_MAP_STR: {
                if (!json_is_object(v))
                        return fail(c, go_struct, v, "map[string]string");
                const char *k;
                json_t *el;
                json_object_foreach(v, k, el)
                {
                        if (!json_is_string(el) && !json_is_null(el))
                                return fail(c, go_struct, el, "string");
                }
                return 0;
        }
        case API_JT_OBJ:
                return json_is_object(v) ? 0 : fail(c, go_struct, v, "map");
        case API_JT_ARR:
                return json_is_array(v) ? 0 : fail(c, go_struct, v, "array");
        case API_JT_SUB:
                if (!json_is_object(v))
                        return fail(c, go_struct, v, f->sub->go_type);
                return check_obj(c, f->sub, v);
        case API_JT_ARR_SUB: {
                if (!json_is_array(v))
                        return fail(c, go_struct, v, "array");
                size_t i;
                json_t *el;
                json_array_foreach(v, i, el)
                {
                        if (json_is_null(el))
                                continue;
                        if (!json_is_object(el))
                                return fail(c, go_struct, el, f->sub->go_type);
                        if (check_obj(c, f->sub, el) < 0)
                                return -1;
                }
                return 0;
        }
        }
        return 0;
}

/* encoding/json prefers the exact name, then any that matches ignoring case. */
static const struct api_field *lookup(const struct api_schema *s, const char *key)
{
        const struct api_field *fold = NULL;
        for (size_t i = 0; i < s->n; i++) {
                if (strcmp(s->fields[i].name, key) == 0)
                        return &s->fields[i];
                if (fold == NULL && strcasecmp(s->fields[i].name, key) == 0)
                        fold = &s->fields[i];
        }
        return fold;
}

static int check_obj(struct ctx *c, const struct api_schema *s, json_t *obj)
{
        size_t base = strlen(c->path);
        const char *key;
        json_t *v;
        json_object_foreach(obj, key, v)
        {
                const struct api_field *f = lookup(s, key);
                if (f == NULL)
                        continue; /* unknown fields are ignored, as dockerd does */
                snprintf(c->path + base, sizeof(c->path) - base, "%s%s", base ? "." : "", f->name);
                if (check_value(c, s->go_type, f, v) < 0)
                        return -1;
        }
        c->path[base] = '\0';
        return 0;
}

int api_schema_check(const struct api_schema *s, json_t *body, char *msg, size_t cap)
{
        struct ctx c = {.msg = msg, .cap = cap};
        if (cap > 0)
                msg[0] = '\0';
        if (!json_is_object(body)) {
                char kind[64];
                json_kind(body, kind, sizeof(kind));
                snprintf(msg, cap, "json: cannot unmarshal %s into Go value of type %s", kind,
                         s->go_type);
                return -1;
        }
        return check_obj(&c, s, body);
}
