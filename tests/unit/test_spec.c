/* Unit tests for runtime/spec: config.json parsing, validation messages, defaults, cap names. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/cleanup.h"
#include "common/gerr.h"
#include "runtime/spec.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Tests write JSON with ' for " to stay readable. */
static char *q(const char *s)
{
        char *d = strdup(s);
        assert_non_null(d);
        for (char *p = d; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return d;
}

static void spec_freep(struct rt_spec **s)
{
        rt_spec_free(*s);
}

/* `runc spec` output (runc 1.1.5), verbatim. */
static const char runc_default[] =
        "{\n\t\"ociVersion\": \"1.0.2-dev\",\n\t\"process\": {\n\t\t\"terminal\": true,\n"
        "\t\t\"user\": {\n\t\t\t\"uid\": 0,\n\t\t\t\"gid\": 0\n\t\t},\n"
        "\t\t\"args\": [\n\t\t\t\"sh\"\n\t\t],\n"
        "\t\t\"env\": [\n\t\t\t\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\",\n"
        "\t\t\t\"TERM=xterm\"\n\t\t],\n\t\t\"cwd\": \"/\",\n"
        "\t\t\"capabilities\": {\n"
        "\t\t\t\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
        "\t\t\t\"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
        "\t\t\t\"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"],\n"
        "\t\t\t\"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"]\n"
        "\t\t},\n"
        "\t\t\"rlimits\": [\n\t\t\t{\n\t\t\t\t\"type\": \"RLIMIT_NOFILE\",\n"
        "\t\t\t\t\"hard\": 1024,\n\t\t\t\t\"soft\": 1024\n\t\t\t}\n\t\t],\n"
        "\t\t\"noNewPrivileges\": true\n\t},\n"
        "\t\"root\": {\n\t\t\"path\": \"rootfs\",\n\t\t\"readonly\": true\n\t},\n"
        "\t\"hostname\": \"runc\",\n"
        "\t\"mounts\": [\n"
        "\t\t{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},\n"
        "\t\t{\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": \"tmpfs\",\n"
        "\t\t \"options\": [\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]},\n"
        "\t\t{\"destination\": \"/dev/pts\", \"type\": \"devpts\", \"source\": \"devpts\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"newinstance\", \"ptmxmode=0666\", "
        "\"mode=0620\", \"gid=5\"]},\n"
        "\t\t{\"destination\": \"/dev/shm\", \"type\": \"tmpfs\", \"source\": \"shm\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"mode=1777\", \"size=65536k\"]},\n"
        "\t\t{\"destination\": \"/dev/mqueue\", \"type\": \"mqueue\", \"source\": \"mqueue\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\"]},\n"
        "\t\t{\"destination\": \"/sys\", \"type\": \"sysfs\", \"source\": \"sysfs\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"ro\"]},\n"
        "\t\t{\"destination\": \"/sys/fs/cgroup\", \"type\": \"cgroup\", \"source\": \"cgroup\",\n"
        "\t\t \"options\": [\"nosuid\", \"noexec\", \"nodev\", \"relatime\", \"ro\"]}\n"
        "\t],\n"
        "\t\"linux\": {\n"
        "\t\t\"resources\": {\"devices\": [{\"allow\": false, \"access\": \"rwm\"}]},\n"
        "\t\t\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\"}, {\"type\": \"ipc\"},\n"
        "\t\t\t{\"type\": \"uts\"}, {\"type\": \"mount\"}],\n"
        "\t\t\"maskedPaths\": [\"/proc/acpi\", \"/proc/asound\", \"/proc/kcore\", \"/proc/keys\",\n"
        "\t\t\t\"/proc/latency_stats\", \"/proc/timer_list\", \"/proc/timer_stats\",\n"
        "\t\t\t\"/proc/sched_debug\", \"/sys/firmware\", \"/proc/scsi\"],\n"
        "\t\t\"readonlyPaths\": [\"/proc/bus\", \"/proc/fs\", \"/proc/irq\", \"/proc/sys\",\n"
        "\t\t\t\"/proc/sysrq-trigger\"]\n"
        "\t}\n}\n";

#define DEFAULT_CAPS ((1ULL << 29) | (1ULL << 5) | (1ULL << 10))

static void test_runc_default(void **state)
{
        (void)state;
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_(spec_freep) struct rt_spec *s = NULL;
        int r = rt_spec_parse(runc_default, strlen(runc_default), "/b/./x", &s, &err);
        assert_int_equal(r, 0);
        assert_null(err);
        assert_string_equal(s->oci_version, "1.0.2-dev");
        assert_string_equal(s->root_path, "/b/x/rootfs");
        assert_true(s->root_readonly);
        assert_string_equal(s->hostname, "runc");
        assert_null(s->domainname);
        struct rt_process *p = s->process;
        assert_non_null(p);
        assert_true(p->terminal);
        assert_false(p->has_console_size);
        assert_string_equal(p->cwd, "/");
        assert_string_equal(p->args[0], "sh");
        assert_null(p->args[1]);
        assert_string_equal(p->env[1], "TERM=xterm");
        assert_null(p->env[2]);
        assert_int_equal(p->uid, 0);
        assert_false(p->has_umask);
        assert_true(p->caps.present);
        assert_int_equal(p->caps.bounding, DEFAULT_CAPS);
        assert_int_equal(p->caps.effective, DEFAULT_CAPS);
        assert_int_equal(p->caps.permitted, DEFAULT_CAPS);
        assert_int_equal(p->caps.ambient, DEFAULT_CAPS);
        assert_int_equal(p->caps.inheritable, 0);
        assert_int_equal(p->n_rlimits, 1);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_NOFILE);
        assert_int_equal(p->rlimits[0].soft, 1024);
        assert_true(p->no_new_privileges);
        assert_false(p->oom_score_adj.set);

        assert_int_equal(s->n_mounts, 7);
        assert_string_equal(s->mounts[1].destination, "/dev");
        assert_int_equal(s->mounts[1].flags, MS_NOSUID | MS_STRICTATIME);
        assert_string_equal(s->mounts[1].data, "mode=755,size=65536k");
        assert_int_equal(s->mounts[2].flags, MS_NOSUID | MS_NOEXEC);
        assert_string_equal(s->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5");
        assert_null(s->mounts[0].data);
        assert_int_equal(s->mounts[5].flags, MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY);
        assert_int_equal(s->mounts[6].flags,
                         MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RELATIME | MS_RDONLY);

        struct rt_linux *l = &s->linux;
        assert_int_equal(l->n_namespaces, 5);
        assert_non_null(rt_spec_namespace(s, CLONE_NEWNET));
        assert_null(rt_spec_namespace(s, CLONE_NEWNET)->path);
        assert_null(rt_spec_namespace(s, CLONE_NEWUSER));
        assert_non_null(l->resources);
        assert_int_equal(l->resources->n_devices, 1);
        assert_false(l->resources->devices[0].allow);
        assert_int_equal(l->resources->devices[0].type, 'a');
        assert_int_equal(l->resources->devices[0].major, -1);
        assert_int_equal(l->resources->devices[0].minor, -1);
        assert_string_equal(l->resources->devices[0].access, "rwm");
        assert_false(l->resources->memory.limit.set);
        assert_string_equal(l->masked_paths[9], "/proc/scsi");
        assert_null(l->masked_paths[10]);
        assert_string_equal(l->readonly_paths[4], "/proc/sysrq-trigger");
        assert_null(l->seccomp);
        assert_int_equal(l->rootfs_propagation, 0);
        assert_null(l->cgroups_path);
        assert_false(l->time_offsets.set);
        for (int k = 0; k < RT_HOOK__MAX; k++)
                assert_int_equal(s->hooks[k].n, 0);
}

