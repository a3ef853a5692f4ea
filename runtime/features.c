/* The `features` document (runtime-spec features.md): what this runtime build supports. */
#include <unistd.h>

#include "runtime/runtime.h"
#include "runtime/security.h"

static const char *const mount_options[] = {
        "async",    "atime",     "bind",       "defaults",    "dev",        "diratime",
        "dirsync",  "exec",      "iversion",   "lazytime",    "loud",       "mand",
        "noatime",  "nodev",     "nodiratime", "noexec",      "noiversion", "nolazytime",
        "nomand",   "norelatime", "nostrictatime", "nosuid",  "nosymfollow", "private",
        "ratime",   "rbind",     "rdev",       "rdiratime",   "relatime",   "remount",
        "rexec",    "rnoatime",  "rnodev",     "rnodiratime", "rnoexec",    "rnorelatime",
        "rnostrictatime", "rnosuid", "rnosymfollow", "ro",    "rprivate",   "rrelatime",
        "rro",      "rrw",       "rshared",    "rslave",      "rstrictatime", "rsuid",
        "rsymfollow", "runbindable", "rw",     "shared",      "silent",     "slave",
        "strictatime", "suid",   "symfollow",  "sync",        "tmpcopyup",  "unbindable",
};

static json_t *strings(const char *const *v, size_t n)
{
        json_t *a = json_array();
        for (size_t i = 0; i < n; i++)
                json_array_append_new(a, json_string(v[i]));
        return a;
}

json_t *rt_features(void)
{
        static const char *const hooks[] = {"prestart",        "createRuntime",
                                            "createContainer", "startContainer",
                                            "poststart",       "poststop"};
        static const char *const namespaces[] = {"cgroup", "ipc",  "mount", "network",
                                                 "pid",    "time", "user",  "uts"};
        json_t *caps = json_array();
        for (int c = 0; c <= rt_cap_last(); c++)
                if (rt_cap_name(c) != NULL)
                        json_array_append_new(caps, json_string(rt_cap_name(c)));
        bool apparmor = access("/sys/kernel/security/apparmor", F_OK) == 0;
        bool selinux = access("/sys/fs/selinux/enforce", F_OK) == 0;
        json_t *linux_ = json_pack(
                "{s:o,s:o,s:{s:b,s:b,s:b,s:b,s:b},s:o,s:{s:b},s:{s:b},s:{s:b},"
                "s:{s:{s:b}}}",
                "namespaces", strings(namespaces, sizeof(namespaces) / sizeof(*namespaces)),
                "capabilities", caps, "cgroup", "v1", 1, "v2", 1, "systemd", 0, "systemdUser", 0,
                "rdma", 0, "seccomp", rt_seccomp_features(), "apparmor", "enabled", apparmor,
                "selinux", "enabled", selinux, "intelRdt", "enabled", 0, "mountExtensions",
                "idmap", "enabled", 0);
        return json_pack("{s:s,s:s,s:o,s:o,s:o,s:{s:s}}", "ociVersionMin", "1.0.0",
                         "ociVersionMax", "1.1.0", "hooks",
                         strings(hooks, sizeof(hooks) / sizeof(*hooks)), "mountOptions",
                         strings(mount_options, sizeof(mount_options) / sizeof(*mount_options)),
                         "linux", linux_, "annotations", "io.gantry.runtime.version", "0.1.0");
}
