/* seccomp for containers: Docker's default confinement, and Docker-format profiles (--security-opt seccomp=...) turned into OCI's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "common/cleanup.h"
#include "engine/engine_internal.h"
#include "engine/spec_internal.h"

#define EPERM_RET 1
#define ENOSYS_RET 38

/* The system calls Docker's default profile keeps from a container, and the capability that
 * gives each one back (NULL: none does). Docker's profile is an allow list; ours denies these
 * and allows the rest, which keeps its effect on the calls that matter (namespaces, mounts,
 * modules, keyrings, clocks, tracing other processes, the kernel's own state). */
static const struct {
        const char *name;
        const char *cap;
} denied[] = {
        {"acct", "CAP_SYS_PACCT"},
        {"add_key", NULL},
        {"bpf", "CAP_SYS_ADMIN"},
        {"clock_adjtime", "CAP_SYS_TIME"},
        {"clock_settime", "CAP_SYS_TIME"},
        {"create_module", NULL},
        {"delete_module", "CAP_SYS_MODULE"},
        {"fanotify_init", "CAP_SYS_ADMIN"},
        {"finit_module", "CAP_SYS_MODULE"},
        {"fsconfig", "CAP_SYS_ADMIN"},
        {"fsmount", "CAP_SYS_ADMIN"},
        {"fsopen", "CAP_SYS_ADMIN"},
        {"fspick", "CAP_SYS_ADMIN"},
        {"get_kernel_syms", NULL},
        {"get_mempolicy", "CAP_SYS_NICE"},
        {"init_module", "CAP_SYS_MODULE"},
        {"ioperm", "CAP_SYS_RAWIO"},
        {"iopl", "CAP_SYS_RAWIO"},
        {"kcmp", "CAP_SYS_PTRACE"},
        {"kexec_file_load", "CAP_SYS_BOOT"},
        {"kexec_load", "CAP_SYS_BOOT"},
        {"keyctl", NULL},
        {"lookup_dcookie", "CAP_SYS_ADMIN"},
        {"mbind", "CAP_SYS_NICE"},
        {"mount", "CAP_SYS_ADMIN"},
        {"mount_setattr", "CAP_SYS_ADMIN"},
        {"move_mount", "CAP_SYS_ADMIN"},
        {"move_pages", "CAP_SYS_NICE"},
        {"name_to_handle_at", "CAP_SYS_ADMIN"},
        {"nfsservctl", NULL},
        {"open_by_handle_at", "CAP_DAC_READ_SEARCH"},
        {"open_tree", "CAP_SYS_ADMIN"},
        {"perf_event_open", "CAP_SYS_ADMIN"},
        {"pivot_root", "CAP_SYS_ADMIN"},
        {"process_vm_readv", "CAP_SYS_PTRACE"},
        {"process_vm_writev", "CAP_SYS_PTRACE"},
        {"query_module", NULL},
        {"quotactl", "CAP_SYS_ADMIN"},
        {"quotactl_fd", "CAP_SYS_ADMIN"},
        {"reboot", "CAP_SYS_BOOT"},
        {"request_key", NULL},
        {"set_mempolicy", "CAP_SYS_NICE"},
        {"setdomainname", "CAP_SYS_ADMIN"},
        {"sethostname", "CAP_SYS_ADMIN"},
        {"setns", "CAP_SYS_ADMIN"},
        {"settimeofday", "CAP_SYS_TIME"},
        {"stime", "CAP_SYS_TIME"},
        {"swapoff", "CAP_SYS_ADMIN"},
        {"swapon", "CAP_SYS_ADMIN"},
        {"_sysctl", NULL},
        {"sysfs", NULL},
        {"syslog", "CAP_SYSLOG"},
        {"umount", "CAP_SYS_ADMIN"},
        {"umount2", "CAP_SYS_ADMIN"},
        {"unshare", "CAP_SYS_ADMIN"},
        {"uselib", NULL},
        {"userfaultfd", NULL},
        {"ustat", NULL},
        {"vhangup", "CAP_SYS_TTY_CONFIG"},
        {"vm86", NULL},
        {"vm86old", NULL},
};

