/* The default config.json that `spec` writes: runc's template (and its --rootless variant). */
#include <unistd.h>

#include "runtime/spec.h"

static json_t *caps_default(void)
{
        return json_pack("[sss]", "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE");
}

static json_t *process_default(void)
{
        return json_pack(
                "{s:b, s:{s:i, s:i}, s:[s], s:[ss], s:s, s:{s:o, s:o, s:o, s:o},"
                " s:[{s:s, s:i, s:i}], s:b}",
                "terminal", 1, "user", "uid", 0, "gid", 0, "args", "sh", "env",
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm",
                "cwd", "/", "capabilities", "bounding", caps_default(), "effective",
                caps_default(), "permitted", caps_default(), "ambient", caps_default(), "rlimits",
                "type", "RLIMIT_NOFILE", "hard", 1024, "soft", 1024, "noNewPrivileges", 1);
}

static json_t *mount(const char *dst, const char *type, const char *src, json_t *options)
{
        json_t *m = json_pack("{s:s, s:s, s:s}", "destination", dst, "type", type, "source", src);
        if (m != NULL && options != NULL)
                json_object_set_new(m, "options", options);
        else
                json_decref(options);
        return m;
}

static json_t *mounts_default(bool rootless)
{
        /* Rootless cannot mount sysfs without a network namespace of its own, nor set gid=5
         * on devpts without a mapping for it: runc's ToRootless makes the same two changes. */
        json_t *pts = rootless ? json_pack("[sssss]", "nosuid", "noexec", "newinstance",
                                           "ptmxmode=0666", "mode=0620")
                               : json_pack("[ssssss]", "nosuid", "noexec", "newinstance",
                                           "ptmxmode=0666", "mode=0620", "gid=5");
        json_t *sys = rootless
                ? mount("/sys", "none", "/sys",
                        json_pack("[sssss]", "rbind", "nosuid", "noexec", "nodev", "ro"))
                : mount("/sys", "sysfs", "sysfs", json_pack("[ssss]", "nosuid", "noexec", "nodev", "ro"));
        return json_pack(
                "[o, o, o, o, o, o, o]", mount("/proc", "proc", "proc", NULL),
                mount("/dev", "tmpfs", "tmpfs",
                      json_pack("[ssss]", "nosuid", "strictatime", "mode=755", "size=65536k")),
                mount("/dev/pts", "devpts", "devpts", pts),
                mount("/dev/shm", "tmpfs", "shm",
                      json_pack("[sssss]", "nosuid", "noexec", "nodev", "mode=1777",
                                "size=65536k")),
                mount("/dev/mqueue", "mqueue", "mqueue",
                      json_pack("[sss]", "nosuid", "noexec", "nodev")),
                sys,
                mount("/sys/fs/cgroup", "cgroup", "cgroup",
                      json_pack("[sssss]", "nosuid", "noexec", "nodev", "relatime", "ro")));
}

static json_t *linux_default(bool rootless)
{
        json_t *masked = json_pack("[ssssssssss]", "/proc/acpi", "/proc/asound", "/proc/kcore",
                                   "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
                                   "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware",
                                   "/proc/scsi");
        json_t *ro = json_pack("[sssss]", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                               "/proc/sysrq-trigger");
        if (!rootless)
                return json_pack("{s:{s:[{s:b, s:s}]}, s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}],"
                                 " s:o, s:o}",
                                 "resources", "devices", "allow", 0, "access", "rwm",
                                 "namespaces", "type", "pid", "type", "network", "type", "ipc",
                                 "type", "uts", "type", "mount", "maskedPaths", masked,
                                 "readonlyPaths", ro);
        /* Map root in the container to whoever runs `spec --rootless`, like runc. */
        return json_pack("{s:[{s:i, s:I, s:i}], s:[{s:i, s:I, s:i}],"
                         " s:[{s:s}, {s:s}, {s:s}, {s:s}, {s:s}], s:o, s:o}",
                         "uidMappings", "containerID", 0, "hostID", (json_int_t)geteuid(), "size",
                         1, "gidMappings", "containerID", 0, "hostID", (json_int_t)getegid(),
                         "size", 1, "namespaces", "type", "pid", "type", "ipc", "type", "uts",
                         "type", "mount", "type", "user", "maskedPaths", masked, "readonlyPaths",
                         ro);
}

json_t *rt_spec_default(bool rootless)
{
        return json_pack("{s:s, s:o, s:{s:s, s:b}, s:s, s:o, s:o}", "ociVersion", "1.1.0",
                         "process", process_default(), "root", "path", "rootfs", "readonly", 1,
                         "hostname", "runc", "mounts", mounts_default(rootless), "linux",
                         linux_default(rootless));
}
