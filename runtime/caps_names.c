/* Capability names <-> numbers, and the highest capability the running kernel knows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/spec.h"

/* Indexed by capability number (linux/capability.h), up to CAP_CHECKPOINT_RESTORE. */
static const char *const cap_names[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

#define CAP_LAST_KNOWN ((int)(sizeof(cap_names) / sizeof(cap_names[0])) - 1)

int rt_cap_from_name(const char *name)
{
        if (name == NULL)
                return -1;
        for (int i = 0; i <= CAP_LAST_KNOWN; i++)
                if (strcmp(cap_names[i], name) == 0)
                        return i;
        return -1;
}

const char *rt_cap_name(int cap)
{
        if (cap < 0 || cap > CAP_LAST_KNOWN)
                return NULL;
        return cap_names[cap];
}

int rt_cap_last(void)
{
        /* Racy first read is harmless: every thread computes the same value. */
        static int cached = -1;
        if (cached >= 0)
                return cached;
        int last = CAP_LAST_KNOWN;
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
        if (f != NULL) {
                int v;
                if (fscanf(f, "%d", &v) == 1 && v >= 0 && v < 64)
                        last = v;
                fclose(f);
        }
        cached = last;
        return cached;
}