/* clone's namespace flags: without CAP_SYS_ADMIN, a clone asking for any is refused. */
static const unsigned long clone_ns_flags[] = {
        0x00020000, /* CLONE_NEWNS */
        0x02000000, /* CLONE_NEWCGROUP */
        0x04000000, /* CLONE_NEWUTS */
        0x08000000, /* CLONE_NEWIPC */
        0x10000000, /* CLONE_NEWUSER */
        0x20000000, /* CLONE_NEWPID */
        0x40000000, /* CLONE_NEWNET */
};

static bool has_cap(json_t *caps, const char *cap)
{
        size_t i;
        json_t *v;
        json_array_foreach (caps, i, v)
                if (strcmp(json_string_value(v) ?: "", cap) == 0)
                        return true;
        return false;
}

static json_t *errno_rule(json_t *names, int ret)
{
        return json_pack("{s:o, s:s, s:i}", "names", names, "action", "SCMP_ACT_ERRNO", "errnoRet",
                         ret);
}

static json_t *default_profile(json_t *caps)
{
        json_t *names = json_array();
        for (size_t i = 0; i < ARRAY_SIZE(denied); i++)
                if (denied[i].cap == NULL || !has_cap(caps, denied[i].cap))
                        json_array_append_new(names, json_string(denied[i].name));
        json_t *rules = json_array();
        json_array_append_new(rules, errno_rule(names, EPERM_RET));
        if (!has_cap(caps, "CAP_SYS_ADMIN")) {
                for (size_t i = 0; i < ARRAY_SIZE(clone_ns_flags); i++) {
                        json_t *r = errno_rule(json_pack("[s]", "clone"), EPERM_RET);
                        json_object_set_new(r, "args",
                                            json_pack("[{s:i, s:I, s:I, s:s}]", "index", 0,
                                                      "value", (json_int_t)clone_ns_flags[i],
                                                      "valueTwo", (json_int_t)clone_ns_flags[i],
                                                      "op", "SCMP_CMP_MASKED_EQ"));
                        json_array_append_new(rules, r);
                }
                /* clone3 passes its flags in memory a filter cannot read: ENOSYS makes libc
                 * fall back to clone, which the rules above see (as Docker does). */
                json_array_append_new(rules, errno_rule(json_pack("[s]", "clone3"), ENOSYS_RET));
        }
        return json_pack("{s:s, s:[s, s, s], s:o}", "defaultAction", "SCMP_ACT_ALLOW",
                         "architectures", "SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32",
                         "syscalls", rules);
}

/* Go's GOARCH of this build, as Docker profiles name architectures in includes/excludes. */
#if defined(__x86_64__)
#define GO_ARCH "amd64"
#define SCMP_NATIVE "SCMP_ARCH_X86_64"
#elif defined(__aarch64__)
#define GO_ARCH "arm64"
#define SCMP_NATIVE "SCMP_ARCH_AARCH64"
#else
#define GO_ARCH "unknown"
#define SCMP_NATIVE "SCMP_ARCH_NATIVE"
#endif

static bool str_in(json_t *arr, const char *s)
{
        size_t i;
        json_t *v;
        json_array_foreach (arr, i, v)
                if (strcmp(json_string_value(v) ?: "", s) == 0)
                        return true;
        return false;
}

/* "5.8" <= the running kernel's release. */
static bool kernel_at_least(const char *min)
{
        struct utsname u;
        unsigned a = 0, b = 0, x = 0, y = 0;
        if (min == NULL || uname(&u) < 0 || sscanf(min, "%u.%u", &a, &b) < 1 ||
            sscanf(u.release, "%u.%u", &x, &y) < 1)
                return true;
        return x > a || (x == a && y >= b);
}

/* Docker's includes/excludes: caps (all needed / none allowed), arches, minKernel. */
static bool applies(json_t *sc, json_t *caps)
{
        json_t *inc = json_object_get(sc, "includes"), *exc = json_object_get(sc, "excludes");
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(inc, "caps"), i, v)
                if (!has_cap(caps, json_string_value(v) ?: ""))
                        return false;
        json_array_foreach (json_object_get(exc, "caps"), i, v)
                if (has_cap(caps, json_string_value(v) ?: ""))
                        return false;
        json_t *arches = json_object_get(inc, "arches");
        if (json_array_size(arches) > 0 && !str_in(arches, GO_ARCH))
                return false;
        if (str_in(json_object_get(exc, "arches"), GO_ARCH))
                return false;
        return kernel_at_least(json_string_value(json_object_get(inc, "minKernel")));
}