static const char full_config[] =
        "{'ociVersion': '1.1.0', 'x-extension': {'ignored': true},"
        " 'process': {'terminal': false, 'consoleSize': {'height': 24, 'width': 80},"
        "  'user': {'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 6, 4294967295]},"
        "  'args': ['/bin/app', '-v'], 'env': ['A=1'], 'cwd': '/work',"
        "  'capabilities': {'bounding': ['CAP_SYS_ADMIN', 'CAP_CHECKPOINT_RESTORE'],"
        "    'effective': ['CAP_CHOWN'], 'inheritable': ['CAP_KILL'], 'permitted': ['CAP_BPF'],"
        "    'ambient': []},"
        "  'rlimits': [{'type': 'RLIMIT_CORE', 'soft': 1, 'hard': 18446744073709551615},"
        "    {'type': 'RLIMIT_NPROC', 'soft': 100, 'hard': 200}],"
        "  'noNewPrivileges': true, 'oomScoreAdj': -500, 'apparmorProfile': 'prof',"
        "  'selinuxLabel': 'system_u:system_r:container_t:s0'},"
        " 'root': {'path': '/abs//root/./fs/'},"
        " 'hostname': 'h', 'domainname': 'example.org',"
        " 'mounts': ["
        "  {'destination': 'data', 'type': 'bind', 'source': '/src',"
        "   'options': ['rbind', 'ro', 'rprivate', 'rro', 'rnosuid', 'rrelatime', 'rdev',"
        "     'tmpcopyup', 'nosymfollow', 'idmap', 'size=1k'],"
        "   'uidMappings': [{'containerID': 0, 'hostID': 100000, 'size': 65536}],"
        "   'gidMappings': [{'containerID': 0, 'hostID': 200000, 'size': 10}]},"
        "  {'destination': '/t', 'type': 'tmpfs', 'source': 'tmpfs',"
        "   'options': ['nosuid', 'suid', 'dev', 'exec', 'sync', 'dirsync', 'remount', 'mand',"
        "     'atime', 'nodiratime', 'norelatime', 'nostrictatime', 'rw', 'shared']},"
        "  {'destination': '/m', 'source': '/s', 'options': ['bind', 'idmap']}],"
        " 'hooks': {"
        "  'prestart': [{'path': '/p', 'args': ['p', 'x'], 'env': ['E=1'], 'timeout': 5}],"
        "  'createRuntime': [{'path': '/cr'}, {'path': '/cr2'}],"
        "  'createContainer': [{'path': '/cc'}], 'startContainer': [{'path': '/sc'}],"
        "  'poststart': [{'path': '/ps'}], 'poststop': [{'path': '/pst'}]},"
        " 'annotations': {'a': 'b'},"
        " 'linux': {"
        "  'namespaces': [{'type': 'pid'}, {'type': 'network', 'path': '/proc/1/ns/net'},"
        "    {'type': 'mount'}, {'type': 'ipc'}, {'type': 'uts'}, {'type': 'user'},"
        "    {'type': 'cgroup'}, {'type': 'time'}],"
        "  'uidMappings': [{'containerID': 0, 'hostID': 1000, 'size': 1}],"
        "  'gidMappings': [{'containerID': 1, 'hostID': 2000, 'size': 2}],"
        "  'devices': [{'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229,"
        "    'fileMode': 438, 'uid': 0, 'gid': 5}, {'path': '/dev/p', 'type': 'p'}],"
        "  'cgroupsPath': '/gantry/c1',"
        "  'resources': {"
        "   'memory': {'limit': 536870912, 'reservation': 1, 'swap': -1, 'kernel': 2,"
        "     'kernelTCP': 3, 'swappiness': 60, 'disableOOMKiller': true, 'useHierarchy': true,"
        "     'checkBeforeUpdate': true},"
        "   'cpu': {'shares': 1024, 'quota': 50000, 'burst': 10, 'period': 100000,"
        "     'realtimeRuntime': 7, 'realtimePeriod': 8, 'cpus': '0-1', 'mems': '0', 'idle': 1},"
        "   'pids': {'limit': 32},"
        "   'blockIO': {'weight': 500, 'leafWeight': 300,"
        "     'weightDevice': [{'major': 8, 'minor': 0, 'weight': 600}],"
        "     'throttleReadBpsDevice': [{'major': 8, 'minor': 1, 'rate': 1000}],"
        "     'throttleWriteBpsDevice': [{'major': 8, 'minor': 2, 'rate': 2000}],"
        "     'throttleReadIOPSDevice': [{'major': 8, 'minor': 3, 'rate': 3000}],"
        "     'throttleWriteIOPSDevice': [{'major': 8, 'minor': 4, 'rate': 4000}]},"
        "   'hugepageLimits': [{'pageSize': '2MB', 'limit': 4194304}],"
        "   'devices': [{'allow': false, 'access': 'rwm'},"
        "     {'allow': true, 'type': 'c', 'major': 1, 'minor': 3, 'access': 'rw'}],"
        "   'network': {'classID': 1048577, 'priorities': [{'name': 'eth0', 'priority': 5}]},"
        "   'unified': {'memory.high': '1G'}},"
        "  'sysctl': {'net.ipv4.ip_forward': '1'},"
        "  'maskedPaths': ['/proc/kcore'], 'readonlyPaths': ['/proc/sys'],"
        "  'rootfsPropagation': 'rslave',"
        "  'seccomp': {'defaultAction': 'SCMP_ACT_ERRNO', 'defaultErrnoRet': 1,"
        "    'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86'],"
        "    'flags': ['SECCOMP_FILTER_FLAG_LOG'], 'listenerPath': '/run/l.sock',"
        "    'listenerMetadata': 'meta',"
        "    'syscalls': [{'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW'},"
        "      {'names': ['personality'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38,"
        "       'args': [{'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ'},"
        "         {'index': 1, 'value': 255, 'valueTwo': 18446744073709551615,"
        "          'op': 'SCMP_CMP_MASKED_EQ'}]},"
        "      {'names': ['kill'], 'action': 'SCMP_ACT_KILL_PROCESS'},"
        "      {'names': ['ptrace'], 'action': 'SCMP_ACT_TRACE', 'errnoRet': 2},"
        "      {'names': ['mount'], 'action': 'SCMP_ACT_NOTIFY'}]},"
        "  'personality': {'domain': 'LINUX32', 'flags': ['ADDR_NO_RANDOMIZE']},"
        "  'mountLabel': 'mlabel',"
        "  'timeOffsets': {'boottime': {'secs': -5, 'nanosecs': 10},"
        "    'monotonic': {'secs': 100, 'nanosecs': 999999999}}}}";