int eng_seccomp_from_docker(const char *text, json_t *caps, json_t **out, struct gerr **err)
{
        json_error_t je;
        _cleanup_json_ json_t *p = json_loads(text, JSON_DISABLE_EOF_CHECK, &je);
        if (!json_is_object(p))
                return eng_err(err, EINVAL, "Decoding seccomp profile failed: %s",
                               p == NULL ? je.text : "not a JSON object");
        const char *def = json_string_value(json_object_get(p, "defaultAction"));
        if (def == NULL)
                return eng_err(err, EINVAL, "Decoding seccomp profile failed: no defaultAction");
        json_t *arches = json_array();
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(p, "archMap"), i, v) {
                if (strcmp(json_string_value(json_object_get(v, "architecture")) ?: "",
                           SCMP_NATIVE) != 0)
                        continue;
                json_array_append_new(arches, json_string(SCMP_NATIVE));
                json_array_extend(arches, json_object_get(v, "subArchitectures"));
        }
        if (json_array_size(arches) == 0 && json_is_array(json_object_get(p, "architectures")))
                json_array_extend(arches, json_object_get(p, "architectures"));
        json_t *rules = json_array();
        json_array_foreach (json_object_get(p, "syscalls"), i, v) {
                if (!json_is_object(v) || !applies(v, caps))
                        continue;
                json_t *names = json_object_get(v, "names");
                const char *action = json_string_value(json_object_get(v, "action"));
                json_t *r = json_pack("{s:O?, s:s?}", "names", json_is_array(names) ? names : NULL,
                                      "action", action);
                if (r == NULL)
                        continue;
                const char *one = json_string_value(json_object_get(v, "name"));
                if (json_object_get(r, "names") == NULL && one != NULL)
                        json_object_set_new(r, "names", json_pack("[s]", one));
                if (json_object_get(r, "names") == NULL || action == NULL) {
                        json_decref(r);
                        json_decref(rules);
                        json_decref(arches);
                        return eng_err(err, EINVAL,
                                       "Decoding seccomp profile failed: syscall %zu has no "
                                       "names or no action",
                                       i);
                }
                json_t *args = json_object_get(v, "args");
                if (json_array_size(args) > 0)
                        json_object_set(r, "args", args);
                if (json_is_integer(json_object_get(v, "errnoRet")))
                        json_object_set(r, "errnoRet", json_object_get(v, "errnoRet"));
                json_array_append_new(rules, r);
        }
        json_t *o = json_pack("{s:s, s:o, s:o}", "defaultAction", def, "architectures", arches,
                              "syscalls", rules);
        if (json_is_integer(json_object_get(p, "defaultErrnoRet")))
                json_object_set(o, "defaultErrnoRet", json_object_get(p, "defaultErrnoRet"));
        *out = o;
        return 0;
}

int eng_seccomp_build(json_t *hc, json_t *caps, bool privileged, json_t **out, struct gerr **err)
{
        *out = NULL;
        const char *custom = NULL;
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(hc, "SecurityOpt"), i, v) {
                const char *s = json_string_value(v);
                if (s != NULL && strncmp(s, "seccomp", 7) == 0 && (s[7] == '=' || s[7] == ':'))
                        custom = s + 8;
        }
        if (custom != NULL && strcmp(custom, "unconfined") == 0)
                return 0;
        if (custom != NULL && *custom != '{')
                return eng_err(err, EINVAL,
                               "opening seccomp profile (%s) failed: the client sends the "
                               "profile's content, not its path",
                               custom);
        /* dockerd: a privileged container runs without the default profile, a custom one
         * still applies. */
        if (custom != NULL)
                return eng_seccomp_from_docker(custom, caps, out, err);
        if (privileged)
                return 0;
        *out = default_profile(caps);
        return *out != NULL ? 0 : gerr_set(err, ENOMEM, "seccomp profile");
}