static void test_full_config(void **state)
{
        (void)state;
        _cleanup_free_ char *text = q(full_config);
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_(spec_freep) struct rt_spec *s = NULL;
        int r = rt_spec_parse(text, strlen(text), "/bundle", &s, &err);
        if (err != NULL)
                fail_msg("%s", err->msg);
        assert_int_equal(r, 0);

        struct rt_process *p = s->process;
        assert_false(p->terminal);
        assert_true(p->has_console_size);
        assert_int_equal(p->console_height, 24);
        assert_int_equal(p->console_width, 80);
        assert_int_equal(p->uid, 1000);
        assert_int_equal(p->gid, 1001);
        assert_true(p->has_umask);
        assert_int_equal(p->umask, 022);
        assert_int_equal(p->n_additional_gids, 3);
        assert_int_equal(p->additional_gids[2], 4294967295U);
        assert_string_equal(p->args[1], "-v");
        assert_string_equal(p->env[0], "A=1");
        assert_string_equal(p->cwd, "/work");
        assert_int_equal(p->caps.bounding, (1ULL << 21) | (1ULL << 40));
        assert_int_equal(p->caps.effective, 1ULL << 0);
        assert_int_equal(p->caps.inheritable, 1ULL << 5);
        assert_int_equal(p->caps.permitted, 1ULL << 39);
        assert_int_equal(p->caps.ambient, 0);
        assert_int_equal(p->n_rlimits, 2);
        assert_int_equal(p->rlimits[0].resource, RLIMIT_CORE);
        assert_int_equal(p->rlimits[0].soft, 1);
        assert_true(p->rlimits[0].hard == UINT64_MAX);
        assert_int_equal(p->rlimits[1].resource, RLIMIT_NPROC);
        assert_int_equal(p->rlimits[1].hard, 200);
        assert_true(p->no_new_privileges);
        assert_true(p->oom_score_adj.set);
        assert_int_equal(p->oom_score_adj.v, -500);
        assert_string_equal(p->apparmor_profile, "prof");
        assert_string_equal(p->selinux_label, "system_u:system_r:container_t:s0");

        assert_string_equal(s->root_path, "/abs/root/fs");
        assert_false(s->root_readonly);
        assert_string_equal(s->domainname, "example.org");

        assert_int_equal(s->n_mounts, 3);
        struct rt_mount *m = &s->mounts[0];
        assert_string_equal(m->destination, "/data");
        assert_string_equal(m->type, "bind");
        assert_string_equal(m->source, "/src");
        assert_int_equal(m->flags, MS_BIND | MS_REC | MS_RDONLY);
        assert_int_equal(m->clear_flags, 0);
        assert_int_equal(m->propagation, MS_PRIVATE | MS_REC);
        assert_int_equal(m->rec_attr_set,
                         MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_RELATIME);
        assert_int_equal(m->rec_attr_clr, MOUNT_ATTR__ATIME | MOUNT_ATTR_NODEV);
        assert_true(m->tmpcopyup);
        assert_true(m->nosymfollow);
        assert_string_equal(m->data, "size=1k");
        assert_int_equal(m->n_uid_mappings, 1);
        assert_int_equal(m->uid_mappings[0].host_id, 100000);
        assert_int_equal(m->uid_mappings[0].size, 65536);
        assert_int_equal(m->n_gid_mappings, 1);
        assert_int_equal(m->gid_mappings[0].host_id, 200000);
        m = &s->mounts[1];
        assert_int_equal(m->flags, MS_SYNCHRONOUS | MS_DIRSYNC | MS_REMOUNT | MS_MANDLOCK |
                                           MS_NODIRATIME);
        assert_int_equal(m->clear_flags, MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME |
                                                 MS_RELATIME | MS_STRICTATIME | MS_RDONLY);
        assert_int_equal(m->propagation, MS_SHARED);
        assert_null(m->data);
        assert_false(m->tmpcopyup);
        m = &s->mounts[2];
        assert_null(m->type);
        assert_int_equal(m->flags, MS_BIND);
        assert_null(m->data);
        assert_null(m->uid_mappings);
        assert_int_equal(m->n_uid_mappings, 0);

        assert_int_equal(s->hooks[RT_HOOK_PRESTART].n, 1);
        struct rt_hook *h = &s->hooks[RT_HOOK_PRESTART].v[0];
        assert_string_equal(h->path, "/p");
        assert_string_equal(h->args[1], "x");
        assert_string_equal(h->env[0], "E=1");
        assert_int_equal(h->timeout, 5);
        assert_int_equal(s->hooks[RT_HOOK_CREATE_RUNTIME].n, 2);
        assert_string_equal(s->hooks[RT_HOOK_CREATE_RUNTIME].v[1].path, "/cr2");
        assert_null(s->hooks[RT_HOOK_CREATE_RUNTIME].v[1].args);
        assert_int_equal(s->hooks[RT_HOOK_CREATE_RUNTIME].v[1].timeout, 0);
        assert_string_equal(s->hooks[RT_HOOK_CREATE_CONTAINER].v[0].path, "/cc");
        assert_string_equal(s->hooks[RT_HOOK_START_CONTAINER].v[0].path, "/sc");
        assert_string_equal(s->hooks[RT_HOOK_POSTSTART].v[0].path, "/ps");
        assert_string_equal(s->hooks[RT_HOOK_POSTSTOP].v[0].path, "/pst");
        assert_string_equal(json_string_value(json_object_get(s->annotations, "a")), "b");

        struct rt_linux *l = &s->linux;
        static const int ns_types[] = { CLONE_NEWPID,  CLONE_NEWNET,  CLONE_NEWNS,
                                        CLONE_NEWIPC,  CLONE_NEWUTS,  CLONE_NEWUSER,
                                        CLONE_NEWCGROUP, CLONE_NEWTIME };
        assert_int_equal(l->n_namespaces, 8);
        for (size_t i = 0; i < 8; i++)
                assert_int_equal(l->namespaces[i].type, ns_types[i]);
        assert_string_equal(rt_spec_namespace(s, CLONE_NEWNET)->path, "/proc/1/ns/net");
        assert_int_equal(l->n_uid_mappings, 1);
        assert_int_equal(l->uid_mappings[0].host_id, 1000);
        assert_int_equal(l->gid_mappings[0].container_id, 1);
        assert_int_equal(l->gid_mappings[0].size, 2);
        assert_int_equal(l->n_devices, 2);
        struct rt_device *d = &l->devices[0];
        assert_string_equal(d->path, "/dev/fuse");
        assert_int_equal(d->type, 'c');
        assert_int_equal(d->major, 10);
        assert_int_equal(d->minor, 229);
        assert_true(d->has_file_mode);
        assert_int_equal(d->file_mode, 0666);
        assert_true(d->has_uid && d->has_gid);
        assert_int_equal(d->gid, 5);
        assert_int_equal(l->devices[1].type, 'p');
        assert_false(l->devices[1].has_file_mode);
        assert_string_equal(l->cgroups_path, "/gantry/c1");

        struct rt_resources *res = l->resources;
        assert_true(res->memory.limit.set);
        assert_int_equal(res->memory.limit.v, 536870912);
        assert_int_equal(res->memory.reservation.v, 1);
        assert_int_equal(res->memory.swap.v, -1);
        assert_int_equal(res->memory.kernel.v, 2);
        assert_int_equal(res->memory.kernel_tcp.v, 3);
        assert_int_equal(res->memory.swappiness.v, 60);
        assert_true(res->memory.disable_oom_killer);
        assert_true(res->memory.use_hierarchy);
        assert_true(res->memory.check_before_update);
        assert_int_equal(res->cpu.shares.v, 1024);
        assert_int_equal(res->cpu.quota.v, 50000);
        assert_int_equal(res->cpu.burst.v, 10);
        assert_int_equal(res->cpu.period.v, 100000);
        assert_int_equal(res->cpu.realtime_runtime.v, 7);
        assert_int_equal(res->cpu.realtime_period.v, 8);
        assert_true(res->cpu.idle.set);
        assert_int_equal(res->cpu.idle.v, 1);
        assert_string_equal(res->cpu.cpus, "0-1");
        assert_string_equal(res->cpu.mems, "0");
        assert_true(res->pids_limit.set);
        assert_int_equal(res->pids_limit.v, 32);
        assert_int_equal(res->blkio.weight.v, 500);
        assert_int_equal(res->blkio.leaf_weight.v, 300);
        assert_int_equal(res->blkio.n_weight_device, 1);
        assert_int_equal(res->blkio.weight_device[0].major, 8);
        assert_int_equal(res->blkio.weight_device[0].weight.v, 600);
        assert_false(res->blkio.weight_device[0].leaf_weight.set);
        assert_int_equal(res->blkio.throttle_read_bps[0].rate, 1000);
        assert_int_equal(res->blkio.throttle_write_bps[0].minor, 2);
        assert_int_equal(res->blkio.throttle_read_iops[0].rate, 3000);
        assert_int_equal(res->blkio.n_throttle_write_iops, 1);
        assert_int_equal(res->blkio.throttle_write_iops[0].rate, 4000);
        assert_int_equal(res->n_hugepage_limits, 1);
        assert_string_equal(res->hugepage_limits[0].pagesize, "2MB");
        assert_int_equal(res->hugepage_limits[0].limit, 4194304);
        assert_int_equal(res->n_devices, 2);
        assert_true(res->devices[1].allow);
        assert_int_equal(res->devices[1].type, 'c');
        assert_int_equal(res->devices[1].major, 1);
        assert_int_equal(res->devices[1].minor, 3);
        assert_string_equal(res->devices[1].access, "rw");
        assert_int_equal(res->network.class_id.v, 1048577);
        assert_int_equal(json_array_size(res->network.priorities), 1);
        assert_string_equal(json_string_value(json_object_get(res->unified, "memory.high")),
                            "1G");
        assert_string_equal(json_string_value(json_object_get(l->sysctl, "net.ipv4.ip_forward")),
                            "1");
        assert_string_equal(l->masked_paths[0], "/proc/kcore");
        assert_string_equal(l->readonly_paths[0], "/proc/sys");
        assert_int_equal(l->rootfs_propagation, MS_SLAVE | MS_REC);

        struct rt_seccomp *sc = l->seccomp;
        assert_int_equal(sc->default_action, SCMP_ACT_ERRNO(0));
        assert_true(sc->default_errno_ret.set);
        assert_int_equal(sc->default_errno_ret.v, 1);
        assert_string_equal(sc->architectures[1], "SCMP_ARCH_X86");
        assert_string_equal(sc->flags[0], "SECCOMP_FILTER_FLAG_LOG");
        assert_string_equal(sc->listener_path, "/run/l.sock");
        assert_string_equal(sc->listener_metadata, "meta");
        assert_int_equal(sc->n_rules, 5);
        assert_string_equal(sc->rules[0].names[1], "write");
        assert_int_equal(sc->rules[0].action, SCMP_ACT_ALLOW);
        assert_false(sc->rules[0].errno_ret.set);
        assert_int_equal(sc->rules[1].action, SCMP_ACT_ERRNO(0));
        assert_int_equal(sc->rules[1].errno_ret.v, 38);
        assert_int_equal(sc->rules[1].n_args, 2);
        assert_int_equal(sc->rules[1].args[0].op, SCMP_CMP_EQ);
        assert_int_equal(sc->rules[1].args[0].value, 8);
        assert_int_equal(sc->rules[1].args[1].index, 1);
        assert_true(sc->rules[1].args[1].value_two == UINT64_MAX);
        assert_int_equal(sc->rules[1].args[1].op, SCMP_CMP_MASKED_EQ);
        assert_int_equal(sc->rules[2].action, SCMP_ACT_KILL_PROCESS);
        assert_int_equal(sc->rules[3].action, SCMP_ACT_TRACE(0));
        assert_int_equal(sc->rules[3].errno_ret.v, 2);
        assert_int_equal(sc->rules[4].action, SCMP_ACT_NOTIFY);

        assert_true(l->has_personality);
        assert_int_equal(l->personality, PER_LINUX32 | ADDR_NO_RANDOMIZE);
        assert_string_equal(l->mount_label, "mlabel");
        assert_true(l->time_offsets.set);
        assert_int_equal(l->time_offsets.boottime_secs, -5);
        assert_int_equal(l->time_offsets.boottime_nsecs, 10);
        assert_int_equal(l->time_offsets.monotonic_secs, 100);
        assert_int_equal(l->time_offsets.monotonic_nsecs, 999999999);
}

/* The minimal valid config, with PROC/LINUX spliced in. */
#define CFG(extra) "{'ociVersion': '1.1.0', 'root': {'path': 'r'}" extra "}"
#define PROC(body) ", 'process': {'cwd': '/', 'args': ['sh']" body "}"
#define LNX(body) ", 'linux': {" body "}"
#define MNT(body) ", 'mounts': [{'destination': '/m'" body "}]"

static const struct {
        const char *json;
        const char *msg;
} bad_inputs[] = {
        { "{'root': {'path': 'r'}}", "config.json: ociVersion: is required" },
        { "{'ociVersion': 1, 'root': {'path': 'r'}}",
          "config.json: ociVersion: must be a string, not an integer" },
        { "{'ociVersion': 'invalid', 'root': {'path': 'r'}}",
          "config.json: ociVersion: \"invalid\" is not a SemVer 2.0.0 version" },
        { "{'ociVersion': '1.01.0', 'root': {'path': 'r'}}",
          "config.json: ociVersion: \"1.01.0\" is not a SemVer 2.0.0 version" },
        { "{'ociVersion': '1.1', 'root': {'path': 'r'}}",
          "config.json: ociVersion: \"1.1\" is not a SemVer 2.0.0 version" },
        { "{'ociVersion': '1.0.2-', 'root': {'path': 'r'}}",
          "config.json: ociVersion: \"1.0.2-\" is not a SemVer 2.0.0 version" },
        { "{'ociVersion': '2.0.0', 'root': {'path': 'r'}}",
          "config.json: ociVersion: version 2.0.0 is not supported (1.x is)" },
        { "{'ociVersion': '1.1.0'}", "config.json: root: is required" },
        { "{'ociVersion': '1.1.0', 'root': {}}", "config.json: root.path: is required" },
        { "{'ociVersion': '1.1.0', 'root': {'path': 'r', 'readonly': 'yes'}}",
          "config.json: root.readonly: must be a boolean, not a string" },
        { "[1]", "config.json: must be an object, not an array" },
        { "{'ociVersion': '1', 'ociVersion': '2', 'root': {'path': 'r'}}",
          "config.json: invalid JSON at line 1 column 32: duplicate object key near "
          "'\"ociVersion\"'" },
        { CFG(", 'process': {'args': ['sh']}"), "config.json: process.cwd: is required" },
        { CFG(", 'process': {'cwd': 'rel', 'args': ['sh']}"),
          "config.json: process.cwd: \"rel\" is not an absolute path" },
        { CFG(", 'process': {'cwd': '/'}"), "config.json: process.args: is required" },
        { CFG(", 'process': {'cwd': '/', 'args': []}"),
          "config.json: process.args: must not be empty" },
        { CFG(", 'process': {'cwd': '/', 'args': ['sh', 3]}"),
          "config.json: process.args[1]: must be a string, not an integer" },
        { CFG(PROC(", 'terminal': 1")),
          "config.json: process.terminal: must be a boolean, not an integer" },
        { CFG(PROC(", 'consoleSize': {'height': 1}")),
          "config.json: process.consoleSize.width: is required" },
        { CFG(PROC(", 'user': {'uid': -1, 'gid': 0}")),
          "config.json: process.user.uid: -1 is out of range [0, 4294967295]" },
        { CFG(PROC(", 'user': {'uid': 0}")), "config.json: process.user.gid: is required" },
        { CFG(PROC(", 'user': {'uid': 0, 'gid': 0, 'additionalGids': [1, 'x']}")),
          "config.json: process.user.additionalGids[1]: must be an integer, not a string" },
        { CFG(PROC(", 'capabilities': {'bounding': ['CAP_KILL', 'CAP_CHOWN', 'CAP_FOO']}")),
          "config.json: process.capabilities.bounding[2]: unknown capability \"CAP_FOO\"" },
        { CFG(PROC(", 'capabilities': {'ambient': 'CAP_KILL'}")),
          "config.json: process.capabilities.ambient: must be an array, not a string" },
        { CFG(PROC(", 'rlimits': [{'type': 'RLIMIT_FOO', 'soft': 1, 'hard': 1}]")),
          "config.json: process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"" },
        { CFG(PROC(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 1},"
                   " {'type': 'RLIMIT_NOFILE', 'soft': 1, 'hard': 1}]")),
          "config.json: process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"" },
        { CFG(PROC(", 'rlimits': [{'type': 'RLIMIT_NOFILE', 'soft': 1}]")),
          "config.json: process.rlimits[0].hard: is required" },
        { CFG(PROC(", 'oomScoreAdj': 1001")),
          "config.json: process.oomScoreAdj: 1001 is out of range [-1000, 1000]" },
        { CFG(", 'mounts': [{'type': 'tmpfs'}]"),
          "config.json: mounts[0].destination: is required" },
        { CFG(MNT(", 'options': ['ro', 7]")),
          "config.json: mounts[0].options[1]: must be a string, not an integer" },
        { CFG(MNT(", 'uidMappings': [{'containerID': 0, 'hostID': 1}]")),
          "config.json: mounts[0].uidMappings[0].size: is required" },
        { CFG(", 'mounts': {}"), "config.json: mounts: must be an array, not an object" },
        { CFG(", 'hooks': {'prestart': [{'args': []}]}"),
          "config.json: hooks.prestart[0].path: is required" },
        { CFG(", 'hooks': {'poststop': [{'path': '/x', 'timeout': 0}]}"),
          "config.json: hooks.poststop[0].timeout: must be greater than zero" },
        { CFG(", 'hooks': {'createRuntime': ['x']}"),
          "config.json: hooks.createRuntime[0]: must be an object, not a string" },
        { CFG(", 'annotations': {'a': 1}"),
          "config.json: annotations.a: must be a string, not an integer" },
        { CFG(LNX("'namespaces': [{'type': 'pid'}, {'type': 'bogus'}]")),
          "config.json: linux.namespaces[1].type: unknown namespace type \"bogus\"" },
        { CFG(LNX("'namespaces': [{'type': 'pid'}, {'type': 'pid', 'path': '/x'}]")),
          "config.json: linux.namespaces[1].type: duplicate namespace type \"pid\"" },
        { CFG(LNX("'devices': [{'path': '/dev/x', 'type': 'x', 'major': 1, 'minor': 1}]")),
          "config.json: linux.devices[0].type: unknown device type \"x\"" },
        { CFG(LNX("'devices': [{'path': '/dev/x', 'type': 'c', 'major': 1}]")),
          "config.json: linux.devices[0].minor: is required" },
        { CFG(LNX("'resources': {'devices': [{'access': 'rwm'}]}")),
          "config.json: linux.resources.devices[0].allow: is required" },
        { CFG(LNX("'resources': {'devices': [{'allow': true, 'access': 'rwx'}]}")),
          "config.json: linux.resources.devices[0].access: invalid access \"rwx\" (a subset "
          "of \"rwm\")" },
        { CFG(LNX("'resources': {'devices': [{'allow': true, 'type': 'p'}]}")),
          "config.json: linux.resources.devices[0].type: unknown device type \"p\"" },
        { CFG(LNX("'resources': {'memory': {'limit': '1G'}}")),
          "config.json: linux.resources.memory.limit: must be an integer, not a string" },
        { CFG(LNX("'resources': {'cpu': {'cpus': 1}}")),
          "config.json: linux.resources.cpu.cpus: must be a string, not an integer" },
        { CFG(LNX("'resources': {'blockIO': {'weightDevice': [{'major': 8}]}}")),
          "config.json: linux.resources.blockIO.weightDevice[0].minor: is required" },
        { CFG(LNX("'resources': {'blockIO': {'weight': 70000}}")),
          "config.json: linux.resources.blockIO.weight: 70000 is out of range [0, 65535]" },
        { CFG(LNX("'resources': {'hugepageLimits': [{'pageSize': '2MB'}]}")),
          "config.json: linux.resources.hugepageLimits[0].limit: is required" },
        { CFG(LNX("'resources': {'unified': {'memory.max': 5}}")),
          "config.json: linux.resources.unified.memory.max: must be a string, not an integer" },
        { CFG(LNX("'resources': {'network': {'priorities': [{'name': 'eth0'}]}}")),
          "config.json: linux.resources.network.priorities[0].priority: is required" },
        { CFG(LNX("'sysctl': {'kernel.x': true}")),
          "config.json: linux.sysctl.kernel.x: must be a string, not a boolean" },
        { CFG(LNX("'rootfsPropagation': 'sideways'")),
          "config.json: linux.rootfsPropagation: unknown rootfs propagation \"sideways\"" },
        { CFG(LNX("'seccomp': {'syscalls': []}")),
          "config.json: linux.seccomp.defaultAction: is required" },
        { CFG(LNX("'seccomp': {'defaultAction': 'SCMP_ACT_BOOM'}")),
          "config.json: linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_BOOM\"" },
        { CFG(LNX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'defaultErrnoRet': 1}")),
          "config.json: linux.seccomp.defaultErrnoRet: is only valid with SCMP_ACT_ERRNO or "
          "SCMP_ACT_TRACE" },
        { CFG(LNX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW',"
                  " 'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_Z80']}")),
          "config.json: linux.seccomp.architectures[1]: unknown seccomp architecture "
          "\"SCMP_ARCH_Z80\"" },
        { CFG(LNX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'flags': ['FAST']}")),
          "config.json: linux.seccomp.flags[0]: unknown seccomp flag \"FAST\"" },
        { CFG(LNX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': [],"
                  " 'action': 'SCMP_ACT_ERRNO'}]}")),
          "config.json: linux.seccomp.syscalls[0].names: must not be empty" },
        { CFG(LNX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['a'],"
                  " 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 0, 'value': 1,"
                  " 'op': 'SCMP_CMP_XX'}]}]}")),
          "config.json: linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator "
          "\"SCMP_CMP_XX\"" },
        { CFG(LNX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['a'],"
                  " 'action': 'SCMP_ACT_ERRNO', 'args': [{'index': 6, 'value': 1,"
                  " 'op': 'SCMP_CMP_EQ'}]}]}")),
          "config.json: linux.seccomp.syscalls[0].args[0].index: 6 is out of range [0, 5]" },
        { CFG(LNX("'seccomp': {'defaultAction': 'SCMP_ACT_ALLOW', 'syscalls': [{'names': ['a'],"
                  " 'action': 'SCMP_ACT_LOG', 'errnoRet': 1}]}")),
          "config.json: linux.seccomp.syscalls[0].errnoRet: is only valid with SCMP_ACT_ERRNO "
          "or SCMP_ACT_TRACE" },
        { CFG(LNX("'personality': {'domain': 'BSD'}")),
          "config.json: linux.personality.domain: unknown personality domain \"BSD\"" },
        { CFG(LNX("'personality': {'domain': 'LINUX', 'flags': ['NOPE']}")),
          "config.json: linux.personality.flags[0]: unknown personality flag \"NOPE\"" },
        { CFG(LNX("'timeOffsets': {'boottime': {'secs': 1, 'nanosecs': 1000000000}}")),
          "config.json: linux.timeOffsets.boottime.nanosecs: 1000000000 is out of range [0, "
          "999999999]" },
        { CFG(LNX("'uidMappings': [{'containerID': 0, 'hostID': 'x', 'size': 1}]")),
          "config.json: linux.uidMappings[0].hostID: must be an integer, not a string" },
        { CFG(LNX("'maskedPaths': '/proc'")),
          "config.json: linux.maskedPaths: must be an array, not a string" },
        { CFG(", 'linux': []"), "config.json: linux: must be an object, not an array" },
};

static void test_bad_inputs(void **state)
{
        (void)state;
        for (size_t i = 0; i < ARRAY_SIZE(bad_inputs); i++) {
                _cleanup_free_ char *text = q(bad_inputs[i].json);
                _cleanup_gerr_ struct gerr *err = NULL;
                struct rt_spec *s = NULL;
                int r = rt_spec_parse(text, strlen(text), "/b", &s, &err);
                if (r != -EINVAL || err == NULL || strcmp(err->msg, bad_inputs[i].msg) != 0)
                        fail_msg("case %zu: %s\n  got r=%d msg=%s\n  want %s", i, text, r,
                                 err ? err->msg : "(none)", bad_inputs[i].msg);
                assert_null(s);
                assert_int_equal(err->errnum, EINVAL);
        }
}

static void test_lenient_inputs(void **state)
{
        (void)state;
        /* Extensions, nulls (Go's encoding/json writes them) and a missing process are fine. */
        _cleanup_free_ char *text = q(CFG(", 'process': null, 'hooks': {'prestart': null},"
                                          " 'linux': {'seccomp': null, 'intelRdt': {}},"
                                          " 'vm': {'hypervisor': {}}"));
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_(spec_freep) struct rt_spec *s = NULL;
        assert_int_equal(rt_spec_parse(text, strlen(text), "/b", &s, &err), 0);
        assert_null(s->process);
        assert_null(s->linux.seccomp);
        assert_string_equal(s->root_path, "/b/r");
}

static void test_big_uint64(void **state)
{
        (void)state;
        /* uint64 values above INT64_MAX (runtime-spec rlimits, seccomp values) are accepted;
         * numbers inside strings and reals are left alone. */
        _cleanup_free_ char *text = q(
                CFG(PROC(", 'rlimits': [{'type': 'RLIMIT_AS', 'soft': 9223372036854775808,"
                         " 'hard': 18446744073709551615}]")
                    ", 'annotations': {'n': '18446744073709551615', 'e': 'a\\\"9999999999999999999'},"
                    " 'x-real': 1.99999999999999999999, 'x-exp': 1e+00000000000000000009"));
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_(spec_freep) struct rt_spec *s = NULL;
        int r = rt_spec_parse(text, strlen(text), "/b", &s, &err);
        if (err != NULL)
                fail_msg("%s", err->msg);
        assert_int_equal(r, 0);
        assert_true(s->process->rlimits[0].soft == (UINT64_C(1) << 63));
        assert_true(s->process->rlimits[0].hard == UINT64_MAX);
        assert_string_equal(json_string_value(json_object_get(s->annotations, "n")),
                            "18446744073709551615");
        assert_string_equal(json_string_value(json_object_get(s->annotations, "e")),
                            "a\"9999999999999999999");

        /* Beyond uint64 is still a JSON error, and the buffer never overflows on many
         * lengthened numbers. */
        _cleanup_free_ char *big = q(CFG(", 'x': 18446744073709551616"));
        struct rt_spec *s2 = NULL;
        _cleanup_gerr_ struct gerr *err2 = NULL;
        assert_int_equal(rt_spec_parse(big, strlen(big), "/b", &s2, &err2), -EINVAL);
        assert_non_null(strstr(err2->msg, "too big integer"));
        char many[20 * 100 + 1];
        for (int i = 0; i < 100; i++)
                memcpy(many + 20 * i, "9223372036854775808,", 20);
        many[sizeof(many) - 2] = ']';
        many[sizeof(many) - 1] = '\0';
        _cleanup_gerr_ struct gerr *err3 = NULL;
        assert_int_equal(rt_spec_parse(many, strlen(many), "/b", &s2, &err3), -EINVAL);
}

static void test_default_matches_runc(void **state)
{
        (void)state;
        json_error_t jerr;
        _cleanup_json_ json_t *runc = json_loads(runc_default, 0, &jerr);
        assert_non_null(runc);
        json_object_set_new(runc, "ociVersion", json_string("1.1.0"));
        _cleanup_json_ json_t *ours = rt_spec_default(false);
        assert_non_null(ours);
        assert_true(json_equal(runc, ours));
}

static void test_default_round_trip(void **state)
{
        (void)state;
        for (int rootless = 0; rootless <= 1; rootless++) {
                _cleanup_json_ json_t *j = rt_spec_default(rootless);
                assert_non_null(j);
                _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(8));
                assert_non_null(text);
                _cleanup_gerr_ struct gerr *err = NULL;
                _cleanup_(spec_freep) struct rt_spec *s = NULL;
                assert_int_equal(rt_spec_parse(text, strlen(text), "/bundle", &s, &err), 0);
                assert_string_equal(s->oci_version, "1.1.0");
                assert_string_equal(s->process->args[0], "sh");
                assert_null(s->process->args[1]);
                assert_true(s->process->terminal);
                assert_string_equal(s->root_path, "/bundle/rootfs");
                assert_int_equal(s->n_mounts, 7);
                if (rootless) {
                        assert_non_null(rt_spec_namespace(s, CLONE_NEWUSER));
                        assert_null(rt_spec_namespace(s, CLONE_NEWNET));
                        assert_int_equal(s->linux.uid_mappings[0].host_id, geteuid());
                        assert_int_equal(s->mounts[5].flags,
                                         MS_BIND | MS_REC | MS_NOSUID | MS_NOEXEC | MS_NODEV |
                                                 MS_RDONLY);
                        assert_string_equal(s->mounts[2].data,
                                            "newinstance,ptmxmode=0666,mode=0620");
                        assert_null(s->linux.resources);
                } else {
                        assert_non_null(rt_spec_namespace(s, CLONE_NEWNET));
                        assert_null(rt_spec_namespace(s, CLONE_NEWUSER));
                        assert_int_equal(s->linux.n_uid_mappings, 0);
                }
        }
}

static void test_load_and_relative_bundle(void **state)
{
        (void)state;
        char dir[] = "/tmp/test_spec.XXXXXX";
        assert_non_null(mkdtemp(dir));
        _cleanup_free_ char *path = NULL;
        assert_true(asprintf(&path, "%s/config.json", dir) > 0);
        FILE *f = fopen(path, "w");
        assert_non_null(f);
        fputs(runc_default, f);
        fclose(f);

        _cleanup_gerr_ struct gerr *err = NULL;
        struct rt_spec *s = NULL;
        int r = rt_spec_load(dir, &s, &err);
        _cleanup_free_ char *want = NULL;
        assert_true(asprintf(&want, "%s/rootfs", dir) > 0);
        if (r == 0)
                assert_string_equal(s->root_path, want);
        rt_spec_free(s);
        s = NULL;

        /* A relative bundle resolves against the working directory. */
        _cleanup_free_ char *cwd = getcwd(NULL, 0);
        int r2 = chdir("/tmp");
        const char *rel = dir + strlen("/tmp/");
        if (r2 == 0)
                r2 = rt_spec_load(rel, &s, &err);
        if (r2 == 0 && strcmp(s->root_path, want) != 0)
                r2 = -1;
        rt_spec_free(s);
        if (cwd != NULL && chdir(cwd) < 0)
                r2 = -1;
        unlink(path);
        rmdir(dir);
        assert_int_equal(r, 0);
        assert_int_equal(r2, 0);

        s = NULL;
        gerr_freep(&err);
        assert_true(rt_spec_load("/nonexistent-bundle-xyz", &s, &err) < 0);
        assert_null(s);
        assert_non_null(err);
        assert_non_null(strstr(err->msg, "/nonexistent-bundle-xyz/config.json"));
}

static void test_process_parse(void **state)
{
        (void)state;
        _cleanup_free_ char *text =
                q("{'args': ['ls'], 'cwd': '/tmp', 'env': ['X=y'], 'terminal': true,"
                  " 'user': {'uid': 5, 'gid': 6}, 'capabilities': {'effective': ['CAP_KILL']}}");
        _cleanup_json_ json_t *j = json_loads(text, 0, NULL);
        assert_non_null(j);
        _cleanup_gerr_ struct gerr *err = NULL;
        struct rt_process *p = NULL;
        assert_int_equal(rt_process_parse(j, &p, &err), 0);
        assert_string_equal(p->args[0], "ls");
        assert_string_equal(p->cwd, "/tmp");
        assert_int_equal(p->uid, 5);
        assert_int_equal(p->caps.effective, 1ULL << 5);
        assert_int_equal(p->caps.bounding, 0);
        rt_process_free(p);

        json_object_del(j, "args");
        p = NULL;
        assert_int_equal(rt_process_parse(j, &p, &err), -EINVAL);
        assert_null(p);
        assert_string_equal(err->msg, "process.json: args: is required");
}

static void test_env_defaults_empty(void **state)
{
        (void)state;
        _cleanup_free_ char *text = q(CFG(PROC("")));
        _cleanup_gerr_ struct gerr *err = NULL;
        _cleanup_(spec_freep) struct rt_spec *s = NULL;
        assert_int_equal(rt_spec_parse(text, strlen(text), "/b", &s, &err), 0);
        assert_non_null(s->process->env);
        assert_null(s->process->env[0]);
        assert_false(s->process->caps.present);
}

static void test_cap_names(void **state)
{
        (void)state;
        assert_int_equal(rt_cap_from_name("CAP_CHOWN"), 0);
        assert_int_equal(rt_cap_from_name("CAP_SYS_ADMIN"), 21);
        assert_int_equal(rt_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40);
        assert_int_equal(rt_cap_from_name("CAP_NOPE"), -1);
        assert_int_equal(rt_cap_from_name("cap_chown"), -1);
        assert_string_equal(rt_cap_name(29), "CAP_AUDIT_WRITE");
        assert_string_equal(rt_cap_name(40), "CAP_CHECKPOINT_RESTORE");
        assert_null(rt_cap_name(41));
        assert_null(rt_cap_name(-1));
        for (int i = 0; i <= 40; i++)
                assert_int_equal(rt_cap_from_name(rt_cap_name(i)), i);
        int expect = 40;
        FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "r");
        if (f != NULL) {
                assert_int_equal(fscanf(f, "%d", &expect), 1);
                fclose(f);
        }
        assert_int_equal(rt_cap_last(), expect);
        assert_int_equal(rt_cap_last(), expect);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_runc_default),
                cmocka_unit_test(test_full_config),
                cmocka_unit_test(test_bad_inputs),
                cmocka_unit_test(test_lenient_inputs),
                cmocka_unit_test(test_big_uint64),
                cmocka_unit_test(test_default_matches_runc),
                cmocka_unit_test(test_default_round_trip),
                cmocka_unit_test(test_load_and_relative_bundle),
                cmocka_unit_test(test_process_parse),
                cmocka_unit_test(test_env_defaults_empty),
                cmocka_unit_test(test_cap_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
